import { randomUUID } from 'node:crypto';
import type { BuildAnswer } from '../../shared/admin/builds';
import type { Health } from '../../shared/admin/health';
import type { ProjectConnectedAnswer } from '../../shared/admin/projects';
import type { ItemsAnswer, ProjectView, RepairAnswer } from '../../shared/admin/views';
import { SETTING_KINDS, type SettingKind } from '../../shared/domain/settings';
import type { AdminResponse } from '../admin-client';
import { cell, fields, table } from '../admin-format';
import { UsageError } from '../errors';
import { defined, list, readObject, segment, str, type Verb, YES_OPTION } from './verb';

/** The fields of a project's body and the options that set them. */
const FLAGS = {
  repositoryId: '--repository-id',
  defaultBranch: '--default-branch',
  pipelineFile: '--pipeline-file',
  rotateDeployKey: '--rotate-deploy-key',
};

const SET_FORMAT = [
  '--set takes one setting: yes/no ones as true, false, yes or no (onlyBuildPullRequests=yes);',
  'lists comma-separated or as JSON (ignoreBranches=wip/*,tmp/* or ignoreBranches=\'["wip/*"]\');',
  'skipMarkers either. --set applies over --settings-file (JSON, as the API takes it).',
];

/** `hookgate admin projects <verb>` */
export const PROJECT_VERBS: Record<string, Verb> = {
  list: {
    args: [],
    options: { integration: { type: 'string' } },
    synopsis: '--integration <name>',
    about: ['The projects (connected repositories) of one integration.'],
    request: ({ values }) => {
      const integration = str(values, 'integration');
      if (!integration) throw new UsageError('--integration is required: the projects of which integration?');
      return { method: 'GET', path: '/admin/projects', query: { integration } };
    },
    render: ({ body }: AdminResponse<ItemsAnswer<ProjectView>>) => {
      if (body.items.length === 0) return 'no projects\n';
      return table(
        ['ID', 'REPOSITORY', 'INTEGRATION', 'DEFAULT BRANCH', 'STATUS'],
        body.items.map((item) => [
          item.id,
          item.repository,
          item.integration,
          item.defaultBranch,
          item.status,
        ]),
      );
    },
  },
  connect: {
    args: ['integration', 'repository'],
    options: {
      'repository-id': { type: 'string' },
      'default-branch': { type: 'string' },
      'settings-file': { type: 'string' },
      'pipeline-file': { type: 'string' },
    },
    synopsis: '\n[--repository-id ID] [--default-branch B] [--settings-file F] [--pipeline-file P]',
    about: [
      '<repository> is workspace/slug (Cloud) or PROJECT/slug (Data Center). With credentials, Hookgate',
      'reads the repository from Bitbucket and adds the deploy key and webhook itself. Without, give',
      '--repository-id (Cloud: the {uuid}, Data Center: the numeric id) and --default-branch, and add',
      'what the answer lists by hand. --settings-file: the settings as JSON (README, "The rules").',
    ],
    flags: FLAGS,
    request: async ({ args, values }) => {
      if (!/^[^/\s]+\/[^/\s]+$/.test(args.repository ?? '')) {
        throw new UsageError(
          `the repository is workspace/slug (Cloud) or PROJECT/slug (Data Center), not "${args.repository}"`,
        );
      }
      const settingsFile = str(values, 'settings-file');
      return {
        method: 'POST',
        path: '/admin/projects',
        body: {
          integration: args.integration,
          repository: args.repository,
          ...defined('repositoryId', str(values, 'repository-id')),
          ...defined('defaultBranch', str(values, 'default-branch')),
          ...defined('settings', settingsFile ? await readObject(settingsFile, 'settings') : undefined),
          ...defined('pipelineFile', str(values, 'pipeline-file')),
        },
      };
    },
    render: ({ body }: AdminResponse<ProjectConnectedAnswer>, { args }) =>
      [
        `connected ${args.repository} through ${args.integration} as project ${body.project.id}`,
        ...('manualSetup' in body
          ? ['The integration has no credentials: add the webhook and the deploy key below by hand.']
          : []),
        fields(body),
      ].join('\n'),
  },
  get: {
    args: ['id'],
    about: ["One project: its repository, settings, deploy key's public half and webhook."],
    request: ({ args }) => ({ method: 'GET', path: `/admin/projects/${segment(args.id)}` }),
    render: ({ body }: AdminResponse<ProjectView>) => fields(body),
  },
  set: {
    args: ['id'],
    options: {
      'settings-file': { type: 'string' },
      set: { type: 'string', multiple: true },
      'pipeline-file': { type: 'string' },
      'default-branch': { type: 'string' },
    },
    synopsis: '[--settings-file F] [--set key=value]... [--pipeline-file P] [--default-branch B]',
    about: [
      'Changes settings (merged over the current ones), the pipeline file or the default branch.',
      ...SET_FORMAT,
      `settings: ${Object.keys(SETTING_KINDS).join(', ')}.`,
    ],
    flags: FLAGS,
    request: async ({ args, values }) => {
      const file = str(values, 'settings-file');
      const settings: Record<string, unknown> = file ? await readObject(file, 'settings') : {};
      for (const assignment of list(values, 'set')) Object.assign(settings, parseAssignment(assignment));
      const pipelineFile = str(values, 'pipeline-file');
      const body = {
        ...defined('settings', file || Object.keys(settings).length > 0 ? settings : undefined),
        ...defined('pipelineFile', pipelineFile),
        ...defined('defaultBranch', str(values, 'default-branch')),
      };
      if (Object.keys(body).length === 0) {
        throw new UsageError(
          'nothing to change: give --settings-file, --set key=value, --pipeline-file or --default-branch',
        );
      }
      return { method: 'PATCH', path: `/admin/projects/${segment(args.id)}`, body };
    },
    render: ({ body }: AdminResponse<ProjectView>, { args }) => `updated project ${args.id}\n${fields(body)}`,
  },
  disconnect: {
    args: ['id'],
    options: YES_OPTION,
    synopsis: '[--yes]',
    about: [
      'Removes the webhook and deploy key Hookgate added (with credentials) and forgets the project.',
      'Asks first in a terminal; --yes does not ask (nothing is asked without a terminal).',
    ],
    confirm: ({ args }) =>
      `Disconnect project ${args.id}? Hookgate's webhook and deploy key leave the repository, and its deliveries are no longer decided.`,
    request: ({ args }) => ({ method: 'DELETE', path: `/admin/projects/${segment(args.id)}` }),
    render: (_, { args }) => `disconnected project ${args.id}\n`,
  },
  health: {
    args: ['id'],
    about: ['Checks the integration, credentials, webhook, deploy key and pipeline file of a project.'],
    request: ({ args }) => ({ method: 'GET', path: `/admin/projects/${segment(args.id)}/health` }),
    render: ({ body }: AdminResponse<Health>, { args }) => healthReport(args.id ?? '', body),
  },
  repair: {
    args: ['id'],
    options: { 'rotate-deploy-key': { type: 'boolean' } },
    synopsis: '[--rotate-deploy-key]',
    about: [
      'Puts back on Bitbucket what health finds broken (webhook, deploy key); needs credentials.',
      '--rotate-deploy-key: a new deploy key even when the current one is fine.',
    ],
    flags: FLAGS,
    request: ({ args, values }) => ({
      method: 'POST',
      path: `/admin/projects/${segment(args.id)}/repair`,
      ...(values['rotate-deploy-key'] ? { body: { rotateDeployKey: true } } : {}),
    }),
    render: ({ body }: AdminResponse<RepairAnswer>, { args }) =>
      [
        body.actions.length > 0
          ? table(
              ['ACTION', 'RESULT', 'TARGET', 'REASON'],
              body.actions.map((action) => [
                action.action,
                action.result,
                cell(action.target),
                cell(action.reason),
              ]),
            )
          : 'nothing to repair\n',
        healthReport(args.id ?? '', body.health),
      ].join('\n'),
  },
  build: {
    args: ['id'],
    options: {
      branch: { type: 'string' },
      tag: { type: 'string' },
      'pull-request': { type: 'string' },
      commit: { type: 'string' },
      'request-id': { type: 'string' },
    },
    synopsis: '(--branch <name> | --tag <name> | --pull-request <n>) [--commit <sha>] [--request-id <id>]',
    about: [
      'Builds a branch, tag or pull request again, even a commit already built: reason manual, a',
      'trigger id of its own. Its head is asked of Bitbucket; without credentials give --commit.',
      '--request-id: send the same one again to retry without building twice [a new one each run].',
    ],
    flags: {
      branch: '--branch',
      tag: '--tag',
      pullRequest: '--pull-request',
      commit: '--commit',
      requestId: '--request-id',
    },
    request: ({ args, values }) => {
      const branch = str(values, 'branch');
      const tag = str(values, 'tag');
      const pullRequest = str(values, 'pull-request');
      if ([branch, tag, pullRequest].filter((given) => given !== undefined).length !== 1) {
        throw new UsageError('give exactly one of --branch, --tag and --pull-request: what to build');
      }
      if (pullRequest !== undefined && !/^[1-9]\d{0,9}$/.test(pullRequest)) {
        throw new UsageError(`--pull-request takes the pull request's number, not "${pullRequest}"`);
      }
      return {
        method: 'POST',
        path: `/admin/projects/${segment(args.id)}/builds`,
        body: {
          ...defined('branch', branch),
          ...defined('tag', tag),
          ...defined('pullRequest', pullRequest === undefined ? undefined : Number(pullRequest)),
          ...defined('commit', str(values, 'commit')),
          // One id per invocation: a request the API got but whose answer was lost is not built
          // twice when the same id is sent again (--request-id, from a script that retries).
          requestId: str(values, 'request-id') ?? randomUUID(),
        },
      };
    },
    render: ({ body }: AdminResponse<BuildAnswer>) => {
      const what = `a manual build of ${body.ref.type} ${body.ref.name} at ${body.commit.sha.slice(0, 12)}`;
      return [
        body.duplicate ? `this request id already queued ${what}` : `queued ${what}`,
        `hookgate admin deliveries get ${body.deliveryId} shows how it went`,
        fields(body, ['duplicate', 'message']),
      ].join('\n');
    },
  },
};

/**
 * `key=value`, the value written as the setting's kind asks: booleans as true, false, yes or no;
 * lists comma-separated (`wip/*,tmp/*`) or as a JSON array; `skipMarkers` either. Throws
 * UsageError naming the setting, what was given and what it takes.
 */
function parseAssignment(assignment: string): Record<string, unknown> {
  const at = assignment.indexOf('=');
  const key = at < 0 ? assignment : assignment.slice(0, at);
  if (at <= 0) throw new UsageError(`--set takes key=value, not "${assignment}"`);
  const kind: SettingKind | undefined = Object.hasOwn(SETTING_KINDS, key)
    ? SETTING_KINDS[key as keyof typeof SETTING_KINDS]
    : undefined;
  if (!kind) {
    throw new UsageError(`unknown setting "${key}" (settings: ${Object.keys(SETTING_KINDS).join(', ')})`);
  }
  const text = assignment.slice(at + 1).trim();
  const yesNo = BOOLEAN_WORDS[text.toLowerCase()];
  if (kind !== 'list' && yesNo !== undefined) return { [key]: yesNo };
  if (kind === 'boolean') {
    throw new UsageError(`--set ${key}: expected true, false, yes or no, got "${text}"`);
  }
  return { [key]: listOf(key, text) };
}

const BOOLEAN_WORDS: Record<string, boolean | undefined> = { true: true, yes: true, false: false, no: false };

/** A JSON array of strings, or comma-separated words (none for an empty value). */
function listOf(key: string, text: string): string[] {
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: `[skip ci],[ci skip]` is a list of two markers.
    }
    if (parsed !== undefined) {
      if (Array.isArray(parsed) && parsed.every((item) => typeof item === 'string')) return parsed;
      throw new UsageError(
        `--set ${key}: expected a JSON array of strings or comma-separated values, got ${text}`,
      );
    }
  }
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** `project <id>: <status>` and a check, status, reason table. */
function healthReport(id: string, health: Health): string {
  const checks = health.checks.map((check) => [check.name, check.status, cell(check.reason)]);
  return `project ${id}: ${health.status}\n${table(['CHECK', 'STATUS', 'REASON'], checks)}`;
}

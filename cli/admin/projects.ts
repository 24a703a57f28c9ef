import { randomUUID } from 'node:crypto';
import { ProjectSettingsSchema } from '../../shared/domain/settings';
import { isRecord } from '../../shared/is-record';
import { cell, fields, itemsOf, pick, table } from '../admin-format';
import { UsageError } from '../errors';
import {
  defined,
  list,
  objectsTable,
  readObject,
  SECRET_NOTE,
  segment,
  str,
  unwrap,
  type Verb,
} from './verb';

/** `hookgate admin projects <verb>` */
export const PROJECT_VERBS: Record<string, Verb> = {
  list: {
    args: [],
    options: { integration: { type: 'string' } },
    request: ({ values }) => {
      const integration = str(values, 'integration');
      if (!integration) throw new UsageError('--integration is required: the projects of which integration?');
      return { method: 'GET', path: '/admin/projects', query: { integration } };
    },
    render: ({ body }) => {
      const items = itemsOf(body);
      if (items.length === 0) return 'no projects\n';
      return table(
        ['ID', 'REPOSITORY', 'INTEGRATION', 'DEFAULT BRANCH', 'STATUS'],
        items.map((item) => [
          cell(pick(item, 'id')),
          cell(pick(item, 'repository', 'fullName')),
          cell(pick(item, 'integration')),
          cell(pick(item, 'defaultBranch')),
          cell(pick(item, 'status')),
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
    render: ({ body }, { args }) => {
      const record = unwrap(body, 'project');
      const id = pick(record, 'id') ?? pick(body, 'id', 'projectId');
      const secret = pick(body, 'webhookSecret');
      const manual = isRecord(body) && isRecord(body.manualSetup);
      return [
        `connected ${args.repository} through ${args.integration}${id ? ` as project ${id}` : ''}`,
        ...(manual
          ? ['The integration has no credentials: add the webhook and the deploy key below by hand.']
          : []),
        fields(body),
        ...(secret ? [SECRET_NOTE] : []),
      ].join('\n');
    },
  },
  get: {
    args: ['id'],
    request: ({ args }) => ({ method: 'GET', path: `/admin/projects/${segment(args.id)}` }),
    render: ({ body }) => fields(unwrap(body, 'project')),
  },
  set: {
    args: ['id'],
    options: {
      'settings-file': { type: 'string' },
      set: { type: 'string', multiple: true },
      'pipeline-file': { type: 'string' },
      'default-branch': { type: 'string' },
    },
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
    render: ({ body }, { args }) => `updated project ${args.id}\n${fields(unwrap(body, 'project'))}`,
  },
  disconnect: {
    args: ['id'],
    request: ({ args }) => ({ method: 'DELETE', path: `/admin/projects/${segment(args.id)}` }),
    render: (_, { args }) => `disconnected project ${args.id}\n`,
  },
  health: {
    args: ['id'],
    request: ({ args }) => ({ method: 'GET', path: `/admin/projects/${segment(args.id)}/health` }),
    render: ({ body }, { args }) => healthReport(args.id ?? '', body),
  },
  repair: {
    args: ['id'],
    options: { 'rotate-deploy-key': { type: 'boolean' } },
    request: ({ args, values }) => ({
      method: 'POST',
      path: `/admin/projects/${segment(args.id)}/repair`,
      ...(values['rotate-deploy-key'] ? { body: { rotateDeployKey: true } } : {}),
    }),
    render: ({ body }, { args }) => {
      const actions = isRecord(body) && Array.isArray(body.actions) ? body.actions : itemsOf(body);
      const health = isRecord(body) && isRecord(body.health) ? body.health : undefined;
      return [
        actions.length > 0 ? objectsTable(actions) : 'nothing to repair\n',
        ...(health ? [healthReport(args.id ?? '', health)] : []),
      ].join('\n');
    },
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
    render: ({ body }) => {
      const ref = isRecord(body) && isRecord(body.ref) ? `${cell(body.ref.type)} ${cell(body.ref.name)}` : '';
      const sha = isRecord(body) && isRecord(body.commit) ? cell(body.commit.sha).slice(0, 12) : '';
      const again = isRecord(body) && body.duplicate === true;
      const what = `a manual build of ${ref} at ${sha}`;
      return [
        again ? `this request id already queued ${what}` : `queued ${what}`,
        `hookgate admin deliveries get ${cell(pick(body, 'deliveryId'))} shows how it went`,
        fields(body, ['duplicate', 'message']),
      ].join('\n');
    },
  },
};

const SETTING_NAMES = Object.keys(ProjectSettingsSchema.shape);

/** `key=value`: the value as JSON when it parses (`true`, `["release/*"]`), else as a string. */
function parseAssignment(assignment: string): Record<string, unknown> {
  const at = assignment.indexOf('=');
  const key = at < 0 ? assignment : assignment.slice(0, at);
  if (at <= 0) throw new UsageError(`--set takes key=value, not "${assignment}"`);
  if (!SETTING_NAMES.includes(key)) {
    throw new UsageError(`unknown setting "${key}" (settings: ${SETTING_NAMES.join(', ')})`);
  }
  const text = assignment.slice(at + 1);
  try {
    return { [key]: JSON.parse(text) };
  } catch {
    return { [key]: text };
  }
}

/** `project <id>: <status>` and a check, status, reason table. */
function healthReport(id: string, health: unknown): string {
  const overall = pick(health, 'status', 'health');
  const checks = itemsOf(health).map((check) => [
    cell(pick(check, 'check', 'name', 'id')),
    checkStatus(check),
    cell(pick(check, 'reason', 'message', 'detail')),
  ]);
  return `${overall ? `project ${id}: ${overall}\n` : ''}${table(['CHECK', 'STATUS', 'REASON'], checks)}`;
}

function checkStatus(check: unknown): string {
  const status = pick(check, 'status');
  if (status) return status;
  const ok = isRecord(check) ? check.ok : undefined;
  return ok === true ? 'ok' : ok === false ? 'failing' : '';
}

import type { Health } from '../../shared/admin/health';
import type { ProjectConnectedAnswer } from '../../shared/admin/projects';
import type { ItemsAnswer, ProjectView, RepairAnswer } from '../../shared/admin/views';
import { ProjectSettingsSchema } from '../../shared/domain/settings';
import type { AdminResponse } from '../admin-client';
import { cell, fields, table } from '../admin-format';
import { UsageError } from '../errors';
import { defined, list, readObject, segment, str, type Verb } from './verb';

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
    request: ({ args }) => ({ method: 'DELETE', path: `/admin/projects/${segment(args.id)}` }),
    render: (_, { args }) => `disconnected project ${args.id}\n`,
  },
  health: {
    args: ['id'],
    request: ({ args }) => ({ method: 'GET', path: `/admin/projects/${segment(args.id)}/health` }),
    render: ({ body }: AdminResponse<Health>, { args }) => healthReport(args.id ?? '', body),
  },
  repair: {
    args: ['id'],
    options: { 'rotate-deploy-key': { type: 'boolean' } },
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
function healthReport(id: string, health: Health): string {
  const checks = health.checks.map((check) => [check.name, check.status, cell(check.reason)]);
  return `project ${id}: ${health.status}\n${table(['CHECK', 'STATUS', 'REASON'], checks)}`;
}

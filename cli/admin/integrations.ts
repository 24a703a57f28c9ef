import { isRecord } from '../../shared/is-record';
import { cell, fields, itemsOf, pick, scopeCell, table } from '../admin-format';
import { UsageError } from '../errors';
import {
  credentials,
  defined,
  list,
  objectsTable,
  pairs,
  provider,
  SCOPE_OPTIONS,
  SECRET_NOTE,
  scopeOf,
  segment,
  str,
  unwrap,
  type Verb,
} from './verb';

/** `hookgate admin integrations <verb>` */
export const INTEGRATION_VERBS: Record<string, Verb> = {
  list: {
    args: [],
    options: {
      label: { type: 'string', multiple: true },
      scope: { type: 'string' },
      provider: { type: 'string' },
      'include-deleted': { type: 'boolean' },
    },
    request: ({ values }) => {
      const labels = list(values, 'label');
      return {
        method: 'GET',
        path: '/admin/integrations',
        query: {
          // The API reads a comma-separated list: every label given must be present.
          label: labels.length > 0 ? labels.join(',') : undefined,
          scope: str(values, 'scope'),
          provider: provider(values, false),
          includeDeleted: values['include-deleted'] ? 'true' : undefined,
        },
      };
    },
    render: ({ body }) => {
      const items = itemsOf(body);
      if (items.length === 0) return 'no integrations\n';
      return table(
        ['NAME', 'PROVIDER', 'SCOPE', 'LABELS', 'STATUS', 'VERSION'],
        items.map((item) => {
          const record = isRecord(item) ? item : {};
          return [
            cell(record.name),
            cell(record.provider),
            scopeCell(record.scope),
            cell(record.labels),
            cell(record.status),
            cell(record.version),
          ];
        }),
      );
    },
  },
  get: {
    args: ['name'],
    request: ({ args }) => ({ method: 'GET', path: `/admin/integrations/${segment(args.name)}` }),
    render: ({ body }) => fields(unwrap(body, 'integration')),
  },
  create: {
    args: ['name'],
    options: {
      provider: { type: 'string' },
      ...SCOPE_OPTIONS,
      label: { type: 'string', multiple: true },
      description: { type: 'string' },
      'base-url': { type: 'string' },
      'credentials-file': { type: 'string' },
    },
    request: async ({ args, values }) => {
      const scope = scopeOf(values);
      if (scope === undefined) {
        throw new UsageError('choose the scope: --default (one per provider) or --space <id>');
      }
      return {
        method: 'POST',
        path: '/admin/integrations',
        body: {
          name: args.name,
          provider: provider(values, true),
          scope,
          labels: list(values, 'label'),
          description: str(values, 'description') ?? '',
          ...defined('baseUrl', str(values, 'base-url')),
          ...defined('credentials', await credentials(values)),
        },
      };
    },
    render: ({ body }, { args, endpoint }) => {
      const record = unwrap(body, 'integration');
      const secret = pick(body, 'webhookSecret', 'secret');
      const rows: [string, string][] = [
        ['webhook URL', pick(body, 'webhookUrl') ?? `${endpoint.replace(/\/+$/, '')}/webhooks/${args.name}`],
      ];
      if (secret) rows.push(['webhook secret', secret]);
      return [
        `created integration ${args.name} (${cell(pick(record, 'provider'))}, ${scopeCell(isRecord(record) ? record.scope : undefined)})`,
        pairs(rows),
        ...(secret ? [SECRET_NOTE] : []),
      ].join('\n');
    },
  },
  update: {
    args: ['name'],
    options: {
      ...SCOPE_OPTIONS,
      label: { type: 'string', multiple: true },
      description: { type: 'string' },
      'base-url': { type: 'string' },
      'credentials-file': { type: 'string' },
      'remove-credentials': { type: 'boolean' },
      'if-match': { type: 'string' },
    },
    request: async ({ args, values }) => {
      const labels = list(values, 'label');
      if (values['remove-credentials'] && str(values, 'credentials-file')) {
        throw new UsageError('--credentials-file and --remove-credentials exclude each other');
      }
      const body = {
        ...defined('labels', labels.length > 0 ? labels : undefined),
        ...defined('description', str(values, 'description')),
        ...defined('scope', scopeOf(values)),
        ...defined('baseUrl', str(values, 'base-url')),
        ...defined('credentials', values['remove-credentials'] ? null : await credentials(values)),
      };
      if (Object.keys(body).length === 0) {
        throw new UsageError(
          'nothing to update: give --label, --description, --default, --space, --base-url, --credentials-file or --remove-credentials',
        );
      }
      const ifMatch = str(values, 'if-match');
      return {
        method: 'PATCH',
        path: `/admin/integrations/${segment(args.name)}`,
        body,
        ...(ifMatch ? { headers: { 'If-Match': ifMatch } } : {}),
      };
    },
    render: ({ body }, { args }) =>
      `updated integration ${args.name}\n${fields(unwrap(body, 'integration'))}`,
  },
  delete: {
    args: ['name'],
    request: ({ args }) => ({ method: 'DELETE', path: `/admin/integrations/${segment(args.name)}` }),
    render: (_, { args }) =>
      `deleted integration ${args.name}: its projects are detached and its webhook URL answers 410\n`,
  },
  'rotate-secret': {
    args: ['name'],
    request: ({ args }) => ({
      method: 'POST',
      path: `/admin/integrations/${segment(args.name)}/rotate-secret`,
    }),
    render: ({ body }, { args }) => {
      const hooks = isRecord(body) && Array.isArray(body.projects) ? body.projects : [];
      return [
        `rotated the webhook secret of ${args.name}`,
        pairs([
          ['webhook secret', pick(body, 'webhookSecret', 'secret') ?? ''],
          ['previous valid until', pick(body, 'previousValidUntil') ?? 'none (there was no previous secret)'],
        ]),
        ...rotationNote(hooks),
        ...(hooks.length > 0 ? ['', objectsTable(hooks)] : []),
      ].join('\n');
    },
  },
};

/** What rotate-secret did to the webhooks, counted from each project's status, and what is left to do. */
function rotationNote(projects: readonly unknown[]): string[] {
  const count = (status: string) => projects.filter((project) => pick(project, 'status') === status).length;
  const updated = count('updated');
  const outcomes = (
    [
      [updated, 'updated'],
      [count('skipped'), 'skipped (no credentials)'],
      [count('not-found'), 'not found (run projects repair)'],
      [count('failed'), 'failed'],
    ] as const
  ).filter(([n]) => n > 0);
  const where =
    updated === projects.length
      ? 'any other webhook'
      : 'the webhooks not updated (below) and any other webhook';
  return [
    projects.length === 0
      ? 'The new secret is shown once. No project is connected, so no webhook was updated.'
      : `The new secret is shown once. Webhooks of connected projects: ${outcomes.map(([n, what]) => `${n} ${what}`).join(', ')}.`,
    `Put it on ${where} to this integration before the previous secret expires.`,
  ];
}

import type {
  HookRotation,
  IntegrationCreatedAnswer,
  IntegrationView,
  ItemsAnswer,
  SecretRotatedAnswer,
} from '../../shared/admin/views';
import type { AdminResponse } from '../admin-client';
import { cell, fields, scopeCell, table } from '../admin-format';
import { UsageError } from '../errors';
import {
  credentials,
  defined,
  knownHosts,
  list,
  pairs,
  provider,
  SCOPE_OPTIONS,
  SECRET_NOTE,
  scopeOf,
  segment,
  str,
  type Verb,
  YES_OPTION,
} from './verb';

/** The fields of an integration's body and the options that set them. */
const FLAGS = {
  baseUrl: '--base-url',
  sshKnownHosts: '--ssh-known-hosts-file',
  credentials: '--credentials-file',
  labels: '--label',
  description: '--description',
};

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
    synopsis: '[--label L]... [--scope default|<space>] [--provider P] [--include-deleted]',
    about: ['The integrations with every label given, in the scope and of the provider given.'],
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
    render: ({ body }: AdminResponse<ItemsAnswer<IntegrationView>>) => {
      if (body.items.length === 0) return 'no integrations\n';
      return table(
        ['NAME', 'PROVIDER', 'SCOPE', 'LABELS', 'STATUS', 'VERSION'],
        body.items.map((item) => [
          item.name,
          item.provider,
          scopeCell(item.scope),
          cell(item.labels),
          item.status,
          String(item.version),
        ]),
      );
    },
  },
  get: {
    args: ['name'],
    about: ['One integration: whether it has credentials (never them), its webhook URL and version.'],
    request: ({ args }) => ({ method: 'GET', path: `/admin/integrations/${segment(args.name)}` }),
    render: ({ body }: AdminResponse<IntegrationView>) => fields(body),
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
      'ssh-known-hosts-file': { type: 'string' },
    },
    synopsis:
      '--provider bitbucket-cloud|bitbucket-data-center (--default | --space <id>)\n[--label L]... [--description D] [--base-url U] [--credentials-file creds.json]\n[--ssh-known-hosts-file known_hosts]',
    about: [
      'A Bitbucket Cloud workspace or Data Center server, and its webhook URL and secret (shown once).',
      '--credentials-file: a JSON file, e.g. {"kind": "access-token", "token": "…"} (README).',
      '--base-url: Data Center: the server root. --ssh-known-hosts-file: Data Center: a known_hosts',
      'file for its SSH endpoint (one line per key; blank lines and # comments left out), passed to',
      'runners in triggers.',
    ],
    flags: FLAGS,
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
          ...defined('sshKnownHosts', await knownHosts(values)),
          ...defined('credentials', await credentials(values)),
        },
      };
    },
    render: ({ body }: AdminResponse<IntegrationCreatedAnswer>) => {
      const { integration } = body;
      return [
        `created integration ${integration.name} (${integration.provider}, ${scopeCell(integration.scope)})`,
        pairs([
          ['webhook URL', body.webhookUrl],
          ['webhook secret', body.webhookSecret],
        ]),
        SECRET_NOTE,
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
      'ssh-known-hosts-file': { type: 'string' },
      'if-match': { type: 'string' },
    },
    synopsis:
      '[--label L]... [--description D] [--default | --space <id>] [--base-url U]\n[--credentials-file F | --remove-credentials] [--ssh-known-hosts-file F] [--if-match <version>]',
    about: [
      'Changes what is given, nothing else: --label replaces all labels, --ssh-known-hosts-file all',
      'known hosts lines (an empty file removes them). --if-match: only if the integration is still at',
      'that version.',
    ],
    flags: FLAGS,
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
        ...defined('sshKnownHosts', await knownHosts(values)),
        ...defined('credentials', values['remove-credentials'] ? null : await credentials(values)),
      };
      if (Object.keys(body).length === 0) {
        throw new UsageError(
          'nothing to update: give --label, --description, --default, --space, --base-url, --credentials-file, --remove-credentials or --ssh-known-hosts-file',
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
    render: ({ body }: AdminResponse<IntegrationView>, { args }) =>
      `updated integration ${args.name}\n${fields(body)}`,
  },
  delete: {
    args: ['name'],
    options: YES_OPTION,
    synopsis: '[--yes]',
    about: [
      'Deletes the integration: its projects are detached and its webhook URL answers 410.',
      'Asks first in a terminal; --yes does not ask (nothing is asked without a terminal).',
    ],
    confirm: ({ args }) =>
      `Delete integration ${args.name}? Its projects are detached and its webhook URL answers 410.`,
    request: ({ args }) => ({ method: 'DELETE', path: `/admin/integrations/${segment(args.name)}` }),
    render: (_, { args }) =>
      `deleted integration ${args.name}: its projects are detached and its webhook URL answers 410\n`,
  },
  'rotate-secret': {
    args: ['name'],
    about: [
      'A new webhook secret, shown once; the previous one keeps working for a grace period. With',
      'credentials, the webhooks Hookgate manages get the new secret.',
    ],
    request: ({ args }) => ({
      method: 'POST',
      path: `/admin/integrations/${segment(args.name)}/rotate-secret`,
    }),
    render: ({ body }: AdminResponse<SecretRotatedAnswer>, { args }) =>
      [
        `rotated the webhook secret of ${args.name}`,
        pairs([
          ['webhook secret', body.webhookSecret],
          ['previous valid until', body.previousValidUntil ?? 'none (there was no previous secret)'],
        ]),
        ...rotationNote(body.projects),
        ...(body.projects.length > 0
          ? [
              '',
              table(
                ['PROJECT', 'REPOSITORY', 'WEBHOOK', 'REASON'],
                body.projects.map((hook) => [
                  hook.projectId,
                  hook.repository,
                  hook.status,
                  cell(hook.reason),
                ]),
              ),
            ]
          : []),
      ].join('\n'),
  },
};

/** What rotate-secret did to the webhooks, counted from each project's status, and what is left to do. */
function rotationNote(projects: readonly HookRotation[]): string[] {
  const count = (status: HookRotation['status']) =>
    projects.filter((project) => project.status === status).length;
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

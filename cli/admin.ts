import { parseArgs } from 'node:util';
import { ADMIN_TOKEN_SECRET_ID } from '../local/bootstrap';
import { DEFAULT_DATA_DIR, dataDirOf } from '../local/data-dir';
import { readEndpoint } from '../local/endpoint-file';
import { PROVIDERS, type Provider } from '../shared/domain/events';
import { ProjectSettingsSchema } from '../shared/domain/settings';
import { FileSecretStore } from '../shared/secrets/file-secret-store';
import {
  AdminApiError,
  AdminClient,
  AdminConnectionError,
  type AdminRequest,
  type AdminResponse,
  bearerSigner,
  isLoopback,
  regionOfEndpoint,
  type Signer,
  sigV4Signer,
} from './admin-client';
import { cell, fields, isObject, itemsOf, nextOf, pick, scopeCell, table } from './admin-format';
import { UsageError } from './errors';
import { readJson } from './evaluate';
import { exitWith } from './exit';

export const ADMIN_USAGE = `usage: hookgate admin <integrations|projects|deliveries> <verb> [arguments] [--json]
    integrations list [--label L]... [--scope default|<space>] [--provider P] [--include-deleted]
    integrations get|delete|rotate-secret <name>
    integrations create <name> --provider bitbucket-cloud|bitbucket-data-center (--default | --space <id>)
        [--label L]... [--description D] [--base-url U] [--credentials-file creds.json]
    integrations update <name> [--label L]... [--description D] [--default | --space <id>]
        [--base-url U] [--credentials-file F | --remove-credentials] [--if-match <version>]
    projects list --integration I
    projects connect <integration> <workspace/slug|PROJECT/slug> [--repository-id ID]
        [--default-branch B] [--settings-file F] [--pipeline-file P]
    projects get|disconnect|health <id>
    projects set <id> [--settings-file F] [--set key=value]... [--pipeline-file P] [--default-branch B]
    projects repair <id> [--rotate-deploy-key]
    deliveries list [--integration I] [--project P] [--limit N] [--next C]
    deliveries get|replay <id> [--integration I]
  where and how (every verb):
    --endpoint <url>   the admin API's base URL (env HOOKGATE_ENDPOINT; default: the local stack
                       of --data-dir, else http://127.0.0.1:3000)
    --token <token>    the local stack's admin token (env HOOKGATE_ADMIN_TOKEN; on a loopback
                       endpoint read from --data-dir when absent)
    --auth iam|token   default: token on loopback or when a token is given, else iam (SigV4 with
                       the default AWS credential chain)
    --region <region>  signing region (default: from an execute-api host, else AWS_REGION)
    --data-dir <dir>   the local stack's data folder (default ${DEFAULT_DATA_DIR})
    --json             print the API's answer as it came (for scripts)`;

const LOCAL_ENDPOINT = 'http://127.0.0.1:3000';

type OptionSpec = { type: 'string' | 'boolean'; multiple?: boolean; short?: string };
type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** What a verb gets: its positional arguments by name, its option values and the endpoint. */
interface Call {
  args: Record<string, string>;
  values: Values;
  endpoint: string;
}

interface Verb {
  args: readonly string[];
  options?: Record<string, OptionSpec>;
  request(call: Call): AdminRequest | Promise<AdminRequest>;
  render(response: AdminResponse, call: Call): string;
}

const CONNECTION_OPTIONS: Record<string, OptionSpec> = {
  endpoint: { type: 'string' },
  token: { type: 'string' },
  auth: { type: 'string' },
  region: { type: 'string' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
};

const SCOPE_OPTIONS: Record<string, OptionSpec> = {
  default: { type: 'boolean' },
  space: { type: 'string' },
};

const SECRET_NOTE =
  'The secret is shown once: put it on the Bitbucket webhook now (rotate-secret makes a new one).';

const RESOURCES: Record<string, Record<string, Verb>> = {
  integrations: {
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
            const record = isObject(item) ? item : {};
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
          [
            'webhook URL',
            pick(body, 'webhookUrl') ?? `${endpoint.replace(/\/+$/, '')}/webhooks/${args.name}`,
          ],
        ];
        if (secret) rows.push(['webhook secret', secret]);
        return [
          `created integration ${args.name} (${cell(pick(record, 'provider'))}, ${scopeCell(isObject(record) ? record.scope : undefined)})`,
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
        const hooks = isObject(body) && Array.isArray(body.projects) ? body.projects : [];
        return [
          `rotated the webhook secret of ${args.name}`,
          pairs([
            ['webhook secret', pick(body, 'webhookSecret', 'secret') ?? ''],
            [
              'previous valid until',
              pick(body, 'previousValidUntil') ?? 'none (there was no previous secret)',
            ],
          ]),
          'The new secret is shown once: webhooks Hookgate manages were updated; put it on any other',
          'webhook to this integration before the previous secret expires.',
          ...(hooks.length > 0 ? ['', objectsTable(hooks)] : []),
        ].join('\n');
      },
    },
  },
  projects: {
    list: {
      args: [],
      options: { integration: { type: 'string' } },
      request: ({ values }) => {
        const integration = str(values, 'integration');
        if (!integration)
          throw new UsageError('--integration is required: the projects of which integration?');
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
        const manual = isObject(body) && isObject(body.manualSetup);
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
        const actions = isObject(body) && Array.isArray(body.actions) ? body.actions : itemsOf(body);
        const health = isObject(body) && isObject(body.health) ? body.health : undefined;
        return [
          actions.length > 0 ? objectsTable(actions) : 'nothing to repair\n',
          ...(health ? [healthReport(args.id ?? '', health)] : []),
        ].join('\n');
      },
    },
  },
  deliveries: {
    list: {
      args: [],
      options: {
        integration: { type: 'string' },
        project: { type: 'string' },
        limit: { type: 'string' },
        next: { type: 'string' },
      },
      request: ({ values }) => {
        const limit = str(values, 'limit');
        if (limit !== undefined && !/^[1-9]\d{0,3}$/.test(limit)) {
          throw new UsageError(`--limit must be a whole number from 1 to 9999, not "${limit}"`);
        }
        return {
          method: 'GET',
          path: '/admin/deliveries',
          query: {
            integration: str(values, 'integration'),
            project: str(values, 'project'),
            limit,
            next: str(values, 'next'),
          },
        };
      },
      render: ({ body }) => {
        const items = itemsOf(body);
        const next = nextOf(body);
        const rows = items.map((item) => [
          cell(pick(item, 'deliveryId', 'id')),
          cell(pick(item, 'integration')),
          cell(pick(item, 'eventKey')),
          cell(pick(item, 'status')),
          cell(pick(item, 'projectId', 'project')),
          cell(pick(item, 'receivedAt')),
          decisionSummary(isObject(item) ? item.decisions : undefined),
        ]);
        const text =
          items.length === 0
            ? 'no deliveries\n'
            : table(['ID', 'INTEGRATION', 'EVENT', 'STATUS', 'PROJECT', 'RECEIVED', 'DECISIONS'], rows);
        return next ? `${text}more: add --next ${next}\n` : text;
      },
    },
    get: {
      args: ['id'],
      options: { integration: { type: 'string' } },
      request: ({ args, values }) => ({
        method: 'GET',
        path: `/admin/deliveries/${segment(args.id)}`,
        query: { integration: str(values, 'integration') },
      }),
      render: ({ body }) => {
        const record = unwrap(body, 'delivery');
        const decisions = isObject(record) && Array.isArray(record.decisions) ? record.decisions : [];
        const head = fields(record, ['decisions', 'bodyGzip', 'body']);
        if (decisions.length === 0) return head;
        const rows = decisions.map((decision) => {
          const ref = isObject(decision) && isObject(decision.ref) ? decision.ref : {};
          return [
            cell(pick(decision, 'action')),
            cell(pick(decision, 'reason')),
            ref.type && ref.name ? `${cell(ref.type)} ${cell(ref.name)}` : '',
            cell(pick(decision, 'message')),
          ];
        });
        return `${head}\n${table(['ACTION', 'REASON', 'REF', 'MESSAGE'], rows)}`;
      },
    },
    replay: {
      args: ['id'],
      options: { integration: { type: 'string' } },
      request: ({ args, values }) => ({
        method: 'POST',
        path: `/admin/deliveries/${segment(args.id)}/replay`,
        query: { integration: str(values, 'integration') },
      }),
      render: ({ body }, { args }) =>
        `replayed delivery ${args.id}\n${body === undefined ? '' : fields(body)}`,
    },
  },
};

/** Test seams: the fetch and signer to use instead of the network and the credential chain. */
export interface AdminDeps {
  fetch?: typeof fetch;
  signer?: Signer;
}

/**
 * `hookgate admin`: one admin API call against a deployed stack (SigV4) or the local one
 * (admin token). Exit 1 with one line when the API refuses or cannot be reached.
 */
export async function runAdmin(
  argv: string[],
  out: (text: string) => void,
  deps: AdminDeps = {},
): Promise<void> {
  const { resource, verbName, rest, help } = splitCommand(argv);
  if (help) {
    out(`${ADMIN_USAGE}\n`);
    return;
  }
  const verbs = resource && Object.hasOwn(RESOURCES, resource) ? RESOURCES[resource] : undefined;
  if (!verbs) {
    throw new UsageError(
      `${resource ? `unknown resource "${resource}"` : 'missing the resource'}: hookgate admin <${Object.keys(RESOURCES).join('|')}> <verb> (see hookgate admin --help)`,
    );
  }
  const verb = verbName && Object.hasOwn(verbs, verbName) ? verbs[verbName] : undefined;
  if (!verb) {
    throw new UsageError(
      `${verbName ? `unknown verb "${verbName}"` : 'missing the verb'} for ${resource} (try: ${Object.keys(verbs).join(', ')})`,
    );
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { ...CONNECTION_OPTIONS, ...verb.options },
  });
  const synopsis =
    `hookgate admin ${resource} ${verbName} ${verb.args.map((a) => `<${a}>`).join(' ')}`.trimEnd();
  if (positionals.length < verb.args.length) {
    throw new UsageError(`missing <${verb.args[positionals.length]}>: ${synopsis}`);
  }
  if (positionals.length > verb.args.length) {
    throw new UsageError(`unexpected argument "${positionals[verb.args.length]}": ${synopsis}`);
  }
  for (const [name, value] of Object.entries(values)) {
    if (value === '' || (Array.isArray(value) && value.includes('')))
      throw new UsageError(`--${name} must not be empty`);
  }
  const args = Object.fromEntries(verb.args.map((name, i) => [name, positionals[i] ?? '']));
  const { client, endpoint } = await connect(values, deps);
  const call: Call = { args, values, endpoint };
  const request = await verb.request(call);

  let response: AdminResponse;
  try {
    response = await client.request(request);
  } catch (error) {
    if (error instanceof AdminApiError) {
      exitWith(1, `hookgate admin: ${error.status} ${error.code}: ${error.message}`);
    }
    if (error instanceof AdminConnectionError) exitWith(1, `hookgate admin: ${error.message}`);
    throw error;
  }
  if (values.json) {
    if (response.text) out(response.text.endsWith('\n') ? response.text : `${response.text}\n`);
    return;
  }
  const text = verb.render(response, call);
  out(text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * The resource and verb are the first two positionals wherever options stand
 * (`hookgate admin --json integrations list` works too); the rest is parsed per verb.
 */
function splitCommand(argv: string[]): {
  resource?: string;
  verbName?: string;
  rest: string[];
  help: boolean;
} {
  const options: Record<string, OptionSpec> = { help: { type: 'boolean', short: 'h' } };
  for (const verbs of Object.values(RESOURCES)) {
    for (const verb of Object.values(verbs)) Object.assign(options, verb.options);
  }
  Object.assign(options, CONNECTION_OPTIONS);
  const { tokens } = parseArgs({ args: argv, options, allowPositionals: true, strict: false, tokens: true });
  const [first, second] = tokens.filter((token) => token.kind === 'positional');
  const help = tokens.some((token) => token.kind === 'option' && token.name === 'help');
  return {
    ...(first ? { resource: first.value } : {}),
    ...(second ? { verbName: second.value } : {}),
    rest: argv.filter((_, i) => i !== first?.index && i !== second?.index),
    help,
  };
}

/** Where to send requests and how to authenticate them, from the options, env and data folder. */
async function connect(values: Values, deps: AdminDeps): Promise<{ client: AdminClient; endpoint: string }> {
  const dir = dataDirOf(str(values, 'data-dir') ?? DEFAULT_DATA_DIR);
  const endpoint =
    str(values, 'endpoint') ??
    nonEmpty(process.env.HOOKGATE_ENDPOINT) ??
    originOf((await readEndpoint(dir.endpoint))?.webhookUrl) ??
    LOCAL_ENDPOINT;
  if (!/^https?:\/\/[^/]/.test(endpoint) || !URL.canParse(endpoint)) {
    throw new UsageError(`--endpoint must be an http(s) URL, not "${endpoint}"`);
  }
  const given = str(values, 'token') ?? nonEmpty(process.env.HOOKGATE_ADMIN_TOKEN);
  const auth = str(values, 'auth') ?? (given || isLoopback(endpoint) ? 'token' : 'iam');
  if (auth !== 'iam' && auth !== 'token') throw new UsageError(`--auth must be iam or token, not "${auth}"`);

  if (deps.signer) return { client: new AdminClient(endpoint, deps.signer, deps.fetch), endpoint };
  if (auth === 'token') {
    const token =
      given ??
      (isLoopback(endpoint) ? await new FileSecretStore(dir.secrets).get(ADMIN_TOKEN_SECRET_ID) : undefined);
    if (!token) {
      throw new UsageError(
        `no admin token: pass --token (the one \`hookgate dev\` prints) or set HOOKGATE_ADMIN_TOKEN${isLoopback(endpoint) ? `; none is saved in ${dir.root}` : ''}`,
      );
    }
    return { client: new AdminClient(endpoint, bearerSigner(token), deps.fetch), endpoint };
  }
  // The execute-api host names the API's own region, which a profile's AWS_REGION may not be.
  const region =
    str(values, 'region') ??
    regionOfEndpoint(endpoint) ??
    nonEmpty(process.env.AWS_REGION) ??
    nonEmpty(process.env.AWS_DEFAULT_REGION);
  if (!region) {
    throw new UsageError('cannot tell the region to sign for: pass --region or set AWS_REGION');
  }
  return { client: new AdminClient(endpoint, await sigV4Signer({ region }), deps.fetch), endpoint };
}

function str(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

function list(values: Values, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function nonEmpty(value: string | undefined): string | undefined {
  return value?.trim() ? value : undefined;
}

function originOf(url: string | undefined): string | undefined {
  return url && URL.canParse(url) ? new URL(url).origin : undefined;
}

function segment(value: string | undefined): string {
  return encodeURIComponent(value ?? '');
}

function defined<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

function provider(values: Values, required: boolean): Provider | undefined {
  const value = str(values, 'provider');
  if (value === undefined) {
    if (required) throw new UsageError(`--provider is required: ${PROVIDERS.join(' or ')}`);
    return undefined;
  }
  if (!PROVIDERS.includes(value as Provider)) {
    throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')}, not "${value}"`);
  }
  return value as Provider;
}

function scopeOf(values: Values): 'default' | { space: string } | undefined {
  const space = str(values, 'space');
  if (values.default && space !== undefined) throw new UsageError('--default and --space exclude each other');
  if (values.default) return 'default';
  return space === undefined ? undefined : { space };
}

async function credentials(values: Values): Promise<Record<string, unknown> | undefined> {
  const file = str(values, 'credentials-file');
  return file ? readObject(file, 'credentials') : undefined;
}

async function readObject(path: string, what: string): Promise<Record<string, unknown>> {
  const value = await readJson(path, what);
  if (!isObject(value)) throw new UsageError(`${what} file ${path} must hold a JSON object`);
  return value;
}

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

/** The record inside `{ <key>: {...} }`, or the body itself. */
function unwrap(body: unknown, key: string): unknown {
  return isObject(body) && isObject(body[key]) ? body[key] : body;
}

/** Aligned `name  value` lines without a header. */
function pairs(rows: readonly [string, string][]): string {
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n');
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
  const ok = isObject(check) ? check.ok : undefined;
  return ok === true ? 'ok' : ok === false ? 'failing' : '';
}

/** `2 trigger, 1 skip`: the decisions of one delivery at a glance. */
function decisionSummary(decisions: unknown): string {
  if (!Array.isArray(decisions)) return '';
  const counts = new Map<string, number>();
  for (const decision of decisions) {
    const action = pick(decision, 'action') ?? '?';
    counts.set(action, (counts.get(action) ?? 0) + 1);
  }
  return [...counts].map(([action, count]) => `${count} ${action}`).join(', ');
}

/** A table of objects: one column per key, in order of first appearance. */
function objectsTable(items: readonly unknown[]): string {
  const keys = [...new Set(items.flatMap((item) => (isObject(item) ? Object.keys(item) : [])))];
  if (keys.length === 0) return `${items.map(cell).join('\n')}\n`;
  return table(
    keys.map((key) => key.toUpperCase()),
    items.map((item) => keys.map((key) => cell(isObject(item) ? item[key] : undefined))),
  );
}

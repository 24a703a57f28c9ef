import { parseArgs } from 'node:util';
import { DEFAULT_DATA_DIR } from '../local/data-dir';
import { type AdminDeps, CONNECTION_OPTIONS, connect } from './admin/connect';
import { DELIVERY_VERBS } from './admin/deliveries';
import { INTEGRATION_VERBS } from './admin/integrations';
import { PROJECT_VERBS } from './admin/projects';
import type { Call, OptionSpec, Verb } from './admin/verb';
import { AdminApiError, AdminConnectionError, type AdminResponse } from './admin-client';
import { CommandFailedError, UsageError } from './errors';

export type { AdminDeps } from './admin/connect';

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
    projects build <id> (--branch B | --tag T | --pull-request N) [--commit SHA] [--request-id ID]
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

const RESOURCES: Record<string, Record<string, Verb>> = {
  integrations: INTEGRATION_VERBS,
  projects: PROJECT_VERBS,
  deliveries: DELIVERY_VERBS,
};

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
      throw new CommandFailedError(`${error.status} ${error.code}: ${error.message}`, { cause: error });
    }
    if (error instanceof AdminConnectionError) throw new CommandFailedError(error.message, { cause: error });
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

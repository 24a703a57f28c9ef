import { parseArgs } from 'node:util';
import { PROVIDERS, type Provider } from '../shared/domain/events';
import { evaluateDelivery } from '../shared/evaluate';
import { CONNECTION_OPTIONS, CONNECTION_USAGE, type OptionSpec, str, type Values } from './admin/verb';
import { UsageError } from './errors';
import { readJson } from './files';

export const EVALUATE_USAGE = `usage: hookgate evaluate <payload.json> --event-key <key>
    [--provider bitbucket-cloud|bitbucket-data-center] [--default-branch <name>]
    [--settings <file.json>] [--state <file.json>] [--project-id <id>]
  With --project-id, the admin API answers as the service decides for that project: with its
  settings, default branch and open pull requests (--state replaces the pull requests; --settings
  and --default-branch are refused). It is found as \`hookgate admin\` finds it:
${CONNECTION_USAGE}`;

/** The options of `hookgate evaluate` and `hookgate admin evaluate`. */
export const EVALUATE_OPTIONS: Record<string, OptionSpec> = {
  'event-key': { type: 'string' },
  provider: { type: 'string' },
  'default-branch': { type: 'string' },
  settings: { type: 'string' },
  state: { type: 'string' },
  'project-id': { type: 'string' },
};

/** What the rules assume for the default branch when neither a project nor the option gives one. */
const DEFAULT_BRANCH = 'main';

/**
 * `hookgate evaluate`: what the rules decide for one payload, as JSON on stdout. With
 * `--project-id`, the admin API answers with the project's settings, default branch and open
 * pull requests, exactly as the service decided.
 */
export async function runEvaluate(argv: string[], out: (text: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...EVALUATE_OPTIONS, ...CONNECTION_OPTIONS },
  });
  const [payloadPath, ...extra] = positionals;
  if (!payloadPath) {
    throw new UsageError(
      'missing the payload file: hookgate evaluate <payload.json> --event-key <key> (see --help)',
    );
  }
  if (extra.length > 0) throw new UsageError(`one payload file at a time; also got ${extra.join(' ')}`);
  if (values['project-id'] !== undefined) {
    const { evaluateForProject } = await import('./admin/evaluate');
    const { decisions } = await evaluateForProject(payloadPath, values);
    out(`${JSON.stringify({ decisions }, null, 2)}\n`);
    return;
  }
  const connection = Object.keys(CONNECTION_OPTIONS).find((name) => values[name] !== undefined);
  if (connection) throw new UsageError(`--${connection} is for --project-id, which asks the admin API`);
  const inputs = await evaluateInputs(payloadPath, values);
  const { decisions } = evaluateDelivery({
    ...inputs,
    defaultBranch: inputs.defaultBranch ?? DEFAULT_BRANCH,
  });
  out(`${JSON.stringify({ decisions }, null, 2)}\n`);
}

/** The payload, settings and state files read, and the options checked. Throws UsageError. */
export async function evaluateInputs(payloadPath: string, values: Values) {
  const eventKey = str(values, 'event-key');
  if (!eventKey) {
    throw new UsageError(
      'missing --event-key: the event the payload was sent for, e.g. repo:push (Bitbucket Cloud) or repo:refs_changed (Data Center)',
    );
  }
  const provider = str(values, 'provider');
  if (provider !== undefined && !PROVIDERS.includes(provider as Provider)) {
    throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')}, not "${provider}"`);
  }
  const settingsPath = str(values, 'settings');
  const statePath = str(values, 'state');
  return {
    eventKey,
    payload: await readJson(payloadPath, 'payload'),
    ...(provider ? { provider: provider as Provider } : {}),
    defaultBranch: str(values, 'default-branch'),
    settings: settingsPath ? await readJson(settingsPath, 'settings') : undefined,
    state: statePath ? await readJson(statePath, 'state') : undefined,
  };
}

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { PROVIDERS, type Provider } from '../shared/domain/events';
import { evaluateDelivery } from '../shared/evaluate';
import { UsageError } from './errors';

export const EVALUATE_USAGE = `usage: hookgate evaluate <payload.json> --event-key <key>
    [--provider bitbucket-cloud|bitbucket-data-center] [--default-branch <name>]
    [--settings <file.json>] [--state <file.json>] [--project-id <id>]`;

/** `hookgate evaluate`: what the rules decide for one payload, as JSON on stdout. */
export async function runEvaluate(argv: string[], out: (text: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'event-key': { type: 'string' },
      provider: { type: 'string' },
      'default-branch': { type: 'string', default: 'main' },
      settings: { type: 'string' },
      state: { type: 'string' },
      'project-id': { type: 'string' },
    },
  });
  const [payloadPath, ...extra] = positionals;
  if (!payloadPath) {
    throw new UsageError(
      'missing the payload file: hookgate evaluate <payload.json> --event-key <key> (see --help)',
    );
  }
  if (extra.length > 0) throw new UsageError(`one payload file at a time; also got ${extra.join(' ')}`);
  const provider = values.provider;
  if (provider !== undefined && !PROVIDERS.includes(provider as Provider)) {
    throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')}, not "${provider}"`);
  }
  const payload = await readJson(payloadPath, 'payload');
  const settings = values.settings ? await readJson(values.settings, 'settings') : undefined;
  const state = values.state ? await readJson(values.state, 'state') : undefined;
  const { decisions } = evaluateDelivery({
    eventKey: values['event-key'],
    payload,
    defaultBranch: values['default-branch'],
    settings,
    state,
    ...(provider ? { provider: provider as Provider } : {}),
    ...(values['project-id'] ? { projectId: values['project-id'] } : {}),
  });
  out(`${JSON.stringify({ decisions }, null, 2)}\n`);
}

/** Reads and parses a JSON file, failing with one line that names the file and the problem. */
export async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read ${what} file ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(error))}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${what} file ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

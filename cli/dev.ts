import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_DATA_DIR } from '../local/data-dir';
import { type RunningStack, startStack } from '../local/stack';
import { StartupError } from '../local/startup-error';
import { UsageError } from './errors';
import { exitWith } from './exit';

export const DEV_USAGE = `usage: hookgate dev [--port <n>] [--data-dir <dir>] [--secret <secret>]
    [--default-branch <name>] [--admin-token <token>] [--exec <command>]
    defaults: --port 3000, --data-dir ${DEFAULT_DATA_DIR}, --default-branch main`;

/** Signals this soon after the first are the same Ctrl-C, not a request to quit at once. */
const SAME_PRESS_MS = 1_000;

/** The sample delivery the banner offers, shipped in examples/payloads/. */
const SAMPLE = { file: 'cloud-push-main.json', eventKey: 'repo:push' };

/**
 * `hookgate dev` (`npm start`): the local stack until SIGINT or SIGTERM, then a clean stop.
 * Exit 1 with one line when it cannot start.
 */
export async function runDev(argv: string[], out: (text: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string', default: '3000' },
      'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
      secret: { type: 'string' },
      'default-branch': { type: 'string', default: 'main' },
      'admin-token': { type: 'string' },
      exec: { type: 'string' },
    },
  });
  if (positionals.length > 0) throw new UsageError(DEV_USAGE);
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65_535) {
    throw new UsageError(`--port must be a number from 0 to 65535, not "${values.port}"`);
  }
  for (const name of ['secret', 'default-branch', 'admin-token', 'exec'] as const) {
    if (values[name] !== undefined && !values[name]?.trim())
      throw new UsageError(`--${name} must not be empty`);
  }
  // The SDK warns about Node versions it will drop; local mode is no place for that notice.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

  const line = (text: string) => out(`${text}\n`);
  const err = (text: string) => process.stderr.write(`${text}\n`);
  let stack: RunningStack;
  try {
    stack = await startStack({
      port,
      dataDir: values['data-dir'],
      defaultBranch: values['default-branch'],
      ...(values.secret ? { secret: values.secret } : {}),
      ...(values['admin-token'] ? { adminToken: values['admin-token'] } : {}),
      ...(values.exec ? { exec: values.exec } : {}),
      out: line,
      err,
    });
  } catch (error) {
    if (error instanceof StartupError) exitWith(1, `hookgate dev: ${error.message}`);
    throw error;
  }
  for (const text of banner(stack, values.exec)) line(text);

  await nextSignal();
  const firstSignalAt = Date.now();
  line('stopping: finishing the work in flight (Ctrl-C again to quit at once)');
  const quitNow = () => {
    // Under `npm start` one Ctrl-C arrives twice: from the terminal and forwarded by npm.
    if (Date.now() - firstSignalAt < SAME_PRESS_MS) return;
    exitWith(130, 'hookgate dev: quit before the work in flight was finished');
  };
  process.on('SIGINT', quitNow);
  process.on('SIGTERM', quitNow);
  await stack.stop();
  process.off('SIGINT', quitNow);
  process.off('SIGTERM', quitNow);
  line(`stopped; state kept in ${shown(stack.dataDir.root)}`);
}

function banner(stack: RunningStack, exec: string | undefined): string[] {
  const lines = [`hookgate dev: the local stack is running (data dir ${shown(stack.dataDir.root)})`];
  if (stack.firstStart) {
    lines.push(
      'first start: created the integration "local"; it takes Bitbucket Cloud and Data Center deliveries',
    );
  }
  for (const queue of stack.queues) {
    if (queue.resumed)
      lines.push(`resuming ${queue.resumed} message(s) left on ${queue.name} by the last run`);
    if (queue.deadLetters) {
      lines.push(
        `${queue.deadLetters} message(s) in the dead-letter list of ${queue.name}: ${shown(queue.deadLetterPath)}`,
      );
    }
  }
  const dirArg = dataDirArg(stack.dataDir.root);
  lines.push(
    '',
    `  webhook URL  ${stack.webhookUrl}`,
    `  secret       ${stack.secret}`,
    `  admin API    ${stack.adminUrl}`,
    `  admin token  ${stack.adminToken}  (Authorization: Bearer <token>; hookgate admin reads it from the data dir)`,
    `  triggers     ${shown(stack.dataDir.triggers)}${exec ? `, and --exec runs: ${exec}` : ''}`,
    '',
    'Send a signed delivery (more samples in examples/payloads/):',
    `  ${sendCommand(dirArg)}`,
    'Manage integrations, projects and deliveries:',
    `  npx hookgate admin integrations list${dirArg}`,
    '',
    'Waiting for deliveries; Ctrl-C stops.',
  );
  return lines;
}

/** The ready-to-paste `hookgate send` line; url and secret come from the data dir. */
function sendCommand(dirArg: string): string {
  const sample = findSample();
  const payload = sample ? shown(sample) : '<payload.json>';
  return `npx hookgate send ${quote(payload)} --event-key ${SAMPLE.eventKey}${dirArg}`;
}

/** ` --data-dir <dir>` for the commands the banner offers, unless it is the default. */
function dataDirArg(dataDir: string): string {
  return dataDir === resolve(DEFAULT_DATA_DIR) ? '' : ` --data-dir ${quote(shown(dataDir))}`;
}

/**
 * The shipped sample payload, looked for above this file: it runs from cli/ under Vitest and from
 * dist/ or a chunk folder below it once bundled. Undefined when the package ships without it.
 */
function findSample(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < 4; level++) {
    const candidate = join(dir, 'examples', 'payloads', SAMPLE.file);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

/** A path as the user would type it: relative when under the working folder. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((done) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      done(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

import { HookgateError } from '../shared/errors';
import { CommandFailedError, UsageError } from './errors';

const SUMMARY = `hookgate: Bitbucket webhooks in, pipeline triggers out

commands:
  evaluate   show what the rules decide for a payload, with reasons
  dev        run the whole stack on this machine (npm start)
  send       post a payload file to a webhook URL, signed like Bitbucket
  admin      manage integrations, projects and deliveries through the admin API`;

type Command = (argv: string[], out: (text: string) => void) => Promise<void>;

// Each command loads on use: `evaluate` runs hundreds of times in tests and must not pay for
// dynalite or the AWS SDK that `dev` and `admin` need.
const COMMANDS: Record<string, () => Promise<{ run: Command; usage: string }>> = {
  evaluate: async () => {
    const m = await import('./evaluate');
    return { run: m.runEvaluate, usage: m.EVALUATE_USAGE };
  },
  dev: async () => {
    const m = await import('./dev');
    return { run: m.runDev, usage: m.DEV_USAGE };
  },
  send: async () => {
    const m = await import('./send');
    return { run: m.runSend, usage: m.SEND_USAGE };
  },
  admin: async () => {
    const m = await import('./admin');
    return { run: m.runAdmin, usage: m.ADMIN_USAGE };
  },
};

async function usage(): Promise<string> {
  const commands = await Promise.all(Object.values(COMMANDS).map((load) => load()));
  return [SUMMARY, ...commands.map((command) => command.usage)].join('\n');
}

/** Runs the CLI and returns its exit code: 0 done, 1 the command failed, 2 bad usage or input. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${await usage()}\n`);
    return name ? 0 : 2;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    process.stderr.write(`hookgate: unknown command "${name}" (try: ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  try {
    const { run } = await load();
    await run(rest, (text) => process.stdout.write(text));
    return 0;
  } catch (error) {
    if (error instanceof CommandFailedError) {
      if (error.message) process.stderr.write(`hookgate ${name}: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof UsageError || error instanceof HookgateError || isParseArgsError(error)) {
      process.stderr.write(`hookgate ${name}: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

import { HookgateError } from '../shared/errors';
import { CommandFailedError, optionErrorOf, UsageError } from './errors';

const SUMMARY = `hookgate: Bitbucket webhooks in, pipeline triggers out

commands:
  evaluate   show what the rules decide for a payload, with reasons
  dev        run the whole stack on this machine (npm start)
  send       post a payload file to a webhook URL, signed like Bitbucket
  admin      manage integrations, projects and deliveries through the admin API`;

type Command = (argv: string[], out: (text: string) => void) => Promise<void>;

interface Loaded {
  run: Command;
  usage: string;
  /** The help for these arguments, when it depends on them (`admin projects connect --help`). */
  help?: (argv: string[]) => string;
}

// Each command loads on use: `evaluate` runs hundreds of times in tests and must not pay for
// dynalite or the AWS SDK that `dev` and `admin` need.
const COMMANDS: Record<string, () => Promise<Loaded>> = {
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
    return { run: m.runAdmin, usage: m.ADMIN_USAGE, help: m.adminHelp };
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
    const { run, usage, help } = await load();
    if (wantsHelp(rest)) {
      process.stdout.write(`${help ? help(rest) : usage}\n`);
      return 0;
    }
    await run(rest, (text) => process.stdout.write(text));
    return 0;
  } catch (error) {
    if (error instanceof CommandFailedError) {
      if (error.message) process.stderr.write(`hookgate ${name}: ${error.message}\n`);
      return error.exitCode;
    }
    const usageError = error instanceof UsageError ? error : optionErrorOf(error, name);
    if (usageError || error instanceof HookgateError) {
      process.stderr.write(`hookgate ${name}: ${(usageError ?? (error as Error)).message}\n`);
      return 2;
    }
    throw error;
  }
}

/** `--help` or `-h` among the options (not after `--`, where every word is an argument). */
function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

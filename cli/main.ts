import { HookgateError } from '../shared/errors';
import { DEV_USAGE, runDev } from './dev';
import { UsageError } from './errors';
import { EVALUATE_USAGE, runEvaluate } from './evaluate';
import { runSend, SEND_USAGE } from './send';

const USAGE = `hookgate: Bitbucket webhooks in, pipeline triggers out

commands:
  evaluate   show what the rules decide for a payload, with reasons
  dev        run the whole stack on this machine (npm start)
  send       post a payload file to a webhook URL, signed like Bitbucket
${EVALUATE_USAGE}
${DEV_USAGE}
${SEND_USAGE}`;

type Command = (argv: string[], out: (text: string) => void) => Promise<void>;

const COMMANDS: Record<string, Command> = {
  evaluate: runEvaluate,
  dev: runDev,
  send: runSend,
};

/** Runs the CLI and returns its exit code: 0 done, 2 bad usage or input. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`hookgate: unknown command "${name}" (try: ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  try {
    await command(rest, (text) => process.stdout.write(text));
    return 0;
  } catch (error) {
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

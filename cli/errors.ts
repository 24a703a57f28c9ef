/** A command-line mistake: printed as one line on stderr, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * A command that ran but did not succeed (the API refused, an endpoint cannot be reached, a
 * delivery was answered with an error): `main` prints the message, when there is one, as one
 * line on stderr and exits with `exitCode`.
 */
export class CommandFailedError extends Error {
  override name = 'CommandFailedError';
  constructor(message: string, options?: ErrorOptions & { exitCode?: number }) {
    super(message, options);
    this.exitCode = options?.exitCode ?? 1;
  }
  readonly exitCode: number;
}

/**
 * node:util parseArgs's errors in one line that names the option and where help is
 * (`unknown option --colour (see hookgate evaluate --help)`), or undefined for any other error.
 */
export function optionErrorOf(error: unknown, command: string): UsageError | undefined {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) return undefined;
  const message = (error as Error).message;
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  // `--integration --endpoint …` is "ambiguous" to parseArgs: the value looks like an option.
  const missing = /^Option '(-[^' ]+)(?: <value>)?' argument (?:missing|is ambiguous)/.exec(message);
  const extra = /^Option '(-[^' ]+)' does not take an argument/.exec(message);
  const text = unknown
    ? `unknown option ${unknown[1]}`
    : missing
      ? `${missing[1]} needs a value`
      : extra
        ? `${extra[1]} takes no value`
        : (message.split(/\.\s|\n/)[0] ?? message);
  return new UsageError(`${text} (see hookgate ${command} --help)`, { cause: error });
}

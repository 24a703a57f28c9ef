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

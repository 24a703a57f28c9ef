/** The local stack cannot start (port in use, unusable data dir …): one line on stderr, exit 1. */
export class StartupError extends Error {
  override name = 'StartupError';
}

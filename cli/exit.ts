import { writeSync } from 'node:fs';

/**
 * Ends the process with `code`, after one line on stderr when given. For outcomes that are not
 * usage errors (a refused delivery, a stack that cannot start: exit 1), which main() has no
 * exit code for; the write is synchronous so the line is never lost.
 */
export function exitWith(code: number, line?: string): never {
  if (line) writeSync(2, `${line}\n`);
  process.exit(code);
}

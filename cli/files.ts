import { readFile } from 'node:fs/promises';
import { UsageError } from './errors';

/** Reads a file the command line names, failing with one line that names the file and the problem. */
export async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read ${what} file ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(error))}`,
    );
  }
}

/** Reads and parses a JSON file, failing with one line that names the file and the problem. */
export async function readJson(path: string, what: string): Promise<unknown> {
  const text = await readText(path, what);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${what} file ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

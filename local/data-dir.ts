import { access, constants, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { StartupError } from './startup-error';

export const DEFAULT_DATA_DIR = '.hookgate';

/** What the local stack keeps in its data folder. */
export interface DataDir {
  root: string;
  /** dynalite's LevelDB folder. */
  dynamo: string;
  queues: string;
  /** The file secret store (0600). */
  secrets: string;
  /** Every trigger sent, one v1 message per line. */
  triggers: string;
  /** The running stack's webhook URL, read by `hookgate send`. */
  endpoint: string;
  /** Held while a stack runs on this folder. */
  lock: string;
}

export function dataDirOf(root: string): DataDir {
  const dir = resolve(root);
  return {
    root: dir,
    dynamo: join(dir, 'dynamodb'),
    queues: join(dir, 'queues'),
    secrets: join(dir, 'secrets.json'),
    triggers: join(dir, 'triggers.ndjson'),
    endpoint: join(dir, 'endpoint.json'),
    lock: join(dir, 'hookgate.lock'),
  };
}

/**
 * Creates the data folder when missing and checks that it can be written. Throws StartupError
 * with one line naming the folder and the reason.
 */
export async function prepareDataDir(dir: DataDir): Promise<void> {
  try {
    await makeDir(dir.root);
    if (!(await stat(dir.root)).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
    await access(dir.root, constants.W_OK | constants.X_OK);
    // access() trusts permission bits; a probe file also catches read-only mounts.
    const probe = join(dir.root, `.probe-${process.pid}`);
    await (await open(probe, 'w')).close();
    await rm(probe);
    await mkdir(dir.queues, { recursive: true });
  } catch (error) {
    throw new StartupError(`cannot use data dir ${dir.root}: ${describeFsError(error)}`);
  }
}

/**
 * Takes the folder's lock so two stacks never share one LevelDB and one set of queue journals.
 * A lock left by a process that is gone is taken over. Returns the release function; throws
 * StartupError when another live process holds the lock.
 */
export async function lockDataDir(dir: DataDir): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(dir.lock, 'wx', 0o600);
      await file.writeFile(`${process.pid}\n`);
      await file.close();
      return () => rm(dir.lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StartupError(`cannot use data dir ${dir.root}: ${describeFsError(error)}`);
      }
    }
    const holder = Number.parseInt(await readFile(dir.lock, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && holder !== process.pid && (await isAlive(holder))) {
      throw new StartupError(
        `data dir ${dir.root} is in use by another hookgate (pid ${holder}); stop it or pass another --data-dir`,
      );
    }
    await rm(dir.lock, { force: true });
  }
  throw new StartupError(`cannot lock data dir ${dir.root}: another process keeps taking it`);
}

/**
 * `mkdir -p`, by hand: Node's recursive mkdir loops forever on some paths (under /proc, say)
 * where a parent exists but a child can never be created.
 */
async function makeDir(path: string, depth = 0): Promise<void> {
  try {
    await mkdir(path, { mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    const parent = dirname(path);
    if (code !== 'ENOENT' || parent === path || depth > 100) throw error;
    await makeDir(parent, depth + 1);
    await mkdir(path, { mode: 0o700 }).catch((again: NodeJS.ErrnoException) => {
      if (again.code !== 'EEXIST') throw again;
    });
  }
}

async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed stack whose parent has not reaped it yet still answers kill(0) (Linux: state Z).
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return !/^\d+ \(.*\) Z/.test(stat);
}

/** A short human reason for a file system error. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOTDIR':
      return 'not a directory (a file is in the way)';
    case 'EEXIST':
      return 'a file is in the way';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'ENOENT':
      return 'no such file or directory';
    default:
      return code ?? (error instanceof Error ? error.message : String(error));
  }
}

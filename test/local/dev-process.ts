import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'bin/hookgate.mjs');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A spawned CLI process (its own process group, so its children go with it) and its output. */
export class CliProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      for (const wake of this.waiters.splice(0)) wake();
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits until stdout matches, failing with what was printed when it does not in time. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.stdout.match(pattern);
      if (match) return match;
      if (!this.running || Date.now() > deadline) {
        throw new Error(
          `stdout never matched ${pattern}${this.running ? '' : ' (the process exited)'}\n--- stdout\n${this.stdout}\n--- stderr\n${this.stderr}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * Signals the whole process group (as a terminal's Ctrl-C does), even when its leader (npm)
   * is gone: the stack under it may still be running.
   */
  signal(signal: NodeJS.Signals): void {
    if (!this.child.pid) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // The whole group is gone.
    }
  }

  /** Kills the whole group and waits until none of it is left (bounded: 10 s). */
  kill(): Promise<void> {
    return this.stop('SIGKILL', 10_000);
  }

  /**
   * Signals the whole group and waits until none of it is left, not only its leader: a stack
   * stopping gracefully under npm outlives its npm and keeps writing into its data folder.
   * Bounded by `timeoutMs`; a group still there after it is killed.
   */
  async stop(signal: NodeJS.Signals, timeoutMs = 30_000): Promise<void> {
    const pid = this.child.pid;
    this.signal(signal);
    await this.exited;
    for (let waited = 0; pid && groupAlive(pid) && waited < timeoutMs; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (pid && groupAlive(pid) && signal !== 'SIGKILL') return this.kill();
    children.delete(this);
  }
}

const children = new Set<CliProcess>();

/** Runs `hookgate dev` through `npm start` or straight through bin/hookgate.mjs. */
export function startDev(args: readonly string[], options: { npm?: boolean } = {}): CliProcess {
  const child = options.npm
    ? spawn('npm', ['start', '--silent', '--', ...args], { cwd: ROOT, detached: true, env: childEnv() })
    : spawn(process.execPath, [CLI, 'dev', ...args], { cwd: ROOT, detached: true, env: childEnv() });
  const process_ = new CliProcess(child);
  // Kept until its whole group is gone (see stop), not only until npm exits.
  children.add(process_);
  return process_;
}

/**
 * Runs a shell command line (as a person types it) in `cwd`, in a process group of its own so a
 * long-running one can be stopped with everything it started. Kept until its group is gone.
 */
export function startShell(command: string, cwd: string): CliProcess {
  const process_ = new CliProcess(spawn('sh', ['-c', command], { cwd, detached: true, env: childEnv() }));
  children.add(process_);
  return process_;
}

/** Runs a CLI command to its end. */
export async function runCli(args: readonly string[]): Promise<CliProcess & { exit: Exit }> {
  const process_ = new CliProcess(spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: childEnv() }));
  const exit = await process_.exited;
  return Object.assign(process_, { exit });
}

/** Kills every dev process a test left running. */
export async function killAll(): Promise<void> {
  await Promise.all([...children].map((child) => child.kill()));
}

/** A port nobody listens on at the moment. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Bundles the CLI when dist/ is missing or older than the sources, so these tests run the code in
 * the tree; a fresh bundle (from the global setup, say) is left alone.
 */
export function ensureFreshBundle(): void {
  const bundle = join(ROOT, 'dist/hookgate.mjs');
  const builtAt = mtime(bundle);
  const newest = Math.max(...['cli', 'local', 'shared', 'functions'].map((dir) => newestIn(join(ROOT, dir))));
  if (builtAt >= newest) return;
  execFileSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: ROOT, stdio: 'inherit' });
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function newestIn(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(path) : mtime(path));
  }
  return newest;
}

function childEnv(): NodeJS.ProcessEnv {
  // `hookgate admin` must find the endpoint and token in the data dir, not in the caller's shell.
  const { HOOKGATE_ENDPOINT: _endpoint, HOOKGATE_ADMIN_TOKEN: _token, ...env } = process.env;
  return { ...env, NO_COLOR: '1' };
}

/** Whether any process of the group `pgid` is still there. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

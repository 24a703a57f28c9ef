import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/** Fake credentials every client pointed at moto signs with (moto checks the signature's form). */
export const MOTO_CREDENTIALS = {
  accessKeyId: 'AKIAMOTOTESTKEY00001',
  secretAccessKey: 'moto-test-secret-access-key',
  sessionToken: 'moto-test-session-token',
};

export const MOTO_REGION = 'us-east-1';

/** One line a run prints when the tier cannot run here, and how to get what it needs. */
export const EMULATOR_SKIP_LINE =
  'AWS emulator tier skipped: moto_server not found (pip install "moto[server]")';

/** Whether `moto_server` is on the PATH. */
export function motoAvailable(): boolean {
  return spawnSync('sh', ['-c', 'command -v moto_server'], { stdio: 'ignore' }).status === 0;
}

/**
 * Whether the emulator tier runs: true when moto is here; false (after printing the skip line
 * once) when it is not; and a thrown error when it is not but `HOOKGATE_REQUIRE_EMULATOR=1`
 * (set by `.ci/run`), so CI can never pass by skipping.
 */
export function emulatorTierRuns(): boolean {
  if (motoAvailable()) return true;
  if (process.env.HOOKGATE_REQUIRE_EMULATOR === '1') {
    throw new Error(`${EMULATOR_SKIP_LINE}, and HOOKGATE_REQUIRE_EMULATOR=1 requires it`);
  }
  if (!skipPrinted) console.log(EMULATOR_SKIP_LINE);
  skipPrinted = true;
  return false;
}
let skipPrinted = false;

export interface MotoServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  pid: number;
  /** Stops the server by its PID; idempotent. */
  stop(): Promise<void>;
  /** Forgets every resource (moto's reset API), for a fresh start within one server. */
  reset(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/**
 * Starts moto's server on 127.0.0.1 on a free port and resolves once it answers (bounded: 30 s).
 * One per test file: every service shares it, as one AWS account in `us-east-1`.
 */
export async function startMoto(): Promise<MotoServer> {
  const port = await freePort();
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'true' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(killer);
    }
  };
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited at start: ${stderr.trim()}`);
    try {
      const answer = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      if (answer.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() - started > 30_000) {
      await stop();
      throw new Error(`moto_server did not answer on ${endpoint} within 30 s: ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    endpoint,
    port,
    pid: child.pid as number,
    stop,
    async reset() {
      const answer = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!answer.ok) throw new Error(`moto reset answered ${answer.status}`);
    },
  };
}

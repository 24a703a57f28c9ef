import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from '../infra/bundling';
import { queueUrl, REGION, TABLE_NAME } from './lib/functions';
import type { WarmRequest, WarmSamples } from './warm-worker';

const WORKER = fileURLToPath(new URL('./warm-worker.ts', import.meta.url));
/** Where the SDK would send if anything got past the fake: a closed loopback port, never the internet. */
const NOWHERE = 'http://127.0.0.1:9';

/**
 * Runs bench/warm-worker.ts in a process of its own (through tsx, on this checkout's sources) and
 * returns its per-call CPU samples. Throws with the worker's error when it fails.
 */
export function measureWarm(request: WarmRequest): Promise<WarmSamples> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
      cwd: PROJECT_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: 'AKIDBENCHFAKE',
        AWS_SECRET_ACCESS_KEY: 'bench-fake-secret-key',
        AWS_SESSION_TOKEN: 'bench-fake-session-token',
        AWS_ENDPOINT_URL: NOWHERE,
        AWS_LAMBDA_FUNCTION_NAME: 'hookgate-bench-warm',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
        TZ: ':UTC',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        TABLE_NAME,
        DELIVERIES_QUEUE_URL: queueUrl(NOWHERE, 'hookgate-deliveries.fifo'),
        TRIGGERS_QUEUE_URL: queueUrl(NOWHERE, 'hookgate-triggers.fifo'),
      },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    // The tail only: the handlers may warn on every invocation (see the README).
    let stderr = '';
    let settled = false;
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.on('message', (message: { ok: boolean; samples?: WarmSamples; error?: string }) => {
      settled = true;
      if (message.ok && message.samples) resolve(message.samples);
      else reject(new Error(`warm worker failed: ${message.error}`));
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!settled) {
        reject(new Error(`warm worker exited with ${code}: ${stderr.slice(-2000)}`));
      }
    });
    child.send(request);
  });
}

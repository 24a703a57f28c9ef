import { Worker } from 'node:worker_threads';
import type { TriggerStamp } from './flow';

const WORKER = new URL('./stamp-worker.mjs', import.meta.url);

export interface Stamps {
  /** Delivery id → when its decisions were first printed (epoch ms). */
  decided: Map<string, number>;
  /** Every line of triggers.ndjson with the time it was first seen, in order. */
  triggers: TriggerStamp[];
}

/**
 * Stamps the stack's output as it appears (lib/stamp-worker.mjs, on a thread of its own, every
 * `intervalMs`): the `delivery <id>` lines of its console and the lines of triggers.ndjson.
 * `stop()` reads what is left and returns every stamp.
 */
export function startStamping(consolePath: string, triggersPath: string, intervalMs = 2) {
  const worker = new Worker(WORKER, { workerData: { consolePath, triggersPath, intervalMs } });
  const failed = new Promise<never>((_, reject) => worker.once('error', reject));
  // Reported by stop(); until then a failure must not end the process as an unhandled rejection.
  failed.catch(() => undefined);
  return {
    async stop(): Promise<Stamps> {
      const answer = new Promise<{
        decided: [string, number][];
        triggers: [string, string, number, number, number][];
      }>((resolve) => worker.once('message', resolve));
      worker.postMessage('stop');
      const { decided, triggers } = await Promise.race([answer, failed]);
      await worker.terminate();
      const first = new Map<string, number>();
      for (const [id, at] of decided) if (!first.has(id)) first.set(id, at);
      return {
        decided: first,
        triggers: triggers.map(([triggerId, deliveryId, receivedAt, createdAt, seen]) => ({
          triggerId,
          deliveryId,
          receivedAt,
          createdAt,
          seen,
        })),
      };
    },
  };
}

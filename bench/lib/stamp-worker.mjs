// A worker thread of the end-to-end run (started by bench/lib/stamps.ts): it tails the stack's
// console and triggers.ndjson every few milliseconds and stamps each line with the time it first
// saw it, on a thread of its own so the load generator on the main thread does not delay the
// stamps. Plain JavaScript: a worker thread does not get tsx's loader.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

/** @type {{ consolePath: string, triggersPath: string, intervalMs: number }} */
const { consolePath, triggersPath, intervalMs } = workerData;

/** Reads what was appended to a file since the last call, whole lines only. */
function tail(path) {
  let offset = 0;
  let partial = '';
  return () => {
    let fd;
    try {
      fd = openSync(path, 'r');
    } catch {
      return [];
    }
    try {
      const { size } = fstatSync(fd);
      if (size <= offset) return [];
      const buffer = Buffer.alloc(size - offset);
      const read = readSync(fd, buffer, 0, buffer.length, offset);
      offset += read;
      const lines = (partial + buffer.subarray(0, read).toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      return lines;
    } finally {
      closeSync(fd);
    }
  };
}

const consoleLines = tail(consolePath);
const triggerLines = tail(triggersPath);
/** Delivery id → when its decisions were first printed (epoch ms). */
const decided = [];
/** [triggerId, deliveryId, receivedAt (epoch ms), createdAt (epoch ms), seen (epoch ms)] per line. */
const triggers = [];

function poll() {
  const now = Date.now();
  for (const line of consoleLines()) {
    const match = /^delivery (\S+)/.exec(line);
    if (match) decided.push([match[1], now]);
  }
  for (const line of triggerLines()) {
    try {
      const message = JSON.parse(line);
      triggers.push([
        message.triggerId,
        message.delivery?.id,
        Date.parse(message.delivery?.receivedAt),
        Date.parse(message.createdAt),
        now,
      ]);
    } catch {
      // A line cut short holds no trigger (the stack was stopped mid-append).
    }
  }
}

const timer = setInterval(poll, intervalMs);
parentPort?.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  poll();
  parentPort?.postMessage({ decided, triggers });
  parentPort?.close();
});

import { Agent, request } from 'node:http';

export interface PacedRequest {
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface PacedOptions {
  /** `http://127.0.0.1:<port>`: loopback only. */
  origin: string;
  /** Requests per second, sent on a fixed schedule whatever the answers (an open loop). */
  rate: number;
  durationSeconds: number;
  /** At most this many requests waiting for an answer; a request due beyond it is counted as skipped. */
  maxInFlight: number;
  timeoutMs: number;
  next: () => PacedRequest;
  onResponse: (status: number, body: string) => void;
}

export interface PacedResult {
  durationSeconds: number;
  sent: number;
  /** Requests due while `maxInFlight` were waiting: the stack could not take the offered rate. */
  skipped: number;
  answered: number;
  /** Answers other than 2xx, connection errors and timeouts. */
  errors: number;
  /** Milliseconds from sending to the whole answer, per answered request. */
  latenciesMs: number[];
}

/**
 * Offers `rate` requests per second for `durationSeconds`, each sent at its own time on a fixed
 * schedule (request i at i / rate s), not when an earlier one was answered, so the latency measured
 * is the latency at that load and not at the load the stack lets through. Waits for every answer
 * (or its timeout) before it returns.
 */
export async function pacedLoad(options: PacedOptions): Promise<PacedResult> {
  const origin = new URL(options.origin);
  if (origin.hostname !== '127.0.0.1' && origin.hostname !== 'localhost') {
    throw new Error(`the paced load goes to loopback only, not ${origin.hostname}`);
  }
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxInFlight });
  const result: PacedResult = {
    durationSeconds: options.durationSeconds,
    sent: 0,
    skipped: 0,
    answered: 0,
    errors: 0,
    latenciesMs: [],
  };
  const pending = new Set<Promise<void>>();
  const total = Math.round(options.rate * options.durationSeconds);
  const started = performance.now();
  const send = (planned: PacedRequest) => {
    const sentAt = performance.now();
    result.sent += 1;
    const done = new Promise<void>((resolve) => {
      const req = request(
        {
          host: origin.hostname,
          port: origin.port,
          method: 'POST',
          path: planned.path,
          headers: { ...planned.headers, 'content-length': String(planned.body.length) },
          agent,
          timeout: options.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            result.answered += 1;
            result.latenciesMs.push(performance.now() - sentAt);
            if (status < 200 || status > 299) result.errors += 1;
            options.onResponse(status, Buffer.concat(chunks).toString('utf8'));
            resolve();
          });
          res.on('error', () => {
            result.errors += 1;
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', () => {
        result.errors += 1;
        resolve();
      });
      req.end(planned.body);
    });
    pending.add(done);
    void done.then(() => pending.delete(done));
  };
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / options.rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    if (pending.size >= options.maxInFlight) result.skipped += 1;
    else send(options.next());
  }
  // The schedule's last slot ends one interval after the last send.
  const end = started + options.durationSeconds * 1000;
  if (end > performance.now()) await sleep(end - performance.now());
  result.durationSeconds = (performance.now() - started) / 1000;
  await Promise.all(pending);
  agent.destroy();
  return result;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

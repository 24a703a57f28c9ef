import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FaultCase, MatrixFunction, Observation } from './fault-cases';
import type { LaneReply, LaneRequest } from './fault-lane';

const LANE = fileURLToPath(new URL('./fault-lane.ts', import.meta.url));
/** Starting a lane (moto, the bundles) on a busy 2-core machine. */
const READY_WITHIN_MS = 180_000;

export interface Lanes {
  /** Runs a case on the first free lane. */
  run(fault: FaultCase): Promise<Observation>;
  /** The calls of an unfaulted delivery, per function. */
  unfaultedCalls(): Promise<Record<MatrixFunction, string[]>>;
  stop(): Promise<void>;
}

interface Lane {
  child: ChildProcess;
  busy: boolean;
}

interface Job {
  request: LaneRequest;
  id: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * Starts `count` lanes (child processes under tsx, each with its own moto) and hands each case to
 * the first free one, in the order asked. The cases spend most of their time waiting out hangs
 * and delays, so lanes run them side by side on few cores.
 */
export async function startLanes(count: number): Promise<Lanes> {
  const lanes: Lane[] = [];
  const waiting: Job[] = [];
  const running = new Map<Lane, Job>();

  const dispatch = () => {
    for (const lane of lanes) {
      if (lane.busy) continue;
      const job = waiting.shift();
      if (!job) return;
      lane.busy = true;
      running.set(lane, job);
      lane.child.send(job.request);
    }
  };

  const start = (): Promise<Lane> =>
    new Promise((resolve, reject) => {
      const child = fork(LANE, [], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        env: { ...process.env, NODE_NO_WARNINGS: '1' },
      });
      const lane: Lane = { child, busy: false };
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`a fault lane was not ready within ${READY_WITHIN_MS} ms`));
      }, READY_WITHIN_MS);
      child.on('message', (reply: LaneReply) => {
        if (reply.type === 'ready') {
          clearTimeout(timer);
          resolve(lane);
          return;
        }
        if (reply.type === 'fatal') {
          clearTimeout(timer);
          reject(new Error(`a fault lane could not start: ${reply.error}`));
          return;
        }
        const job = running.get(lane);
        running.delete(lane);
        lane.busy = false;
        if (job) {
          if (reply.type === 'result') job.resolve(reply.observation);
          else job.reject(new Error(`${job.id}: ${reply.error}`));
        }
        dispatch();
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        const job = running.get(lane);
        running.delete(lane);
        job?.reject(new Error(`the fault lane running "${job.id}" exited (${code ?? signal})`));
        const index = lanes.indexOf(lane);
        if (index >= 0) lanes.splice(index, 1);
        reject(new Error(`a fault lane exited before it was ready (${code ?? signal})`));
      });
    });

  const started = await Promise.allSettled(Array.from({ length: count }, start));
  for (const result of started) if (result.status === 'fulfilled') lanes.push(result.value);
  const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    for (const lane of lanes) lane.child.kill('SIGKILL');
    throw failure.reason;
  }

  const ask = <T>(request: LaneRequest, id: string) =>
    new Promise<T>((resolve, reject) => {
      waiting.push({ request, id, resolve: resolve as (value: unknown) => void, reject });
      dispatch();
    });

  return {
    run: (fault) => ask<Observation>({ type: 'run', fault }, fault.id),
    unfaultedCalls: () => ask({ type: 'calls' }, 'calls'),
    async stop() {
      for (const job of waiting.splice(0)) job.reject(new Error(`${job.id}: the lanes stopped`));
      await Promise.all(
        lanes.map(
          (lane) =>
            new Promise<void>((resolve) => {
              const kill = setTimeout(() => lane.child.kill('SIGKILL'), 15_000);
              lane.child.once('exit', () => {
                clearTimeout(kill);
                resolve();
              });
              if (lane.child.connected) lane.child.send({ type: 'stop' } satisfies LaneRequest);
              else lane.child.kill('SIGKILL');
            }),
        ),
      );
    },
  };
}

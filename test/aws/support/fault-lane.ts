// A lane of the fault matrix: a process of its own with its own moto, proxy and sandboxes, which
// runs the cases its parent sends, one at a time. Separate processes because a sandbox points the
// SDK at its door through process.env for the length of an invocation: two lanes in one process
// would send each other's calls through the wrong door.

import { type FaultCase, runCase, unfaultedCalls } from './fault-cases';
import { type FaultStack, startFaultStack } from './fault-matrix';

export type LaneRequest = { type: 'run'; fault: FaultCase } | { type: 'calls' } | { type: 'stop' };
export type LaneReply =
  | { type: 'ready' }
  | { type: 'result'; id: string; observation: unknown }
  | { type: 'failed'; id: string; error: string }
  | { type: 'fatal'; error: string };

const send = (reply: LaneReply) => process.send?.(reply);
const describeError = (error: unknown) =>
  error instanceof Error ? (error.stack ?? error.message) : String(error);

async function main(): Promise<void> {
  let stack: FaultStack;
  try {
    stack = await startFaultStack();
  } catch (error) {
    send({ type: 'fatal', error: describeError(error) });
    process.exit(1);
  }
  // One request at a time, in order.
  let queue = Promise.resolve();
  process.on('message', (request: LaneRequest) => {
    queue = queue.then(async () => {
      if (request.type === 'stop') {
        await stack.stop().catch(() => undefined);
        process.exit(0);
      }
      const id = request.type === 'run' ? request.fault.id : 'calls';
      try {
        const observation =
          request.type === 'run' ? await runCase(stack, request.fault) : await unfaultedCalls(stack);
        send({ type: 'result', id, observation });
      } catch (error) {
        send({ type: 'failed', id, error: describeError(error) });
      }
    });
  });
  // The parent gone (a killed test run): nothing is left behind.
  process.on('disconnect', () => {
    void stack.stop().finally(() => process.exit(0));
  });
  send({ type: 'ready' });
}

void main();

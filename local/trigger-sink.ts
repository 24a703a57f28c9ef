import { appendFile } from 'node:fs/promises';
import { type TriggerMessage, TriggerMessageSchema } from '../shared/domain/trigger-message';
import { describeError } from './console-log';
import { EXEC_PREFIX, runExec } from './exec';
import type { QueueConsumer, ReceivedMessage } from './local-queue';
import { formatTrigger } from './report';

export interface TriggerSinkOptions {
  /** Every trigger is appended here as its full v1 message, one per line. */
  ndjsonPath: string;
  /** A shell command run once per trigger (`--exec`). */
  exec?: string;
  maxReceiveCount: number;
  out: (line: string) => void;
  err: (line: string) => void;
}

/**
 * The local pipeline runner: consumes `triggers.fifo`, prints each trigger as one line, appends
 * it to the NDJSON file and runs `--exec`. A command that exits non-zero has not taken the
 * trigger: it is offered again (later triggers of its project wait, as on SQS FIFO) until it
 * lands in the dead-letter list. Each offer is printed; the file gets a trigger once per run.
 */
export function triggerSink(options: TriggerSinkOptions): QueueConsumer {
  // Triggers written to the file and not yet taken: a retry must not write them again.
  const recorded = new Set<string>();
  return async (batch) => {
    const failed: string[] = [];
    const failedGroups = new Set<string>();
    for (const received of batch) {
      if (failedGroups.has(received.groupId) || !(await take(options, recorded, received))) {
        failedGroups.add(received.groupId);
        failed.push(received.messageId);
      }
    }
    return failed;
  };
}

async function take(
  options: TriggerSinkOptions,
  recorded: Set<string>,
  received: ReceivedMessage,
): Promise<boolean> {
  let message: TriggerMessage;
  try {
    message = TriggerMessageSchema.parse(JSON.parse(received.body));
  } catch (error) {
    options.err(
      `error: a message on triggers.fifo is not a hookgate.trigger/v1 message: ${describeError(error as Error)}`,
    );
    return false;
  }
  const attempt = `attempt ${received.receiveCount} of ${options.maxReceiveCount}`;
  const last = received.receiveCount >= options.maxReceiveCount;
  if (!recorded.has(message.triggerId)) {
    try {
      await appendFile(options.ndjsonPath, `${JSON.stringify(message)}\n`, 'utf8');
    } catch (error) {
      options.err(`error: cannot append to ${options.ndjsonPath}: ${describeError(error as Error)}`);
      return false;
    }
    recorded.add(message.triggerId);
  }
  // Printed once it is in the file, so a line on the console always has its record.
  options.out(`${formatTrigger(message)}${received.receiveCount > 1 ? `  (${attempt})` : ''}`);
  const taken = options.exec ? await run(options, options.exec, message, attempt, last) : true;
  if (taken || last) recorded.delete(message.triggerId);
  return taken;
}

/** Runs `--exec` for one trigger; true when it exits 0. */
async function run(
  options: TriggerSinkOptions,
  command: string,
  message: TriggerMessage,
  attempt: string,
  last: boolean,
): Promise<boolean> {
  let result: number | NodeJS.Signals;
  try {
    result = await runExec(command, message, { out: options.out, err: options.err });
  } catch (error) {
    options.err(`${EXEC_PREFIX}cannot run the command (${attempt}): ${describeError(error as Error)}`);
    return false;
  }
  if (result === 0) return true;
  const how = typeof result === 'number' ? `exited with code ${result}` : `was ended by ${result}`;
  const next = last ? 'giving up' : 'it will be offered again';
  options.err(
    `${EXEC_PREFIX}the command ${how} for trigger ${message.triggerId.slice(0, 12)} (${attempt}); ${next}`,
  );
  return false;
}

import middy from '@middy/core';
import type { Context, SQSBatchItemFailure, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { Deadline, withDeadline } from '../../shared/deadline';
import { OutOfTimeError } from '../../shared/errors';
import { DeliveryMessageSchema } from '../../shared/ingest/delivery-message';
import { type ProcessDeliveryDeps, processDelivery } from '../../shared/ingest/process-delivery';

/** Kept back from the work for recording a failure and answering. */
export const RESERVE_MS = 2_000;
/** Kept back from the bookkeeping for answering: the batch response must reach Lambda. */
export const ANSWER_MS = 500;
/** A delivery is not started with less budget than this: a few calls, each with its timeout. */
export const RECORD_MIN_MS = 5_000;

/**
 * `deliveries.fifo` batches. Records run in order; when one is handed back, every later record of
 * its message group goes back with it (FIFO order within a repository is kept), the rest are
 * acknowledged. With less budget left than one delivery needs, the rest of the batch goes back.
 *
 * Why failures are counted on the delivery and not left to SQS: SQS counts receives, and a
 * record handed back only because an earlier record of its group failed is received again all
 * the same. Leaving the dead-lettering to `maxReceiveCount` sent a poison delivery's group-mates to
 * the DLQ with it. So processDelivery counts each delivery's own failures in its table record
 * and, at PARK_AFTER_FAILURES (3), parks it as `failed` and acknowledges it; group-mates never
 * reach processDelivery while handed back, so they count nothing. The deliveries queue's
 * `maxReceiveCount` (DELIVERIES_MAX_RECEIVE_COUNT, 15) is only a backstop for when the table
 * cannot be written at all: a group-mate outlasts five poison deliveries ahead of it.
 */
export function makeHandler(deps: ProcessDeliveryDeps) {
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const budget = Deadline.fromLambdaContext(context, RESERVE_MS);
    const bookkeeping = Deadline.fromLambdaContext(context, ANSWER_MS);
    const batchItemFailures: SQSBatchItemFailure[] = [];
    const handedBack = new Set<string>();
    for (const record of event.Records) {
      const group = record.attributes.MessageGroupId ?? '';
      if (handedBack.has(group) || budget.shorterThan(RECORD_MIN_MS)) {
        handedBack.add(group);
        batchItemFailures.push({ itemIdentifier: record.messageId });
        continue;
      }
      const message = DeliveryMessageSchema.safeParse(safeJson(record.body));
      if (!message.success) {
        // Not a message enqueueDelivery wrote: no retry makes it one. Its delivery, if any, is
        // still `received`, and the sweeper enqueues that again.
        deps.log.error('not a delivery message; acknowledged', { messageId: record.messageId });
        deps.telemetry.count('MalformedMessages');
        continue;
      }
      try {
        deps.log.appendKeys({ deliveryId: message.data.deliveryId, integration: message.data.integration });
        await withDeadline(budget, () => processDelivery(deps, message.data, bookkeeping));
      } catch (error) {
        if (error instanceof OutOfTimeError)
          deps.log.info('budget short; delivery handed back', { reason: error.message });
        else deps.log.error('delivery processing failed; it will be retried', error as Error);
        deps.telemetry.count(error instanceof OutOfTimeError ? 'HandedBack' : 'ProcessingFailures');
        handedBack.add(group);
        batchItemFailures.push({ itemIdentifier: record.messageId });
      } finally {
        deps.log.removeKeys(['deliveryId', 'integration']);
      }
    }
    return { batchItemFailures };
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function createProcessorHandler(deps: ProcessDeliveryDeps) {
  return middy(makeHandler(deps));
}

import middy from '@middy/core';
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DeliveryMessageSchema } from '../../shared/ingest/delivery-message';
import { type ProcessDeliveryDeps, processDelivery } from '../../shared/ingest/process-delivery';

/**
 * `deliveries.fifo` batches. Records run in order; when one fails, it and every later record of
 * its message group go back (FIFO order within a repository is kept), the rest are acknowledged.
 */
export function makeHandler(deps: ProcessDeliveryDeps) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const batchItemFailures: SQSBatchItemFailure[] = [];
    const failedGroups = new Set<string>();
    for (const record of event.Records) {
      const group = record.attributes.MessageGroupId ?? '';
      if (failedGroups.has(group)) {
        batchItemFailures.push({ itemIdentifier: record.messageId });
        continue;
      }
      try {
        const message = DeliveryMessageSchema.parse(JSON.parse(record.body));
        deps.log.appendKeys({ deliveryId: message.deliveryId, integration: message.integration });
        await processDelivery(deps, message);
      } catch (error) {
        deps.log.error('delivery processing failed; it will be retried', error as Error);
        deps.telemetry.count('ProcessingFailures');
        failedGroups.add(group);
        batchItemFailures.push({ itemIdentifier: record.messageId });
      } finally {
        deps.log.removeKeys(['deliveryId', 'integration']);
      }
    }
    return { batchItemFailures };
  };
}

export function createProcessorHandler(deps: ProcessDeliveryDeps) {
  return middy(makeHandler(deps));
}

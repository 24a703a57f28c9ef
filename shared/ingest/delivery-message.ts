import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import type { Queue } from '../queue/queue';

/** The message on `deliveries.fifo`: a pointer to the stored delivery, which holds the body. */
export const DeliveryMessageSchema = z.object({
  integration: z.string().check(z.minLength(1)),
  deliveryId: z.string().check(z.minLength(1)),
});

export type DeliveryMessage = z.infer<typeof DeliveryMessageSchema>;

/** What `enqueueDelivery` needs of a stored delivery. */
export interface EnqueuedDelivery {
  integration: string;
  deliveryId: string;
  repositoryId?: string | undefined;
}

/**
 * Puts a stored delivery on `deliveries.fifo`: the one place that knows its message group
 * (integration + repository, so order holds per repository) and its deduplication id (integration
 * + delivery id, so enqueueing the same delivery again within SQS's five minutes is free). The
 * webhook, replay and the sweeper all enqueue through it. Throws the queue's errors.
 */
export async function enqueueDelivery(queue: Queue, delivery: EnqueuedDelivery): Promise<void> {
  const message: DeliveryMessage = { integration: delivery.integration, deliveryId: delivery.deliveryId };
  await queue.send({
    body: JSON.stringify(message),
    groupId: `${delivery.integration}#${delivery.repositoryId ?? 'none'}`,
    deduplicationId: createHash('sha256')
      .update(`${delivery.integration}\n${delivery.deliveryId}`)
      .digest('hex'),
  });
}

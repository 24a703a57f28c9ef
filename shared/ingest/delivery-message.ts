import * as z from 'zod/mini';

/** The message on `deliveries.fifo`: a pointer to the stored delivery, which holds the body. */
export const DeliveryMessageSchema = z.object({
  integration: z.string().check(z.minLength(1)),
  deliveryId: z.string().check(z.minLength(1)),
});

export type DeliveryMessage = z.infer<typeof DeliveryMessageSchema>;

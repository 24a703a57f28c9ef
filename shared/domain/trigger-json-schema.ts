import * as z from 'zod/mini';
import { TRIGGER_SCHEMA, TriggerMessageSchema } from './trigger-message';

/** The JSON Schema consumers validate trigger messages with, as committed in `schemas/`. */
export function triggerJsonSchemaText(): string {
  const schema = {
    ...z.toJSONSchema(TriggerMessageSchema),
    $id: 'https://hookgate.dev/schemas/trigger-v1.schema.json',
    title: TRIGGER_SCHEMA,
    description:
      'One pipeline to start, as put on triggers.fifo by Hookgate. Generated from shared/domain/trigger-message.ts.',
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

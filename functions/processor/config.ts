import * as z from 'zod/mini';
import { parseEnvironment, requiredVariable } from '../../shared/config';

/** What the stack sets for the processor (infra/functions.ts). */
export const ProcessorEnvironmentSchema = z.object({
  TABLE_NAME: requiredVariable,
  TRIGGERS_QUEUE_URL: requiredVariable,
});

const env = parseEnvironment(ProcessorEnvironmentSchema, process.env);

/** The processor function's settings: the only place it reads the environment. */
export const config = {
  tableName: env.TABLE_NAME,
  triggersQueueUrl: env.TRIGGERS_QUEUE_URL,
};

import * as z from 'zod/mini';
import { parseEnvironment, requiredVariable } from '../../shared/config';

/** What the stack sets for the sweeper (infra/functions.ts). */
export const SweeperEnvironmentSchema = z.object({
  TABLE_NAME: requiredVariable,
  DELIVERIES_QUEUE_URL: requiredVariable,
});

const env = parseEnvironment(SweeperEnvironmentSchema, process.env);

/** The sweeper function's settings: the only place it reads the environment. */
export const config = {
  tableName: env.TABLE_NAME,
  deliveriesQueueUrl: env.DELIVERIES_QUEUE_URL,
};

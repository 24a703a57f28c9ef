import { requireEnv } from '../../shared/config';

const env = requireEnv(['TABLE_NAME', 'DELIVERIES_QUEUE_URL']);

/** The sweeper function's settings: the only place it reads the environment. */
export const config = {
  tableName: env.TABLE_NAME,
  deliveriesQueueUrl: env.DELIVERIES_QUEUE_URL,
};

import { requireEnv } from '../../shared/config';

const env = requireEnv(['TABLE_NAME', 'TRIGGERS_QUEUE_URL']);

/** The processor function's settings: the only place it reads the environment. */
export const config = {
  tableName: env.TABLE_NAME,
  triggersQueueUrl: env.TRIGGERS_QUEUE_URL,
};

import { requireEnv } from '../../shared/config';

const env = requireEnv(['TABLE_NAME', 'DELIVERIES_QUEUE_URL']);

/** The webhook function's settings: the only place it reads the environment. */
export const config = {
  tableName: env.TABLE_NAME,
  deliveriesQueueUrl: env.DELIVERIES_QUEUE_URL,
  /** Integrations are cached briefly: a deletion shows as 410 within this time. */
  integrationCacheMs: Number(process.env.INTEGRATION_CACHE_SECONDS ?? 30) * 1000,
  secretCacheMs: Number(process.env.SECRET_CACHE_SECONDS ?? 300) * 1000,
};

import * as z from 'zod/mini';
import {
  awsJsonConnections,
  awsJsonEnvironment,
  credentialsFromEnvironment,
  numberVariable,
  parseEnvironment,
  requiredVariable,
} from '../../shared/config';

const seconds = numberVariable('seconds', { positive: false });

/**
 * What the stack sets for the webhook (infra/functions.ts), where AWS is (Lambda's region, the
 * SDK's endpoint overrides), and the cache times it may be given.
 */
export const WebhookEnvironmentSchema = awsJsonEnvironment({
  TABLE_NAME: requiredVariable,
  DELIVERIES_QUEUE_URL: requiredVariable,
  INTEGRATION_CACHE_SECONDS: z._default(seconds, 30),
  SECRET_CACHE_SECONDS: z._default(seconds, 300),
});

const env = parseEnvironment(WebhookEnvironmentSchema, process.env);

/** The webhook function's settings: the only place it reads the environment. */
export const config = {
  tableName: env.TABLE_NAME,
  deliveriesQueueUrl: env.DELIVERIES_QUEUE_URL,
  /** Integrations are cached briefly: a deletion shows as 410 within this time. */
  integrationCacheMs: env.INTEGRATION_CACHE_SECONDS * 1000,
  secretCacheMs: env.SECRET_CACHE_SECONDS * 1000,
  /** DynamoDB, SQS and Secrets Manager through AwsJsonClient. */
  // Credentials are read at every signing, not here: see awsJsonConnections.
  aws: awsJsonConnections(env, () => credentialsFromEnvironment(process.env)),
};

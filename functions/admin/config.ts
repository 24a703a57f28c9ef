import * as z from 'zod/mini';
import {
  LOG_LEVEL_VARIABLES,
  logLevelOf,
  numberVariable,
  parseEnvironment,
  requiredVariable,
  urlVariable,
} from '../../shared/config';

/** What the stack sets for the admin function (infra/functions.ts). */
export const AdminEnvironmentSchema = z.object({
  TABLE_NAME: requiredVariable,
  STAGE: requiredVariable,
  DELIVERIES_QUEUE_URL: requiredVariable,
  WEBHOOK_BASE_URL: z.optional(urlVariable),
  ROTATION_GRACE_HOURS: z._default(numberVariable('hours', { positive: true }), 24),
  ...LOG_LEVEL_VARIABLES,
});

const env = parseEnvironment(AdminEnvironmentSchema, process.env);

/** The admin function's settings: the only place it reads the environment. */
export const config = {
  tableName: env.TABLE_NAME,
  stage: env.STAGE,
  /** Replays are enqueued here for the processor. */
  deliveriesQueueUrl: env.DELIVERIES_QUEUE_URL,
  /** Where Bitbucket reaches the webhook route (a custom domain); the request's domain otherwise. */
  webhookBaseUrl: env.WEBHOOK_BASE_URL,
  rotationGraceHours: env.ROTATION_GRACE_HOURS,
  logLevel: logLevelOf(env),
  /**
   * Lambda's Node runtime sets _X_AMZN_TRACE_ID anew for each invocation, so it is read when one
   * starts, not at the cold start.
   */
  traceId: (): string | undefined => process.env._X_AMZN_TRACE_ID,
};

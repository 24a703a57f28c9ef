import { requireEnv } from '../../shared/config';

const env = requireEnv(['TABLE_NAME', 'STAGE', 'DELIVERIES_QUEUE_URL']);

const graceHours = Number(process.env.ROTATION_GRACE_HOURS ?? 24);
if (!Number.isFinite(graceHours) || graceHours <= 0) {
  throw new Error(
    `ROTATION_GRACE_HOURS must be a positive number, got "${process.env.ROTATION_GRACE_HOURS}"`,
  );
}

/** The admin function's settings: the only place it reads the environment. */
export const config = {
  tableName: env.TABLE_NAME,
  stage: env.STAGE,
  /** Replays are enqueued here for the processor. */
  deliveriesQueueUrl: env.DELIVERIES_QUEUE_URL,
  /** Where Bitbucket reaches the webhook route (a custom domain); the request's domain otherwise. */
  webhookBaseUrl: process.env.WEBHOOK_BASE_URL || undefined,
  rotationGraceHours: graceHours,
};

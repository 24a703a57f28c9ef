import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { AwsTransport } from '../../shared/aws/aws-json-client';
import { createLogger, createMetrics, powertoolsTelemetry } from '../../shared/aws/powertools';
import { createWebhookHandler, webhookDeps } from './app';
import { createWebhookClients } from './clients';
import { config } from './config';

// Built once per container; constructing a client opens no connection.
const logger = createLogger();
const metrics = createMetrics();

export interface DeployedWebhookOptions {
  /** Under every AWS client in place of the network: the benchmark answers from a fake this way. */
  transport?: AwsTransport;
}

/** The webhook as deployed: its clients, logger, metrics and middlewares. */
export function createDeployedWebhookHandler(options: DeployedWebhookOptions = {}) {
  const deps = webhookDeps({
    ...createWebhookClients({ ...config, transport: options.transport }),
    log: logger,
    telemetry: powertoolsTelemetry(metrics),
    integrationCacheMs: config.integrationCacheMs,
    secretCacheMs: config.secretCacheMs,
  });
  return createWebhookHandler(deps)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}

export const handler = createDeployedWebhookHandler();

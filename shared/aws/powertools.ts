import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, SERVICE_NAME, type Telemetry } from '../observability';

/** Structured JSON logs; the shared code adds delivery id and integration as keys. */
export function createLogger(): Logger {
  return new Logger({ serviceName: SERVICE_NAME });
}

export function createMetrics(): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
}

/**
 * Telemetry on Powertools Metrics (CloudWatch EMF). Dimension values are folded into the metric
 * name (`Deliveries` + `{outcome: 'bad-signature'}` → `DeliveriesBadSignature`) so every metric of
 * an invocation is buffered and published in one EMF line by `logMetrics`: a dimensioned
 * `singleMetric` is flushed at once, which left nothing to publish and a warning on every call.
 */
export function powertoolsTelemetry(metrics: Metrics): Telemetry {
  return {
    count(name, value = 1, dimensions) {
      metrics.addMetric(
        name +
          Object.values(dimensions ?? {})
            .map(pascalCase)
            .join(''),
        MetricUnit.Count,
        value,
      );
    },
    milliseconds(name, value) {
      metrics.addMetric(name, MetricUnit.Milliseconds, value);
    },
  };
}

function pascalCase(text: string): string {
  return text
    .split(/[^A-Za-z0-9]+/)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SERVICE_NAME, type Telemetry } from '../observability';

/** Structured JSON logs; the shared code adds delivery id and integration as keys. */
export function createLogger(): Logger {
  return new Logger({ serviceName: SERVICE_NAME });
}

export function createMetrics(): Metrics {
  return new Metrics({ namespace: 'Hookgate', serviceName: SERVICE_NAME });
}

/** Telemetry on Powertools Metrics (CloudWatch EMF). A dimensioned count is its own metric. */
export function powertoolsTelemetry(metrics: Metrics): Telemetry {
  return {
    count(name, value = 1, dimensions) {
      if (!dimensions) {
        metrics.addMetric(name, MetricUnit.Count, value);
        return;
      }
      const single = metrics.singleMetric();
      for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
      single.addMetric(name, MetricUnit.Count, value);
    },
    milliseconds(name, value) {
      metrics.addMetric(name, MetricUnit.Milliseconds, value);
    },
  };
}

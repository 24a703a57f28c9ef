import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { powertoolsTelemetry } from '../../shared/aws/powertools';

describe('telemetry on Powertools Metrics', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('buffers dimensioned counts under folded names and publishes one EMF line per invocation', () => {
    const lines: string[] = [];
    const metrics = new Metrics({ namespace: 'Hookgate', serviceName: 'hookgate' });
    const capture = (chunk: unknown) => {
      lines.push(String(chunk).trim());
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    const telemetry = powertoolsTelemetry(metrics);

    telemetry.count('Deliveries', 1, { outcome: 'bad-signature' });
    telemetry.count('Triggers', 2);
    telemetry.milliseconds('ProcessingLatency', 12);
    expect(lines).toEqual([]);

    metrics.publishStoredMetrics();
    const published = lines.join('\n');
    expect(lines).toHaveLength(1);
    expect(published).toContain('"DeliveriesBadSignature":1');
    expect(published).toContain('"Triggers":2');
    expect(published).toContain('"ProcessingLatency":12');
  });
});

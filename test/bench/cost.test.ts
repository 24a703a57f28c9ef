import { describe, expect, it } from 'vitest';
import type { PerDelivery } from '../../bench/lib/calls';
import {
  ASSUMPTIONS,
  type Assumptions,
  billedMs,
  type CostInputs,
  costOfMillionDeliveries,
  cpuShare,
} from '../../bench/lib/cost';
import { costTable } from '../../bench/lib/report';
import { PRICES, PRICES_AS_OF, unitPrice } from '../../bench/prices';

const perDelivery = (fields: Partial<PerDelivery>): PerDelivery => ({
  deliveries: 1,
  calls: 0,
  byService: {},
  readUnits: 0,
  writeUnits: 0,
  indexWriteUnits: 0,
  sqsRequests: 0,
  byOperation: {},
  ...fields,
});

// Simple assumptions, so every figure below can be worked out by hand.
const SIMPLE: Assumptions = {
  roundTripMs: { DynamoDB: 5, SQS: 10, SecretsManager: 20 },
  fullVcpuMemoryMb: 2048,
  processorBatchSize: 1,
  eventSourceRequestsPerBatch: 2,
  consumerRequestsPerTrigger: 2,
  secretRefreshes: { warmInstances: 1, integrations: 1, cacheMinutes: 60, monthDays: 10 },
};

// Ten deliveries: eight reach the processor, which sends four triggers.
const inputs: CostInputs = {
  deliveries: 10,
  processed: 8,
  triggers: 4,
  webhook: perDelivery({
    calls: 2,
    byService: { DynamoDB: 1, SQS: 1 },
    writeUnits: 3,
    indexWriteUnits: 1,
    sqsRequests: 0.8,
  }),
  processor: perDelivery({
    calls: 6,
    byService: { DynamoDB: 5, SQS: 0.5, SecretsManager: 0.5 },
    readUnits: 4,
    writeUnits: 6,
    indexWriteUnits: 2,
    sqsRequests: 0.5,
  }),
  invocations: {
    // 1 ms of CPU at half a vCPU is 2 ms, plus 5 + 10 ms of round trips: 17 ms; then 18.5 → 19 ms.
    webhook: [
      { cpuUs: 1000, calls: { DynamoDB: 1, SQS: 1 } },
      { cpuUs: 1750, calls: { DynamoDB: 1, SQS: 1 } },
    ],
    // 3 ms of CPU at a whole vCPU (2048 MB here), plus 4 × 5 + 10 ms of round trips: 33 ms.
    processor: [{ cpuUs: 3000, calls: { DynamoDB: 4, SQS: 1 } }],
  },
  memoryMb: { webhook: 1024, processor: 2048 },
};

const line = (model: ReturnType<typeof costOfMillionDeliveries>, prefix: string) =>
  model.lines.find((candidate) => `${candidate.service} ${candidate.item}`.startsWith(prefix));

describe('cost model', () => {
  it('bills an invocation its CPU stretched by the CPU share, plus a round trip per call, rounded up to the ms', () => {
    expect(cpuShare(1024, SIMPLE)).toBe(0.5);
    expect(cpuShare(4096, SIMPLE)).toBe(1);
    expect(billedMs({ cpuUs: 1000, calls: { DynamoDB: 1, SQS: 1 } }, 1024, SIMPLE)).toBe(17);
    expect(billedMs({ cpuUs: 1750, calls: { DynamoDB: 1, SQS: 1 } }, 1024, SIMPLE)).toBe(19);
    expect(billedMs({ cpuUs: 10, calls: {} }, 4096, SIMPLE)).toBe(1);
  });

  it('prices each line from the counts per delivery, scaled to a million deliveries', () => {
    const model = costOfMillionDeliveries(inputs, SIMPLE);
    const usd = (prefix: string) => line(model, prefix)?.usd;
    const M = 1_000_000;
    expect(usd('API Gateway')).toBeCloseTo(1.0, 10);
    expect(usd('Lambda webhook requests')).toBeCloseTo(0.2, 10);
    // Mean billed 18 ms at 1 GB for a million invocations: 18,000 GB-s.
    expect(line(model, 'Lambda webhook duration')?.quantity).toBeCloseTo(18_000, 6);
    expect(usd('Lambda webhook duration')).toBeCloseTo(18_000 * 0.0000133334, 10);
    // 800,000 invocations of 33 ms at 2 GB.
    expect(line(model, 'Lambda processor requests')?.quantity).toBeCloseTo(0.8 * M, 6);
    expect(line(model, 'Lambda processor duration')?.quantity).toBeCloseTo(0.8 * M * 2 * 0.033, 6);
    expect(usd('DynamoDB webhook writes')).toBeCloseTo(4 * 0.625, 10);
    expect(usd('DynamoDB processor writes')).toBeCloseTo(0.8 * 8 * 0.625, 10);
    expect(usd('DynamoDB processor reads')).toBeCloseTo(0.8 * 4 * 0.125, 10);
    expect(line(model, 'SQS FIFO deliveries.fifo SendMessage')?.quantity).toBeCloseTo(0.8 * M, 6);
    expect(line(model, 'SQS FIFO deliveries.fifo receive')?.quantity).toBeCloseTo(1.6 * M, 6);
    expect(line(model, 'SQS FIFO triggers.fifo SendMessage')?.quantity).toBeCloseTo(0.4 * M, 6);
    expect(line(model, 'SQS FIFO triggers.fifo receive')?.quantity).toBeCloseTo(0.8 * M, 6);
    expect(line(model, 'Secrets Manager GetSecretValue')?.quantity).toBeCloseTo(0.4 * M, 6);
    // One instance, one integration, a refresh an hour for ten days.
    expect(line(model, 'Secrets Manager cache refreshes')?.quantity).toBe(240);
    expect(model.billedMs).toEqual({ webhook: 18, processor: 33 });
  });

  it('adds the lines up to the total and to each service', () => {
    const model = costOfMillionDeliveries(inputs, SIMPLE);
    const sum = model.lines.reduce((total, one) => total + one.usd, 0);
    expect(model.total).toBeCloseTo(sum, 10);
    expect(Object.values(model.byService).reduce((a, b) => a + b, 0)).toBeCloseTo(sum, 10);
    expect(model.byService['SQS FIFO']).toBeCloseTo((0.8 + 1.6 + 0.4 + 0.8) * 0.5, 10);
  });

  it('says which lines are counted and which modelled, and prints every line and the total', () => {
    const model = costOfMillionDeliveries(inputs, ASSUMPTIONS);
    expect(line(model, 'DynamoDB webhook writes')?.basis).toBe('measured');
    expect(line(model, 'Lambda webhook duration')?.basis).toBe('modelled');
    const table = costTable(model);
    for (const one of model.lines) expect(table).toContain(one.item);
    expect(table).toContain(`$${model.total.toFixed(2)}`);
    expect(table).toContain(PRICES_AS_OF);
  });

  it('refuses to model nothing', () => {
    expect(() => costOfMillionDeliveries({ ...inputs, deliveries: 0 }, SIMPLE)).toThrow(RangeError);
  });
});

describe('price table', () => {
  it('names a dated AWS source for every price, and the figures the issue gives', () => {
    expect(PRICES_AS_OF).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const price of Object.values(PRICES)) {
      expect(price.source).toMatch(/^https:\/\/aws\.amazon\.com\//);
      expect(price.checkedAgainst.length).toBeGreaterThan(0);
    }
    expect(unitPrice(PRICES.apiGatewayHttpRequest) * 1e6).toBeCloseTo(1.0, 10);
    expect(unitPrice(PRICES.lambdaArmGbSecond)).toBe(0.0000133334);
    expect(unitPrice(PRICES.lambdaRequest) * 1e6).toBeCloseTo(0.2, 10);
    expect(unitPrice(PRICES.dynamoWriteRequestUnit) * 1e6).toBeCloseTo(0.625, 10);
    expect(unitPrice(PRICES.dynamoReadRequestUnit) * 1e6).toBeCloseTo(0.125, 10);
    expect(unitPrice(PRICES.sqsFifoRequest) * 1e6).toBeCloseTo(0.5, 10);
    expect(unitPrice(PRICES.secretsManagerApiCall) * 1e4).toBeCloseTo(0.05, 10);
  });
});

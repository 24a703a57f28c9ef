// The cost of one million deliveries on AWS, from the accounting pass (calls, units, CPU per
// invocation) of warm-worker.ts, the functions' configured memory and the price table
// (bench/prices.ts). What the fake cannot see (the time AWS takes to answer, the queue polling
// Lambda does, the consumer of triggers.fifo, cache refreshes over a month) is modelled with the
// assumptions below, printed beside the figure.
import { PRICES, unitPrice } from '../prices';
import type { Caller, PerDelivery } from './calls';

/** One invocation: its CPU (µs) and its AWS calls by service. */
export interface Invocation {
  cpuUs: number;
  calls: Record<string, number>;
}

export interface CostInputs {
  /** Webhook deliveries of the accounting pass (retries included: each is a request). */
  deliveries: number;
  /** Of those, the ones the processor handled. */
  processed: number;
  /** Triggers the processor sent. */
  triggers: number;
  /** Per webhook delivery, and per delivery the processor handled. */
  webhook: PerDelivery;
  processor: PerDelivery;
  invocations: Record<Caller, readonly Invocation[]>;
  memoryMb: Record<Caller, number>;
}

export interface Assumptions {
  /** Added to the measured CPU per call, by service: the round trip to AWS inside the region. */
  roundTripMs: Record<string, number>;
  /** Lambda gives a whole vCPU at this memory and a proportional share below it. */
  fullVcpuMemoryMb: number;
  /** Deliveries per processor invocation (the event source's batch; 1 at low traffic). */
  processorBatchSize: number;
  /** ReceiveMessage and DeleteMessageBatch per batch, by the processor's event source. */
  eventSourceRequestsPerBatch: number;
  /** ReceiveMessage and DeleteMessage per trigger, by the consumer of triggers.fifo. */
  consumerRequestsPerTrigger: number;
  /** Secret cache refreshes: one GetSecretValue per warm instance, integration and cache lifetime. */
  secretRefreshes: { warmInstances: number; integrations: number; cacheMinutes: number; monthDays: number };
}

export const ASSUMPTIONS: Assumptions = {
  roundTripMs: { DynamoDB: 5, SQS: 10, SecretsManager: 20 },
  fullVcpuMemoryMb: 1769,
  processorBatchSize: 1,
  eventSourceRequestsPerBatch: 2,
  consumerRequestsPerTrigger: 2,
  // Webhook and processor (credentials), two warm instances each; webhook secrets are cached
  // 5 minutes (functions/webhook/app.ts), Bitbucket credentials too (repository-lookup.ts).
  secretRefreshes: { warmInstances: 4, integrations: 1, cacheMinutes: 5, monthDays: 30 },
};

export interface CostLine {
  service: string;
  item: string;
  /** Units per million deliveries, in `unit`. */
  quantity: number;
  unit: string;
  usd: number;
  /** `measured`: counted by the bench; `modelled`: from the assumptions. */
  basis: 'measured' | 'modelled';
}

export interface CostModel {
  deliveries: number;
  /** US dollars per million deliveries. */
  total: number;
  lines: CostLine[];
  byService: Record<string, number>;
  /** Mean billed milliseconds per invocation, by function. */
  billedMs: Record<Caller, number>;
}

const MILLION = 1_000_000;

/** Lambda's CPU share at `memoryMb`: 1 at or above a whole vCPU. */
export function cpuShare(memoryMb: number, assumptions: Assumptions = ASSUMPTIONS): number {
  return Math.min(1, memoryMb / assumptions.fullVcpuMemoryMb);
}

/**
 * Billed duration of one invocation: its CPU stretched by Lambda's CPU share, plus a round trip
 * per AWS call, rounded up to the millisecond as Lambda bills.
 */
export function billedMs(
  invocation: Invocation,
  memoryMb: number,
  assumptions: Assumptions = ASSUMPTIONS,
): number {
  let waiting = 0;
  for (const [service, calls] of Object.entries(invocation.calls)) {
    waiting += calls * (assumptions.roundTripMs[service] ?? 0);
  }
  return Math.max(1, Math.ceil(invocation.cpuUs / 1000 / cpuShare(memoryMb, assumptions) + waiting));
}

function meanBilledMs(
  invocations: readonly Invocation[],
  memoryMb: number,
  assumptions: Assumptions,
): number {
  if (invocations.length === 0) return 0;
  return invocations.reduce((sum, one) => sum + billedMs(one, memoryMb, assumptions), 0) / invocations.length;
}

/** The cost of one million deliveries in the accounting pass's mix, line by line. */
export function costOfMillionDeliveries(
  inputs: CostInputs,
  assumptions: Assumptions = ASSUMPTIONS,
): CostModel {
  if (inputs.deliveries <= 0) throw new RangeError('the cost model needs at least one delivery');
  const processedShare = inputs.processed / inputs.deliveries;
  const perMillion = {
    webhook: MILLION,
    processor: MILLION * processedShare,
    triggers: (MILLION * inputs.triggers) / inputs.deliveries,
  };
  const lines: CostLine[] = [];
  const add = (line: Omit<CostLine, 'usd'>, price: { usd: number; per: number }) =>
    lines.push({ ...line, usd: line.quantity * unitPrice(price) });

  add(
    {
      service: 'API Gateway',
      item: 'HTTP API requests',
      quantity: MILLION,
      unit: 'requests',
      basis: 'measured',
    },
    PRICES.apiGatewayHttpRequest,
  );
  const billed: Record<Caller, number> = { webhook: 0, processor: 0 };
  for (const fn of ['webhook', 'processor'] as const) {
    const memoryMb = inputs.memoryMb[fn];
    billed[fn] = meanBilledMs(inputs.invocations[fn], memoryMb, assumptions);
    const invocations = fn === 'processor' ? perMillion.processor / assumptions.processorBatchSize : MILLION;
    add(
      {
        service: 'Lambda',
        item: `${fn} requests`,
        quantity: invocations,
        unit: 'requests',
        basis: 'measured',
      },
      PRICES.lambdaRequest,
    );
    add(
      {
        service: 'Lambda',
        item: `${fn} duration (${memoryMb} MB × ${billed[fn].toFixed(1)} ms billed)`,
        quantity: (perMillion[fn] * (memoryMb / 1024) * billed[fn]) / 1000,
        unit: 'GB-s',
        basis: 'modelled',
      },
      PRICES.lambdaArmGbSecond,
    );
  }
  for (const fn of ['webhook', 'processor'] as const) {
    const calls = inputs[fn];
    add(
      {
        service: 'DynamoDB',
        item: `${fn} writes (table ${calls.writeUnits.toFixed(2)} + indexes ${calls.indexWriteUnits.toFixed(2)} WRU each)`,
        quantity: perMillion[fn] * (calls.writeUnits + calls.indexWriteUnits),
        unit: 'WRU',
        basis: 'measured',
      },
      PRICES.dynamoWriteRequestUnit,
    );
    add(
      {
        service: 'DynamoDB',
        item: `${fn} reads (${calls.readUnits.toFixed(2)} RRU each)`,
        quantity: perMillion[fn] * calls.readUnits,
        unit: 'RRU',
        basis: 'measured',
      },
      PRICES.dynamoReadRequestUnit,
    );
  }
  add(
    {
      service: 'SQS FIFO',
      item: 'deliveries.fifo SendMessage (webhook)',
      quantity: perMillion.webhook * inputs.webhook.sqsRequests,
      unit: 'requests',
      basis: 'measured',
    },
    PRICES.sqsFifoRequest,
  );
  add(
    {
      service: 'SQS FIFO',
      item: `deliveries.fifo receive + delete (event source, batch of ${assumptions.processorBatchSize})`,
      quantity:
        (perMillion.processor / assumptions.processorBatchSize) * assumptions.eventSourceRequestsPerBatch,
      unit: 'requests',
      basis: 'modelled',
    },
    PRICES.sqsFifoRequest,
  );
  add(
    {
      service: 'SQS FIFO',
      item: 'triggers.fifo SendMessage (processor)',
      quantity: perMillion.processor * inputs.processor.sqsRequests,
      unit: 'requests',
      basis: 'measured',
    },
    PRICES.sqsFifoRequest,
  );
  add(
    {
      service: 'SQS FIFO',
      item: 'triggers.fifo receive + delete (consumer)',
      quantity: perMillion.triggers * assumptions.consumerRequestsPerTrigger,
      unit: 'requests',
      basis: 'modelled',
    },
    PRICES.sqsFifoRequest,
  );
  const secretCalls = (calls: PerDelivery) => calls.byService.SecretsManager ?? 0;
  add(
    {
      service: 'Secrets Manager',
      item: 'GetSecretValue past the caches',
      quantity:
        perMillion.webhook * secretCalls(inputs.webhook) +
        perMillion.processor * secretCalls(inputs.processor),
      unit: 'calls',
      basis: 'measured',
    },
    PRICES.secretsManagerApiCall,
  );
  const refresh = assumptions.secretRefreshes;
  add(
    {
      service: 'Secrets Manager',
      item: `cache refreshes (${refresh.warmInstances} warm instances × ${refresh.integrations} integration, every ${refresh.cacheMinutes} min, ${refresh.monthDays} days)`,
      quantity:
        refresh.warmInstances * refresh.integrations * ((refresh.monthDays * 24 * 60) / refresh.cacheMinutes),
      unit: 'calls',
      basis: 'modelled',
    },
    PRICES.secretsManagerApiCall,
  );
  const byService: Record<string, number> = {};
  for (const line of lines) byService[line.service] = (byService[line.service] ?? 0) + line.usd;
  return {
    deliveries: inputs.deliveries,
    total: lines.reduce((sum, line) => sum + line.usd, 0),
    lines,
    byService,
    billedMs: billed,
  };
}

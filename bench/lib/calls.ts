// The call accounting: every AWS call the fake answered, by the function that made it and by
// operation, with the DynamoDB units and SQS requests AWS would bill for it.
import { totalWriteUnits } from './capacity';
import type { MeteredCall } from './fake-aws';

export type Caller = 'webhook' | 'processor';

/** Totals of one operation (`DynamoDB.PutItem`, `SQS.SendMessage`, …) for one function. */
export interface OperationTotals {
  calls: number;
  /** Calls answered with an error (a failed condition is one). */
  refused: number;
  readUnits: number;
  /** Table write units. */
  writeUnits: number;
  /** Write units of index entries, all indexes together. */
  indexWriteUnits: number;
  sqsRequests: number;
}

/** One function's calls per delivery, by operation and in total. */
export interface PerDelivery {
  deliveries: number;
  calls: number;
  byService: Record<string, number>;
  readUnits: number;
  writeUnits: number;
  indexWriteUnits: number;
  sqsRequests: number;
  byOperation: Record<string, OperationTotals>;
}

function emptyTotals(): OperationTotals {
  return { calls: 0, refused: 0, readUnits: 0, writeUnits: 0, indexWriteUnits: 0, sqsRequests: 0 };
}

/** Adds up metered calls per function and operation. */
export class CallLedger {
  private readonly totals = new Map<Caller, Map<string, OperationTotals>>();

  record(caller: Caller, call: MeteredCall): void {
    let byOperation = this.totals.get(caller);
    if (!byOperation) {
      byOperation = new Map();
      this.totals.set(caller, byOperation);
    }
    const name = `${call.service}.${call.operation}`;
    const totals = byOperation.get(name) ?? emptyTotals();
    totals.calls += 1;
    if (call.status !== 200) totals.refused += 1;
    totals.readUnits += call.units.read;
    totals.writeUnits += call.units.write;
    totals.indexWriteUnits += totalWriteUnits(call.units) - call.units.write;
    totals.sqsRequests += call.sqsRequests;
    byOperation.set(name, totals);
  }

  /** Everything `caller` did, divided by `deliveries` (0 deliveries: all zeros). */
  perDelivery(caller: Caller, deliveries: number): PerDelivery {
    const per = (value: number) => (deliveries > 0 ? value / deliveries : 0);
    const byOperation: Record<string, OperationTotals> = {};
    const sum = emptyTotals();
    const byService: Record<string, number> = {};
    for (const [name, totals] of [...(this.totals.get(caller) ?? new Map())].sort(([a], [b]) =>
      a.localeCompare(b),
    )) {
      byOperation[name] = {
        calls: per(totals.calls),
        refused: per(totals.refused),
        readUnits: per(totals.readUnits),
        writeUnits: per(totals.writeUnits),
        indexWriteUnits: per(totals.indexWriteUnits),
        sqsRequests: per(totals.sqsRequests),
      };
      for (const key of Object.keys(sum) as (keyof OperationTotals)[]) sum[key] += totals[key];
      const service = name.split('.')[0] ?? name;
      byService[service] = (byService[service] ?? 0) + per(totals.calls);
    }
    return {
      deliveries,
      calls: per(sum.calls),
      byService,
      readUnits: per(sum.readUnits),
      writeUnits: per(sum.writeUnits),
      indexWriteUnits: per(sum.indexWriteUnits),
      sqsRequests: per(sum.sqsRequests),
      byOperation,
    };
  }
}

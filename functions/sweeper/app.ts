import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { Deadline, withDeadline } from '../../shared/deadline';
import { type SweepCounts, type SweepDeps, sweepDeliveries } from '../../shared/ingest/sweep-deliveries';

/** Kept back from the invocation's time: the last checkpoint write and the metrics flush. */
export const SWEEP_RESERVE_MS = 3_000;

export type SweeperDeps = Omit<SweepDeps, 'deadline'>;

/** The scheduled sweep (EventBridge, every five minutes): one bounded pass, inside the invocation's budget. */
export function makeHandler(deps: SweeperDeps) {
  return async (
    _event: unknown,
    context: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<SweepCounts> => {
    const deadline = Deadline.fromLambdaContext(context, SWEEP_RESERVE_MS);
    return withDeadline(deadline, () => sweepDeliveries({ ...deps, deadline }));
  };
}

export function createSweeperHandler(deps: SweeperDeps) {
  return middy(makeHandler(deps));
}

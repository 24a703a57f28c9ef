import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The time one invocation may still spend (DESIGN §11). A function takes it from
 * `context.getRemainingTimeInMillis()` less a reserve for undoing and answering, and runs its
 * work inside `withDeadline`; every adapter that calls AWS or Bitbucket reads `currentDeadline()`
 * and sizes each attempt's timeout and its retries to fit.
 */
export class Deadline {
  private constructor(
    /** Epoch milliseconds at which the budget is spent; Infinity for none. */
    readonly at: number,
    private readonly clock: () => number,
  ) {}

  /**
   * The budget of a Lambda invocation: what the context says remains, less `reserveMs`. A context
   * without a clock (a container's runtime, a test's stub) gives none: only per-attempt limits apply.
   */
  static fromLambdaContext(
    context: { getRemainingTimeInMillis?: () => number },
    reserveMs: number,
    clock: () => number = Date.now,
  ): Deadline {
    if (!context.getRemainingTimeInMillis) return Deadline.none(clock);
    return new Deadline(clock() + Math.max(0, context.getRemainingTimeInMillis() - reserveMs), clock);
  }

  /** A budget that ends `ms` from now. */
  static in(ms: number, clock: () => number = Date.now): Deadline {
    return new Deadline(clock() + ms, clock);
  }

  /** No budget: outside an invocation (CLI, scripts) only the per-attempt timeouts apply. */
  static none(clock: () => number = Date.now): Deadline {
    return new Deadline(Number.POSITIVE_INFINITY, clock);
  }

  /** Milliseconds left, never negative. */
  remainingMs(): number {
    return Math.max(0, this.at - this.clock());
  }

  /** Whether less than `ms` is left. */
  shorterThan(ms: number): boolean {
    return this.remainingMs() < ms;
  }

  /** The timeout for one attempt: the adapter's own limit, cut to what is left. */
  attemptTimeoutMs(limitMs: number): number {
    return Math.min(limitMs, this.remainingMs());
  }
}

const current = new AsyncLocalStorage<Deadline>();

/** Runs `work` with `deadline` as the budget of every call it makes, however deep. */
export function withDeadline<T>(deadline: Deadline, work: () => Promise<T>): Promise<T> {
  return current.run(deadline, work);
}

/** The budget of the invocation this code runs in, or none. */
export function currentDeadline(): Deadline {
  return current.getStore() ?? Deadline.none();
}

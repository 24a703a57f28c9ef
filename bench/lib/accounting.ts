import { gzipSync } from 'node:zlib';
import { projectIdOf } from '../../local/auto-connect';
import { platformOf } from '../../local/local-store';
import type { Provider } from '../../shared/domain/events';
import { evaluateDelivery } from '../../shared/evaluate';

/** A delivery the local stack accepted, as it was sent. */
export interface AcceptedDelivery {
  deliveryId: string;
  eventKey: string;
  body: Buffer;
}

export interface RuleSettings {
  /** The local stack's integration (`local`): project ids are scoped to it. */
  integration: string;
  /** `--default-branch` of the stack: what automatically connected projects get. */
  defaultBranch: string;
}

/**
 * The trigger ids the rules give for `deliveries`, deduplicated, computed the way the local
 * stack decides: platform as LocalStore reads it, project id as auto-connect makes it, default
 * settings, the stack's default branch. Only events with a repository id can reach a project;
 * a payload the normaliser refuses gives none. Keyed by trigger id, with the deliveries giving it.
 */
export function expectedTriggers(
  deliveries: Iterable<AcceptedDelivery>,
  settings: RuleSettings,
): Map<string, string[]> {
  const expected = new Map<string, string[]>();
  for (const delivery of deliveries) {
    for (const triggerId of expectedTriggerIds(delivery, settings)) {
      const ids = expected.get(triggerId);
      if (ids) ids.push(delivery.deliveryId);
      else expected.set(triggerId, [delivery.deliveryId]);
    }
  }
  return expected;
}

/** The trigger ids the rules give for one delivery (see expectedTriggers). */
export function expectedTriggerIds(delivery: AcceptedDelivery, settings: RuleSettings): string[] {
  let payload: unknown;
  try {
    payload = JSON.parse(delivery.body.toString('utf8'));
  } catch {
    return [];
  }
  const provider: Provider = platformOf({
    integration: settings.integration,
    deliveryId: delivery.deliveryId,
    provider: 'bitbucket-cloud',
    eventKey: delivery.eventKey,
    headers: {},
    bodyGzip: gzipSync(delivery.body),
    receivedAt: '',
  });
  const input = { eventKey: delivery.eventKey, payload, provider, defaultBranch: settings.defaultBranch };
  let repositoryId: string | undefined;
  try {
    const { event } = evaluateDelivery(input);
    repositoryId = ('repository' in event ? event.repository?.id : undefined) ?? undefined;
  } catch {
    return [];
  }
  if (!repositoryId) return [];
  const { decisions } = evaluateDelivery({
    ...input,
    projectId: projectIdOf(settings.integration, repositoryId),
  });
  return decisions.flatMap((decision) =>
    decision.action === 'trigger' && decision.triggerId ? [decision.triggerId] : [],
  );
}

/** What the stack recorded, read after it stopped. */
export interface Recorded {
  /** Decision sets per delivery id (the `delivery <id>` lines the stack prints as it stores them). */
  decisionSets: ReadonlyMap<string, number>;
  /** Status of each delivery item in the table. */
  storedStatus: ReadonlyMap<string, string>;
  /** The trigger id of every line of triggers.ndjson, in order. */
  writtenTriggers: readonly string[];
  /** Delivery ids still on `deliveries.fifo` when the stack stopped (its journal keeps them). */
  pendingDeliveries?: ReadonlySet<string>;
  /** Trigger ids still on `triggers.fifo` when the stack stopped. */
  pendingTriggers?: ReadonlySet<string>;
}

export interface Accounting {
  accepted: number;
  /** Accepted deliveries with a stored decision set. */
  decided: number;
  /** Accepted deliveries not yet decided but still queued (a run stopped before the queue drained). */
  pending: number;
  /** Expected triggers not yet written but still queued. */
  pendingTriggers: number;
  expectedTriggers: number;
  writtenTriggers: number;
  /** Accepted deliveries with no decision set (printed and stored) and not on the queue either. */
  lostDeliveries: string[];
  /** Accepted deliveries whose decision set was stored more than once. */
  doubledDeliveries: string[];
  /** Decided but never marked processed (their triggers show up as lost if any are missing). */
  unfinishedDeliveries: string[];
  lostTriggers: string[];
  /** Trigger ids written more than once (each extra copy counts). */
  doubledTriggers: string[];
  /** Written triggers the rules do not give for any accepted delivery. */
  unexpectedTriggers: string[];
  lost: number;
  doubled: number;
}

const DECIDED = new Set(['decided', 'processed', 'invalid']);

/** Accepted deliveries that have a stored decision set: the ones whose triggers are due. */
export function decidedDeliveries(
  accepted: Iterable<string>,
  recorded: Pick<Recorded, 'storedStatus'>,
): string[] {
  return [...accepted].filter((id) => DECIDED.has(recorded.storedStatus.get(id) ?? ''));
}

/**
 * Checks that every accepted delivery has exactly one decision set (printed once, stored), or is
 * still on the queue, and that the triggers written are the ones expected of the decided
 * deliveries (`expected`), each once, or still on the queue.
 */
export function account(
  accepted: Iterable<string>,
  expected: ReadonlySet<string>,
  recorded: Recorded,
): Accounting {
  const acceptedIds = new Set(accepted);
  const lostDeliveries: string[] = [];
  const doubledDeliveries: string[] = [];
  const unfinishedDeliveries: string[] = [];
  let decided = 0;
  let pending = 0;
  for (const id of acceptedIds) {
    const sets = recorded.decisionSets.get(id) ?? 0;
    const status = recorded.storedStatus.get(id) ?? '';
    if (sets > 0 && DECIDED.has(status)) {
      decided += 1;
      if (status === 'decided') unfinishedDeliveries.push(id);
    } else if (sets === 0 && status === 'received' && recorded.pendingDeliveries?.has(id)) {
      pending += 1;
    } else {
      lostDeliveries.push(id);
    }
    if (sets > 1) doubledDeliveries.push(id);
  }
  const counts = new Map<string, number>();
  for (const id of recorded.writtenTriggers) counts.set(id, (counts.get(id) ?? 0) + 1);
  const notWritten = [...expected].filter((id) => !counts.has(id));
  const lostTriggers = notWritten.filter((id) => !recorded.pendingTriggers?.has(id));
  const doubledTriggers: string[] = [];
  const unexpectedTriggers: string[] = [];
  for (const [id, count] of counts) {
    for (let extra = 1; extra < count; extra++) doubledTriggers.push(id);
    if (!expected.has(id)) unexpectedTriggers.push(id);
  }
  return {
    accepted: acceptedIds.size,
    decided,
    pending,
    pendingTriggers: notWritten.length - lostTriggers.length,
    expectedTriggers: expected.size,
    writtenTriggers: recorded.writtenTriggers.length,
    lostDeliveries,
    doubledDeliveries,
    unfinishedDeliveries,
    lostTriggers,
    doubledTriggers,
    unexpectedTriggers,
    lost: lostDeliveries.length + lostTriggers.length,
    doubled: doubledDeliveries.length + doubledTriggers.length,
  };
}

/** Decision sets per delivery id, from the stack's stdout (`delivery <id>  <event key> …`). */
export function decisionSetsOf(stdout: string): Map<string, number> {
  const sets = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const match = /^delivery (\S+)/.exec(line);
    if (match?.[1]) sets.set(match[1], (sets.get(match[1]) ?? 0) + 1);
  }
  return sets;
}

/** The trigger id of each line of triggers.ndjson; a torn last line is skipped. */
export function triggerIdsOfNdjson(text: string): string[] {
  const ids: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const id = (JSON.parse(line) as { triggerId?: unknown }).triggerId;
      if (typeof id === 'string') ids.push(id);
    } catch {
      // A line cut short by a stop mid-append holds no trigger.
    }
  }
  return ids;
}

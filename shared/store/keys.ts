import type { Provider } from '../domain/events';

// The values every item is stored under: its `pk` and `sk`, and the `gsi1`/`gsi2` keys that list
// it (DESIGN §7). The attribute names and indexes they go into are the table's schema, in
// table.ts; these live beside it rather than in it because table.ts creates the table with the
// DynamoDB SDK, and this module, which imports nothing at run time, is taken by every Lambda
// bundle and by the CDK app's IAM conditions. Changing a key here orphans the items stored under
// the old one: test/unit/keys.test.ts spells each key out.

/**
 * Partition-key prefixes, each ending in `#` so that no prefix starts another item kind's. IAM
 * grants name them (`dynamodb:LeadingKeys`) to confine a function's writes to its kinds of item.
 */
export const PARTITION_PREFIXES = {
  integration: 'INT#',
  project: 'PRJ#',
  repositoryMapping: 'REPO#',
  delivery: 'DLV#',
  trigger: 'TRG#',
  defaultMarker: 'DEFAULT#',
  lease: 'LEASE#',
  sweepCheckpoint: 'SWEEP#',
} as const;

/** The sort key of the item that holds a record itself (an integration, a project, a delivery …). */
export const META = 'META';

/** The item of an integration. */
export function integrationKey(name: string): string {
  return `${PARTITION_PREFIXES.integration}${name}`;
}

/** The item of a project, and the partition of its pull-request items. */
export function projectKey(projectId: string): string {
  return `${PARTITION_PREFIXES.project}${projectId}`;
}

/** The item mapping a repository of an integration to its project. */
export function repositoryMappingKey(integration: string, repositoryId: string): string {
  return `${PARTITION_PREFIXES.repositoryMapping}${integration}#${repositoryId}`;
}

/** The item of a delivery, and the partition of its decisions parts. */
export function deliveryKey(integration: string, deliveryId: string): string {
  return `${PARTITION_PREFIXES.delivery}${integration}#${deliveryId}`;
}

/** The claim item of a trigger. */
export function triggerKey(triggerId: string): string {
  return `${PARTITION_PREFIXES.trigger}${triggerId}`;
}

/** The marker naming a provider's default integration. */
export function defaultMarkerKey(provider: Provider): string {
  return `${PARTITION_PREFIXES.defaultMarker}${provider}`;
}

/** The item of a lease on `name`; the admin API leases an integration under its `integrationKey`. */
export function leaseKey(name: string): string {
  return `${PARTITION_PREFIXES.lease}${name}`;
}

/** The sweeper's checkpoint item of an integration. */
export function sweepCheckpointKey(integration: string): string {
  return `${PARTITION_PREFIXES.sweepCheckpoint}${integration}`;
}

/** Sort-key prefix of the items listing a project's open pull requests (queried with `begins_with`). */
export const OPEN_PULL_REQUEST_PREFIX = 'OPEN#';

/** The sort key, in its project's partition, of a pull request's item. */
export function pullRequestSortKey(pullRequestId: number): string {
  return `PR#${pullRequestId}`;
}

/** The sort key, in its project's partition, of the item saying a pull request is open. */
export function openPullRequestSortKey(sourceBranch: string, pullRequestId: number): string {
  return `${OPEN_PULL_REQUEST_PREFIX}${sourceBranch}#${pullRequestId}`;
}

/** Sort-key prefix of the parts holding a delivery's decisions, in the delivery's partition. */
export const DECISIONS_PART_PREFIX = 'DECISIONS#';

/** The sort key of part `index` (from 0) of a delivery's decisions. */
export function decisionsPartSortKey(index: number): string {
  return `${DECISIONS_PART_PREFIX}${index}`;
}

/** The index of the decisions part a sort key names; NaN when it names none. */
export function decisionsPartIndexOf(sortKey: string): number {
  return sortKey.startsWith(DECISIONS_PART_PREFIX)
    ? Number(sortKey.slice(DECISIONS_PART_PREFIX.length))
    : NaN;
}

/** gsi1 partition listing every integration; the sort key is the integration's name. */
export const ALL_INTEGRATIONS_KEY = 'INTS';

/** gsi1 partition listing an integration's projects; the sort key is the project's id. */
export function projectsByIntegrationKey(integration: string): string {
  return `PRJS#${integration}`;
}

/** gsi1 partition listing a project's decided deliveries by `receivedSortKey`. */
export function deliveriesByProjectKey(projectId: string): string {
  return `DLVP#${projectId}`;
}

/** gsi2 partition listing an integration's deliveries by `receivedSortKey`. */
export function deliveriesByIntegrationKey(integration: string): string {
  return `DLVI#${integration}`;
}

/** A delivery's sort key in both delivery listings: by receive time, then id. */
export function receivedSortKey(receivedAt: string, deliveryId: string): string {
  return `${receivedAt}#${deliveryId}`;
}

/** The least `receivedSortKey` of deliveries received at `receivedAt`: the time alone sorts first. */
export function receivedSortKeyFrom(receivedAt: string): string {
  return receivedAt;
}

/** The greatest `receivedSortKey` of deliveries received at `receivedAt`: `$` sorts after `#`. */
export function receivedSortKeyThrough(receivedAt: string): string {
  return `${receivedAt}$`;
}

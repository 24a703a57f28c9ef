/**
 * The table's key schema (DESIGN §7). Every key attribute is a string; the values items are
 * stored under are built in keys.ts. The infrastructure and the local stack both build the table
 * from this, so the adapter and the table cannot drift apart.
 */
export const TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: [
    /**
     * Deliveries by project and time (`deliveriesByProjectKey` / `receivedSortKey`); also every
     * integration, and the projects of each (`ALL_INTEGRATIONS_KEY`, `projectsByIntegrationKey`).
     */
    { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    /** Deliveries by integration and time (`deliveriesByIntegrationKey` / `receivedSortKey`). */
    { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  ],
  /** Epoch seconds. Set by the infrastructure on AWS; the local engine has no TTL. */
  timeToLiveAttribute: 'expiresAt',
} as const;

/**
 * What both indexes copy of an item besides its keys: a delivery's summary, what the sweeper
 * and the admin listings read of it. Never the gzipped body, the headers or the decisions (an
 * index entry is rewritten on every status change); listings fetch those, and the records of
 * integrations and projects, from the table (BatchGetItem).
 */
export const INDEX_PROJECTED_ATTRIBUTES = [
  'integration',
  'deliveryId',
  'provider',
  'eventKey',
  'receivedAt',
  'status',
  'repositoryId',
  'projectId',
  'replayOf',
] as const;

import { gunzipSync, gzipSync } from 'node:zlib';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Decision } from '../domain/decision';
import { DependencyError, HookgateError, UnstorableValueError } from '../errors';
import { ALL_INTEGRATIONS_KEY, integrationKey, META, projectKey, projectsByIntegrationKey } from './keys';
import type { DeliveryRecord, IntegrationRecord, ProjectRecord } from './store';

// The table's item layout (DESIGN §7; the keys in keys.ts) and hand-written marshalling, shared
// by the ingest store and the admin store. Hand-written to keep the Lambda bundles small.

export type Item = Record<string, AttributeValue>;

export const DAY_SECONDS = 86_400;
/** Table attributes that are keys or bookkeeping, never part of a record. */
const INTERNAL = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'expiresAt', 'acceptToken']);
// Sparse entries in gsi1 besides deliveries-by-project: every integration under one partition,
// and the projects of each integration under theirs, so the admin API lists them without a Scan.
export function integrationItem(record: IntegrationRecord): Item {
  return {
    ...toItem(record),
    ...key(integrationKey(record.name)),
    gsi1pk: toAttr(ALL_INTEGRATIONS_KEY),
    gsi1sk: toAttr(record.name),
  };
}

export function projectItem(project: ProjectRecord): Item {
  return {
    ...toItem(project),
    ...key(projectKey(project.id)),
    gsi1pk: toAttr(projectsByIntegrationKey(project.integration)),
    gsi1sk: toAttr(project.id),
  };
}

/**
 * Decisions are kept gzipped in a binary attribute (`decisionsGzip`): a push of 1,500 refs has
 * 518 KB of decisions JSON, 66 KB gzipped. Gzipped decisions larger than this go to part items of
 * their own in the delivery's partition (`decisionsParts` counts them, `decisionsPartSortKey` places
 * them), so the delivery item keeps room for its gzipped body within DynamoDB's 400 KB.
 */
export const INLINE_DECISIONS_MAX_BYTES = 96 * 1024;
/** The bytes of gzipped decisions one part item holds, well inside 400 KB with its keys. */
export const DECISIONS_PART_BYTES = 320 * 1024;

/** Decisions as they are stored: gzipped JSON. */
export function encodeDecisions(decisions: readonly Decision[]): Uint8Array {
  return new Uint8Array(gzipSync(JSON.stringify(decisions)));
}

export function decodeDecisions(gzip: Uint8Array): Decision[] {
  return JSON.parse(gunzipSync(gzip).toString('utf8')) as Decision[];
}

/**
 * The delivery an item holds. Decisions are read from `decisionsGzip`, or from the JSON string
 * older items hold; decisions kept in parts are not in the item (see `decisionPartsOf`).
 */
export function deliveryOf(item: Item): DeliveryRecord {
  const record = recordOf<Record<string, unknown>>(item) as Record<string, unknown>;
  if (record.decisionsGzip instanceof Uint8Array) record.decisions = decodeDecisions(record.decisionsGzip);
  else if (typeof record.decisions === 'string')
    record.decisions = JSON.parse(record.decisions) as Decision[];
  delete record.decisionsGzip;
  delete record.decisionsParts;
  return record as unknown as DeliveryRecord;
}

/** How many part items hold the decisions of a delivery item; 0 when none do. */
export function decisionPartsOf(item: Item): number {
  return Number(item.decisionsParts?.N ?? 0);
}

/** `#name` placeholders of an expression, mapped to the attribute names; undefined when none. */
export function namesOf(expression: string): Record<string, string> | undefined {
  const names: Record<string, string> = {};
  for (const match of expression.matchAll(/#(\w+)/g)) names[match[0]] = match[1] as string;
  return Object.keys(names).length ? names : undefined;
}

export function valuesOf(values: Record<string, unknown>): Item {
  const attrs: Item = {};
  for (const [name, value] of Object.entries(values)) attrs[name] = toAttr(value);
  return attrs;
}

/** DynamoDB's key limits, in UTF-8 bytes. */
export const MAX_PARTITION_KEY_BYTES = 2048;
export const MAX_SORT_KEY_BYTES = 1024;

/** The table key of an item. Throws UnstorableValueError for a key DynamoDB would refuse. */
export function key(pk: string, sk = META): Item {
  if (Buffer.byteLength(pk) > MAX_PARTITION_KEY_BYTES)
    throw new UnstorableValueError(
      `key ${pk.slice(0, 40)}… is ${Buffer.byteLength(pk)} bytes; DynamoDB allows ${MAX_PARTITION_KEY_BYTES}`,
    );
  if (Buffer.byteLength(sk) > MAX_SORT_KEY_BYTES)
    throw new UnstorableValueError(
      `sort key ${sk.slice(0, 40)}… is ${Buffer.byteLength(sk)} bytes; DynamoDB allows ${MAX_SORT_KEY_BYTES}`,
    );
  return { pk: { S: pk }, sk: { S: sk } };
}

export function epochSeconds(iso: string): number {
  const ms = Date.parse(iso);
  // An unparseable time must not make an item that never expires; count from now instead.
  return Math.floor((Number.isNaN(ms) ? Date.now() : ms) / 1000);
}

/**
 * Waits for a call. DynamoDB's ValidationException (item too large, number out of range, key too
 * long) becomes UnstorableValueError, which no retry fixes; any other failure a DependencyError.
 */
export async function storage<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (cause) {
    throw storageError(cause);
  }
}

/** The typed error a failed storage call stands for (see `storage`). */
export function storageError(cause: unknown): HookgateError {
  if (cause instanceof HookgateError) return cause;
  // The SDK's exception and AwsJsonClient's error carry the same name. Other 400s (throttling,
  // missing table, access denied) may pass once capacity or configuration is back.
  if ((cause as Error | undefined)?.name === 'ValidationException') {
    return new UnstorableValueError(`storage refused the write: ${(cause as Error).message}`, { cause });
  }
  return new DependencyError('storage unavailable', { cause });
}

/** Waits for a conditional write: true when written, false when its condition failed. */
export async function conditional(call: Promise<unknown>): Promise<boolean> {
  try {
    await call;
    return true;
  } catch (cause) {
    // The SDK's ConditionalCheckFailedException and AwsJsonClient's error carry the same name.
    if ((cause as Error | undefined)?.name === 'ConditionalCheckFailedException') return false;
    throw storageError(cause);
  }
}

export function toItem(record: object): Item {
  const item: Item = {};
  for (const [name, value] of Object.entries(record)) {
    if (value !== undefined) item[name] = toAttr(value);
  }
  return item;
}

export function toAttr(value: unknown): AttributeValue {
  if (value === null) return { NULL: true };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') return { N: numberText(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  if (value instanceof Uint8Array) return { B: value };
  if (Array.isArray(value)) return { L: value.map((entry) => toAttr(entry ?? null)) };
  if (typeof value === 'object') return { M: toItem(value) };
  throw new TypeError(`cannot store a value of type ${typeof value}`);
}

// DynamoDB keeps numbers of magnitude 1e-130 to below 1e126; JSON readily holds 1e308.
function numberText(value: number): string {
  if (!Number.isFinite(value) || Math.abs(value) >= 1e126 || (value !== 0 && Math.abs(value) < 1e-130))
    throw new UnstorableValueError(`the number ${value} is outside the range DynamoDB stores`);
  return String(value);
}

export function fromAttr(attr: AttributeValue): unknown {
  if (attr.S !== undefined) return attr.S;
  if (attr.N !== undefined) return Number(attr.N);
  if (attr.BOOL !== undefined) return attr.BOOL;
  if (attr.B !== undefined) return attr.B;
  if (attr.L !== undefined) return attr.L.map(fromAttr);
  if (attr.M !== undefined) return fromItem(attr.M);
  return null;
}

export function fromItem(item: Item): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [name, attr] of Object.entries(item)) record[name] = fromAttr(attr);
  return record;
}

/** The record an item holds, without its keys and bookkeeping attributes. */
export function recordOf<T>(item: Item | undefined): T | undefined {
  if (!item) return undefined;
  const record = fromItem(item);
  for (const name of INTERNAL) delete record[name];
  return record as T;
}

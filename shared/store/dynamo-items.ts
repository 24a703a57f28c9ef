import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Decision } from '../domain/decision';
import { DependencyError } from '../errors';
import type { DeliveryRecord, IntegrationRecord, ProjectRecord } from './store';

// The table's item layout (DESIGN §7) and hand-written marshalling, shared by the ingest store
// and the admin store. Hand-written to keep the Lambda bundles small.

export type Item = Record<string, AttributeValue>;

export const META = 'META';
export const DAY_SECONDS = 86_400;
/** Table attributes that are keys or bookkeeping, never part of a record. */
const INTERNAL = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'expiresAt', 'acceptToken']);
// Sparse entries in gsi1 besides deliveries-by-project: every integration under one partition,
// and the projects of each integration under theirs, so the admin API lists them without a Scan.
export const INTEGRATIONS_PARTITION = 'INTS';
export const projectsPartition = (integration: string) => `PRJS#${integration}`;
export function integrationItem(record: IntegrationRecord): Item {
  return {
    ...toItem(record),
    ...key(`INT#${record.name}`),
    gsi1pk: toAttr(INTEGRATIONS_PARTITION),
    gsi1sk: toAttr(record.name),
  };
}

export function projectItem(project: ProjectRecord): Item {
  return {
    ...toItem(project),
    ...key(`PRJ#${project.id}`),
    gsi1pk: toAttr(projectsPartition(project.integration)),
    gsi1sk: toAttr(project.id),
  };
}

export function deliveryOf(item: Item): DeliveryRecord {
  const record = recordOf<DeliveryRecord & { decisions?: unknown }>(item) as DeliveryRecord;
  if (typeof record.decisions === 'string') record.decisions = JSON.parse(record.decisions) as Decision[];
  return record;
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

export function key(pk: string, sk = META): Item {
  return { pk: { S: pk }, sk: { S: sk } };
}

export function deliveryKey(integration: string, deliveryId: string): string {
  return `DLV#${integration}#${deliveryId}`;
}

export function epochSeconds(iso: string): number {
  const ms = Date.parse(iso);
  // An unparseable time must not make an item that never expires; count from now instead.
  return Math.floor((Number.isNaN(ms) ? Date.now() : ms) / 1000);
}

/** Waits for a call, turning any failure into a DependencyError. */
export async function storage<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (cause) {
    throw new DependencyError('storage unavailable', { cause });
  }
}

/** Waits for a conditional write: true when written, false when its condition failed. */
export async function conditional(call: Promise<unknown>): Promise<boolean> {
  try {
    await call;
    return true;
  } catch (cause) {
    // The SDK's ConditionalCheckFailedException and AwsJsonClient's error carry the same name.
    if ((cause as Error | undefined)?.name === 'ConditionalCheckFailedException') return false;
    throw new DependencyError('storage unavailable', { cause });
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
  if (typeof value === 'number') return { N: String(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  if (value instanceof Uint8Array) return { B: value };
  if (Array.isArray(value)) return { L: value.map((entry) => toAttr(entry ?? null)) };
  if (typeof value === 'object') return { M: toItem(value) };
  throw new TypeError(`cannot store a value of type ${typeof value}`);
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

// DynamoDB request units of one call, from the items it reads and writes, by the documented rules
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html and
// .../GSI.html#GSI.ThroughputConsiderations), as on-demand bills them:
// - a write is one unit per started KB of the larger of the item before and after; a delete, of the
//   item deleted; a write whose condition fails, of the item that is there (at least one unit);
// - each global secondary index the item is in (it has both of the index's key attributes) costs a
//   write of its index entry (table keys, index keys and the projected attributes, one unit per
//   started KB): one when the entry appears, disappears or a projected attribute changes, two when
//   an index key changes (the old entry deleted, the new one put), none when the entry is unchanged;
// - a GetItem is one unit per started 4 KB of the item (at least one, item or not), half of that
//   when eventually consistent; a Query adds up the sizes of the items it returns and then rounds
//   (index queries are always eventually consistent and count index entries, not items).
// Checked on 2026-12-06: the read rules and the larger-of rule for writes against the
// read-write-operations page itself; the index rules against quotes of the GSI page (an index key
// change costs two writes, an unchanged entry none). The rule for a write whose condition fails
// could not be checked: AWS's page was not at hand and secondary sources disagree (none, or the
// larger of old and new); this takes the item that is there, at least one unit, until it is.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { itemSizeBytes } from '../../shared/store/item-size';
import { INDEX_PROJECTED_ATTRIBUTES, TABLE_KEYS } from '../../shared/store/table';
import type { Attr, Item } from './fake-aws';

export const WRITE_UNIT_BYTES = 1024;
export const READ_UNIT_BYTES = 4096;

export interface IndexSpec {
  name: string;
  partitionKey: string;
  sortKey: string;
  /** Non-key attributes copied into the index (INCLUDE projection). */
  projected: readonly string[];
}

/** The table's indexes as infra/storage.ts creates them (shared/store/table.ts). */
export const TABLE_INDEXES: readonly IndexSpec[] = TABLE_KEYS.indexes.map((index) => ({
  ...index,
  projected: INDEX_PROJECTED_ATTRIBUTES,
}));

/** Request units of one call: reads, table writes and index writes by index name. */
export interface Units {
  read: number;
  write: number;
  indexWrites: Record<string, number>;
}

export const NO_UNITS: Units = { read: 0, write: 0, indexWrites: {} };

/** The size DynamoDB counts for an item in the JSON protocol's form (binary arrives as base64). */
export function itemBytes(item: Item | undefined): number {
  return item ? itemSizeBytes(toAttributeValues(item)) : 0;
}

function toAttributeValues(item: Item): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(item).map(([name, value]) => [name, toAttributeValue(value)]));
}

function toAttributeValue(value: Attr): AttributeValue {
  const json = value as Attr & { SS?: string[]; NS?: string[]; BS?: string[] };
  if (json.B !== undefined) return { B: Buffer.from(json.B, 'base64') };
  if (json.L !== undefined) return { L: json.L.map(toAttributeValue) };
  if (json.M !== undefined) return { M: toAttributeValues(json.M) };
  if (json.BS !== undefined) return { BS: json.BS.map((b) => Buffer.from(b, 'base64')) };
  return value as AttributeValue;
}

/** Write units for `bytes`: one per started KB, at least one. */
export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / WRITE_UNIT_BYTES));
}

/** Read units for `bytes`: one per started 4 KB, at least one; half when eventually consistent. */
export function readUnits(bytes: number, consistent: boolean): number {
  const units = Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES));
  return consistent ? units : units / 2;
}

/** What `index` holds of `item`: undefined when the item lacks one of the index's keys. */
export function indexEntry(item: Item | undefined, index: IndexSpec): Item | undefined {
  if (!item?.[index.partitionKey] || !item[index.sortKey]) return undefined;
  const entry: Item = {};
  for (const name of [TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, index.partitionKey, index.sortKey]) {
    const value = item[name];
    if (value) entry[name] = value;
  }
  for (const name of index.projected) {
    const value = item[name];
    if (value) entry[name] = value;
  }
  return entry;
}

/** Write units a table write from `before` to `after` (undefined: no item) costs in `index`. */
export function indexWriteUnits(before: Item | undefined, after: Item | undefined, index: IndexSpec): number {
  const old = indexEntry(before, index);
  const next = indexEntry(after, index);
  if (!old && !next) return 0;
  if (!old) return writeUnits(itemBytes(next));
  if (!next) return writeUnits(itemBytes(old));
  const keys = [index.partitionKey, index.sortKey];
  if (keys.some((name) => !sameValue(old[name], next[name]))) {
    return writeUnits(itemBytes(old)) + writeUnits(itemBytes(next));
  }
  if (sameEntry(old, next)) return 0;
  return writeUnits(Math.max(itemBytes(old), itemBytes(next)));
}

/** Units of a write that replaced `before` with `after` (either undefined: no item). */
export function writeUsage(
  before: Item | undefined,
  after: Item | undefined,
  indexes: readonly IndexSpec[] = TABLE_INDEXES,
): Units {
  const indexWrites: Record<string, number> = {};
  for (const index of indexes) {
    const units = indexWriteUnits(before, after, index);
    if (units > 0) indexWrites[index.name] = units;
  }
  return { read: 0, write: writeUnits(Math.max(itemBytes(before), itemBytes(after))), indexWrites };
}

/** Units of a write whose condition failed: the item that is there is charged; no index changes. */
export function failedWriteUsage(existing: Item | undefined): Units {
  return { read: 0, write: writeUnits(itemBytes(existing)), indexWrites: {} };
}

/** Units of a GetItem that found `item` (or nothing). */
export function getUsage(item: Item | undefined, consistent: boolean): Units {
  return { read: readUnits(itemBytes(item), consistent), write: 0, indexWrites: {} };
}

/** Units of a Query that returned `items` (index entries when `index` is given). */
export function queryUsage(items: readonly Item[], consistent: boolean, index?: IndexSpec): Units {
  const bytes = items.reduce(
    (sum, item) => sum + itemBytes(index ? (indexEntry(item, index) ?? item) : item),
    0,
  );
  return { read: readUnits(bytes, index ? false : consistent), write: 0, indexWrites: {} };
}

/** Table and index write units together. */
export function totalWriteUnits(units: Units): number {
  return units.write + Object.values(units.indexWrites).reduce((sum, value) => sum + value, 0);
}

function sameValue(a: Attr | undefined, b: Attr | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameEntry(a: Item, b: Item): boolean {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const name of names) if (!sameValue(a[name], b[name])) return false;
  return true;
}

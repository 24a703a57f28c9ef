import { describe, expect, it } from 'vitest';
import {
  failedWriteUsage,
  getUsage,
  type IndexSpec,
  indexEntry,
  indexWriteUnits,
  itemBytes,
  queryUsage,
  readUnits,
  TABLE_INDEXES,
  writeUnits,
  writeUsage,
} from '../../bench/lib/capacity';
import type { Item } from '../../bench/lib/fake-aws';

const GSI: IndexSpec = { name: 'g', partitionKey: 'gpk', sortKey: 'gsk', projected: ['status'] };

/** An item of exactly `bytes` bytes: attribute names and string values count their UTF-8 bytes. */
function sized(bytes: number, extra: Item = {}): Item {
  const base: Item = { pk: { S: 'P' }, sk: { S: 'S' }, ...extra };
  const used = itemBytes(base) + 'pad'.length;
  return { ...base, pad: { S: 'x'.repeat(bytes - used) } };
}

describe('DynamoDB request units', () => {
  it('bills writes per started KB and reads per started 4 KB, half for eventually consistent reads', () => {
    expect([writeUnits(0), writeUnits(1024), writeUnits(1025), writeUnits(5000)]).toEqual([1, 1, 2, 5]);
    expect([readUnits(0, true), readUnits(4096, true), readUnits(4097, true)]).toEqual([1, 1, 2]);
    expect([readUnits(100, false), readUnits(8192, false), readUnits(8193, false)]).toEqual([0.5, 1, 1.5]);
  });

  it('sizes an item as DynamoDB does: names and values, binary decoded from base64', () => {
    expect(itemBytes(sized(2500))).toBe(2500);
    // 'b' (1) + 300 decoded bytes, not the 400 characters of its base64.
    expect(itemBytes({ b: { B: Buffer.alloc(300).toString('base64') } })).toBe(301);
    expect(itemBytes(undefined)).toBe(0);
  });

  it('charges the larger of the item before and after a write', () => {
    expect(writeUsage(undefined, sized(2500), []).write).toBe(3);
    expect(writeUsage(sized(2500), sized(900), []).write).toBe(3);
    expect(writeUsage(sized(900), undefined, []).write).toBe(1);
  });

  it('charges a refused conditional write for the item that is there, at least one unit', () => {
    expect(failedWriteUsage(sized(1500))).toEqual({ read: 0, write: 2, indexWrites: {} });
    expect(failedWriteUsage(undefined).write).toBe(1);
  });

  it('writes an index entry only when the item is in the index and what the index holds changed', () => {
    const keys = { gpk: { S: 'G' }, gsk: { S: '1' } };
    const received = sized(3000, { ...keys, status: { S: 'received' } });
    const decided = { ...received, status: { S: 'decided' } };
    expect(indexWriteUnits(undefined, received, GSI)).toBe(1); // entry put
    expect(indexWriteUnits(received, { ...received, pad: { S: 'other' } }, GSI)).toBe(0); // not projected
    expect(indexWriteUnits(received, decided, GSI)).toBe(1); // projected attribute changed
    expect(indexWriteUnits(received, { ...received, gsk: { S: '2' } }, GSI)).toBe(2); // key moved: delete + put
    expect(indexWriteUnits(received, undefined, GSI)).toBe(1); // entry deleted
    expect(indexWriteUnits(undefined, sized(3000, { gpk: { S: 'G' } }), GSI)).toBe(0); // sparse: no sort key
  });

  it('holds the table keys, index keys and projected attributes in an index entry, not the rest', () => {
    const item = sized(3000, { gpk: { S: 'G' }, gsk: { S: '1' }, status: { S: 'received' } });
    expect(Object.keys(indexEntry(item, GSI) ?? {}).sort()).toEqual(['gpk', 'gsk', 'pk', 'sk', 'status']);
  });

  it('takes the table indexes from the key schema, projecting what infra/storage.ts projects', () => {
    expect(TABLE_INDEXES.map((index) => index.name)).toEqual(['gsi1', 'gsi2']);
    for (const index of TABLE_INDEXES) expect(index.projected).toContain('status');
  });

  it('adds up the items a query returns before rounding, and reads index entries eventually consistent', () => {
    const items = [sized(1500), sized(1500), sized(1500)];
    expect(queryUsage(items, true).read).toBe(2); // 4500 bytes → 2 × 4 KB
    expect(queryUsage(items, false).read).toBe(1);
    const inIndex = items.map((item) => ({ ...item, gpk: { S: 'G' }, gsk: { S: '1' } }));
    expect(queryUsage(inIndex, true, GSI).read).toBe(0.5); // small entries, eventually consistent
    expect(queryUsage([], true).read).toBe(1);
  });

  it('charges a GetItem that finds nothing as a read of the smallest item', () => {
    expect(getUsage(undefined, true).read).toBe(1);
    expect(getUsage(sized(9000), false).read).toBe(1.5);
  });
});

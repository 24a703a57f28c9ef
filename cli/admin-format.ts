// Plain-text rendering of admin API answers: aligned columns, no colours, no dependency.

import { isRecord } from '../shared/is-record';

/** One table: a header row and the rows below it, columns padded to the widest cell. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

/** A record as `field  value` lines; nested objects flattened to `a.b`, scalar lists joined. */
export function fields(record: unknown, skip: readonly string[] = []): string {
  const rows = flatten(record).filter(([key]) => !skip.includes(key.split('.')[0] ?? key));
  return rows.length === 0 ? '' : table(['FIELD', 'VALUE'], rows);
}

/** The rows of a list answer: `items`, or the first array property, or the body itself. */
export function itemsOf(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  if (!isRecord(body)) return [];
  if (Array.isArray(body.items)) return body.items;
  return (Object.values(body).find(Array.isArray) as unknown[] | undefined) ?? [];
}

/** The cursor of the next page, when the answer has one. */
export function nextOf(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const next = body.next ?? body.nextCursor ?? body.nextToken;
  return typeof next === 'string' && next ? next : undefined;
}

/** A cell for any value: scalars as text, scalar lists joined, the rest as compact JSON. */
export function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.replace(/\s*\n\s*/g, ' ');
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) {
    return value.map(cell).join(', ');
  }
  return JSON.stringify(value);
}

/** `default`, or the space id of a `{ space }` scope. */
export function scopeCell(scope: unknown): string {
  return isRecord(scope) && typeof scope.space === 'string' ? `space:${scope.space}` : cell(scope);
}

/** The first string among `keys` of `record` (top level, then one level down). */
export function pick(record: unknown, ...keys: string[]): string | undefined {
  if (!isRecord(record)) return undefined;
  for (const key of keys) {
    const value = record[key];
    if (typeof value === 'string' || typeof value === 'number') return String(value);
  }
  for (const nested of Object.values(record)) {
    if (!isRecord(nested)) continue;
    for (const key of keys) {
      const value = nested[key];
      if (typeof value === 'string' || typeof value === 'number') return String(value);
    }
  }
  return undefined;
}

function flatten(value: unknown, prefix = '', depth = 0): [string, string][] {
  if (!isRecord(value)) return prefix ? [[prefix, cell(value)]] : [['value', cell(value)]];
  const rows: [string, string][] = [];
  for (const [key, nested] of Object.entries(value)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (isRecord(nested) && depth < 2 && Object.keys(nested).length > 0)
      rows.push(...flatten(nested, name, depth + 1));
    else rows.push([name, cell(nested)]);
  }
  return rows;
}

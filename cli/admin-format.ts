// Plain-text rendering of admin API answers: aligned columns, no colours, no dependency.

import type { DecisionView, IntegrationView } from '../shared/admin/views';
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
export function fields(record: object, skip: readonly string[] = []): string {
  const rows = flatten(record).filter(([key]) => !skip.includes(key.split('.')[0] ?? key));
  return rows.length === 0 ? '' : table(['FIELD', 'VALUE'], rows);
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

/** `default`, or `space:<id>` for a space scope. */
export function scopeCell(scope: IntegrationView['scope'] | undefined): string {
  if (scope === undefined) return '';
  return scope === 'default' ? scope : `space:${scope.space}`;
}

/** The decisions of a delivery or an evaluation: action, reason, ref and message. */
export function decisionsTable(decisions: readonly DecisionView[]): string {
  return table(
    ['ACTION', 'REASON', 'REF', 'MESSAGE'],
    decisions.map((decision) => [
      `${decision.action}${sentNote(decision)}`,
      decision.reason,
      decision.ref ? `${decision.ref.type} ${decision.ref.name}` : '',
      cell(decision.message),
    ]),
  );
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

/** ` (sent)` or ` (already sent)` after a trigger whose delivery recorded it. */
function sentNote(decision: DecisionView): string {
  if (typeof decision.sent !== 'boolean') return '';
  return decision.sent ? ' (sent)' : ' (already sent)';
}

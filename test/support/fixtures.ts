import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `test/fixtures/bitbucket/`: a byte-identical copy of the shared payload corpus. */
export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/bitbucket/', import.meta.url));

export type Platform = 'cloud' | 'server';

/** One corpus file with its MANIFEST.tsv row. */
export interface Fixture {
  /** Relative to FIXTURES_DIR, e.g. `cloud/drone-go-scm__push.json`. */
  path: string;
  absolutePath: string;
  platform: Platform;
  eventKey: string;
  notes: string;
}

let manifest: Fixture[] | undefined;

/** Every manifest row, payload bodies first-class; `*.headers.json` siblings only when asked. */
export function listFixtures({ includeHeaders = false } = {}): Fixture[] {
  manifest ??= readManifest();
  return manifest.filter((fixture) => includeHeaders || !isHeadersFile(fixture.path));
}

/** The manifest row of one file, by its path relative to FIXTURES_DIR. */
export function findFixture(path: string): Fixture {
  const found = listFixtures({ includeHeaders: true }).find((f) => f.path === path);
  if (!found) throw new Error(`no fixture ${path} in MANIFEST.tsv`);
  return found;
}

/** The exact bytes of a fixture, as Bitbucket signed them. */
export function readFixtureBytes(target: Fixture | string): Buffer {
  return readFileSync(typeof target === 'string' ? join(FIXTURES_DIR, target) : target.absolutePath);
}

export function readFixtureJson<T = unknown>(target: Fixture | string): T {
  return JSON.parse(readFixtureBytes(target).toString('utf8')) as T;
}

/** The files actually present under cloud/ and server/, relative to FIXTURES_DIR. */
export function fixtureFilesOnDisk(): string[] {
  return (['cloud', 'server'] as const).flatMap((dir) =>
    readdirSync(join(FIXTURES_DIR, dir)).map((name) => `${dir}/${name}`),
  );
}

export function isHeadersFile(path: string): boolean {
  return path.endsWith('.headers.json');
}

function readManifest(): Fixture[] {
  const [header, ...rows] = readFileSync(join(FIXTURES_DIR, 'MANIFEST.tsv'), 'utf8').trimEnd().split('\n');
  const columns = (header ?? '').split('\t');
  const at = (name: string): number => {
    const index = columns.indexOf(name);
    if (index < 0) throw new Error(`MANIFEST.tsv has no ${name} column`);
    return index;
  };
  const [savedPath, platform, eventKey, notes] = [
    at('saved_path'),
    at('platform'),
    at('event_key'),
    at('notes'),
  ];
  return rows.map((row) => {
    const cells = row.split('\t').map(unquote);
    const path = (cells[savedPath] ?? '').replace(/^fixtures\/bitbucket\//, '');
    const kind = cells[platform];
    if (kind !== 'cloud' && kind !== 'server') throw new Error(`MANIFEST.tsv: unknown platform for ${path}`);
    return {
      path,
      absolutePath: join(FIXTURES_DIR, path),
      platform: kind,
      eventKey: cells[eventKey] ?? '',
      notes: cells[notes] ?? '',
    };
  });
}

// The manifest was written as TSV with CSV-style quoting: a quoted cell doubles its quotes.
function unquote(cell: string): string {
  return cell.length >= 2 && cell.startsWith('"') && cell.endsWith('"')
    ? cell.slice(1, -1).replaceAll('""', '"')
    : cell;
}

// Deterministic mutations of real payloads for the webhook fuzz: a seeded generator, and edits of
// the kinds that broke the ingest path (missing and duplicated fields, other types, 3 KB names,
// 1e308 ids, 1,500 ref changes, deep nesting, control characters, the wrong event key).

/** mulberry32: a small seeded generator, so a failing case is the same case on every run. */
export function seededRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (below: number) => Math.floor(next() * below);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  return { next, int, pick };
}

export type Random = ReturnType<typeof seededRandom>;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

/** A mutated body: the text sent (raw edits such as duplicate keys live only here) and its event key. */
export interface Mutant {
  text: string;
  eventKey: string;
  /** The mutations applied, for a failure message. */
  applied: string[];
}

const STRINGS = [
  'x'.repeat(3 * 1024),
  'é'.repeat(5 * 1024),
  'feature/'.repeat(400),
  '\u0000\u0001\u001b[31mred\u001b[0m\r\ntrigger  forged/line',
  '\u202eevil\u200b\ufeff',
  '\ud800lone surrogate',
  '😀🚀'.repeat(200),
  '../../etc/passwd',
  '',
  ' ',
  '{}',
  '%0a%00',
];
const NUMBERS = [1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, -1, 0, 0.5, 2 ** 64, 1e-320];

/** Every path to a node of the document (the root excluded). */
function pathsOf(doc: Json, prefix: Path = [], out: Path[] = [], limit = 5_000): Path[] {
  if (out.length >= limit || doc === null || typeof doc !== 'object') return out;
  const entries: [string | number, Json][] = Array.isArray(doc)
    ? doc.map((value, index) => [index, value])
    : Object.entries(doc);
  for (const [key, value] of entries) {
    const path = [...prefix, key];
    out.push(path);
    pathsOf(value, path, out, limit);
  }
  return out;
}

function parentOf(doc: Json, path: Path): { parent: any; key: string | number } | undefined {
  let node: any = doc;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = node[key];
  }
  if (node === null || typeof node !== 'object') return undefined;
  return { parent: node, key: path[path.length - 1] as string | number };
}

function getAt(doc: Json, path: Path): Json | undefined {
  const at = parentOf(doc, path);
  return at ? at.parent[at.key] : undefined;
}

function setAt(doc: Json, path: Path, value: Json): boolean {
  const at = parentOf(doc, path);
  if (!at || !(at.key in at.parent)) return false;
  at.parent[at.key] = value;
  return true;
}

function anyValue(random: Random): Json {
  switch (random.int(8)) {
    case 0:
      return null;
    case 1:
      return random.pick(NUMBERS);
    case 2:
      return random.pick(STRINGS);
    case 3:
      return [];
    case 4:
      return {};
    case 5:
      return random.next() < 0.5;
    case 6:
      return [random.pick(STRINGS), random.pick(NUMBERS)];
    default:
      return { type: random.pick(STRINGS) };
  }
}

/**
 * Deep nesting is spliced into the text after the edits: a document 3,000 levels deep would
 * overflow the stack of the edits' own recursion (and of structuredClone).
 */
const deepMarker = (depth: number) => `~hookgate-fuzz-deep~${depth}`;
function spliceDeep(text: string): string {
  return text.replace(/"~hookgate-fuzz-deep~(\d+)"/g, (_, depth: string) => {
    const levels = Number(depth);
    let open = '';
    let close = '';
    for (let level = 0; level < levels; level++) {
      open += level % 2 ? '[' : '{"n":';
      close = (level % 2 ? ']' : '}') + close;
    }
    return `${open}"bottom"${close}`;
  });
}

/** Fields the rules read, where a huge or odd value reaches deepest (names, refs, ids). */
const NAMED_FIELDS: Path[] = [
  ['push', 'changes', 0, 'new', 'name'],
  ['push', 'changes', 0, 'new', 'target', 'hash'],
  ['push', 'changes', 0, 'old', 'name'],
  ['repository', 'full_name'],
  ['repository', 'name'],
  ['repository', 'uuid'],
  ['repository', 'slug'],
  ['repository', 'project', 'key'],
  ['repository', 'id'],
  ['actor', 'display_name'],
  ['pullrequest', 'id'],
  ['pullrequest', 'source', 'branch', 'name'],
  ['pullrequest', 'source', 'commit', 'hash'],
  ['pullrequest', 'destination', 'branch', 'name'],
  ['changes', 0, 'refId'],
  ['changes', 0, 'ref', 'displayId'],
  ['changes', 0, 'toHash'],
  ['pullRequest', 'id'],
  ['pullRequest', 'fromRef', 'displayId'],
  ['pullRequest', 'fromRef', 'latestCommit'],
  ['pullRequest', 'toRef', 'repository', 'id'],
];

/** Replaces the list of ref changes with `count` distinct ones made from its first entry. */
function manyRefChanges(doc: Json, count: number): boolean {
  const record = doc as Record<string, any>;
  const list: any[] | undefined = Array.isArray(record?.push?.changes)
    ? record.push.changes
    : Array.isArray(record?.changes)
      ? record.changes
      : undefined;
  const first = list?.[0];
  if (!list || !first) return false;
  const copies = Array.from({ length: count }, (_, n) => {
    const copy = structuredClone(first);
    if (copy.new?.name) copy.new.name = `fuzz/many-${n}`;
    if (copy.refId) copy.refId = `refs/heads/fuzz/many-${n}`;
    if (copy.ref?.displayId) copy.ref = { ...copy.ref, id: copy.refId, displayId: `fuzz/many-${n}` };
    return copy;
  });
  list.splice(0, list.length, ...copies);
  return true;
}

/** Mutation kinds, each a name and an edit that returns false when it does not apply. */
const MUTATIONS: [string, (doc: Json, random: Random, paths: Path[]) => boolean][] = [
  [
    'delete',
    (doc, random, paths) => {
      const at = paths.length ? parentOf(doc, random.pick(paths)) : undefined;
      if (!at) return false;
      if (Array.isArray(at.parent)) at.parent.splice(Number(at.key), 1);
      else delete at.parent[at.key];
      return true;
    },
  ],
  [
    'duplicate-element',
    (doc, random, paths) => {
      const arrays = paths.filter((p) => Array.isArray(getAt(doc, p)) && (getAt(doc, p) as Json[]).length);
      if (!arrays.length) return false;
      const list = getAt(doc, random.pick(arrays)) as Json[];
      list.push(structuredClone(list[random.int(list.length)] as Json));
      return true;
    },
  ],
  ['retype', (doc, random, paths) => paths.length > 0 && setAt(doc, random.pick(paths), anyValue(random))],
  [
    'odd-named-field',
    (doc, random) => {
      const present = NAMED_FIELDS.filter((p) => getAt(doc, p) !== undefined);
      if (!present.length) return false;
      const path = random.pick(present);
      const value = typeof getAt(doc, path) === 'number' ? random.pick(NUMBERS) : random.pick(STRINGS);
      return setAt(doc, path, value);
    },
  ],
  [
    'huge-number',
    (doc, random, paths) => {
      const numbers = paths.filter((p) => typeof getAt(doc, p) === 'number');
      return numbers.length > 0 && setAt(doc, random.pick(numbers), random.pick([1e308, -1e308, 2 ** 64]));
    },
  ],
  [
    'odd-string',
    (doc, random, paths) => {
      const strings = paths.filter((p) => typeof getAt(doc, p) === 'string');
      if (!strings.length) return false;
      const path = random.pick(strings);
      return setAt(doc, path, `${getAt(doc, path)}${random.pick(STRINGS)}`);
    },
  ],
  [
    'deep-nesting',
    (doc, random, paths) => {
      const objects = paths.filter((p) => typeof getAt(doc, p) === 'object');
      return (
        objects.length > 0 && setAt(doc, random.pick(objects), deepMarker(random.pick([40, 500, 3_000])))
      );
    },
  ],
  ['ref-changes-x0', (doc) => manyRefChanges(doc, 1) && manyRefChanges(doc, 0)],
];

const EVENT_KEYS = [
  'repo:push',
  'repo:refs_changed',
  'pullrequest:created',
  'pullrequest:updated',
  'pullrequest:fulfilled',
  'pr:opened',
  'pr:from_ref_updated',
  'pr:merged',
  'mirror:repo_synchronized',
  'diagnostics:ping',
  'repo:unknown_event',
  'x'.repeat(300),
];

/**
 * Applies one to three mutations to a real payload (a fixed share of them to the event key or the
 * raw text) and returns what to send. `refChanges` first replaces its ref changes with that many.
 */
export function mutate(
  payload: unknown,
  eventKey: string,
  random: Random,
  options: { refChanges?: number } = {},
): Mutant {
  const doc = structuredClone(payload) as Json;
  const applied: string[] = [];
  if (options.refChanges !== undefined && manyRefChanges(doc, options.refChanges)) {
    applied.push(`ref-changes-x${options.refChanges}`);
  }
  const rounds = 1 + random.int(3);
  for (let round = 0; round < rounds; round++) {
    const paths = pathsOf(doc);
    const [name, edit] = random.pick(MUTATIONS);
    if (edit(doc, random, paths)) applied.push(name);
  }
  let text = spliceDeep(JSON.stringify(doc));
  let key = eventKey;
  const roll = random.next();
  if (roll < 0.08) {
    key = random.pick(EVENT_KEYS);
    applied.push(`event-key:${key.slice(0, 30)}`);
  } else if (roll < 0.12 && text.endsWith('}') && text.length > 2) {
    // A duplicate key: JSON.parse keeps the last one.
    text = `${text.slice(0, -1)},"repository":${JSON.stringify(anyValue(random))}}`;
    applied.push('duplicate-key');
  } else if (roll < 0.14) {
    text = text.slice(0, random.int(text.length));
    applied.push('truncated');
  } else if (roll < 0.16) {
    text = JSON.stringify(random.pick([[], null, 'push', 1e308, [payload]]));
    applied.push('other-root');
  }
  return { text, eventKey: key, applied };
}

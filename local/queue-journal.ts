import { type FileHandle, mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from './atomic-file';

/** One line of a queue journal. */
export type JournalEntry =
  /** A message accepted by `send`. */
  | { op: 'send'; id: string; group: string; dedup: string; body: string; at: number }
  /** A receive that failed; `count` is the message's receive count so far. */
  | { op: 'fail'; id: string; count: number }
  /** A message deleted: consumed, or moved to the dead-letter list. */
  | { op: 'done'; id: string }
  /** A deduplication id still inside its window after its message was deleted. */
  | { op: 'dedup'; dedup: string; at: number };

/**
 * An append-only NDJSON file holding a local queue's history, replayed at start. Appends and
 * rewrites run one after another. A torn last line (a crash mid-append) is ignored on replay.
 */
export class QueueJournal {
  private chain: Promise<unknown> = Promise.resolve();
  private lines = 0;

  private constructor(
    readonly path: string,
    private file: FileHandle | undefined,
  ) {}

  /** Opens (creating) the journal and returns it with the entries it holds. Throws file system errors. */
  static async open(path: string): Promise<{ journal: QueueJournal; entries: JournalEntry[] }> {
    await mkdir(dirname(path), { recursive: true });
    const entries = parseJournal(await readIfPresent(path));
    const journal = new QueueJournal(path, await open(path, 'a'));
    journal.lines = entries.length;
    return { journal, entries };
  }

  /** Lines appended since the last rewrite (or in the file at open). */
  get length(): number {
    return this.lines;
  }

  /** Appends one entry; `durable` waits until it is on disk (for what a caller was promised). */
  append(entry: JournalEntry, durable = false): Promise<void> {
    return this.serial(async () => {
      const file = this.requireOpen();
      await file.appendFile(`${JSON.stringify(entry)}\n`, 'utf8');
      if (durable) await file.datasync();
      this.lines += 1;
    });
  }

  /** Replaces the whole journal with `entries`, atomically (compaction). */
  rewrite(entries: readonly JournalEntry[]): Promise<void> {
    return this.serial(async () => {
      await this.requireOpen().close();
      this.file = undefined;
      await writeFileAtomic(this.path, entries.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
      this.file = await open(this.path, 'a');
      this.lines = entries.length;
    });
  }

  close(): Promise<void> {
    return this.serial(async () => {
      const file = this.file;
      this.file = undefined;
      await file?.close();
    });
  }

  private requireOpen(): FileHandle {
    if (!this.file) throw new Error(`queue journal ${this.path} is closed`);
    return this.file;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work);
    this.chain = next.catch(() => undefined);
    return next;
  }
}

/** The entries of a journal's text. */
export function parseJournal(text: string): JournalEntry[] {
  return parseNdjson(text).filter(
    (entry): entry is JournalEntry =>
      typeof entry === 'object' && entry !== null && typeof (entry as { op?: unknown }).op === 'string',
  );
}

/** The values of an NDJSON text; lines that do not parse (a torn last append) are skipped. */
export function parseNdjson(text: string): unknown[] {
  const values: unknown[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      values.push(JSON.parse(line));
    } catch {
      // A crash in the middle of an append leaves a partial line; what it described never happened.
    }
  }
  return values;
}

export async function readIfPresent(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

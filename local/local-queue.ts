import { randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DependencyError } from '../shared/errors';
import { DEDUPLICATION_WINDOW_MS, type Queue, type QueueMessage } from '../shared/queue/queue';
import { TRIGGERS_MAX_RECEIVE_COUNT } from '../shared/queue/redrive';
import { type JournalEntry, parseNdjson, QueueJournal, readIfPresent } from './queue-journal';

/**
 * The journal is rewritten once it holds this many lines and at least twice what is live in it,
 * so a rewrite (which copies every live line) costs at most one line per line appended, however
 * long the backlog grows.
 */
const COMPACT_AFTER_LINES = 2_000;
/** How often expired deduplication ids are swept out (a sweep visits every id in the window). */
const SWEEP_EVERY_MS = 1_000;

/** A message as a consumer receives it. */
export interface ReceivedMessage extends QueueMessage {
  messageId: string;
  /** Deliveries of this message to a consumer, this one included (SQS `ApproximateReceiveCount`). */
  receiveCount: number;
  /** Epoch milliseconds of the send. */
  sentAt: number;
}

/** A message that failed `maxReceiveCount` times, kept for a person to look at. */
export interface DeadLetter extends ReceivedMessage {
  queue: string;
  deadAt: string;
}

/**
 * Handles one batch and returns the ids of the messages that failed; the others are deleted.
 * A throw fails the whole batch.
 */
export type QueueConsumer = (batch: readonly ReceivedMessage[]) => Promise<readonly string[]>;

export interface LocalQueueOptions {
  /** Shown in dead letters and errors, e.g. `deliveries.fifo`. */
  name: string;
  /** Where the queue keeps its journal; in memory only when absent. */
  journalPath?: string;
  /** Where dead letters are appended as NDJSON (and read back at open). */
  deadLetterPath?: string;
  /** Receives before a message is dead-lettered; that of `triggers.fifo` when absent. */
  maxReceiveCount?: number;
  /** A failed message waits this long times its receive count before it is offered again. */
  retryDelayMs?: number;
  deduplicationWindowMs?: number;
  batchSize?: number;
  now?: () => number;
  onDeadLetter?: (letter: DeadLetter) => void;
  /** Faults the queue cannot hand to a caller: a consumer that threw, a journal write that failed. */
  onError?: (error: Error) => void;
}

interface Pending {
  messageId: string;
  body: string;
  groupId: string;
  deduplicationId: string;
  sentAt: number;
  receiveCount: number;
  availableAt: number;
  /** False until the message is on disk: it holds its place in line but is not offered yet. */
  stored: boolean;
}

/**
 * An in-process FIFO queue with the SQS FIFO semantics Hookgate relies on: order within a message
 * group (a group waits while one of its messages is in flight or waiting for a retry), dropping a
 * deduplication id seen in the last five minutes, redelivery of failed messages after a short
 * delay, and a dead-letter list after `maxReceiveCount` receives. One batch is in flight at a time.
 *
 * With a journal, every accepted message is on disk before `send` resolves and the queue picks up
 * where it left off after a restart or a crash: messages not yet deleted are offered again, in
 * order, and deduplication ids inside their window are still honoured.
 */
export class LocalFifoQueue implements Queue {
  private pending: Pending[] = [];
  /** Deduplication ids by when they were first seen; expired ones are swept out now and then. */
  private readonly dedup = new Map<string, number>();
  private sweptAt = Number.NEGATIVE_INFINITY;
  private readonly dead: DeadLetter[] = [];
  private consumer: QueueConsumer | undefined;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private idleWaiters: (() => void)[] = [];
  private readonly now: () => number;
  private readonly maxReceiveCount: number;
  private readonly retryDelayMs: number;
  private readonly windowMs: number;
  private readonly batchSize: number;

  private constructor(
    private readonly options: LocalQueueOptions,
    private readonly journal: QueueJournal | undefined,
  ) {
    this.now = options.now ?? Date.now;
    this.maxReceiveCount = options.maxReceiveCount ?? TRIGGERS_MAX_RECEIVE_COUNT;
    this.retryDelayMs = options.retryDelayMs ?? 1_000;
    this.windowMs = options.deduplicationWindowMs ?? DEDUPLICATION_WINDOW_MS;
    this.batchSize = options.batchSize ?? 10;
  }

  /**
   * Opens the queue, replaying its journal and dead-letter file when it has them, then compacts
   * the journal. Throws file system errors.
   */
  static async open(options: LocalQueueOptions): Promise<LocalFifoQueue> {
    if (!options.journalPath) return new LocalFifoQueue(options, undefined);
    const { journal, entries } = await QueueJournal.open(options.journalPath);
    const queue = new LocalFifoQueue(options, journal);
    queue.replay(entries);
    if (options.deadLetterPath) {
      await mkdir(dirname(options.deadLetterPath), { recursive: true });
      queue.dead.push(...(parseNdjson(await readIfPresent(options.deadLetterPath)) as DeadLetter[]));
    }
    await journal.rewrite(queue.snapshot());
    return queue;
  }

  get name(): string {
    return this.options.name;
  }

  /** Messages not yet deleted (waiting, retrying or in flight). */
  get depth(): number {
    return this.pending.length;
  }

  deadLetters(): readonly DeadLetter[] {
    return this.dead;
  }

  /**
   * Accepts a message, on disk first when the queue has a journal. A deduplication id seen within
   * the window is dropped silently, as SQS does. Throws DependencyError when closed or unwritable.
   */
  async send(message: QueueMessage): Promise<void> {
    if (this.closed) throw new DependencyError(`queue ${this.name} is closed`);
    if (!message.groupId || !message.deduplicationId) {
      throw new Error(`queue ${this.name}: a FIFO message needs a group id and a deduplication id`);
    }
    const now = this.now();
    this.sweep(now);
    const seenAt = this.dedup.get(message.deduplicationId);
    if (seenAt !== undefined && now - seenAt < this.windowMs) return;
    // Claimed before the write, so a concurrent send of the same id is dropped too.
    this.dedup.set(message.deduplicationId, now);
    const pending: Pending = {
      messageId: randomUUID(),
      body: message.body,
      groupId: message.groupId,
      deduplicationId: message.deduplicationId,
      sentAt: now,
      receiveCount: 0,
      availableAt: now,
      stored: !this.journal,
    };
    // In line at once, so concurrent sends keep their order and a compaction keeps the message.
    this.pending.push(pending);
    if (this.journal) {
      try {
        await this.journal.append(sendEntry(pending), true);
      } catch (error) {
        this.remove(pending);
        this.dedup.delete(message.deduplicationId);
        throw new DependencyError(`queue ${this.name} could not store the message`, { cause: error });
      }
      pending.stored = true;
    }
    this.schedule();
  }

  /** Starts handing batches to `consumer`. */
  start(consumer: QueueConsumer): void {
    this.consumer = consumer;
    this.schedule();
  }

  /**
   * Stops handing out batches, waits for the batch in flight, and compacts the journal. Messages
   * not yet deleted stay in the journal for the next start.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      clearTimeout(this.timer);
      await this.inFlight;
      if (this.journal) {
        await this.journal.rewrite(this.snapshot());
        await this.journal.close();
      }
      this.wakeIdle();
    })();
    return this.closing;
  }

  /** Resolves once no message is waiting or in flight (or the queue is closed). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.closed || (this.pending.length === 0 && !this.inFlight);
  }

  private wakeIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters.splice(0);
    for (const wake of waiters) wake();
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.closed || !this.consumer || this.inFlight) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.now();
    const batch: Pending[] = [];
    const blocked = new Set<string>();
    let nextAt = Number.POSITIVE_INFINITY;
    for (const message of this.pending) {
      if (batch.length >= this.batchSize) break;
      if (blocked.has(message.groupId)) continue;
      if (!message.stored) {
        blocked.add(message.groupId);
        continue;
      }
      if (message.availableAt > now) {
        // The group waits behind its retrying message: FIFO order within a group.
        blocked.add(message.groupId);
        nextAt = Math.min(nextAt, message.availableAt);
        continue;
      }
      batch.push(message);
    }
    if (batch.length === 0) {
      if (Number.isFinite(nextAt)) {
        this.timer = setTimeout(() => this.schedule(), Math.max(0, nextAt - now));
      }
      this.wakeIdle();
      return;
    }
    this.inFlight = this.deliver(this.consumer, batch).finally(() => {
      this.inFlight = undefined;
      this.wakeIdle();
      this.schedule();
    });
  }

  private async deliver(consumer: QueueConsumer, batch: Pending[]): Promise<void> {
    for (const message of batch) message.receiveCount += 1;
    let failed: Set<string>;
    try {
      failed = new Set(await consumer(batch.map(received)));
    } catch (error) {
      this.report(error);
      failed = new Set(batch.map((message) => message.messageId));
    }
    const now = this.now();
    const done = batch.filter((message) => !failed.has(message.messageId));
    this.remove(...done);
    for (const message of batch) {
      if (!failed.has(message.messageId)) {
        this.write({ op: 'done', id: message.messageId });
      } else if (message.receiveCount >= this.maxReceiveCount) {
        await this.deadLetter(message, now);
      } else {
        message.availableAt = now + this.retryDelayMs * message.receiveCount;
        this.write({ op: 'fail', id: message.messageId, count: message.receiveCount });
      }
    }
    this.sweep(now);
    if (this.journal && this.journal.length > Math.max(COMPACT_AFTER_LINES, 2 * this.liveLines())) {
      await this.journal.rewrite(this.snapshot()).catch((error: unknown) => this.report(error));
    }
  }

  private async deadLetter(message: Pending, now: number): Promise<void> {
    const letter: DeadLetter = {
      ...received(message),
      queue: this.name,
      deadAt: new Date(now).toISOString(),
    };
    if (this.options.deadLetterPath) {
      try {
        await appendFile(this.options.deadLetterPath, `${JSON.stringify(letter)}\n`, 'utf8');
      } catch (error) {
        // Keep the message rather than lose it: it is offered again and may land here later.
        this.report(error);
        message.availableAt = now + this.retryDelayMs * message.receiveCount;
        return;
      }
    }
    this.remove(message);
    this.write({ op: 'done', id: message.messageId });
    this.dead.push(letter);
    this.options.onDeadLetter?.(letter);
  }

  private remove(...messages: Pending[]): void {
    if (messages.length === 0) return;
    const gone = new Set(messages);
    this.pending = this.pending.filter((other) => !gone.has(other));
  }

  /**
   * At least the lines a rewrite would write now: a message takes one, two after a failure, and a
   * deduplication id still in the window at most one.
   */
  private liveLines(): number {
    return 2 * this.pending.length + this.dedup.size;
  }

  /** A bookkeeping append: losing one only means a message is offered once more after a crash. */
  private write(entry: JournalEntry): void {
    this.journal?.append(entry).catch((error: unknown) => this.report(error));
  }

  private report(error: unknown): void {
    this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
  }

  /** Forgets expired deduplication ids unless that was done in the last second. */
  private sweep(now: number): void {
    if (now - this.sweptAt >= SWEEP_EVERY_MS) this.forgetExpired(now);
  }

  private forgetExpired(now: number): void {
    this.sweptAt = now;
    for (const [id, at] of this.dedup) {
      if (now - at >= this.windowMs) this.dedup.delete(id);
    }
  }

  private replay(entries: readonly JournalEntry[]): void {
    const now = this.now();
    const byId = new Map<string, Pending>();
    for (const entry of entries) {
      switch (entry.op) {
        case 'send':
          byId.set(entry.id, {
            messageId: entry.id,
            body: entry.body,
            groupId: entry.group,
            deduplicationId: entry.dedup,
            sentAt: entry.at,
            receiveCount: 0,
            availableAt: now,
            stored: true,
          });
          this.dedup.set(entry.dedup, entry.at);
          break;
        case 'fail': {
          const message = byId.get(entry.id);
          if (message) message.receiveCount = entry.count;
          break;
        }
        case 'done':
          byId.delete(entry.id);
          break;
        case 'dedup':
          this.dedup.set(entry.dedup, entry.at);
          break;
      }
    }
    this.forgetExpired(now);
    // Map iteration follows insertion, which is send order.
    this.pending = [...byId.values()];
  }

  /** The journal's compacted content: live deduplication ids, then every message not yet deleted. */
  private snapshot(): JournalEntry[] {
    this.forgetExpired(this.now());
    const live = new Set(this.pending.map((message) => message.deduplicationId));
    const entries: JournalEntry[] = [];
    for (const [dedup, at] of this.dedup) {
      if (!live.has(dedup)) entries.push({ op: 'dedup', dedup, at });
    }
    for (const message of this.pending) {
      entries.push(sendEntry(message));
      if (message.receiveCount > 0) {
        entries.push({ op: 'fail', id: message.messageId, count: message.receiveCount });
      }
    }
    return entries;
  }
}

function sendEntry(message: Pending): JournalEntry {
  return {
    op: 'send',
    id: message.messageId,
    group: message.groupId,
    dedup: message.deduplicationId,
    body: message.body,
    at: message.sentAt,
  };
}

function received(message: Pending): ReceivedMessage {
  return {
    messageId: message.messageId,
    body: message.body,
    groupId: message.groupId,
    deduplicationId: message.deduplicationId,
    receiveCount: message.receiveCount,
    sentAt: message.sentAt,
  };
}

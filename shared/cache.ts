/**
 * A small in-memory cache whose entries expire after a fixed time, holding at most `maxEntries`
 * (the least recently used go first), so keys chosen by callers cannot grow it without bound.
 */
export class TtlCache<V> {
  // A Map iterates in insertion order: re-inserting on every hit keeps the oldest use first.
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    readonly maxEntries = 5_000,
  ) {}

  /** The cached value, or what `load` returns (cached, `undefined` included). Load errors are not cached. */
  async getOrLoad(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      if (hit.expiresAt > this.now()) {
        this.entries.set(key, hit);
        return hit.value;
      }
    }
    const value = await load();
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
    return value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets every entry: the next look-up of each loads again. */
  clear(): void {
    this.entries.clear();
  }

  /** How many entries are held (expired ones included until they are next looked up or evicted). */
  get size(): number {
    return this.entries.size;
  }
}

/**
 * A bounded map with O(1) lookup, touch and eviction of the least recently used entry,
 * for the ban manager's per-source tables (scores, pending decisions).
 *
 * A JS Map keeps insertion order, and "delete the first key" looks O(1), but every
 * deleted entry stays in the Map's backing store until it is rehashed, so `keys().next()`
 * walks over the tombstones: past the bound each new source cost 20-25 µs (issue 11).
 * Here the recency order is a doubly linked list of slot numbers in typed arrays; the Map
 * only maps key → slot and is never iterated. Slots are reused, so a full table
 * allocates nothing for its order. Keys are attacker-chosen address texts: V8 hashes
 * strings with a per-process random seed, and nothing here depends on iteration order
 * of the Map.
 */
export class Lru<V> {
  private readonly slot = new Map<string, number>();
  private readonly keys: (string | undefined)[];
  private readonly vals: (V | undefined)[];
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  /** most recent, least recent (-1: empty) */
  private head = -1;
  private tail = -1;
  private free: number[] = [];
  private used = 0;
  evictions = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error('Lru capacity must be at least 1');
    this.keys = new Array<string | undefined>(capacity);
    this.vals = new Array<V | undefined>(capacity);
    this.prev = new Int32Array(capacity).fill(-1);
    this.next = new Int32Array(capacity).fill(-1);
  }

  get size(): number {
    return this.slot.size;
  }

  has(k: string): boolean {
    return this.slot.has(k);
  }

  /** The value, without touching its recency. */
  peek(k: string): V | undefined {
    const i = this.slot.get(k);
    return i === undefined ? undefined : this.vals[i];
  }

  /** The value, made the most recent. */
  get(k: string): V | undefined {
    const i = this.slot.get(k);
    if (i === undefined) return undefined;
    this.toFront(i);
    return this.vals[i];
  }

  /**
   * Set `k` (the most recent). When full, the least recent entry is evicted first and
   * returned (its value may be reused by the caller), else undefined.
   */
  set(k: string, v: V): V | undefined {
    const i = this.slot.get(k);
    if (i !== undefined) {
      this.vals[i] = v;
      this.toFront(i);
      return undefined;
    }
    let evicted: V | undefined;
    let j: number;
    if (this.slot.size >= this.capacity) {
      j = this.tail;
      evicted = this.vals[j];
      this.slot.delete(this.keys[j]!);
      this.unlink(j);
      this.evictions++;
    } else {
      j = this.free.length > 0 ? this.free.pop()! : this.used++;
    }
    this.keys[j] = k;
    this.vals[j] = v;
    this.slot.set(k, j);
    this.linkFront(j);
    return evicted;
  }

  /** The value the next set() of a new key will evict (the least recent, when full), else undefined. */
  nextEvicted(): V | undefined {
    return this.slot.size >= this.capacity ? this.vals[this.tail] : undefined;
  }

  delete(k: string): V | undefined {
    const i = this.slot.get(k);
    if (i === undefined) return undefined;
    const v = this.vals[i];
    this.slot.delete(k);
    this.unlink(i);
    this.keys[i] = undefined;
    this.vals[i] = undefined;
    this.free.push(i);
    return v;
  }

  /** Least recent first (for sweeps; bounded by the capacity). */
  *valuesOldestFirst(): IterableIterator<V> {
    for (let i = this.tail; i !== -1; ) {
      const p = this.prev[i]!;
      yield this.vals[i]!;
      i = p;
    }
  }

  private toFront(i: number): void {
    if (this.head === i) return;
    this.unlink(i);
    this.linkFront(i);
  }

  private linkFront(i: number): void {
    this.prev[i] = -1;
    this.next[i] = this.head;
    if (this.head !== -1) this.prev[this.head] = i;
    this.head = i;
    if (this.tail === -1) this.tail = i;
  }

  private unlink(i: number): void {
    const p = this.prev[i]!;
    const n = this.next[i]!;
    if (p !== -1) this.next[p] = n;
    else if (this.head === i) this.head = n;
    if (n !== -1) this.prev[n] = p;
    else if (this.tail === i) this.tail = p;
    this.prev[i] = -1;
    this.next[i] = -1;
  }
}

/**
 * A bounded table of fixed-width keys (32-bit words): a chained
 * hash index seeded per run (attacker-chosen addresses cannot aim at one chain), a
 * recency list, and a free stack, all in typed arrays: no allocation per lookup or
 * insertion. When full, an insertion evicts the least recently used key of the whole
 * table (never one picked by the hash), so what is kept never depends on the seed;
 * `evictions` counts them. Values live in the caller's own typed arrays, indexed by slot.
 *
 * Use: fill `key` (the scratch key, `width` words), then find() / insert(). Users: the
 * evidence trackers (src/evidence/handshake.ts, clientele.ts). `beforeEvict` lets an
 * owner act on a victim while its key is still there. The IPv6 pair table, which takes
 * a lookup per packet, has its own index of the same policy, specialised to its 8-word
 * key (scan-table6.ts says why).
 */
import { hashIpv6 } from '../net/addr';
import { zeroed } from './arrays';

const NONE = -1;
const EMPTY_U32 = new Uint32Array(0);
const EMPTY_I32 = new Int32Array(0);

export class KeyTable {
  /** the scratch key of the next find()/insert() */
  readonly key: Uint32Array;
  /** the keys, `width` words per slot (empty until the first insertion) */
  keys: Uint32Array = EMPTY_U32;
  private chainHead: Int32Array = EMPTY_I32;
  private chainNext: Int32Array = EMPTY_I32;
  private bucketOf: Int32Array = EMPTY_I32;
  private prev: Int32Array = EMPTY_I32;
  private next: Int32Array = EMPTY_I32;
  private free: Int32Array = EMPTY_I32;
  /** freed slots on the `free` stack */
  private nFree = 0;
  /** slots ever used: 0..used-1 (the next never-used slot is `used`) */
  private used = 0;
  private head = NONE;
  private tail = NONE;
  private readonly mask: number;
  evictions = 0;
  /** the slot the last insert() evicted (its key is gone), or -1 */
  evicted = NONE;
  /** whether the last insert() made a new entry (false: the key was there) */
  fresh = false;
  /** called once, when the first insertion allocates the table (for the owner's value arrays) */
  onAllocate: (() => void) | null = null;

  constructor(
    readonly capacity: number,
    readonly width: number,
    private readonly seed: number,
    /** called with the victim's slot (key still held) before a full table evicts it */
    private readonly beforeEvict: ((slot: number) => void) | null = null,
  ) {
    let nb = 1;
    while (nb < capacity * 2) nb *= 2;
    this.mask = nb - 1;
    this.key = zeroed(Uint32Array, width);
  }

  /**
   * The arrays, made on the first insertion: a replay that never inserts (most captures
   * have no SYN-ACK) never allocates them. Node's allocator writes zeros over a new
   * array's memory, and on the VM of docs/benchmarks.md each first touch of a 4 KiB page
   * cost 30-60 µs: the handshake tracker's two tables (2.2 MiB) were about 5 % of a
   * one-packet replay's start-up. chainNext, prev and next are written for a slot when it
   * is inserted; a never-used slot comes from `used`, so `free` needs no filling either
   * (the slots come in the same order as from the full stack of before: 0, 1, 2, ...,
   * the last freed first).
   */
  private allocate(): void {
    const n = this.capacity;
    this.keys = zeroed(Uint32Array, n * this.width);
    this.chainHead = zeroed(Int32Array, this.mask + 1).fill(NONE);
    this.chainNext = zeroed(Int32Array, n);
    this.bucketOf = zeroed(Int32Array, n);
    this.prev = zeroed(Int32Array, n);
    this.next = zeroed(Int32Array, n);
    this.free = zeroed(Int32Array, n);
    this.onAllocate?.();
  }

  get size(): number {
    return this.used - this.nFree;
  }

  private hash(): number {
    const k = this.key;
    const w = this.width;
    let h = this.seed;
    // the common widths unrolled (an IPv6 address pair: 8 words; an address: 4), the same
    // values as the general loop: the IPv6 pair table hashes every packet
    if (w === 8) h = hashIpv6(hashIpv6(h, k[0]!, k[1]!, k[2]!, k[3]!), k[4]!, k[5]!, k[6]!, k[7]!);
    else if (w === 4) h = hashIpv6(h, k[0]!, k[1]!, k[2]!, k[3]!);
    else for (let i = 0; i < w; i += 4) h = hashIpv6(h, k[i]!, i + 1 < w ? k[i + 1]! : 0, i + 2 < w ? k[i + 2]! : 0, i + 3 < w ? k[i + 3]! : 0);
    return h & this.mask;
  }

  private same(slot: number): boolean {
    const k = this.key;
    const ks = this.keys;
    const o = slot * this.width;
    for (let i = 0; i < this.width; i++) if (ks[o + i] !== k[i]) return false;
    return true;
  }

  /** The slot holding `key`, or -1. Does not change its recency. */
  find(): number {
    if (this.used === this.nFree) return NONE;
    for (let s = this.chainHead[this.hash()]!; s !== NONE; s = this.chainNext[s]!) if (this.same(s)) return s;
    return NONE;
  }

  /** The slot of `key`, made most recent; a new key is inserted (evicting the least recent when full). */
  insert(): number {
    this.evicted = NONE;
    this.fresh = false;
    if (this.keys.length === 0) this.allocate();
    const h = this.hash();
    for (let s = this.chainHead[h]!; s !== NONE; s = this.chainNext[s]!) {
      if (this.same(s)) {
        this.touch(s);
        return s;
      }
    }
    this.fresh = true;
    let slot: number;
    if (this.nFree > 0) slot = this.free[--this.nFree]!;
    else if (this.used < this.capacity) slot = this.used++;
    else {
      slot = this.head;
      if (this.beforeEvict !== null) this.beforeEvict(slot);
      this.remove(slot);
      this.evictions++;
      this.evicted = slot;
      this.nFree--;
    }
    // a plain loop: TypedArray.prototype.set is a builtin call per insertion
    const k = this.key;
    const ks = this.keys;
    const o = slot * this.width;
    for (let i = 0; i < this.width; i++) ks[o + i] = k[i]!;
    this.bucketOf[slot] = h;
    this.chainNext[slot] = this.chainHead[h]!;
    this.chainHead[h] = slot;
    this.append(slot);
    return slot;
  }

  touch(slot: number): void {
    if (slot === this.tail) return;
    this.detach(slot);
    this.append(slot);
  }

  remove(slot: number): void {
    const h = this.bucketOf[slot]!;
    if (this.chainHead[h] === slot) this.chainHead[h] = this.chainNext[slot]!;
    else {
      let p = this.chainHead[h]!;
      while (this.chainNext[p] !== slot) p = this.chainNext[p]!;
      this.chainNext[p] = this.chainNext[slot]!;
    }
    this.detach(slot);
    this.free[this.nFree++] = slot;
  }

  /** The least recently used slot, or -1 when empty. */
  oldest(): number {
    return this.head;
  }

  /** The slot used just after `slot` (towards the most recent), or -1. */
  newer(slot: number): number {
    return this.next[slot]!;
  }

  private append(slot: number): void {
    this.prev[slot] = this.tail;
    this.next[slot] = NONE;
    if (this.tail !== NONE) this.next[this.tail] = slot;
    else this.head = slot;
    this.tail = slot;
  }

  private detach(slot: number): void {
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p !== NONE) this.next[p] = n;
    else this.head = n;
    if (n !== NONE) this.prev[n] = p;
    else this.tail = p;
  }
}

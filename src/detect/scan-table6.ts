/**
 * The scan/flood table for IPv6 pairs: the same detectors, thresholds, timeouts, port
 * lists and reports as the IPv4 table (scan-table.ts, whose episode logic it shares), with
 * a pair index of its own. iplog 2.2.3 never saw IPv6, so there is no geometry to copy;
 * IPv6 addresses are chosen by the sender (a /64 holds 2^64 of them), so:
 *
 *  - lookup: a chained hash table over the 256 bits of (source, destination), hashed with
 *    a per-run random seed (net/addr.ts hashIpv6Pair) so that nobody can aim at one chain;
 *  - bound: `capacity` pairs (512, or 1024 with -a: the IPv4 table's size); a new pair
 *    when full evicts the least recently active pair of the whole table (never a pair
 *    picked by the hash), ending its open episodes at once and counting scan.evicted;
 *  - expiry: the sweep walks the pairs from the least recently active, so the order of
 *    "mode expired" lines (and which pair an eviction picks) never depends on the seed.
 *
 * The index is this table's own rather than the shared KeyTable (key-table.ts, which the
 * evidence trackers use): under a spoofed flood every packet is a new pair that evicts
 * one, and the generic table's scratch-key copy, word loops, eviction callback and chain
 * walk to unlink the victim made the IPv6 replay 0.74 of the IPv4 one (issue 8 B.11,
 * docs/benchmarks.md). Here the packet's words are read once as int32 (never boxed), the
 * hash is one pass over the eight words, each slot keeps its hash (compared before the
 * words), and chains are doubly linked: every step of a lookup, an insertion and an
 * eviction is O(1) apart from the walk of one short chain. Same policy as before (least
 * recently active evicted, freed slots reused last-freed first), so the same output.
 *
 * Addresses are the packet's four words (DecodedPacket.src6/dst6); the smurf detector
 * keys the source /64 (slotForNet64). No allocation per packet; the index's arrays are
 * made on the first insertion (an IPv4-only replay never touches their pages).
 */
import { A, Anomalies } from '../decode/anomalies';
import { release, zeroed } from './arrays';
import { DETECTORS } from './index';
import type { DetectorDef } from './define';
import { EpisodeTable } from './scan-table';
import { hashIpv6Pair, IpAddr } from '../net/addr';

export interface ScanReporter6 {
  detected(type: number, src: IpAddr, dst: IpAddr, dports: number[], sports: number[], count: number, bytes: number, now: number): void;
  ended(type: number, src: IpAddr, dst: IpAddr, count: number, bytes: number, now: number): void;
}

const NONE = -1;
const EMPTY = new Int32Array(0);
const SCAN_EVICTED = A.scanEvicted;
const SCAN_EVICTED_IN_MODE = A.scanEvictedInMode;

export class ScanTable6 extends EpisodeTable {
  readonly capacity: number;
  /** buckets - 1 (at least eight times as many buckets as slots: most chains are empty) */
  private readonly mask: number;
  private readonly seed: number;
  /** per slot, source words 0-3 and destination words 4-7, as int32 */
  private keys = EMPTY;
  /** per slot, the hash of its pair */
  private hashOf = EMPTY;
  /** per bucket, the first slot of its chain */
  private chainHead = EMPTY;
  private chainNext = EMPTY;
  private chainPrev = EMPTY;
  /** the recency list: per slot, the next older / newer slot */
  private older = EMPTY;
  private newer = EMPTY;
  private freeSlots = EMPTY;
  private nFree = 0;
  /** slots ever used: 0..used-1 */
  private used = 0;
  /** least and most recently active slots */
  private oldest = NONE;
  private newest = NONE;

  constructor(
    capacity: number,
    private readonly reporter: ScanReporter6,
    private readonly an: Anomalies,
    seed: number,
    detectors: readonly DetectorDef[] = DETECTORS,
  ) {
    super(capacity, detectors);
    this.capacity = capacity;
    let nb = 1;
    while (nb < capacity * 8) nb *= 2;
    this.mask = nb - 1;
    this.seed = seed | 0;
  }

  private allocate(): void {
    const n = this.capacity;
    this.keys = zeroed(Int32Array, n * 8);
    this.hashOf = zeroed(Int32Array, n);
    this.chainHead = zeroed(Int32Array, this.mask + 1).fill(NONE);
    this.chainNext = zeroed(Int32Array, n);
    this.chainPrev = zeroed(Int32Array, n);
    this.older = zeroed(Int32Array, n);
    this.newer = zeroed(Int32Array, n);
    this.freeSlots = zeroed(Int32Array, n);
  }

  /** Give the typed arrays back for the next engine's tables (detect/arrays.ts); the table is not used again. */
  release(): void {
    release(this);
  }

  /** Pairs currently held. */
  size(): number {
    return this.used - this.nFree;
  }

  /** count() for one packet of pair (s, d): four words each. */
  check(type: number, s: ArrayLike<number>, d: ArrayLike<number>, len: number, sport: number, dport: number, now: number): boolean {
    return this.count(this.slotOf(s[0]! | 0, s[1]! | 0, s[2]! | 0, s[3]! | 0, d, now), type, len, sport, dport, now);
  }

  /** The slot of pair (s, d), four words each, made most recently active; a new pair is linked (evicting the least recent when full). */
  slotFor(s: ArrayLike<number>, d: ArrayLike<number>, now: number): number {
    return this.slotOf(s[0]! | 0, s[1]! | 0, s[2]! | 0, s[3]! | 0, d, now);
  }

  /** slotFor() of (the source's /64, d): the smurf detector's key, as iplog's per /24. */
  slotForNet64(s: ArrayLike<number>, d: ArrayLike<number>, now: number): number {
    return this.slotOf(s[0]! | 0, s[1]! | 0, 0, 0, d, now);
  }

  private slotOf(s0: number, s1: number, s2: number, s3: number, d: ArrayLike<number>, now: number): number {
    const d0 = d[0]! | 0;
    const d1 = d[1]! | 0;
    const d2 = d[2]! | 0;
    const d3 = d[3]! | 0;
    const hv = hashIpv6Pair(this.seed, s0, s1, s2, s3, d0, d1, d2, d3);
    if (this.keys.length === 0) this.allocate();
    const ks = this.keys;
    const bucket = hv & this.mask;
    for (let x = this.chainHead[bucket]!; x !== NONE; x = this.chainNext[x]!) {
      const o = x << 3;
      // the low words first: they are what tells one pair from the next
      if (this.hashOf[x] === hv && ks[o + 3] === s3 && ks[o + 7] === d3 && ks[o + 2] === s2 && ks[o + 1] === s1 && ks[o] === s0 && ks[o + 6] === d2 && ks[o + 5] === d1 && ks[o + 4] === d0) {
        if (x !== this.newest) {
          this.detach(x);
          this.append(x);
        }
        return x;
      }
    }
    let slot: number;
    if (this.nFree > 0) slot = this.freeSlots[--this.nFree]!;
    else if (this.used < this.capacity) slot = this.used++;
    else {
      // full: the least recently active pair goes, its open episodes ended while its key is held
      slot = this.oldest;
      this.an.counts[SCAN_EVICTED]++;
      const bits = this.live[slot]! & this.inMode[slot]!;
      if (bits !== 0 && this.endEpisodes(slot, bits, now)) this.an.counts[SCAN_EVICTED_IN_MODE]++;
      this.unchain(slot);
      this.detach(slot);
    }
    const o = slot << 3;
    ks[o] = s0;
    ks[o + 1] = s1;
    ks[o + 2] = s2;
    ks[o + 3] = s3;
    ks[o + 4] = d0;
    ks[o + 5] = d1;
    ks[o + 6] = d2;
    ks[o + 7] = d3;
    this.hashOf[slot] = hv;
    const first = this.chainHead[bucket]!;
    this.chainNext[slot] = first;
    this.chainPrev[slot] = NONE;
    if (first !== NONE) this.chainPrev[first] = slot;
    this.chainHead[bucket] = slot;
    this.append(slot);
    this.live[slot] = 0;
    this.inMode[slot] = 0;
    return slot;
  }

  private unchain(slot: number): void {
    const p = this.chainPrev[slot]!;
    const n = this.chainNext[slot]!;
    if (p !== NONE) this.chainNext[p] = n;
    else this.chainHead[this.hashOf[slot]! & this.mask] = n;
    if (n !== NONE) this.chainPrev[n] = p;
  }

  private append(slot: number): void {
    this.older[slot] = this.newest;
    this.newer[slot] = NONE;
    if (this.newest !== NONE) this.newer[this.newest] = slot;
    else this.oldest = slot;
    this.newest = slot;
  }

  private detach(slot: number): void {
    const p = this.older[slot]!;
    const n = this.newer[slot]!;
    if (p !== NONE) this.newer[p] = n;
    else this.oldest = n;
    if (n !== NONE) this.older[n] = p;
    else this.newest = p;
  }

  /** Unlink `slot` and put it on the free stack. */
  private removeSlot(slot: number): void {
    this.unchain(slot);
    this.detach(slot);
    this.freeSlots[this.nFree++] = slot;
  }

  private addrOf(slot: number, half: 0 | 4): IpAddr {
    const k = this.keys;
    const o = (slot << 3) + half;
    return IpAddr.v6(k[o]! >>> 0, k[o + 1]! >>> 0, k[o + 2]! >>> 0, k[o + 3]! >>> 0);
  }

  protected detectedAt(slot: number, type: number, dports: number[], sports: number[], count: number, bytes: number, now: number): void {
    this.reporter.detected(type, this.addrOf(slot, 0), this.addrOf(slot, 4), dports, sports, count, bytes, now);
  }

  protected endedAt(slot: number, type: number, count: number, bytes: number, now: number): void {
    this.reporter.ended(type, this.addrOf(slot, 0), this.addrOf(slot, 4), count, bytes, now);
  }

  /** The once-per-second expiry pass: pairs from the least recently active; a pair with nothing live goes. */
  sweep(now: number): void {
    if (now < this.nextDue) return;
    let next = Infinity;
    for (let slot = this.oldest; slot !== NONE; ) {
      const after = this.newer[slot]!;
      if (this.expireSlot(slot, now) === 0) this.removeSlot(slot);
      else if (this.slotNext < next) next = this.slotNext;
      slot = after;
    }
    this.nextDue = next;
  }
}

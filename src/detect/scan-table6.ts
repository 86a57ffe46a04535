/**
 * The scan/flood table for IPv6 pairs: the same detectors, thresholds, timeouts, port
 * lists and reports as the IPv4 table (scan-table.ts, whose episode logic it shares), with
 * a pair index of its own. iplog 2.2.3 never saw IPv6, so there is no geometry to copy;
 * IPv6 addresses are chosen by the sender (a /64 holds 2^64 of them), so:
 *
 *  - lookup: a chained hash table over the 256 bits of (source, destination), hashed with
 *    a per-run random seed (net/addr.ts hashIpv6) so that nobody can aim at one chain;
 *  - bound: `capacity` pairs (512, or 1024 with -a: the IPv4 table's size); a new pair
 *    when full evicts the least recently active pair of the whole table (never a pair
 *    picked by the hash), ending its open episodes at once and counting scan.evicted;
 *  - expiry: the sweep walks the pairs from the least recently active, so the order of
 *    "mode expired" lines (and which pair an eviction picks) never depends on the seed.
 *
 * Addresses are the packet's four words (DecodedPacket.src6/dst6); the smurf detector
 * keys the source /64 (the caller clears the low 64 bits). No allocation per packet.
 */
import { A, Anomalies } from '../decode/anomalies';
import { zeroed } from './arrays';
import { DETECTORS } from './index';
import type { DetectorDef } from './define';
import { EpisodeTable } from './scan-table';
import { IpAddr, hashIpv6 } from '../net/addr';

export interface ScanReporter6 {
  detected(type: number, src: IpAddr, dst: IpAddr, dports: number[], sports: number[], count: number, bytes: number, now: number): void;
  ended(type: number, src: IpAddr, dst: IpAddr, count: number, bytes: number, now: number): void;
}

const NONE = -1;

export class ScanTable6 extends EpisodeTable {
  readonly capacity: number;
  /** per slot: source words 0-3, destination words 4-7 */
  private readonly keys: Uint32Array;
  private readonly chainHead: Int32Array;
  private readonly chainNext: Int32Array;
  private readonly hashMask: number;
  /** recency list: lruHead is the least recently active pair */
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private lruHead = NONE;
  private lruTail = NONE;
  /** free slots, a stack */
  private readonly free: Int32Array;
  private nFree: number;
  private readonly bucketOf: Int32Array;

  constructor(
    capacity: number,
    private readonly reporter: ScanReporter6,
    private readonly an: Anomalies,
    private readonly seed: number,
    detectors: readonly DetectorDef[] = DETECTORS,
  ) {
    super(capacity, detectors);
    this.capacity = capacity;
    let nb = 1;
    while (nb < capacity * 2) nb *= 2;
    this.hashMask = nb - 1;
    this.keys = zeroed(Uint32Array, capacity * 8);
    this.chainHead = zeroed(Int32Array, nb).fill(NONE);
    this.chainNext = zeroed(Int32Array, capacity).fill(NONE);
    this.prev = zeroed(Int32Array, capacity).fill(NONE);
    this.next = zeroed(Int32Array, capacity).fill(NONE);
    this.bucketOf = zeroed(Int32Array, capacity);
    this.free = zeroed(Int32Array, capacity);
    for (let i = 0; i < capacity; i++) this.free[i] = capacity - 1 - i;
    this.nFree = capacity;
  }

  /** Pairs currently held. */
  size(): number {
    return this.capacity - this.nFree;
  }

  /** count() for one packet of pair (s, d): four words each. */
  check(type: number, s: ArrayLike<number>, d: ArrayLike<number>, len: number, sport: number, dport: number, now: number): boolean {
    return this.count(this.slotFor(s[0]!, s[1]!, s[2]!, s[3]!, d, now), type, len, sport, dport, now);
  }

  /** The pair's slot, made most recently active; a new pair is linked (evicting the least recent when full). */
  slotFor(s0: number, s1: number, s2: number, s3: number, d: ArrayLike<number>, now: number): number {
    const d0 = d[0]! >>> 0;
    const d1 = d[1]! >>> 0;
    const d2 = d[2]! >>> 0;
    const d3 = d[3]! >>> 0;
    s0 >>>= 0;
    s1 >>>= 0;
    s2 >>>= 0;
    s3 >>>= 0;
    const h = hashIpv6(hashIpv6(this.seed, s0, s1, s2, s3), d0, d1, d2, d3) & this.hashMask;
    const k = this.keys;
    for (let slot = this.chainHead[h]!; slot !== NONE; slot = this.chainNext[slot]!) {
      const o = slot * 8;
      if (k[o] === s0 && k[o + 1] === s1 && k[o + 2] === s2 && k[o + 3] === s3 && k[o + 4] === d0 && k[o + 5] === d1 && k[o + 6] === d2 && k[o + 7] === d3) {
        this.touch(slot);
        return slot;
      }
    }
    if (this.nFree === 0) this.evict(now);
    const slot = this.free[--this.nFree]!;
    const o = slot * 8;
    k[o] = s0;
    k[o + 1] = s1;
    k[o + 2] = s2;
    k[o + 3] = s3;
    k[o + 4] = d0;
    k[o + 5] = d1;
    k[o + 6] = d2;
    k[o + 7] = d3;
    this.bucketOf[slot] = h;
    this.chainNext[slot] = this.chainHead[h]!;
    this.chainHead[h] = slot;
    this.live[slot] = 0;
    this.inMode[slot] = 0;
    this.append(slot);
    return slot;
  }

  private addrOf(slot: number, half: 0 | 4): IpAddr {
    const o = slot * 8 + half;
    return IpAddr.v6(this.keys[o]!, this.keys[o + 1]!, this.keys[o + 2]!, this.keys[o + 3]!);
  }

  protected detectedAt(slot: number, type: number, dports: number[], sports: number[], count: number, bytes: number, now: number): void {
    this.reporter.detected(type, this.addrOf(slot, 0), this.addrOf(slot, 4), dports, sports, count, bytes, now);
  }

  protected endedAt(slot: number, type: number, count: number, bytes: number, now: number): void {
    this.reporter.ended(type, this.addrOf(slot, 0), this.addrOf(slot, 4), count, bytes, now);
  }

  private append(slot: number): void {
    this.prev[slot] = this.lruTail;
    this.next[slot] = NONE;
    if (this.lruTail !== NONE) this.next[this.lruTail] = slot;
    else this.lruHead = slot;
    this.lruTail = slot;
  }

  private detach(slot: number): void {
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p !== NONE) this.next[p] = n;
    else this.lruHead = n;
    if (n !== NONE) this.prev[n] = p;
    else this.lruTail = p;
  }

  private touch(slot: number): void {
    if (slot === this.lruTail) return;
    this.detach(slot);
    this.append(slot);
  }

  /** Unlink a pair from its chain and the recency list, and free its slot. */
  private remove(slot: number): void {
    const h = this.bucketOf[slot]!;
    if (this.chainHead[h] === slot) this.chainHead[h] = this.chainNext[slot]!;
    else {
      let p = this.chainHead[h]!;
      while (this.chainNext[p] !== slot) p = this.chainNext[p]!;
      this.chainNext[p] = this.chainNext[slot]!;
    }
    this.detach(slot);
    this.live[slot] = 0;
    this.inMode[slot] = 0;
    this.free[this.nFree++] = slot;
  }

  private evict(now: number): void {
    const victim = this.lruHead;
    this.an.counts[A.scanEvicted]++;
    const bits = this.live[victim]! & this.inMode[victim]!;
    if (bits !== 0 && this.endEpisodes(victim, bits, now)) this.an.counts[A.scanEvictedInMode]++;
    this.remove(victim);
  }

  /** The once-per-second expiry pass: pairs from the least recently active; a pair with nothing live goes. */
  sweep(now: number): void {
    if (now < this.nextDue) return;
    let next = Infinity;
    for (let slot = this.lruHead; slot !== NONE; ) {
      const after = this.next[slot]!;
      if (this.expireSlot(slot, now) === 0) this.remove(slot);
      else if (this.slotNext < next) next = this.slotNext;
      slot = after;
    }
    this.nextDue = next;
  }
}

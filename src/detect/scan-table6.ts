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
import { release } from './arrays';
import { KeyTable } from './key-table';
import { DETECTORS } from './index';
import type { DetectorDef } from './define';
import { EpisodeTable } from './scan-table';
import { IpAddr } from '../net/addr';

export interface ScanReporter6 {
  detected(type: number, src: IpAddr, dst: IpAddr, dports: number[], sports: number[], count: number, bytes: number, now: number): void;
  ended(type: number, src: IpAddr, dst: IpAddr, count: number, bytes: number, now: number): void;
}

const NONE = -1;

export class ScanTable6 extends EpisodeTable {
  readonly capacity: number;
  /** the pairs' index and recency list: per slot, source words 0-3, destination words 4-7 */
  private readonly pairs: KeyTable;

  constructor(
    capacity: number,
    private readonly reporter: ScanReporter6,
    private readonly an: Anomalies,
    seed: number,
    detectors: readonly DetectorDef[] = DETECTORS,
  ) {
    super(capacity, detectors);
    this.capacity = capacity;
    this.pairs = new KeyTable(capacity, 8, seed, (victim) => this.evicting(victim));
  }

  /** Give the typed arrays back for the next engine's tables (detect/arrays.ts); the table is not used again. */
  release(): void {
    release(this.pairs);
    release(this);
  }

  /** Pairs currently held. */
  size(): number {
    return this.pairs.size;
  }

  /** count() for one packet of pair (s, d): four words each. */
  check(type: number, s: ArrayLike<number>, d: ArrayLike<number>, len: number, sport: number, dport: number, now: number): boolean {
    return this.count(this.slotFor(s[0]!, s[1]!, s[2]!, s[3]!, d, now), type, len, sport, dport, now);
  }

  /** The pair's slot, made most recently active; a new pair is linked (evicting the least recent when full). */
  slotFor(s0: number, s1: number, s2: number, s3: number, d: ArrayLike<number>, now: number): number {
    const k = this.pairs.key;
    k[0] = s0;
    k[1] = s1;
    k[2] = s2;
    k[3] = s3;
    k[4] = d[0]!;
    k[5] = d[1]!;
    k[6] = d[2]!;
    k[7] = d[3]!;
    this.now = now;
    const slot = this.pairs.insert();
    if (this.pairs.fresh) {
      this.live[slot] = 0;
      this.inMode[slot] = 0;
    }
    return slot;
  }

  private addrOf(slot: number, half: 0 | 4): IpAddr {
    const k = this.pairs.keys;
    const o = slot * 8 + half;
    return IpAddr.v6(k[o]!, k[o + 1]!, k[o + 2]!, k[o + 3]!);
  }

  protected detectedAt(slot: number, type: number, dports: number[], sports: number[], count: number, bytes: number, now: number): void {
    this.reporter.detected(type, this.addrOf(slot, 0), this.addrOf(slot, 4), dports, sports, count, bytes, now);
  }

  protected endedAt(slot: number, type: number, count: number, bytes: number, now: number): void {
    this.reporter.ended(type, this.addrOf(slot, 0), this.addrOf(slot, 4), count, bytes, now);
  }

  /** the packet time of the slotFor() under way (an eviction ends the victim's episodes then) */
  private now = 0;

  /** A full table is about to evict `victim`, the least recently active pair: end its open episodes. */
  private evicting(victim: number): void {
    this.an.counts[A.scanEvicted]++;
    const bits = this.live[victim]! & this.inMode[victim]!;
    if (bits !== 0 && this.endEpisodes(victim, bits, this.now)) this.an.counts[A.scanEvictedInMode]++;
  }

  /** The once-per-second expiry pass: pairs from the least recently active; a pair with nothing live goes. */
  sweep(now: number): void {
    if (now < this.nextDue) return;
    let next = Infinity;
    for (let slot = this.pairs.oldest(); slot !== NONE; ) {
      const after = this.pairs.newer(slot);
      if (this.expireSlot(slot, now) === 0) this.pairs.remove(slot);
      else if (this.slotNext < next) next = this.slotNext;
      slot = after;
    }
    this.nextDue = next;
  }
}

/**
 * The scan/flood table of iplog 2.2.3 (iplog_scan.c check_scan(), expire_scans()),
 * in typed arrays: no allocation per packet, a fixed memory bound.
 *
 * State is kept per (source, destination) pair, with one sub-record per detector.
 * Geometry (compat): B buckets (128, or 256 in promiscuous mode) of at most 4 pairs; the
 * bucket is (first octet of src) XOR (first octet of dst) — what (src ^ dst) & (B-1)
 * gives on the raw network-order words of a little-endian host. Each bucket is a list:
 * new pairs are prepended; when a fifth pair arrives, the pair with the oldest "last
 * packet" time is evicted (the last such in list order) and any of its sub-records that
 * were in mode are reported as ended at once. Every packet of a pair refreshes the
 * deadline of its sub-record (sliding timeout), and a sub-record whose count reaches the
 * threshold is "in mode": its first such packet produces the detection line, later ones
 * are silent. The expiry sweep (once per second of packet time) deletes sub-records
 * whose deadline has come, reporting those that were in mode; a pair is unlinked when
 * it has no live sub-record — except that, as in the original, once a bucket's walk has
 * met a pair with a live sub-record, later empty pairs of that bucket linger until a
 * later sweep.
 *
 * Counters are doubles: unlike the original's 16-bit counter they never wrap (a fix
 * applied in every profile).
 *
 * Bounds: B x 4 pairs; per sub-record 5 source and 10 destination ports. Memory for
 * B = 256: about 1024 pairs x 8 sub-records x ~70 bytes.
 */
import { A, Anomalies } from '../decode/anomalies';
import { zeroed } from './arrays';
import { DETECTORS } from './index';
import { MAX_DETECTORS, type DetectorDef } from './define';

const SCAN_EVICTED = A.scanEvicted;
const SCAN_EVICTED_IN_MODE = A.scanEvictedInMode;
import { SCAN_DST_PORTS as DEF_DST_PORTS, SCAN_SRC_PORTS as DEF_SRC_PORTS } from './define';

const SCAN_DST_PORTS = DEF_DST_PORTS;
const SCAN_SRC_PORTS = DEF_SRC_PORTS;

export interface ScanReporter {
  /**
   * A pair's sub-record reached its threshold (the packet that did it is `now`); the
   * distinct ports seen, first-seen order, at most 10 destination and 5 source ports.
   */
  detected(type: number, src: number, dst: number, dports: number[], sports: number[], count: number, bytes: number, now: number): void;
  /** an in-mode sub-record ended (expiry or eviction) */
  ended(type: number, src: number, dst: number, count: number, bytes: number, now: number): void;
}

const PER_BUCKET = 4;
const NO_PORT = -1;
/** per sub-record numbers, one stride: packet count, byte count, deadline */
const N_COUNT = 0;
const N_BYTES = 1;
const N_EXPIRE = 2;
const N_STRIDE = 3;

/*
 * Layout, chosen by the benchmark (test/bench/run.ts, full pipeline on a spoofed flood,
 * where every packet evicts a pair): addresses are int32 (callers pass `addr | 0`) so they
 * are never boxed as doubles; which sub-records of a pair exist is one bitmask per pair,
 * so eviction, unlinking and the sweep touch only live sub-records; a sub-record's numbers
 * share one Float64Array stride.
 */
/**
 * The per-detector sub-records ("episodes") of a pair table: counting, port lists,
 * thresholds, deadlines and the reports. The pair index (which slot a pair lives in, and
 * which pair is evicted) is the subclass's: iplog's buckets for IPv4 (ScanTable), a
 * seeded hash with global LRU eviction for IPv6 (ScanTable6, scan-table6.ts).
 */
export abstract class EpisodeTable {
  protected readonly last: Float64Array;
  /** bit t set: the pair has a sub-record for detector t (32 bits: MAX_DETECTORS) */
  protected readonly live: Int32Array;
  /** bit t set: that sub-record has reached its threshold (an eviction must report it) */
  protected readonly inMode: Int32Array;
  /** detectors (sub-records per pair) */
  protected readonly total: number;
  // sub-records, index i = slot * total + type
  protected readonly num: Float64Array;
  private readonly logged: Uint8Array;
  private readonly nSports: Uint8Array;
  private readonly nDports: Uint8Array;
  private readonly sports: Uint16Array;
  private readonly dports: Uint16Array;
  protected readonly thresholds: Float64Array;
  private readonly timeouts: Float64Array;
  /** no deadline is earlier than this (a lower bound; exact after each sweep) */
  protected nextDue = Infinity;
  /** set by expireSlot(): the earliest deadline left in the slot (Infinity if none) */
  protected slotNext = Infinity;

  constructor(slots: number, detectors: readonly DetectorDef[]) {
    // each pair keeps one bit per detector in an Int32Array mask: a detector past bit 31
    // would never fire, so refuse loudly
    if (detectors.length > MAX_DETECTORS) {
      throw new Error(`scan table: ${detectors.length} detectors registered, its per-pair masks hold ${MAX_DETECTORS}`);
    }
    const total = detectors.length;
    this.total = total;
    const subs = slots * total;
    this.last = zeroed(Float64Array, slots);
    this.live = zeroed(Int32Array, slots);
    this.inMode = zeroed(Int32Array, slots);
    this.num = zeroed(Float64Array, subs * N_STRIDE);
    this.logged = zeroed(Uint8Array, subs);
    this.nSports = zeroed(Uint8Array, subs);
    this.nDports = zeroed(Uint8Array, subs);
    this.sports = zeroed(Uint16Array, subs * SCAN_SRC_PORTS);
    this.dports = zeroed(Uint16Array, subs * SCAN_DST_PORTS);
    this.thresholds = Float64Array.from(detectors, (d) => d.threshold);
    this.timeouts = Float64Array.from(detectors, (d) => d.timeoutSec);
  }

  /** a sub-record of `slot` reached its threshold */
  protected abstract detectedAt(slot: number, type: number, dports: number[], sports: number[], count: number, bytes: number, now: number): void;
  /** an in-mode sub-record of `slot` ended */
  protected abstract endedAt(slot: number, type: number, count: number, bytes: number, now: number): void;

  /** count() of check(), on a slot from slotFor() taken for this same packet */
  count(slot: number, type: number, len: number, sport: number, dport: number, now: number): boolean {
    this.last[slot] = now;
    const i = slot * this.total + type;
    const j = i * N_STRIDE;
    const num = this.num;
    const bit = 1 << type;
    const liveBits = this.live[slot]!;
    if ((liveBits & bit) === 0) {
      this.live[slot] = liveBits | bit;
      this.inMode[slot] &= ~bit;
      this.logged[i] = 0;
      this.nSports[i] = 0;
      this.nDports[i] = 0;
      num[j + N_COUNT] = 0;
      num[j + N_BYTES] = 0;
    }
    const exp = now + this.timeouts[type]!;
    num[j + N_EXPIRE] = exp;
    if (exp < this.nextDue) this.nextDue = exp;
    num[j + N_BYTES] += len;
    if (sport !== NO_PORT) {
      const ns = this.nSports[i]!;
      if (ns < SCAN_SRC_PORTS) {
        const pb = i * SCAN_SRC_PORTS;
        let k = 0;
        while (k < ns && this.sports[pb + k] !== sport) k++;
        if (k === ns) {
          this.sports[pb + ns] = sport;
          this.nSports[i] = ns + 1;
        }
      }
    }
    if (dport !== NO_PORT) {
      const nd = this.nDports[i]!;
      if (nd < SCAN_DST_PORTS) {
        const pb = i * SCAN_DST_PORTS;
        let k = 0;
        while (k < nd && this.dports[pb + k] !== dport) k++;
        if (k === nd) {
          this.dports[pb + nd] = dport;
          this.nDports[i] = nd + 1;
        }
      }
    }
    const c = (num[j + N_COUNT] += 1);
    if (c < this.thresholds[type]!) return false;
    this.inMode[slot] |= bit;
    if (this.logged[i] === 0) {
      this.logged[i] = 1;
      this.detectedAt(
        slot,
        type,
        Array.from(this.dports.subarray(i * SCAN_DST_PORTS, i * SCAN_DST_PORTS + this.nDports[i]!)),
        Array.from(this.sports.subarray(i * SCAN_SRC_PORTS, i * SCAN_SRC_PORTS + this.nSports[i]!)),
        c,
        num[j + N_BYTES]!,
        now,
      );
    }
    return true;
  }

  /** Report the end of every in-mode sub-record of `slot` whose bit is in `bits`, lowest type first. */
  protected endEpisodes(slot: number, bits: number, now: number): boolean {
    let any = false;
    for (let m = bits; m !== 0; m &= m - 1) {
      const t = 31 - Math.clz32(m & -m);
      const j = (slot * this.total + t) * N_STRIDE;
      const count = this.num[j + N_COUNT]!;
      if (count >= this.thresholds[t]!) {
        any = true;
        this.endedAt(slot, t, count, this.num[j + N_BYTES]!, now);
      }
    }
    return any;
  }

  /**
   * Delete the sub-records of `slot` whose deadline has come at `now`, reporting those in
   * mode (lowest type first); returns the live bits left and sets `slotNext`.
   */
  protected expireSlot(slot: number, now: number): number {
    let bits = this.live[slot]!;
    let next = Infinity;
    for (let m = bits; m !== 0; m &= m - 1) {
      const t = 31 - Math.clz32(m & -m);
      const j = (slot * this.total + t) * N_STRIDE;
      const exp = this.num[j + N_EXPIRE]!;
      if (now >= exp) {
        if (this.num[j + N_COUNT]! >= this.thresholds[t]!) this.endedAt(slot, t, this.num[j + N_COUNT]!, this.num[j + N_BYTES]!, now);
        bits &= ~(1 << t);
      } else if (exp < next) next = exp;
    }
    this.live[slot] = bits;
    this.slotNext = next;
    return bits;
  }

  /** Earliest time at which a sweep may have work (Infinity when the table is empty). */
  due(): number {
    return this.nextDue;
  }
}

export class ScanTable extends EpisodeTable {
  readonly buckets: number;
  private readonly mask: number;
  /** list order per bucket: slot numbers, head first */
  private readonly order: Int16Array;
  private readonly cnt: Uint8Array;
  private readonly used: Uint8Array;
  private readonly src: Int32Array;
  private readonly dst: Int32Array;

  constructor(
    buckets: number,
    private readonly reporter: ScanReporter,
    private readonly an: Anomalies,
    detectors: readonly DetectorDef[] = DETECTORS,
  ) {
    if ((buckets & (buckets - 1)) !== 0 || buckets < 1) throw new Error('scan table size must be a power of two');
    super(buckets * PER_BUCKET, detectors);
    this.buckets = buckets;
    this.mask = buckets - 1;
    const slots = buckets * PER_BUCKET;
    this.order = zeroed(Int16Array, slots);
    this.cnt = zeroed(Uint8Array, buckets);
    this.used = zeroed(Uint8Array, slots);
    this.src = zeroed(Int32Array, slots);
    this.dst = zeroed(Int32Array, slots);
  }

  protected detectedAt(slot: number, type: number, dports: number[], sports: number[], count: number, bytes: number, now: number): void {
    this.reporter.detected(type, this.src[slot]! >>> 0, this.dst[slot]! >>> 0, dports, sports, count, bytes, now);
  }

  protected endedAt(slot: number, type: number, count: number, bytes: number, now: number): void {
    this.reporter.ended(type, this.src[slot]! >>> 0, this.dst[slot]! >>> 0, count, bytes, now);
  }

  /** Pairs currently linked (for tests and stats). */
  size(): number {
    let n = 0;
    for (let i = 0; i < this.buckets; i++) n += this.cnt[i]!;
    return n;
  }

  /**
   * Count one packet for detector `type`; returns true when the pair is in mode for it
   * (the caller then suppresses the packet's own line). Addresses as int32 (`addr | 0`:
   * uint32 works too, int32 spares the conversion);
   * `sport`/`dport` = -1: no ports.
   */
  check(type: number, src: number, dst: number, len: number, sport: number, dport: number, now: number): boolean {
    return this.count(this.slotFor(src, dst, now), type, len, sport, dport, now);
  }

  /**
   * The pair's slot, linked (and another pair evicted) if it is new. For callers that count
   * one packet for two detectors of the same pair (SYN scan, then port scan): one lookup.
   */
  slotFor(src: number, dst: number, now: number): number {
    // int32 whatever the caller passed (uint32 would never compare equal to the stored int32)
    src |= 0;
    dst |= 0;
    const h = ((src ^ dst) >>> 24) & this.mask;
    const base = h * PER_BUCKET;
    const n = this.cnt[h]!;
    for (let k = 0; k < n; k++) {
      const s = this.order[base + k]!;
      if (this.src[s] === src && this.dst[s] === dst) return s;
    }
    return this.insert(h, src, dst, now);
  }

  /** Link a new pair at the head of bucket h, evicting the oldest if the bucket is full. */
  private insert(h: number, src: number, dst: number, now: number): number {
    const base = h * PER_BUCKET;
    let n = this.cnt[h]!;
    if (n >= PER_BUCKET) {
      // the oldest "last packet" time; `<=` makes the last such in list order win
      let victimPos = 0;
      let oldest = Infinity;
      for (let k = 0; k < n; k++) {
        const t = this.last[this.order[base + k]!]!;
        if (t <= oldest) {
          oldest = t;
          victimPos = k;
        }
      }
      const victim = this.order[base + victimPos]!;
      this.an.counts[SCAN_EVICTED]++;
      // only sub-records that reached their threshold are reported (most evictions have none)
      const bits = this.live[victim]! & this.inMode[victim]!;
      if (bits !== 0 && this.endEpisodes(victim, bits, now)) this.an.counts[SCAN_EVICTED_IN_MODE]++;
      this.unlink(h, victimPos);
      n--;
    }
    // a free slot of this bucket's region
    let slot = base;
    while (this.used[slot] === 1) slot++;
    this.used[slot] = 1;
    this.src[slot] = src;
    this.dst[slot] = dst;
    for (let k = n; k > 0; k--) this.order[base + k] = this.order[base + k - 1]!;
    this.order[base] = slot;
    this.cnt[h] = n + 1;
    return slot;
  }

  private unlink(h: number, pos: number): void {
    const base = h * PER_BUCKET;
    const n = this.cnt[h]!;
    const slot = this.order[base + pos]!;
    this.used[slot] = 0;
    this.live[slot] = 0;
    this.inMode[slot] = 0;
    for (let k = pos; k < n - 1; k++) this.order[base + k] = this.order[base + k + 1]!;
    this.cnt[h] = n - 1;
  }

  /** The once-per-second expiry pass at network time `now`. */
  sweep(now: number): void {
    if (now < this.nextDue) return;
    let next = Infinity;
    for (let h = 0; h < this.buckets; h++) {
      const base = h * PER_BUCKET;
      // iplog's remove_entry flag is per bucket walk, not per pair (see the file comment)
      let removeEntry = true;
      let pos = 0;
      while (pos < this.cnt[h]!) {
        const slot = this.order[base + pos]!;
        const bits = this.expireSlot(slot, now);
        if (bits !== 0) {
          removeEntry = false;
          if (this.slotNext < next) next = this.slotNext;
        }
        if (removeEntry) this.unlink(h, pos);
        else {
          // a lingering empty pair is unlinked by a later sweep: come back next second
          if (bits === 0 && now + 1 < next) next = now + 1;
          pos++;
        }
      }
    }
    this.nextDue = next;
  }
}

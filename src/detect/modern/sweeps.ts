/**
 * Sweep state per source (port-sweep.ts, ping-sweep.ts): for each source slot of the
 * source table, SWEEP_CANDIDATES (protocol, port) pairs (ICMP echo: protocol 1, port 8),
 * each with the last SWEEP_DSTS distinct protected destinations whose first contact
 * failed on it (four address words and the second). A failure on a pair the source has no
 * candidate for replaces the candidate failed on least recently; a new destination of a
 * full candidate replaces its least recently failed one (lowest index on a tie). Fixed
 * typed arrays indexed by the source slot: nothing allocated per packet, nothing that
 * depends on the hash seed.
 */
import { IpAddr } from '../../net/addr';

export const SWEEP_CANDIDATES = 2;
export const SWEEP_DSTS = 8;

export const SWEEP_BYTES = SWEEP_CANDIDATES * (4 + 8 + 1 + SWEEP_DSTS * (16 + 8)) + 1;

export class Sweeps {
  private readonly key: Int32Array;
  private readonly lastSec: Float64Array;
  private readonly n: Uint8Array;
  private readonly dst: Int32Array;
  private readonly sec: Float64Array;
  /** the candidate of the last hit() */
  cand = 0;

  constructor(sources: number) {
    const C = sources * SWEEP_CANDIDATES;
    this.key = new Int32Array(C);
    this.lastSec = new Float64Array(C);
    this.n = new Uint8Array(C);
    this.dst = new Int32Array(C * SWEEP_DSTS * 4);
    this.sec = new Float64Array(C * SWEEP_DSTS);
  }

  reset(s: number): void {
    for (let c = s * SWEEP_CANDIDATES; c < (s + 1) * SWEEP_CANDIDATES; c++) {
      this.key[c] = -1;
      this.n[c] = 0;
      this.lastSec[c] = -1e9;
    }
  }

  /**
   * Source s failed a first contact to (proto, port) on destination `d` (words at off) at
   * `now`: the number of distinct destinations failed on that pair within `win` s.
   */
  hit(s: number, proto: number, port: number, d: Int32Array, off: number, now: number, win: number): number {
    const k = (proto << 16) | port;
    const b = s * SWEEP_CANDIDATES;
    let c = -1;
    let lru = b;
    for (let i = b; i < b + SWEEP_CANDIDATES; i++) {
      if (this.key[i] === k) c = i;
      if (this.lastSec[i]! < this.lastSec[lru]!) lru = i;
    }
    if (c < 0) {
      c = lru;
      this.key[c] = k;
      this.n[c] = 0;
    }
    this.cand = c;
    this.lastSec[c] = now;
    const n = this.n[c]!;
    const base = c * SWEEP_DSTS;
    let slot = -1;
    let old = 0;
    for (let i = 0; i < n; i++) {
      const j = (base + i) * 4;
      if (this.dst[j] === d[off] && this.dst[j + 1] === d[off + 1] && this.dst[j + 2] === d[off + 2] && this.dst[j + 3] === d[off + 3]) slot = i;
      if (this.sec[base + i]! < this.sec[base + old]!) old = i;
    }
    if (slot < 0) {
      slot = n < SWEEP_DSTS ? n : old;
      if (n < SWEEP_DSTS) this.n[c] = n + 1;
      const j = (base + slot) * 4;
      for (let w = 0; w < 4; w++) this.dst[j + w] = d[off + w]!;
    }
    this.sec[base + slot] = now;
    let count = 0;
    for (let i = 0; i < this.n[c]!; i++) if (now - this.sec[base + i]! < win) count++;
    return count;
  }

  /** the covering prefix of candidate c's destinations within the window (for the line) */
  prefix(c: number, fam: number, now: number, win: number): { net: IpAddr; len: number } {
    const base = c * SWEEP_DSTS;
    const words = fam === 4 ? 1 : 4;
    let first = -1;
    let len = fam === 4 ? 32 : 128;
    for (let i = 0; i < this.n[c]!; i++) {
      if (now - this.sec[base + i]! >= win) continue;
      if (first < 0) {
        first = i;
        continue;
      }
      let l = 0;
      for (let w = 0; w < words; w++) {
        const x = (this.dst[(base + first) * 4 + w]! ^ this.dst[(base + i) * 4 + w]!) >>> 0;
        if (x === 0) {
          l += 32;
          continue;
        }
        l += Math.clz32(x);
        break;
      }
      if (l < len) len = l;
    }
    const j = (base + (first < 0 ? 0 : first)) * 4;
    const mask = (bit: number): number => {
      // the mask of word w given the prefix length
      const keep = len - bit;
      return keep >= 32 ? 0xffffffff : keep <= 0 ? 0 : (0xffffffff << (32 - keep)) >>> 0;
    };
    if (fam === 4) return { net: IpAddr.v4((this.dst[j]! & mask(0)) >>> 0), len };
    return {
      net: IpAddr.v6((this.dst[j]! & mask(0)) >>> 0, (this.dst[j + 1]! & mask(32)) >>> 0, (this.dst[j + 2]! & mask(64)) >>> 0, (this.dst[j + 3]! & mask(96)) >>> 0),
      len,
    };
  }

  protoOf(c: number): number {
    return this.key[c]! >>> 16;
  }
}

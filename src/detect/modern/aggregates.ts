/**
 * The modern profile's aggregate state (MODERN.md §5.3 AggTable): one entry per
 * (kind, destination, port), for the detectors that judge a destination rather than a
 * source — SYN flood (syn-flood.ts: a destination's entry, port 0, and a (destination, port)
 * entry per port), distributed scan (distributed-scan.ts), decoy scan
 * (decoy-scan.ts: the episode of its line) and UDP flood to closed ports (udp-flood.ts).
 *
 * Each entry holds a ring of RING buckets (a true sliding window: bucket width 1 s for
 * floods, 6 s for the 60-s scan window), a second ring of completed handshakes, the
 * exact set of the last AGG_K distinct sources seen (address words, last second, packets;
 * when full the least recently seen is replaced — lowest index on a tie — so which one
 * goes never depends on the hash seed), up to AGG_PORTS distinct ports with their last
 * second, and the episode (mode, packets, bytes, last counted second, the named source
 * of a per-source form). The table is a KeyedTable (seeded hash, eviction by age; entries
 * in mode are pinned) sized at start from --state-memory: nothing is allocated per packet.
 *
 * Sources are keyed as the source table keys them: IPv4 address, IPv6 /64 (two words).
 */
import { KeyedTable } from './table';

export const AK_SYN = 1;
export const AK_DSCAN = 2;
export const AK_DECOY = 3;
export const AK_UDP = 4;
/** SYN flood, the destination's entry (all its ports; port 0 in the key) */
export const AK_SYND = 5;

/** key: kind<<24 | family<<16 | port, then the destination's 4 words */
const AW = 5;
export const AGG_RING = 10;
/** distinct sources kept per entry (above every sources threshold: 50, 10) */
export const AGG_K = 64;
/** distinct ports kept per entry (distributed scan: 10 needed; the line lists 10) */
export const AGG_PORTS = 16;

/**
 * SYN-flood admission (aggregate-detect.ts syn()): entries per aggregate entry, and bytes per
 * entry (key, the first SYN's second, length, source words and port)
 */
export const SYN_ADMIT_PER_ENTRY = 4;
export const SYN_ADMIT_BYTES = KeyedTable.bytesPerEntry(AW) + 8 + 16;

export const AGG_BYTES = KeyedTable.bytesPerEntry(AW) + AGG_RING * 12 + AGG_K * 16 + 1 + AGG_PORTS * 6 + 1 + 1 + 8 + 8 + 8 + 8 + 16 + 1 + 4 + 2;

export class Aggregates {
  readonly t: KeyedTable;
  readonly ringCnt: Uint32Array;
  readonly ringDone: Uint32Array;
  readonly ringStamp: Float64Array;
  readonly srcW: Int32Array;
  readonly srcSec: Float64Array;
  readonly srcCnt: Uint32Array;
  readonly srcN: Uint8Array;
  readonly ports: Uint16Array;
  readonly portSec: Float64Array;
  readonly portN: Uint8Array;
  /** 0 idle, 1 in mode */
  readonly state: Uint8Array;
  readonly count: Float64Array;
  readonly bytes: Float64Array;
  readonly last: Float64Array;
  /** UDP: the last second our ICMP port unreachable showed the port closed */
  readonly closedSec: Float64Array;
  /** the source a per-source form named (family 0: many sources) */
  readonly fromW: Int32Array;
  readonly fromFam: Uint8Array;
  readonly fromSlot: Int32Array;
  readonly fromSport: Uint16Array;
  /** entries in mode (their episode ends by the packet clock) */
  readonly modeList: Int32Array;
  readonly modeGen: Int32Array;
  modeN = 0;

  constructor(
    readonly capacity: number,
    seed: number,
    onEvict: (slot: number, pinned: boolean) => void,
  ) {
    const A = capacity;
    this.t = new KeyedTable(A, AW, seed, onEvict);
    this.ringCnt = new Uint32Array(A * AGG_RING);
    this.ringDone = new Uint32Array(A * AGG_RING);
    this.ringStamp = new Float64Array(A * AGG_RING);
    this.srcW = new Int32Array(A * AGG_K * 2);
    this.srcSec = new Float64Array(A * AGG_K);
    this.srcCnt = new Uint32Array(A * AGG_K);
    this.srcN = new Uint8Array(A);
    this.ports = new Uint16Array(A * AGG_PORTS);
    this.portSec = new Float64Array(A * AGG_PORTS);
    this.portN = new Uint8Array(A);
    this.state = new Uint8Array(A);
    this.count = new Float64Array(A);
    this.bytes = new Float64Array(A);
    this.last = new Float64Array(A);
    this.closedSec = new Float64Array(A);
    this.fromW = new Int32Array(A * 4);
    this.fromFam = new Uint8Array(A);
    this.fromSlot = new Int32Array(A);
    this.fromSport = new Uint16Array(A);
    this.modeList = new Int32Array(A);
    this.modeGen = new Int32Array(A);
  }

  /** fill the key: kind, destination (family, words) and port */
  key(kind: number, fam: number, d0: number, d1: number, d2: number, d3: number, port: number): void {
    const k = this.t.k;
    k[0] = (kind << 24) | (fam << 16) | port;
    k[1] = d0;
    k[2] = d1;
    k[3] = d2;
    k[4] = d3;
  }

  /** the entry of the key in `t.k`, or -1; `create`: made (idle) when absent */
  entry(create: boolean): number {
    const t = this.t;
    let a = t.find();
    if (a >= 0) {
      t.touch(a);
      return a;
    }
    if (!create) return -1;
    return this.create();
  }

  /** a new (idle) entry for the key in `t.k`, absent (its hash in t.lastHash: find() of it was the last call on t) */
  create(): number {
    const a = this.t.add(this.t.lastHash);
    // a plain loop: a builtin call per range costs more than the stores
    for (let j = a * AGG_RING, e = j + AGG_RING; j < e; j++) this.ringStamp[j] = -1;
    this.srcN[a] = 0;
    this.portN[a] = 0;
    this.state[a] = 0;
    this.count[a] = 0;
    this.bytes[a] = 0;
    this.last[a] = -1e9;
    this.closedSec[a] = -1e9;
    this.fromFam[a] = 0;
    return a;
  }

  kindOf(a: number): number {
    return this.t.keys[a * AW]! >>> 24;
  }

  portOf(a: number): number {
    return this.t.keys[a * AW]! & 0xffff;
  }

  familyOf(a: number): number {
    return (this.t.keys[a * AW]! >>> 16) & 0xff;
  }

  dstWord(a: number, i: number): number {
    return this.t.keys[a * AW + 1 + i]!;
  }

  /** add n (and `done` completions) at second `now` to the ring of buckets of width bw */
  bump(a: number, now: number, bw: number, n: number, done: number): void {
    const b = Math.floor(now / bw);
    const j = a * AGG_RING + (b % AGG_RING);
    if (this.ringStamp[j] !== b) {
      this.ringStamp[j] = b;
      this.ringCnt[j] = 0;
      this.ringDone[j] = 0;
    }
    this.ringCnt[j] = (this.ringCnt[j]! + n) >>> 0;
    this.ringDone[j] = (this.ringDone[j]! + done) >>> 0;
  }

  /** sum over the last `buckets` buckets of width bw ending at `now` (done: the completions ring) */
  sum(a: number, now: number, bw: number, buckets: number, done: boolean): number {
    const b = Math.floor(now / bw);
    const r = done ? this.ringDone : this.ringCnt;
    let s = 0;
    for (let j = a * AGG_RING; j < a * AGG_RING + AGG_RING; j++) if (this.ringStamp[j]! > b - buckets) s += r[j]!;
    return s;
  }

  /** one packet from source (w0, w1) at `now`; a set entry idle for `win` s starts a new count */
  addSource(a: number, w0: number, w1: number, now: number, win: number): void {
    w0 |= 0;
    w1 |= 0;
    const base = a * AGG_K;
    const n = this.srcN[a]!;
    const w = this.srcW;
    let oldest = -1;
    let oldSec = Infinity;
    for (let i = 0; i < n; i++) {
      const j = base + i;
      if (w[j * 2] === w0 && w[j * 2 + 1] === w1) {
        if (now - this.srcSec[j]! >= win) this.srcCnt[j] = 0;
        this.srcSec[j] = now;
        this.srcCnt[j]!++;
        return;
      }
      if (this.srcSec[j]! < oldSec) {
        oldSec = this.srcSec[j]!;
        oldest = i;
      }
    }
    let i = n;
    if (n < AGG_K) this.srcN[a] = n + 1;
    else i = oldest;
    const j = base + i;
    w[j * 2] = w0;
    w[j * 2 + 1] = w1;
    this.srcSec[j] = now;
    this.srcCnt[j] = 1;
  }

  /** distinct sources seen within the last `win` seconds (at most AGG_K) */
  sources(a: number, now: number, win: number): number {
    const base = a * AGG_K;
    let c = 0;
    for (let j = base; j < base + this.srcN[a]!; j++) if (now - this.srcSec[j]! < win) c++;
    return c;
  }

  /** the set index of the source with most packets within the window (lowest index on a tie), -1 if none */
  top(a: number, now: number, win: number): number {
    const base = a * AGG_K;
    let best = -1;
    let bc = 0;
    for (let i = 0; i < this.srcN[a]!; i++) {
      const j = base + i;
      if (now - this.srcSec[j]! < win && this.srcCnt[j]! > bc) {
        bc = this.srcCnt[j]!;
        best = i;
      }
    }
    return best;
  }

  /** a distinct port at `now` (the oldest replaced when full) */
  addPort(a: number, port: number, now: number): void {
    const base = a * AGG_PORTS;
    const n = this.portN[a]!;
    let oldest = 0;
    for (let i = 0; i < n; i++) {
      if (this.ports[base + i] === port) {
        this.portSec[base + i] = now;
        return;
      }
      if (this.portSec[base + i]! < this.portSec[base + oldest]!) oldest = i;
    }
    const i = n < AGG_PORTS ? n : oldest;
    if (n < AGG_PORTS) this.portN[a] = n + 1;
    this.ports[base + i] = port;
    this.portSec[base + i] = now;
  }

  /** distinct ports within the window */
  portCount(a: number, now: number, win: number): number {
    const base = a * AGG_PORTS;
    let c = 0;
    for (let j = base; j < base + this.portN[a]!; j++) if (now - this.portSec[j]! < win) c++;
    return c;
  }

  /** the ports within the window, ascending (at most `max`) */
  portList(a: number, now: number, win: number, max: number): number[] {
    const out: number[] = [];
    const base = a * AGG_PORTS;
    for (let j = base; j < base + this.portN[a]!; j++) if (now - this.portSec[j]! < win) out.push(this.ports[j]!);
    out.sort((x, y) => x - y);
    return out.length > max ? out.slice(0, max) : out;
  }

  /** the entry enters mode (pinned, its end watched) */
  enterMode(a: number): void {
    this.state[a] = 1;
    this.t.setPinned(a, true);
    this.modeList[this.modeN] = a;
    this.modeGen[this.modeN] = this.t.gen[a]!;
    this.modeN++;
  }

  /** the earliest episode end (last counted second + endSec) among entries in mode */
  due(endSec: number): number {
    let d = Infinity;
    for (let i = 0; i < this.modeN; i++) {
      const a = this.modeList[i]!;
      if (!this.t.isLive(a, this.modeGen[i]!)) return -Infinity;
      const e = this.last[a]! + endSec;
      if (e < d) d = e;
    }
    return d;
  }

  /** take mode-list position i out (order kept: ends are reported in the order episodes began) */
  dropMode(i: number): void {
    this.modeList.copyWithin(i, i + 1, this.modeN);
    this.modeGen.copyWithin(i, i + 1, this.modeN);
    this.modeN--;
  }
}

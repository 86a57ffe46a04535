/**
 * The modern profile's aggregate detectors (syn-flood.ts, distributed-scan.ts,
 * decoy-scan.ts, udp-flood.ts): what engine.ts feeds them, when they decide, and their
 * lines. State: the aggregate table (aggregates.ts) and a ring of the last ALARMS scan
 * alarms for decoy groups; all fixed typed arrays sized at start, nothing allocated per
 * packet (only the lines written).
 *
 * Aggregate lines name the destination always and no source: `<title> detected to D
 * [ports] from many sources` (JSON `src: null`, `detail.source_role: "aggregate"`,
 * `detail.sources`), so no consumer can ban "many" or a spoofed address; their episodes
 * end `endSec` after the last counted packet (`<title> mode to D expired for many sources
 * - received a total of N packets (B bytes).`). A flood that one source dominates (>= 90 %
 * of the window) is written with that source instead.
 */
import { IpAddr } from '../../net/addr';
import { A, type Anomalies } from '../../decode/anomalies';
import { aggregateEvent, event, type DetailValue } from '../../output/event';
import type { DetectContext } from '../context';
import { gradeOf } from '../../evidence/grade';
import { Aggregates, AGG_K, AK_DECOY, AK_DSCAN, AK_SYN, AK_SYND, AK_UDP, SYN_ADMIT_PER_ENTRY } from './aggregates';
import { KeyedTable } from './table';
import { MODERN_DETECTORS, M } from './index';

const SYNF = MODERN_DETECTORS[M.SYNFLOOD]!;
const DSCAN = MODERN_DETECTORS[M.DSCAN]!;
const DECOY = MODERN_DETECTORS[M.DECOY]!;
const UDPF = MODERN_DETECTORS[M.UDPFLOOD]!;
const UDPSCAN = MODERN_DETECTORS[M.UDP]!;
/** SYN flood: fewer than 1 in COMPLETION_DIV SYNs completed */
const COMPLETION_DIV = 10;
/** per-source form: one source sent at least DOMINANT / 10 of the window */
const DOMINANT = 9;
/** distributed scan: distinct sources and ports within the window */
const DSCAN_SOURCES = 10;
const DSCAN_PORTS = 10;
const DSCAN_BUCKET = DSCAN.windowSec / 10;
/** decoy groups: the ring of recent alarms, and the Jaccard similarity of port lists */
const ALARMS = 256;
const ALARM_PORTS = 10;
const JACCARD = 0.8;
/** a group is counted up to this many sources */
const GROUP_MAX = 64;
const ENDSEC = 60;

export class AggregateDetect {
  readonly agg: Aggregates;
  /**
   * SYN-flood admission: a destination, and a (destination, port), gets its aggregate entry
   * at its second SYN (or a completed handshake), and the first, kept here, is replayed into
   * it; so SYNs to random ports (of a destination not in mode) make one small entry per
   * packet instead of an aggregate entry, and a key that is hit again is counted exactly as
   * if its entry had been made at once.
   */
  readonly synAdmit: KeyedTable;
  /** per admission entry: the first SYN's length, source words, source and destination ports (low, high 16 bits); and its second */
  private readonly saW: Int32Array;
  private readonly saSec: Float64Array;
  // the alarm ring (decoy groups)
  private readonly alSlot = new Int32Array(ALARMS);
  private readonly alGen = new Int32Array(ALARMS);
  private readonly alDet = new Uint8Array(ALARMS);
  private readonly alFam = new Uint8Array(ALARMS);
  private readonly alDst = new Int32Array(ALARMS * 4);
  private readonly alSec = new Float64Array(ALARMS);
  private readonly alPorts = new Uint16Array(ALARMS * ALARM_PORTS);
  private readonly alPN = new Uint8Array(ALARMS);
  private alN = 0;
  private readonly grSlot = new Int32Array(GROUP_MAX);
  private readonly grGen = new Int32Array(GROUP_MAX);
  private evictNow = 0;

  constructor(
    capacity: number,
    seed: number,
    private ctx: DetectContext,
    an: Anomalies,
  ) {
    this.agg = new Aggregates(capacity, seed, (a, pinned) => {
      an.counts[A.modernAggregateEvicted]++;
      if (pinned) an.counts[A.modernAggregateEvictedEvidence]++;
      this.evicted(a);
    });
    const Q = capacity * SYN_ADMIT_PER_ENTRY;
    this.synAdmit = new KeyedTable(Q, 5, seed ^ 0x165667b1, () => an.counts[A.modernSynAdmissionEvicted]++);
    this.saW = new Int32Array(Q * 4);
    this.saSec = new Float64Array(Q);
  }

  /**
   * The aggregate entry of the SYN-flood key in agg.t.k (a destination's or a (destination,
   * port)'s; just looked up: absent), made if the key was admitted, with its first SYN
   * replayed into it; -1 (and the SYN admitted when `admit`) otherwise. `port`: the SYN's
   * destination port, kept for a destination's entry.
   */
  private synEntry(admit: boolean, len: number, s0: number, s1: number, sport: number, port: number, now: number): number {
    const g = this.agg;
    const q = this.synAdmit;
    const gk = g.t.k;
    const qk = q.k;
    for (let i = 0; i < 5; i++) qk[i] = gk[i]!;
    const e = q.find();
    if (e < 0) {
      if (!admit) return -1;
      const n = q.add(q.lastHash);
      this.saW[n * 4] = len;
      this.saW[n * 4 + 1] = s0;
      this.saW[n * 4 + 2] = s1;
      this.saW[n * 4 + 3] = (sport & 0xffff) | (port << 16);
      this.saSec[n] = now;
      return -1;
    }
    const a = g.create();
    // the first SYN, as syn() counted it when it came (its count was below every threshold)
    const t = this.saSec[e]!;
    this.count(a, this.saW[e * 4]!, t, SYNF.windowSec);
    g.bump(a, t, 1, 1, 0);
    g.addSource(a, this.saW[e * 4 + 1]!, this.saW[e * 4 + 2]!, t, SYNF.windowSec);
    if (g.kindOf(a) === AK_SYND) g.addPort(a, this.saW[e * 4 + 3]! >>> 16, t);
    q.remove(e);
    return a;
  }

  /** A restart's new engine (ModernDetect.rebind): its lines go to that engine's output. */
  rebind(ctx: DetectContext): void {
    this.ctx = ctx;
  }

  // ---------------------------------------------------------------- SYN flood

  /**
   * A SYN-class segment from an originator to (dst, port); true: the destination, or the
   * (destination, port), is in SYN-flood mode (no per-packet line). The destination's entry
   * (all its ports) is judged first: a flood to one port or to random ports is reported on
   * it, and while it is in mode the packet is counted there only. Otherwise the
   * (destination, port)'s own entry is judged as well, so that a flood to one port of a busy
   * server whose other ports complete their handshakes is still seen.
   */
  syn(fam: number, d0: number, d1: number, d2: number, d3: number, port: number, s0: number, s1: number, sport: number, len: number, now: number): boolean {
    if (!this.ctx.flags.syn_flood) return false;
    // the remembered flooded destination: counted as below, without the lookup
    if (this.flooded(fam, d0, d1, d2, d3)) {
      this.floodedSyn(len, now);
      return true;
    }
    const g = this.agg;
    this.evictNow = now;
    g.key(AK_SYND, fam, d0, d1, d2, d3, 0);
    let a = g.entry(false);
    if (a < 0) a = this.synEntry(true, len, s0, s1, sport, port, now);
    if (a >= 0 && this.synCount(a, port, len, s0, s1, sport, now)) {
      if (g.state[a] === 1) this.floodedIs(a, fam, d0, d1, d2, d3);
      return true;
    }
    g.key(AK_SYN, fam, d0, d1, d2, d3, port);
    a = g.entry(false);
    if (a < 0) a = this.synEntry(true, len, s0, s1, sport, port, now);
    // a (destination, port)'s port is its key's: not listed
    return a >= 0 && this.synCount(a, -1, len, s0, s1, sport, now);
  }

  // ---------------------------------------------------------------- the flooded destination

  /**
   * The destination syn() last found in SYN-flood mode (all its ports: its AK_SYND entry),
   * remembered with the entry's generation so that the engine can ask cheaply, per packet,
   * whether a packet's address is it (flooded()), and count a SYN to it as syn() would
   * (floodedSyn()). fdA < 0: none. One destination: a flood is almost always to one; a
   * second one in mode at the same time is found by syn() as before, only not remembered.
   */
  private fdA = -1;
  private fdGen = 0;
  private fdFam = 0;
  private fd0 = 0;
  private fd1 = 0;
  private fd2 = 0;
  private fd3 = 0;

  private floodedIs(a: number, fam: number, d0: number, d1: number, d2: number, d3: number): void {
    this.fdA = a;
    this.fdGen = this.agg.t.gen[a]!;
    this.fdFam = fam;
    this.fd0 = d0;
    this.fd1 = d1;
    this.fd2 = d2;
    this.fd3 = d3;
  }

  /** whether (fam, d) is the remembered destination and still in SYN-flood mode */
  flooded(fam: number, d0: number, d1: number, d2: number, d3: number): boolean {
    const a = this.fdA;
    if (a < 0 || d0 !== this.fd0 || fam !== this.fdFam || d1 !== this.fd1 || d2 !== this.fd2 || d3 !== this.fd3) return false;
    const g = this.agg;
    if (g.t.isLive(a, this.fdGen) && g.state[a] === 1) return true;
    this.fdA = -1;
    return false;
  }

  /**
   * A SYN to the destination flooded() just said is in mode, counted on its entry exactly as
   * syn() counts it in mode (the entry touched, the episode's count and bytes)
   */
  floodedSyn(len: number, now: number): void {
    const a = this.fdA;
    this.evictNow = now;
    this.agg.t.touch(a);
    this.count(a, len, now, SYNF.windowSec);
  }

  /**
   * One SYN counted on SYN-flood entry a (a destination's lists `port`; -1: none to list);
   * true when the entry is in mode, or crosses the threshold now (it is then reported)
   */
  private synCount(a: number, port: number, len: number, s0: number, s1: number, sport: number, now: number): boolean {
    const g = this.agg;
    this.count(a, len, now, SYNF.windowSec);
    // in mode only the episode's count matters: the window (ring, sources) is read again only
    // once the episode ended, ENDSEC after its last packet, when all of it is older than the window
    if (g.state[a] === 1) return true;
    g.bump(a, now, 1, 1, 0);
    g.addSource(a, s0, s1, now, SYNF.windowSec);
    if (port >= 0) g.addPort(a, port, now);
    // the episode's count (reset after an idle window) is never below the window's: the
    // ring is summed only when the count could reach the threshold
    if (g.count[a]! < SYNF.threshold) return false;
    const n = g.sum(a, now, 1, SYNF.windowSec, false);
    if (n < SYNF.threshold) return false;
    if (g.sum(a, now, 1, SYNF.windowSec, true) * COMPLETION_DIV >= n) return false;
    this.detect(a, M.SYNFLOOD, n, sport, now);
    return true;
  }

  /** a handshake to (dst, port) completed (the originator's ACK of the responder's ISN + 1): counted for the destination and for (dst, port) */
  handshake(fam: number, d0: number, d1: number, d2: number, d3: number, port: number, now: number): void {
    this.completed(AK_SYND, fam, d0, d1, d2, d3, 0, now);
    this.completed(AK_SYN, fam, d0, d1, d2, d3, port, now);
  }

  private completed(kind: number, fam: number, d0: number, d1: number, d2: number, d3: number, port: number, now: number): void {
    const g = this.agg;
    g.key(kind, fam, d0, d1, d2, d3, port);
    let a = g.t.find();
    if (a < 0) {
      // admitted: the entry is made now, as it was at the first SYN
      this.evictNow = now;
      a = this.synEntry(false, 0, 0, 0, 0, 0, now);
    }
    if (a >= 0) g.bump(a, now, 1, 0, 1);
  }

  // ---------------------------------------------------------------- distributed scan

  /** a failed TCP first contact to (dst, port) by a source not alarmed for a scan */
  failure(fam: number, dst: Int32Array, off: number, port: number, s0: number, s1: number, len: number, now: number): void {
    if (!this.ctx.flags.portscan) return;
    const g = this.agg;
    g.key(AK_DSCAN, fam, dst[off]!, dst[off + 1]!, dst[off + 2]!, dst[off + 3]!, 0);
    this.evictNow = now;
    const a = g.entry(true);
    this.count(a, len, now, DSCAN.windowSec);
    // in mode: the episode's count only (see syn())
    if (g.state[a] === 1) return;
    g.bump(a, now, DSCAN_BUCKET, 1, 0);
    g.addSource(a, s0, s1, now, DSCAN.windowSec);
    g.addPort(a, port, now);
    if (g.count[a]! < DSCAN.threshold) return; // see syn()
    const n = g.sum(a, now, DSCAN_BUCKET, 10, false);
    if (n < DSCAN.threshold || g.sources(a, now, DSCAN.windowSec) < DSCAN_SOURCES || g.portCount(a, now, DSCAN.windowSec) < DSCAN_PORTS) return;
    this.detect(a, M.DSCAN, n, -1, now);
  }

  // ---------------------------------------------------------------- UDP flood to closed ports

  /** our ICMP port unreachable quoted a datagram to (dst, port): the port is closed */
  closed(fam: number, dst: Int32Array, off: number, port: number, now: number): void {
    if (!this.ctx.flags.udp_scan) return;
    const g = this.agg;
    g.key(AK_UDP, fam, dst[off]!, dst[off + 1]!, dst[off + 2]!, dst[off + 3]!, port);
    this.evictNow = now;
    const a = g.entry(true);
    g.closedSec[a] = now;
  }

  /** a datagram from an originator to (dst, port); true: in UDP-flood mode (no per-packet line) */
  udp(fam: number, d0: number, d1: number, d2: number, d3: number, port: number, s0: number, s1: number, sport: number, len: number, now: number): boolean {
    const g = this.agg;
    g.key(AK_UDP, fam, d0, d1, d2, d3, port);
    const a = g.t.find();
    if (a < 0) return false;
    g.t.touch(a);
    this.count(a, len, now, UDPF.windowSec);
    // in mode: the episode's count only (see syn())
    if (g.state[a] === 1) return true;
    g.bump(a, now, 1, 1, 0);
    g.addSource(a, s0, s1, now, UDPF.windowSec);
    if (now - g.closedSec[a]! > UDPF.windowSec || g.count[a]! < UDPF.threshold) return false; // see syn()
    const n = g.sum(a, now, 1, UDPF.windowSec, false);
    if (n < UDPF.threshold) return false;
    this.detect(a, M.UDPFLOOD, n, sport, now);
    return true;
  }

  // ---------------------------------------------------------------- decoy groups

  /** a scan alarm (detector d armed for source slot s, generation gen) against dst, with its failed ports so far */
  alarm(s: number, gen: number, d: number, fam: number, dst: Int32Array, off: number, ports: Uint16Array, pOff: number, pn: number, now: number): void {
    const i = this.alN++ % ALARMS;
    this.alSlot[i] = s;
    this.alGen[i] = gen;
    this.alDet[i] = d;
    this.alFam[i] = fam;
    for (let j = 0; j < 4; j++) this.alDst[i * 4 + j] = dst[off + j]!;
    this.alSec[i] = now;
    const n = pn < ALARM_PORTS ? pn : ALARM_PORTS;
    for (let j = 0; j < n; j++) this.alPorts[i * ALARM_PORTS + j] = ports[pOff + j]!;
    this.alPN[i] = n;
  }

  private jaccard(x: number, y: number): number {
    const nx = this.alPN[x]!;
    const ny = this.alPN[y]!;
    if (nx === 0 && ny === 0) return 1;
    let inter = 0;
    for (let i = 0; i < nx; i++) {
      const p = this.alPorts[x * ALARM_PORTS + i]!;
      for (let j = 0; j < ny; j++)
        if (this.alPorts[y * ALARM_PORTS + j] === p) {
          inter++;
          break;
        }
    }
    return inter / (nx + ny - inter);
  }

  /**
   * The size of the decoy group of source slot s (generation gen) for detector d at
   * `now`: the distinct sources (itself included) alarmed by d against the same
   * destination within the window with alike ports; 1 when it has no alarm.
   */
  group(s: number, gen: number, d: number, now: number): number {
    const total = this.alN < ALARMS ? this.alN : ALARMS;
    let me = -1;
    for (let i = 0; i < total; i++) {
      if (this.alSlot[i] === s && this.alGen[i] === gen && this.alDet[i] === d && (me < 0 || this.alSec[i]! >= this.alSec[me]!)) me = i;
    }
    if (me < 0) return 1;
    // distinct sources (slot, generation) among the alike alarms
    let n = 1;
    this.grSlot[0] = s;
    this.grGen[0] = gen;
    for (let i = 0; i < total && n < GROUP_MAX; i++) {
      if (i === me || this.alDet[i] !== d || this.alFam[i] !== this.alFam[me] || Math.abs(this.alSec[i]! - this.alSec[me]!) > DECOY.windowSec) continue;
      let same = true;
      for (let j = 0; j < 4; j++) if (this.alDst[i * 4 + j] !== this.alDst[me * 4 + j]) same = false;
      if (!same || this.jaccard(i, me) < JACCARD) continue;
      let dup = false;
      for (let k = 0; k < n; k++) if (this.grSlot[k] === this.alSlot[i] && this.grGen[k] === this.alGen[i]) dup = true;
      if (dup) continue;
      this.grSlot[n] = this.alSlot[i]!;
      this.grGen[n] = this.alGen[i]!;
      n++;
    }
    return n;
  }

  /**
   * A member of a decoy group of `n` sources is about to be reported: the group's
   * aggregate line, once per episode of the destination; the member's packets count for it.
   */
  decoy(fam: number, dst: Int32Array, off: number, ports: number[], n: number, count: number, bytes: number, now: number): void {
    if (!this.ctx.flags.portscan) return;
    const g = this.agg;
    g.key(AK_DECOY, fam, dst[off]!, dst[off + 1]!, dst[off + 2]!, dst[off + 3]!, 0);
    this.evictNow = now;
    const a = g.entry(true);
    g.count[a]! += count;
    g.bytes[a]! += bytes;
    g.last[a] = now;
    if (g.state[a] === 1) return;
    g.enterMode(a);
    const dstAddr = this.dstOf(a);
    this.ctx.emit(
      aggregateEvent('scan.detected', now, dstAddr, {
        detector: DECOY.name,
        count: g.count[a]!,
        bytes: g.bytes[a]!,
        detail: { title: DECOY.title, dports: ports, dports_truncated: ports.length >= 10, sports: [], sports_truncated: false, sources: n, window_s: DECOY.windowSec, spoofable: 3, proof: false, source_role: 'aggregate' },
      }),
    );
  }

  // ---------------------------------------------------------------- episodes

  /** count a packet for entry a's episode (a new episode after `idle` s without one) */
  private count(a: number, len: number, now: number, idle: number): void {
    const g = this.agg;
    if (g.state[a] === 0 && now - g.last[a]! > idle) {
      g.count[a] = 0;
      g.bytes[a] = 0;
    }
    g.count[a]!++;
    g.bytes[a]! += len;
    g.last[a] = now;
  }

  private dstOf(a: number): IpAddr {
    const g = this.agg;
    return g.familyOf(a) === 4 ? IpAddr.v4(g.dstWord(a, 0) >>> 0) : IpAddr.v6(g.dstWord(a, 0) >>> 0, g.dstWord(a, 1) >>> 0, g.dstWord(a, 2) >>> 0, g.dstWord(a, 3) >>> 0);
  }

  /** entry a crossed detector d's threshold with n packets in its window */
  private detect(a: number, d: number, n: number, sport: number, now: number): void {
    const g = this.agg;
    const def = MODERN_DETECTORS[d]!;
    g.enterMode(a);
    const fam = g.familyOf(a);
    const dst = this.dstOf(a);
    const port = g.portOf(a);
    const win = def.windowSec;
    const sources = g.sources(a, now, win);
    const top = d === M.DSCAN ? -1 : g.top(a, now, win);
    // a destination's entries list their ports; the others' port is their key's
    const listed = d === M.DSCAN || g.kindOf(a) === AK_SYND;
    const dports = listed ? g.portList(a, now, win, 10) : [port];
    const detail: Record<string, DetailValue> = {
      title: def.title,
      dports,
      dports_truncated: listed && g.portCount(a, now, win) > 10,
      sports: [],
      sports_truncated: false,
      sources,
      window_s: win,
    };
    if (d === M.SYNFLOOD) detail.completed = g.sum(a, now, 1, win, true);
    if (d === M.UDPFLOOD) detail.mode = 'flood';
    if (top >= 0 && g.srcCnt[a * AGG_K + top]! * 10 >= n * DOMINANT) {
      // one source sent (nearly) all of it: the per-source form names it
      const j = a * AGG_K + top;
      const w0 = g.srcW[j * 2]!;
      const w1 = g.srcW[j * 2 + 1]!;
      g.fromFam[a] = fam;
      g.fromW[a * 4] = w0;
      g.fromW[a * 4 + 1] = w1;
      const src = fam === 4 ? IpAddr.v4(w0 >>> 0) : IpAddr.v6(w0 >>> 0, w1 >>> 0, 0, 0);
      if (fam === 6) detail.src_prefix_len = 64;
      const name = d === M.UDPFLOOD ? UDPSCAN.name : def.name;
      if (d === M.UDPFLOOD) detail.title = UDPSCAN.title;
      if (sport >= 0) detail.sports = [sport];
      const tr = this.ctx.trust;
      const gr = gradeOf({ spoofable: 3, role: 'attacker' }, tr !== null && tr.proven(src, now), tr !== null && tr.session(src, now));
      detail.spoofable = gr.spoofable;
      detail.proof = gr.proof;
      detail.source_role = gr.source_role;
      this.ctx.emit(event('scan.detected', now, src, { dst, detector: name, count: g.count[a]!, bytes: g.bytes[a]!, detail }));
      return;
    }
    g.fromFam[a] = 0;
    detail.spoofable = 3;
    detail.proof = false;
    detail.source_role = 'aggregate';
    this.ctx.emit(aggregateEvent('scan.detected', now, dst, { detector: def.name, count: g.count[a]!, bytes: g.bytes[a]!, detail }));
  }

  private ended(a: number, now: number): void {
    const g = this.agg;
    const k = g.kindOf(a);
    const d = k === AK_SYN || k === AK_SYND ? M.SYNFLOOD : k === AK_DSCAN ? M.DSCAN : k === AK_DECOY ? M.DECOY : M.UDPFLOOD;
    const def = MODERN_DETECTORS[d]!;
    const dst = this.dstOf(a);
    const fam = g.fromFam[a]!;
    if (fam !== 0) {
      const src = fam === 4 ? IpAddr.v4(g.fromW[a * 4]! >>> 0) : IpAddr.v6(g.fromW[a * 4]! >>> 0, g.fromW[a * 4 + 1]! >>> 0, 0, 0);
      const name = d === M.UDPFLOOD ? UDPSCAN.name : def.name;
      this.ctx.emit(event('scan.expired', now, src, { dst, detector: name, count: g.count[a]!, bytes: g.bytes[a]!, detail: { title: d === M.UDPFLOOD ? UDPSCAN.title : def.title } }));
    } else {
      this.ctx.emit(aggregateEvent('scan.expired', now, dst, { detector: def.name, count: g.count[a]!, bytes: g.bytes[a]!, detail: { title: def.title } }));
    }
    g.state[a] = 0;
    g.fromFam[a] = 0;
    g.t.setPinned(a, false);
  }

  /** an entry is evicted: an open episode ends at once (as an evicted source's does) */
  private evicted(a: number): void {
    if (this.agg.state[a] === 1) this.ended(a, this.evictNow > this.agg.last[a]! ? this.evictNow : this.agg.last[a]!);
  }

  due(): number {
    return this.agg.modeN === 0 ? Infinity : this.agg.due(ENDSEC);
  }

  sweep(t: number): void {
    const g = this.agg;
    for (let i = 0; i < g.modeN; ) {
      const a = g.modeList[i]!;
      if (!g.t.isLive(a, g.modeGen[i]!) || g.state[a] === 0) {
        g.dropMode(i);
        continue;
      }
      if (g.last[a]! + ENDSEC <= t) {
        this.ended(a, t);
        g.dropMode(i);
        continue;
      }
      i++;
    }
  }
}

/**
 * What the protocol handlers and detectors see of a run: the detection context. Not the
 * engine (src/pipeline.ts): the handlers read flags, filter rules and the scan table,
 * count anomalies, keep the run's few scalars in one state object, call the live-only
 * hooks, and say what they found with `emit(event)`. How an event reads is the line
 * catalogue's business (output/lines.ts); whether its hosts are resolved and where it
 * goes, the engine's.
 */
import type { Flags } from '../config/settings';
import type { Anomalies } from '../decode/anomalies';
import type { DecodedPacket } from '../decode/packet';
import type { RuleMatcher } from '../rules/compile';
import type { IplogEvent } from '../output/event';
import type { IpAddr } from '../net/addr';
import type { ScanTable } from './scan-table';
import type { ScanTable6 } from './scan-table6';

/** -z (live only): called for every TCP packet that passed the filter rules. */
export interface FoolNmapHook {
  probe(p: DecodedPacket, rawFlags: number, now: number): void;
}

/** -e (live only). */
export interface IdentHook {
  /** does a socket listen on local port `dport` for packets to `dst`? */
  listens(dport: number, dst: number): boolean;
  /** start a lookup that logs the line when it ends; false: none started, log it now */
  lookup(src: number, dst: number, sport: number, dport: number, rawFlags: number): boolean;
}

/**
 * What the detectors may ask of the handshake tracker (src/evidence/handshake.ts), once
 * per detection: did `src` make a connect-probe (a handshake completed to the responder's
 * ISN, then aborted without data) within the episode, or complete any handshake?
 */
export interface TrustView {
  proven(src: IpAddr, now: number): boolean;
  session(src: IpAddr, now: number): boolean;
}

/** The handshake tracker as the TCP handler feeds it (src/evidence/handshake.ts). */
export interface HandshakeHook extends TrustView {
  /** every TCP packet with at least 14 header bytes; words of source and destination (IPv4: 0, 0, 0xffff, addr), as uint32 or their int32 bit patterns */
  packet(p: DecodedPacket, s0: number, s1: number, s2: number, s3: number, d0: number, d1: number, d2: number, d3: number, now: number): void;
}

/** The live-only side effects; both null in replay (the packet path pays one null test each). */
export interface LiveHooks {
  foolNmap: FoolNmapHook | null;
  ident: IdentHook | null;
}

/**
 * iplog's SYN-flood state (§4.9): a counter C in 0..20 and a time T. Every TCP packet:
 * if C > 0, C -= now - T, a negative result becomes 1 (sic), T = now; else T = now.
 * Every logged-path SYN: C += 1 up to 20. While C = 20, TCP lines use dotted quads.
 */
export class SynFlood {
  count = 0;
  last = 0;
  decay(now: number): void {
    if (this.count > 0) {
      this.count -= now - this.last;
      if (this.count < 0) this.count = 1;
    }
    this.last = now;
  }
  syn(): void {
    if (this.count < 20) this.count++;
  }
  flooding(): boolean {
    return this.count === 20;
  }
}

/** The per-run scalars of iplog 2.2.3's handlers (its globals), in one place. */
export class RunState {
  /** iplog's global "last bogus source" (never expires; starts as 0.0.0.0, as in the original) */
  lastBogus = 0;
  /** iplog's traceroute memory: last logged host and time */
  traceHost = 0;
  traceTime = 0;
  /** the same two memories for IPv6 sources (words; `has*` false until the first) */
  readonly lastBogus6 = new Uint32Array(4);
  hasBogus6 = false;
  readonly traceHost6 = new Uint32Array(4);
  hasTrace6 = false;
  traceTime6 = 0;
  readonly synFlood = new SynFlood();

  /** A restart (SIGHUP) keeps these, as 2.2.3 did (spec §2.7). */
  carryOver(prev: RunState): void {
    this.lastBogus = prev.lastBogus;
    this.traceHost = prev.traceHost;
    this.traceTime = prev.traceTime;
    this.lastBogus6.set(prev.lastBogus6);
    this.hasBogus6 = prev.hasBogus6;
    this.traceHost6.set(prev.traceHost6);
    this.hasTrace6 = prev.hasTrace6;
    this.traceTime6 = prev.traceTime6;
    this.synFlood.count = prev.synFlood.count;
    this.synFlood.last = prev.synFlood.last;
  }
}

export interface DetectContext {
  readonly flags: Flags;
  /** compiled iplog.conf rules, null when there are none */
  readonly rules: RuleMatcher | null;
  readonly scans: ScanTable;
  /** the IPv6 pairs' table (same detectors; scan-table6.ts) */
  readonly scans6: ScanTable6;
  /** anomaly counters (`an.counts[A.x]++`) */
  readonly an: Anomalies;
  readonly state: RunState;
  readonly hooks: LiveHooks;
  /** the handshake tracker: proof and sessions for the evidence grades (null: no tracking) */
  readonly trust: HandshakeHook | null;
  /** report an event: its line is written (or queued for names) and subscribers see it */
  emit(ev: IplogEvent): void;
  /**
   * The connection-attempt line of an IPv4 SYN from its raw facts, written directly when
   * nothing needs its event (output/emitter.ts connectionV4()); false: make the event and
   * emit() it.
   */
  connectionV4(src: number, dst: number, sport: number, dport: number, rawFlags: number, now: number): boolean;
}

/** Do four words equal four others? */
export function sameWords(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

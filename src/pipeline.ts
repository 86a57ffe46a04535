/**
 * The iplog pipeline: frames -> link -> IPv4 (fragments) -> TCP/UDP/ICMP handlers ->
 * scan table and line output. `Engine` holds all state of one run; `replay()` drives it
 * from a capture file. Time is packet time (the network clock): whole seconds of the
 * packet timestamp, the 1-second resolution of the original's time(NULL). Before a
 * packet of a later second is handled, the once-per-second expiry sweeps that the
 * original's expiry thread would have run in between are run, at the seconds at which
 * something is due; at the end of a replay every pending deadline is drained in order.
 */
import type { Settings, Flags } from './config/settings';
import { Anomalies, A } from './decode/anomalies';
import { DecodedPacket, Ip } from './decode/packet';
import { decodeIpv4, IPV4_OK, IPV4_SHORT, IPV4_TRUNCATED } from './decode/ipv4';
import { FragmentTable, FRAG_DUPLICATE, FRAG_OVERLAP_MID, FRAG_OVERSIZED } from './decode/fragments';
import { ipOffset } from './decode/link';
import { decodeIpv6, readIpv6Dst, IPV6_FRAGMENT, IPV6_OK } from './decode/ipv6';
import { Fragment6Table } from './decode/fragments6';
import { decodeIcmpv6 } from './decode/icmpv6';
import { ScanTable } from './detect/scan-table';
import { DETECTORS } from './detect/index';
import { handleTcp, handleTcp6 } from './detect/tcp';
import { handleUdp, handleUdp6 } from './detect/udp';
import { handleIcmp } from './detect/icmp';
import { handleIcmp6 } from './detect/icmp6';
import { ScanTable6 } from './detect/scan-table6';
import { closeSync, openSync, readSync } from 'node:fs';
import { release as releaseArrays } from './detect/arrays';
import { scanReporter, scanReporter6 } from './detect/report';
import { SPOOFABLE_DETAIL } from './evidence/grade';
import { HandshakeTracker } from './evidence/handshake';
import type { ModernDetect } from './detect/modern/engine';
import type * as ModernEngine from './detect/modern/engine';
import type * as ModernRegistry from './detect/modern/index';
import type { ResolveKind } from './detect/define';
import { RunState, type DetectContext, type FoolNmapHook, type IdentHook, type LiveHooks } from './detect/context';
import { Emitter } from './output/emitter';
import { event, type IplogEvent } from './output/event';
import type { HostRenderer } from './output/resolve-api';
import { IpAddr } from './net/addr';
import type { LineSink } from './output/sinks/sink';
import { compileRules, type RuleMatcher } from './rules/compile';
import { compileNets, netMatch, netMatch6, type NetMatcher } from './rules/dst-net';
import { readCapture } from './capture/read';
import type { ReadSummary } from './capture/source';

export type { RuleMatcher };

/** A deadline source on the network clock outside the engine (see Engine.addClockListener). */
export interface ClockListener {
  /** earliest pending deadline (second), Infinity if none */
  due(): number;
  /** fire what is due at or before second `t` */
  sweep(t: number): void;
  /** the clock has moved to second `now` */
  tick(now: number): void;
  /** fire the remaining deadlines when a replay ends */
  readonly drains: boolean;
}

/**
 * A random seed in [0, 2^31 - 1): 4 bytes of the kernel's random source, read directly
 * (loading node:crypto for one number is a noticeable part of a short replay's start-up);
 * node:crypto where there is no /dev/urandom.
 */
export function randomSeed(): number {
  const b = Buffer.alloc(4);
  try {
    const fd = openSync('/dev/urandom', 'r');
    try {
      if (readSync(fd, b, 0, 4, null) === 4) return (b.readUInt32LE(0) >>> 1) % 0x7fffffff;
    } finally {
      closeSync(fd);
    }
  } catch {
    // no /dev/urandom: below
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node:crypto') as typeof import('node:crypto')).randomInt(0x7fffffff);
}

const RES_NEVER = 0;
const RES_SCAN = 1;
const RES_ANY = 2;
const RES_TCP = 3;
const RES_UDP = 4;
const RES_ICMP = 5;

/**
 * Which flag decides whether the hosts of a kind's lines are resolved: detections by
 * their detector's choice, fragment and verbose IP lines unless the resolver is
 * disabled (any_res()), the others by protocol (ICMPv6 as ICMP).
 */
function resolveClassOf(k: string): number {
  if (k.startsWith('scan.')) return RES_SCAN;
  const proto = k.slice(0, k.indexOf('.'));
  if (proto === 'frag' || proto === 'ip' || proto === 'ip6') return RES_ANY;
  if (proto === 'tcp') return RES_TCP;
  if (proto === 'udp') return RES_UDP;
  if (proto === 'icmp' || proto === 'icmp6') return RES_ICMP;
  return RES_NEVER;
}

/*
 * The modern profile's detection (src/detect/modern/: its engine and 17 detectors) is
 * loaded when a modern engine is made, and its registry when a detection line is first
 * resolved: a compat replay's start-up loads neither (issue 10 item 3).
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const modernEngine = (): typeof ModernEngine => require('./detect/modern/engine') as typeof ModernEngine;
const modernRegistry = (): typeof ModernRegistry => require('./detect/modern/index') as typeof ModernRegistry;
/* eslint-enable @typescript-eslint/no-require-imports */

/** Which resolve flag governs each detector's lines, by detector name (made on first use). */
let detectorResolve: ReadonlyMap<string, ResolveKind> | null = null;
function detectorResolveOf(name: string): ResolveKind | undefined {
  detectorResolve ??= new Map([...DETECTORS.map((d) => [d.name, d.resolve] as const), ...modernRegistry().MODERN_DETECTORS.map((d) => [d.name, d.resolve] as const)]);
  return detectorResolve.get(name);
}

export class Engine {
  readonly an: Anomalies;
  readonly flags: Flags;
  readonly out: Emitter;
  readonly scans: ScanTable;
  /** IPv6 pairs (same detectors; LRU-bounded, seeded index: detect/scan-table6.ts) */
  readonly scans6: ScanTable6;
  readonly frags: FragmentTable;
  readonly frags6: Fragment6Table;
  readonly rules: RuleMatcher | null;
  /** the run's handler scalars (SYN-flood counter, last bogus source, traceroute memory) */
  readonly state = new RunState();
  /** live-only TCP side effects (-z, -e); null in replay */
  readonly hooks: LiveHooks = { foolNmap: null, ident: null };
  /** the handshake tracker (src/evidence/handshake.ts): proof for the evidence grades */
  readonly trust: HandshakeTracker;
  /** what the handlers see (src/detect/context.ts) */
  readonly ctx: DetectContext;
  /** the modern profile's detection (src/detect/modern/), null in compat */
  readonly modern: ModernDetect | null;
  /** --state-memory when made: a restart hands the modern tables over only at the same size */
  private readonly stateMemory: number | undefined;
  /** the modern tables and the handshake tracker went to a restart's new engine */
  private handedOver = false;
  private readonly dstNets: NetMatcher | null;
  /** protocols the live BPF filter would pass (tcp/udp/icmp flags), by protocol number */
  private readonly bpfProto = new Uint8Array(256);
  private readonly pkt = new DecodedPacket();
  /** resolves(): the class of each event kind met so far (computed once per kind) */
  private readonly resolveClass = new Map<string, number>();
  /** deadline sources outside the engine (addClockListener) */
  private readonly clockListeners: ClockListener[] = [];
  /** network clock: the second of the last sweep, and of the last packet */
  private lastTick = -Infinity;
  now = 0;
  packets = 0;
  ipv4Packets = 0;
  ipv6Packets = 0;

  /**
   * `previous`: the engine a SIGHUP restart replaces (src/daemon.ts). In the modern profile
   * its modern tables and handshake tracker are handed over (same --state-memory), so that
   * scans in progress are still detected after a reload and a restart allocates none of
   * their tens of MiB again; compat starts afresh (spec §2.7), as 2.2.3 did.
   */
  constructor(
    readonly settings: Settings,
    sink: LineSink,
    renderer: HostRenderer | null,
    an?: Anomalies,
    previous: Engine | null = null,
  ) {
    this.an = an ?? new Anomalies();
    this.flags = settings.flags;
    this.out = new Emitter(sink, renderer, this.flags.log_dest);
    const buckets = this.flags.promisc ? 256 : 128;
    const emit = (ev: IplogEvent): void => this.out.emit(ev, this.resolves(ev));
    this.stateMemory = settings.stateMemory;
    const keep = settings.profile === 'modern' && previous !== null && previous.modern !== null && !previous.handedOver && previous.stateMemory === settings.stateMemory ? previous : null;
    // handshakes: proof and sessions for the evidence grades (its clientele is set by the ban session)
    this.trust = keep !== null ? keep.trust : new HandshakeTracker(randomSeed());
    const trust = (): HandshakeTracker => this.trust;
    this.scans = new ScanTable(buckets, scanReporter(emit, trust), this.an);
    // as many IPv6 pairs as the IPv4 table holds; the seed only places pairs in the index
    this.scans6 = new ScanTable6(buckets * 4, scanReporter6(emit, trust), this.an, randomSeed());
    this.frags = new FragmentTable({ fragment: (k, s, d, now) => this.fragLine(k, s, d, now) }, this.an);
    // IPv6 fragment attacks: the IPv4 lines and counters (frag.*), the addresses in RFC 5952 text
    this.frags6 = new Fragment6Table({ fragment6: (k, s, d, now) => this.fragEvent(k, s, d, now) }, this.an);
    const r = settings.rules;
    this.rules = r.tcp.length + r.udp.length + r.icmp.length > 0 ? compileRules(r, { profile: settings.profile }) : null;
    const connectionV4 = (src: number, dst: number, sport: number, dport: number, rawFlags: number, now: number): boolean =>
      this.out.connectionV4(now, src, sport, dst, dport, rawFlags, this.tcpRes());
    this.ctx = { flags: this.flags, rules: this.rules, scans: this.scans, scans6: this.scans6, an: this.an, state: this.state, hooks: this.hooks, trust: this.trust, emit, connectionV4 };
    this.bpfProto[6] = this.flags.tcp ? 1 : 0;
    this.bpfProto[17] = this.flags.udp ? 1 : 0;
    this.bpfProto[1] = this.flags.icmp ? 1 : 0;
    // modern: -a names protected networks (both directions are judged by role), not a destination filter
    this.dstNets = settings.profile !== 'modern' && settings.promiscNets && settings.promiscNets.length > 0 ? compileNets(settings.promiscNets, settings.promiscOrigin) : null;
    // the seed is fixed in a replay (--hash-seed, else 1) and random live; no line depends on it
    if (keep !== null) {
      this.modern = keep.modern!.rebind(settings, this.ctx);
      keep.handedOver = true;
      // the network clock goes on where the previous engine left it (the tables' deadlines are on it)
      this.lastTick = keep.lastTick;
      this.now = keep.now;
    } else {
      this.modern =
        settings.profile === 'modern'
          ? new (modernEngine().ModernDetect)(settings, this.ctx, this.an, settings.hashSeed ?? (settings.replayFile !== undefined ? 1 : randomSeed()))
          : null;
    }
  }

  /**
   * A restart replaced this engine (src/daemon.ts): its pair tables' typed arrays go to the
   * next engine's tables (detect/arrays.ts) instead of waiting for the garbage collector
   * (the modern tables and the handshake tracker, when handed over, are the next engine's).
   * The engine must not be used afterwards.
   */
  release(): void {
    releaseArrays(this.scans);
    this.scans6.release();
    // handed over: the next engine uses them
    if (!this.handedOver) this.trust.release();
  }

  get foolNmap(): FoolNmapHook | null {
    return this.hooks.foolNmap;
  }
  set foolNmap(h: FoolNmapHook | null) {
    this.hooks.foolNmap = h;
  }
  get ident(): IdentHook | null {
    return this.hooks.ident;
  }
  set ident(h: IdentHook | null) {
    this.hooks.ident = h;
  }

  /** Resolve TCP hosts? (tcp_resolve, and not during a SYN flood) */
  tcpRes(): boolean {
    return this.flags.tcp_resolve && !(this.flags.syn_flood && this.state.synFlood.flooding());
  }

  private resolveKind(kind: string): boolean {
    switch (kind) {
      case 'tcp':
        return this.tcpRes();
      case 'udp':
        return this.flags.udp_resolve;
      case 'icmp':
        return this.flags.icmp_resolve;
      default:
        return false;
    }
  }

  /**
   * Are the hosts of `ev`'s line resolved? By protocol (tcp_resolve, udp_resolve,
   * icmp_resolve; TCP not during a SYN flood), detections by their detector's choice,
   * fragment and verbose IP lines unless the resolver is disabled (any_res()).
   */
  private resolves(ev: IplogEvent): boolean {
    const k = ev.kind;
    let c = this.resolveClass.get(k);
    if (c === undefined) {
      c = resolveClassOf(k);
      // kinds are names in the code, not input: a few dozen at most
      this.resolveClass.set(k, c);
    }
    switch (c) {
      case RES_SCAN:
        return this.resolveKind(detectorResolveOf(ev.detector ?? '') ?? 'never');
      case RES_ANY:
        return !this.flags.disable_resolver;
      case RES_TCP:
        return this.tcpRes();
      case RES_UDP:
        return this.flags.udp_resolve;
      case RES_ICMP:
        return this.flags.icmp_resolve;
      default:
        return false;
    }
  }

  private fragLine(kind: number, src: number, dst: number, now: number): void {
    this.fragEvent(kind, IpAddr.v4(src), IpAddr.v4(dst), now);
  }

  private fragEvent(kind: number, src: IpAddr, dst: IpAddr, now: number): void {
    if (!this.flags.frag) return;
    const evKind = kind === FRAG_OVERSIZED ? 'frag.oversized' : kind === FRAG_DUPLICATE ? 'frag.duplicate' : 'frag.overlap';
    // an overlap found while inserting in the middle reads differently with -D (output/lines.ts)
    // every fragment anomaly is packet evidence anyone can forge (src/evidence/grade.ts)
    const detail = evKind === 'frag.overlap' ? { position: kind === FRAG_OVERLAP_MID ? 'middle' : 'end', spoofable: 3, proof: false, source_role: 'attacker' } : SPOOFABLE_DETAIL;
    this.ctx.emit(event(evKind, now, src, { dst, detail }));
  }

  /**
   * Register a deadline source outside the engine (the ban manager, src/ban/): its
   * deadlines fire on the network clock in order with the scan and fragment sweeps (at
   * equal times after them), `tick(now)` is called each time the clock moves to a new
   * second (after the sweeps), and `drain()` fires its deadlines at the end of input only
   * when `drains` is set (a replay tells the whole story; a live sensor that stops must
   * not lift bans that are meant to outlive it).
   */
  addClockListener(l: ClockListener): void {
    this.clockListeners.push(l);
  }

  private listenersDue(draining: boolean): number {
    let due = Infinity;
    for (const l of this.clockListeners) if (!draining || l.drains) due = Math.min(due, l.due());
    return due;
  }

  private sweepListeners(t: number, draining: boolean): void {
    for (const l of this.clockListeners) if ((!draining || l.drains) && l.due() <= t) l.sweep(t);
  }

  /** Advance the network clock to second `now`, running the sweeps due on the way. */
  advance(now: number): void {
    if (now <= this.lastTick) return;
    const hooks = this.clockListeners.length > 0;
    for (;;) {
      const due = Math.min(this.scans.due(), this.scans6.due(), this.frags.due(), this.frags6.due(), hooks ? this.listenersDue(false) : Infinity, this.modern !== null ? this.modern.due() : Infinity);
      const t = Math.max(this.lastTick + 1, due);
      if (t > now) break;
      this.frags.sweep(t);
      this.frags6.sweep(t);
      this.scans.sweep(t);
      this.scans6.sweep(t);
      if (this.modern !== null) this.modern.sweep(t);
      if (hooks) this.sweepListeners(t, false);
      this.lastTick = t;
    }
    this.lastTick = now;
    this.now = now;
    if (hooks) for (const l of this.clockListeners) l.tick(now);
  }

  /** End of input: fire every pending deadline in order. */
  drain(): void {
    for (let guard = 0; guard < 1_000_000; guard++) {
      const due = Math.min(this.scans.due(), this.scans6.due(), this.frags.due(), this.frags6.due(), this.listenersDue(true), this.modern !== null ? this.modern.due() : Infinity);
      if (due === Infinity) break;
      const t = Math.max(this.lastTick + 1, due);
      this.frags.sweep(t);
      this.frags6.sweep(t);
      this.scans.sweep(t);
      this.scans6.sweep(t);
      if (this.modern !== null) this.modern.sweep(t);
      this.sweepListeners(t, true);
      this.lastTick = t;
      this.now = t;
    }
  }

  /** FrameHandler: one captured frame. */
  readonly onFrame = (buf: Buffer, off: number, caplen: number, _wirelen: number, tsSec: number, tsNsec: number, linktype: number): void => {
    this.packets++;
    const p = this.pkt;
    // modern: ARP on Ethernet (untagged) or Linux cooked captures (the any device) feeds the
    // host-sweep detector (src/detect/modern/arp-sweep.ts)
    if (this.modern !== null) {
      const arpAt = linktype === 1 ? 14 : linktype === 113 ? 16 : linktype === 276 ? 20 : 0;
      const typeAt = linktype === 276 ? 0 : arpAt - 2;
      if (arpAt !== 0 && caplen >= arpAt + 28 && buf[off + typeAt] === 0x08 && buf[off + typeAt + 1] === 0x06) {
        if (tsSec > this.lastTick) this.advance(tsSec);
        this.modern.arp(buf, off + arpAt, caplen - arpAt, tsSec);
        return;
      }
    }
    const ip = ipOffset(buf, off, caplen, linktype, this.an, p);
    if (ip < 0) return;
    p.reset(buf, ip, caplen - (ip - off), tsSec, tsNsec);
    if (tsSec > this.lastTick) this.advance(tsSec);
    if (p.family === 6) this.handleIp6(p, tsSec);
    else this.handleIp(p, tsSec);
  };

  /** An IPv6 packet: header chain, reassembly, then its upper-layer protocol. */
  handleIp6(p: DecodedPacket, now: number): void {
    // -a: the live filter's IPv6 part `ip6 and dst net (...)` (src/capture/live.ts), in software
    if (this.dstNets !== null && (!readIpv6Dst(p) || !netMatch6(this.dstNets, p.dst6))) return;
    let st = decodeIpv6(p, this.an);
    if (st === IPV6_FRAGMENT) {
      if (this.modern !== null) this.modern.fragment(p, now);
      const whole = this.frags6.add(p, now);
      if (whole === null) return;
      p.buf = whole;
      p.ipOff = 0;
      p.avail = whole.length;
      st = decodeIpv6(p, this.an, true);
    }
    if (st !== IPV6_OK) return;
    this.ipv6Packets++;
    switch (p.proto) {
      case 6:
      case 17:
        break;
      case 58:
        if (!decodeIcmpv6(p, this.an)) return;
        break;
      default:
        this.an.counts[A.ip6OtherProto]++;
        return;
    }
    this.dispatchIp6(p, now);
  }

  handleIp(p: DecodedPacket, now: number): void {
    const st = decodeIpv4(p, this.an);
    // -a: the live BPF filter `ip and (<enabled protocols>) and dst net (...)`, in software
    if (this.dstNets !== null && (st === IPV4_TRUNCATED || !this.bpfProto[p.proto] || !netMatch(this.dstNets, p.dst))) return;
    if (st !== IPV4_OK) {
      if (this.flags.verbose && st !== IPV4_TRUNCATED) {
        this.ctx.emit(event(st === IPV4_SHORT ? 'ip.short' : 'ip.bad_checksum', now, IpAddr.v4(p.src), { dst: IpAddr.v4(p.dst) }));
      }
      return;
    }
    this.ipv4Packets++;
    if ((p.frag & ~Ip.DF & 0xffff) !== 0) {
      if (this.modern !== null) this.modern.fragment(p, now);
      const whole = this.frags.add(p.buf, p.ipOff, p.hlen, p.avail, p.totalLen, p.frag, p.id, p.proto, p.src, p.dst, now);
      if (whole === null) return;
      // the rebuilt datagram: 20-byte header of the first fragment, its flags kept
      p.buf = whole;
      p.ipOff = 0;
      p.avail = whole.length;
      p.hlen = 20;
      p.totalLen = whole.length;
      p.tos = whole[1]!;
      p.frag = (whole[6]! << 8) | whole[7]!;
      p.ttl = whole[8]!;
      p.l4Off = 20;
      p.l4Len = whole.length - 20;
      p.l4Avail = p.l4Len;
    }
    const m = this.modern;
    switch (p.proto) {
      case 6:
        if (m !== null) {
          if (!m.floodSyn(p, now)) m.tcp(p, now);
        } else handleTcp(this.ctx, p, now);
        break;
      case 17:
        if (m !== null) m.udp(p, now);
        else handleUdp(this.ctx, p, now);
        break;
      case 1:
        if (m !== null) m.icmp(p, now);
        else handleIcmp(this.ctx, p, now);
        break;
      default:
        this.an.counts[A.ipOtherProto]++;
    }
  }

  /**
   * A decoded IPv6 packet (family 6: `src6`/`dst6`, `proto` the upper-layer protocol after
   * the extension headers, `l4Off`/`l4Avail`/`l4Len` its bytes, `ttl` the hop limit), at
   * network time `now` (the clock already advanced): the IPv6 handlers, which apply
   * iplog's detectors with the same thresholds and lines.
   */
  dispatchIp6(p: DecodedPacket, now: number): void {
    const m = this.modern;
    if (m !== null) {
      if (p.proto === 6) {
        if (!m.floodSyn(p, now)) m.tcp(p, now);
      } else if (p.proto === 17) m.udp(p, now);
      else if (p.proto === 58) m.icmp(p, now);
      return;
    }
    switch (p.proto) {
      case 6:
        handleTcp6(this.ctx, p, now);
        break;
      case 17:
        handleUdp6(this.ctx, p, now);
        break;
      case 58:
        handleIcmp6(this.ctx, p, now);
        break;
    }
  }

  /** End of run: drain deadlines, wait for queued lines, close the sink. */
  async finish(): Promise<void> {
    // the packet object must not keep the reader's last chunk alive
    this.pkt.release();
    this.drain();
    await this.out.idle();
    this.out.sink.close(this.now);
  }
}

export interface ReplayResult {
  engine: Engine;
  summary: ReadSummary | null;
  error: Error | null;
}

/**
 * Replay a capture file (or '-' for standard input) through the pipeline. `prepare` runs
 * once the engine exists and before the first frame (main.ts attaches the ban manager
 * there); what it throws ends the replay before anything is read.
 */
export async function replay(
  settings: Settings,
  path: string,
  sink: LineSink,
  renderer: HostRenderer | null,
  an?: Anomalies,
  prepare?: (engine: Engine) => Promise<void>,
): Promise<ReplayResult> {
  const engine = new Engine(settings, sink, renderer, an);
  if (prepare) await prepare(engine);
  let summary: ReadSummary | null = null;
  let error: Error | null = null;
  try {
    summary = await readCapture(path, engine.onFrame, engine.an, {
      // an unsupported link type is a clear error naming it, not a stream of counters
      strictLinktype: true,
      between: async () => {
        sink.flush();
        if (engine.out.pending() > 0) await engine.out.idle();
        // a replay waits for a slow output rather than dropping lines
        const r = sink.ready?.();
        if (r) await r;
      },
    });
  } catch (e) {
    error = e as Error;
  }
  await engine.finish();
  return { engine, summary, error };
}

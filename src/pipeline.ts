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
import { handleTcp, SynFlood, type FoolNmapHook, type IdentHook } from './detect/tcp';
import { handleUdp } from './detect/udp';
import { handleIcmp } from './detect/icmp';
import { Emitter } from './output/emitter';
import { event } from './output/event';
import { portList } from './output/format';
import { SCAN_DST_PORTS, SCAN_SRC_PORTS } from './detect/define';
import type { HostRenderer } from './output/resolve-api';
import type { LineSink } from './output/sinks/sink';
import { compileRules } from './rules/compile';
import { compileNets, netMatch, netMatch6, type NetMatcher } from './rules/dst-net';
import { readCapture } from './capture/read';
import type { ReadSummary } from './capture/source';

export type RuleMatcher = ReturnType<typeof compileRules>;

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

const EMPTY = Buffer.alloc(0);

export class Engine {
  readonly an: Anomalies;
  readonly flags: Flags;
  readonly out: Emitter;
  readonly scans: ScanTable;
  readonly frags: FragmentTable;
  readonly frags6: Fragment6Table;
  readonly rules: RuleMatcher | null;
  readonly synFlood = new SynFlood();
  private readonly dstNets: NetMatcher | null;
  /** protocols the live BPF filter would pass (tcp/udp/icmp flags), by protocol number */
  private readonly bpfProto = new Uint8Array(256);
  private readonly pkt = new DecodedPacket();
  /** iplog's global "last bogus source" (never expires) */
  lastBogus = 0;
  /** live-only TCP side effects (-z, -e); null in replay */
  foolNmap: FoolNmapHook | null = null;
  ident: IdentHook | null = null;
  /** iplog's traceroute memory: last logged host and time */
  traceHost = 0;
  traceTime = 0;
  /** deadline sources outside the engine (addClockListener) */
  private readonly clockListeners: ClockListener[] = [];
  /** network clock: the second of the last sweep, and of the last packet */
  private lastTick = -Infinity;
  now = 0;
  packets = 0;
  ipv4Packets = 0;
  ipv6Packets = 0;

  constructor(
    readonly settings: Settings,
    sink: LineSink,
    renderer: HostRenderer | null,
    an?: Anomalies,
  ) {
    this.an = an ?? new Anomalies();
    this.flags = settings.flags;
    this.out = new Emitter(sink, renderer);
    const buckets = this.flags.promisc ? 256 : 128;
    this.scans = new ScanTable(buckets, this.scanReporter(), this.an);
    this.frags = new FragmentTable({ fragment: (k, s, d, now) => this.fragLine(k, s, d, now) }, this.an);
    // IPv6 fragment attacks are counted (frag.*); their lines come with the IPv6 lines (issue 8 B.4)
    this.frags6 = new Fragment6Table({ fragment6: () => {} }, this.an);
    const r = settings.rules;
    this.rules = r.tcp.length + r.udp.length + r.icmp.length > 0 ? compileRules(r, { profile: settings.profile }) : null;
    this.bpfProto[6] = this.flags.tcp ? 1 : 0;
    this.bpfProto[17] = this.flags.udp ? 1 : 0;
    this.bpfProto[1] = this.flags.icmp ? 1 : 0;
    this.dstNets = settings.promiscNets && settings.promiscNets.length > 0 ? compileNets(settings.promiscNets, settings.promiscOrigin) : null;
  }

  /** Resolve TCP hosts? (tcp_resolve, and not during a SYN flood) */
  tcpRes(): boolean {
    return this.flags.tcp_resolve && !(this.flags.syn_flood && this.synFlood.flooding());
  }

  private resolveFor(kind: string): boolean {
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

  private scanReporter() {
    return {
      detected: (type: number, src: number, dst: number, dp: number[], sp: number[], count: number, bytes: number, now: number) => {
        const d = DETECTORS[type]!;
        const res = this.resolveFor(d.resolve);
        const dports = portList(dp, SCAN_DST_PORTS);
        const sports = portList(sp, SCAN_SRC_PORTS);
        const ev = event('scan.detected', now, src, dst, -1, -1, d.name, count, bytes, {
          title: d.title,
          dports: dp,
          dports_truncated: dp.length >= SCAN_DST_PORTS,
          sports: sp,
          sports_truncated: sp.length >= SCAN_SRC_PORTS,
        });
        const s = this.out.host(src, res, now);
        if (this.flags.log_dest) {
          this.out.line(ev, (sh, dh) => `${d.title} detected to ${dh}${dports} from ${sh}${sports}`, s, this.out.host(dst, res, now));
        } else {
          this.out.line(ev, (sh) => `${d.title} detected${dports} from ${sh}${sports}`, s);
        }
      },
      ended: (type: number, src: number, dst: number, count: number, bytes: number, now: number) => {
        const d = DETECTORS[type]!;
        const res = this.resolveFor(d.resolve);
        const ev = event('scan.expired', now, src, dst, -1, -1, d.name, count, bytes, { title: d.title });
        const s = this.out.host(src, res, now);
        const tail = ` - received a total of ${count} packets (${bytes} bytes).`;
        if (this.flags.log_dest) {
          this.out.line(ev, (sh, dh) => `${d.title} mode to ${dh} expired for ${sh}${tail}`, s, this.out.host(dst, res, now));
        } else {
          this.out.line(ev, (sh) => `${d.title} mode expired for ${sh}${tail}`, s);
        }
      },
    };
  }

  /** any_res(): fragment and verbose lines resolve unless the resolver is disabled */
  private anyRes(): boolean {
    return !this.flags.disable_resolver;
  }

  private fragLine(kind: number, src: number, dst: number, now: number): void {
    if (!this.flags.frag) return;
    const what =
      kind === FRAG_OVERSIZED ? 'Oversized IP fragment' : kind === FRAG_DUPLICATE ? 'Duplicate IP fragments' : 'Overlapping IP fragments';
    const evKind = kind === FRAG_OVERSIZED ? 'frag.oversized' : kind === FRAG_DUPLICATE ? 'frag.duplicate' : 'frag.overlap';
    this.ipLine(evKind, what, kind === FRAG_OVERLAP_MID ? 'Overlapping IP frags' : what, src, dst, now);
  }

  private ipLine(kind: string, what: string, whatDest: string, src: number, dst: number, now: number): void {
    const res = this.anyRes();
    const ev = event(kind, now, src, dst);
    const s = this.out.host(src, res, now);
    if (this.flags.log_dest) this.out.line(ev, (sh, dh) => `${whatDest} to ${dh} from ${sh}`, s, this.out.host(dst, res, now));
    else this.out.line(ev, (sh) => `${what} from ${sh}`, s);
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
      const due = Math.min(this.scans.due(), this.frags.due(), this.frags6.due(), hooks ? this.listenersDue(false) : Infinity);
      const t = Math.max(this.lastTick + 1, due);
      if (t > now) break;
      this.frags.sweep(t);
      this.frags6.sweep(t);
      this.scans.sweep(t);
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
      const due = Math.min(this.scans.due(), this.frags.due(), this.frags6.due(), this.listenersDue(true));
      if (due === Infinity) break;
      const t = Math.max(this.lastTick + 1, due);
      this.frags.sweep(t);
      this.frags6.sweep(t);
      this.scans.sweep(t);
      this.sweepListeners(t, true);
      this.lastTick = t;
      this.now = t;
    }
  }

  /** FrameHandler: one captured frame. */
  readonly onFrame = (buf: Buffer, off: number, caplen: number, _wirelen: number, tsSec: number, tsNsec: number, linktype: number): void => {
    this.packets++;
    const p = this.pkt;
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
    // TCP, UDP and ICMPv6 handlers and detectors for IPv6: issue 8 B.3/B.4 (the packet
    // has the IPv4 shape: l4 fields, proto, ttl = hop limit; addresses in src6/dst6)
  }

  handleIp(p: DecodedPacket, now: number): void {
    const st = decodeIpv4(p, this.an);
    // -a: the live BPF filter `ip and (<enabled protocols>) and dst net (...)`, in software
    if (this.dstNets !== null && (st === IPV4_TRUNCATED || !this.bpfProto[p.proto] || !netMatch(this.dstNets, p.dst))) return;
    if (st !== IPV4_OK) {
      if (this.flags.verbose && st !== IPV4_TRUNCATED) {
        const what = st === IPV4_SHORT ? 'Short IP packet' : 'IP packet with invalid checksum';
        this.ipLine(st === IPV4_SHORT ? 'ip.short' : 'ip.bad_checksum', what, what, p.src, p.dst, now);
      }
      return;
    }
    this.ipv4Packets++;
    if ((p.frag & ~Ip.DF & 0xffff) !== 0) {
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
    switch (p.proto) {
      case 6:
        handleTcp(this, p, now);
        break;
      case 17:
        handleUdp(this, p, now);
        break;
      case 1:
        handleIcmp(this, p, now);
        break;
      default:
        this.an.counts[A.ipOtherProto]++;
    }
  }

  /** End of run: drain deadlines, wait for queued lines, close the sink. */
  async finish(): Promise<void> {
    // the packet object must not keep the reader's last chunk alive
    this.pkt.buf = EMPTY;
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

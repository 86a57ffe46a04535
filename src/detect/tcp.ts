/**
 * TCP handler (iplog_tcp.c tcp_parser()), in the original's exact order:
 *  1 filter rules; 2 fool_nmap (live only); 3 SYN-flood bookkeeping; 4 null scan;
 *  5 Xmas scan; 6 FIN scan; 7 bogus flags (ECE/CWR) — logged once per change of source,
 *  then stop; 8 SYN without ACK: SYN scan (DF clear) or port scan, SYN-flood count,
 *  scans_only, the connection-attempt line (or, with -e, an ident lookup that logs it
 *  later). Everything else is not logged.
 * A scan step that finds the pair in mode stops the packet (its line is suppressed).
 * The -z and -e side effects are live-only hooks on the engine (null in replay, so the
 * packet path pays one null test each): src/live/fool-nmap.ts, src/live/ident.ts.
 */
import type { Engine } from '../pipeline';
import { A } from '../decode/anomalies';
import { DecodedPacket, Ip, Th, be16 } from '../decode/packet';
import { Scan } from './index';
import { serviceName } from '../output/services';
import { event, type IplogEvent } from '../output/event';

const XMAS = new Uint8Array(64);
for (const f of [Th.FIN | Th.URG | Th.PUSH, Th.URG, Th.PUSH, Th.FIN | Th.URG, Th.FIN | Th.PUSH, Th.URG | Th.PUSH]) XMAS[f] = 1;

export function handleTcp(e: Engine, p: DecodedPacket, now: number): void {
  if (p.l4Avail < 14) {
    e.an.counts[A.tcpTruncated]++;
    return;
  }
  const b = p.buf;
  const o = p.l4Off;
  const sport = be16(b, o);
  const dport = be16(b, o + 2);
  const rawFlags = b[o + 13]!;
  const f = e.flags;
  if (e.rules !== null && e.rules.tcp(p.src, p.dst, sport, dport)) return;

  // -z: a forged reply to OS-detection probes; the probe is then handled as usual
  if (e.foolNmap !== null) e.foolNmap.probe(p, rawFlags, now);

  // SYN-flood resolver suppression: C decays by the seconds since the last TCP packet
  if (f.syn_flood) e.synFlood.decay(now);

  const len = p.l4Len;
  // the scan table takes addresses as int32 (never boxed as doubles)
  const src = p.src | 0;
  const dst = p.dst | 0;
  const flags = rawFlags & ~Th.BOG & 0xff;
  const st = e.scans;
  if (f.null_scan && flags === 0 && st.check(Scan.NULL, src, dst, len, sport, dport, now)) return;
  if (f.xmas_scan && XMAS[flags] === 1 && st.check(Scan.XMAS, src, dst, len, sport, dport, now)) return;
  if (f.fin_scan && flags === Th.FIN && st.check(Scan.FIN, src, dst, len, sport, dport, now)) return;

  if (f.bogus && (rawFlags & Th.BOG) !== 0) {
    if (e.lastBogus !== p.src) {
      e.lastBogus = p.src;
      const res = e.tcpRes();
      const ev = event('tcp.bogus_flags', now, p.src, p.dst, sport, dport, null, -1, -1, { tcp_flags: rawFlags });
      const s = e.out.host(p.src, res, now);
      if (f.log_dest) {
        e.out.line(ev, (sh, dh) => `TCP: Bogus TCP flags set by ${sh}:${sport} (dest ${dh}:${dport})`, s, e.out.host(p.dst, res, now));
      } else {
        e.out.line(ev, (sh) => `TCP: Bogus TCP flags set by ${sh}:${sport} (dest port ${dport})`, s);
      }
    }
    return;
  }

  if ((rawFlags & Th.SYN) !== 0 && (rawFlags & Th.ACK) === 0) {
    // SYN scan (DF clear), else — also while the SYN counter is below its threshold — port
    // scan: one table lookup for both (they key the same pair)
    const syn = f.syn_scan && (p.frag & Ip.DF) === 0;
    if (syn || f.portscan) {
      const slot = st.slotFor(src, dst, now);
      if (syn && st.count(slot, Scan.SYN, len, sport, dport, now)) return;
      else if (f.portscan && st.count(slot, Scan.PORT, len, sport, dport, now)) return;
    }
    if (f.syn_flood) e.synFlood.syn();
    if (f.scans_only) return;
    // -e: a SYN to a listening port is logged when its ident lookup ends
    if (e.ident !== null && e.ident.listens(dport, p.dst) && e.ident.lookup(p.src, p.dst, sport, dport, rawFlags)) return;
    logConnection(e, p.src, p.dst, sport, dport, rawFlags, now, undefined);
  }
}

/**
 * `TCP: <svc> connection attempt [to D ]from [<user>@]S:<sport>` (spec §3.4.2); `user` is
 * the ident answer (-e), if any.
 */
export function logConnection(e: Engine, src: number, dst: number, sport: number, dport: number, rawFlags: number, now: number, user: string | undefined): void {
  const svc = serviceName(dport, 'tcp');
  const res = e.tcpRes();
  const detail: IplogEvent['detail'] =
    user === undefined ? { service: svc, tcp_flags: rawFlags } : { service: svc, tcp_flags: rawFlags, ident_user: user };
  const ev = event('tcp.connection_attempt', now, src, dst, sport, dport, null, -1, -1, detail);
  const who = user === undefined ? '' : `${user}@`;
  const s = e.out.host(src, res, now);
  if (e.flags.log_dest) {
    e.out.line(ev, (sh, dh) => `TCP: ${svc} connection attempt to ${dh} from ${who}${sh}:${sport}`, s, e.out.host(dst, res, now));
  } else {
    e.out.line(ev, (sh) => `TCP: ${svc} connection attempt from ${who}${sh}:${sport}`, s);
  }
}

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

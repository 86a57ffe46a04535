/**
 * TCP handler (iplog_tcp.c tcp_parser()), in the original's exact order:
 *  1 filter rules; 2 fool_nmap (live only); 3 SYN-flood bookkeeping; 4 null scan;
 *  5 Xmas scan; 6 FIN scan; 7 bogus flags (ECE/CWR) — logged once per change of source,
 *  then stop; 8 SYN without ACK: SYN scan (DF clear) or port scan, SYN-flood count,
 *  scans_only, the connection-attempt line (or, with -e, an ident lookup that logs it
 *  later). Everything else is not logged.
 * A scan step that finds the pair in mode stops the packet (its line is suppressed).
 * The -z and -e side effects are live-only hooks of the context (null in replay, so the
 * packet path pays one null test each): src/live/fool-nmap.ts, src/live/ident.ts.
 */
import { A } from '../decode/anomalies';
import { DecodedPacket, Ip, Th, be16 } from '../decode/packet';
import { Scan } from './index';
import { serviceName } from '../output/services';
import { IpAddr } from '../net/addr';
import { event, type IplogEvent } from '../output/event';
import { sameWords, type DetectContext } from './context';

export { SynFlood, type FoolNmapHook, type IdentHook } from './context';

const XMAS = new Uint8Array(64);
for (const f of [Th.FIN | Th.URG | Th.PUSH, Th.URG, Th.PUSH, Th.FIN | Th.URG, Th.FIN | Th.PUSH, Th.URG | Th.PUSH]) XMAS[f] = 1;

export function handleTcp(e: DetectContext, p: DecodedPacket, now: number): void {
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
  // proof is not logging: the tracker sees every TCP packet, before the filter rules
  // addresses as int32: a uint32 of 2^31 or more passed as a number is boxed (an allocation per packet)
  if (e.trust !== null) e.trust.packet(p, 0, 0, 0xffff, p.src | 0, 0, 0, 0xffff, p.dst | 0, now);
  if (e.rules !== null && e.rules.tcp(p.src, p.dst, sport, dport)) return;

  // -z: a forged reply to OS-detection probes; the probe is then handled as usual
  if (e.hooks.foolNmap !== null) e.hooks.foolNmap.probe(p, rawFlags, now);

  // SYN-flood resolver suppression: C decays by the seconds since the last TCP packet
  if (f.syn_flood) e.state.synFlood.decay(now);

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
    const rs = e.state;
    if (rs.lastBogus !== p.src) {
      rs.lastBogus = p.src;
      e.emit(event('tcp.bogus_flags', now, IpAddr.v4(p.src), { dst: IpAddr.v4(p.dst), sport, dport, detail: { tcp_flags: rawFlags, spoofable: 3, proof: false, source_role: 'attacker' } }));
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
    if (f.syn_flood) e.state.synFlood.syn();
    if (f.scans_only) return;
    // -e: a SYN to a listening port is logged when its ident lookup ends
    const ident = e.hooks.ident;
    if (ident !== null && ident.listens(dport, p.dst) && ident.lookup(p.src, p.dst, sport, dport, rawFlags)) return;
    logConnection(e, p.src, p.dst, sport, dport, rawFlags, now, undefined);
  }
}

/**
 * IPv6 (the original never saw it): the same steps in the same order, on the IPv6 pair
 * table. IPv6 has no DF bit, so the SYN-scan test is on TCP options instead: a SYN whose
 * header carries at most 4 bytes of options (none, or a lone MSS) is a raw-socket SYN —
 * nmap -sS, masscan, hping3 and zmap send those — while every kernel's connect() sends
 * MSS with SACK-permitted, timestamps and/or window scale (12 bytes or more). Such a SYN
 * counts for the SYN-scan detector, others for the port-scan detector, as DF decides
 * for IPv4. The filter rules (iplog.conf) apply to IPv4 only until they accept IPv6.
 */
export function handleTcp6(e: DetectContext, p: DecodedPacket, now: number): void {
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
  const s6 = p.src6;
  const d6 = p.dst6;
  // the words as int32 (the tracker keys them in a Uint32Array, same bits): a word of
  // 2^31 or more passed as a number would be boxed, an allocation per packet
  if (e.trust !== null) e.trust.packet(p, s6[0]! | 0, s6[1]! | 0, s6[2]! | 0, s6[3]! | 0, d6[0]! | 0, d6[1]! | 0, d6[2]! | 0, d6[3]! | 0, now);
  if (f.syn_flood) e.state.synFlood.decay(now);
  const len = p.l4Len;
  const flags = rawFlags & ~Th.BOG & 0xff;
  const st = e.scans6;
  if (f.null_scan && flags === 0 && st.check(Scan.NULL, s6, d6, len, sport, dport, now)) return;
  if (f.xmas_scan && XMAS[flags] === 1 && st.check(Scan.XMAS, s6, d6, len, sport, dport, now)) return;
  if (f.fin_scan && flags === Th.FIN && st.check(Scan.FIN, s6, d6, len, sport, dport, now)) return;

  if (f.bogus && (rawFlags & Th.BOG) !== 0) {
    const rs = e.state;
    if (!rs.hasBogus6 || !sameWords(rs.lastBogus6, s6)) {
      rs.lastBogus6.set(s6);
      rs.hasBogus6 = true;
      e.emit(event('tcp.bogus_flags', now, IpAddr.v6FromWords(s6), { dst: IpAddr.v6FromWords(d6), sport, dport, detail: { tcp_flags: rawFlags, spoofable: 3, proof: false, source_role: 'attacker' } }));
    }
    return;
  }

  if ((rawFlags & Th.SYN) !== 0 && (rawFlags & Th.ACK) === 0) {
    // data offset in 32-bit words: 5 = no options, 6 = one 4-byte option (MSS)
    const syn = f.syn_scan && b[o + 12]! >> 4 <= 6;
    if (syn || f.portscan) {
      const slot = st.slotFor(s6, d6, now);
      if (syn && st.count(slot, Scan.SYN, len, sport, dport, now)) return;
      else if (f.portscan && st.count(slot, Scan.PORT, len, sport, dport, now)) return;
    }
    if (f.syn_flood) e.state.synFlood.syn();
    if (f.scans_only) return;
    const service = serviceName(dport, 'tcp');
    e.emit(event('tcp.connection_attempt', now, IpAddr.v6FromWords(s6), { dst: IpAddr.v6FromWords(d6), sport, dport, detail: { service, tcp_flags: rawFlags } }));
  }
}

/**
 * `TCP: <svc> connection attempt [to D ]from [<user>@]S:<sport>` (spec §3.4.2); `user` is
 * the ident answer (-e), if any.
 */
export function logConnection(e: DetectContext, src: number, dst: number, sport: number, dport: number, rawFlags: number, now: number, user: string | undefined): void {
  // nothing but a sink needs the event: its line is written from these facts (issue 10)
  if (user === undefined && e.connectionV4(src, dst, sport, dport, rawFlags, now)) return;
  const service = serviceName(dport, 'tcp');
  const detail: IplogEvent['detail'] =
    user === undefined ? { service, tcp_flags: rawFlags } : { service, tcp_flags: rawFlags, ident_user: user };
  e.emit(event('tcp.connection_attempt', now, IpAddr.v4(src), { dst: IpAddr.v4(dst), sport, dport, detail }));
}

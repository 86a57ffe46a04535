/**
 * UDP handler (iplog_udp.c udp_parser()): filter rules; source port 7 feeds the smurf
 * detector; TTL 1 is a traceroute probe (one line per source change or per 15 s since
 * the last *logged* line; such datagrams are never logged or counted otherwise); the
 * UDP scan/flood detector; scans_only; the datagram line. `N data bytes` is the UDP
 * length field minus 8 computed in unsigned 64-bit arithmetic, as the original printed
 * it (a length field below 8 prints 2^64 - (8 - len)).
 */
import { A } from '../decode/anomalies';
import { DecodedPacket, be16 } from '../decode/packet';
import { Scan } from './index';
import { serviceName } from '../output/services';
import { IpAddr } from '../net/addr';
import { event } from '../output/event';
import { sameWords, type DetectContext } from './context';

export function handleUdp(e: DetectContext, p: DecodedPacket, now: number): void {
  if (p.l4Avail < 8) {
    e.an.counts[A.udpTruncated]++;
    return;
  }
  const b = p.buf;
  const o = p.l4Off;
  const sport = be16(b, o);
  const dport = be16(b, o + 2);
  const f = e.flags;
  if (e.rules !== null && e.rules.udp(p.src, p.dst, sport, dport)) return;
  const len = p.l4Len;
  if (f.smurf && sport === 7 && e.scans.check(Scan.SMURF, p.src & 0xffffff00, p.dst | 0, len, sport, dport, now)) return;

  if (f.traceroute && p.ttl === 1) {
    const rs = e.state;
    if (rs.traceHost !== p.src || now >= rs.traceTime + 15) {
      rs.traceHost = p.src;
      rs.traceTime = now;
      e.emit(event('udp.traceroute', now, IpAddr.v4(p.src), { dst: IpAddr.v4(p.dst), sport, dport, detail: { ttl: p.ttl, spoofable: 3, proof: false, source_role: 'attacker' } }));
    }
    return;
  }

  if (f.udp_scan && e.scans.check(Scan.UDP, p.src | 0, p.dst | 0, len, sport, dport, now)) return;
  if (f.scans_only) return;

  const ulen = be16(b, o + 4);
  if (ulen < 8) e.an.counts[A.udpLenSmall]++;
  // bytes: the data bytes as the line prints them when the length field is sane; the raw
  // length field is always in detail (the line's 2^64 underflow is not a JSON number)
  e.emit(
    event('udp.datagram', now, IpAddr.v4(p.src), {
      dst: IpAddr.v4(p.dst),
      sport,
      dport,
      bytes: ulen >= 8 ? ulen - 8 : -1,
      detail: { service: serviceName(dport, 'udp'), udp_length: ulen },
    }),
  );
}

/**
 * IPv6: the same steps. Smurf counts UDP from port 7 per (source /64, destination), as
 * IPv4 per /24; a traceroute probe is hop limit 1. Filter rules: IPv4 only for now.
 */
export function handleUdp6(e: DetectContext, p: DecodedPacket, now: number): void {
  if (p.l4Avail < 8) {
    e.an.counts[A.udpTruncated]++;
    return;
  }
  const b = p.buf;
  const o = p.l4Off;
  const sport = be16(b, o);
  const dport = be16(b, o + 2);
  const f = e.flags;
  const len = p.l4Len;
  const s6 = p.src6;
  const d6 = p.dst6;
  if (f.smurf && sport === 7 && e.scans6.count(e.scans6.slotForNet64(s6, d6, now), Scan.SMURF, len, sport, dport, now)) return;

  if (f.traceroute && p.ttl === 1) {
    const rs = e.state;
    if (!rs.hasTrace6 || !sameWords(rs.traceHost6, s6) || now >= rs.traceTime6 + 15) {
      rs.traceHost6.set(s6);
      rs.hasTrace6 = true;
      rs.traceTime6 = now;
      e.emit(event('udp.traceroute', now, IpAddr.v6FromWords(s6), { dst: IpAddr.v6FromWords(d6), sport, dport, detail: { ttl: p.ttl, spoofable: 3, proof: false, source_role: 'attacker' } }));
    }
    return;
  }

  if (f.udp_scan && e.scans6.check(Scan.UDP, s6, d6, len, sport, dport, now)) return;
  if (f.scans_only) return;

  const ulen = be16(b, o + 4);
  if (ulen < 8) e.an.counts[A.udpLenSmall]++;
  e.emit(
    event('udp.datagram', now, IpAddr.v6FromWords(s6), {
      dst: IpAddr.v6FromWords(d6),
      sport,
      dport,
      bytes: ulen >= 8 ? ulen - 8 : -1,
      detail: { service: serviceName(dport, 'udp'), udp_length: ulen },
    }),
  );
}

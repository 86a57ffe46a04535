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
import type { DetectContext } from './context';

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
      e.emit(event('udp.traceroute', now, IpAddr.v4(p.src), { dst: IpAddr.v4(p.dst), sport, dport, detail: { ttl: p.ttl } }));
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

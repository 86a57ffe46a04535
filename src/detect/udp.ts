/**
 * UDP handler (iplog_udp.c udp_parser()): filter rules; source port 7 feeds the smurf
 * detector; TTL 1 is a traceroute probe (one line per source change or per 15 s since
 * the last *logged* line; such datagrams are never logged or counted otherwise); the
 * UDP scan/flood detector; scans_only; the datagram line. `N data bytes` is the UDP
 * length field minus 8 computed in unsigned 64-bit arithmetic, as the original printed
 * it (a length field below 8 prints 2^64 - (8 - len)).
 */
import type { Engine } from '../pipeline';
import { A } from '../decode/anomalies';
import { DecodedPacket, be16 } from '../decode/packet';
import { Scan } from './index';
import { serviceName } from '../output/services';
import { event } from '../output/event';

function dataBytes(ulen: number): string {
  return ulen >= 8 ? String(ulen - 8) : (18446744073709551616n - BigInt(8 - ulen)).toString();
}

export function handleUdp(e: Engine, p: DecodedPacket, now: number): void {
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
    if (e.traceHost !== p.src || now >= e.traceTime + 15) {
      e.traceHost = p.src;
      e.traceTime = now;
      const res = f.udp_resolve;
      const ev = event('udp.traceroute', now, p.src, p.dst, sport, dport, null, -1, -1, { ttl: p.ttl });
      const s = e.out.host(p.src, res, now);
      if (f.log_dest) e.out.line(ev, (sh, dh) => `UDP: traceroute from ${sh} to ${dh}`, s, e.out.host(p.dst, res, now));
      else e.out.line(ev, (sh) => `UDP: traceroute from ${sh}`, s);
    }
    return;
  }

  if (f.udp_scan && e.scans.check(Scan.UDP, p.src | 0, p.dst | 0, len, sport, dport, now)) return;
  if (f.scans_only) return;

  const ulen = be16(b, o + 4);
  if (ulen < 8) e.an.counts[A.udpLenSmall]++;
  const svc = serviceName(dport, 'udp');
  const n = dataBytes(ulen);
  const res = f.udp_resolve;
  // bytes: the data bytes as the line prints them when the length field is sane; the raw
  // length field is always in detail (the line's 2^64 underflow is not a JSON number)
  const ev = event('udp.datagram', now, p.src, p.dst, sport, dport, null, -1, ulen >= 8 ? ulen - 8 : -1, { service: svc, udp_length: ulen });
  const s = e.out.host(p.src, res, now);
  if (f.log_dest) {
    e.out.line(ev, (sh, dh) => `UDP: dgram to ${dh}:${svc} from ${sh}:${sport} (${n} data bytes)`, s, e.out.host(p.dst, res, now));
  } else {
    e.out.line(ev, (sh) => `UDP: dgram to ${svc} from ${sh}:${sport} (${n} data bytes)`, s);
  }
}

/**
 * ICMP handler (iplog_icmp.c icmp_parser()): filter rules (on type); echo replies feed
 * the smurf detector (source /24); echo requests the ping-flood detector; scans_only;
 * then one line per type, with the original's wording, including its oddities: every
 * unreachable code 0-15 reads "port is unreachable" (and "to (" dangles without
 * log_dest), type 14 says "timestamp request" and prints the transmit time as local
 * HH:MM:SS, the address-mask reply is printed byte-swapped and goes through the host
 * renderer, router addresses are never resolved, redirects never name the destination.
 * Fields past the captured bytes read as zero (the original read whatever followed).
 * The wording of each line is in the line catalogue (output/lines.ts); this handler
 * selects packets and reads the facts each line needs into its event.
 */
import { A } from '../decode/anomalies';
import { DecodedPacket, be16Or0, be32Or0, byteOr0 } from '../decode/packet';
import { Scan } from './index';
import { IpAddr, formatIpv4 } from '../net/addr';
import { event, type DetailValue } from '../output/event';
import type { DetectContext } from './context';

/** event kinds by ICMP type (json-events.md) */
const KIND: (string | undefined)[] = [
  'icmp.echo_reply', undefined, undefined, 'icmp.unreachable', 'icmp.source_quench', 'icmp.redirect', undefined, undefined,
  'icmp.echo', 'icmp.router_advertisement', 'icmp.router_solicitation', 'icmp.time_exceeded', 'icmp.parameter_problem',
  'icmp.timestamp_request', 'icmp.timestamp_reply', 'icmp.info_request', 'icmp.info_reply', 'icmp.mask_request', 'icmp.mask_reply',
];

export function handleIcmp(e: DetectContext, p: DecodedPacket, now: number): void {
  if (p.l4Avail < 2) {
    e.an.counts[A.icmpTruncated]++;
    return;
  }
  const b = p.buf;
  const o = p.l4Off;
  const end = o + p.l4Avail;
  const type = b[o]!;
  const code = b[o + 1]!;
  const f = e.flags;
  if (e.rules !== null && e.rules.icmp(p.src, p.dst, type)) return;
  const len = p.l4Len;
  if (f.smurf && type === 0 && e.scans.check(Scan.SMURF, p.src & 0xffffff00, p.dst | 0, len, -1, -1, now)) return;
  if (f.ping_flood && type === 8 && e.scans.check(Scan.PING, p.src | 0, p.dst | 0, len, -1, -1, now)) return;
  if (f.scans_only) return;

  if (o + 8 > end) e.an.counts[A.icmpTruncated]++;
  const undefinedCode = (type === 3 && code >= 16) || (type === 5 && code > 3);
  const kind = undefinedCode ? `${KIND[type]}_undefined_code` : ((type <= 18 ? KIND[type] : undefined) ?? 'icmp.undefined_type');
  const detail: Record<string, DetailValue> = { icmp_type: type, icmp_code: code };
  let gateway: IpAddr | null = null;
  let quoted: IpAddr | null = null;
  let mask: IpAddr | null = null;
  switch (type) {
    case 11:
      quotedFacts(detail, b, o, end);
      break;
    case 3:
      if (code < 16) {
        quotedFacts(detail, b, o, end);
        quoted = IpAddr.v4(be32Or0(b, o + 8 + 16, end));
      }
      break;
    case 5:
      if (code <= 3) {
        gateway = IpAddr.v4(be32Or0(b, o + 4, end));
        quoted = IpAddr.v4(be32Or0(b, o + 8 + 16, end));
      }
      break;
    case 14:
      detail.transmit_ms = be32Or0(b, o + 16, end);
      break;
    case 18: {
      // the mask is byte-swapped before printing (and rendered as a host)
      const m = be32Or0(b, o + 8, end);
      mask = IpAddr.v4((((m & 0xff) << 24) | ((m & 0xff00) << 8) | ((m >>> 8) & 0xff00) | (m >>> 24)) >>> 0);
      break;
    }
    case 12:
      detail.pointer = byteOr0(b, o + 4, end);
      break;
    case 9: {
      // router addresses are never resolved: they are facts of the line, not hosts
      const n = Math.min(byteOr0(b, o + 4, end), 12);
      const routers: string[] = [];
      for (let i = 0; i < n; i++) routers.push(formatIpv4(be32Or0(b, o + 8 + i * 8, end)));
      detail.routers = routers;
      detail.lifetime = be16Or0(b, o + 6, end);
      break;
    }
  }
  e.emit(event(kind, now, IpAddr.v4(p.src), { dst: IpAddr.v4(p.dst), gateway, quoted, mask, bytes: len, detail }));
}

/** print_data()'s facts: the quoted packet's protocol and ports (or ICMP type and code), past a 20-byte quoted IP header. */
function quotedFacts(detail: Record<string, DetailValue>, b: Buffer, o: number, end: number): void {
  const qproto = byteOr0(b, o + 8 + 9, end);
  const d = o + 28;
  detail.quoted_proto = qproto;
  if (qproto === 1) {
    detail.quoted_icmp_type = byteOr0(b, d, end);
    detail.quoted_icmp_code = byteOr0(b, d + 1, end);
  } else {
    detail.quoted_dport = be16Or0(b, d + 2, end);
    detail.quoted_sport = be16Or0(b, d, end);
  }
}

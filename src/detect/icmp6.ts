/**
 * ICMPv6 handler (the original had none). In iplog's order: echo replies feed the smurf
 * detector (per source /64, as IPv4 per /24), echo requests the ping-flood detector;
 * scans_only; then one line per message. Neighbour discovery (133-137) and MLD (130-132,
 * 143) are the background of every IPv6 link: never counted by a detector, and their
 * lines are written only in verbose mode (-V). The wording is in output/lines.ts
 * (`ICMPv6: ...`); this handler reads the facts. Fields past the captured bytes read as
 * zero. Filter rules first, as for ICMP: `icmp6` rules (their type is an ICMPv6 type) and
 * `icmp` rules without a type (docs/configuration.md).
 */
import { A } from '../decode/anomalies';
import { DecodedPacket, be16Or0, be32Or0, byteOr0 } from '../decode/packet';
import { Scan } from './index';
import { IpAddr } from '../net/addr';
import { event, type DetailValue } from '../output/event';
import type { DetectContext } from './context';

/** event kinds by ICMPv6 type (docs/json-events.md) */
const KIND = new Map<number, string>([
  [1, 'icmp6.unreachable'],
  [2, 'icmp6.packet_too_big'],
  [3, 'icmp6.time_exceeded'],
  [4, 'icmp6.parameter_problem'],
  [128, 'icmp6.echo_request'],
  [129, 'icmp6.echo_reply'],
  [130, 'icmp6.mld_query'],
  [131, 'icmp6.mld_report'],
  [132, 'icmp6.mld_done'],
  [133, 'icmp6.router_solicitation'],
  [134, 'icmp6.router_advertisement'],
  [135, 'icmp6.neighbor_solicitation'],
  [136, 'icmp6.neighbor_advertisement'],
  [137, 'icmp6.redirect'],
  [143, 'icmp6.mld2_report'],
]);

/** Neighbour discovery and MLD: lines in verbose mode only, never detections. */
export function isLinkBackground(type: number): boolean {
  return (type >= 130 && type <= 137) || type === 143;
}

function addrAt(b: Buffer, off: number, end: number): IpAddr {
  return IpAddr.v6(be32Or0(b, off, end), be32Or0(b, off + 4, end), be32Or0(b, off + 8, end), be32Or0(b, off + 12, end));
}

export function handleIcmp6(e: DetectContext, p: DecodedPacket, now: number): void {
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
  const len = p.l4Len;
  const s6 = p.src6;
  const d6 = p.dst6;
  if (e.rules !== null && e.rules.icmp6(s6, d6, type)) return;
  if (f.smurf && type === 129) {
    const st = e.scans6;
    if (st.count(st.slotForNet64(s6, d6, now), Scan.SMURF, len, -1, -1, now)) return;
  }
  if (f.ping_flood && type === 128 && e.scans6.check(Scan.PING, s6, d6, len, -1, -1, now)) return;
  if (f.scans_only) return;
  if (isLinkBackground(type) && !f.verbose) return;

  if (o + 8 > end) e.an.counts[A.icmpTruncated]++;
  const detail: Record<string, DetailValue> = { icmp_type: type, icmp_code: code };
  let gateway: IpAddr | null = null;
  let quoted: IpAddr | null = null;
  switch (type) {
    case 1:
    case 3:
      quotedFacts(detail, b, o, end);
      quoted = addrAt(b, o + 8 + 24, end);
      break;
    case 2:
      detail.mtu = be32Or0(b, o + 4, end);
      quotedFacts(detail, b, o, end);
      break;
    case 4:
      detail.pointer = be32Or0(b, o + 4, end);
      break;
    case 134:
      detail.lifetime = be16Or0(b, o + 6, end);
      break;
    case 135:
    case 136:
      detail.target = addrAt(b, o + 8, end).toString();
      break;
    case 137:
      // the better first hop, and the destination it is better for
      gateway = addrAt(b, o + 8, end);
      quoted = addrAt(b, o + 24, end);
      break;
  }
  const kind = KIND.get(type) ?? 'icmp6.undefined_type';
  e.emit(event(kind, now, IpAddr.v6FromWords(s6), { dst: IpAddr.v6FromWords(d6), gateway, quoted, bytes: len, detail }));
}

/** The invoking packet an ICMPv6 error quotes (from offset 8): its next header and ports (no extension-header walk). */
function quotedFacts(detail: Record<string, DetailValue>, b: Buffer, o: number, end: number): void {
  const q = o + 8;
  const nh = byteOr0(b, q + 6, end);
  detail.quoted_proto = nh;
  const t = q + 40;
  if (nh === 58) {
    detail.quoted_icmp_type = byteOr0(b, t, end);
    detail.quoted_icmp_code = byteOr0(b, t + 1, end);
  } else {
    detail.quoted_dport = be16Or0(b, t + 2, end);
    detail.quoted_sport = be16Or0(b, t, end);
  }
}

/**
 * ICMP handler (iplog_icmp.c icmp_parser()): filter rules (on type); echo replies feed
 * the smurf detector (source /24); echo requests the ping-flood detector; scans_only;
 * then one line per type, with the original's wording, including its oddities: every
 * unreachable code 0-15 reads "port is unreachable" (and "to (" dangles without
 * log_dest), type 14 says "timestamp request" and prints the transmit time as local
 * HH:MM:SS, the address-mask reply is printed byte-swapped and goes through the host
 * renderer, router addresses are never resolved, redirects never name the destination.
 * Fields past the captured bytes read as zero (the original read whatever followed).
 */
import type { Engine } from '../pipeline';
import { A } from '../decode/anomalies';
import { DecodedPacket, be16Or0, be32Or0, byteOr0 } from '../decode/packet';
import { Scan } from './index';
import { protoName } from '../output/services';
import { dottedQuad } from '../output/resolve-api';
import { clockTime } from '../output/timestamp';
import type { HostText } from '../output/emitter';
import { event } from '../output/event';

/** icmp_codes[] of iplog_icmp.h, by type (undefined: "undefined ICMP type") */
const TYPE_TEXT: (string | undefined)[] = [
  'echo reply', undefined, undefined, 'destination unreachable', 'source quench', 'redirect', undefined, undefined,
  'echo', 'path of router advertisement', 'router solicitation', 'time exceeded', 'parameter problem',
  'timestamp request', 'timestamp reply', 'info request', 'info reply', 'address mask request', 'address mask reply',
];

/** icmp_types[]: names of a quoted ICMP message's type */
const QUOTED_NAME = [
  'ICMP_ECHO_REPLY', '1', '2', 'ICMP_DEST_UNREACHABLE', 'ICMP_SOURCE_QUENCH', 'ICMP_REDIRECT', '6', '7',
  'ICMP_ECHO', 'ICMP_ROUTER_ADVERT', 'ICMP_ROUTER_SOLICIT', 'ICMP_TIME_EXCEEDED', 'ICMP_PARAMETER_PROBLEM',
  'ICMP_TIMESTAMP', 'ICMP_TIMESTAMP_REPLY', 'ICMP_INFO_REQUEST', 'ICMP_INFO_REPLY', 'ICMP_ADDRESS_REQUEST',
  'ICMP_ADDRESS_REPLY',
];
/** the original indexed past its table for quoted types >= 19; we name them plainly */
const QUOTED_UNDEFINED = 'ICMP_UNDEFINED';

/** event kinds by ICMP type (json-events.md) */
const KIND: (string | undefined)[] = [
  'icmp.echo_reply', undefined, undefined, 'icmp.unreachable', 'icmp.source_quench', 'icmp.redirect', undefined, undefined,
  'icmp.echo', 'icmp.router_advertisement', 'icmp.router_solicitation', 'icmp.time_exceeded', 'icmp.parameter_problem',
  'icmp.timestamp_request', 'icmp.timestamp_reply', 'icmp.info_request', 'icmp.info_reply', 'icmp.mask_request', 'icmp.mask_reply',
];

const REDIRECT_FMT = ['redirect', 'to network', 'redirect', 'to host', 'redirect-tos', 'to network', 'redirect-tos', 'to host'];

export function handleIcmp(e: Engine, p: DecodedPacket, now: number): void {
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

  const out = e.out;
  const res = f.icmp_resolve;
  const dest = f.log_dest;
  const s = out.host(p.src, res, now);
  const d: HostText = dest ? out.host(p.dst, res, now) : '';
  if (o + 8 > end) e.an.counts[A.icmpTruncated]++;
  const undefinedCode = (type === 3 && code >= 16) || (type === 5 && code > 3);
  const kind = undefinedCode ? `${KIND[type]}_undefined_code` : ((type <= 18 ? KIND[type] : undefined) ?? 'icmp.undefined_type');
  const ev = event(kind, now, p.src, p.dst, -1, -1, null, -1, len, { icmp_type: type, icmp_code: code });

  switch (type) {
    case 11: {
      const data = quotedData(b, o, end);
      if (dest) out.line(ev, (sh, dh) => `ICMP: ${sh} time exceeded to ${dh} (${data})`, s, d);
      else out.line(ev, (sh) => `ICMP: ${sh} time exceeded (${data})`, s);
      return;
    }
    case 0:
    case 8: {
      const what = TYPE_TEXT[type]!;
      if (dest) out.line(ev, (sh, dh) => `ICMP: ${what} from ${sh} to ${dh} (${len} bytes)`, s, d);
      else out.line(ev, (sh) => `ICMP: ${what} from ${sh} (${len} bytes)`, s);
      return;
    }
    case 3: {
      if (code >= 16) {
        if (dest) out.line(ev, (sh, dh) => `ICMP: undefined destination unreachable code (${code}) from ${sh} to ${dh}`, s, d);
        else out.line(ev, (sh) => `ICMP: undefined destination unreachable code (${code}) from ${sh}`, s);
        return;
      }
      const data = quotedData(b, o, end);
      const qdst = be32Or0(b, o + 8 + 16, end);
      // H is S, or "(from S) E" when the quoted destination is not the sender
      const q: HostText = qdst !== p.src ? out.host(qdst, res, now) : '';
      const other = qdst !== p.src;
      if (dest) {
        out.line(ev, (sh, dh, qh) => `ICMP: ${other ? `(from ${sh}) ${qh}` : sh}: port is unreachable to ${dh} (${data})`, s, d, q);
      } else {
        out.line(ev, (sh, _x, qh) => `ICMP: ${other ? `(from ${sh}) ${qh}` : sh}: port is unreachable to (${data})`, s, '', q);
      }
      return;
    }
    case 5: {
      if (code > 3) {
        if (dest) out.line(ev, (sh, dh) => `ICMP: undefined redirect code ${code} to ${dh} from ${sh}`, s, d);
        else out.line(ev, (sh) => `ICMP: undefined redirect code ${code} from ${sh}`, s);
        return;
      }
      const gw = out.host(be32Or0(b, o + 4, end), res, now);
      const target = out.host(be32Or0(b, o + 8 + 16, end), res, now);
      const verb = REDIRECT_FMT[code * 2]!;
      const kind = REDIRECT_FMT[code * 2 + 1]!;
      out.line(ev, (sh, gh, th) => `ICMP: (${gh}) ${verb} ${sh} ${kind} ${th}`, s, gw, target);
      return;
    }
    case 14: {
      const t = Math.floor(be32Or0(b, o + 16, end) / 1000);
      const hms = clockTime(t);
      if (dest) out.line(ev, (sh, dh) => `ICMP: timestamp request to ${dh} from ${sh} (${hms})`, s, d);
      else out.line(ev, (sh) => `ICMP: timestamp request from ${sh} (${hms})`, s);
      return;
    }
    case 18: {
      // the mask is byte-swapped before printing (and rendered as a host)
      const m = be32Or0(b, o + 8, end);
      const swapped = (((m & 0xff) << 24) | ((m & 0xff00) << 8) | ((m >>> 8) & 0xff00) | (m >>> 24)) >>> 0;
      const mh = out.host(swapped, res, now);
      if (dest) out.line(ev, (sh, dh, xh) => `ICMP: address mask reply to ${dh} from ${sh} (${xh})`, s, d, mh);
      else out.line(ev, (sh, _x, xh) => `ICMP: address mask reply from ${sh} (${xh})`, s, '', mh);
      return;
    }
    case 12: {
      const ptr = byteOr0(b, o + 4, end);
      if (dest) out.line(ev, (sh, dh) => `ICMP: parameter problem to ${dh} from ${sh} (ptr ${ptr})`, s, d);
      else out.line(ev, (sh) => `ICMP: parameter problem from ${sh} (ptr ${ptr})`, s);
      return;
    }
    case 9: {
      const n = Math.min(byteOr0(b, o + 4, end), 12);
      const lifetime = be16Or0(b, o + 6, end);
      let routers = '';
      for (let i = 0; i < n; i++) {
        if (i > 0) routers += ' -> ';
        routers += dottedQuad(be32Or0(b, o + 8 + i * 8, end));
      }
      const dur = lifetime < 60 ? `${lifetime} sec` : `${Math.floor(lifetime / 60)} min, ${lifetime % 60} sec`;
      if (dest) out.line(ev, (sh, dh) => `ICMP: path of router advertisement to ${dh} from ${sh}: ${routers} (lifetime ${dur})`, s, d);
      else out.line(ev, (sh) => `ICMP: path of router advertisement from ${sh}: ${routers} (lifetime ${dur})`, s);
      return;
    }
    default: {
      const what = type <= 18 ? TYPE_TEXT[type] : undefined;
      if (what === undefined) {
        if (dest) out.line(ev, (sh, dh) => `ICMP: undefined ICMP type ${type} to ${dh} from ${sh}`, s, d);
        else out.line(ev, (sh) => `ICMP: undefined ICMP type ${type} from ${sh}`, s);
      } else if (dest) out.line(ev, (sh, dh) => `ICMP: ${what} to ${dh} from ${sh}`, s, d);
      else out.line(ev, (sh) => `ICMP: ${what} from ${sh}`, s);
    }
  }
}

/** print_data(): the quoted packet's protocol and ports, read past a 20-byte quoted IP header. */
function quotedData(b: Buffer, o: number, end: number): string {
  const qproto = byteOr0(b, o + 8 + 9, end);
  const d = o + 28;
  if (qproto === 1) {
    const qt = byteOr0(b, d, end);
    const name = qt <= 18 ? QUOTED_NAME[qt]! : QUOTED_UNDEFINED;
    if (qt === 3 || qt === 5) return `ICMP: ${name} code ${byteOr0(b, d + 1, end)}`;
    return `ICMP: ${name}`;
  }
  return `${protoName(qproto)}: dest port ${be16Or0(b, d + 2, end)}, source port ${be16Or0(b, d, end)}`;
}

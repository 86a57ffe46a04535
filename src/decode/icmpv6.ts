/**
 * ICMPv6 (RFC 4443) type and code, and the class of each message, so the handlers can
 * keep the background of every IPv6 link out of detections: neighbour discovery (RFC
 * 4861: router solicitation/advertisement, neighbour solicitation/advertisement,
 * redirect, types 133–137) and multicast listener discovery (RFC 2710 and RFC 3810:
 * query, report, done, MLDv2 report, types 130–132 and 143) are never detections, and
 * their per-packet lines appear only in verbose mode (the wording is the line
 * catalogue's, src/output/lines.ts).
 *
 * Anomalies: `icmpv6.truncated` (fewer than 4 bytes: type, code, checksum; the packet is
 * not handled) and `icmpv6.nd_hop_limit_not_255` (an ND message with a hop limit other
 * than 255 did not come from the link: RFC 4861 §6.1 has receivers discard it; counted,
 * the packet is still handled so it is seen in verbose mode).
 */
import { A, Anomalies } from './anomalies';
import type { DecodedPacket } from './packet';

/** Message classes (DecodedPacket.icmpClass). */
export const ICMP6_OTHER = 0;
/** error messages (types 0–127): destination unreachable, packet too big, time exceeded, parameter problem */
export const ICMP6_ERROR = 1;
/** echo request (128) and reply (129) */
export const ICMP6_ECHO = 2;
/** neighbour discovery, 133–137 */
export const ICMP6_ND = 3;
/** multicast listener discovery, 130–132 and 143 */
export const ICMP6_MLD = 4;

export const ICMP6_DST_UNREACH = 1;
export const ICMP6_PACKET_TOO_BIG = 2;
export const ICMP6_TIME_EXCEEDED = 3;
export const ICMP6_PARAM_PROB = 4;
export const ICMP6_ECHO_REQUEST = 128;
export const ICMP6_ECHO_REPLY = 129;

/** Class of an ICMPv6 type. */
export function icmpv6Class(type: number): number {
  if (type >= 133 && type <= 137) return ICMP6_ND;
  if ((type >= 130 && type <= 132) || type === 143) return ICMP6_MLD;
  if (type === ICMP6_ECHO_REQUEST || type === ICMP6_ECHO_REPLY) return ICMP6_ECHO;
  if (type < 128) return ICMP6_ERROR;
  return ICMP6_OTHER;
}

/** Is this type link background (ND or MLD), never a detection? */
export function isIcmpv6Background(type: number): boolean {
  const c = icmpv6Class(type);
  return c === ICMP6_ND || c === ICMP6_MLD;
}

/**
 * Read the ICMPv6 header of `p` (proto 58, l4 fields set by decodeIpv6) into icmpType,
 * icmpCode and icmpClass. False (counted) when it is not there.
 */
export function decodeIcmpv6(p: DecodedPacket, an: Anomalies): boolean {
  if (p.l4Avail < 4 || p.l4Len < 4) {
    an.counts[A.icmp6Truncated]++;
    return false;
  }
  const t = p.buf[p.l4Off]!;
  p.icmpType = t;
  p.icmpCode = p.buf[p.l4Off + 1]!;
  const c = icmpv6Class(t);
  p.icmpClass = c;
  if (c === ICMP6_ND && p.ttl !== 255) an.counts[A.icmp6NdHopLimit]++;
  return true;
}

/** Names of the ICMPv6 types (IANA ICMPv6 parameters), for lines and JSON. */
export const ICMPV6_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'destination unreachable',
  2: 'packet too big',
  3: 'time exceeded',
  4: 'parameter problem',
  128: 'echo request',
  129: 'echo reply',
  130: 'multicast listener query',
  131: 'multicast listener report',
  132: 'multicast listener done',
  133: 'router solicitation',
  134: 'router advertisement',
  135: 'neighbor solicitation',
  136: 'neighbor advertisement',
  137: 'redirect',
  138: 'router renumbering',
  139: 'node information query',
  140: 'node information response',
  141: 'inverse neighbor discovery solicitation',
  142: 'inverse neighbor discovery advertisement',
  143: 'multicast listener report v2',
  144: 'home agent address discovery request',
  145: 'home agent address discovery reply',
  146: 'mobile prefix solicitation',
  147: 'mobile prefix advertisement',
  151: 'multicast router advertisement',
  152: 'multicast router solicitation',
  153: 'multicast router termination',
  155: 'RPL control message',
};

/** Codes of destination unreachable (RFC 4443 §3.1, RFC 7112 code 7, RFC 8883 code 8). */
export const ICMPV6_UNREACH_CODES: readonly string[] = [
  'no route to destination',
  'communication with destination administratively prohibited',
  'beyond scope of source address',
  'address unreachable',
  'port unreachable',
  'source address failed ingress/egress policy',
  'reject route to destination',
  'error in source routing header',
  'headers too long',
];

/** Codes of time exceeded (§3.3) and parameter problem (§3.4, RFC 7112 code 3, RFC 8883 4–10). */
export const ICMPV6_TIME_EXCEEDED_CODES: readonly string[] = ['hop limit exceeded in transit', 'fragment reassembly time exceeded'];
export const ICMPV6_PARAM_PROB_CODES: readonly string[] = [
  'erroneous header field',
  'unrecognized next header type',
  'unrecognized IPv6 option',
  'IPv6 first fragment has incomplete IPv6 header chain',
];

/**
 * BSD loopback headers, as far as the IP (v4 or v6) header.
 *
 * NULL (LINKTYPE_NULL 0): a 4-byte address family in the *capturing host's* byte order,
 * so we accept each value read either way. LOOP (LINKTYPE_LOOP 108, OpenBSD): the same
 * 4 bytes, always in network order. AF_INET is 2 on every BSD, Linux, macOS and Windows;
 * AF_INET6 differs between the systems that write these headers: 24 (NetBSD, OpenBSD,
 * BSD/OS), 28 (FreeBSD, DragonFly) and 30 (macOS, iOS); all three are IPv6 here, whatever
 * system wrote the capture (the tcpdump.org link-type list names the same three). Any
 * other value counts as `link.not_ipv4`; truncation of either header as `null.truncated`.
 * No allocation.
 */
import { A, Anomalies } from './anomalies';
import type { FamilyOut } from './ethernet';

export const NULL_HEADER = 4;
const AF_INET = 2;

/** Family of a BSD address-family value, or 0. */
function familyOf(af: number): 0 | 4 | 6 {
  if (af === AF_INET) return 4;
  if (af === 24 || af === 28 || af === 30) return 6;
  return 0;
}

export function nullIp(buf: Buffer, off: number, caplen: number, an: Anomalies, out: FamilyOut): number {
  if (caplen < NULL_HEADER) {
    an.counts[A.nullTruncated]++;
    return -1;
  }
  const b0 = buf[off]!;
  const b1 = buf[off + 1]!;
  const b2 = buf[off + 2]!;
  const b3 = buf[off + 3]!;
  // AF 00 00 00 (little-endian host) or 00 00 00 AF (big-endian host); AF < 256 always
  if (b1 === 0 && b2 === 0) {
    const f = b3 === 0 ? familyOf(b0) : b0 === 0 ? familyOf(b3) : 0;
    if (f !== 0) {
      out.family = f;
      return off + NULL_HEADER;
    }
  }
  an.counts[A.linkNotIpv4]++;
  return -1;
}

export function loopIp(buf: Buffer, off: number, caplen: number, an: Anomalies, out: FamilyOut): number {
  if (caplen < NULL_HEADER) {
    an.counts[A.nullTruncated]++;
    return -1;
  }
  if (buf[off] === 0 && buf[off + 1] === 0 && buf[off + 2] === 0) {
    const f = familyOf(buf[off + 3]!);
    if (f !== 0) {
      out.family = f;
      return off + NULL_HEADER;
    }
  }
  an.counts[A.linkNotIpv4]++;
  return -1;
}

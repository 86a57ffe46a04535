/**
 * BSD loopback headers, as far as the IPv4 header.
 *
 * NULL (LINKTYPE_NULL 0): a 4-byte address family in the *capturing host's* byte order,
 * so we accept AF_INET (2) read either way. LOOP (LINKTYPE_LOOP 108, OpenBSD): the same
 * 4 bytes, always in network order. AF_INET is 2 on every BSD, Linux, macOS and Windows;
 * AF_INET6 differs between them (24, 28, 30) and counts as `link.not_ipv4`.
 * Truncation of either counts as `null.truncated`. No allocation.
 */
import { A, Anomalies } from './anomalies';

export const NULL_HEADER = 4;
const AF_INET = 2;

export function nullIpv4(buf: Buffer, off: number, caplen: number, an: Anomalies): number {
  if (caplen < NULL_HEADER) {
    an.counts[A.nullTruncated]++;
    return -1;
  }
  const b0 = buf[off]!;
  const b1 = buf[off + 1]!;
  const b2 = buf[off + 2]!;
  const b3 = buf[off + 3]!;
  // 02 00 00 00 (little-endian host) or 00 00 00 02 (big-endian host)
  if (b1 === 0 && b2 === 0 && ((b0 === AF_INET && b3 === 0) || (b0 === 0 && b3 === AF_INET))) {
    return off + NULL_HEADER;
  }
  an.counts[A.linkNotIpv4]++;
  return -1;
}

export function loopIpv4(buf: Buffer, off: number, caplen: number, an: Anomalies): number {
  if (caplen < NULL_HEADER) {
    an.counts[A.nullTruncated]++;
    return -1;
  }
  if (buf[off] === 0 && buf[off + 1] === 0 && buf[off + 2] === 0 && buf[off + 3] === AF_INET) {
    return off + NULL_HEADER;
  }
  an.counts[A.linkNotIpv4]++;
  return -1;
}

/**
 * Link layer dispatch: from a captured frame and its LINKTYPE to the IP header, IPv4 or IPv6.
 *
 * Supported (tcpdump.org link-layer header types): NULL 0 and LOOP 108 (`null.ts`: AF_INET,
 * and AF_INET6 as 24, 28 or 30), ETHERNET 1 with VLAN/QinQ tags (`ethernet.ts`: EtherType
 * 0x0800 and 0x86DD), LINUX_SLL 113 and LINUX_SLL2 276 (`sll.ts`), and headerless IP: RAW
 * 101 and the BSD DLT_RAW values 12 and 14 (either family: the version nibble decides, 4
 * or 6), IPV4 228 and IPV6 229 (the family by definition; a bad version is left for the
 * IP decoder to count). Anything else is `link.unsupported_type`.
 *
 * Contract of ipOffset: it returns -1 with exactly one counter incremented, or an offset
 * `r` with `off ≤ r ≤ off + caplen` and the family of the header at `r` written to
 * `out.family` (the IP decoder checks the `off + caplen - r` bytes that remain, so a
 * frame cut right after its link header is `ipv4.truncated` / `ipv6.truncated`). It
 * checks the length before every read and allocates nothing. `ipv4Offset` is the same
 * for callers that only take IPv4 (an IPv6 frame is `link.not_ipv4` there).
 */
import { A, Anomalies } from './anomalies';
import { ethernetIp, type FamilyOut } from './ethernet';
import { loopIp, nullIp } from './null';
import { sll2Ip, sllIp } from './sll';

export type { FamilyOut };

/** Offset in `buf` of the IP header of the frame `buf[off, off+caplen)` (family in `out`), or -1 (counted). */
export function ipOffset(buf: Buffer, off: number, caplen: number, linktype: number, anomalies: Anomalies, out: FamilyOut): number {
  switch (linktype) {
    case 1: // ETHERNET
      return ethernetIp(buf, off, caplen, anomalies, out);
    case 113: // LINUX_SLL
      return sllIp(buf, off, caplen, anomalies, out);
    case 276: // LINUX_SLL2
      return sll2Ip(buf, off, caplen, anomalies, out);
    case 0: // NULL
      return nullIp(buf, off, caplen, anomalies, out);
    case 108: // LOOP
      return loopIp(buf, off, caplen, anomalies, out);
    case 101: // RAW
    case 12: // DLT_RAW (BSD)
    case 14: // DLT_RAW (OpenBSD)
      return rawIp(buf, off, caplen, anomalies, out);
    case 228: // IPV4
      out.family = 4;
      return off;
    case 229: // IPV6
      out.family = 6;
      return off;
    default:
      anomalies.counts[A.linkUnsupported]++;
      return -1;
  }
}

const scratch: FamilyOut = { family: 4 };

/** ipOffset for IPv4 only: an IPv6 header counts as `link.not_ipv4`. */
export function ipv4Offset(buf: Buffer, off: number, caplen: number, linktype: number, anomalies: Anomalies): number {
  const r = ipOffset(buf, off, caplen, linktype, anomalies, scratch);
  if (r >= 0 && scratch.family !== 4) {
    anomalies.counts[A.linkNotIpv4]++;
    return -1;
  }
  return r;
}

/** Raw IP (no link header): the version nibble says which family. */
function rawIp(buf: Buffer, off: number, caplen: number, an: Anomalies, out: FamilyOut): number {
  if (caplen < 1) {
    an.counts[A.linkTruncated]++;
    return -1;
  }
  const v = buf[off]! >> 4;
  if (v === 4) {
    out.family = 4;
    return off;
  }
  if (v === 6) {
    out.family = 6;
    return off;
  }
  an.counts[A.linkNotIpv4]++;
  return -1;
}

/** Whether ipOffset can decode this link type. */
export function isSupportedLinktype(linktype: number): boolean {
  switch (linktype) {
    case 0:
    case 1:
    case 12:
    case 14:
    case 101:
    case 108:
    case 113:
    case 228:
    case 229:
    case 276:
      return true;
    default:
      return false;
  }
}

// Names from the tcpdump.org list of link-layer header types (LINKTYPE_ prefix dropped);
// 12 and 14 are DLT_RAW values that libpcap maps to LINKTYPE_RAW.
const LINKTYPE_NAMES: Record<number, string> = {
  0: 'NULL',
  1: 'ETHERNET',
  3: 'AX25',
  6: 'IEEE802_5',
  7: 'ARCNET_BSD',
  8: 'SLIP',
  9: 'PPP',
  10: 'FDDI',
  12: 'RAW',
  14: 'RAW',
  50: 'PPP_HDLC',
  51: 'PPP_ETHER',
  100: 'ATM_RFC1483',
  101: 'RAW',
  104: 'C_HDLC',
  105: 'IEEE802_11',
  107: 'FRELAY',
  108: 'LOOP',
  113: 'LINUX_SLL',
  114: 'LTALK',
  117: 'PFLOG',
  119: 'IEEE802_11_PRISM',
  122: 'IP_OVER_FC',
  123: 'SUNATM',
  127: 'IEEE802_11_RADIOTAP',
  129: 'ARCNET_LINUX',
  163: 'IEEE802_11_AVS',
  189: 'USB_LINUX',
  192: 'PPI',
  220: 'USB_LINUX_MMAPPED',
  227: 'CAN_SOCKETCAN',
  228: 'IPV4',
  229: 'IPV6',
  239: 'NFLOG',
  253: 'NETLINK',
  276: 'LINUX_SLL2',
};

/** Short name of a link type (`IEEE802_11_RADIOTAP`), `USERn` for 147–162, else `unknown`. */
export function linktypeName(linktype: number): string {
  const n = LINKTYPE_NAMES[linktype];
  if (n !== undefined) return n;
  if (linktype >= 147 && linktype <= 162) return `USER${linktype - 147}`;
  return 'unknown';
}

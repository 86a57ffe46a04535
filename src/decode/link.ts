/**
 * Link layer dispatch: from a captured frame and its LINKTYPE to the IPv4 header.
 *
 * Supported (tcpdump.org link-layer header types): NULL 0 and LOOP 108 (`null.ts`),
 * ETHERNET 1 with VLAN/QinQ tags (`ethernet.ts`), LINUX_SLL 113 and LINUX_SLL2 276
 * (`sll.ts`), and headerless IPv4: RAW 101 and the BSD DLT_RAW values 12 and 14 (which may
 * also carry IPv6, so the version nibble must be 4) and IPV4 228 (IPv4 by definition; a
 * bad version is left for the IPv4 decoder to count). Anything else is
 * `link.unsupported_type`.
 *
 * Contract of ipv4Offset: it returns -1 with exactly one counter incremented, or an offset
 * `r` with `off ≤ r ≤ off + caplen` (the IPv4 decoder checks the `off + caplen - r` bytes
 * that remain, so a frame cut right after its link header is `ipv4.truncated`). It checks
 * the length before every read and allocates nothing.
 */
import { A, Anomalies } from './anomalies';
import { ethernetIpv4 } from './ethernet';
import { loopIpv4, nullIpv4 } from './null';
import { sll2Ipv4, sllIpv4 } from './sll';

/** Offset in `buf` of the IPv4 header of the frame `buf[off, off+caplen)`, or -1 (counted). */
export function ipv4Offset(buf: Buffer, off: number, caplen: number, linktype: number, anomalies: Anomalies): number {
  switch (linktype) {
    case 1: // ETHERNET
      return ethernetIpv4(buf, off, caplen, anomalies);
    case 113: // LINUX_SLL
      return sllIpv4(buf, off, caplen, anomalies);
    case 276: // LINUX_SLL2
      return sll2Ipv4(buf, off, caplen, anomalies);
    case 0: // NULL
      return nullIpv4(buf, off, caplen, anomalies);
    case 108: // LOOP
      return loopIpv4(buf, off, caplen, anomalies);
    case 101: // RAW
    case 12: // DLT_RAW (BSD)
    case 14: // DLT_RAW (OpenBSD)
      return rawIpv4(buf, off, caplen, anomalies);
    case 228: // IPV4
      return off;
    default:
      anomalies.counts[A.linkUnsupported]++;
      return -1;
  }
}

/** Raw IP (v4 or v6, no link header): IPv4 when the version nibble says 4. */
function rawIpv4(buf: Buffer, off: number, caplen: number, an: Anomalies): number {
  if (caplen < 1) {
    an.counts[A.linkTruncated]++;
    return -1;
  }
  if (buf[off]! >> 4 !== 4) {
    an.counts[A.linkNotIpv4]++;
    return -1;
  }
  return off;
}

/** Whether ipv4Offset can decode this link type. */
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

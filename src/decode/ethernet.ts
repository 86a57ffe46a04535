/**
 * Ethernet II and 802.1Q / 802.1ad VLAN tags, as far as the IP (v4 or v6) header.
 *
 * Format: destination MAC (6), source MAC (6), EtherType (2, network order), payload.
 * A tag (TPID 0x8100 802.1Q, 0x88a8 802.1ad, 0x9100 pre-standard QinQ) inserts 4 bytes —
 * TCI (2) then the inner EtherType (2) — and tags may stack (QinQ); we follow at most
 * MAX_VLAN_TAGS of them (`vlan.too_deep` beyond). EtherType values below 0x0600 are 802.3
 * lengths (LLC frames), which are not IP here. The original iplog never looked at the
 * EtherType; we do: IPv4 (0x0800) and IPv6 (0x86DD) go on, with the family written to
 * `out.family`; ARP and the rest count as `link.not_ipv4` (the name predates IPv6: "not
 * an IP family we decode") and are skipped.
 * Every read is preceded by a length check; nothing is allocated.
 */
import { A, Anomalies } from './anomalies';

/** Where a link decoder reports the family of the network header it found. */
export interface FamilyOut {
  family: 4 | 6;
}

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;
export const ETHERTYPE_QINQ_OLD = 0x9100;
export const ETHERNET_HEADER = 14;
/** Stacked VLAN tags followed before giving up (real QinQ uses two). */
export const MAX_VLAN_TAGS = 4;

/**
 * Given the EtherType `type` that introduces the bytes at `p` (frame ends at `end`), skip
 * any VLAN tags and return the offset of the IP header (its family in `out`), or -1 (counted).
 */
export function etherTypeToIp(buf: Buffer, p: number, end: number, type: number, an: Anomalies, out: FamilyOut): number {
  let tags = 0;
  while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD) {
    if (tags === MAX_VLAN_TAGS) {
      an.counts[A.vlanTooDeep]++;
      return -1;
    }
    if (end - p < 4) {
      an.counts[A.vlanTruncated]++;
      return -1;
    }
    type = (buf[p + 2]! << 8) | buf[p + 3]!;
    p += 4;
    tags++;
  }
  if (type === ETHERTYPE_IPV4) {
    out.family = 4;
    return p;
  }
  if (type === ETHERTYPE_IPV6) {
    out.family = 6;
    return p;
  }
  an.counts[A.linkNotIpv4]++;
  return -1;
}

/** Ethernet II frame at `buf[off, off+caplen)`: offset of its IP header, or -1. */
export function ethernetIp(buf: Buffer, off: number, caplen: number, an: Anomalies, out: FamilyOut): number {
  if (caplen < ETHERNET_HEADER) {
    an.counts[A.ethTruncated]++;
    return -1;
  }
  const type = (buf[off + 12]! << 8) | buf[off + 13]!;
  return etherTypeToIp(buf, off + ETHERNET_HEADER, off + caplen, type, an, out);
}

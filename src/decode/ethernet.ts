/**
 * Ethernet II and 802.1Q / 802.1ad VLAN tags, as far as the IPv4 header.
 *
 * Format: destination MAC (6), source MAC (6), EtherType (2, network order), payload.
 * A tag (TPID 0x8100 802.1Q, 0x88a8 802.1ad, 0x9100 pre-standard QinQ) inserts 4 bytes —
 * TCI (2) then the inner EtherType (2) — and tags may stack (QinQ); we follow at most
 * MAX_VLAN_TAGS of them (`vlan.too_deep` beyond). EtherType values below 0x0600 are 802.3
 * lengths (LLC frames), which are not IPv4 here. The original iplog never looked at the
 * EtherType; we do, so IPv6 and ARP frames count as `link.not_ipv4` and are skipped.
 * Every read is preceded by a length check; nothing is allocated.
 */
import { A, Anomalies } from './anomalies';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;
export const ETHERTYPE_QINQ_OLD = 0x9100;
export const ETHERNET_HEADER = 14;
/** Stacked VLAN tags followed before giving up (real QinQ uses two). */
export const MAX_VLAN_TAGS = 4;

/**
 * Given the EtherType `type` that introduces the bytes at `p` (frame ends at `end`), skip
 * any VLAN tags and return the offset of the IPv4 header, or -1 (counted).
 */
export function etherTypeToIpv4(buf: Buffer, p: number, end: number, type: number, an: Anomalies): number {
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
  if (type !== ETHERTYPE_IPV4) {
    an.counts[A.linkNotIpv4]++;
    return -1;
  }
  return p;
}

/** Ethernet II frame at `buf[off, off+caplen)`: offset of its IPv4 header, or -1. */
export function ethernetIpv4(buf: Buffer, off: number, caplen: number, an: Anomalies): number {
  if (caplen < ETHERNET_HEADER) {
    an.counts[A.ethTruncated]++;
    return -1;
  }
  const type = (buf[off + 12]! << 8) | buf[off + 13]!;
  return etherTypeToIpv4(buf, off + ETHERNET_HEADER, off + caplen, type, an);
}

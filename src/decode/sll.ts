/**
 * Linux "cooked" capture headers (the `any` device), as far as the IP (v4 or v6) header.
 *
 * SLL (LINKTYPE_LINUX_SLL 113): 16 bytes — packet type (2), ARPHRD type (2), link-layer
 * address length (2), address (8), protocol (2, network order) at offset 14.
 * SLL2 (LINKTYPE_LINUX_SLL2 276): 20 bytes — protocol (2) at offset 0, reserved (2),
 * interface index (4), ARPHRD type (2), packet type (1), address length (1), address (8).
 * The protocol is an EtherType; a VLAN tag left in the payload is followed as on
 * Ethernet. Every read is preceded by a length check; nothing is allocated.
 */
import { A, Anomalies } from './anomalies';
import { etherTypeToIp, type FamilyOut } from './ethernet';

export const SLL_HEADER = 16;
export const SLL2_HEADER = 20;

export function sllIp(buf: Buffer, off: number, caplen: number, an: Anomalies, out: FamilyOut): number {
  if (caplen < SLL_HEADER) {
    an.counts[A.sllTruncated]++;
    return -1;
  }
  const proto = (buf[off + 14]! << 8) | buf[off + 15]!;
  return etherTypeToIp(buf, off + SLL_HEADER, off + caplen, proto, an, out);
}

export function sll2Ip(buf: Buffer, off: number, caplen: number, an: Anomalies, out: FamilyOut): number {
  if (caplen < SLL2_HEADER) {
    an.counts[A.sll2Truncated]++;
    return -1;
  }
  const proto = (buf[off]! << 8) | buf[off + 1]!;
  return etherTypeToIp(buf, off + SLL2_HEADER, off + caplen, proto, an, out);
}

/**
 * IPv6 header and extension-header chain decoder (RFC 8200), filling the packet's fields
 * in the shape the IPv4 decoder gives them, so the TCP, UDP and ICMPv6 handlers read one
 * shape: `l4Off`/`l4Len`/`l4Avail` locate the upper-layer header, `proto` names it.
 *
 * The chain is walked from the fixed 40-byte header: hop-by-hop options (0, only directly
 * after the fixed header), routing (43), destination options (60), fragment (44),
 * authentication header (51, length in 4-byte units), and the other headers RFC 7045 and
 * RFC 8200 §4.1 list with the generic format (mobility 135, HIP 139, shim6 140,
 * experimental 253/254). ESP (50) and no-next-header (59) end the walk: there is no
 * upper-layer header to read, and the pipeline counts them as `ipv6.other_protocol` as it
 * counts any protocol it does not handle. At most MAX_EXT_HEADERS headers are followed.
 *
 * Every malformation is a named anomaly (docs/ipv6.md):
 *   ipv6.truncated                   fewer than 40 bytes captured (the packet is dropped)
 *   ipv6.version_not_6               version nibble is not 6 (dropped)
 *   ipv6.caplen_short_of_payload_len the capture holds less than the payload length (kept)
 *   ipv6.payload_len_zero            payload length 0 with a next header: jumbograms are
 *                                    not decoded, the captured bytes are taken (kept)
 *   ipv6.ext_truncated               an extension header runs past the packet (dropped)
 *   ipv6.ext_too_many                more than MAX_EXT_HEADERS extension headers (dropped)
 *   ipv6.ext_repeated                a header that may occur once occurs again, or
 *                                    destination options a third time (kept)
 *   ipv6.hbh_not_first               hop-by-hop options anywhere but first (dropped, as
 *                                    RFC 8200 §4.3 has a node do)
 *   ipv6.option_bad_len              an option's length runs past its header (dropped)
 *   ipv6.routing_type0               a type 0 routing header, deprecated by RFC 5095 (kept)
 *   ipv6.src_multicast               a multicast source address (kept)
 *   ipv6.v4mapped_address            an IPv4-mapped source or destination on the wire (kept)
 *   ipv6.frag_atomic                 a fragment header with offset 0 and M clear: an atomic
 *                                    fragment (RFC 8021), handled as the whole packet (kept)
 *   ipv6.frag_bad_len                a non-last fragment whose length is not a multiple
 *                                    of 8 (RFC 8200 §4.5; dropped)
 *   ipv6.frag_first_incomplete       a first fragment that does not hold the whole
 *                                    header chain and upper-layer header (RFC 7112;
 *                                    dropped, as Linux drops it)
 *   ipv6.frag_nested                 a fragment header inside a reassembled datagram (dropped)
 * Reads are bounded by the captured bytes and the payload length; nothing is allocated.
 */
import { A, Anomalies } from './anomalies';
import { DecodedPacket, Ip, be16, be32 } from './packet';

export const IPV6_OK = 0;
/** a fragment: `frag`, `id`, `proto` (first fragmentable header) and the l4 fields describe it */
export const IPV6_FRAGMENT = 1;
/** malformed: counted and dropped */
export const IPV6_DROP = 2;
export const IPV6_TRUNCATED = 3;

/** Extension headers followed before `ipv6.ext_too_many` (real traffic carries one to three). */
export const MAX_EXT_HEADERS = 8;

export const NH_HOPOPTS = 0;
export const NH_TCP = 6;
export const NH_UDP = 17;
export const NH_ROUTING = 43;
export const NH_FRAGMENT = 44;
export const NH_ESP = 50;
export const NH_AH = 51;
export const NH_ICMPV6 = 58;
export const NH_NONE = 59;
export const NH_DSTOPTS = 60;

/** Is `nh` an extension header with the generic (next, length in 8-byte units) format? */
function isGenericExt(nh: number): boolean {
  return nh === NH_HOPOPTS || nh === NH_ROUTING || nh === NH_DSTOPTS || nh === 135 || nh === 139 || nh === 140 || nh === 253 || nh === 254;
}

/** Bit of each header that may occur once (destination options are counted apart). */
function onceBit(nh: number): number {
  switch (nh) {
    case NH_HOPOPTS:
      return 1;
    case NH_ROUTING:
      return 2;
    case NH_FRAGMENT:
      return 4;
    case NH_AH:
      return 8;
    case 135:
      return 16;
    case 139:
      return 32;
    case 140:
      return 64;
    default:
      return 0;
  }
}

/** TLV options of a hop-by-hop or destination options header, `b[s, e)`: lengths consistent? */
function optionsOk(b: Buffer, s: number, e: number): boolean {
  while (s < e) {
    if (b[s] === 0) {
      s++; // Pad1
      continue;
    }
    if (e - s < 2) return false;
    s += 2 + b[s + 1]!;
  }
  return s === e;
}

/** Smallest upper-layer header RFC 7112 asks the first fragment to hold. */
function upperHeaderLen(nh: number): number {
  switch (nh) {
    case NH_TCP:
      return 20;
    case NH_UDP:
      return 8;
    case NH_ICMPV6:
      return 4;
    case NH_ESP:
      return 8;
    default:
      return 0;
  }
}

/** RFC 7112: does `b[q, end)` (the first fragment's fragmentable part) hold the rest of the chain and the upper-layer header? */
function firstFragmentComplete(b: Buffer, q: number, end: number, nh: number): boolean {
  for (let n = 0; n <= MAX_EXT_HEADERS; n++) {
    if (isGenericExt(nh) || nh === NH_AH) {
      if (end - q < 2) return false;
      const len = nh === NH_AH ? (b[q + 1]! + 2) << 2 : (b[q + 1]! + 1) << 3;
      if (end - q < len) return false;
      nh = b[q]!;
      q += len;
      continue;
    }
    if (nh === NH_FRAGMENT) return true; // nested: the reassembled datagram says frag_nested
    return end - q >= upperHeaderLen(nh);
  }
  return true; // too long a chain: the reassembled datagram says ext_too_many
}

/**
 * Decode the IPv6 packet at `p.ipOff` (`p.avail` bytes captured). `reassembled` is set for
 * a datagram rebuilt from fragments: its address checks were counted on its fragments
 * already, and a fragment header in it is `ipv6.frag_nested`.
 */
export function decodeIpv6(p: DecodedPacket, an: Anomalies, reassembled = false): number {
  const b = p.buf;
  const o = p.ipOff;
  p.family = 6;
  p.src = 0;
  p.dst = 0;
  p.id = 0;
  p.frag = 0;
  p.icmpType = -1;
  p.icmpCode = -1;
  p.icmpClass = 0;
  if (p.avail < 40) {
    an.counts[A.ip6Truncated]++;
    return IPV6_TRUNCATED;
  }
  const b0 = b[o]!;
  const b1 = b[o + 1]!;
  if (b0 >> 4 !== 6) {
    an.counts[A.ip6Version]++;
    return IPV6_DROP;
  }
  p.tos = ((b0 & 15) << 4) | (b1 >> 4);
  p.flow = ((b1 & 15) << 16) | (b[o + 2]! << 8) | b[o + 3]!;
  let plen = be16(b, o + 4);
  let nh = b[o + 6]!;
  p.ttl = b[o + 7]!;
  const s = p.src6;
  const d = p.dst6;
  let v = p.view;
  if (p.viewOf !== b) {
    v = p.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    p.viewOf = b;
  }
  s[0] = v.getUint32(o + 8);
  s[1] = v.getUint32(o + 12);
  s[2] = v.getUint32(o + 16);
  s[3] = v.getUint32(o + 20);
  d[0] = v.getUint32(o + 24);
  d[1] = v.getUint32(o + 28);
  d[2] = v.getUint32(o + 32);
  d[3] = v.getUint32(o + 36);
  if (!reassembled) {
    if (s[0]! >>> 24 === 0xff) an.counts[A.ip6SrcMulticast]++;
    if ((s[0]! === 0 && s[1]! === 0 && s[2]! === 0xffff) || (d[0]! === 0 && d[1]! === 0 && d[2]! === 0xffff)) an.counts[A.ip6V4Mapped]++;
  }
  if (plen === 0 && nh !== NH_NONE) {
    an.counts[A.ip6PayloadZero]++;
    plen = p.avail - 40;
  }
  p.totalLen = 40 + plen;
  if (p.avail < p.totalLen) an.counts[A.ip6CaplenShort]++;
  const end = o + (p.avail < p.totalLen ? p.avail : p.totalLen);
  let q = o + 40;
  // most packets: TCP, UDP or ICMPv6 right after the fixed header (the walk below would end at once)
  if (nh === NH_TCP || nh === NH_UDP || nh === NH_ICMPV6) {
    p.proto = nh;
    setL4(p, q);
    return IPV6_OK;
  }
  let seen = 0;
  let dstopts = 0;
  for (let n = 0; ; n++) {
    if (isGenericExt(nh) || nh === NH_AH || nh === NH_FRAGMENT) {
      if (n === MAX_EXT_HEADERS) {
        an.counts[A.ip6ExtTooMany]++;
        return IPV6_DROP;
      }
      const bit = onceBit(nh);
      if (bit !== 0) {
        if ((seen & bit) !== 0) an.counts[A.ip6ExtRepeated]++;
        seen |= bit;
      } else if (nh === NH_DSTOPTS && ++dstopts === 3) {
        an.counts[A.ip6ExtRepeated]++;
      }
    }
    if (isGenericExt(nh)) {
      if (nh === NH_HOPOPTS && q !== o + 40) {
        an.counts[A.ip6HbhNotFirst]++;
        return IPV6_DROP;
      }
      if (end - q < 2) {
        an.counts[A.ip6ExtTruncated]++;
        return IPV6_DROP;
      }
      const len = (b[q + 1]! + 1) << 3;
      if (end - q < len) {
        an.counts[A.ip6ExtTruncated]++;
        return IPV6_DROP;
      }
      if ((nh === NH_HOPOPTS || nh === NH_DSTOPTS) && !optionsOk(b, q + 2, q + len)) {
        an.counts[A.ip6OptionBadLen]++;
        return IPV6_DROP;
      }
      if (nh === NH_ROUTING && b[q + 2] === 0) an.counts[A.ip6RoutingType0]++;
      nh = b[q]!;
      q += len;
      continue;
    }
    if (nh === NH_AH) {
      if (end - q < 2) {
        an.counts[A.ip6ExtTruncated]++;
        return IPV6_DROP;
      }
      const len = (b[q + 1]! + 2) << 2;
      if (end - q < len) {
        an.counts[A.ip6ExtTruncated]++;
        return IPV6_DROP;
      }
      nh = b[q]!;
      q += len;
      continue;
    }
    if (nh === NH_FRAGMENT) {
      if (reassembled) {
        an.counts[A.ip6FragNested]++;
        return IPV6_DROP;
      }
      if (end - q < 8) {
        an.counts[A.ip6ExtTruncated]++;
        return IPV6_DROP;
      }
      const fo = be16(b, q + 2);
      const off = fo >>> 3;
      const more = fo & 1;
      const next = b[q]!;
      if (off === 0 && more === 0) {
        // RFC 8021 / RFC 6946: an atomic fragment is handled in isolation, as the whole packet
        an.counts[A.ip6FragAtomic]++;
        nh = next;
        q += 8;
        continue;
      }
      p.frag = off | (more !== 0 ? Ip.MF : 0);
      p.id = be32(b, q + 4);
      p.proto = next;
      setL4(p, q + 8);
      if (more !== 0 && (p.l4Len & 7) !== 0) {
        an.counts[A.ip6FragBadLen]++;
        return IPV6_DROP;
      }
      if (off === 0 && !firstFragmentComplete(b, q + 8, end, next)) {
        an.counts[A.ip6FragFirstIncomplete]++;
        return IPV6_DROP;
      }
      return IPV6_FRAGMENT;
    }
    // upper layer (ESP and no-next-header included: the walk stops there)
    p.proto = nh;
    setL4(p, q);
    return IPV6_OK;
  }
}

function setL4(p: DecodedPacket, at: number): void {
  p.hlen = at - p.ipOff;
  p.l4Off = at;
  p.l4Len = p.totalLen - p.hlen;
  p.l4Avail = p.avail - p.hlen;
}

/** Read only the destination address into `p.dst6` (for the -a filter before decoding); false if not captured. */
export function readIpv6Dst(p: DecodedPacket): boolean {
  if (p.avail < 40) return false;
  const b = p.buf;
  const o = p.ipOff;
  const d = p.dst6;
  d[0] = be32(b, o + 24);
  d[1] = be32(b, o + 28);
  d[2] = be32(b, o + 32);
  d[3] = be32(b, o + 36);
  return true;
}

/**
 * IPv4 header decoder (iplog_input.c parse_packet(), steps 1-2).
 *
 * iplog 2.2.3 drops a packet whose header length is below 20 or whose total length is
 * below the header length ("Short IP packet" with -V), then one whose header checksum
 * does not verify ("IP packet with invalid checksum" with -V). It never checks the
 * version field, nor that the capture holds total-length bytes; we count both as
 * anomalies but keep the original's decisions. We additionally need the header bytes
 * themselves to be captured: a frame cut inside the header is `ipv4.truncated`.
 */
import { A, Anomalies } from './anomalies';
import { DecodedPacket, be16 } from './packet';

export const IPV4_OK = 0;
export const IPV4_SHORT = 1;
export const IPV4_BAD_CHECKSUM = 2;
export const IPV4_TRUNCATED = 3;

export function decodeIpv4(p: DecodedPacket, an: Anomalies): number {
  const b = p.buf;
  const o = p.ipOff;
  p.family = 4;
  // src and dst are needed even for the verbose "Short IP packet" line
  if (p.avail < 20) {
    an.counts[A.ipTruncated]++;
    return IPV4_TRUNCATED;
  }
  const vihl = b[o]!;
  if (vihl >> 4 !== 4) an.counts[A.ipVersion]++;
  p.hlen = (vihl & 15) << 2;
  p.tos = b[o + 1]!;
  p.totalLen = be16(b, o + 2);
  p.id = be16(b, o + 4);
  p.frag = be16(b, o + 6);
  p.ttl = b[o + 8]!;
  p.proto = b[o + 9]!;
  p.src = ((b[o + 12]! << 24) | (b[o + 13]! << 16) | (b[o + 14]! << 8) | b[o + 15]!) >>> 0;
  p.dst = ((b[o + 16]! << 24) | (b[o + 17]! << 16) | (b[o + 18]! << 8) | b[o + 19]!) >>> 0;
  if (p.hlen < 20) {
    an.counts[A.ipHlenSmall]++;
    return IPV4_SHORT;
  }
  if (p.totalLen < p.hlen) {
    an.counts[A.ipTotalSmall]++;
    return IPV4_SHORT;
  }
  if (p.avail < p.hlen) {
    an.counts[A.ipTruncated]++;
    return IPV4_TRUNCATED;
  }
  // ones'-complement sum over the header must be 0xffff (in_cksum() == 0); the first 20
  // bytes are summed from the fields already read, only options are read again
  // (test/bench/run.ts: about 10 ns per packet less than a byte loop)
  const src = p.src;
  const dst = p.dst;
  let sum = (vihl << 8) + p.tos + p.totalLen + p.id + p.frag + (p.ttl << 8) + p.proto + ((b[o + 10]! << 8) | b[o + 11]!);
  sum += (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff);
  for (let i = o + 20, e = o + p.hlen; i < e; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  if (sum !== 0xffff) {
    an.counts[A.ipBadSum]++;
    return IPV4_BAD_CHECKSUM;
  }
  if (p.avail < p.totalLen) an.counts[A.ipCaplenShort]++;
  p.l4Off = o + p.hlen;
  p.l4Len = p.totalLen - p.hlen;
  // Header fields are read from the captured bytes, as the original read them from its
  // buffer whatever the total-length field said (a short total length is not a reason
  // to ignore a TCP flag byte that is there).
  p.l4Avail = p.avail - p.hlen;
  return IPV4_OK;
}

/**
 * `-z` fool_nmap (spec §4.10, iplog_tcp.c:tcp_parser() step 2): answer TCP packets that
 * look like OS-detection probes with a forged, nonsensical 40-byte reply, so that nmap's
 * and queso's fingerprinting fails.
 *
 * Trigger (raw flag byte F of a packet that passed the filter rules): bit 0x40 or 0x80
 * set; F = PSH; F = 0; SYN, FIN or RST together with URG; SYN together with FIN or RST.
 *
 * The reply, byte for byte as 2.2.3 built it on x86 (checked against the oracle's
 * capture, test/daemon/fool-nmap.test.ts), with T = the packet's second:
 *   IP  version 4, IHL 5, TOS copied, total length 40, ID 0x00ff stored in host order
 *       (wire 0xff00), DF iff T is odd, TTL 255, protocol copied, addresses swapped,
 *       a correct header checksum (the kernel fills it in on a raw socket; we inject
 *       below the IP layer, so it is computed here);
 *   TCP ports swapped, sequence and acknowledgement numbers copied, the reserved bits
 *       copied, data offset 5, flags = low byte of T ^ 0x12345678, window = T & 1 and
 *       urgent pointer = T & 0xffff, both in host (little-endian) order on the wire,
 *       checksum over the 20 header bytes only (no pseudo header: deliberately wrong).
 *
 * How it is sent: Node has no raw sockets, so the reply is injected (pcap_inject) on the
 * interface the probe came in on, as a frame: the probe's own link header with the two
 * MAC addresses swapped (Ethernet, VLAN tags kept), or none (raw IP links). Going back to
 * the MAC the probe came from is what the kernel's routing would have done for a
 * directly connected sender and for a sender behind a router alike. Linux cooked
 * captures (SLL) cannot be injected into, nor can a datagram rebuilt from fragments (its
 * link header is gone): those are counted, not answered.
 *
 * Fix (every profile): a rate limit. 2.2.3 answered every probe, so two iplogs (or one
 * that sees its own replies, e.g. on loopback) could ping-pong for ever. At most
 * FOOL_NMAP_PER_SECOND replies go out per second of packet time; the rest are counted.
 */
import { LINKTYPE } from '../capture/source';
import type { Injector } from '../capture/live';
import type { DecodedPacket } from '../decode/packet';
import type { FoolNmapHook } from '../detect/tcp';

/** Replies per second of packet time (nmap's OS detection sends a few per target). */
export const FOOL_NMAP_PER_SECOND = 20;

export const FORGED_LEN = 40;

/** The flag combinations iplog answers (spec §4.10). */
export function isNmapProbe(f: number): boolean {
  return (
    (f & 0xc0) !== 0 ||
    f === 0x08 || // PSH
    f === 0 ||
    ((f & 0x07) !== 0 && (f & 0x20) !== 0) || // SYN|FIN|RST with URG
    ((f & 0x02) !== 0 && (f & 0x05) !== 0) // SYN with FIN or RST
  );
}

/** RFC 1071 checksum of b[off, off+len) (len even), as a 16-bit number. */
function cksum(b: Buffer, off: number, len: number): number {
  let sum = 0;
  for (let i = 0; i < len; i += 2) sum += (b[off + i]! << 8) | b[off + i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * Write the forged reply to the IPv4/TCP packet at `ip` (header length `hlen`) into
 * out[o, o+40). `t` is the current second.
 */
export function buildForgedReply(out: Buffer, o: number, pkt: Buffer, ip: number, hlen: number, t: number): void {
  const tcp = ip + hlen;
  out.fill(0, o, o + FORGED_LEN);
  out[o] = 0x45;
  out[o + 1] = pkt[ip + 1]!; // TOS
  out[o + 3] = FORGED_LEN;
  out[o + 4] = 0xff; // ID 0x00ff in little-endian host order
  out[o + 6] = t & 1 ? 0x40 : 0; // DF iff the second is odd
  out[o + 8] = 0xff; // TTL
  out[o + 9] = pkt[ip + 9]!;
  pkt.copy(out, o + 12, ip + 16, ip + 20); // source = the probe's destination
  pkt.copy(out, o + 16, ip + 12, ip + 16);
  const ipSum = cksum(out, o, 20);
  out[o + 10] = ipSum >>> 8;
  out[o + 11] = ipSum & 0xff;

  const x = o + 20;
  pkt.copy(out, x, tcp + 2, tcp + 4); // ports swapped
  pkt.copy(out, x + 2, tcp, tcp + 2);
  pkt.copy(out, x + 4, tcp + 4, tcp + 12); // seq, ack unchanged
  out[x + 12] = 0x50 | (pkt[tcp + 12]! & 0x0f); // data offset 5, th_x2 copied
  out[x + 13] = (t ^ 0x12345678) & 0xff;
  out[x + 14] = t & 1; // window, host order
  out[x + 18] = t & 0xff; // urgent pointer, host order
  out[x + 19] = (t >>> 8) & 0xff;
  const tcpSum = cksum(out, x, 20);
  out[x + 16] = tcpSum >>> 8;
  out[x + 17] = tcpSum & 0xff;
}


export interface FoolNmapStats {
  sent: number;
  /** over the rate limit */
  limited: number;
  /** link type that cannot be injected into, or a reassembled datagram */
  unsupported: number;
  /** pcap_inject failed */
  failed: number;
}

/** Link-header bytes a reply can reuse (swapping MACs), or -1 if none can be built. */
function linkHeaderKind(linktype: number): 'ether' | 'copy' | 'none' | null {
  switch (linktype) {
    case LINKTYPE.ETHERNET:
      return 'ether';
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP:
      return 'copy';
    case LINKTYPE.RAW:
    case LINKTYPE.IPV4:
    case LINKTYPE.DLT_RAW_12:
    case LINKTYPE.DLT_RAW_14:
      return 'none';
    default:
      return null;
  }
}

/**
 * The `-z` responder. The live capture tells it about every frame before the engine sees
 * it (`frame()`: no copy, three assignments); the TCP handler calls `reply()` for the
 * packets that trigger it.
 */
export class FoolNmap implements FoolNmapHook {
  readonly stats: FoolNmapStats = { sent: 0, limited: 0, unsupported: 0, failed: 0 };
  private frameBuf: Buffer | null = null;
  private frameOff = 0;
  private linktype = -1;
  private inject: Injector | null = null;
  private second = -1;
  private inSecond = 0;
  private readonly out = Buffer.alloc(14 + 8 + FORGED_LEN + 64);

  constructor(private readonly perSecond = FOOL_NMAP_PER_SECOND) {}

  /** The frame about to be handled, and how to send on its interface. */
  frame(buf: Buffer, off: number, linktype: number, inject: Injector): void {
    this.frameBuf = buf;
    this.frameOff = off;
    this.linktype = linktype;
    this.inject = inject;
  }

  /** FoolNmapHook: every TCP packet that passed the filter rules. */
  probe(p: DecodedPacket, rawFlags: number, now: number): void {
    if (isNmapProbe(rawFlags)) this.reply(p, now);
  }

  /** Answer the probe in `p` (a TCP packet with at least 14 header bytes captured). */
  reply(p: DecodedPacket, now: number): void {
    if (now !== this.second) {
      this.second = now;
      this.inSecond = 0;
    }
    if (this.inSecond >= this.perSecond) {
      this.stats.limited++;
      return;
    }
    const kind = linkHeaderKind(this.linktype);
    const hdr = p.ipOff - this.frameOff;
    if (kind === null || this.inject === null || p.buf !== this.frameBuf || hdr < 0 || hdr > 64 || p.l4Avail < 14) {
      this.stats.unsupported++;
      return;
    }
    this.inSecond++;
    const out = this.out;
    p.buf.copy(out, 0, this.frameOff, p.ipOff);
    if (kind === 'ether') {
      // destination MAC := the probe's source MAC and back
      for (let i = 0; i < 6; i++) {
        const a = out[i]!;
        out[i] = out[i + 6]!;
        out[i + 6] = a;
      }
    }
    // seq/ack may lie beyond a short capture: build from a zero-padded copy of the header
    let src = p.buf;
    let ip = p.ipOff;
    if (p.l4Avail < 20) {
      src = Buffer.alloc(p.hlen + 20);
      p.buf.copy(src, 0, p.ipOff, p.ipOff + p.hlen + p.l4Avail);
      ip = 0;
    }
    buildForgedReply(out, hdr, src, ip, p.hlen, now);
    let ok = false;
    try {
      ok = this.inject(out.subarray(0, hdr + FORGED_LEN));
    } catch {
      ok = false;
    }
    if (ok) this.stats.sent++;
    else this.stats.failed++;
  }
}

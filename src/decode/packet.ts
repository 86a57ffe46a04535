/**
 * DecodedPacket: the ONE packet object the pipeline reuses for every frame (Zeek's
 * current_packet, Suricata's Packet). Fixed shape, numbers only, so the hot path stays
 * monomorphic and allocation-free. `family` says which address fields hold the packet's
 * addresses: IPv4 in `src`/`dst`, host-order uint32 (a.b.c.d = a<<24|b<<16|c<<8|d);
 * IPv6 in `src6`/`dst6`, four 32-bit words each, most significant first (the raw form of
 * src/net/addr.ts; `IpAddr.v6FromWords(p.src6)` makes the value an event keeps). The
 * typed arrays are allocated once with the packet and overwritten per frame. (Measured
 * against eight number fields with a decode-and-hash loop: equal within the noise of
 * this shared machine, 51–135 ns against 52–139 ns; the arrays are simpler to pass and
 * copy.) Payload is referenced by offset into `buf`, never copied; `buf`
 * belongs to the capture source and is reused, so nothing may keep a reference to it
 * after the packet has been handled.
 */
const EMPTY_BUF = Buffer.alloc(0);
const EMPTY_BYTES = new Uint8Array(0);
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

export class DecodedPacket {
  /** network time of the packet: whole seconds and the nanoseconds within */
  tsSec = 0;
  tsNsec = 0;

  /** address family of the network header: 4 or 6 */
  family: 4 | 6 = 4;

  /** bytes the packet lives in, and the IPv4 header offset / bytes available from it */
  buf: Buffer = Buffer.alloc(0);
  ipOff = 0;
  /** captured bytes from ipOff to the end of the frame */
  avail = 0;

  // IPv4 header
  hlen = 0;
  totalLen = 0;
  tos = 0;
  id = 0;
  /** raw ip_off field: flags (RF 0x8000, DF 0x4000, MF 0x2000) and offset in 8-byte units */
  frag = 0;
  ttl = 0;
  proto = 0;
  src = 0;
  dst = 0;

  /** IPv6 addresses (family 6): four words each, most significant first */
  readonly src6 = new Uint32Array(4);
  readonly dst6 = new Uint32Array(4);
  /** IPv6 flow label (family 6) */
  flow = 0;
  /**
   * A DataView over `viewOf`, the last `buf` whose IPv6 address words decodeIpv6 read: a
   * word is then one checked load instead of four byte loads (made once per capture
   * chunk, not per packet). release() drops both.
   */
  view: DataView = EMPTY_VIEW;
  viewOf: Uint8Array = EMPTY_BYTES;

  // For IPv6 the fields above read as for IPv4 (src/decode/ipv6.ts): `tos` is the traffic
  // class, `ttl` the hop limit, `totalLen` 40 + payload length, `hlen` the bytes from the
  // IPv6 header to the upper-layer header (extension headers included), `proto` the
  // upper-layer protocol at the end of the extension-header chain; a fragment's `frag`
  // holds its offset and M flag in the IPv4 layout (MF 0x2000, offset in 8-byte units),
  // `id` the 32-bit identification, and `proto` the first header of the fragmentable part.

  /** ICMPv6 type and code (src/decode/icmpv6.ts), and its class (ICMP6_*); -1 when not decoded */
  icmpType = -1;
  icmpCode = -1;
  icmpClass = 0;

  /** offset of the transport header in buf, and captured bytes from there */
  l4Off = 0;
  l4Avail = 0;
  /** IP payload length by the header: totalLen - hlen (iplog's `len`) */
  l4Len = 0;

  /** The end of a run: keep no reference to the capture source's buffer. */
  release(): void {
    this.buf = EMPTY_BUF;
    this.view = EMPTY_VIEW;
    this.viewOf = EMPTY_BYTES;
  }

  reset(buf: Buffer, ipOff: number, avail: number, tsSec: number, tsNsec: number): void {
    this.buf = buf;
    this.ipOff = ipOff;
    this.avail = avail;
    this.tsSec = tsSec;
    this.tsNsec = tsNsec;
  }
}

/** Header bits as const enums, inlined by tsc on the per-packet path. */
export const enum Ip {
  RF = 0x8000,
  DF = 0x4000,
  MF = 0x2000,
  OFFMASK = 0x1fff,
}
export const enum Th {
  FIN = 0x01,
  SYN = 0x02,
  RST = 0x04,
  PUSH = 0x08,
  ACK = 0x10,
  URG = 0x20,
  BOG = 0xc0,
}

/** Big-endian 16-bit read without bounds checks; callers check lengths first. */
export function be16(b: Buffer, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** Big-endian 32-bit read as an unsigned number; callers check lengths first. */
export function be32(b: Buffer, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Byte at o, or 0 past `end`: for fields the original read from whatever followed. */
export function byteOr0(b: Buffer, o: number, end: number): number {
  return o < end ? b[o]! : 0;
}

export function be16Or0(b: Buffer, o: number, end: number): number {
  return (byteOr0(b, o, end) << 8) | byteOr0(b, o + 1, end);
}

export function be32Or0(b: Buffer, o: number, end: number): number {
  return ((byteOr0(b, o, end) << 24) | (byteOr0(b, o + 1, end) << 16) | (byteOr0(b, o + 2, end) << 8) | byteOr0(b, o + 3, end)) >>> 0;
}

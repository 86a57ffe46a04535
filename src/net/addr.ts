/**
 * One address type for both families, below every layer that handles addresses (decode,
 * rules, events, DNS, JSON, bans). Two representations, chosen by where they live:
 *
 *  - On the per-packet path nothing is allocated: an IPv4 address is a host-order uint32
 *    (a.b.c.d = a<<24|b<<16|c<<8|d, `>>> 0`), as it always was; an IPv6 address is four
 *    32-bit words, most significant first (2001:db8::1 = 0x20010db8, 0, 0, 1), held in the
 *    reused packet object (DecodedPacket.src6/dst6). The free functions below that take
 *    numbers or words (`formatIpv6`, `hashIpv6`, `Cidr.containsV6`...) allocate nothing
 *    but their result text.
 *  - `IpAddr` is the value type for events and configuration: created once per event,
 *    rule or ban, never per packet. It formats in RFC 5952 text (lower case, no leading
 *    zeros, the longest run of two or more zero groups as `::`, the first on a tie; an
 *    IPv4-mapped address as `::ffff:192.0.2.1`), compares, hashes, and truncates to a
 *    prefix (/24, /64, /48...).
 *
 * IPv4-mapped addresses (::ffff:0:0/96) keep family 6 as parsed or captured (a packet
 * on the wire that carries one is an IPv6 packet); `unmap()` gives the IPv4 host where
 * one key per host is wanted (bans, allowlists).
 *
 * Parsing is strict (inet_pton): dotted decimal without leading zeros, IPv6 with at most
 * one `::`, a trailing dotted quad allowed, no zone id (a zone names a link, not a host).
 */

export type Family = 4 | 6;

/** An address of either family: a small immutable value (per event/config, not per packet). */
export class IpAddr {
  /** family 4: the host-order uint32; family 6: 0 */
  readonly v4: number;
  /** family 6: the four 32-bit words, most significant first; family 4: 0 */
  readonly w0: number;
  readonly w1: number;
  readonly w2: number;
  readonly w3: number;
  private text: string | undefined;

  private constructor(
    readonly family: Family,
    v4: number,
    w0: number,
    w1: number,
    w2: number,
    w3: number,
  ) {
    this.v4 = v4 >>> 0;
    this.w0 = w0 >>> 0;
    this.w1 = w1 >>> 0;
    this.w2 = w2 >>> 0;
    this.w3 = w3 >>> 0;
  }

  static v4(n: number): IpAddr {
    return new IpAddr(4, n, 0, 0, 0, 0);
  }

  static v6(w0: number, w1: number, w2: number, w3: number): IpAddr {
    return new IpAddr(6, 0, w0, w1, w2, w3);
  }

  /** RFC 5952 text (IPv4: dotted quad). Computed once. */
  toString(): string {
    if (this.text === undefined) this.text = this.family === 4 ? formatIpv4(this.v4) : formatIpv6(this.w0, this.w1, this.w2, this.w3);
    return this.text;
  }

  toJSON(): string {
    return this.toString();
  }

  equals(o: IpAddr): boolean {
    return this.family === o.family && this.v4 === o.v4 && this.w0 === o.w0 && this.w1 === o.w1 && this.w2 === o.w2 && this.w3 === o.w3;
  }

  /** 32-bit hash of the address mixed with `seed` (same as hashIpv4 / hashIpv6 on the raw form). */
  hash(seed = 0): number {
    return this.family === 4 ? hashIpv4(seed, this.v4) : hashIpv6(seed, this.w0, this.w1, this.w2, this.w3);
  }

  /** ::ffff:a.b.c.d */
  isV4Mapped(): boolean {
    return this.family === 6 && this.w0 === 0 && this.w1 === 0 && this.w2 === 0xffff;
  }

  /** The IPv4 host for an IPv4-mapped address, else this address. */
  unmap(): IpAddr {
    return this.isV4Mapped() ? IpAddr.v4(this.w3) : this;
  }

  /** The address with every bit after the first `len` cleared (the network of a /len). */
  truncate(len: number): IpAddr {
    if (this.family === 4) return IpAddr.v4(this.v4 & maskBits(len));
    return IpAddr.v6(this.w0 & maskBits(len), this.w1 & maskBits(len - 32), this.w2 & maskBits(len - 64), this.w3 & maskBits(len - 96));
  }

  /** Width in bits of the family (32 or 128). */
  get bits(): 32 | 128 {
    return this.family === 4 ? 32 : 128;
  }

  /** 128-bit (or 32-bit) integer value, for range arithmetic at configuration time. */
  toBigInt(): bigint {
    if (this.family === 4) return BigInt(this.v4);
    return (BigInt(this.w0) << 96n) | (BigInt(this.w1) << 64n) | (BigInt(this.w2) << 32n) | BigInt(this.w3);
  }

  static fromBigInt(family: Family, v: bigint): IpAddr {
    if (family === 4) return IpAddr.v4(Number(v & 0xffffffffn));
    const m = 0xffffffffn;
    return IpAddr.v6(Number((v >> 96n) & m), Number((v >> 64n) & m), Number((v >> 32n) & m), Number(v & m));
  }

  /** 16 bytes of an IPv6 address in network order at `buf[off]`. */
  static v6FromBytes(buf: Uint8Array, off: number): IpAddr {
    return IpAddr.v6(be32(buf, off), be32(buf, off + 4), be32(buf, off + 8), be32(buf, off + 12));
  }

  /** Four words (`words[off..off+3]`, e.g. DecodedPacket.src6). */
  static v6FromWords(words: ArrayLike<number>, off = 0): IpAddr {
    return IpAddr.v6(words[off]!, words[off + 1]!, words[off + 2]!, words[off + 3]!);
  }

  /** Strict parse of an IPv4 or IPv6 address text; undefined when it is not one. */
  static parse(text: string): IpAddr | undefined {
    return parseIp(text);
  }

  // classification (RFC 6890 special-purpose registries, the parts a sensor cares about)

  isUnspecified(): boolean {
    return this.family === 4 ? this.v4 === 0 : (this.w0 | this.w1 | this.w2 | this.w3) === 0;
  }

  isLoopback(): boolean {
    return this.family === 4 ? this.v4 >>> 24 === 127 : (this.w0 | this.w1 | this.w2) === 0 && this.w3 === 1;
  }

  isMulticast(): boolean {
    return this.family === 4 ? this.v4 >>> 28 === 0xe : this.w0 >>> 24 === 0xff;
  }

  /** 169.254.0.0/16, fe80::/10 */
  isLinkLocal(): boolean {
    return this.family === 4 ? this.v4 >>> 16 === 0xa9fe : this.w0 >>> 22 === 0x3fa;
  }
}

function be32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Mask of the first `len` bits of a 32-bit word (len clamped to 0..32), as a uint32. */
export function maskBits(len: number): number {
  if (len <= 0) return 0;
  if (len >= 32) return 0xffffffff;
  return (0xffffffff << (32 - len)) >>> 0;
}

/** Dotted quad of a host-order uint32. */
export function formatIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** RFC 5952 text of an IPv6 address given as four 32-bit words (most significant first). */
export function formatIpv6(w0: number, w1: number, w2: number, w3: number): string {
  // IPv4-mapped: mixed notation (RFC 5952 §5)
  if (w0 === 0 && w1 === 0 && w2 >>> 0 === 0xffff) return `::ffff:${formatIpv4(w3 >>> 0)}`;
  const g0 = w0 >>> 16, g1 = w0 & 0xffff, g2 = w1 >>> 16, g3 = w1 & 0xffff;
  const g4 = w2 >>> 16, g5 = w2 & 0xffff, g6 = w3 >>> 16, g7 = w3 & 0xffff;
  const g = [g0, g1, g2, g3, g4, g5, g6, g7];
  // longest run of >= 2 zero groups, the first one on a tie (§4.2.2, §4.2.3)
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      s += '::';
      i += bestLen - 1;
      continue;
    }
    if (s !== '' && !s.endsWith(':')) s += ':';
    s += g[i]!.toString(16);
  }
  return s;
}

/**
 * `host:port` as iplog writes it, for either family: `192.0.2.1:80`, and for IPv6 the
 * RFC 5952 §6 form `[2001:db8::1]:80`. `host` is an address text or an IpAddr.
 */
export function hostPort(host: string | IpAddr, port: number): string {
  const t = typeof host === 'string' ? host : host.toString();
  return t.includes(':') ? `[${t}]:${port}` : `${t}:${port}`;
}

const DEC = /^(?:0|[1-9]\d{0,2})$/;
const HEX = /^[0-9a-fA-F]{1,4}$/;

/** Host-order uint32 of a strict dotted quad (inet_pton: no leading zeros), or -1. */
export function parseIpv4(text: string): number {
  const p = text.split('.');
  if (p.length !== 4) return -1;
  let n = 0;
  for (const x of p) {
    if (!DEC.test(x)) return -1;
    const v = Number(x);
    if (v > 255) return -1;
    n = n * 256 + v;
  }
  return n >>> 0;
}

/**
 * The four words of an IPv6 text (into `out`, which is returned), or null. Accepts `::`
 * once, 1–4 hex digits per group, a trailing dotted quad; no zone, no brackets.
 */
export function parseIpv6(text: string, out: number[] = [0, 0, 0, 0]): number[] | null {
  if (text.length < 2 || text.length > 45) return null;
  let t = text;
  let tail4 = -1;
  const lastColon = t.lastIndexOf(':');
  if (lastColon >= 0 && t.indexOf('.', lastColon) >= 0) {
    tail4 = parseIpv4(t.slice(lastColon + 1));
    if (tail4 < 0) return null;
    t = t.slice(0, lastColon + 1) + '0:0';
    // `::1.2.3.4` → `::0:0`; `1::1.2.3.4` → `1::0:0`; a single `:` before the quad is
    // part of `::` or a separator, both of which the split below handles
  }
  const dbl = t.indexOf('::');
  if (dbl >= 0 && t.indexOf('::', dbl + 1) >= 0) return null;
  let groups: string[];
  if (dbl >= 0) {
    const head = t.slice(0, dbl);
    const tl = t.slice(dbl + 2);
    const h = head === '' ? [] : head.split(':');
    const r = tl === '' ? [] : tl.split(':');
    if (h.length + r.length > 7) return null;
    groups = [...h, ...new Array<string>(8 - h.length - r.length).fill('0'), ...r];
  } else {
    groups = t.split(':');
    if (groups.length !== 8) return null;
  }
  const g = new Array<number>(8);
  for (let i = 0; i < 8; i++) {
    if (!HEX.test(groups[i]!)) return null;
    g[i] = parseInt(groups[i]!, 16);
  }
  out[0] = ((g[0]! << 16) | g[1]!) >>> 0;
  out[1] = ((g[2]! << 16) | g[3]!) >>> 0;
  out[2] = ((g[4]! << 16) | g[5]!) >>> 0;
  out[3] = tail4 >= 0 ? tail4 : ((g[6]! << 16) | g[7]!) >>> 0;
  return out;
}

/** An address from text (dotted quad or IPv6), or undefined. No names, no prefixes, no zone. */
export function parseIp(text: string): IpAddr | undefined {
  if (text.includes(':')) {
    const w = parseIpv6(text);
    return w ? IpAddr.v6(w[0]!, w[1]!, w[2]!, w[3]!) : undefined;
  }
  const n = parseIpv4(text);
  return n < 0 ? undefined : IpAddr.v4(n);
}

/** Which family a text is an address of, or 0. */
export function ipFamily(text: string): Family | 0 {
  const a = parseIp(text);
  return a ? a.family : 0;
}

// Hashing: attacker-chosen keys go through a seeded mix (murmur3 finaliser steps).

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Seeded 32-bit hash of an IPv4 address (host-order uint32). No allocation. */
export function hashIpv4(seed: number, n: number): number {
  return fmix(mix(seed | 0, n | 0) ^ 4);
}

/** Seeded 32-bit hash of an IPv6 address given as four words. No allocation. */
export function hashIpv6(seed: number, w0: number, w1: number, w2: number, w3: number): number {
  let h = seed | 0;
  h = mix(h, w0 | 0);
  h = mix(h, w1 | 0);
  h = mix(h, w2 | 0);
  h = mix(h, w3 | 0);
  return fmix(h ^ 16);
}

/** xxHash32's primes (as int32) */
const XXP1 = 0x9e3779b1 | 0;
const XXP2 = 0x85ebca77 | 0;
const XXP3 = 0xc2b2ae3d | 0;

/**
 * Seeded hash of an IPv6 address pair (source words s0-s3, destination d0-d3), as an
 * int32 (the IPv6 pair table compares it with the int32 it keeps per slot). The 32 bytes
 * go through xxHash32's structure (four seeded lanes of two rounds each, merged, then its
 * avalanche), taking the words as they are: the lanes run side by side, where the murmur
 * steps of hashIpv6 make one chain of eight — the pair table hashes every packet
 * (docs/benchmarks.md). No allocation.
 */
export function hashIpv6Pair(seed: number, s0: number, s1: number, s2: number, s3: number, d0: number, d1: number, d2: number, d3: number): number {
  let v1 = (seed + XXP1 + XXP2) | 0;
  let v2 = (seed + XXP2) | 0;
  let v3 = seed | 0;
  let v4 = (seed - XXP1) | 0;
  v1 = (v1 + Math.imul(s0, XXP2)) | 0;
  v1 = Math.imul((v1 << 13) | (v1 >>> 19), XXP1);
  v2 = (v2 + Math.imul(s1, XXP2)) | 0;
  v2 = Math.imul((v2 << 13) | (v2 >>> 19), XXP1);
  v3 = (v3 + Math.imul(s2, XXP2)) | 0;
  v3 = Math.imul((v3 << 13) | (v3 >>> 19), XXP1);
  v4 = (v4 + Math.imul(s3, XXP2)) | 0;
  v4 = Math.imul((v4 << 13) | (v4 >>> 19), XXP1);
  v1 = (v1 + Math.imul(d0, XXP2)) | 0;
  v1 = Math.imul((v1 << 13) | (v1 >>> 19), XXP1);
  v2 = (v2 + Math.imul(d1, XXP2)) | 0;
  v2 = Math.imul((v2 << 13) | (v2 >>> 19), XXP1);
  v3 = (v3 + Math.imul(d2, XXP2)) | 0;
  v3 = Math.imul((v3 << 13) | (v3 >>> 19), XXP1);
  v4 = (v4 + Math.imul(d3, XXP2)) | 0;
  v4 = Math.imul((v4 << 13) | (v4 >>> 19), XXP1);
  let h = (((v1 << 1) | (v1 >>> 31)) + ((v2 << 7) | (v2 >>> 25)) + ((v3 << 12) | (v3 >>> 20)) + ((v4 << 18) | (v4 >>> 14)) + 32) | 0;
  h ^= h >>> 15;
  h = Math.imul(h, XXP2);
  h ^= h >>> 13;
  h = Math.imul(h, XXP3);
  return h ^ (h >>> 16);
}

/** A network: a family, a prefix length and the network's words (host bits cleared). */
export class Cidr {
  /** network masks per word (IPv4 uses m3 / n3 only... see containsV4) */
  private readonly n0: number;
  private readonly n1: number;
  private readonly n2: number;
  private readonly n3: number;
  private readonly m0: number;
  private readonly m1: number;
  private readonly m2: number;
  private readonly m3: number;

  constructor(
    /** the network address (host bits cleared) */
    readonly network: IpAddr,
    readonly len: number,
  ) {
    if (!Number.isInteger(len) || len < 0 || len > network.bits) throw new RangeError(`prefix length ${len} out of range for IPv${network.family}`);
    if (network.family === 4) {
      this.m0 = this.m1 = this.m2 = 0;
      this.n0 = this.n1 = this.n2 = 0;
      this.m3 = maskBits(len);
      this.n3 = (network.v4 & this.m3) >>> 0;
    } else {
      this.m0 = maskBits(len);
      this.m1 = maskBits(len - 32);
      this.m2 = maskBits(len - 64);
      this.m3 = maskBits(len - 96);
      this.n0 = (network.w0 & this.m0) >>> 0;
      this.n1 = (network.w1 & this.m1) >>> 0;
      this.n2 = (network.w2 & this.m2) >>> 0;
      this.n3 = (network.w3 & this.m3) >>> 0;
    }
    if (network.family === 4 ? network.v4 !== this.n3 : network.w0 !== this.n0 || network.w1 !== this.n1 || network.w2 !== this.n2 || network.w3 !== this.n3) {
      this.network = network.truncate(len);
    }
  }

  get family(): Family {
    return this.network.family;
  }

  /** Does the network hold this IPv4 address (host-order uint32)? No allocation. */
  containsV4(n: number): boolean {
    return this.network.family === 4 && ((n & this.m3) >>> 0) === this.n3;
  }

  /** Does the network hold this IPv6 address (four words)? No allocation. */
  containsV6(w0: number, w1: number, w2: number, w3: number): boolean {
    return (
      this.network.family === 6 &&
      ((w0 & this.m0) >>> 0) === this.n0 &&
      ((w1 & this.m1) >>> 0) === this.n1 &&
      ((w2 & this.m2) >>> 0) === this.n2 &&
      ((w3 & this.m3) >>> 0) === this.n3
    );
  }

  contains(a: IpAddr): boolean {
    return a.family === 4 ? this.containsV4(a.v4) : this.containsV6(a.w0, a.w1, a.w2, a.w3);
  }

  /** First address (the network). */
  first(): IpAddr {
    return this.network;
  }

  /** Last address of the network. */
  last(): IpAddr {
    const n = this.network;
    if (n.family === 4) return IpAddr.v4(n.v4 | ~this.m3);
    return IpAddr.v6(n.w0 | ~this.m0, n.w1 | ~this.m1, n.w2 | ~this.m2, n.w3 | ~this.m3);
  }

  /** `2001:db8::/32`, `192.0.2.0/24` */
  toString(): string {
    return `${this.network.toString()}/${this.len}`;
  }

  equals(o: Cidr): boolean {
    return this.len === o.len && this.network.equals(o.network);
  }
}

/**
 * `ADDR` (a host: /32 or /128) or `ADDR/LEN` of either family, host bits cleared; undefined
 * when invalid (bad address, zone id, length out of range or not plain decimal).
 */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const a = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!a) return undefined;
  if (slash < 0) return new Cidr(a, a.bits);
  const l = text.slice(slash + 1);
  if (!/^(?:0|[1-9]\d{0,2})$/.test(l)) return undefined;
  const len = Number(l);
  if (len > a.bits) return undefined;
  return new Cidr(a, len);
}

/** The network of `a` of length `len` (`cidrOf(addr, 64)` is its /64). */
export function cidrOf(a: IpAddr, len: number): Cidr {
  return new Cidr(a.truncate(len), len);
}

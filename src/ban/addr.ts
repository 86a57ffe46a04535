/**
 * Addresses as the ban manager handles them: IPv4 and IPv6 alike, always the address
 * (never a host name). `text` is the canonical form used in every BAN line, in the state
 * file and in firewall argv (IPv4 dotted quad; IPv6 in RFC 5952 form, lower case,
 * longest zero run compressed), so that two spellings of one address are one key.
 * Numbers (`v4` host-order uint32, `v6` bigint) are what range checks compare.
 *
 * A thin adapter over the two-family address type of src/net/addr.ts, which owns the
 * parsing, formatting and networks: this file only adds the ban-specific rules (an
 * IPv4-mapped address is the IPv4 host; what can never be banned). Parsing is for
 * configuration, state files and firewall listings (never per packet); events carry
 * their addresses and become a BanAddr only when they carry weight.
 */
import { IpAddr, parseCidr, parseIp, formatIpv4, type Family } from '../net/addr';

export type { Family };

export interface BanAddr {
  readonly family: Family;
  readonly text: string;
  /** host-order uint32 (family 4), else 0 */
  readonly v4: number;
  /** 128-bit value (family 6), else 0n; of a prefix, its network address */
  readonly v6: bigint;
  /**
   * An IPv6 prefix ban (adaptive prefixes, manager.ts): its length (64, 48...). Absent for
   * a host; then `text` is the address, else `NET/LEN` (`2001:db8:1:2::/64`).
   */
  readonly len?: number;
}

/** Is this a prefix (an IPv6 network banned as one), not a host? */
export function isPrefix(a: BanAddr): boolean {
  return a.len !== undefined;
}

/** The IPv6 prefix of length `len` holding `a` (an IPv6 host or a longer prefix). */
export function prefixAddr(a: BanAddr, len: number): BanAddr {
  const shift = BigInt(128 - len);
  const v6 = (a.v6 >> shift) << shift;
  return { family: 6, text: `${formatV6(v6)}/${len}`, v4: 0, v6, len };
}

/** First and last address a ban covers (a host: itself). */
export function spanOf(a: BanAddr): { lo: bigint; hi: bigint } {
  if (a.len === undefined) {
    const v = valueOf(a);
    return { lo: v, hi: v };
  }
  return { lo: a.v6, hi: a.v6 | ((1n << BigInt(128 - a.len)) - 1n) };
}

/** Does ban `outer` (a prefix) cover `inner` (a host or a longer prefix)? */
export function covers(outer: BanAddr, inner: BanAddr): boolean {
  if (outer.len === undefined || inner.family !== 6 || (inner.len ?? 128) < outer.len) return false;
  const shift = BigInt(128 - outer.len);
  return inner.v6 >> shift === outer.v6 >> shift;
}

export function dotted(n: number): string {
  return formatIpv4(n >>> 0);
}

export function fromV4(n: number): BanAddr {
  const v4 = n >>> 0;
  return { family: 4, text: dotted(v4), v4, v6: 0n };
}

/**
 * An IPv6 BanAddr made from an IpAddr: its 128-bit value is computed when a range check
 * or a prefix first asks for it, not for every scored event (a bigint costs several
 * allocations; most events only need the text).
 */
class Ip6BanAddr implements BanAddr {
  readonly family = 6 as const;
  readonly v4 = 0;
  readonly text: string;
  private value: bigint | undefined;
  constructor(readonly ip: IpAddr) {
    this.text = ip.toString();
  }
  get v6(): bigint {
    return (this.value ??= this.ip.toBigInt());
  }
}

/** The ban form of an address of either family (an IPv4-mapped one is its IPv4 host). */
export function fromIp(a: IpAddr): BanAddr {
  const u = a.unmap();
  // the IpAddr's text is made once (an event's address is formatted for its line already)
  if (u.family === 4) return { family: 4, text: u.toString(), v4: u.v4, v6: 0n };
  return new Ip6BanAddr(u);
}

export function fromV6(v: bigint): BanAddr {
  return fromIp(IpAddr.fromBigInt(6, v));
}

/**
 * A ban target from text: an address (IPv4 or IPv6), or an IPv6 prefix `NET/LEN` with
 * LEN from 1 to 127 (host bits must be clear, as a firewall lists it); undefined
 * otherwise. For state files, firewall listings and `iplog bans show|del`.
 */
export function parseTarget(text: string): BanAddr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return parseAddr(text);
  const net = parseNet(text);
  if (net === undefined || net.family !== 6) {
    // `192.0.2.1/32` and `2001:db8::1/128` (iptables -S) are the host
    const c = parseCidr(text);
    if (c !== undefined && c.len === c.network.bits) return fromIp(c.network);
    return undefined;
  }
  const c = parseCidr(text)!;
  if (c.len === 128) return fromIp(c.network);
  if (c.len === 0 || !c.network.equals(parseIp(text.slice(0, slash))!)) return undefined;
  return { family: 6, text: `${c.network.toString()}/${c.len}`, v4: 0, v6: net.lo, len: c.len };
}

/** The net-layer value of a ban address. */
export function toIp(a: BanAddr): IpAddr {
  if (a instanceof Ip6BanAddr) return a.ip;
  // a prefix: its network address
  return a.family === 4 ? IpAddr.v4(a.v4) : IpAddr.fromBigInt(6, a.v6);
}

/** RFC 5952 text of a 128-bit value. */
export function formatV6(v: bigint): string {
  return IpAddr.fromBigInt(6, v).toString();
}

/** An address from text (IPv4 dotted quad or IPv6), or undefined. No names, no prefixes. */
export function parseAddr(text: string): BanAddr | undefined {
  const a = parseIp(text);
  return a ? fromIp(a) : undefined;
}

/**
 * Why an address can never be banned, whatever the configuration: it is not one host
 * that sent us something (unspecified, multicast, broadcast, reserved), or it is
 * ourselves (loopback). Undefined when nothing forbids it.
 */
export function neverBan(a: BanAddr): string | undefined {
  if (a.len !== undefined) return neverBanNet(a);
  if (a.family === 4) {
    const n = a.v4;
    if (n === 0xffffffff) return 'broadcast';
    if (n >>> 24 === 0) return 'unspecified address';
    if (n >>> 24 === 127) return 'loopback';
    if (n >>> 28 === 0xe) return 'multicast';
    if (n >>> 28 === 0xf) return 'reserved address';
    return undefined;
  }
  const ip = toIp(a);
  if (ip.isUnspecified()) return 'unspecified address';
  if (ip.isLoopback()) return 'loopback';
  if (ip.isMulticast()) return 'multicast';
  return undefined;
}

/** IPv6 networks a prefix ban must never overlap, and why. */
const NEVER6: readonly { lo: bigint; hi: bigint; why: string }[] = [
  { lo: 0n, hi: 0n, why: 'unspecified address' },
  { lo: 1n, hi: 1n, why: 'loopback' },
  { lo: 0xffffn << 32n, hi: (0xffffn << 32n) | 0xffffffffn, why: 'IPv4-mapped addresses' },
  { lo: 0xfe80n << 112n, hi: (0xfe80n << 112n) | ((1n << 118n) - 1n), why: 'link-local addresses' },
  { lo: 0xffn << 120n, hi: (1n << 128n) - 1n, why: 'multicast' },
];

/** Why a prefix can never be banned: it overlaps a fixed range above. */
function neverBanNet(a: BanAddr): string | undefined {
  const { lo, hi } = spanOf(a);
  for (const r of NEVER6) if (r.lo <= hi && r.hi >= lo) return `it holds ${r.why}`;
  return undefined;
}

/** A network: first and last address of one family (inclusive). */
export interface Range {
  readonly family: Family;
  readonly lo: bigint;
  readonly hi: bigint;
  /** how it was written (for `allowlisted by ...`) */
  readonly text: string;
}

export function valueOf(a: BanAddr): bigint {
  return a.family === 4 ? BigInt(a.v4) : a.v6;
}

export function inRange(a: BanAddr, r: Range): boolean {
  if (a.family !== r.family) return false;
  const v = valueOf(a);
  return v >= r.lo && v <= r.hi;
}

/**
 * `ADDR` or `ADDR/LEN` (IPv4 or IPv6; host bits are cleared), parsed by src/net/addr.ts
 * at configuration time and compiled to an integer range; undefined if invalid.
 */
export function parseNet(text: string): Range | undefined {
  const c = parseCidr(text);
  if (!c) return undefined;
  return { family: c.family, lo: c.first().toBigInt(), hi: c.last().toBigInt(), text };
}

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
  /** 128-bit value (family 6), else 0n */
  readonly v6: bigint;
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

/** The net-layer value of a ban address. */
export function toIp(a: BanAddr): IpAddr {
  if (a instanceof Ip6BanAddr) return a.ip;
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

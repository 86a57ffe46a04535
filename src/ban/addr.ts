/**
 * Addresses as the ban manager handles them: IPv4 and IPv6 alike, always the address
 * (never a host name). `text` is the canonical form used in every BAN line, in the state
 * file and in firewall argv (IPv4 dotted quad; IPv6 in RFC 5952 form, lower case,
 * longest zero run compressed), so that two spellings of one address are one key.
 * Numbers (`v4` host-order uint32, `v6` bigint) are what range checks compare.
 *
 * Parsing is for configuration, state files and firewall listings (never per packet);
 * events carry IPv4 sources as uint32 and become a BanAddr only when they carry weight.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { IPv4CidrRange, IPv6CidrRange, Validator } from 'ip-num';

export type Family = 4 | 6;

export interface BanAddr {
  readonly family: Family;
  readonly text: string;
  /** host-order uint32 (family 4), else 0 */
  readonly v4: number;
  /** 128-bit value (family 6), else 0n */
  readonly v6: bigint;
}

export function dotted(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function fromV4(n: number): BanAddr {
  const v4 = n >>> 0;
  return { family: 4, text: dotted(v4), v4, v6: 0n };
}

export function fromV6(v: bigint): BanAddr {
  // an IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 host: one key, one set
  if (v >> 32n === 0xffffn) return fromV4(Number(v & 0xffffffffn));
  return { family: 6, text: formatV6(v), v4: 0, v6: v };
}

function parseV4(text: string): number {
  const p = text.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

/** 128-bit value of a valid IPv6 text (node's isIPv6 has accepted it; no zone). */
function parseV6(text: string): bigint {
  let t = text.toLowerCase();
  // a trailing dotted quad is two groups
  const dot = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (dot) {
    const n = parseV4(dot[1]!);
    t = t.slice(0, dot.index) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = t.split('::');
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length > 1 ? (halves[1] === '' ? [] : halves[1]!.split(':')) : [];
  const groups = halves.length > 1 ? [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail] : head;
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(parseInt(g, 16));
  return v;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run (>= 2) of zero groups as `::`. */
export function formatV6(v: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(i * 16)) & 0xffffn));
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
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** An address from text (IPv4 dotted quad or IPv6), or undefined. No names, no prefixes. */
export function parseAddr(text: string): BanAddr | undefined {
  if (isIPv4(text)) return fromV4(parseV4(text));
  if (isIPv6(text) && !text.includes('%')) return fromV6(parseV6(text));
  return undefined;
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
  const v = a.v6;
  if (v === 0n) return 'unspecified address';
  if (v === 1n) return 'loopback';
  if (v >> 120n === 0xffn) return 'multicast';
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
 * `ADDR` or `ADDR/LEN` (IPv4 or IPv6; host bits are cleared), parsed with ip-num at
 * configuration time and compiled to an integer range; undefined if invalid.
 */
export function parseNet(text: string): Range | undefined {
  if (text.includes('%')) return undefined; // zone ids name a link, not a network
  const cidr = text.includes('/') ? text : `${text}/${isIPv4(text) ? 32 : 128}`;
  try {
    if (Validator.isValidIPv4CidrNotation(cidr)[0]) {
      const r = IPv4CidrRange.fromCidr(cidr);
      return { family: 4, lo: r.getFirst().getValue(), hi: r.getLast().getValue(), text };
    }
    if (Validator.isValidIPv6CidrNotation(cidr)[0]) {
      const r = IPv6CidrRange.fromCidr(cidr);
      return { family: 6, lo: r.getFirst().getValue(), hi: r.getLast().getValue(), text };
    }
  } catch {
    /* ip-num throws on some malformed input its validator let through */
  }
  return undefined;
}

/**
 * iplog.conf filter rules → matchers, compiled once at start-up (spec §2.5,
 * iplog_config.c: tcp_filter(), icmp_filter(), addr_match(), port_match()).
 *
 * A matcher answers "ignore this packet?": the first rule of the protocol's list whose
 * tests all match decides (`ignore` → true, `log` → false); no match → false.
 *
 * Tests of one rule:
 * - address (from, to): matches if the rule address is "any", or the packet address is
 *   0.0.0.0 (compat only: quirk 18), or the addresses agree under the mask; `!` inverts.
 * - port (sport, dport): lo..hi with iplog's open ends: 0:0 any, lo = hi equality,
 *   lo = 0 "at most hi", hi = 0 "at least lo", else inclusive. `!` (compat, quirk 17)
 *   flips the lowest bit of the *packet's port* before the test (`!22` matches only 23);
 *   the modern profile inverts the test result.
 * - ICMP type: any, or equality; `!` inverts (correct in both profiles).
 *
 * Rules live in typed arrays, one set per protocol; a call walks them with no allocation.
 * Addresses are host-order uint32 numbers; since only XOR/AND/equality-with-0 are used,
 * int32 and uint32 representations of the same address compare the same.
 *
 * IPv6 (`tcp6`, `udp6`, `icmp6`: addresses as the packet's four words): a rule address
 * is of one family or `*`. An address of the other family never matches (so `!addr`
 * always does): the IPv4 tables are built with such rules dropped or their test made
 * `*`, which leaves the IPv4 walk exactly as it was; the IPv6 tables test networks
 * (src/net/addr.ts Cidr). Ports match as for IPv4 in the same profile. ICMP types in
 * rules are ICMP's (0–18, the parser's range): a rule with a type (or `!type`) is about
 * IPv4 only; an ICMP rule without a type applies to ICMPv6 messages too.
 */
import { readFileSync } from 'node:fs';
import { resolveRuleHost, systemConfigEnv, type ConfigEnv } from '../config/conf-parser';
import type { AddrTest, Profile, Rule, RuleLists } from '../config/settings';
import { Cidr, parseIp } from '../net/addr';

export interface RuleMatcher {
  /** true = ignore the TCP packet */
  tcp(src: number, dst: number, sport: number, dport: number): boolean;
  /** true = ignore the UDP datagram */
  udp(src: number, dst: number, sport: number, dport: number): boolean;
  /** true = ignore the ICMP message */
  icmp(src: number, dst: number, type: number): boolean;
  /** the same for IPv6 packets (addresses: DecodedPacket.src6 / dst6) */
  tcp6(src: Uint32Array, dst: Uint32Array, sport: number, dport: number): boolean;
  udp6(src: Uint32Array, dst: Uint32Array, sport: number, dport: number): boolean;
  icmp6(src: Uint32Array, dst: Uint32Array, type: number): boolean;
}

export interface CompileOptions {
  /** compat (default) keeps quirks 17 and 18; modern fixes them */
  profile?: Profile;
}

// Bits of the per-rule flag byte.
const SRC_ANY = 1;
const SRC_NOT = 2;
const DST_ANY = 4;
const DST_NOT = 8;
const SPORT_NOT = 16;
const DPORT_NOT = 32;
const IGNORE = 64;
const TYPE_NOT = 128;

/** One protocol's rules, struct-of-arrays. */
interface Table {
  n: number;
  bits: Uint8Array;
  srcAddr: Int32Array;
  srcMask: Int32Array;
  dstAddr: Int32Array;
  dstMask: Int32Array;
  spLo: Int32Array;
  spHi: Int32Array;
  dpLo: Int32Array;
  dpHi: Int32Array;
  /** ICMP type, -1 = any */
  type: Int32Array;
}

function addrBits(t: AddrTest, any: number, not: number): number {
  // A zero mask matches every address too; fold it into "any".
  return (t.any || t.addr === 0 || t.mask === 0 ? any : 0) | (t.negate ? not : 0);
}

function buildTable(rules: readonly Rule[]): Table {
  const n = rules.length;
  const t: Table = {
    n,
    bits: new Uint8Array(n),
    srcAddr: new Int32Array(n),
    srcMask: new Int32Array(n),
    dstAddr: new Int32Array(n),
    dstMask: new Int32Array(n),
    spLo: new Int32Array(n),
    spHi: new Int32Array(n),
    dpLo: new Int32Array(n),
    dpHi: new Int32Array(n),
    type: new Int32Array(n),
  };
  for (let i = 0; i < n; i++) {
    const r = rules[i];
    t.bits[i] =
      addrBits(r.from, SRC_ANY, SRC_NOT) |
      addrBits(r.to, DST_ANY, DST_NOT) |
      (r.sport.negate ? SPORT_NOT : 0) |
      (r.dport.negate ? DPORT_NOT : 0) |
      (r.action === 'ignore' ? IGNORE : 0) |
      (r.icmpNegate ? TYPE_NOT : 0);
    t.srcAddr[i] = r.from.addr | 0;
    t.srcMask[i] = r.from.mask | 0;
    t.dstAddr[i] = r.to.addr | 0;
    t.dstMask[i] = r.to.mask | 0;
    t.spLo[i] = r.sport.lo;
    t.spHi[i] = r.sport.hi;
    t.dpLo[i] = r.dport.lo;
    t.dpHi[i] = r.dport.hi;
    t.type[i] = r.icmpType;
  }
  return t;
}

/** port_match(): iplog's range test with 0 meaning an open end. */
function portMatch(lo: number, hi: number, port: number): boolean {
  if (lo === 0 && hi === 0) return true;
  if (lo === hi) return port === lo;
  if (hi === 0) return port >= lo;
  if (lo === 0) return port <= hi;
  return port >= lo && port <= hi;
}

/** addr_match() and its `!` (compat: a packet address of 0 matches everything). */
function addrCompat(bits: number, any: number, not: number, addr: number, mask: number, host: number): boolean {
  const m = (bits & any) !== 0 || host === 0 || ((host ^ addr) & mask) === 0;
  return m !== ((bits & not) !== 0);
}

function addrModern(bits: number, any: number, not: number, addr: number, mask: number, host: number): boolean {
  const m = (bits & any) !== 0 || ((host ^ addr) & mask) === 0;
  return m !== ((bits & not) !== 0);
}

type AddrFn = typeof addrCompat;

function portsMatcher(t: Table, addr: AddrFn, modern: boolean) {
  const { n, bits, srcAddr, srcMask, dstAddr, dstMask, spLo, spHi, dpLo, dpHi } = t;
  if (n === 0) return (_s: number, _d: number, _sp: number, _dp: number): boolean => false;
  return (src: number, dst: number, sport: number, dport: number): boolean => {
    for (let i = 0; i < n; i++) {
      const b = bits[i];
      if (!addr(b, SRC_ANY, SRC_NOT, srcAddr[i], srcMask[i], src)) continue;
      if (!addr(b, DST_ANY, DST_NOT, dstAddr[i], dstMask[i], dst)) continue;
      const dn = (b & DPORT_NOT) !== 0;
      const sn = (b & SPORT_NOT) !== 0;
      if (modern) {
        if (portMatch(dpLo[i], dpHi[i], dport) === dn) continue;
        if (portMatch(spLo[i], spHi[i], sport) === sn) continue;
      } else {
        // Quirk 17: `!` is XORed into the port number, not the result.
        if (!portMatch(dpLo[i], dpHi[i], dn ? dport ^ 1 : dport)) continue;
        if (!portMatch(spLo[i], spHi[i], sn ? sport ^ 1 : sport)) continue;
      }
      return (b & IGNORE) !== 0;
    }
    return false;
  };
}

function icmpMatcher(t: Table, addr: AddrFn) {
  const { n, bits, srcAddr, srcMask, dstAddr, dstMask, type: want } = t;
  if (n === 0) return (_s: number, _d: number, _t: number): boolean => false;
  return (src: number, dst: number, type: number): boolean => {
    for (let i = 0; i < n; i++) {
      const b = bits[i];
      if (!addr(b, SRC_ANY, SRC_NOT, srcAddr[i], srcMask[i], src)) continue;
      if (!addr(b, DST_ANY, DST_NOT, dstAddr[i], dstMask[i], dst)) continue;
      const w = want[i];
      if ((w === -1 || w === type) === ((b & TYPE_NOT) !== 0)) continue;
      return (b & IGNORE) !== 0;
    }
    return false;
  };
}

const ANY: AddrTest = Object.freeze({ any: true, negate: false, addr: 0, mask: 0xffffffff });

/**
 * The rule as IPv4 packets see it: an IPv6 address never matches one, so the rule is
 * dropped (null), or, negated, the test is `*`.
 */
function forIpv4(r: Rule): Rule | null {
  if (r.icmp6 === true) return null;
  if (r.from.v6 === undefined && r.to.v6 === undefined) return r;
  if ((r.from.v6 !== undefined && !r.from.negate) || (r.to.v6 !== undefined && !r.to.negate)) return null;
  return { ...r, from: r.from.v6 !== undefined ? ANY : r.from, to: r.to.v6 !== undefined ? ANY : r.to };
}

function v4Rules(rules: readonly Rule[]): Rule[] {
  const out: Rule[] = [];
  for (const r of rules) {
    const x = forIpv4(r);
    if (x !== null) out.push(x);
  }
  return out;
}

/** One protocol's rules for IPv6 packets. */
interface Table6 {
  n: number;
  bits: Uint8Array;
  src: (Cidr | null)[];
  dst: (Cidr | null)[];
  spLo: Int32Array;
  spHi: Int32Array;
  dpLo: Int32Array;
  dpHi: Int32Array;
  type: Int32Array;
}

/** An address test for IPv6 packets: null = any; undefined = never (an IPv4 address, not negated). */
function side6(t: AddrTest): { c: Cidr | null; negate: boolean } | undefined {
  if (t.v6 !== undefined) return { c: t.v6, negate: t.negate };
  if (t.any || t.mask === 0) return { c: null, negate: t.negate };
  return t.negate ? { c: null, negate: false } : undefined;
}

function buildTable6(rules: readonly Rule[]): Table6 {
  const kept: { r: Rule; s: { c: Cidr | null; negate: boolean }; d: { c: Cidr | null; negate: boolean } }[] = [];
  for (const r of rules) {
    // an icmp rule's type is ICMP's: only icmp rules without one, and icmp6 rules, apply
    if (r.proto === 'icmp' && r.icmpType !== -1 && r.icmp6 !== true) continue;
    const s = side6(r.from);
    const d = side6(r.to);
    if (s !== undefined && d !== undefined) kept.push({ r, s, d });
  }
  const n = kept.length;
  const t: Table6 = {
    n,
    bits: new Uint8Array(n),
    src: [],
    dst: [],
    spLo: new Int32Array(n),
    spHi: new Int32Array(n),
    dpLo: new Int32Array(n),
    dpHi: new Int32Array(n),
    type: new Int32Array(n),
  };
  kept.forEach(({ r, s, d }, i) => {
    t.bits[i] =
      (s.negate ? SRC_NOT : 0) |
      (d.negate ? DST_NOT : 0) |
      (r.sport.negate ? SPORT_NOT : 0) |
      (r.dport.negate ? DPORT_NOT : 0) |
      (r.action === 'ignore' ? IGNORE : 0) |
      (r.icmpNegate ? TYPE_NOT : 0);
    t.src.push(s.c);
    t.dst.push(d.c);
    t.spLo[i] = r.sport.lo;
    t.spHi[i] = r.sport.hi;
    t.dpLo[i] = r.dport.lo;
    t.dpHi[i] = r.dport.hi;
    t.type[i] = r.icmpType;
  });
  return t;
}

function addr6(c: Cidr | null, negate: boolean, w: Uint32Array): boolean {
  return (c === null || c.containsV6(w[0]!, w[1]!, w[2]!, w[3]!)) !== negate;
}

function portsMatcher6(t: Table6, modern: boolean) {
  const { n, bits, src: sc, dst: dc, spLo, spHi, dpLo, dpHi } = t;
  if (n === 0) return (_s: Uint32Array, _d: Uint32Array, _sp: number, _dp: number): boolean => false;
  return (src: Uint32Array, dst: Uint32Array, sport: number, dport: number): boolean => {
    for (let i = 0; i < n; i++) {
      const b = bits[i]!;
      if (!addr6(sc[i]!, (b & SRC_NOT) !== 0, src)) continue;
      if (!addr6(dc[i]!, (b & DST_NOT) !== 0, dst)) continue;
      const dn = (b & DPORT_NOT) !== 0;
      const sn = (b & SPORT_NOT) !== 0;
      if (modern) {
        if (portMatch(dpLo[i]!, dpHi[i]!, dport) === dn) continue;
        if (portMatch(spLo[i]!, spHi[i]!, sport) === sn) continue;
      } else {
        if (!portMatch(dpLo[i]!, dpHi[i]!, dn ? dport ^ 1 : dport)) continue;
        if (!portMatch(spLo[i]!, spHi[i]!, sn ? sport ^ 1 : sport)) continue;
      }
      return (b & IGNORE) !== 0;
    }
    return false;
  };
}

function icmpMatcher6(t: Table6) {
  const { n, bits, src: sc, dst: dc, type: want } = t;
  if (n === 0) return (_s: Uint32Array, _d: Uint32Array, _t: number): boolean => false;
  return (src: Uint32Array, dst: Uint32Array, type: number): boolean => {
    for (let i = 0; i < n; i++) {
      const b = bits[i]!;
      if (!addr6(sc[i]!, (b & SRC_NOT) !== 0, src)) continue;
      if (!addr6(dc[i]!, (b & DST_NOT) !== 0, dst)) continue;
      const w = want[i]!;
      if ((w === -1 || w === type) === ((b & TYPE_NOT) !== 0)) continue;
      return (b & IGNORE) !== 0;
    }
    return false;
  };
}

/** Compile the three rule lists (already in evaluation order) into one matcher. */
export function compileRules(lists: RuleLists, options: CompileOptions = {}): RuleMatcher {
  const modern = options.profile === 'modern';
  const addr = modern ? addrModern : addrCompat;
  return {
    tcp: portsMatcher(buildTable(v4Rules(lists.tcp)), addr, modern),
    udp: portsMatcher(buildTable(v4Rules(lists.udp)), addr, modern),
    icmp: icmpMatcher(buildTable(v4Rules(lists.icmp)), addr),
    tcp6: portsMatcher6(buildTable6(lists.tcp), modern),
    udp6: portsMatcher6(buildTable6(lists.udp), modern),
    icmp6: icmpMatcher6(buildTable6(lists.icmp)),
  };
}

// ---------------------------------------------------------------------------
// -d / set ignore_dns (spec §2.6, add_dns_ignore_rules())

const MASK_ONE = 0xffffffff;

/**
 * Add "ignore UDP from <nameserver>, source port 53" for every `nameserver` line of a
 * resolv.conf text, each at the front of the UDP list (so they come first, in reverse
 * file order). The address is resolved like a rule host (dotted quad, short form, or a
 * name from /etc/hosts; `env` supplies the files, default this host's), and a name gives
 * one rule per address. Returns the number of rules added.
 *
 * Fixes (every profile): an IPv6 nameserver (2.2.3 made a rule with an undefined
 * address) gives a rule for IPv6 packets from that address (a `%zone` suffix is
 * dropped); ones that do not resolve are skipped; a name is not added twice.
 */
export function addNameserverRules(
  lists: RuleLists,
  resolvConfText: string,
  env: ConfigEnv = systemConfigEnv(readOptional),
): number {
  let added = 0;
  for (const line of resolvConfText.split('\n')) {
    // The original tokenises with strtok(" \t"): a CR stays in the address.
    const words = line.replace(/^[ \t\n\v\f\r]+/, '').split(/[ \t]+/).filter((w) => w !== '');
    if (words[0] !== 'nameserver' || words.length < 2) continue;
    const text = words[1];
    if (text.includes(':')) {
      const a = parseIp(text.replace(/%.*$/, ''));
      if (a === undefined || a.family !== 6) continue;
      lists.udp.unshift({
        action: 'ignore',
        proto: 'udp',
        from: { any: false, negate: false, addr: 0, mask: MASK_ONE, v6: new Cidr(a, 128) },
        to: { any: true, negate: false, addr: 0, mask: MASK_ONE },
        sport: { lo: 53, hi: 53, negate: false },
        dport: { lo: 0, hi: 65535, negate: false },
        icmpType: -1,
        icmpNegate: false,
        line: 0,
      });
      added++;
      continue;
    }
    const addrs = resolveRuleHost(text, env);
    if (addrs === undefined) continue;
    for (const a of addrs) {
      lists.udp.unshift({
        action: 'ignore',
        proto: 'udp',
        from: { any: a === 0, negate: false, addr: a >>> 0, mask: MASK_ONE },
        to: { any: true, negate: false, addr: 0, mask: MASK_ONE },
        sport: { lo: 53, hi: 53, negate: false },
        dport: { lo: 0, hi: 65535, negate: false },
        icmpType: -1,
        icmpNegate: false,
        line: 0,
      });
      added++;
    }
  }
  return added;
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The `-a NETS` destination filter. Live, iplog compiles `dst net (N1 or N2 ...)` into
 * the BPF filter; in replay the same networks select packets in software so that a
 * replay and a live capture of the same traffic give the same lines. Each network is
 * BPF `net` syntax: `a.b.c.d/len`, `a.b.c.d mask m.m.m.m`, or 1-3 leading octets
 * (`10`, `192.168`, `192.168.1`: /8, /16, /24); or an IPv6 network `2001:db8::/64` (a
 * bare address is /128), which selects IPv6 packets. Compiled once to (base, mask)
 * pairs and IPv6 networks.
 */
import { parseCidr, type Cidr } from '../net/addr';

export interface NetMatcher {
  readonly bases: Uint32Array;
  readonly masks: Uint32Array;
  /** the IPv6 networks */
  readonly v6: readonly Cidr[];
}

/** Is this -a entry an IPv6 network? */
export function isNet6(text: string): boolean {
  return text.includes(':');
}

/** An IPv6 -a network; NetSyntaxError when it is not one (or has host bits set, as BPF refuses). */
export function parseNet6(text: string): Cidr {
  const t = text.trim();
  const c = parseCidr(t);
  if (c === undefined || c.family !== 6) throw new NetSyntaxError(`invalid network "${text}"`);
  const slash = t.indexOf('/');
  const given = parseCidr(slash < 0 ? t : t.slice(0, slash))!;
  if (!given.network.equals(c.network)) throw new NetSyntaxError(`invalid network "${text}": non-network bits set (mask /${c.len})`);
  return c;
}

export class NetSyntaxError extends Error {}

function parseQuad(s: string): number | null {
  const parts = s.split('.');
  if (parts.length < 1 || parts.length > 4) return null;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v * 256 ** (4 - parts.length);
}

export function parseNet(text: string): { base: number; mask: number } {
  const t = text.trim();
  let m = /^([\d.]+)\s+mask\s+([\d.]+)$/.exec(t);
  if (m) {
    const a = parseQuad(m[1]!);
    const k = parseQuad(m[2]!);
    if (a === null || k === null || m[2]!.split('.').length !== 4) throw new NetSyntaxError(`invalid network "${text}"`);
    return { base: (a & k) >>> 0, mask: k >>> 0 };
  }
  m = /^([\d.]+)(?:\/(\d{1,2}))?$/.exec(t);
  if (!m) throw new NetSyntaxError(`invalid network "${text}"`);
  const a = parseQuad(m[1]!);
  if (a === null) throw new NetSyntaxError(`invalid network "${text}"`);
  const octets = m[1]!.split('.').length;
  const len = m[2] !== undefined ? Number(m[2]) : octets * 8;
  if (len > 32) throw new NetSyntaxError(`invalid network "${text}": prefix length above 32`);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  if (((a & ~mask) >>> 0) !== 0) throw new NetSyntaxError(`invalid network "${text}": non-network bits set (mask /${len})`);
  return { base: a >>> 0, mask };
}

/** `origin` (where the list was set, e.g. `promisc on line 3 of /etc/iplog.conf`) is added to an error. */
export function compileNets(list: string[], origin?: string): NetMatcher {
  let nets: { base: number; mask: number }[];
  let v6: ReturnType<typeof parseNet6>[];
  try {
    nets = list.filter((t) => !isNet6(t)).map(parseNet);
    v6 = list.filter(isNet6).map(parseNet6);
  } catch (e) {
    if (origin !== undefined && e instanceof NetSyntaxError) throw new NetSyntaxError(`${e.message} (${origin})`);
    throw e;
  }
  return { bases: Uint32Array.from(nets, (n) => n.base), masks: Uint32Array.from(nets, (n) => n.mask), v6 };
}

/** Is the IPv6 address (four words) in one of the IPv6 networks? No allocation. */
export function netMatch6(m: NetMatcher, w: Uint32Array): boolean {
  for (let i = 0; i < m.v6.length; i++) if (m.v6[i]!.containsV6(w[0]!, w[1]!, w[2]!, w[3]!)) return true;
  return false;
}

export function netMatch(m: NetMatcher, addr: number): boolean {
  for (let i = 0; i < m.bases.length; i++) if (((addr & m.masks[i]!) >>> 0) === m.bases[i]) return true;
  return false;
}

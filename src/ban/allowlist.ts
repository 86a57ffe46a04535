/**
 * Addresses never banned, and why (the reason goes into `BAN: not banning ADDR (REASON)`):
 *
 * 1. whatever the configuration: unspecified, loopback, multicast, broadcast and
 *    reserved addresses (addr.ts neverBan());
 * 2. the host itself, re-read from the system (system.ts): its own addresses, the
 *    directed broadcasts of its IPv4 networks, its gateways, its resolvers;
 * 3. the configured networks (`--ban-allow`, `ban_allow`) and the home networks
 *    (`--home`, `home`), parsed with ip-num once and compiled to integer ranges.
 *
 * A replay of a capture file has no host facts (attach.ts): 1 and 3 only.
 *
 * Checked only when a source crosses the ban threshold (a few times a minute at most),
 * so a linear scan of a few ranges is plenty; the host's addresses sit in a Set.
 */
import { neverBan, inRange, parseAddr, parseNet, spanOf, covers, type BanAddr, type Range } from './addr';
import type { SystemFacts } from './system';

export class AllowList {
  private nets: { r: Range; why: string }[] = [];
  /** allowed by hand (`iplog bans allow NET`): kept across reloads, persisted by the manager */
  private manual: { r: Range; why: string }[] = [];
  private host = new Map<string, string>();
  /** the host's IPv6 addresses parsed, for prefixes (matchNet) */
  private hostAddrs: { a: BanAddr; why: string }[] = [];
  private signature = '';

  constructor(configured: readonly string[], home: readonly string[] = []) {
    this.configure(configured, home);
  }

  /** Replace the configured networks (a reload); throws on an invalid one, changing nothing. */
  configure(configured: readonly string[], home: readonly string[] = []): void {
    const parse = (t: string): Range => {
      const r = parseNet(t);
      if (r === undefined) throw new Error(`invalid address or network: "${t}"`);
      return r;
    };
    this.nets = [...home.map((t) => ({ r: parse(t), why: `home network ${t}` })), ...configured.map((t) => ({ r: parse(t), why: `allowlisted by ${t}` }))];
  }

  /** Allow `net` by hand (a valid network, manager.ts manualAllow()); a repeat changes nothing. */
  addManual(net: string): void {
    const r = parseNet(net);
    if (r === undefined || this.manual.some((m) => m.r.text === r.text)) return;
    this.manual.push({ r, why: `allowlisted by ${r.text} (iplog bans allow)` });
  }

  removeManual(net: string): void {
    this.manual = this.manual.filter((m) => m.r.text !== net);
  }

  /** Take new facts about the host; true when they differ from the previous ones. */
  update(f: SystemFacts): boolean {
    const sig = [f.own, f.broadcasts, f.gateways, f.nameservers].map((l) => [...l].sort().join(',')).join('|');
    if (sig === this.signature) return false;
    this.signature = sig;
    const m = new Map<string, string>();
    // later entries win: an address that is both ours and a resolver reads "own address"
    for (const a of f.nameservers) m.set(a, 'nameserver');
    for (const a of f.gateways) m.set(a, 'gateway');
    for (const a of f.broadcasts) m.set(a, 'broadcast');
    for (const a of f.own) m.set(a, 'own address');
    this.host = m;
    // for prefixes, the host's own addresses are named first, then its gateways and resolvers
    this.hostAddrs = [];
    for (const t of [...f.own, ...f.gateways, ...f.nameservers]) {
      const a = parseAddr(t);
      if (a !== undefined && a.family === 6) this.hostAddrs.push({ a, why: m.get(t)! });
    }
    return true;
  }

  /** Why `a` must not be banned, or undefined. */
  match(a: BanAddr): string | undefined {
    if (a.len !== undefined) return this.matchNet(a);
    const fixed = neverBan(a);
    if (fixed !== undefined) return fixed;
    const h = this.host.get(a.text);
    if (h !== undefined) return h;
    for (const n of this.nets) if (inRange(a, n.r)) return n.why;
    for (const n of this.manual) if (inRange(a, n.r)) return n.why;
    return undefined;
  }

  /**
   * Why prefix `a` (an IPv6 network, adaptive prefixes) must not be banned: it holds a
   * fixed never-ban range, an address of the host (own, gateway, resolver), or overlaps
   * a configured, home or by-hand network. A prefix ban never covers a protected address.
   */
  private matchNet(a: BanAddr): string | undefined {
    const fixed = neverBan(a);
    if (fixed !== undefined) return fixed;
    for (const h of this.hostAddrs) if (covers(a, h.a)) return `it holds ${h.a.text} (${h.why})`;
    const { lo, hi } = spanOf(a);
    for (const n of [...this.nets, ...this.manual]) {
      if (n.r.family === 6 && n.r.lo <= hi && n.r.hi >= lo) return `it overlaps ${n.r.text} (${n.why})`;
    }
    return undefined;
  }

  /** For the operational log. */
  describe(): { host: Record<string, string>; configured: string[]; byHand: string[] } {
    return { host: Object.fromEntries(this.host), configured: this.nets.map((n) => n.r.text), byHand: this.manual.map((n) => n.r.text) };
  }
}

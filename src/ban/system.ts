/**
 * What the host itself is, for the allowlist that is always on: its own addresses
 * (every interface, IPv4 and IPv6, and the directed broadcast of each IPv4 network),
 * its gateways (every next hop in /proc/net/route and /proc/net/ipv6_route, the default
 * routes included) and its resolvers (`nameserver` lines of /etc/resolv.conf).
 *
 * Reading them costs about 170 µs (and 130 ms with 50,000 routes), so they are cached,
 * never read per event: the manager reads them when it starts, every POLL_SEC of network
 * time, and before a ban (never before a refusal: the budget comes first) when they are
 * older than FACTS_MAX_AGE_MS or a watcher (FactsWatch: `ip -o monitor address route` on
 * Linux, and /etc for resolv.conf) said they changed. So an address that appears (DHCP
 * renewal, a new interface) is protected before its first possible ban.
 * A file that cannot be read contributes nothing and is reported once by the caller; the
 * interfaces always come from os.networkInterfaces().
 *
 * A replay of a capture file reads none of this (attach.ts): its allowlist is only what
 * is configured (`--ban-allow`, `--home`), so a capture gives the same BAN lines on every
 * machine.
 */
import { networkInterfaces, endianness } from 'node:os';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { dotted, formatV6, parseAddr } from './addr';

export interface SystemFacts {
  /** addresses of the host's interfaces (loopback included) */
  readonly own: readonly string[];
  /** directed broadcast addresses of the host's IPv4 networks */
  readonly broadcasts: readonly string[];
  /** next hops of the routing tables */
  readonly gateways: readonly string[];
  /** resolv.conf nameservers */
  readonly nameservers: readonly string[];
  /** files that could not be read (path: reason) */
  readonly problems: readonly string[];
}

/** Provider of the facts; tests pass a fixed one. */
export type SystemProbe = () => SystemFacts;

export const POLL_SEC = 30;
/** before a ban, facts older than this (wall clock) are read again */
export const FACTS_MAX_AGE_MS = 2000;

/** No facts: a replay of a capture file knows only what is configured. */
export const noFacts: SystemProbe = () => ({ own: [], broadcasts: [], gateways: [], nameservers: [], problems: [] });

/**
 * Tells when the host's addresses, routes or resolvers change: `ip -o monitor address
 * route` (netlink, Linux; any output line is a change) and a watch of /etc for
 * resolv.conf. Whatever cannot be started is left out: the bounded age still applies.
 */
export class FactsWatch {
  private child: ChildProcess | null = null;
  private dir: FSWatcher | null = null;

  constructor(onChange: () => void) {
    if (process.platform === 'linux') {
      try {
        const c = spawn('ip', ['-o', 'monitor', 'address', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
        c.on('error', () => (this.child = null));
        c.stdout!.on('data', onChange);
        c.unref();
        (c.stdout as unknown as { unref?: () => void }).unref?.();
        this.child = c;
      } catch {
        this.child = null;
      }
    }
    try {
      this.dir = watch('/etc', { persistent: false }, (_e, name) => {
        if (name === 'resolv.conf') onChange();
      });
      this.dir.on('error', () => undefined);
    } catch {
      this.dir = null;
    }
  }

  close(): void {
    this.child?.kill();
    this.child = null;
    this.dir?.close();
    this.dir = null;
  }
}

/** Gateways of /proc/net/route: the Gateway column is the kernel's in-memory u32, printed in hex. */
export function parseRoute(text: string, littleEndian = endianness() === 'LE'): string[] {
  const out: string[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 3 || !/^[0-9A-Fa-f]{8}$/.test(f[2]!)) continue;
    let n = parseInt(f[2]!, 16) >>> 0;
    if (n === 0) continue;
    if (littleEndian) n = (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24)) >>> 0;
    out.push(dotted(n));
  }
  return out;
}

/** Next hops of /proc/net/ipv6_route (fifth column, 32 hex digits, network order). */
export function parseIpv6Route(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || !/^[0-9a-fA-F]{32}$/.test(f[4]!)) continue;
    const v = BigInt(`0x${f[4]}`);
    if (v !== 0n) out.push(formatV6(v));
  }
  return out;
}

/** `nameserver ADDR` lines of resolv.conf (a zone suffix `%if` is dropped). */
export function parseResolvConf(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    const a = parseAddr(m[1]!.replace(/%.*$/, ''));
    if (a) out.push(a.text);
  }
  return out;
}

function readOr(path: string, problems: string[]): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // no IPv6 routing table on a host without IPv6 is not a problem
    if (!(code === 'ENOENT' && path.includes('ipv6'))) problems.push(`${path}: ${code ?? (e as Error).message}`);
    return '';
  }
}

/** The facts of this host, read now. */
export const readSystemFacts: SystemProbe = () => {
  const own: string[] = [];
  const broadcasts: string[] = [];
  const problems: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) {
      const a = parseAddr(i.address.replace(/%.*$/, ''));
      if (!a) continue;
      own.push(a.text);
      if (a.family === 4) {
        const m = parseAddr(i.netmask);
        if (m && m.v4 !== 0xffffffff && m.v4 !== 0xfffffffe) broadcasts.push(dotted((a.v4 | ~m.v4) >>> 0));
      }
    }
  }
  const gateways = [...parseRoute(readOr('/proc/net/route', problems)), ...parseIpv6Route(readOr('/proc/net/ipv6_route', problems))];
  const nameservers = parseResolvConf(readOr('/etc/resolv.conf', problems));
  return { own, broadcasts, gateways, nameservers, problems };
};

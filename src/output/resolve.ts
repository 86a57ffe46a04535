/**
 * Reverse DNS for host rendering (spec §3.2 `host_lookup()`, §5.3 `iplog_dns.c`), off the packet
 * path: `renderSync()` answers what needs no I/O, `render()` answers after at most one PTR query.
 *
 * Order of answers for an address, as glibc's `gethostbyaddr_r` ("hosts: files dns"):
 * 1. /etc/hosts, parsed once (hosts-file.ts): the first name of the first matching line.
 * 2. Loopback (127.0.0.0/8), "this network" (0.0.0.0/8), multicast and reserved
 *    (224.0.0.0/3) addresses not in /etc/hosts: a local miss, rendered as the dotted quad and
 *    never sent to DNS. DELIBERATE DIFFERENCE: glibc would send a PTR query for, say,
 *    127.0.0.3 or the byte-swapped mask 0.255.255.255. RFC 6761 §6.3 says loopback queries
 *    should be answered locally, the others have no meaningful PTR, and it keeps replays of
 *    loopback captures (the conformance set) off the network. Not cached.
 * 3. With the cache on (`-c`/dns_cache): the cached text (including any ` (a.b.c.d)` suffix).
 * 4. One PTR query with `dns.promises.Resolver` (`timeout`, `tries: 1`, explicit `servers`;
 *    never `dns.lookupService`, which stalls 10 s per call with no knob, see dependencies.md).
 *    `resolvePtr` rather than `reverse`: it does not read /etc/hosts itself (c-ares would return
 *    the aliases there) and its errors tell a timeout (ETIMEOUT) from a negative answer.
 *    With c-ares 1.34 a never-answering server fails after about 2 × `timeoutMs`.
 *    An empty `servers` list means no DNS at all: every lookup fails locally (dotted quad).
 *
 * What is printed, exactly as iplog 2.2.3 (`host_lookup()`, `add_to_cache()`):
 * - a failed lookup, a name of 256 characters or more, or a rejected name → `a.b.c.d`;
 * - log_ip off → the name;
 * - log_ip on → `name (a.b.c.d)`, except when the text ends in a digit (`host1`, or a dotted
 *   quad after a failure): then the text alone. This rule applies with and without the cache.
 *   iplog adds the suffix only when it fits its 256-byte buffer: names of at most 235
 *   characters without the cache, at most 236 with it; longer names print the dotted quad.
 *   DELIBERATE DIFFERENCE: with the cache, iplog stores the over-long `name (a.b.c.d)` anyway
 *   and later hits print it cut to 255 characters, which can cut the address mid-way; here the
 *   dotted quad is printed (and cached) every time.
 *
 * Names are attacker-controlled (whoever runs the reverse zone chooses them). A PTR answer is
 * used only if it is a plausible host name (`sanitiseHostName()`); anything else is shown as the
 * dotted quad and counted in `stats.sanitised`. /etc/hosts names are the administrator's and
 * are used as glibc returns them.
 *
 * The cache (`cache: true`), as `iplog_dns.c`: 128 buckets (256 with `promisc`) of at most 4
 * entries, bucket = (3rd octet + 4th octet) & (buckets − 1) (the little-endian `DNS_HASH`).
 * An entry lives 3600 s of network time from insertion (the `now` of the render that started
 * the lookup) and is not refreshed by hits: a hit at +3599 s, a new lookup at +3600 s. Failed
 * lookups (timeouts, NXDOMAIN, rejected names) are cached as the dotted quad for the same time.
 * A full bucket first drops expired entries, then the entry with the earliest expiry (the oldest
 * insertion among equals). /etc/hosts and loopback answers are not stored: they cost nothing to
 * recompute (iplog stored them, which only made DNS entries leave their bucket earlier).
 * Without the cache every render that reaches step 4 sends a fresh query.
 *
 * IPv6 (addresses given as RFC 5952 text): the same steps, cache, timeout and sanitising.
 * /etc/hosts: the first IPv6 line with the address. Never sent to DNS: ::, ::1, fe80::/10,
 * ff00::/8 and addresses whose first 80 bits are zero (IPv4-mapped and -compatible). The PTR
 * query is for the ip6.arpa name (RFC 3596: 32 nibbles, least significant first). The cache
 * bucket is the IPv4 hash on the last two bytes. Printed: the name, `name (2001:db8::1)` with
 * log_ip (always: the "ends in a digit" quirk stays IPv4's), the address on failure. A name
 * made only of numeric labels is always refused for an IPv6 address.
 *
 * Concurrency bounds: at most `maxInflight` queries at once (default 64); further lookups wait
 * in a FIFO of at most `maxQueue` (default 1024); when that is full the render answers the
 * dotted quad at once, caches nothing and counts `stats.dropped`. Renders of an address whose
 * lookup is already queued or in flight share its promise (`stats.coalesced`).
 */
import { promises as dnsPromises } from 'node:dns';
import { readFileSync } from 'node:fs';
import { dottedQuad, type HostAddr, type HostRenderer } from './resolve-api';
import { parseHosts, parseIPv6 } from './hosts-file';
import type { Settings } from '../config/settings';

export interface ReverseResolverOptions {
  /** `-w`/log_ip: print `name (a.b.c.d)`. */
  logIp: boolean;
  /** `-c`/dns_cache: keep answers for 3600 s of network time. */
  cache: boolean;
  /** Text of the hosts file; default: /etc/hosts read once (missing file = empty). */
  hostsText?: string;
  /** Name servers, `addr` or `addr:port`. Empty = no DNS queries at all. */
  servers: readonly string[];
  /** Per-query timeout handed to c-ares (milliseconds). */
  timeoutMs: number;
  /** Queries in flight at once (default 64). */
  maxInflight?: number;
  /** Lookups waiting for a free slot (default 1024). */
  maxQueue?: number;
  /** `-a`/promiscuous mode: 256 cache buckets instead of 128. */
  promisc?: boolean;
}

/** Counters, cumulative since construction. */
export interface ResolveStats {
  /** PTR queries sent. */
  lookups: number;
  /** Renders answered from the cache. */
  cacheHits: number;
  /** Renders answered from /etc/hosts. */
  hostsHits: number;
  /** Loopback renders answered locally as a miss. */
  loopback: number;
  /** Renders that joined a lookup already queued or in flight. */
  coalesced: number;
  /** Queries that got no answer in time. */
  timeouts: number;
  /** Queries answered negatively or failed otherwise (NXDOMAIN, SERVFAIL, refused, no servers). */
  failures: number;
  /** Answers rejected as invalid host names. */
  sanitised: number;
  /** Lookups refused because the queue was full. */
  dropped: number;
  /** Cache entries dropped from a full bucket before their time. */
  evictions: number;
}

/** iplog.h MAX_HSTLEN: names this long or longer print the dotted quad. */
export const MAX_HOST_LEN = 256;
/** iplog_dns.h DNS_TIMEOUT: cache entry lifetime in seconds of network time. */
export const DNS_TTL_SEC = 3600;
/** iplog_dns.h DNS_MAXSIZE_N / DNS_MAXSIZE_P: cache buckets (powers of two). */
export const DNS_BUCKETS = 128;
export const DNS_BUCKETS_PROMISC = 256;
/** iplog_dns.h DNS_MAX_ENT: entries per bucket. */
export const DNS_BUCKET_ENTRIES = 4;
export const DEFAULT_MAX_INFLIGHT = 64;
export const DEFAULT_MAX_QUEUE = 1024;
/** RFC 1035 §2.3.4: 255 octets on the wire, 253 characters in text form without the root dot. */
export const MAX_DNS_NAME_LEN = 253;

const HOSTS_PATH = '/etc/hosts';

/**
 * iplog's DNS_HASH on a little-endian host: (3rd octet + 4th octet) & (buckets − 1). For an
 * IPv6 address, the same on its last two bytes.
 */
export function dnsBucket(addr: HostAddr, buckets: number): number {
  if (typeof addr === 'string') {
    const b = parseIPv6(addr);
    return b === undefined ? 0 : (b[14]! + b[15]!) & (buckets - 1);
  }
  return (((addr >>> 8) & 0xff) + (addr & 0xff)) & (buckets - 1);
}

/** The address as printed: dotted quad, or the IPv6 text itself. */
function addrText(addr: HostAddr): string {
  return typeof addr === 'string' ? addr : dottedQuad(addr);
}

/**
 * IPv6 addresses never sent to DNS (the IPv4 rule's counterpart): unspecified (::),
 * loopback (::1), link-local (fe80::/10), multicast (ff00::/8), IPv4-mapped (::ffff:0:0/96)
 * and the other addresses whose first 80 bits are zero. RFC 6761/6762: no meaningful PTR
 * in the global DNS, and link-local queries would leak which hosts talk on the link.
 */
export function ipv6IsLocal(text: string): boolean {
  const b = parseIPv6(text);
  if (b === undefined) return true;
  if (b[0] === 0xff) return true;
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return true;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return true;
}

/** A DNS label: letters, digits, hyphens (not first or last), underscore tolerated, 1–63 chars. */
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
/** A label an address parser (inet_aton) would read as a number. */
const NUMERIC_LABEL = /^(?:[0-9]+|0[xX][0-9A-Fa-f]*)$/;

/**
 * The name to print for a PTR answer, or undefined when the answer must not be shown.
 * Accepted: RFC 1123 host names (labels of letters, digits and inner hyphens; underscores
 * tolerated as many real zones use them), at most 253 characters, one trailing root dot
 * dropped (as glibc does). Rejected: anything else, including c-ares escapes (`\032`, `\.`),
 * spaces, control characters, and names made only of numeric labels (they read as an
 * address) unless they are exactly this address's dotted quad.
 */
export function sanitiseHostName(raw: string, addr: HostAddr): string | undefined {
  const name = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  if (name.length === 0 || name.length > MAX_DNS_NAME_LEN) return undefined;
  const labels = name.split('.');
  let allNumeric = true;
  for (const label of labels) {
    if (!LABEL.test(label)) return undefined;
    if (allNumeric && !NUMERIC_LABEL.test(label)) allNumeric = false;
  }
  if (allNumeric && (typeof addr === 'string' || name !== dottedQuad(addr))) return undefined;
  return name;
}

/**
 * The text iplog prints for `addr` given the lookup result `name` (undefined = failure), with
 * log_ip on or off, through the cache path (`add_to_cache()`) or not (`host_lookup()`).
 */
export function hostText(name: string | undefined, addr: HostAddr, logIp: boolean, cached: boolean): string {
  if (typeof addr === 'string') return hostText6(name, addr, logIp);
  const dq = dottedQuad(addr);
  const base = name !== undefined && name.length > 0 && name.length < MAX_HOST_LEN ? name : dq;
  if (!logIp) return base;
  const last = base.charCodeAt(base.length - 1);
  if (last >= 0x30 && last <= 0x39) return base;
  // `name (a.b.c.d)` must fit iplog's 256-byte buffer with room for MAX_IPLEN + 4; the two C
  // paths test it with `<=` (cache) and `<` (no cache). See the file comment for the cut text.
  const need = base.length + 16 + 4;
  const fits = cached ? need <= MAX_HOST_LEN : need < MAX_HOST_LEN;
  return fits ? `${base} (${dq})` : dq;
}

/**
 * The same for an IPv6 address, which the original never printed: the name, or with log_ip
 * always `name (2001:db8::1)` (iplog's "ends in a digit" quirk is kept for IPv4 only); the
 * address when the lookup failed or the whole text would not fit iplog's 256-byte host
 * buffer.
 */
function hostText6(name: string | undefined, addr: string, logIp: boolean): string {
  if (name === undefined || name.length === 0 || name.length >= MAX_HOST_LEN) return addr;
  if (!logIp) return name;
  return name.length + addr.length + 3 < MAX_HOST_LEN ? `${name} (${addr})` : addr;
}

interface CacheEntry {
  readonly addr: HostAddr;
  readonly text: string;
  /** Network time (s) at which the entry stops answering. */
  readonly expire: number;
}

/** The bounded cache of `iplog_dns.c` (see the file comment). */
class DnsCache {
  private readonly buckets: CacheEntry[][];
  private readonly size: number;

  constructor(size: number) {
    this.size = size;
    this.buckets = Array.from({ length: size }, () => []);
  }

  get(addr: HostAddr, now: number): string | undefined {
    const bucket = this.buckets[dnsBucket(addr, this.size)];
    for (let i = 0; i < bucket.length; i++) {
      const e = bucket[i];
      if (e.addr !== addr) continue;
      if (now < e.expire) return e.text;
      // iplog's 1 s expiry sweep would have removed it by now.
      bucket.splice(i, 1);
      return undefined;
    }
    return undefined;
  }

  /** Insert; returns true when a live entry had to be evicted to make room. */
  set(addr: HostAddr, text: string, now: number): boolean {
    const bucket = this.buckets[dnsBucket(addr, this.size)];
    for (let i = bucket.length - 1; i >= 0; i--) {
      if (bucket[i].addr === addr || now >= bucket[i].expire) bucket.splice(i, 1);
    }
    let evicted = false;
    if (bucket.length >= DNS_BUCKET_ENTRIES) {
      // Earliest expiry goes; among equals the oldest insertion (iplog scans newest-first
      // with `<=`, so the last minimum it meets is the oldest).
      let victim = 0;
      for (let i = 1; i < bucket.length; i++) if (bucket[i].expire < bucket[victim].expire) victim = i;
      bucket.splice(victim, 1);
      evicted = true;
    }
    bucket.push({ addr, text, expire: now + DNS_TTL_SEC });
    return evicted;
  }

  entries(): number {
    let n = 0;
    for (const b of this.buckets) n += b.length;
    return n;
  }
}

interface Job {
  readonly addr: HostAddr;
  readonly now: number;
  readonly promise: Promise<string>;
  readonly resolve: (text: string) => void;
}

function arpaName(addr: HostAddr): string {
  if (typeof addr === 'string') {
    // RFC 3596 §2.5: the 32 nibbles, least significant first, under ip6.arpa
    const b = parseIPv6(addr) ?? new Uint8Array(16);
    let out = '';
    for (let i = 15; i >= 0; i--) out += `${(b[i]! & 15).toString(16)}.${(b[i]! >> 4).toString(16)}.`;
    return `${out}ip6.arpa`;
  }
  return `${addr & 255}.${(addr >>> 8) & 255}.${(addr >>> 16) & 255}.${addr >>> 24}.in-addr.arpa`;
}

export class ReverseResolver implements HostRenderer {
  readonly stats: ResolveStats = {
    lookups: 0,
    cacheHits: 0,
    hostsHits: 0,
    loopback: 0,
    coalesced: 0,
    timeouts: 0,
    failures: 0,
    sanitised: 0,
    dropped: 0,
    evictions: 0,
  };

  private readonly logIp: boolean;
  private readonly cache: DnsCache | undefined;
  /** Final text per /etc/hosts address (IPv4 number or IPv6 text), computed once. */
  private readonly hosts = new Map<HostAddr, string>();
  private readonly resolver: dnsPromises.Resolver | undefined;
  private readonly maxInflight: number;
  private readonly maxQueue: number;
  private readonly pending = new Map<HostAddr, Job>();
  private queue: Job[] = [];
  private queueHead = 0;
  private active = 0;
  private closed = false;

  constructor(opts: ReverseResolverOptions) {
    this.logIp = opts.logIp;
    this.cache = opts.cache ? new DnsCache(opts.promisc === true ? DNS_BUCKETS_PROMISC : DNS_BUCKETS) : undefined;
    this.maxInflight = Math.max(1, Math.floor(opts.maxInflight ?? DEFAULT_MAX_INFLIGHT));
    this.maxQueue = Math.max(0, Math.floor(opts.maxQueue ?? DEFAULT_MAX_QUEUE));

    const hostsText = opts.hostsText ?? readHostsFile();
    const table = parseHosts(hostsText);
    for (const [addr, name] of table.byAddr) this.hosts.set(addr, hostText(name, addr, this.logIp, opts.cache));
    for (const [addr, name] of table.byAddr6) this.hosts.set(addr, hostText(name, addr, this.logIp, opts.cache));

    if (opts.servers.length > 0) {
      const r = new dnsPromises.Resolver({ timeout: Math.max(1, Math.floor(opts.timeoutMs)), tries: 1 });
      // Set before any query: the servers from /etc/resolv.conf are never used.
      r.setServers([...opts.servers]);
      this.resolver = r;
    }
  }

  renderSync(addr: HostAddr, now: number): string | undefined {
    const a = typeof addr === 'string' ? addr : addr >>> 0;
    const fromHosts = this.hosts.get(a);
    if (fromHosts !== undefined) {
      this.stats.hostsHits++;
      return fromHosts;
    }
    if (typeof a === 'string') {
      if (ipv6IsLocal(a)) {
        this.stats.loopback++;
        return a;
      }
    } else {
      const top = a >>> 24;
      if (top === 127 || top === 0 || top >= 224) {
        this.stats.loopback++;
        return dottedQuad(a);
      }
    }
    if (this.cache !== undefined) {
      const hit = this.cache.get(a, now);
      if (hit !== undefined) {
        this.stats.cacheHits++;
        return hit;
      }
    }
    return undefined;
  }

  render(addr: HostAddr, now: number): Promise<string> {
    const a = typeof addr === 'string' ? addr : addr >>> 0;
    const local = this.renderSync(a, now);
    if (local !== undefined) return Promise.resolve(local);

    const pending = this.pending.get(a);
    if (pending !== undefined) {
      this.stats.coalesced++;
      return pending.promise;
    }
    if (this.closed) return Promise.resolve(addrText(a));
    if (this.resolver === undefined) {
      // No name servers configured: a failed lookup, as gethostbyaddr would report.
      this.stats.failures++;
      return Promise.resolve(this.store(a, now, undefined));
    }
    if (this.active >= this.maxInflight && this.queue.length - this.queueHead >= this.maxQueue) {
      this.stats.dropped++;
      return Promise.resolve(addrText(a));
    }

    let resolve!: (text: string) => void;
    const promise = new Promise<string>((r) => {
      resolve = r;
    });
    const job: Job = { addr: a, now, promise, resolve };
    this.pending.set(a, job);
    if (this.active < this.maxInflight) this.start(job);
    else this.queue.push(job);
    return promise;
  }

  /** Entries currently held by the cache (0 without the cache). */
  cacheEntries(): number {
    return this.cache === undefined ? 0 : this.cache.entries();
  }

  /** The name servers queries go to (`addr` or `addr:port`); empty when DNS is off. */
  servers(): string[] {
    return this.resolver === undefined ? [] : this.resolver.getServers();
  }

  /** Lookups queued or in flight. */
  pendingLookups(): number {
    return this.pending.size;
  }

  /**
   * Stop: cancel queries in flight and answer every pending render with the dotted quad
   * (nothing is cached). Later renders still use /etc/hosts and the cache but send nothing.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const waiting = this.queue.slice(this.queueHead);
    this.queue = [];
    this.queueHead = 0;
    for (const job of waiting) this.finish(job, addrText(job.addr));
    this.resolver?.cancel();
  }

  private start(job: Job): void {
    const resolver = this.resolver;
    if (resolver === undefined) return;
    this.active++;
    this.stats.lookups++;
    resolver.resolvePtr(arpaName(job.addr)).then(
      (names) => {
        this.active--;
        let name: string | undefined;
        if (names.length === 0) {
          this.stats.failures++;
        } else {
          // gethostbyaddr's h_name is the first PTR record.
          name = sanitiseHostName(names[0], job.addr);
          if (name === undefined) this.stats.sanitised++;
        }
        this.finish(job, this.store(job.addr, job.now, name));
      },
      (err: unknown) => {
        this.active--;
        const code = (err as { code?: unknown } | null)?.code;
        if (code === 'ECANCELLED' || this.closed) {
          this.finish(job, addrText(job.addr));
          return;
        }
        if (code === 'ETIMEOUT') this.stats.timeouts++;
        else this.stats.failures++;
        // Negative caching: a failure is remembered as the dotted quad, like a name.
        this.finish(job, this.store(job.addr, job.now, undefined));
      },
    );
  }

  /** The text for a finished lookup, inserted into the cache when it is on. */
  private store(addr: HostAddr, now: number, name: string | undefined): string {
    const text = hostText(name, addr, this.logIp, this.cache !== undefined);
    if (this.cache !== undefined && !this.closed) {
      if (this.cache.set(addr, text, now)) this.stats.evictions++;
    }
    return text;
  }

  private finish(job: Job, text: string): void {
    this.pending.delete(job.addr);
    job.resolve(text);
    this.pump();
  }

  /** Start queued lookups while slots are free. */
  private pump(): void {
    while (!this.closed && this.active < this.maxInflight && this.queueHead < this.queue.length) {
      const next = this.queue[this.queueHead++];
      this.start(next);
    }
    if (this.queueHead > 0 && this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }
}

function readHostsFile(): string {
  try {
    return readFileSync(HOSTS_PATH, 'latin1');
  } catch {
    return '';
  }
}

/**
 * The renderer for a run, from the resolved settings (`-c`, `-w`, `-a`, `--dns-server`,
 * `--dns-timeout`). Name servers: `--dns-server` when given, otherwise the system's
 * (/etc/resolv.conf, as read by Node at start-up), in live mode and in replay alike (the
 * resolver is on by default, as in iplog). A replay that must not send queries uses -N or
 * names a server; tests do one or the other, or use only the locally answered ranges.
 */
export function createRenderer(s: Settings): ReverseResolver {
  const servers = s.dnsServers ?? dnsPromises.getServers();
  return new ReverseResolver({
    logIp: s.flags.log_ip,
    cache: s.flags.dns_cache,
    promisc: s.flags.promisc,
    servers,
    timeoutMs: s.dnsTimeoutMs,
  });
}

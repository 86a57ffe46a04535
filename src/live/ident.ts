/**
 * `-e` ident lookups (spec §4.11, iplog_ident.c; RFC 1413): for a SYN to a port that has
 * a listening socket here, ask the connecting host's identd who owns the connection, and
 * log `TCP: <svc> connection attempt from <user>@S:<sport>` when it answers (else the
 * plain line). As in 2.2.3 the line is written when the lookup ends, so it can come after
 * lines of later packets.
 *
 * Listening test. 2.2.3 read /proc/net/tcp (IPv4 only) for every SYN and believed the
 * *first* socket with that local port, so a TIME_WAIT connection listed before the
 * listener hid it. Fixed (every profile): /proc/net/tcp and /proc/net/tcp6 are read in
 * the background once per second (never on the packet path), and a port counts as
 * listening if *any* socket in LISTEN state has that local port and a local address that
 * accepts the packet: the wildcard (0.0.0.0, ::), the packet's destination, or its
 * IPv4-mapped IPv6 form.
 *
 * Lookup. 2.2.3 used one thread per lookup with a blocking connect() (no timeout), one
 * recv() and a 64-byte user buffer it could overrun by one. Fixed: a non-blocking
 * connection with a deadline for the whole exchange (IDENT_TIMEOUT_MS), at most
 * IDENT_MAX_CONCURRENT lookups at once (beyond that the plain line is logged at once, as
 * for a failed lookup), at most IDENT_MAX_RESPONSE bytes read, the user name cut at 64
 * characters as 2.2.3's sscanf("%64s") did, and control characters in it replaced by `?`.
 * SYNs to port 113 itself are not looked up: on loopback, where iplog sees its own
 * traffic, each lookup would start the next one.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { endianness } from 'node:os';
import { dottedQuad } from '../output/resolve-api';
import { logConnection, type IdentHook } from '../detect/tcp';
import type { Engine } from '../pipeline';

export const IDENT_PORT = 113;
export const IDENT_TIMEOUT_MS = 10_000;
export const IDENT_MAX_CONCURRENT = 32;
/** RFC 1413: responses are at most 1000 characters */
export const IDENT_MAX_RESPONSE = 1024;
export const IDENT_USER_MAX = 64;
/** How often the listening sockets are read again, in milliseconds. */
export const LISTEN_REFRESH_MS = 1000;

const TCP_LISTEN = 0x0a;

/** Ports with a LISTEN socket: on any address, and on particular IPv4 addresses. */
export interface ListeningSet {
  any: Set<number>;
  /** port * 2^32 + host-order IPv4 address */
  addr: Set<number>;
}

/** One 32-bit word of /proc/net/tcp: the kernel prints the raw (network-order) word in host order. */
function procWord(hex: string, littleEndian: boolean): number {
  const v = parseInt(hex, 16) >>> 0;
  if (!littleEndian) return v;
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/**
 * Parse /proc/net/tcp or /proc/net/tcp6 text into `into`. Lines look like
 * `  0: 0100007F:0016 00000000:0000 0A ...` (tcp6: 32 hex digits of address).
 */
export function parseProcNetTcp(text: string, into: ListeningSet, littleEndian = endianness() === 'LE'): void {
  for (const line of text.split('\n')) {
    const m = /^\s*\d+:\s+([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})\s+[0-9A-Fa-f:]+\s+([0-9A-Fa-f]{2})\s/.exec(line);
    if (m === null || parseInt(m[3]!, 16) !== TCP_LISTEN) continue;
    const port = parseInt(m[2]!, 16);
    const hex = m[1]!;
    if (hex.length === 8) {
      const a = procWord(hex, littleEndian);
      if (a === 0) into.any.add(port);
      else into.addr.add(port * 2 ** 32 + a);
      continue;
    }
    const w = [0, 8, 16, 24].map((i) => procWord(hex.slice(i, i + 8), littleEndian));
    if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0) into.any.add(port);
    else if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) into.addr.add(port * 2 ** 32 + w[3]!);
    // other IPv6 addresses cannot receive the IPv4 packets iplog sees
  }
}

export function isListening(set: ListeningSet, port: number, dst: number): boolean {
  return set.any.has(port) || set.addr.has(port * 2 ** 32 + (dst >>> 0));
}

/**
 * The user name in an RFC 1413 reply `<sport> , <dport> : USERID : <os> :<user>`, as
 * 2.2.3's sscanf("%*u , %*u : USERID :%*[^:]:%64s") read it (the first word after the
 * third colon, at most 64 characters), or undefined.
 */
export function parseIdentReply(reply: string): string | undefined {
  const m = /^\s*[+-]?\d+\s*,\s*[+-]?\d+\s*:\s*USERID\s*:[^:]+:\s*(\S+)/.exec(reply);
  if (m === null) return undefined;
  // eslint-disable-next-line no-control-regex
  return m[1]!.slice(0, IDENT_USER_MAX).replace(/[\x00-\x1f\x7f]/g, '?');
}

export interface IdentOptions {
  port?: number;
  timeoutMs?: number;
  maxConcurrent?: number;
  refreshMs?: number;
  /** the tables to read; default /proc/net/tcp and /proc/net/tcp6 */
  tables?: string[];
}

export interface IdentStats {
  started: number;
  answered: number;
  failed: number;
  /** not started: IDENT_MAX_CONCURRENT already running */
  overflow: number;
}

/** Called when a lookup ends: the user name, or undefined (no answer, refused, timeout, garbage). */
export type IdentDone = (user: string | undefined) => void;

/** The ident service of a live run (one per process; it outlives SIGHUP restarts). */
export class IdentService {
  readonly stats: IdentStats = { started: 0, answered: 0, failed: 0, overflow: 0 };
  private listening: ListeningSet = { any: new Set(), addr: new Set() };
  private readonly timer: NodeJS.Timeout;
  private refreshing = false;
  private closed = false;
  private readonly running = new Set<Socket>();
  /** the identd port asked (113) */
  readonly port: number;
  private readonly timeoutMs: number;
  private readonly maxConcurrent: number;
  private readonly tables: string[];

  constructor(o: IdentOptions = {}) {
    this.port = o.port ?? IDENT_PORT;
    this.timeoutMs = o.timeoutMs ?? IDENT_TIMEOUT_MS;
    this.maxConcurrent = o.maxConcurrent ?? IDENT_MAX_CONCURRENT;
    this.tables = o.tables ?? ['/proc/net/tcp', '/proc/net/tcp6'];
    // first read synchronously (start-up), then in the background
    const set: ListeningSet = { any: new Set(), addr: new Set() };
    for (const t of this.tables) {
      try {
        parseProcNetTcp(readFileSync(t, 'latin1'), set);
      } catch {
        /* no IPv6, or not Linux: nothing listens there */
      }
    }
    this.listening = set;
    this.timer = setInterval(() => void this.refresh(), o.refreshMs ?? LISTEN_REFRESH_MS);
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    const set: ListeningSet = { any: new Set(), addr: new Set() };
    for (const t of this.tables) {
      try {
        parseProcNetTcp(await readFile(t, 'latin1'), set);
      } catch {
        /* as above */
      }
    }
    this.listening = set;
    this.refreshing = false;
  }

  /** Is local TCP port `port` listening for packets to `dst` (host-order IPv4)? */
  listens(port: number, dst: number): boolean {
    return isListening(this.listening, port, dst);
  }

  /**
   * Ask `src`'s identd about the connection sport → dport. `done` is called exactly once,
   * asynchronously, unless the concurrency bound is reached: then this returns false at
   * once and the caller logs the plain line itself.
   */
  lookup(src: number, sport: number, dport: number, done: IdentDone): boolean {
    if (this.running.size >= this.maxConcurrent) {
      this.stats.overflow++;
      return false;
    }
    this.stats.started++;
    const sock = connect({ host: dottedQuad(src >>> 0), port: this.port });
    this.running.add(sock);
    let reply = '';
    let finished = false;
    const finish = (user: string | undefined): void => {
      if (finished) return;
      finished = true;
      if (this.closed) return;
      clearTimeout(deadline);
      this.running.delete(sock);
      sock.destroy();
      if (user !== undefined) this.stats.answered++;
      else this.stats.failed++;
      done(user);
    };
    const deadline = setTimeout(() => finish(undefined), this.timeoutMs);
    deadline.unref();
    sock.setEncoding('latin1');
    sock.on('connect', () => sock.write(`${sport} , ${dport}\r\n`));
    sock.on('data', (chunk: string) => {
      reply += chunk;
      const nl = reply.indexOf('\n');
      if (nl >= 0 || reply.length >= IDENT_MAX_RESPONSE) finish(parseIdentReply(reply.slice(0, nl >= 0 ? nl : IDENT_MAX_RESPONSE)));
    });
    sock.on('end', () => finish(parseIdentReply(reply)));
    sock.on('error', () => finish(undefined));
    sock.on('close', () => finish(parseIdentReply(reply)));
    return true;
  }

  /** Lookups in flight. */
  inFlight(): number {
    return this.running.size;
  }

  /** Stop refreshing and abandon the lookups in flight (their `done` is not called). */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    for (const s of this.running) s.destroy();
    this.running.clear();
  }
}

/**
 * The engine's -e hook over an IdentService. The line of a lookup goes to the engine
 * that is current when the lookup ends (a SIGHUP restart replaces the engine), stamped
 * with the clock of that moment, as 2.2.3 logged it from the lookup thread.
 */
export class IdentHookImpl implements IdentHook {
  constructor(
    private readonly service: IdentService,
    private readonly engine: () => Engine,
    private readonly clock: () => number,
  ) {}

  listens(dport: number, dst: number): boolean {
    return this.service.listens(dport, dst);
  }

  lookup(src: number, dst: number, sport: number, dport: number, rawFlags: number): boolean {
    // never about connections to an identd here: on loopback our own lookups would be
    // captured and looked up in turn, for ever
    if (dport === this.service.port) return false;
    return this.service.lookup(src, sport, dport, (user) => {
      const e = this.engine();
      logConnection(e.ctx, src, dst, sport, dport, rawFlags, Math.max(e.now, this.clock()), user);
    });
  }
}

/**
 * The ban control socket: how `iplog bans list|show|add|del|allow` (src/cli/bans.ts) talks
 * to the running sensor. A UNIX stream socket beside the pid file (`/run/iplog/iplog.pid`
 * → `/run/iplog/iplog.sock`), opened only by the live sensor with banning on (a replay
 * opens none), and never anything on the network: no TCP, no UDP.
 *
 * Who may use it is the file's mode, which the kernel checks at connect(2): 0600 and
 * owned by the user iplog starts as (root), or 0660 with group `--control-group GROUP`.
 * The socket is created with a umask that gives it those bits from the start, then
 * chmod/chown'ed; anything else at that path that is not a socket is left alone (and no
 * control socket is opened). The socket is created before `-u`/`-g` drop root, so it stays
 * root's.
 *
 * Protocol: one JSON request per connection, one line (at most MAX_REQUEST bytes):
 *   {"cmd":"list"} | {"cmd":"show","addr":A} | {"cmd":"add","addr":A,"seconds":N?}
 *   {"cmd":"del","addr":A} | {"cmd":"allow","net":N} | {"cmd":"allow","net":N,"remove":true}
 * and one JSON line back, `{"ok":true,...}` or `{"ok":false,"error":TEXT}`; then the
 * daemon closes the connection. A client that sends nothing is dropped after IDLE_MS; at
 * most MAX_CLIENTS at once. Every action is logged in the operational log.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, chownSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../log';
import { ERR } from '../errors';
import { parseAddr, parseTarget, type BanAddr } from './addr';
import type { BanManager } from './manager';

export const MAX_REQUEST = 4096;
export const IDLE_MS = 5000;
export const MAX_CLIENTS = 16;
/** the longest `add --for` (as parseDuration allows) */
export const MAX_MANUAL_SEC = 365 * 86400;

/** The control socket that goes with a pid file: `x.pid` → `x.sock`, else `x.sock` appended. */
export function controlPathFor(pidFile: string): string {
  const base = basename(pidFile);
  return join(dirname(pidFile), `${base.endsWith('.pid') ? base.slice(0, -4) : base}.sock`);
}

/** A group name or number → gid (getgrnam through setegid, as privileges.ts does for users; else /etc/group). */
export function groupId(g: string): number | undefined {
  if (/^\d+$/.test(g)) return Number(g);
  if (typeof process.getegid === 'function' && typeof process.setegid === 'function') {
    const saved = process.getegid();
    try {
      process.setegid(g);
      return process.getegid();
    } catch {
      /* not root, or unknown: /etc/group below */
    } finally {
      try {
        process.setegid(saved);
      } catch {
        /* unchanged */
      }
    }
  }
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === g && /^\d+$/.test(f[2] ?? '')) return Number(f[2]);
    }
  } catch {
    /* no /etc/group */
  }
  return undefined;
}

export type Request =
  | { cmd: 'list' }
  | { cmd: 'show'; addr: string }
  | { cmd: 'add'; addr: string; seconds?: number }
  | { cmd: 'del'; addr: string }
  | { cmd: 'allow'; net: string; remove?: boolean };

export type Reply = { ok: true; [k: string]: unknown } | { ok: false; error: string };

/** Carry out one request on the manager (also the unit tests' entry point). */
export function handleRequest(m: BanManager, req: unknown, wall: number): Reply {
  const r = (typeof req === 'object' && req !== null ? req : {}) as Record<string, unknown>;
  // show and del take an IPv6 prefix too (adaptive prefixes); add takes an address
  const addrOf = (prefixOk = true): BanAddr | string => {
    if (typeof r.addr !== 'string') return 'an address is needed';
    return (prefixOk ? parseTarget(r.addr) : parseAddr(r.addr)) ?? `invalid ${prefixOk ? 'address or IPv6 prefix' : 'address'}: "${r.addr.slice(0, 100)}"`;
  };
  switch (r.cmd) {
    case 'list': {
      const now = Math.max(m.networkTime, wall);
      return {
        ok: true,
        now,
        backend: m.backendName,
        bans: m.list().map((b) => ({ addr: b.addr.text, family: b.addr.family, ...(b.addr.len !== undefined ? { prefix: b.addr.len } : {}), since: b.since, until: b.until, left: Math.max(0, Math.ceil(b.until - now)), offence: b.offence, reason: b.reason })),
        allowed: m.manualAllowList(),
        lifted: m.liftedList(),
      };
    }
    case 'show': {
      const a = addrOf();
      if (typeof a === 'string') return { ok: false, error: a };
      return { ok: true, ...m.explainAddr(a) };
    }
    case 'add': {
      const a = addrOf(false);
      if (typeof a === 'string') return { ok: false, error: a };
      let seconds: number | undefined;
      if (r.seconds !== undefined) {
        if (typeof r.seconds !== 'number' || !Number.isInteger(r.seconds) || r.seconds < 1 || r.seconds > MAX_MANUAL_SEC) return { ok: false, error: `invalid duration: ${String(r.seconds)} (1 s to 365 d)` };
        seconds = r.seconds;
      }
      const x = m.manualBan(a, seconds, wall);
      if ('refused' in x) return { ok: false, error: `not banning ${a.text} (${x.refused})` };
      const b = x.ban;
      return { ok: true, addr: b.addr.text, since: b.since, until: b.until, seconds: Math.round(b.until - b.since), offence: b.offence, reason: b.reason };
    }
    case 'del': {
      const a = addrOf();
      if (typeof a === 'string') return { ok: false, error: a };
      const b = m.manualLift(a, wall);
      return { ok: true, addr: a.text, wasBanned: b !== undefined };
    }
    case 'allow': {
      if (typeof r.net !== 'string') return { ok: false, error: 'a network is needed' };
      if (r.remove === true) {
        return m.manualDisallow(r.net) ? { ok: true, net: r.net, removed: true } : { ok: false, error: `${r.net.slice(0, 100)} is not allowed by hand (networks of --ban-allow and iplog.conf change there)` };
      }
      const x = m.manualAllow(r.net, wall);
      if ('error' in x) return { ok: false, error: x.error };
      return { ok: true, net: r.net, lifted: x.lifted };
    }
    default:
      return { ok: false, error: `unknown command: ${JSON.stringify(r.cmd ?? null)?.slice(0, 40)}` };
  }
}

export interface ControlOptions {
  path: string;
  /** `--control-group`: the socket is 0660 and this group's; else 0600 */
  group?: string;
  log: Logger;
  /** wall clock, seconds */
  wallNow?: () => number;
}

/** The listening socket of the running sensor. */
export class ControlServer {
  private server: Server | null = null;
  private readonly clients = new Set<Socket>();
  requests = 0;
  rejected = 0;

  constructor(
    private readonly manager: BanManager,
    private readonly o: ControlOptions,
  ) {}

  /** Open the socket; a problem is returned (and logged by the caller), never thrown. */
  async listen(): Promise<string | undefined> {
    const { path, group, log } = this.o;
    let gid: number | undefined;
    if (group !== undefined) {
      gid = groupId(group);
      if (gid === undefined) return `--control-group: unknown group "${group}"`;
    }
    try {
      // a socket left by a process that died (the pid file lock says none runs now)
      if (lstatSync(path).isSocket()) unlinkSync(path);
      else return `${path} exists and is not a socket: no control socket`;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return `${path}: ${(e as Error).message}`;
    }
    const server = createServer({ allowHalfOpen: false }, (c) => this.accept(c));
    server.maxConnections = MAX_CLIENTS;
    const mode = gid === undefined ? 0o600 : 0o660;
    // the socket is born with its final mode bits: no moment where others may connect
    const umask = process.umask(0o777 & ~mode);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
          server.removeListener('error', reject);
          resolve();
        });
      });
    } catch (e) {
      return `cannot open the control socket ${path}: ${(e as Error).message}`;
    } finally {
      process.umask(umask);
    }
    try {
      chmodSync(path, mode);
      if (gid !== undefined) chownSync(path, process.geteuid?.() ?? 0, gid);
    } catch (e) {
      server.close();
      return `cannot set the mode of the control socket ${path}: ${(e as Error).message}`;
    }
    server.on('error', (e) => log.error({ code: ERR.BAN_CONTROL, err: e.message }, 'control socket error'));
    server.unref();
    this.server = server;
    log.info({ path, mode: mode.toString(8), group: group ?? null }, 'ban control socket open');
    return undefined;
  }

  private accept(c: Socket): void {
    this.clients.add(c);
    c.unref();
    c.setTimeout(IDLE_MS, () => c.destroy());
    let buf = '';
    let done = false;
    const answer = (r: Reply): void => {
      if (done) return;
      done = true;
      c.end(`${JSON.stringify(r)}\n`);
    };
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      if (done) return;
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > MAX_REQUEST) {
          this.rejected++;
          answer({ ok: false, error: `request longer than ${MAX_REQUEST} bytes` });
        }
        return;
      }
      let req: unknown;
      try {
        req = JSON.parse(buf.slice(0, nl));
      } catch {
        this.rejected++;
        return answer({ ok: false, error: 'not a JSON request' });
      }
      this.requests++;
      let reply: Reply;
      try {
        reply = handleRequest(this.manager, req, (this.o.wallNow ?? (() => Date.now() / 1000))());
      } catch (e) {
        this.o.log.error({ code: 'IPLOG_ERR_INTERNAL', err: (e as Error)?.stack ?? String(e) }, 'control request failed');
        reply = { ok: false, error: 'internal error (see the operational log)' };
      }
      this.o.log.info({ control: req, ok: reply.ok, ...(reply.ok ? {} : { error: reply.error }) }, 'ban control request');
      answer(reply);
    });
    c.on('error', () => undefined);
    c.on('close', () => this.clients.delete(c));
  }

  /** Stop listening and remove the socket (bans stay). */
  close(): void {
    if (this.server === null) return;
    this.server.close();
    this.server = null;
    for (const c of this.clients) c.destroy();
    try {
      unlinkSync(this.o.path);
    } catch {
      /* gone, or not ours to remove any more (-u) */
    }
  }
}

/**
 * `iplog bans list|show ADDR|NET|add ADDR [--for DUR]|del ADDR|NET|allow [--del] NET` [--json]
 * [--pid-file FILE] [--config FILE] [--socket PATH]: the running sensor's bans, through
 * its control socket (src/ban/control.ts), found beside the pid file as `iplog status`
 * finds it. Output on standard output (text, or the daemon's JSON reply with --json);
 * problems on standard error. Exit status: 0 done, 1 refused by the daemon (an
 * allowlisted address, an invalid one), 2 usage, 3 no sensor listening, 4 permission
 * denied (the socket is root's, or --control-group's).
 */
import { connect } from 'node:net';
import { existsSync, writeSync } from 'node:fs';
import { DEFAULT_PID_FILE } from '../config/options';
import { parseCommandLine } from './program';
import { parseDuration } from '../config/duration';
import { controlPathFor, type Reply, type Request } from '../ban/control';

const UNIT_PID_FILE = '/run/iplog/iplog.pid';
export const BANS_EXIT = { ok: 0, refused: 1, usage: 2, down: 3, denied: 4 } as const;

export const BANS_USAGE = `Usage: iplog bans list [--json]
       iplog bans show ADDR|NET [--json]
       iplog bans add ADDR [--for DURATION] [--json]
       iplog bans del ADDR|NET [--json]
       iplog bans allow [--del] NET [--json]
Options: --pid-file FILE, --config FILE (where the sensor's pid file is), --socket PATH.
Talks to the running sensor through its control socket beside the pid file (root, or the
--control-group). del sticks: the resync and a restart do not put the ban back, and the
evidence seen so far does not ban again. NET is an IPv6 prefix iplog banned (adaptive
prefixes: 2001:db8:1:2::/64). Exit status: 0 done, 1 refused, 2 usage, 3 no
sensor listening, 4 permission denied.
`;

function out(fd: number, text: string): void {
  try {
    writeSync(fd, text);
  } catch {
    /* closed */
  }
}

export interface BansArgs {
  req?: Request;
  json: boolean;
  help: boolean;
  socket?: string;
  pass: string[];
  error?: string;
}

export function parseBansArgs(argv: readonly string[]): BansArgs {
  const pass: string[] = [];
  const words: string[] = [];
  let json = false;
  let help = false;
  let socket: string | undefined;
  let forText: string | undefined;
  let del = false;
  const r = (error: string): BansArgs => ({ json, help, pass, error });
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string | undefined => (i + 1 < argv.length ? argv[++i] : undefined);
    if (a === '--json') json = true;
    else if (a === '-h' || a === '--help') help = true;
    else if (a === '--del') del = true;
    else if (a === '--for') {
      forText = value();
      if (forText === undefined) return r('--for needs a duration');
    } else if (a.startsWith('--for=')) forText = a.slice(6);
    else if (a === '--socket') {
      socket = value();
      if (socket === undefined) return r('--socket needs a path');
    } else if (a.startsWith('--socket=')) socket = a.slice(9);
    else if (a === '--pid-file' || a === '--config' || a === '--profile') {
      const v = value();
      if (v === undefined) return r(`${a} needs a value`);
      pass.push(a, v);
    } else if (/^--(pid-file|config|profile)=/.test(a)) pass.push(a);
    else if (a.startsWith('-') && a !== '-') return r(`unknown option "${a}"`);
    else words.push(a);
  }
  if (help) return { json, help, pass };
  const [cmd, arg, ...rest] = words;
  if (rest.length > 0) return r(`unexpected "${rest[0]}"`);
  if (forText !== undefined && cmd !== 'add') return r('--for goes with add');
  if (del && cmd !== 'allow') return r('--del goes with allow');
  const base = { json, help, pass, socket };
  switch (cmd) {
    case 'list':
      if (arg !== undefined) return r(`unexpected "${arg}"`);
      return { ...base, req: { cmd: 'list' } };
    case 'show':
    case 'del':
      if (arg === undefined) return r(`${cmd} needs an address`);
      return { ...base, req: { cmd, addr: arg } };
    case 'add': {
      if (arg === undefined) return r('add needs an address');
      if (forText === undefined) return { ...base, req: { cmd: 'add', addr: arg } };
      const seconds = parseDuration(forText, 1);
      if (seconds === undefined) return r(`invalid duration "${forText}" (N[s|m|h|d|w], at most 365d)`);
      return { ...base, req: { cmd: 'add', addr: arg, seconds } };
    }
    case 'allow':
      if (arg === undefined) return r('allow needs an address or network');
      return { ...base, req: del ? { cmd: 'allow', net: arg, remove: true } : { cmd: 'allow', net: arg } };
    case undefined:
      return r('a command is needed: list, show, add, del or allow');
    default:
      return r(`unknown command "${cmd}"`);
  }
}

/** The socket of the sensor the options point at (as `iplog status` finds its pid file). */
function socketPath(a: BansArgs): string | { error: string } {
  if (a.socket !== undefined) return a.socket;
  const cli = parseCommandLine(a.pass);
  if (cli.kind === 'exit') return { error: (cli.stdout + cli.stderr).trim() };
  let pidFile = cli.settings.pidFile;
  if (pidFile === DEFAULT_PID_FILE && !existsSync(controlPathFor(pidFile)) && existsSync(controlPathFor(UNIT_PID_FILE))) pidFile = UNIT_PID_FILE;
  return controlPathFor(pidFile);
}

/** Send one request; resolves with the reply, or rejects with the connection error. */
export function ask(path: string, req: Request, timeoutMs = 10_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const c = connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      c.destroy();
      reject(Object.assign(new Error(`no answer from ${path} within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    c.setEncoding('utf8');
    c.on('connect', () => c.write(`${JSON.stringify(req)}\n`));
    c.on('data', (d: string) => (buf += d));
    c.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    c.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buf) as Reply);
      } catch {
        reject(new Error(`unreadable answer from ${path}`));
      }
    });
  });
}

const iso = (t: number): string => new Date(Math.floor(t) * 1000).toISOString().replace('.000Z', 'Z');

function left(sec: number): string {
  if (sec >= 86400) return `${Math.floor(sec / 86400)}d${Math.floor((sec % 86400) / 3600)}h`;
  if (sec >= 3600) return `${Math.floor(sec / 3600)}h${Math.floor((sec % 3600) / 60)}m`;
  if (sec >= 60) return `${Math.floor(sec / 60)}m${sec % 60}s`;
  return `${sec}s`;
}

/** The text form of a reply. */
export function renderReply(req: Request, r: Reply & { ok: true }): string {
  const x = r as Record<string, unknown>;
  switch (req.cmd) {
    case 'list': {
      const bans = x.bans as { addr: string; since: number; until: number; left: number; offence: number; reason: string }[];
      const lines = [`${bans.length} ban${bans.length === 1 ? '' : 's'} in force (backend ${String(x.backend)})`];
      if (bans.length > 0) {
        const w = Math.max(7, ...bans.map((b) => b.addr.length));
        lines.push(`${'ADDRESS'.padEnd(w)}  ${'UNTIL'.padEnd(20)}  ${'LEFT'.padEnd(8)}  REASON`);
        for (const b of bans) lines.push(`${b.addr.padEnd(w)}  ${iso(b.until).padEnd(20)}  ${left(b.left).padEnd(8)}  ${b.reason}`);
      }
      const allowed = x.allowed as { net: string; at: number }[];
      if (allowed.length > 0) lines.push(`allowed by hand: ${allowed.map((a) => a.net).join(', ')}`);
      const lifted = x.lifted as { addr: string; at: number }[];
      if (lifted.length > 0) lines.push(`lifted by hand (their earlier evidence does not ban again): ${lifted.map((l) => l.addr).join(', ')}`);
      return lines.join('\n') + '\n';
    }
    case 'show': {
      const lines: string[] = [];
      const ban = x.ban as { since: number; until: number; left: number; offence: number; reason: string } | null;
      if (ban === null) lines.push(`${String(x.addr)}: not banned`);
      else lines.push(`${String(x.addr)}: banned since ${iso(ban.since)} until ${iso(ban.until)} (${left(ban.left)} left; offence ${ban.offence})`, `  reason    ${ban.reason}`);
      const trail = x.trail as Record<string, unknown> | null;
      if (trail !== null) {
        if (typeof trail.rule === 'string') lines.push(`  rule      ${trail.rule}`);
        if (trail.score !== undefined) lines.push(`  score     ${String(trail.score)}`);
        if (typeof trail.duration === 'string') lines.push(`  duration  ${trail.duration}`);
        for (const [k, v] of Object.entries(trail)) {
          if (['decision', 'addr', 'events', 'rule', 'score', 'duration', 'until', 'seconds', 'offence', 'backend', 'manual'].includes(k)) continue;
          lines.push(`  ${k.padEnd(9)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
        }
        const evs = (trail.events as Record<string, unknown>[] | undefined) ?? [];
        if (evs.length > 0) lines.push('  events:');
        for (const e of evs) lines.push(`    ${eventLine(e)}`);
      }
      const score = x.score as { value: number; threshold: number; windowSec: number; events: Record<string, unknown>[] };
      if (score.events.length > 0) {
        lines.push(`  scoring now: ${score.value} of ${score.threshold} within ${score.windowSec} s`);
        for (const e of score.events) lines.push(`    ${eventLine(e)}`);
      }
      if (Number(x.offences) > 0) lines.push(`  offences  ${String(x.offences)}`);
      const lifted = x.lifted as { at: number } | null;
      if (lifted !== null) lines.push(`  lifted by hand at ${iso(lifted.at)}: only newer evidence bans it`);
      if (x.allowlisted !== null) lines.push(`  never banned: ${String(x.allowlisted)}`);
      return lines.join('\n') + '\n';
    }
    case 'add':
      return `banned ${String(x.addr)} for ${String(x.seconds)} seconds, until ${iso(Number(x.until))} (${String(x.reason)})\n`;
    case 'del':
      return x.wasBanned === true ? `unbanned ${String(x.addr)} (lifted by hand: it stays lifted)\n` : `${String(x.addr)} was not banned; deleted from the firewall anyway and marked lifted\n`;
    case 'allow':
      if (x.removed === true) return `${String(x.net)} is no longer allowed by hand\n`;
      return `${String(x.net)} is never banned now${(x.lifted as string[]).length > 0 ? `; unbanned ${(x.lifted as string[]).join(', ')}` : ''}\n`;
  }
}

function eventLine(e: Record<string, unknown>): string {
  const extra = Object.entries(e)
    .filter(([k]) => !['time', 'kind', 'detector', 'title', 'weight'].includes(k))
    .map(([k, v]) => `${k}=${String(v)}`);
  return `${iso(Number(e.time))}  ${String(e.title ?? e.kind)}  weight ${String(e.weight)}${extra.length ? `  ${extra.join(' ')}` : ''}`;
}

export async function bansCommand(argv: readonly string[]): Promise<number> {
  const a = parseBansArgs(argv);
  if (a.help) {
    out(1, BANS_USAGE);
    return BANS_EXIT.ok;
  }
  if (a.error !== undefined || a.req === undefined) {
    out(2, `iplog bans: ${a.error ?? 'nothing to do'}\n${BANS_USAGE}`);
    return BANS_EXIT.usage;
  }
  const path = socketPath(a);
  if (typeof path !== 'string') {
    out(2, `iplog bans: ${path.error}\n`);
    return BANS_EXIT.usage;
  }
  let reply: Reply;
  try {
    reply = await ask(path, a.req);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      out(2, `iplog bans: permission denied on ${path}: the ban control is for root, or the --control-group of the sensor\n`);
      return BANS_EXIT.denied;
    }
    if (code === 'ENOENT' || code === 'ECONNREFUSED') {
      out(2, `iplog bans: no sensor listening on ${path} (is iplog running live with --ban-backend? --pid-file/--config say where its pid file is)\n`);
      return BANS_EXIT.down;
    }
    out(2, `iplog bans: ${path}: ${(e as Error).message}\n`);
    return BANS_EXIT.down;
  }
  if (a.json) out(1, `${JSON.stringify(reply)}\n`);
  if (!reply.ok) {
    out(2, `iplog bans: ${reply.error}\n`);
    return BANS_EXIT.refused;
  }
  if (!a.json) out(1, renderReply(a.req, reply));
  return BANS_EXIT.ok;
}

/**
 * The status file and `iplog status`.
 *
 * The running sensor rewrites a small JSON document next to its pid file every few
 * seconds and at SIGUSR1 (`/run/iplog/iplog.pid` → `/run/iplog/iplog.status.json`):
 * its pid, version, profile, start time, where --metrics listens, and its counters (a
 * SensorSnapshot). Each write goes to a temporary file in the same directory, then
 * rename(2): a reader sees the old document or the new one, never half of one. The file
 * is removed when the sensor stops. No socket is opened for this.
 *
 * `iplog status [--json] [--pid-file FILE] [--config FILE]` reads the pid file (from
 * --pid-file, else the configuration's `pid-file`, else the default), asks who holds its
 * lock (as the daemon's own start-up does, src/daemon/pidfile.ts), and prints whether the
 * daemon runs, since when, and its counters. Exit status (LSB init-script convention):
 * 0 running, 1 not running but the pid file is left (stale), 3 not running, 4 unknown
 * (the pid file cannot be read).
 */
import { closeSync, openSync, readFileSync, readSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../log';
import type { LockOps } from '../daemon/pidfile';
import type { SensorSnapshot } from './snapshot';

export const STATUS_SCHEMA = 1;
/** how often the running sensor rewrites the file */
export const STATUS_INTERVAL_MS = 5000;

export interface StatusDoc {
  schema: number;
  pid: number;
  version: string;
  profile: string;
  /** `daemon` (background) or `foreground` (-o) */
  mode: string;
  /** seconds since the epoch */
  started: number;
  updated: number;
  pidFile: string;
  interfaces: string[];
  /** `HOST:PORT` of --metrics, or null */
  metrics: string | null;
  counters: SensorSnapshot;
}

/** The status file that goes with a pid file: `x.pid` → `x.status.json`, else `x.status.json` appended. */
export function statusPathFor(pidFile: string): string {
  const dir = dirname(pidFile);
  const base = basename(pidFile);
  return join(dir, `${base.endsWith('.pid') ? base.slice(0, -4) : base}.status.json`);
}

/** Rewrites the status file of the running sensor. */
export class StatusWriter {
  private timer: NodeJS.Timeout | null = null;
  private failed = false;
  readonly path: string;

  constructor(
    pidFile: string,
    private readonly read: () => StatusDoc,
    private readonly log: Logger,
    private readonly intervalMs = STATUS_INTERVAL_MS,
  ) {
    this.path = statusPathFor(pidFile);
  }

  start(): void {
    this.write();
    this.timer = setInterval(() => this.write(), this.intervalMs);
    this.timer.unref();
  }

  /** Write now (also at SIGUSR1). A failure is logged once, then again only after a success. */
  write(): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, `${JSON.stringify(this.read())}\n`, { mode: 0o644 });
      renameSync(tmp, this.path);
      this.failed = false;
    } catch (e) {
      try {
        unlinkSync(tmp);
      } catch {
        /* it was never created */
      }
      if (!this.failed) this.log.warn({ code: 'IPLOG_ERR_STATUS_WRITE', file: this.path, err: (e as Error).message }, 'status file not written');
      this.failed = true;
    }
  }

  /** Stop rewriting and remove the file. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    try {
      unlinkSync(this.path);
    } catch {
      /* already gone, or not ours to remove any more (-u) */
    }
  }
}

// ------------------------------------------------------------------ iplog status

export type StatusState = 'running' | 'stale' | 'stopped' | 'unknown';

export interface StatusReport {
  state: StatusState;
  pidFile: string;
  statusFile: string;
  /** pid in the pid file (or of the lock holder), if any */
  pid: number | null;
  /** the status document, when there is one from this pid */
  status: StatusDoc | null;
  /** seconds since the status document was written */
  age: number | null;
  /** what went wrong reading things, if anything */
  problem: string | null;
}

export const STATUS_EXIT: Readonly<Record<StatusState, number>> = { running: 0, stale: 1, stopped: 3, unknown: 4 };

/** Find out whether the daemon of `pidFile` runs, and read its status file. */
export function readStatus(pidFile: string, locks: LockOps, now = Date.now() / 1000): StatusReport {
  const statusFile = statusPathFor(pidFile);
  const r: StatusReport = { state: 'unknown', pidFile, statusFile, pid: null, status: null, age: null, problem: null };
  let fd: number;
  try {
    fd = openSync(pidFile, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') r.state = 'stopped';
    else r.problem = `cannot open ${pidFile}: ${(e as Error).message}`;
    return r;
  }
  try {
    const buf = Buffer.alloc(16);
    const n = readSync(fd, buf, 0, 16, 0);
    const m = /^\s*(\d+)\s*$/.exec(buf.subarray(0, n).toString('latin1'));
    if (m) r.pid = Number(m[1]);
    let owner: number;
    try {
      owner = locks.lockOwner(fd);
    } catch (e) {
      r.problem = `cannot query the lock of ${pidFile}: ${(e as Error).message}`;
      return r;
    }
    if (owner === 0) {
      r.state = 'stale';
      return r;
    }
    r.state = 'running';
    r.pid = owner;
  } finally {
    closeSync(fd);
  }
  try {
    const doc = JSON.parse(readFileSync(statusFile, 'utf8')) as StatusDoc;
    if (doc.schema === STATUS_SCHEMA && doc.pid === r.pid) {
      r.status = doc;
      r.age = Math.max(0, Math.round(now - doc.updated));
    } else {
      r.problem = `${statusFile} belongs to another process (pid ${doc.pid})`;
    }
  } catch (e) {
    r.problem = `no status from the daemon (${statusFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  return r;
}

function utc(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function duration(sec: number): string {
  const d = Math.floor(sec / 86400);
  const h = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = Math.floor(sec % 60);
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

const nonZero = (rec: Record<string, number>): string => {
  const e = Object.entries(rec).filter(([, v]) => v !== 0);
  return e.length === 0 ? 'none' : e.map(([k, v]) => `${k} ${v}`).join(', ');
};

/** The human form of a report. */
export function renderStatus(r: StatusReport, now = Date.now() / 1000): string {
  const lines: string[] = [];
  switch (r.state) {
    case 'stopped':
      lines.push(`iplog is not running (no pid file ${r.pidFile})`);
      break;
    case 'stale':
      lines.push(`iplog is not running (stale pid file ${r.pidFile}${r.pid !== null ? `, pid ${r.pid}` : ''})`);
      break;
    case 'unknown':
      lines.push(`iplog status unknown: ${r.problem ?? 'unknown problem'}`);
      break;
    case 'running': {
      const s = r.status;
      if (s === null) {
        lines.push(`iplog is running (pid ${r.pid})`);
        if (r.problem !== null) lines.push(`  ${r.problem}`);
        break;
      }
      const c = s.counters;
      lines.push(`iplog ${s.version} is running (pid ${s.pid}, ${s.mode}, profile ${s.profile})`);
      lines.push(`  since      ${utc(s.started)} (up ${duration(now - s.started)}); status written ${r.age} s ago${r.age !== null && r.age > (3 * STATUS_INTERVAL_MS) / 1000 ? ' (stale: is the daemon stuck?)' : ''}`);
      lines.push(`  metrics    ${s.metrics ?? 'off'}`);
      for (const i of c.interfaces) {
        lines.push(`  ${i.name.padEnd(10)} ${i.open ? 'up  ' : 'down'} received ${i.received}, captured ${i.captured} (${i.capturedBytes} bytes), kernel drops ${i.kernelDrops}, interface drops ${i.ifDrops}`);
      }
      lines.push(`  packets    ${c.packets} (IPv4 ${c.ipv4Packets}), lines ${c.lines}`);
      lines.push(`  detections ${nonZero(c.detections)}`);
      lines.push(`  anomalies  ${nonZero(c.anomalies)}`);
      lines.push(`  tables     ${c.tables.map((t) => `${t.name} ${t.entries}${t.capacity !== null ? `/${t.capacity}` : ''} (${t.evictions} evicted${t.evidenceEvictions !== undefined ? `, ${t.evidenceEvictions} holding evidence` : ''})`).join(', ')}`);
      if (c.bans !== null) {
        const b = c.bans;
        lines.push(`  bans       ${b.active} in force, ${b.bans} made, ${b.unbans} lifted; refused: ${nonZero(b.refusals)}${b.commands !== null ? `; firewall commands ${b.commands.run}, failed ${b.commands.failed}` : ''}`);
      }
      if (c.dns !== null) lines.push(`  dns        ${c.dns.queries} queries, ${c.dns.timeouts} timeouts, ${c.dns.failures} failures, ${c.dns.cacheHits} cache hits`);
      if (c.syslog !== null) lines.push(`  syslog     ${c.syslog.target}: ${c.syslog.sent} sent, ${c.syslog.queued} queued, ${c.syslog.dropped} dropped`);
      break;
    }
  }
  return lines.join('\n') + '\n';
}

/** Read the pid-file name of `iplog status`'s arguments; the rest is for parseCommandLine. */
export function parseStatusArgs(argv: readonly string[]): { json: boolean; pass: string[]; help: boolean; error?: string } {
  const pass: string[] = [];
  let json = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '-h' || a === '--help') help = true;
    else if (a === '--pid-file' || a === '--config' || a === '--profile') {
      if (i + 1 >= argv.length) return { json, pass, help, error: `${a} needs a value` };
      pass.push(a, argv[++i]!);
    } else if (/^--(pid-file|config|profile)=/.test(a)) pass.push(a);
    else return { json, pass, help, error: `unknown argument "${a}"` };
  }
  return { json, pass, help };
}

export const STATUS_USAGE = `Usage: iplog status [--json] [--pid-file FILE] [--config FILE]
Is the iplog daemon running, since when, and its counters (from the status file next to
its pid file, rewritten every ${STATUS_INTERVAL_MS / 1000} s and at SIGUSR1). Exit status: 0 running,
1 stale pid file, 3 not running, 4 unknown.
`;

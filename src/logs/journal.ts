/**
 * The systemd journal as `journalctl -o json` writes it: one JSON object per line with
 * MESSAGE (a string, or an array of bytes when it is not valid UTF-8), SYSLOG_IDENTIFIER,
 * _SYSTEMD_UNIT, __REALTIME_TIMESTAMP (microseconds, as a decimal string) and __CURSOR.
 *
 * Following (live): `journalctl -f -o json [-u UNIT]... [-t IDENT]...` as a child
 * process, started `--after-cursor` the cursor kept in the state file (or `-n 0`, from
 * now, the first time), restarted with a growing delay when it exits. Replay: a file of
 * `journalctl -o json` output passed to --log-replay.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../log';
import { LineSplitter } from './lines';

export interface JournalEntry {
  msg: string;
  ident: string;
  unit: string;
  /** seconds */
  time: number;
  cursor: string;
}

function field(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((b) => typeof b === 'number')) return Buffer.from(v as number[]).toString('utf8');
  return '';
}

/** One line of `journalctl -o json`; null if it is not one. */
export function journalEntry(line: string): JournalEntry | null {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (o === null || typeof o !== 'object') return null;
  const ts = Number(field(o.__REALTIME_TIMESTAMP));
  if (!Number.isFinite(ts)) return null;
  return {
    msg: field(o.MESSAGE),
    ident: field(o.SYSLOG_IDENTIFIER) || field(o._COMM),
    unit: field(o._SYSTEMD_UNIT),
    time: Math.floor(ts / 1e6),
    cursor: field(o.__CURSOR),
  };
}

export interface JournalFollowerOptions {
  units: readonly string[];
  idents: readonly string[];
  /** resume after this cursor (undefined: from now) */
  cursor?: string;
  /** journalctl program (tests: a path) and extra arguments (tests: --directory/--file) */
  journalctl?: string;
  extraArgs?: readonly string[];
  log: Logger;
  onEntry: (e: JournalEntry) => void;
}

/** `journalctl -f -o json` as a child process, restarted when it exits. */
export class JournalFollower {
  private child: ChildProcess | null = null;
  private stopped = false;
  private delay = 1000;
  private timer: NodeJS.Timeout | null = null;
  cursor: string | undefined;
  restarts = 0;
  badEntries = 0;
  entries = 0;

  constructor(private readonly o: JournalFollowerOptions) {
    this.cursor = o.cursor;
  }

  args(): string[] {
    const a = ['-f', '-o', 'json', '--no-pager', ...(this.o.extraArgs ?? [])];
    for (const u of this.o.units) a.push('-u', u);
    for (const t of this.o.idents) a.push('-t', t);
    if (this.cursor !== undefined && this.cursor !== '') a.push(`--after-cursor=${this.cursor}`);
    else a.push('-n', '0');
    return a;
  }

  start(): void {
    if (this.stopped) return;
    const prog = this.o.journalctl ?? 'journalctl';
    const child = spawn(prog, this.args(), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const split = new LineSplitter((line) => {
      // after stop() the session flushes the cursor it has: an entry taken now would be
      // acted on and its cursor never kept, so the next start would read it again
      if (this.stopped) return;
      const e = journalEntry(line);
      if (e === null) {
        this.badEntries++;
        return;
      }
      this.entries++;
      this.delay = 1000;
      if (e.cursor !== '') this.cursor = e.cursor;
      this.o.onEntry(e);
    }, 1 << 20);
    child.stdout!.on('data', (b: Buffer) => split.push(b));
    let err = '';
    child.stderr!.on('data', (b: Buffer) => {
      if (err.length < 2000) err += b.toString();
    });
    child.on('error', (e) => {
      this.o.log.error({ code: 'IPLOG_ERR_LOG_JOURNAL', err: e.message, units: this.o.units, idents: this.o.idents }, 'journalctl could not be started');
    });
    child.on('close', (code, signal) => {
      this.child = null;
      if (this.stopped) return;
      this.restarts++;
      this.o.log.warn({ code: 'IPLOG_ERR_LOG_JOURNAL', exit: code, signal, stderr: err.trim().slice(0, 500), retryMs: this.delay }, 'journalctl stopped: restarting it');
      this.timer = setTimeout(() => {
        this.timer = null;
        this.start();
      }, this.delay);
      this.delay = Math.min(this.delay * 2, 60_000);
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.child?.kill('SIGTERM');
  }
}

/**
 * Replay of log files (`--log-replay FILE`, repeatable): the log rules run over existing
 * files, on the engine's network clock, so that with `-r CAPTURE` the log matches and
 * the packets are merged by time, and with `--ban-backend dry-run` the BAN lines say what
 * would have been banned and when. The same input gives the same output (times are the
 * lines' own; the year rule of line.ts makes RFC 3164 stamps deterministic).
 *
 * Which rules apply to a file: those of the configured `log_file` whose path has the
 * same base name (auth.log → `log_file /var/log/auth.log ...`), else every rule. A file
 * whose first line is a JSON object is `journalctl -o json` output: each entry takes the
 * rules of the `log_journal` sources naming its unit or identifier, else every rule.
 *
 * The replay is a deadline source on the engine's clock (pipeline.ts ClockListener):
 * `due()` is the time of the earliest pending match across the files, `sweep(t)` writes
 * every match up to `t`, earliest first (files in command-line order on equal times).
 * Files are read synchronously in chunks, a match at a time: memory does not grow with
 * the file.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { Engine, type ClockListener } from '../pipeline';
import type { LineSink } from '../output/sinks/sink';
import type { HostRenderer } from '../output/resolve-api';
import type { Settings } from '../config/settings';
import type { IpAddr } from '../net/addr';
import { IplogError } from '../errors';
import { LogFeed } from './feed';
import { LineSplitter } from './lines';
import { SyslogYear } from './line';
import { LogMatcher } from './matcher';
import { journalEntry } from './journal';
import { rulesOf, type LogRule, type LogSettings } from './rules';
import { BAN_DEFAULTS } from '../ban/config';

/** 64 KiB: the decoded text of a chunk stays a young-generation string (1 MiB ones went to large-object space, collected only by full GCs) */
const CHUNK = 1 << 16;

interface Pending {
  t: number;
  rule: LogRule;
  addr: IpAddr;
  line: string;
}

/** One replayed file: a match at a time. */
class ReplayFile {
  private fd: number;
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private eof = false;
  private readonly queue: Pending[] = [];
  private readonly split: LineSplitter;
  private readonly matcher: LogMatcher;
  private journal: boolean | null = null;
  private readonly byUnit = new Map<string, LogMatcher>();
  private readonly years: SyslogYear;
  /** the last time a line stated (lines without one take it) */
  private lastTime = 0;
  lines = 0;

  constructor(
    readonly path: string,
    private readonly ls: LogSettings,
  ) {
    try {
      this.fd = openSync(path, 'r');
    } catch (e) {
      throw new IplogError(`--log-replay ${path}: ${(e as Error).message}`, 'IPLOG_ERR_LOG_REPLAY');
    }
    const st = fstatSync(this.fd);
    this.years = ls.year !== undefined ? SyslogYear.given(ls.year) : SyslogYear.fromMtime(Math.floor(st.mtimeMs / 1000));
    this.lastTime = Math.floor(st.mtimeMs / 1000);
    const src = ls.sources.find((s) => s.kind === 'file' && basename(s.path) === basename(path));
    const rules = src !== undefined ? rulesOf(ls, src.rules) : ls.rules;
    this.matcher = new LogMatcher(rules, src?.kind === 'file' ? src.format : 'syslog', this.years);
    this.split = new LineSplitter((line) => this.onLine(line));
  }

  get stats(): { lines: number; matched: number; overlong: number; badAddress: number; badTime: number } {
    let matched = this.matcher.stats.matched;
    let badAddress = this.matcher.stats.badAddress;
    let badTime = this.matcher.stats.badTime;
    for (const m of this.byUnit.values()) {
      matched += m.stats.matched;
      badAddress += m.stats.badAddress;
      badTime += m.stats.badTime;
    }
    return { lines: this.lines, matched, overlong: this.split.overlong, badAddress, badTime };
  }

  private onLine(line: string): void {
    this.lines++;
    if (this.journal === null) this.journal = line.startsWith('{');
    if (this.journal) return this.onJournal(line);
    const m = this.matcher;
    if (m.matchLine(line, this.lastTime, true)) {
      this.lastTime = m.time;
      this.queue.push({ t: m.time, rule: m.rule!, addr: m.addr, line });
    } else {
      const t = m.lastLineTime(line);
      if (Number.isFinite(t)) this.lastTime = t;
    }
  }

  private onJournal(line: string): void {
    const e = journalEntry(line);
    if (e === null) return;
    const key = `${e.unit}\n${e.ident}`;
    let m = this.byUnit.get(key);
    if (m === undefined) {
      const srcs = this.ls.sources.filter((s) => s.kind === 'journal' && (s.units.includes(e.unit) || s.idents.includes(e.ident)));
      const rules = srcs.length > 0 ? rulesOf(this.ls, srcs.flatMap((s) => s.rules)) : this.ls.rules;
      m = new LogMatcher(rules, 'plain', null);
      if (this.byUnit.size < 4096) this.byUnit.set(key, m);
    }
    if (m.matchMessage(e.msg, e.ident, e.time)) this.queue.push({ t: m.time, rule: m.rule!, addr: m.addr, line: e.msg });
  }

  /** The next match (read as far as needed), or undefined at the end. */
  peek(): Pending | undefined {
    while (this.queue.length === 0 && !this.eof) {
      const n = readSync(this.fd, this.buf, 0, CHUNK, null);
      if (n === 0) {
        this.eof = true;
        this.split.end();
        closeSync(this.fd);
      } else this.split.push(this.buf.subarray(0, n));
    }
    return this.queue[0];
  }

  shift(): void {
    this.queue.shift();
  }
}

export class LogReplay implements ClockListener {
  readonly drains = true;
  readonly files: ReplayFile[];
  readonly feed: LogFeed;

  constructor(engine: Engine, ls: LogSettings, banThreshold: number) {
    this.files = ls.replay.map((p) => new ReplayFile(p, ls));
    this.feed = new LogFeed((ev, text) => engine.out.text(ev, text), banThreshold);
  }

  due(): number {
    let due = Infinity;
    for (const f of this.files) {
      const p = f.peek();
      if (p !== undefined && p.t < due) due = p.t;
    }
    return due;
  }

  sweep(t: number): void {
    for (;;) {
      let best: ReplayFile | null = null;
      let bt = Infinity;
      for (const f of this.files) {
        const p = f.peek();
        if (p !== undefined && p.t <= t && p.t < bt) {
          bt = p.t;
          best = f;
        }
      }
      if (best === null) return;
      const p = best.peek()!;
      best.shift();
      this.feed.hit(p.rule, p.addr, p.t, best.path, p.line);
    }
  }

  tick(): void {}
}

/** Register the log replay of `settings` on `engine` (null when no --log-replay). */
export function attachLogReplay(engine: Engine, settings: Settings): LogReplay | null {
  const ls = settings.logs;
  if (ls === undefined || ls.replay.length === 0) return null;
  if (ls.rules.length === 0) throw new IplogError('--log-replay: no log rules are configured (log_rule statements in iplog.conf, or log_rules FILE; docs/log-rules.md)', 'IPLOG_ERR_LOG_REPLAY');
  const r = new LogReplay(engine, ls, settings.ban?.threshold ?? BAN_DEFAULTS.threshold);
  engine.addClockListener(r);
  return r;
}

/**
 * A replay of log files alone (no capture): the clock moves from match to match, then
 * every pending deadline (ban expiries with dry-run) is drained.
 */
export async function replayLogsOnly(engine: Engine, r: LogReplay): Promise<void> {
  for (let due = r.due(); due !== Infinity; due = r.due()) {
    engine.advance(Math.max(due, engine.now + 1));
    if (engine.out.pending() > 0) await engine.out.idle();
  }
}

/** `--log-replay` without `-r`: an engine fed by the log files alone. */
export async function replayLogFiles(
  settings: Settings,
  sink: LineSink,
  renderer: HostRenderer | null,
  prepare: (engine: Engine) => Promise<void>,
  replayOf: () => LogReplay | null,
): Promise<{ engine: Engine; summary: null; error: Error | null }> {
  const engine = new Engine(settings, sink, renderer);
  await prepare(engine);
  const mine = replayOf();
  let error: Error | null = null;
  try {
    if (mine !== null) await replayLogsOnly(engine, mine);
  } catch (e) {
    error = e as Error;
  }
  await engine.finish();
  return { engine, summary: null, error };
}

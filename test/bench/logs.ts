/**
 * `npm run bench -- --only logs` (and the end of a full `npm run bench`): the log rules
 * over a generated 1,000,000-line auth.log, side by side with `fail2ban-regex` and
 * Debian's sshd filter (/etc/fail2ban/filter.d/sshd.conf) on the same file.
 *
 *   node dist/test/bench/logs.js [--lines N] [--runs N] [--no-fail2ban]
 *
 * The file (pcaps/bench/auth-<N>.log, made once, deterministic) mixes the sshd messages
 * of the real corpus (test/logs/corpus/auth.log) that both tools count as matched
 * (failed passwords for existing and unknown users, invalid users) with lines neither
 * matches (cron and logind sessions, sshd session lines). Sources: up to `distinct` addresses (addr():
 * documentation ranges, half of them IPv6): the ban manager's and the rules' tables must
 * stay bounded however many there are.
 *
 * Measures (median of `runs` after one warm-up):
 *   rules    LogMatcher over every line (read, split, match; no events): lines/s
 *   replay   the whole --log-replay path: rules, log.match events and lines, the ban
 *            manager with dry-run, into a sink that drops the text: lines/s
 *   f2b      fail2ban-regex FILE sshd.conf (wall time of the process): lines/s
 *   memory   heap after the replay (after gc) with 1,000 and with `distinct` addresses
 * and checks that iplog and fail2ban-regex matched the same number of lines.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseCommandLine } from '../../src/cli/program';
import { TextSink } from '../../src/output/sinks/text';
import { Engine } from '../../src/pipeline';
import { attachBans } from '../../src/ban/attach';
import { attachLogReplay, replayLogFiles, type LogReplay } from '../../src/logs/replay';
import { LogMatcher } from '../../src/logs/matcher';
import { LineSplitter } from '../../src/logs/lines';
import { SyslogYear } from '../../src/logs/line';
import { rulesOf } from '../../src/logs/rules';
import { createLogger } from '../../src/log';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BENCH_DIR = path.join(ROOT, 'pcaps', 'bench');
const RULES = path.join(ROOT, 'config', 'log-rules.conf');
const F2B_FILTER = '/etc/fail2ban/filter.d/sshd.conf';

interface Opts {
  lines: number;
  runs: number;
  distinct: number;
  fail2ban: boolean;
}

function parse(argv: string[]): Opts {
  const o: Opts = { lines: 1_000_000, runs: 3, distinct: 200_000, fail2ban: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--lines') o.lines = Number(argv[++i]);
    else if (a === '--runs') o.runs = Number(argv[++i]);
    else if (a === '--distinct') o.distinct = Number(argv[++i]);
    else if (a === '--no-fail2ban') o.fail2ban = false;
    else if (a === '--quick') o.lines = 100_000;
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

/** xorshift32: the same file on every machine. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/**
 * Address number k of `distinct`, documentation ranges only: even k are the 508 hosts of
 * 203.0.113.0/24 and 198.51.100.0/24, odd k distinct IPv6 addresses in 2001:db8::/32.
 */
function addr(k: number): string {
  if (k % 2 === 1) return `2001:db8:${(k >>> 16).toString(16)}:${(k & 0xffff).toString(16)}::1`;
  const h = (k >>> 1) % 508;
  return h < 254 ? `203.0.113.${h + 1}` : `198.51.100.${h - 253}`;
}

export interface BenchLog {
  path: string;
  lines: number;
  /** lines a rule (and fail2ban's sshd filter) matches */
  matching: number;
  distinct: number;
}

/** Write (once) the bench auth.log. */
export function ensureAuthLog(lines: number, distinct: number): BenchLog {
  fs.mkdirSync(BENCH_DIR, { recursive: true });
  const file = path.join(BENCH_DIR, `auth-${lines}-${distinct}.log`);
  const meta = `${file}.json`;
  if (fs.existsSync(file) && fs.existsSync(meta)) return JSON.parse(fs.readFileSync(meta, 'utf8')) as BenchLog;
  const r = rng(0x1091);
  const fd = fs.openSync(file, 'w');
  let t = Date.UTC(2026, 0, 5, 6, 0, 0) / 1000;
  const mon = 'Jan';
  let matching = 0;
  let buf = '';
  const users = ['root', 'admin', 'oracle', 'test', 'ubuntu', 'postgres', 'git', 'pi'];
  for (let i = 0; i < lines; i++) {
    if (r() < 0.02) t++;
    const d = new Date(t * 1000);
    const stamp = `${mon} ${String(d.getUTCDate()).padStart(2, ' ')} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}:${String(d.getUTCSeconds()).padStart(2, '0')}`;
    const a = addr(Math.floor(r() * distinct));
    const port = 1024 + Math.floor(r() * 60000);
    const pid = 1000 + Math.floor(r() * 30000);
    const u = users[Math.floor(r() * users.length)]!;
    const x = r();
    let msg: string;
    // message forms as the real sshd 9.2 writes them (test/logs/corpus/auth.log)
    if (x < 0.2) msg = `sshd[${pid}]: Failed password for invalid user ${u} from ${a} port ${port} ssh2`;
    else if (x < 0.3) msg = `sshd[${pid}]: Failed password for root from ${a} port ${port} ssh2`;
    else if (x < 0.45) msg = `sshd[${pid}]: Invalid user ${u} from ${a} port ${port}`;
    // (pre-auth disconnects are left out: fail2ban's normal mode matches them as NOFAIL,
    // which fail2ban-regex does not count, so the counts could not be compared)
    else if (x < 0.6) msg = `sshd[${pid}]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)`;
    else if (x < 0.75) msg = `CRON[${pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)`;
    else if (x < 0.85) msg = `CRON[${pid}]: pam_unix(cron:session): session closed for user root`;
    else if (x < 0.93) msg = `sshd[${pid}]: pam_unix(sshd:session): session closed for user alice`;
    else msg = `systemd-logind[412]: Removed session ${pid}.`;
    if (x < 0.45) matching++;
    buf += `${stamp} srv ${msg}\n`;
    if (buf.length > 1 << 20) {
      fs.writeSync(fd, buf);
      buf = '';
    }
  }
  fs.writeSync(fd, buf);
  fs.closeSync(fd);
  // a fixed mtime (the year rule)
  fs.utimesSync(file, new Date('2026-01-31T00:00:00Z'), new Date('2026-01-31T00:00:00Z'));
  const b: BenchLog = { path: file, lines, matching, distinct };
  fs.writeFileSync(meta, JSON.stringify(b));
  return b;
}

function settingsFor(log: string, extra: string[] = []) {
  const conf = path.join(os.tmpdir(), `iplog-bench-logs-${process.pid}.conf`);
  fs.writeFileSync(conf, `log_rules ${RULES}\nlog_file /var/log/auth.log rules sshd-*\n`);
  const r = parseCommandLine(['--config', conf, '-N', '--log-replay', log, '--log-year', '2026', '--ban-backend', 'dry-run', ...extra]);
  if (r.kind !== 'run') throw new Error(`settings: ${r.stderr}${r.stdout}`);
  return r.settings;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** The rules alone: read, split, match every line. */
function rulesOnly(b: BenchLog): { sec: number; cpu: number; matched: number } {
  const s = settingsFor(b.path);
  const ls = s.logs!;
  const m = new LogMatcher(rulesOf(ls, ['sshd-*']), 'syslog', SyslogYear.given(2026));
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const split = new LineSplitter((line) => void m.matchLine(line, 0, true));
  const fd = fs.openSync(b.path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    split.push(buf.subarray(0, n));
  }
  split.end();
  fs.closeSync(fd);
  const c = process.cpuUsage(c0);
  return { sec: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (c.user + c.system) / 1e6, matched: m.stats.matched };
}

/** The whole --log-replay path with the dry-run ban manager. */
async function replayWhole(b: BenchLog): Promise<{ sec: number; cpu: number; matched: number; bans: number; heap: number; evictions: number; lines: number }> {
  const s = settingsFor(b.path);
  let outBytes = 0;
  const sink = new TextSink((chunk) => {
    outBytes += chunk.length;
  });
  let logs: LogReplay | null = null;
  let bans: Awaited<ReturnType<typeof attachBans>> = null;
  const log = createLogger('error');
  gc();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = await replayLogFiles(
    s,
    sink,
    null,
    async (engine: Engine) => {
      bans = await attachBans(engine, s, { mode: 'replay', log });
      logs = attachLogReplay(engine, s);
    },
    () => logs,
  );
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  const cu = process.cpuUsage(c0);
  const cpu = (cu.user + cu.system) / 1e6;
  if (r.error) throw r.error;
  gc();
  const heap = process.memoryUsage().heapUsed;
  const st = (logs as LogReplay | null)!.files[0]!.stats;
  const m = bans as unknown as { stats: { bans: number; scoreEvictions: number } };
  void outBytes;
  return { sec, cpu, matched: st.matched, bans: m.stats.bans, heap, evictions: m.stats.scoreEvictions, lines: st.lines };
}

function fail2ban(b: BenchLog): { sec: number; cpu: number; matched: number; version: string } | string {
  if (spawnSync('sh', ['-c', 'command -v fail2ban-regex']).status !== 0) return 'fail2ban-regex not installed (Debian package fail2ban)';
  if (!fs.existsSync(F2B_FILTER)) return `${F2B_FILTER} missing`;
  const t0 = process.hrtime.bigint();
  // `times` prints the CPU time of the shell's children: fail2ban-regex's own
  const r = spawnSync('bash', ['-c', 'fail2ban-regex --print-no-missed --print-no-ignored "$1" "$2"; times', 'bash', b.path, F2B_FILTER], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  const tl = r.stdout.trim().split('\n').slice(-1)[0]!;
  const tm = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(tl.trim());
  const cpu = tm ? Number(tm[1]) * 60 + Number(tm[2]) + Number(tm[3]) * 60 + Number(tm[4]) : NaN;
  const m = /Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed/.exec(r.stdout);
  if (!m) return `fail2ban-regex said: ${(r.stdout + r.stderr).slice(-500)}`;
  if (Number(m[1]) !== b.lines) return `fail2ban-regex read ${m[1]} lines, not ${b.lines}`;
  const v = spawnSync('fail2ban-regex', ['--version'], { encoding: 'utf8' });
  return { sec, cpu, matched: Number(m[3]), version: `${v.stdout}${v.stderr}`.trim().split('\n')[0]! };
}

export async function main(argv: string[]): Promise<number> {
  const o = parse(argv);
  const say = (m: string): void => void process.stderr.write(`bench logs: ${m}\n`);
  const b = ensureAuthLog(o.lines, o.distinct);
  const small = ensureAuthLog(o.lines, 1000);
  fs.readFileSync(b.path); // page cache
  say(`${path.relative(ROOT, b.path)}: ${b.lines} lines, ${b.matching} matching, ${b.distinct} distinct sources`);
  let fails = 0;
  const check = (ok: boolean, what: string) => {
    if (!ok) {
      fails++;
      say(`CHECK FAILED: ${what}`);
    }
  };

  say('rules only ...');
  rulesOnly(b);
  const ro: { sec: number; cpu: number }[] = [];
  let roMatched = 0;
  for (let i = 0; i < o.runs; i++) {
    const x = rulesOnly(b);
    ro.push(x);
    roMatched = x.matched;
  }
  check(roMatched === b.matching, `rules matched ${roMatched}, the generator wrote ${b.matching} matching lines`);

  say('whole --log-replay path (dry-run bans) ...');
  await replayWhole(b);
  const rw: { sec: number; cpu: number }[] = [];
  let last = await replayWhole(b);
  rw.push(last);
  for (let i = 1; i < o.runs; i++) {
    last = await replayWhole(b);
    rw.push(last);
  }
  check(last.matched === b.matching, `replay matched ${last.matched}, expected ${b.matching}`);
  const few = await replayWhole(small);

  let f2b: ReturnType<typeof fail2ban> = 'skipped (--no-fail2ban)';
  if (o.fail2ban) {
    say('fail2ban-regex (once: it is slow) ...');
    f2b = fail2ban(b);
    if (typeof f2b === 'object') check(f2b.matched === b.matching, `fail2ban-regex matched ${f2b.matched}, iplog ${b.matching}`);
  }

  // the machine is shared: rates are lines per CPU second (wall seconds shown too)
  const med = (xs: { sec: number; cpu: number }[]) => {
    const s = [...xs].sort((a, b2) => a.cpu - b2.cpu);
    return s[(s.length - 1) >> 1]!;
  };
  const lps = (sec: number) => Math.round(b.lines / sec);
  const r1 = med(ro);
  const r2 = med(rw);
  const fmt = (x: { sec: number; cpu: number }) => `${x.cpu.toFixed(2)} s CPU (${x.sec.toFixed(2)} s wall)   ${lps(x.cpu).toLocaleString('en')} lines/CPU-s`;
  const lines = [
    `log rules over ${b.lines.toLocaleString('en')} auth.log lines (${b.matching.toLocaleString('en')} matching, up to ${b.distinct.toLocaleString('en')} distinct sources), median of ${o.runs}, load ${os.loadavg()[0]!.toFixed(1)}`,
    `  iplog rules only        ${fmt(r1)}   matched ${roMatched}`,
    `  iplog --log-replay      ${fmt(r2)}   matched ${last.matched}, ${last.bans} bans (budget-limited), ${last.evictions} score evictions`,
    typeof f2b === 'object'
      ? `  fail2ban-regex sshd     ${f2b.cpu.toFixed(2)} s CPU (${f2b.sec.toFixed(2)} s wall)   ${lps(f2b.cpu).toLocaleString('en')} lines/CPU-s   matched ${f2b.matched}   (${f2b.version}, ${F2B_FILTER})`
      : `  fail2ban-regex          ${f2b}`,
    typeof f2b === 'object' ? `  ratio                   ${(f2b.cpu / r2.cpu).toFixed(1)}x fail2ban-regex's throughput (whole replay path), ${(f2b.cpu / r1.cpu).toFixed(1)}x (rules only); goal 10x` : '',
    `  heap after the replay   ${(few.heap / 1048576).toFixed(1)} MiB with ${small.distinct} sources, ${(last.heap / 1048576).toFixed(1)} MiB with up to ${b.distinct} sources (ban manager score table bounded at 65536: ${last.evictions} evictions)`,
  ].filter((l) => l !== '');
  process.stdout.write(lines.join('\n') + '\n');
  return fails > 0 ? 1 : 0;
}

if (require.main === module) {
  if (typeof (globalThis as { gc?: unknown }).gc !== 'function') {
    const r = spawnSync(process.execPath, [...process.execArgv, '--expose-gc', __filename, ...process.argv.slice(2)], { stdio: 'inherit' });
    process.exit(r.status ?? 1);
  }
  main(process.argv.slice(2)).then(
    (c) => process.exit(c),
    (e) => {
      process.stderr.write(`bench logs: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}

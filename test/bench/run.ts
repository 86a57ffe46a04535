/**
 * `npm run bench`: throughput and memory of the replay path, against a C libpcap loop.
 *
 *   node dist/test/bench/run.js [--quick] [--runs N] [--only NAME[,NAME]] [--write-doc]
 *
 * Measures (docs/benchmarks.md explains each; all on the capture of make-bench-pcap.ts,
 * 2 M packets, or 200 k with --quick):
 *   read     readCapture() with the same trivial per-packet work as the C loop
 *   decode   readCapture + ipv4Offset + decodeIpv4 + the TCP flags byte
 *   full     replay() with -m -N semantics into a TextSink that discards its output
 *   full6    the same on the IPv6 capture of make-bench-pcap6.ts (the same flood over
 *            IPv6); reported beside the IPv4 figure with their ratio (target >= 0.8);
 *            with full, the runs of the two alternate (IPv4, IPv6, IPv4, ...)
 *   c        test/bench/pcapcount.c (pcap_next_ex loop), compiled with gcc -O2 -lpcap
 *   state    heap retained by a finished replay (after global.gc()), 200 k vs 2 M
 *            packets, and the scan table's size
 * Every timed measure is one warm-up run then RUNS (default 3) runs; the median is
 * reported. The Node measures run one after the other in this process (the reader and
 * decoders are shared code, as in iplog itself); the C loop runs in a child process and
 * times itself from pcap_open_offline to pcap_close, the span timed here around each
 * Node run. The capture is read once before timing, so every reader sees it page-cached.
 *
 * `global.gc` is needed for the heap figures: without --expose-gc this script re-runs
 * itself with it (and with the caller's node flags, so `--cpu-prof` still applies).
 * `--only full` runs just that measure: the profiling entry in docs/benchmarks.md.
 * `--only live` runs the live-capture benchmark instead (test/bench/live.ts: root, network
 * namespaces, tcpreplay); --quick, --runs and --write-doc are passed on to it.
 * `--only logs` runs the log-rules benchmark (test/bench/logs.ts: 1,000,000 auth.log lines,
 * iplog's rules and fail2ban-regex with Debian's sshd filter); a full run ends with it.
 * `--write-doc` replaces the text between the results markers of docs/benchmarks.md.
 * Exit status 1 when a sanity check fails (wrong packet or line count), not when a
 * target is missed: the targets are reported, not enforced.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultFlags, type Settings } from '../../src/config/settings';
import { checkOptions } from '../../src/config/check';
import { benchSettingsOf } from '../helpers/settings';
import { replay, Engine } from '../../src/pipeline';
import { TextSink } from '../../src/output/sinks/text';
import { readCapture } from '../../src/capture/read';
import { ipv4Offset } from '../../src/decode/link';
import { decodeIpv4, IPV4_OK } from '../../src/decode/ipv4';
import { DecodedPacket } from '../../src/decode/packet';
import { Anomalies } from '../../src/decode/anomalies';
import { ensureBenchPcap, expectedLines, FULL_PACKETS, QUICK_PACKETS, type BenchPcap } from './make-bench-pcap';
import { ensureBench6Pcap } from './make-bench-pcap6';
import { measureSpoof, renderSpoof, SPOOF_SOURCES, SPOOF_MEMORY, type SpoofResult } from './spoof-rss';
import { DEFAULT_MODES, MODE_NAMES, PROFILES, STAGE_MODES, measureModes, measureStartup, measureThreads, onePacketPcap, renderModes, renderStartup, renderThreads, treeOf, type ModeName, type ModesResult, type StartupResult, type ThreadsResult, type Tree } from './modes';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BENCH_DIR = path.join(ROOT, 'pcaps', 'bench');
const DOC = path.join(ROOT, 'docs', 'benchmarks.md');
const C_SRC = path.join(ROOT, 'test', 'bench', 'pcapcount.c');
const C_BIN = path.join(ROOT, 'dist', 'test', 'bench', 'pcapcount');
const BEGIN = '<!-- bench:results:begin (written by `npm run bench -- --write-doc`) -->';
const END = '<!-- bench:results:end -->';

/** DESIGN.md "Performance targets" */
const TARGET_PPS = 2_000_000;
const TARGET_C_RATIO = 0.25;

const MEASURES = ['read', 'decode', 'full', 'full6', 'c', 'state', 'modes', 'startup', 'threads', 'spoof'] as const;
/** DESIGN.md / issue 8: IPv6 replay at least this share of the IPv4 replay's packets/s */
const TARGET_V6_RATIO = 0.8;
type MeasureName = (typeof MEASURES)[number];

interface Options {
  quick: boolean;
  runs: number;
  only: Set<MeasureName>;
  writeDoc: boolean;
  /** another built checkout whose bin/iplog the whole-process measures run too (before/after) */
  compare: string | null;
  profiles: string[];
  modes: ModeName[];
  startupRuns: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, runs: 3, only: new Set(MEASURES), writeDoc: false, compare: null, profiles: [...PROFILES], modes: [...DEFAULT_MODES], startupRuns: 20 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') o.quick = true;
    else if (a === '--compare') o.compare = path.resolve(argv[++i] ?? usage('--compare needs a directory'));
    else if (a === '--startup-runs') o.startupRuns = Number(argv[++i]);
    else if (a === '--profiles') o.profiles = (argv[++i] ?? '').split(',').filter((x) => x !== '');
    else if (a === '--modes') {
      const names = (argv[++i] ?? '').split(',');
      for (const n of names) if (!(MODE_NAMES as readonly string[]).includes(n)) usage(`unknown mode '${n}' (${MODE_NAMES.join(',')})`);
      o.modes = names as ModeName[];
    }
    else if (a === '--write-doc') o.writeDoc = true;
    else if (a === '--runs') o.runs = Number(argv[++i]);
    else if (a === '--only') {
      const names = (argv[++i] ?? '').split(',');
      for (const n of names) if (!(MEASURES as readonly string[]).includes(n)) usage(`unknown measure '${n}'`);
      o.only = new Set(names as MeasureName[]);
    } else usage(`unknown argument '${a}'`);
  }
  if (!Number.isInteger(o.runs) || o.runs < 1) usage('--runs needs a positive integer');
  if (!Number.isInteger(o.startupRuns) || o.startupRuns < 1) usage('--startup-runs needs a positive integer');
  if (o.writeDoc && (o.only.size !== MEASURES.length || o.quick)) usage('--write-doc records the full run: no --only, no --quick');
  return o;
}

function usage(msg: string): never {
  process.stderr.write(`bench: ${msg}\nusage: run.js [--quick] [--runs N] [--only ${MEASURES.join(',')}] [--compare DIR] [--profiles compat,modern] [--modes ${MODE_NAMES.join(',')}] [--startup-runs N] [--write-doc]\n`);
  process.exit(2);
}

// ---------------------------------------------------------------- timing helpers

interface Sample {
  /** wall seconds of the timed span */
  sec: number;
  /** CPU seconds (user + system, all threads of this process) in the span */
  cpu: number;
}

interface Timed {
  runs: Sample[];
  median: Sample;
}

function median(xs: Sample[]): Sample {
  const s = [...xs].sort((a, b) => a.sec - b.sec);
  return s[(s.length - 1) >> 1]!;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** One timed run of `fn` after a forced full GC. */
async function sample(fn: () => Promise<void>): Promise<Sample> {
  gc();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const t1 = process.hrtime.bigint();
  const c = process.cpuUsage(c0);
  return { sec: Number(t1 - t0) / 1e9, cpu: (c.user + c.system) / 1e6 };
}

/** One warm-up, then `runs` timed runs of `fn` (which checks its own result). */
async function timed(runs: number, fn: () => Promise<void>): Promise<Timed> {
  await fn();
  const samples: Sample[] = [];
  for (let r = 0; r < runs; r++) samples.push(await sample(fn));
  return { runs: samples, median: median(samples) };
}

/**
 * timed() for two measures whose ratio is reported (full and full6): both warm-ups, then
 * their runs alternate, so that both meet the same load on a shared machine (run one
 * after the other, a load that came or went between them moved the ratio by ±30 %).
 */
async function timedPair(runs: number, a: () => Promise<void>, b: () => Promise<void>): Promise<[Timed, Timed]> {
  await a();
  await b();
  const sa: Sample[] = [];
  const sb: Sample[] = [];
  for (let r = 0; r < runs; r++) {
    sa.push(await sample(a));
    sb.push(await sample(b));
  }
  return [
    { runs: sa, median: median(sa) },
    { runs: sb, median: median(sb) },
  ];
}

// ---------------------------------------------------------------- the measures

const failures: string[] = [];
function check(ok: boolean, what: string): void {
  if (!ok) failures.push(what);
}

/** Reader alone, with the C loop's per-packet work (IPv4 source, TCP flags, SYN count). */
async function measureRead(cap: BenchPcap, runs: number): Promise<{ t: Timed; sum: number }> {
  let lastSum = 0;
  const t = await timed(runs, async () => {
    let syn = 0;
    let sum = 0;
    const an = new Anomalies();
    const s = await readCapture(
      cap.path,
      (b, off, caplen, _len, _sec, _nsec, _lt) => {
        if (caplen >= 48 && b[off + 12] === 0x08 && b[off + 13] === 0x00 && b[off + 14] === 0x45) {
          const src = (b[off + 26]! << 24) | (b[off + 27]! << 16) | (b[off + 28]! << 8) | b[off + 29]!;
          sum = Math.imul(sum ^ src, 16777619);
          if ((b[off + 47]! & 0x12) === 0x02) syn++;
        }
      },
      an,
    );
    check(s.frames === cap.packets && syn === cap.packets, `read: ${s.frames} frames, ${syn} SYNs, expected ${cap.packets}`);
    lastSum = sum >>> 0;
  });
  return { t, sum: lastSum };
}

/** Reader + link + IPv4 decoders (the pipeline's own), then the TCP flags byte. */
async function measureDecode(cap: BenchPcap, runs: number): Promise<Timed> {
  return timed(runs, async () => {
    const an = new Anomalies();
    const p = new DecodedPacket();
    let syn = 0;
    const s = await readCapture(
      cap.path,
      (buf, off, caplen, _len, sec, nsec, lt) => {
        const ip = ipv4Offset(buf, off, caplen, lt, an);
        if (ip < 0) return;
        p.reset(buf, ip, caplen - (ip - off), sec, nsec);
        if (decodeIpv4(p, an) !== IPV4_OK || p.proto !== 6 || p.l4Avail < 14) return;
        if ((buf[p.l4Off + 13]! & 0x12) === 0x02) syn++;
      },
      an,
    );
    check(s.frames === cap.packets && syn === cap.packets, `decode: ${s.frames} frames, ${syn} SYNs, expected ${cap.packets}`);
    check(an.nonZero().length === 0, `decode: anomalies ${JSON.stringify(an.nonZero())}`);
  });
}

/** iplog -m -N: scans only, no resolver (normalised by checkOptions as the CLI does). */
function benchSettings(file: string): Settings {
  const s = benchSettingsOf(defaultFlags(), { replayFile: file });
  const fatal = checkOptions(s);
  if (fatal !== undefined) throw new Error(`bench settings rejected: ${fatal}`);
  return s;
}

interface FullResult {
  engine: Engine;
  /** bytes of framed text the sink was given (and dropped) */
  outBytes: number;
}

/** One replay of the whole pipeline into a TextSink whose writer drops the text. */
async function replayOnce(cap: BenchPcap): Promise<FullResult> {
  let outBytes = 0;
  const sink = new TextSink((chunk) => {
    outBytes += chunk.length;
  });
  const r = await replay(benchSettings(cap.path), cap.path, sink, null);
  if (r.error !== null) throw r.error;
  const e = r.engine;
  const want = expectedLines(cap.packets);
  check(e.packets === cap.packets && e.ipv4Packets === cap.packets, `full: ${e.packets} frames, ${e.ipv4Packets} IPv4, expected ${cap.packets}`);
  check(e.out.lines === want, `full: ${e.out.lines} iplog lines, expected ${want}`);
  return { engine: e, outBytes };
}

/** One replay of the IPv6 capture: every frame must decode as IPv6. */
async function replayOnce6(cap: BenchPcap): Promise<FullResult> {
  let outBytes = 0;
  const sink = new TextSink((chunk) => {
    outBytes += chunk.length;
  });
  const r = await replay(benchSettings(cap.path), cap.path, sink, null);
  if (r.error !== null) throw r.error;
  const e = r.engine;
  check(e.packets === cap.packets && e.ipv6Packets === cap.packets, `full6: ${e.packets} frames, ${e.ipv6Packets} IPv6, expected ${cap.packets}`);
  return { engine: e, outBytes };
}

/** full and full6, their runs alternating (timedPair). */
async function measureFullPair(cap: BenchPcap, cap6: BenchPcap, runs: number): Promise<[{ t: Timed; last: FullResult }, { t: Timed; last: FullResult }]> {
  let last: FullResult | null = null;
  let last6: FullResult | null = null;
  const [t, t6] = await timedPair(
    runs,
    async () => {
      last = await replayOnce(cap);
    },
    async () => {
      last6 = await replayOnce6(cap6);
    },
  );
  return [
    { t, last: last! },
    { t: t6, last: last6! },
  ];
}

async function measureFull6(cap: BenchPcap, runs: number): Promise<{ t: Timed; last: FullResult }> {
  let last: FullResult | null = null;
  const t = await timed(runs, async () => {
    last = await replayOnce6(cap);
  });
  return { t, last: last! };
}

async function measureFull(cap: BenchPcap, runs: number): Promise<{ t: Timed; last: FullResult }> {
  let last: FullResult | null = null;
  const t = await timed(runs, async () => {
    last = await replayOnce(cap);
  });
  return { t, last: last! };
}

interface CResult {
  t: Timed;
  /** the loop's fold of the source addresses (the read-only measure computes the same) */
  sum: number;
  compiler: string;
  libpcap: string;
}

/** Build pcapcount when missing or older than its source, then run it 1 + runs times. */
function measureC(cap: BenchPcap, runs: number): CResult | string {
  try {
    const stale = !fs.existsSync(C_BIN) || fs.statSync(C_BIN).mtimeMs < fs.statSync(C_SRC).mtimeMs;
    if (stale) {
      fs.mkdirSync(path.dirname(C_BIN), { recursive: true });
      execFileSync('gcc', ['-O2', '-o', C_BIN, C_SRC, '-lpcap'], { stdio: ['ignore', 'ignore', 'pipe'] });
    }
  } catch (e) {
    return `could not build ${path.relative(ROOT, C_SRC)} (gcc -O2 ... -lpcap; needs gcc and libpcap-dev): ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`;
  }
  const r = spawnSync(C_BIN, [cap.path, String(runs + 1)], { encoding: 'utf8' });
  if (r.status !== 0) return `pcapcount failed: ${r.stderr || r.error?.message || `status ${r.status}`}`;
  const out = r.stdout.trim().split('\n');
  const lib = out[0]!.startsWith('# ') ? out.shift()!.slice(2) : 'libpcap (version unknown)';
  const samples: Sample[] = [];
  let sum = -1;
  for (const line of out.slice(1)) {
    const m = /packets=(\d+) syn=(\d+) sum=([0-9a-f]+) ns=(\d+)/.exec(line);
    if (m === null) return `pcapcount: unexpected output '${line}'`;
    sum = parseInt(m[3]!, 16);
    check(Number(m[1]) === cap.packets && Number(m[2]) === cap.packets, `c: ${m[1]} packets, ${m[2]} SYNs, expected ${cap.packets}`);
    // CPU of the child is not split per run; the loop is single-threaded, so CPU ≈ wall.
    samples.push({ sec: Number(m[4]) / 1e9, cpu: Number(m[4]) / 1e9 });
  }
  let gccVersion = 'gcc (version unknown)';
  try {
    gccVersion = firstLine(execFileSync('gcc', ['--version'], { encoding: 'utf8' }));
  } catch {
    // the binary was built earlier; the compiler is gone
  }
  return { t: { runs: samples, median: median(samples) }, sum, compiler: gccVersion, libpcap: lib };
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}

interface StateResult {
  packets: number;
  heapBefore: number;
  /** largest heapUsed seen between reader chunks (no forced GC: includes garbage) */
  heapPeak: number;
  heapAfter: number;
  arrayBuffersDelta: number;
  rss: number;
  /** most (source, destination) pairs linked at any chunk boundary, and at end of input */
  pairsMax: number;
  pairsAtEof: number;
  /** after the end-of-input drain */
  pairsAfter: number;
  scanCapacity: number;
  evicted: number;
  evictedInMode: number;
}

/**
 * Memory of one replay. This drives the Engine the way replay() does (same reader, same
 * between-chunk flush) so that the scan table and the heap can be sampled at every chunk
 * boundary (each 1 MiB, about 13,800 packets) and before the end-of-input drain. The
 * retained figures are taken after forced full GCs with the engine still referenced.
 */
async function measureState(cap: BenchPcap): Promise<StateResult> {
  gc();
  gc();
  const m0 = process.memoryUsage();
  const sink = new TextSink(() => {});
  const engine = new Engine(benchSettings(cap.path), sink, null);
  let pairsMax = 0;
  let heapPeak = m0.heapUsed;
  const s = await readCapture(cap.path, engine.onFrame, engine.an, {
    between: () => {
      sink.flush();
      const pairs = engine.scans.size();
      if (pairs > pairsMax) pairsMax = pairs;
      const h = process.memoryUsage().heapUsed;
      if (h > heapPeak) heapPeak = h;
      if (engine.out.pending() > 0) return engine.out.idle();
      return undefined;
    },
  });
  const pairsAtEof = engine.scans.size();
  await engine.finish();
  check(s.frames === cap.packets && engine.out.lines === expectedLines(cap.packets), `state: ${s.frames} frames, ${engine.out.lines} lines`);
  gc();
  gc();
  const m1 = process.memoryUsage();
  return {
    packets: cap.packets,
    heapBefore: m0.heapUsed,
    heapPeak,
    heapAfter: m1.heapUsed,
    arrayBuffersDelta: m1.arrayBuffers - m0.arrayBuffers,
    rss: m1.rss,
    pairsMax,
    pairsAtEof,
    pairsAfter: engine.scans.size(),
    scanCapacity: engine.scans.buckets * 4,
    evicted: engine.an.get('scan.evicted'),
    evictedInMode: engine.an.get('scan.evicted_in_mode'),
  };
}

// ---------------------------------------------------------------- report

const mpps = (packets: number, s: Sample): string => (packets / s.sec / 1e6).toFixed(2);
const nsPer = (packets: number, s: Sample): string => ((s.sec * 1e9) / packets).toFixed(0);
const kib = (n: number): string => `${(n / 1024).toFixed(0)} KiB`;
const runsText = (packets: number, t: Timed): string => t.runs.map((s) => mpps(packets, s)).join(' / ');

function machine(): { cpu: string; nproc: string; node: string; date: string; commit: string; os: string } {
  let cpu = 'unknown';
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1]!.trim();
  } catch {
    cpu = os.cpus()[0]?.model ?? 'unknown';
  }
  let nproc = String(os.availableParallelism?.() ?? os.cpus().length);
  const np = spawnSync('nproc', { encoding: 'utf8' });
  if (np.status === 0) nproc = np.stdout.trim();
  const head = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' });
  const commit = head.status === 0 ? head.stdout.trim() + (dirty.stdout.trim() ? ' (with uncommitted changes)' : '') : '(no commit yet; working tree)';
  let osName = `${os.type()} ${os.release()}`;
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'));
    if (m) osName = `${m[1]}, kernel ${os.release()}`;
  } catch {
    // keep uname
  }
  return { cpu, nproc, node: process.version, date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), commit, os: osName };
}

interface Results {
  cap: BenchPcap;
  runs: number;
  read?: { t: Timed; sum: number };
  decode?: Timed;
  full?: { t: Timed; last: FullResult };
  full6?: { t: Timed; last: FullResult; cap: BenchPcap };
  c?: CResult | string;
  state: StateResult[];
  modes?: ModesResult;
  startup?: StartupResult;
  threads?: ThreadsResult;
  threadsPackets?: number;
  spoof?: SpoofResult;
  /** 1-minute load average when the run started (others' jobs on a shared machine skew every figure) */
  load: number;
}

/** CPU nanoseconds per packet of the median run. */
function nsCpu(P: number, t: Timed): string {
  return ((t.median.cpu * 1e9) / P).toFixed(0);
}

function render(r: Results): string {
  const P = r.cap.packets;
  const mc = machine();
  const L: string[] = [];
  L.push(`Machine: ${mc.cpu}, nproc ${mc.nproc}, ${mc.os}. Node ${mc.node}` + (typeof r.c === 'object' ? `; ${r.c.compiler}, ${r.c.libpcap}.` : '.'));
  L.push(`Date: ${mc.date}. Commit: ${mc.commit}. Load average at start: ${r.load.toFixed(2)}.`);
  L.push(`Capture: \`pcaps/bench/${path.basename(r.cap.path)}\` (${P.toLocaleString('en-US')} packets, ${(fs.statSync(r.cap.path).size / 1e6).toFixed(0)} MB, page-cached). Median of ${r.runs} runs after one warm-up.`);
  L.push('');
  L.push('| measure | packets/s (median) | ns/packet | runs (M packets/s) | CPU/wall | vs C loop |');
  L.push('|---|---:|---:|---|---:|---:|');
  const cMed = typeof r.c === 'object' ? r.c.t.median : null;
  const row = (name: string, t: Timed | undefined): void => {
    if (t === undefined) return;
    const m = t.median;
    const ratio = cMed === null ? '—' : (cMed.sec / m.sec).toFixed(3);
    L.push(`| ${name} | ${mpps(P, m)} M | ${nsPer(P, m)} | ${runsText(P, t)} | ${(m.cpu / m.sec).toFixed(2)} | ${ratio} |`);
  };
  if (typeof r.c === 'object') row('C libpcap `pcap_next_ex` loop (`pcapcount.c`)', r.c.t);
  row('read only: `readCapture`, same per-packet work as C', r.read?.t);
  row('decode only: + `ipv4Offset` + `decodeIpv4` + TCP flags', r.decode);
  row('**full pipeline** `replay()`, `-m -N`, discarding sink', r.full?.t);
  if (r.full6 !== undefined) row(`full pipeline, **IPv6** capture (\`${path.basename(r.full6.cap.path)}\`)`, r.full6.t);
  L.push('');
  if (typeof r.c === 'string') L.push(`C loop not measured: ${r.c}`, '');
  if (r.full !== undefined) {
    const e = r.full.last.engine;
    const an = e.an.nonZero().map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ') || 'none';
    L.push(`Full pipeline work (last run): ${e.packets.toLocaleString('en-US')} frames, ${e.ipv4Packets.toLocaleString('en-US')} IPv4, ` +
      `${e.out.lines} iplog lines (expected ${expectedLines(P)}: 8 SYN scans detected + expired), ${r.full.last.outBytes} bytes of output dropped; ` +
      `anomaly counters: ${an}.`);
    L.push('');
  }
  if (r.full6 !== undefined) {
    const e = r.full6.last.engine;
    const an = e.an.nonZero().map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ') || 'none';
    L.push(`IPv6 full pipeline work (last run): ${e.packets.toLocaleString('en-US')} frames, ${e.ipv6Packets.toLocaleString('en-US')} IPv6, ` +
      `${e.out.lines} iplog lines, ${r.full6.last.outBytes} bytes of output dropped; anomaly counters: ${an}.`);
    L.push('');
  }
  if (r.modes !== undefined) L.push(...renderModes(r.modes, cMed === null ? null : cMed.sec));
  if (r.startup !== undefined) L.push(...renderStartup(r.startup));
  if (r.threads !== undefined) L.push(...renderThreads(r.threads, r.threadsPackets ?? 0));
  if (r.spoof !== undefined) L.push(...renderSpoof(r.spoof));
  if (r.state.length > 0) {
    L.push('| bounded state: replay of | heap used before | peak during run | retained after (GC) | Δ retained | Δ ArrayBuffers | RSS after | scan pairs: max during run / at EOF / after drain (cap) | scan.evicted | evicted in mode |');
    L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const s of r.state) {
      L.push(`| ${s.packets.toLocaleString('en-US')} packets | ${kib(s.heapBefore)} | ${kib(s.heapPeak)} | ${kib(s.heapAfter)} | ${kib(s.heapAfter - s.heapBefore)} | ${kib(s.arrayBuffersDelta)} | ${(s.rss / 1048576).toFixed(0)} MiB | ${s.pairsMax} / ${s.pairsAtEof} / ${s.pairsAfter} (${s.scanCapacity}) | ${s.evicted.toLocaleString('en-US')} | ${s.evictedInMode} |`);
    }
    L.push('');
  }
  if (r.full !== undefined) {
    const pps = P / r.full.t.median.sec;
    const lines = [`- full pipeline ≥ ${TARGET_PPS / 1e6} M packets/s on one core: **${(pps / 1e6).toFixed(2)} M — ${pps >= TARGET_PPS ? 'met' : 'NOT met'}**`];
    if (cMed !== null) {
      const ratio = cMed.sec / r.full.t.median.sec;
      lines.push(`- full pipeline ≥ ${TARGET_C_RATIO} of the C loop: **${ratio.toFixed(3)} — ${ratio >= TARGET_C_RATIO ? 'met' : 'NOT met'}**` +
        ` (the target needs ${((TARGET_C_RATIO * P) / cMed.sec / 1e6).toFixed(2)} M packets/s here)`);
    }
    if (r.full6 !== undefined) {
      const ratio = r.full.t.median.sec / r.full6.t.median.sec;
      lines.push(`- IPv6 replay ≥ ${TARGET_V6_RATIO} of the IPv4 replay's packets/s: **${ratio.toFixed(2)} — ${ratio >= TARGET_V6_RATIO ? 'met' : 'NOT met'}** (CPU time per packet: IPv4 ${nsCpu(P, r.full.t)} ns, IPv6 ${nsCpu(P, r.full6.t)} ns)`);
    }
    L.push('Targets (DESIGN.md):', ...lines);
  }
  if (failures.length > 0) L.push('', `SANITY CHECK FAILED: ${failures.join('; ')}`);
  return L.join('\n') + '\n';
}

function writeDoc(text: string): void {
  const doc = fs.readFileSync(DOC, 'utf8');
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${path.relative(ROOT, DOC)}: results markers not found`);
  fs.writeFileSync(DOC, doc.slice(0, a + BEGIN.length) + '\n\n' + text + '\n' + doc.slice(b));
}

// ---------------------------------------------------------------- main

/** Read a file once, 1 MiB at a time (into the page cache, not into the heap). */
function touch(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.allocUnsafe(1 << 20);
    while (fs.readSync(fd, b, 0, b.length, null) > 0);
  } finally {
    fs.closeSync(fd);
  }
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const say = (m: string): void => void process.stderr.write(`bench: ${m}\n`);
  const packets = o.quick ? QUICK_PACKETS : FULL_PACKETS;
  const cap = ensureBenchPcap(BENCH_DIR, packets);
  if (cap.generated) say(`generated ${path.relative(ROOT, cap.path)} in ${cap.seconds.toFixed(2)} s`);
  // the bounded-state comparison replays the small file too
  const small = o.quick || !o.only.has('state') ? null : ensureBenchPcap(BENCH_DIR, QUICK_PACKETS);
  // page-cache the captures so no reader pays for the disk
  for (const c of [cap, small]) if (c !== null) touch(c.path);

  const res: Results = { cap, runs: o.runs, state: [], load: os.loadavg()[0]! };
  if (o.only.has('read')) {
    say('read only ...');
    res.read = await measureRead(cap, o.runs);
  }
  if (o.only.has('decode')) {
    say('decode only ...');
    res.decode = await measureDecode(cap, o.runs);
  }
  const cap6 = o.only.has('full6') ? ensureBench6Pcap(BENCH_DIR, packets) : null;
  if (cap6 !== null) {
    if (cap6.generated) say(`generated ${path.relative(ROOT, cap6.path)} in ${cap6.seconds.toFixed(2)} s`);
    touch(cap6.path);
  }
  if (o.only.has('full') && cap6 !== null) {
    // their ratio is a target (issue 8): the IPv4 and IPv6 runs alternate
    say('full pipeline, IPv4 and IPv6 runs alternating ...');
    const [f4, f6] = await measureFullPair(cap, cap6, o.runs);
    res.full = f4;
    res.full6 = { ...f6, cap: cap6 };
  } else if (o.only.has('full')) {
    say('full pipeline ...');
    res.full = await measureFull(cap, o.runs);
  } else if (cap6 !== null) {
    say('full pipeline, IPv6 ...');
    res.full6 = { ...(await measureFull6(cap6, o.runs)), cap: cap6 };
  }
  if (o.only.has('c')) {
    say('C libpcap loop ...');
    res.c = measureC(cap, o.runs);
    if (typeof res.c === 'object' && res.read !== undefined) {
      check(res.c.sum === res.read.sum, `c and read disagree on the bytes: sums ${res.c.sum.toString(16)} and ${res.read.sum.toString(16)}`);
    }
  }
  if (o.only.has('modes') || o.only.has('startup')) {
    const trees: Tree[] = [treeOf(ROOT, 'this tree')];
    if (o.compare !== null) trees.push(treeOf(o.compare, path.basename(o.compare)));
    if (o.only.has('modes')) {
      say(`whole process, output modes (${o.profiles.join(', ')}; ${trees.map((t) => t.label).join(' vs ')}) ...`);
      res.modes = await measureModes(cap.path, cap.packets, trees, o.profiles, o.modes, o.runs, () => {});
      for (const [k, c] of res.modes.cells) {
        const [t, p, m] = k.split('/');
        // a stage of the modern path (detectors turned off) has no line count to check
        if (STAGE_MODES.has(m as ModeName)) continue;
        // every line mode: one line per flood SYN in compat
        if (m !== 'scans' && p === 'compat') check(c.median.lines >= cap.packets - cap.packets / 1000, `modes: ${k} wrote ${c.median.lines} lines`);
        // compat: the 8 scanners' detected + expired lines only (the flood churns one bucket);
        // modern judges each spoofed source by its own contacts: the flood's sources that stay
        // in the source table long enough for four silent contacts are SYN scanners too
        if (m === 'scans' && p === 'compat') check(c.median.lines === expectedLines(cap.packets), `modes: ${k} (${trees[Number(t)]!.label}) wrote ${c.median.lines} lines, expected ${expectedLines(cap.packets)}`);
        if (m === 'scans' && p !== 'compat') check(c.median.lines >= expectedLines(cap.packets), `modes: ${k} (${trees[Number(t)]!.label}) wrote ${c.median.lines} lines, expected at least ${expectedLines(cap.packets)}`);
      }
    }
    if (o.only.has('startup')) {
      say(`start-up, ${o.startupRuns} runs per tree ...`);
      const one = onePacketPcap(cap.path, path.join(BENCH_DIR, 'one-packet.pcap'));
      res.startup = await measureStartup(one, trees, o.startupRuns);
    }
  }
  if (o.only.has('threads')) {
    say(`two-stage replay, --threads 1 vs 2, ${o.runs} runs each ...`);
    res.threads = await measureThreads(cap.path, path.join(ROOT, 'bin', 'iplog'), o.runs);
    res.threadsPackets = cap.packets;
    check(res.threads.identical, 'threads: --threads 1 and 2 wrote different output');
  }
  if (o.only.has('spoof')) {
    res.spoof = measureSpoof(ROOT, BENCH_DIR, o.quick ? SPOOF_SOURCES / 10 : SPOOF_SOURCES, SPOOF_MEMORY, say);
    for (const x of res.spoof.runs) {
      check(x.scannerDetected, `spoof: the real scanner was not detected at --state-memory ${x.stateMemory}`);
    }
  }
  if (o.only.has('state')) {
    say('bounded state ...');
    if (small !== null) res.state.push(await measureState(small));
    res.state.push(await measureState(cap));
  }
  const text = render(res);
  process.stdout.write('\n' + text);
  if (o.writeDoc) {
    if (failures.length > 0) say('sanity checks failed: docs/benchmarks.md not written');
    else {
      writeDoc(text);
      say(`wrote ${path.relative(ROOT, DOC)}`);
    }
  }
  let logs = 0;
  if (o.only.size === MEASURES.length) {
    // the log rules against fail2ban-regex (test/bench/logs.ts), after the packet measures
    say('log rules vs fail2ban-regex ...');
    logs = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, 'logs.js'), ...(o.quick ? ['--quick'] : [])], { stdio: 'inherit' }).status ?? 1;
  }
  return failures.length > 0 || logs !== 0 ? 1 : 0;
}

const liveAt = process.argv.indexOf('--only');
if (liveAt >= 0 && process.argv[liveAt + 1] === 'logs') {
  // `--only logs`: the log rules against fail2ban-regex (test/bench/logs.ts)
  const args = process.argv.slice(2).filter((_, i) => i + 2 !== liveAt && i + 2 !== liveAt + 1 && process.argv[i + 2] !== '--write-doc');
  const r = spawnSync(process.execPath, [path.join(__dirname, 'logs.js'), ...args], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
} else if (liveAt >= 0 && process.argv[liveAt + 1] === 'live') {
  // `--only live`: the live-capture benchmark (namespaces, tcpreplay, root) is test/bench/live.ts
  const args = process.argv.slice(2).filter((_, i) => i + 2 !== liveAt && i + 2 !== liveAt + 1);
  const r = spawnSync(process.execPath, [path.join(__dirname, 'live.js'), ...args], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
} else if (typeof (globalThis as { gc?: unknown }).gc !== 'function') {
  // Re-run with --expose-gc (keeping the caller's node flags, e.g. --cpu-prof).
  const r = spawnSync(process.execPath, [...process.execArgv, '--expose-gc', __filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
} else {
  main().then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`bench: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}

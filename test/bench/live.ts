/**
 * Live-capture benchmark (`npm run bench -- --only live`, or `node dist/test/bench/live.js`):
 * the CPU the live sensor spends per packet for the full pipeline, and the kernel's drops,
 * with tcpreplay sending as fast as it can into a veth pair between two network namespaces
 * (created here, private addresses only, deleted at the end). Needs root, `ip netns`,
 * tcpreplay and the capture addon; otherwise it says why and exits 0.
 *
 *   node dist/test/bench/live.js [--quick] [--runs N] [--profiles compat,modern] [--write-doc]
 *
 * Method:
 *  - the live capture of make-bench-pcap.ts (LIVE_PLAN: 2 M 60-byte SYNs of a spoofed flood
 *    from 256 sources of 198.51.100.0/24 to 192.0.2.1, plus 8 SYN scanners of 192.0.2.0/24
 *    and 203.0.113.0/24; documentation addresses only, as everything a test sends; 200 k
 *    with --quick), sent by `tcpreplay --topspeed -K` from the sender's namespace (the
 *    highest rate tcpreplay offers here);
 *  - the sensor's namespace has 192.0.2.1/24 on its end of the pair, with the capture's
 *    destination MAC, and drops its kernel input (iptables), so the kernel does not answer
 *    2 M SYNs (the capture sees the frames before that);
 *  - `iplog --profile P -o -L -m -N -i vv0` (scans only, no resolver: the replay benchmark's
 *    `full` measure) for each profile P (compat, modern), standard output to a file;
 *  - CPU = utime + stime of the sensor process (all its threads: the capture thread and
 *    the JavaScript thread) from /proc/PID/stat, from just before tcpreplay starts until
 *    the process is idle again after it ends, divided by the packets the engine handled;
 *  - drops: pcap_stats of the sensor (`iplog exiting` record of its operational log);
 *  - reference: tcpdump (`-w /dev/null`, same filter and snap length, block mode) on the
 *    same traffic, its CPU measured the same way.
 * Before each run it waits (up to 2 min) for a second with ≥ 90 % idle CPU: the machine may
 * be shared. Every run checks that the engine handled every packet sent and that each of the
 * eight scanners was detected (the modern profile also names the flood's 256 sources, each
 * of which probes many closed ports). The median run (by CPU per packet) of each profile is
 * reported.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureBenchPcap, expectedLines, FULL_PACKETS, LIVE_PLAN, QUICK_PACKETS, SCANNERS, type BenchPcap } from './make-bench-pcap';
import { buildFilter } from '../../src/capture/live';
import { defaultFlags } from '../../src/config/settings';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BIN = path.join(ROOT, 'bin', 'iplog');
const ADDON = path.join(ROOT, 'native', 'build', 'Release', 'iplog_capture.node');
const DOC = path.join(ROOT, 'docs', 'benchmarks.md');
const BEGIN = '<!-- bench:live:begin (written by `npm run bench -- --only live --write-doc`) -->';
const END = '<!-- bench:live:end -->';
const TARGET_US = 1.0;
const VICTIM = '192.0.2.1';
const dotted = (a: number): string => [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.');
/** clock ticks per second of /proc/PID/stat times */
const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

interface Options {
  quick: boolean;
  runs: number;
  writeDoc: boolean;
  profiles: string[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, runs: 3, writeDoc: false, profiles: ['compat', 'modern'] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') o.quick = true;
    else if (a === '--write-doc') o.writeDoc = true;
    else if (a === '--runs') o.runs = Number(argv[++i]);
    else if (a === '--profiles') o.profiles = (argv[++i] ?? '').split(',').filter((x) => x !== '');
    else {
      process.stderr.write(`bench live: unknown argument '${a}'\nusage: live.js [--quick] [--runs N] [--profiles compat,modern] [--write-doc]\n`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(o.runs) || o.runs < 1) o.runs = 3;
  if (o.writeDoc && o.quick) {
    process.stderr.write('bench live: --write-doc records the full run: no --quick\n');
    process.exit(2);
  }
  return o;
}

const say = (m: string): void => void process.stderr.write(`bench live: ${m}\n`);

function skipReason(): string | null {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root (ip netns, libpcap)';
  for (const t of ['ip', 'tcpreplay', 'tcpdump']) if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) return `needs ${t}`;
  if (!fs.existsSync(ADDON)) return `the capture addon is not built (${ADDON})`;
  return null;
}

function sh(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

class Lab {
  readonly a = `iplog-bench-${process.pid}-a`;
  readonly v = `iplog-bench-${process.pid}-v`;
  dropsInput = false;

  up(): void {
    for (const ns of [this.a, this.v]) {
      sh(['ip', 'netns', 'add', ns]);
      sh(['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
      spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
      spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
    }
    // the capture's MACs: destination 02:00:00:00:00:01, source 02:00:00:00:00:02
    sh(['ip', 'netns', 'exec', this.v, 'ip', 'link', 'add', 'vv0', 'address', '02:00:00:00:00:01', 'type', 'veth', 'peer', 'name', 'va0', 'address', '02:00:00:00:00:02']);
    sh(['ip', 'netns', 'exec', this.v, 'ip', 'link', 'set', 'va0', 'netns', this.a]);
    sh(['ip', 'netns', 'exec', this.v, 'ip', 'addr', 'add', `${VICTIM}/24`, 'dev', 'vv0']);
    sh(['ip', 'netns', 'exec', this.a, 'ip', 'link', 'set', 'va0', 'up']);
    sh(['ip', 'netns', 'exec', this.v, 'ip', 'link', 'set', 'vv0', 'up']);
    this.dropsInput = spawnSync('ip', ['netns', 'exec', this.v, 'iptables', '-A', 'INPUT', '-j', 'DROP']).status === 0;
  }

  down(): void {
    spawnSync('ip', ['netns', 'del', this.a]);
    spawnSync('ip', ['netns', 'del', this.v]);
  }
}

/** utime + stime of a process, in seconds. */
function cpuOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Idle and total jiffies of the whole machine. */
function cpuTimes(): { idle: number; total: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3]! + (f[4] ?? 0), total: f.reduce((a, b) => a + b, 0) };
}

/** The machine may be shared: wait (up to 2 min) for a second with at least 90 % idle CPU. */
async function waitQuiet(): Promise<number> {
  const end = Date.now() + 120_000;
  let idle = 0;
  while (Date.now() < end) {
    const a = cpuTimes();
    await sleep(1000);
    const b = cpuTimes();
    idle = (b.idle - a.idle) / Math.max(1, b.total - a.total);
    if (idle >= 0.9) break;
  }
  return idle;
}

/** Wait until the process used no CPU for `quietMs` (it has handled everything). */
async function settle(pid: number, quietMs = 600, maxMs = 60_000): Promise<number> {
  const end = Date.now() + maxMs;
  let last = cpuOf(pid);
  let since = Date.now();
  while (Date.now() < end) {
    await sleep(100);
    const c = cpuOf(pid);
    if (c !== last) {
      last = c;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) break;
  }
  return last;
}

interface Sent {
  pps: number;
  seconds: number;
  packets: number;
}

function replay(lab: Lab, cap: BenchPcap): Sent {
  const r = spawnSync('ip', ['netns', 'exec', lab.a, 'tcpreplay', '--topspeed', '-K', '-i', 'va0', cap.path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tcpreplay: ${r.stderr}`);
  const out = r.stdout + r.stderr;
  const rated = /Rated:\s*[\d.]+ Bps,\s*[\d.]+ Mbps,\s*([\d.]+) pps/.exec(out);
  const actual = /Actual:\s*(\d+) packets .* in ([\d.]+) seconds/.exec(out);
  return { pps: rated ? Number(rated[1]) : NaN, seconds: actual ? Number(actual[2]) : NaN, packets: actual ? Number(actual[1]) : NaN };
}

interface Run {
  sent: Sent;
  cpu: number;
  packets: number;
  received: number;
  dropped: number;
  ifDropped: number;
  /** scanners (of the eight) named by a `SYN scan detected` line */
  detected: number;
}

function collect(child: ChildProcess): { stderr: () => string } {
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { stderr: () => err };
}

function records(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const l of text.split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      out.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      // partial line
    }
  }
  return out;
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function runIplog(lab: Lab, cap: BenchPcap, out: string, profile: string): Promise<Run> {
  const pidFile = path.join(os.tmpdir(), `iplog-bench-${process.pid}.pid`);
  const fd = fs.openSync(out, 'w');
  // IPLOG_BENCH_SENSOR_ARGS: more sensor options, e.g. `--metrics 127.0.0.1:9108` (docs/benchmarks.md)
  const extra = (process.env.IPLOG_BENCH_SENSOR_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn('ip', ['netns', 'exec', lab.v, process.execPath, BIN, '--config', '/dev/null', '--profile', profile, '--pid-file', pidFile, '-o', '-L', '-m', '-N', '-i', 'vv0', ...extra], {
    stdio: ['ignore', fd, 'pipe'],
    env: { ...process.env, IPLOG_LOG_LEVEL: 'info', TZ: 'UTC' },
  });
  fs.closeSync(fd);
  const err = collect(child);
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  try {
    await until(() => records(err.stderr()).some((r) => r.msg === 'iplog started'), 30_000, 'iplog to start');
    const pid = child.pid!;
    await settle(pid, 300);
    const idle = await waitQuiet();
    if (idle < 0.9) say(`  the machine is busy (${(idle * 100).toFixed(0)} % idle): figures are noisy`);
    const c0 = cpuOf(pid);
    const sent = replay(lab, cap);
    const c1 = await settle(pid);
    child.kill('SIGTERM');
    await exited;
    const exit = records(err.stderr()).find((r) => r.msg === 'iplog exiting') as { packets: number; capture: { received: number; dropped: number; ifDropped: number } } | undefined;
    if (exit === undefined) throw new Error(`no exit record:\n${err.stderr().slice(-2000)}`);
    const found = fs.readFileSync(out, 'utf8').split('\n').filter((l) => l.includes('SYN scan detected'));
    const detected = SCANNERS.filter((a) => found.some((l) => l.includes(`from ${dotted(a)} `))).length;
    return { sent, cpu: c1 - c0, packets: exit.packets, received: exit.capture.received, dropped: exit.capture.dropped, ifDropped: exit.capture.ifDropped, detected };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

async function runTcpdump(lab: Lab, cap: BenchPcap): Promise<{ sent: Sent; cpu: number; received: number; dropped: number }> {
  const filter = buildFilter(defaultFlags(), [VICTIM]);
  const child = spawn('ip', ['netns', 'exec', lab.v, 'tcpdump', '-i', 'vv0', '-n', '-s', '1500', '-w', '/dev/null', filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  const err = collect(child);
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  try {
    await until(() => /listening on/.test(err.stderr()), 15_000, 'tcpdump to listen');
    const pid = child.pid!;
    await settle(pid, 300);
    await waitQuiet();
    const c0 = cpuOf(pid);
    const sent = replay(lab, cap);
    await sleep(1500); // tcpdump's block timeout is 1 s
    const c1 = await settle(pid);
    child.kill('SIGINT');
    await exited;
    const got = /(\d+) packets received by filter/.exec(err.stderr());
    const dropped = /(\d+) packets dropped by kernel/.exec(err.stderr());
    return { sent, cpu: c1 - c0, received: got ? Number(got[1]) : NaN, dropped: dropped ? Number(dropped[1]) : NaN };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

function machine(): string {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1]!.trim();
  } catch {
    // keep os.cpus()
  }
  const pcap = spawnSync('node', ['-p', `require(${JSON.stringify(ADDON)}).libVersion()`], { encoding: 'utf8' }).stdout.trim();
  const v = spawnSync('tcpreplay', ['-V'], { encoding: 'utf8' });
  const tr = /tcpreplay version: ([\d.]+)/.exec(`${v.stdout}${v.stderr}`);
  const head = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' });
  const commit = head.status === 0 ? head.stdout.trim() + (dirty.stdout.trim() ? ' (with uncommitted changes)' : '') : '(working tree)';
  return `Machine: ${cpu}, nproc ${os.availableParallelism?.() ?? os.cpus().length}, kernel ${os.release()}. Node ${process.version}, ${pcap}, tcpreplay ${tr?.[1] ?? '?'}.\nDate: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}. Commit: ${commit}. Load average at start: ${os.loadavg()[0]!.toFixed(2)}.`;
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const why = skipReason();
  if (why !== null) {
    say(`skipped: ${why}`);
    return 0;
  }
  const packets = o.quick ? QUICK_PACKETS : FULL_PACKETS;
  const cap = ensureBenchPcap(path.join(ROOT, 'pcaps', 'bench'), packets, false, LIVE_PLAN);
  const header = machine();
  const lab = new Lab();
  const failures: string[] = [];
  const runs = new Map<string, Run[]>();
  let ref: Awaited<ReturnType<typeof runTcpdump>> | null = null;
  const out = path.join(os.tmpdir(), `iplog-bench-live-${process.pid}.out`);
  try {
    lab.up();
    if (!lab.dropsInput) say('iptables is missing: the sensor namespace answers the SYNs (more load on the machine)');
    // interleaved: run i of every profile, then run i + 1, so the profiles meet the same machine
    for (let i = 0; i < o.runs; i++) {
      for (const profile of o.profiles) {
        say(`iplog --profile ${profile} run ${i + 1}/${o.runs} ...`);
        const r = await runIplog(lab, cap, out, profile);
        if (!runs.has(profile)) runs.set(profile, []);
        runs.get(profile)!.push(r);
        say(`  ${r.sent.pps.toFixed(0)} pps offered, ${((r.cpu / r.packets) * 1e6).toFixed(3)} µs CPU/packet, ${r.dropped} dropped by the kernel, ${r.packets} handled`);
        if (r.packets !== packets) failures.push(`${profile} run ${i + 1}: the engine handled ${r.packets} of ${packets} packets`);
        if (r.detected !== expectedLines(packets) / 2) failures.push(`${profile} run ${i + 1}: ${r.detected} of the ${expectedLines(packets) / 2} scanners detected`);
      }
    }
    say('tcpdump reference ...');
    ref = await runTcpdump(lab, cap);
  } finally {
    lab.down();
    fs.rmSync(out, { force: true });
  }
  const us = (r: { cpu: number }, n: number): string => ((r.cpu / n) * 1e6).toFixed(3);
  const L: string[] = [header];
  L.push(`Capture: \`pcaps/bench/${path.basename(cap.path)}\` (${packets.toLocaleString('en-US')} frames of 60 bytes: 256 spoofed sources of 198.51.100.0/24 to ${VICTIM}, 8 scanners), \`tcpreplay --topspeed -K\` into a veth pair; sensor \`iplog --profile P -o -L -m -N -i vv0\`${lab.dropsInput ? '' : ' (kernel input not dropped: iptables missing)'}. Median of ${o.runs} runs by CPU per packet, profiles interleaved.`);
  L.push('');
  L.push('| capturer | offered (pps) | handled | kernel drops | CPU (s) | CPU µs/packet | runs (µs/packet) |');
  L.push('|---|---:|---:|---:|---:|---:|---|');
  const meds = new Map<string, Run>();
  for (const [profile, rs] of runs) {
    const med = [...rs].sort((a, b) => a.cpu / a.packets - b.cpu / b.packets)[(rs.length - 1) >> 1]!;
    meds.set(profile, med);
    L.push(`| **iplog live, ${profile}**, full pipeline (\`-m -N\`) | ${med.sent.pps.toFixed(0)} | ${med.packets.toLocaleString('en-US')} | ${med.dropped} | ${med.cpu.toFixed(2)} | **${us(med, med.packets)}** | ${rs.map((r) => us(r, r.packets)).join(' / ')} |`);
  }
  if (ref !== null) L.push(`| tcpdump \`-w /dev/null\` (C libpcap, block mode) | ${ref.sent.pps.toFixed(0)} | ${ref.received.toLocaleString('en-US')} | ${ref.dropped} | ${ref.cpu.toFixed(2)} | ${us(ref, packets)} | |`);
  L.push('');
  const all = [...runs.values()].flat();
  const maxDrops = Math.max(...all.map((r) => r.dropped));
  L.push('Targets (DESIGN.md, issue 9):');
  for (const [profile, med] of meds) {
    const perPacket = (med.cpu / med.packets) * 1e6;
    L.push(`- ${profile}: at most ${TARGET_US} µs of CPU per packet, full pipeline: **${perPacket.toFixed(3)} µs — ${perPacket <= TARGET_US ? 'met' : 'NOT met'}** (one core would keep up with about ${(1 / perPacket).toFixed(2)} M packets/s)`);
  }
  L.push(`- no kernel drops at the highest rate tcpreplay offers here (${Math.min(...all.map((r) => r.sent.pps)).toFixed(0)}–${Math.max(...all.map((r) => r.sent.pps)).toFixed(0)} pps): **${maxDrops === 0 ? 'met' : `NOT met (${maxDrops} dropped)`}**`);
  if (failures.length > 0) L.push('', `SANITY CHECK FAILED: ${failures.join('; ')}`);
  const text = L.join('\n') + '\n';
  process.stdout.write('\n' + text);
  if (o.writeDoc) {
    if (failures.length > 0) say('sanity checks failed: docs/benchmarks.md not written');
    else {
      const doc = fs.readFileSync(DOC, 'utf8');
      const a = doc.indexOf(BEGIN);
      const b = doc.indexOf(END);
      if (a < 0 || b < a) throw new Error('docs/benchmarks.md: live results markers not found');
      fs.writeFileSync(DOC, doc.slice(0, a + BEGIN.length) + '\n\n' + text + '\n' + doc.slice(b));
      say('wrote docs/benchmarks.md');
    }
  }
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`bench live: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);

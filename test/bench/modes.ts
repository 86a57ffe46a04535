/**
 * Whole-process measures of `npm run bench` (issue 10): the iplog command itself, started
 * as a user starts it (`node bin/iplog -r FILE ...`), one process per run.
 *
 *  modes    the output modes on the 2 M-packet flood, per profile (compat, modern):
 *             scans      `-m -N`                              scans only (16 lines)
 *             lines      `-N`                                 every line: one per SYN in compat
 *             json       `-N --json -`                        every event as JSON on stdout
 *             dryrun     `-N --ban-backend dry-run`           every line + bans decided, none run
 *           figure: packets / CPU seconds (user + system of the iplog process and all its
 *           threads, from the shell's `times` after it exits), i.e. start-up included.
 *  startup  a replay of a one-packet capture (`--profile compat -r one-packet.pcap -N`),
 *           20 runs (or --startup-runs N), median wall-clock time of the whole process.
 *
 * `--compare DIR` runs the same commands with DIR/bin/iplog too (another built checkout,
 * e.g. the code before a change), interleaved run by run with this tree's, so both see the
 * same machine; the report gives both and their ratio, and whether the outputs were
 * byte-identical (SHA-1 of standard output).
 *
 * Standard output of iplog goes through a pipe into this process, which hashes and counts
 * it (so --json - has a real reader, and the reader's CPU is not the measured process's).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const MODE_NAMES = ['scans', 'lines', 'json', 'dryrun', 'contacts', 'judging'] as const;
export type ModeName = (typeof MODE_NAMES)[number];
/** the modes measured unless --modes names others */
export const DEFAULT_MODES: readonly ModeName[] = ['scans', 'lines', 'json', 'dryrun'];
/**
 * Stages of the modern profile's TCP path: scans only with detectors turned off, so that a
 * stage's cost is the difference between two modes (docs/benchmarks.md, issue 9 item 9).
 * Measured for the modern profile only.
 */
export const STAGE_MODES: ReadonlySet<ModeName> = new Set<ModeName>(['contacts', 'judging']);

/** whether mode m is measured for profile p (the stage modes: modern only) */
export function measuredFor(p: string, m: ModeName): boolean {
  return p === 'modern' || !STAGE_MODES.has(m);
}
export const PROFILES = ['compat', 'modern'] as const;

export const MODE_ARGS: Record<ModeName, readonly string[]> = {
  scans: ['-m', '-N'],
  lines: ['-N'],
  json: ['-N', '--json', '-'],
  dryrun: ['-N', '--ban-backend', 'dry-run'],
  contacts: ['-m', '-N', '--detect-syn-flood=false', '--detect-portscan=false', '--detect-syn-scan=false'],
  judging: ['-m', '-N', '--detect-syn-flood=false'],
};

export const MODE_TEXT: Record<ModeName, string> = {
  scans: 'scans only',
  lines: 'every line',
  json: 'every event as JSON',
  dryrun: 'every line + dry-run bans',
  contacts: 'stage: contact tracking alone',
  judging: 'stage: contacts and scan judging (no SYN-flood aggregate)',
};

export interface ProcRun {
  /** wall seconds from spawn to exit */
  wall: number;
  /** user + system CPU seconds of the iplog process */
  cpu: number;
  bytes: number;
  lines: number;
  sha1: string;
  status: number;
  stderr: string;
}

const TIMES = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/;

/**
 * Runs `node BIN args` under `bash -c '"$@"; times'`: the shell's `times` prints its
 * children's user and system time, i.e. the iplog process's (all threads), after it exits.
 */
export function runIplog(bin: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<ProcRun> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('bash', ['-c', '"$@"; s=$?; times >&2; exit $s', 'iplog-bench', process.execPath, bin, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: env ?? process.env,
    });
    const h = createHash('sha1');
    let bytes = 0;
    let lines = 0;
    child.stdout.on('data', (b: Buffer) => {
      h.update(b);
      bytes += b.length;
      for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) lines++;
    });
    let err = '';
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString('utf8');
      if (err.length > 1 << 16) err = err.slice(-(1 << 15));
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const m = TIMES.exec(err.trimEnd());
      if (m === null) {
        reject(new Error(`no CPU times from bash for ${args.join(' ')}: ${err.slice(-500)}`));
        return;
      }
      const cpu = Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
      // drop the two lines of `times` from the diagnostics
      const stderr = err.trimEnd().split('\n').slice(0, -2).join('\n');
      resolve({ wall, cpu, bytes, lines, sha1: h.digest('hex'), status: code ?? -1, stderr });
    });
  });
}

export interface Tree {
  /** label in the report: `this tree`, or the compared directory */
  label: string;
  bin: string;
  commit: string;
}

export function treeOf(dir: string, label: string): Tree {
  const bin = path.join(dir, 'bin', 'iplog');
  if (!fs.existsSync(bin) || !fs.existsSync(path.join(dir, 'dist', 'src', 'main.js'))) {
    throw new Error(`${dir}: no built iplog there (bin/iplog and dist/src/main.js)`);
  }
  const r = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: dir, encoding: 'utf8' });
  return { label, bin, commit: r.status === 0 ? r.stdout.trim() : '?' };
}

export interface ModeCell {
  runs: ProcRun[];
  median: ProcRun;
}

export interface ModesResult {
  packets: number;
  file: string;
  trees: Tree[];
  profiles: string[];
  modes: ModeName[];
  /** [tree][profile][mode] */
  cells: Map<string, ModeCell>;
  /** profiles that this tree's iplog refused (message) */
  missing: Map<string, string>;
}

export const cellKey = (tree: number, profile: string, mode: string): string => `${tree}/${profile}/${mode}`;

function medianBy(xs: ProcRun[]): ProcRun {
  const s = [...xs].sort((a, b) => a.cpu - b.cpu);
  return s[(s.length - 1) >> 1]!;
}

/**
 * Every (profile, mode) for every tree, `runs` times, interleaved: run r of tree 0, run r
 * of tree 1, then the next mode. One untimed run of the scans-only mode per tree first
 * (node and the capture in the page cache).
 */
export async function measureModes(
  file: string,
  packets: number,
  trees: Tree[],
  profiles: string[],
  modes: ModeName[],
  runs: number,
  say: (m: string) => void,
): Promise<ModesResult> {
  const res: ModesResult = { packets, file, trees, profiles, modes, cells: new Map(), missing: new Map() };
  const samples = new Map<string, ProcRun[]>();
  for (let t = 0; t < trees.length; t++) await runIplog(trees[t]!.bin, ['-r', file, ...MODE_ARGS.scans]);
  for (let r = 0; r < runs; r++) {
    for (const p of profiles) {
      for (const m of modes) {
        if (!measuredFor(p, m)) continue;
        for (let t = 0; t < trees.length; t++) {
          const key = cellKey(t, p, m);
          if (res.missing.has(`${t}/${p}`)) continue;
          say(`run ${r + 1}/${runs}: ${p} ${m} (${trees[t]!.label})`);
          const one = await runIplog(trees[t]!.bin, ['--profile', p, '-r', file, ...MODE_ARGS[m]]);
          if (one.status !== 0) {
            if (/profile/i.test(one.stderr) && r === 0 && m === modes[0]) {
              res.missing.set(`${t}/${p}`, one.stderr.split('\n')[0] ?? `status ${one.status}`);
              continue;
            }
            throw new Error(`iplog --profile ${p} -r ${path.basename(file)} ${MODE_ARGS[m].join(' ')} (${trees[t]!.label}): status ${one.status}: ${one.stderr.slice(-400)}`);
          }
          let list = samples.get(key);
          if (list === undefined) samples.set(key, (list = []));
          list.push(one);
        }
      }
    }
  }
  for (const [k, list] of samples) res.cells.set(k, { runs: list, median: medianBy(list) });
  return res;
}

/** A pcap holding the first packet of `from` (a classic pcap of 60-byte frames). */
export function onePacketPcap(from: string, to: string): string {
  const fd = fs.openSync(from, 'r');
  const b = Buffer.alloc(24 + 16 + 60);
  try {
    fs.readSync(fd, b, 0, b.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (!fs.existsSync(to) || !fs.readFileSync(to).equals(b)) fs.writeFileSync(to, b);
  return to;
}

export interface StartupResult {
  trees: Tree[];
  runs: number;
  /** per tree, wall and CPU of every run */
  samples: ProcRun[][];
  args: string[];
}

export async function measureStartup(file: string, trees: Tree[], runs: number): Promise<StartupResult> {
  const args = ['--profile', 'compat', '-r', file, '-N'];
  const samples: ProcRun[][] = trees.map(() => []);
  for (let t = 0; t < trees.length; t++) await runIplog(trees[t]!.bin, args);
  for (let r = 0; r < runs; r++) {
    for (let t = 0; t < trees.length; t++) {
      const one = await runIplog(trees[t]!.bin, args);
      if (one.status !== 0 || one.lines !== 1) throw new Error(`startup run (${trees[t]!.label}): status ${one.status}, ${one.lines} lines: ${one.stderr}`);
      samples[t]!.push(one);
    }
  }
  return { trees, runs, samples, args };
}

function med(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

export function renderStartup(r: StartupResult): string[] {
  const L: string[] = [];
  L.push(`Start-up: \`iplog ${r.args.join(' ').replace(/\S*one-packet\.pcap/, 'one-packet.pcap')}\` (one 60-byte SYN, one line), ${r.runs} runs per tree, interleaved; whole process, spawn to exit.`);
  L.push('');
  L.push('| iplog | commit | wall, median | wall, min–max | CPU, median |');
  L.push('|---|---|---:|---:|---:|');
  r.trees.forEach((t, i) => {
    const w = r.samples[i]!.map((s) => s.wall);
    const c = r.samples[i]!.map((s) => s.cpu);
    L.push(`| ${t.label} | ${t.commit} | **${med(w).toFixed(3)} s** | ${Math.min(...w).toFixed(3)}–${Math.max(...w).toFixed(3)} s | ${med(c).toFixed(3)} s |`);
  });
  L.push('');
  return L;
}

/** The report of measureModes; `cSec` is the C loop's median time over the same file (or null). */
export function renderModes(r: ModesResult, cSec: number | null): string[] {
  const P = r.packets;
  const L: string[] = [];
  const pps = (c: ModeCell): string => `${(P / c.median.cpu / 1e6).toFixed(2)} M`;
  L.push(`Whole process (\`node bin/iplog --profile P -r ${path.basename(r.file)} ...\`, standard output into a pipe read by the benchmark): packets/s = ${P.toLocaleString('en-US')} / CPU seconds (user + system, all threads, start-up included); median of ${r.cells.values().next().value?.runs.length ?? 0} runs, interleaved.`);
  L.push('');
  const cmp = r.trees.length > 1;
  const head = ['profile', 'mode', 'arguments'];
  r.trees.forEach((t) => head.push(`${t.label}: packets/s (CPU s)`));
  if (cmp) head.push(`${r.trees[0]!.label} / ${r.trees[1]!.label}`);
  head.push(`vs C loop (${r.trees[0]!.label})`, 'lines', cmp ? 'output identical' : 'output MB');
  L.push(`| ${head.join(' | ')} |`);
  L.push(`|${head.map((_, i) => (i < 3 ? '---' : '---:')).join('|')}|`);
  for (const p of r.profiles) {
    for (const m of r.modes) {
      if (!measuredFor(p, m)) continue;
      const cells = r.trees.map((_, t) => r.cells.get(cellKey(t, p, m)));
      const row = [p, MODE_TEXT[m], `\`${MODE_ARGS[m].join(' ')}\``];
      cells.forEach((c, t) => row.push(c === undefined ? `— (${r.missing.get(`${t}/${p}`) ?? 'not run'})` : `${pps(c)} (${c.median.cpu.toFixed(2)})`));
      const c0 = cells[0];
      if (cmp) {
        const c1 = cells[1];
        row.push(c0 && c1 ? `**${(c1.median.cpu / c0.median.cpu).toFixed(2)}×**` : '—');
      }
      row.push(c0 && cSec !== null ? (cSec / c0.median.cpu).toFixed(3) : '—');
      row.push(c0 ? c0.median.lines.toLocaleString('en-US') : '—');
      if (cmp) {
        const c1 = cells[1];
        row.push(c0 && c1 ? (c0.runs.every((x) => x.sha1 === c1.runs[0]!.sha1) && c1.runs.every((x) => x.sha1 === c1.runs[0]!.sha1) ? 'yes' : '**NO**') : '—');
      } else row.push(c0 ? (c0.median.bytes / 1e6).toFixed(0) : '—');
      L.push(`| ${row.join(' | ')} |`);
    }
  }
  L.push('');
  r.trees.forEach((t, i) => {
    const c = r.cells.get(cellKey(i, 'compat', 'scans'));
    const m = r.cells.get(cellKey(i, 'modern', 'scans'));
    if (c === undefined || m === undefined) return;
    const ratio = c.median.cpu / m.median.cpu;
    L.push(`Target (issue 9): modern scans-only ≥ ${MODERN_TARGET} of compat's packets/s in the same run (${t.label}): **${ratio.toFixed(2)} — ${ratio >= MODERN_TARGET ? 'met' : 'NOT met'}** (CPU ${m.median.cpu.toFixed(2)} s against ${c.median.cpu.toFixed(2)} s; modern wrote ${m.median.lines.toLocaleString('en-US')} lines).`);
    L.push('');
  });
  return L;
}

/**
 * threads (issue 10 item 4): `iplog --profile compat -r FILE -m -N --threads 1` and
 * `--threads 2` (the reader in a worker thread, src/capture/threaded.ts), interleaved run by
 * run, `runs` each after one warm-up of each; wall time (what a second core can shorten) and
 * CPU of the whole process, start-up included, and the load average before and after.
 */
export interface ThreadsResult {
  runs: number;
  args: string[];
  /** [threads 1, threads 2]: every run */
  samples: [ProcRun[], ProcRun[]];
  load: [string, string];
  identical: boolean;
}

export async function measureThreads(file: string, bin: string, runs: number): Promise<ThreadsResult> {
  const args = ['--profile', 'compat', '-r', file, '-m', '-N'];
  const load0 = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const samples: [ProcRun[], ProcRun[]] = [[], []];
  for (const t of [1, 2]) await runIplog(bin, [...args, '--threads', String(t)]);
  for (let r = 0; r < runs; r++) {
    for (const t of [1, 2]) {
      const one = await runIplog(bin, [...args, '--threads', String(t)]);
      if (one.status !== 0) throw new Error(`threads ${t}: status ${one.status}: ${one.stderr}`);
      samples[t - 1]!.push(one);
    }
  }
  const load1 = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const identical = samples.flat().every((s) => s.sha1 === samples[0][0]!.sha1);
  return { runs, args, samples, load: [load0, load1], identical };
}

export function renderThreads(r: ThreadsResult, packets: number): string[] {
  const L: string[] = [];
  L.push(`Two-stage replay: \`iplog ${r.args.join(' ').replace(/\S*\/(syn-flood[^ ]*)/, '$1')} --threads N\`, ${r.runs} runs each, interleaved; whole process, spawn to exit. Load average before: ${r.load[0]}, after: ${r.load[1]}.`);
  L.push('');
  L.push('| threads | wall, median | packets/s (wall) | wall, min–max | CPU, median | output identical |');
  L.push('|---|---:|---:|---:|---:|---:|');
  const w = r.samples.map((s) => med(s.map((x) => x.wall)));
  r.samples.forEach((s, i) => {
    const ws = s.map((x) => x.wall);
    L.push(`| ${i + 1} | **${w[i]!.toFixed(3)} s** | ${(packets / w[i]! / 1e6).toFixed(2)} M | ${Math.min(...ws).toFixed(3)}–${Math.max(...ws).toFixed(3)} s | ${med(s.map((x) => x.cpu)).toFixed(3)} s | ${r.identical ? 'yes' : 'NO'} |`);
  });
  L.push('');
  L.push(`Two-stage / one thread (wall): **${(w[0]! / w[1]!).toFixed(2)}×**`);
  L.push('');
  return L;
}

/** issue 9: the modern profile's scans-only replay keeps this share of compat's packets/s */
export const MODERN_TARGET = 0.7;

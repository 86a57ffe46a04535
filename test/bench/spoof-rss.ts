/**
 * Memory under 1,000,000 spoofed sources (issue 9 item 5/9): peak RSS of the modern
 * profile's replay against `--state-memory`, part of `npm run bench` (`--only spoof`).
 *
 * The capture (written here, classic pcap, Ethernet, 5 µs apart from 2024-01-01T00:00:00Z):
 *  - SOURCES frames, each a TCP SYN from a source of its own: 2001:db8:XXXX:XXXX::1, the 32
 *    bits a bijective mix of the frame's index, so every frame comes from another /64 (the
 *    modern profile keys an IPv6 source by its /64: one million source keys), to
 *    2001:db8::1, random ports; only documentation addresses (2001:db8::/32);
 *  - 1 frame in 1000 instead from one real scanner, 2001:db8:5ca::10, to ports 1, 2, 3 ...:
 *    its detection shows that the full tables still judge (the probes evicted while pending
 *    resolve at once as silent).
 * Each contact goes silent and makes a source entry when it resolves, so a million source
 * keys pass through the source table (and two million entries through the two tables).
 *
 * Measure: `node bin/iplog --profile modern -r FILE -m -N --state-memory M` for each M, one
 * process each, peak resident set (the kernel's high-water mark, `process.resourceUsage()
 * .maxRSS` at exit, read by a --require'd hook), against:
 *  - the baseline: the same command on a one-frame capture with --state-memory 1M (Node,
 *    the code, the reader, the smallest tables);
 *  - the tables: bytes of every typed array of the modern engine (contacts, sources,
 *    timers), allocated at start from --state-memory and never grown;
 *  - the bound: baseline + tables + SLACK_MIB (reader chunks, output buffers, the heap's
 *    garbage between collections). The bound must hold whatever the number of sources.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hasSize, pcapFileHeader, prng, removeStale, writeAtomically } from './make-bench-pcap';
import { ModernDetect, modernSizes } from '../../src/detect/modern/engine';
import { defaultFlags } from '../../src/config/settings';
import { benchSettingsOf } from '../helpers/settings';
import { tcp6Checksum } from './make-bench-pcap6';

export const SPOOF_SOURCES = 1_000_000;
export const SPOOF_VERSION = 1;
/** state memory sizes measured (bytes) */
export const SPOOF_MEMORY = [16, 48, 128].map((m) => m * 1024 * 1024);
/** memory above baseline + tables the bound allows (MiB) */
export const SLACK_MIB = 32;

const FRAME = 74;
const RECORD = 16 + FRAME;
const FILE_HEADER = 24;
const START_SEC = 1704067200;
const STEP_US = 5;
const SEED = 0x5b00f1d5;
const SCANNER_EVERY = 1000;

/** a bijection of 32-bit values: odd multiplies and xorshifts mod 2^32 */
function mix32(x: number): number {
  x = Math.imul(x ^ 0x3c6ef372, 0x9e3779b1);
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  return x >>> 0;
}

export function spoofPcapName(frames: number): string {
  return `spoof6-${frames}-v${SPOOF_VERSION}.pcap`;
}

/** Write the capture of `frames` frames (see above) to `file`. */
export function writeSpoofPcap(file: string, frames: number): void {
  const rnd = prng(SEED);
  const perChunk = Math.floor((4 << 20) / RECORD);
  const buf = Buffer.alloc(perChunk * RECORD);
  writeAtomically(file, (fd) => {
    fs.writeSync(fd, pcapFileHeader());
    const dst = Buffer.from('20010db8000000000000000000000001', 'hex');
    for (let r = 0; r < perChunk; r++) {
      const o = r * RECORD;
      buf.writeUInt32LE(FRAME, o + 8);
      buf.writeUInt32LE(FRAME, o + 12);
      const e = o + 16;
      buf.set([0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x86, 0xdd], e);
      const h = e + 14;
      buf.writeUInt32BE(0x60000000, h);
      buf.writeUInt16BE(20, h + 4);
      buf[h + 6] = 6;
      buf.writeUInt32BE(0x20010db8, h + 8);
      dst.copy(buf, h + 24);
      const t = h + 40;
      buf[t + 12] = 0x50;
      buf[t + 13] = 0x02; // SYN
    }
    let r = 0;
    let scan = 0;
    for (let i = 0; i < frames; i++) {
      const o = r * RECORD;
      const us = i * STEP_US;
      buf.writeUInt32LE(START_SEC + Math.floor(us / 1e6), o);
      buf.writeUInt32LE(us % 1e6, o + 4);
      const h = o + 16 + 14;
      const t = h + 40;
      let sport: number;
      let dport: number;
      if (i % SCANNER_EVERY === SCANNER_EVERY - 1) {
        buf.writeUInt32BE(0x05ca0000, h + 12); // 2001:db8:5ca::10
        buf.writeUInt32BE(0, h + 16);
        buf.writeUInt32BE(0x10, h + 20);
        sport = 40000;
        dport = ++scan;
        buf[h + 7] = 52;
      } else {
        // 2001:db8:XXXX:XXXX::1, a /64 of its own
        const m = mix32(i);
        buf.writeUInt32BE(m, h + 12);
        buf.writeUInt32BE(0, h + 16);
        buf.writeUInt32BE(1, h + 20);
        const p = rnd();
        sport = 1024 + ((p & 0xffff) % 64512);
        dport = 1 + ((p >>> 16) % 65535);
        buf[h + 7] = 64;
      }
      buf.writeUInt16BE(sport, t);
      buf.writeUInt16BE(dport, t + 2);
      buf.writeUInt32BE(rnd(), t + 4);
      buf.writeUInt16BE(1024, t + 14);
      tcp6Checksum(buf, h, t);
      if (++r === perChunk) {
        fs.writeSync(fd, buf, 0, r * RECORD);
        r = 0;
      }
    }
    if (r > 0) fs.writeSync(fd, buf, 0, r * RECORD);
  });
}

/** The capture of `frames` frames in `dir` (made when missing; older versions deleted). */
export function ensureSpoofPcap(dir: string, frames: number): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, spoofPcapName(frames));
  removeStale(dir, 'spoof6', SPOOF_VERSION);
  const ok = hasSize(file, FILE_HEADER + frames * RECORD);
  if (!ok) writeSpoofPcap(file, frames);
  return file;
}

/** Bytes of every typed array the modern engine allocates at start for `stateMemory`. */
export function modernTableBytes(stateMemory: number): { bytes: number; contacts: number; sources: number } {
  const s = benchSettingsOf(defaultFlags(), { profile: 'modern', stateMemory });
  const noop = (): void => undefined;
  const ctx = { flags: s.flags, emit: noop, rules: null, hooks: { foolNmap: null }, trust: null } as never;
  const an = { counts: new Float64Array(0) } as never;
  const sizes = modernSizes(stateMemory);
  const m = new ModernDetect(s, ctx, an, 1, sizes);
  let bytes = 0;
  const seen = new Set<ArrayBuffer>();
  const walk = (o: object, depth: number): void => {
    for (const v of Object.values(o)) {
      if (ArrayBuffer.isView(v)) {
        if (!seen.has(v.buffer as ArrayBuffer)) {
          seen.add(v.buffer as ArrayBuffer);
          bytes += v.buffer.byteLength;
        }
      } else if (v !== null && typeof v === 'object' && depth < 2 && !Array.isArray(v)) walk(v as object, depth + 1);
    }
  };
  walk(m, 0);
  return { bytes, contacts: sizes.contacts, sources: sizes.sources };
}

export interface SpoofRun {
  stateMemory: number;
  tables: number;
  contacts: number;
  sources: number;
  peakRss: number;
  cpu: number;
  lines: number;
  scannerDetected: boolean;
  counters: string;
}

export interface SpoofResult {
  frames: number;
  file: string;
  baseline: number;
  runs: SpoofRun[];
}

/** Peak RSS (bytes) and the output of one `node bin/iplog ...` run with the exit hook. */
function runWithRss(bin: string, hook: string, args: string[]): { rss: number; cpu: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--require', hook, bin, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`iplog ${args.join(' ')}: status ${r.status}: ${r.stderr.slice(-500)}`);
  const m = /^iplog-bench-rss (\d+) (\d+)$/m.exec(r.stderr);
  if (m === null) throw new Error(`no RSS record from the exit hook: ${r.stderr.slice(-500)}`);
  return { rss: Number(m[1]) * 1024, cpu: Number(m[2]) / 1e6, stdout: r.stdout, stderr: r.stderr };
}

export function measureSpoof(root: string, benchDir: string, frames: number, memories: number[], say: (m: string) => void): SpoofResult {
  const file = ensureSpoofPcap(benchDir, frames);
  const bin = path.join(root, 'bin', 'iplog');
  const hook = path.join(__dirname, 'rss-hook.js');
  const one = path.join(benchDir, `spoof6-one-frame.pcap`);
  const head = Buffer.alloc(FILE_HEADER + RECORD);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  fs.writeFileSync(one, head);
  const common = ['--config', '/dev/null', '--profile', 'modern', '-m', '-N'];
  say('spoofed sources: baseline (one frame, --state-memory 1M) ...');
  // Node, the code and the reader, with the smallest tables (about 1 MiB)
  const baseline = runWithRss(bin, hook, [...common, '--state-memory', '1M', '-r', one]).rss;
  const runs: SpoofRun[] = [];
  for (const m of memories) {
    say(`spoofed sources: ${frames.toLocaleString('en-US')} frames, --state-memory ${m / 1048576}M ...`);
    const r = runWithRss(bin, hook, [...common, '--state-memory', String(m), '-r', file]);
    const t = modernTableBytes(m);
    const counters = /^iplog: anomalies: (.*?); bans:/m.exec(r.stderr)?.[1] ?? '?';
    runs.push({
      stateMemory: m,
      tables: t.bytes,
      contacts: t.contacts,
      sources: t.sources,
      peakRss: r.rss,
      cpu: r.cpu,
      lines: r.stdout.split('\n').filter((l) => l !== '').length,
      scannerDetected: /SYN scan detected .*from 2001:db8:5ca::10/.test(r.stdout),
      counters,
    });
  }
  return { frames, file, baseline, runs };
}

export function boundOf(r: SpoofResult, run: SpoofRun): number {
  return r.baseline + run.tables + SLACK_MIB * 1048576;
}

export function renderSpoof(r: SpoofResult): string[] {
  const mib = (n: number): string => `${(n / 1048576).toFixed(0)} MiB`;
  const L: string[] = [];
  L.push(`Spoofed sources: \`iplog --profile modern -r ${path.basename(r.file)} -m -N --state-memory M\` (${r.frames.toLocaleString('en-US')} SYNs, every one from a /64 of its own in 2001:db8::/32, plus a real scanner 1 frame in 1000); peak RSS is the process's high-water mark (maxRSS at exit). Baseline (the same command on one frame, --state-memory 1M): ${mib(r.baseline)}. Bound = baseline + the tables allocated at start + ${SLACK_MIB} MiB.`);
  L.push('');
  L.push('| --state-memory | tables allocated (contacts / sources) | peak RSS | bound | within | CPU s | scanner detected | lines | counters |');
  L.push('|---:|---:|---:|---:|---|---:|---|---:|---|');
  for (const x of r.runs) {
    const b = boundOf(r, x);
    L.push(`| ${x.stateMemory / 1048576}M | ${mib(x.tables)} (${x.contacts.toLocaleString('en-US')} / ${x.sources.toLocaleString('en-US')}) | **${mib(x.peakRss)}** | ${mib(b)} | ${x.peakRss <= b ? 'yes' : '**NO**'} | ${x.cpu.toFixed(2)} | ${x.scannerDetected ? 'yes' : '**no**'} | ${x.lines.toLocaleString('en-US')} | ${x.counters} |`);
  }
  L.push('');
  const ok = r.runs.every((x) => x.peakRss <= boundOf(r, x));
  L.push(`Target (issue 9): ${r.frames.toLocaleString('en-US')} spoofed sources keep the peak RSS within the bound at every --state-memory: **${ok ? 'met' : 'NOT met'}**.`);
  L.push('');
  return L;
}

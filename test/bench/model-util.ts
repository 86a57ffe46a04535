/**
 * What the cost models of the modern TCP path share (contact-models.ts, core-hook.ts,
 * core-model.ts): their hashes (the C model, native-core/core.c, has the same two), table
 * sizes, the median of a run's samples, and the command line `[--runs N] [CAPTURE ...]`.
 */
import * as path from 'node:path';
import { benchPcapName, BENCH_PLAN, defaultBenchDir, FULL_PACKETS, LIVE_PLAN } from './make-bench-pcap';

/** a 32-bit mix of one word */
export function mix(a: number): number {
  let h = Math.imul(a ^ 0x5bd1e995, 0x85ebca77);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae3d);
  return h ^ (h >>> 16);
}

/** a 32-bit mix of three words */
export function mix3(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b1, 0x85ebca77);
  h = Math.imul(h ^ b ^ (h >>> 15), 0xc2b2ae3d);
  h = Math.imul(h ^ c ^ (h >>> 13), 0x27d4eb2f);
  return h ^ (h >>> 16);
}

/** the lower median */
export function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  return a[Math.floor((a.length - 1) / 2)]!;
}

/** the smallest power of two of at least twice n (an open-addressing table at most half full) */
export function halfFull(n: number): number {
  let c = 2;
  while (c < n * 2) c <<= 1;
  return c;
}

/**
 * `[--runs N] [CAPTURE ...]`: the runs per measure, and the captures (by default the bench
 * flood and the live benchmark's capture in pcaps/bench/, as `npm run bench` makes them;
 * `named` false then).
 */
export function modelArgs(argv: readonly string[], runs: number): { runs: number; files: string[]; named: boolean } {
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') runs = Number(argv[++i]);
    else files.push(argv[i]!);
  }
  const named = files.length > 0;
  if (!named) for (const plan of [BENCH_PLAN, LIVE_PLAN]) files.push(path.join(defaultBenchDir(), benchPcapName(FULL_PACKETS, plan)));
  return { runs, files, named };
}

/**
 * Before/after of the full pipeline on both bench captures, several built trees in one
 * process: `node dist/test/bench/ab-full.js [--rounds N] TREE...` (TREE: a checkout with
 * dist/ built, e.g. this one and /work/base). Each tree's replay() of the IPv4 and of the
 * IPv6 capture (the `full`/`full6` measures of run.ts, `-m -N` into a dropping sink)
 * after one warm-up each, then N rounds in which every tree replays both captures in
 * turn, so that all of them meet the same load. Reported per tree: CPU time per packet
 * (user + system, min and median over the rounds) and the IPv4/IPv6 ratio; and whether
 * each capture's output (lines and anomaly counters) is the same in every tree.
 * The captures are run.ts's (`npm run bench -- --only full,full6` makes them).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureBenchPcap, FULL_PACKETS } from './make-bench-pcap';
import { ensureBench6Pcap } from './make-bench-pcap6';
import { benchSettingsOf } from '../helpers/settings';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BENCH_DIR = path.join(ROOT, 'pcaps', 'bench');

interface Tree {
  dir: string;
  run(file: string): Promise<{ cpu: number; out: string }>;
}

function load(dir: string): Tree {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { replay } = require(path.join(dir, 'dist/src/pipeline')) as typeof import('../../src/pipeline');
  const { TextSink } = require(path.join(dir, 'dist/src/output/sinks/text')) as typeof import('../../src/output/sinks/text');
  const { defaultFlags } = require(path.join(dir, 'dist/src/config/settings')) as typeof import('../../src/config/settings');
  const { checkOptions } = require(path.join(dir, 'dist/src/config/check')) as typeof import('../../src/config/check');
  /* eslint-enable @typescript-eslint/no-require-imports */
  return {
    dir,
    async run(file) {
      const settings = benchSettingsOf(defaultFlags(), { replayFile: file });
      const fatal = checkOptions(settings);
      if (fatal !== undefined) throw new Error(`bench settings rejected: ${JSON.stringify(fatal)}`);
      let text = '';
      const sink = new TextSink((chunk) => {
        text += chunk;
      });
      const c0 = process.cpuUsage();
      const r = await replay(settings, file, sink, null);
      const c = process.cpuUsage(c0);
      if (r.error !== null) throw r.error;
      return { cpu: (c.user + c.system) / 1e6, out: text + JSON.stringify(r.engine.an.nonZero()) };
    },
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let rounds = 5;
  const dirs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--rounds') rounds = Number(args[++i]);
    else dirs.push(path.resolve(args[i]!));
  }
  if (dirs.length === 0 || !Number.isInteger(rounds) || rounds < 1) {
    process.stderr.write('usage: ab-full.js [--rounds N] TREE...\n');
    process.exit(2);
  }
  const caps = { v4: ensureBenchPcap(BENCH_DIR, FULL_PACKETS), v6: ensureBench6Pcap(BENCH_DIR, FULL_PACKETS) };
  const trees = dirs.map(load);
  const ns: Record<'v4' | 'v6', number[]>[] = trees.map(() => ({ v4: [], v6: [] }));
  const outs: Record<'v4' | 'v6', string>[] = trees.map(() => ({ v4: '', v6: '' }));
  for (const t of trees) for (const k of ['v4', 'v6'] as const) await t.run(caps[k].path);
  for (let r = 0; r < rounds; r++) {
    for (const [i, t] of trees.entries()) {
      for (const k of ['v4', 'v6'] as const) {
        const x = await t.run(caps[k].path);
        ns[i]![k].push((x.cpu * 1e9) / caps[k].packets);
        outs[i]![k] = x.out;
      }
    }
  }
  const stat = (xs: number[]): [number, number] => {
    const s = [...xs].sort((a, b) => a - b);
    return [s[0]!, s[(s.length - 1) >> 1]!];
  };
  console.log(`${rounds} rounds, load average ${os.loadavg()[0]!.toFixed(1)}; CPU ns per packet, min / median`);
  for (const [i, t] of trees.entries()) {
    const [a4, m4] = stat(ns[i]!.v4);
    const [a6, m6] = stat(ns[i]!.v6);
    console.log(`${t.dir}: IPv4 ${a4.toFixed(0)} / ${m4.toFixed(0)}, IPv6 ${a6.toFixed(0)} / ${m6.toFixed(0)}, IPv6/IPv4 packets per CPU second ${(a4 / a6).toFixed(2)} / ${(m4 / m6).toFixed(2)}`);
  }
  for (const k of ['v4', 'v6'] as const) console.log(`${k === 'v4' ? 'IPv4' : 'IPv6'} output the same in every tree: ${outs.every((o) => o[k] === outs[0]![k]) ? 'yes' : 'NO'}`);
}

void main();

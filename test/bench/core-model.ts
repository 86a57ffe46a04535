/**
 * What the modern profile's TCP path may cost for issue 9 item 9's replay ratio (modern at
 * least 0.7 of compat's packets/s, whole process, CPU time), measured in the real pipeline:
 * the same replay (`iplog -r FILE -m -N`) with the modern TCP path replaced by the cost
 * models of test/bench/core-hook.ts, interleaved with compat and the real modern profile.
 *
 *   node dist/test/bench/core-model.js [--runs N] [CAPTURE.pcap ...]
 *
 * Every variant runs unbundled (IPLOG_NO_BUNDLE=1: the hook patches the modules), compat
 * and the real modern profile too, so that all pay the same start-up. The captures default
 * to the bench flood and the live benchmark's capture (pcaps/bench/, made by `npm run
 * bench`). Prints a Markdown table: median CPU seconds and the ratio compat/variant, and
 * each model's counters (contacts, repeats, evictions, TRW alarms); the JavaScript and C
 * cores must agree on them, or the run fails. The C variants need the model addon, built
 * by hand (it is not part of iplog):
 *   node-gyp rebuild --nodedir=/usr --directory=test/bench/native-core
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runIplog } from './modes';
import { median, modelArgs } from './model-util';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BIN = path.join(ROOT, 'bin', 'iplog');
const HOOK = path.join(__dirname, 'core-hook.js');

interface Variant {
  name: string;
  profile: 'compat' | 'modern';
  model: string;
  what: string;
}

const VARIANTS: Variant[] = [
  { name: 'compat', profile: 'compat', model: '', what: 'the compat profile' },
  { name: 'modern', profile: 'modern', model: '', what: 'the modern profile as built' },
  { name: 'floor', profile: 'modern', model: 'floor', what: 'modern, TCP path empty: read, decode, dispatch' },
  { name: 'probe1', profile: 'modern', model: 'probe1', what: 'modern, TCP path = 1 random access (8 MiB table)' },
  { name: 'probe3', profile: 'modern', model: 'probe3', what: 'modern, TCP path = 3 random accesses (8 + 2 + 2 MiB)' },
  { name: 'core', profile: 'modern', model: 'core', what: 'modern, TCP path = contact log + compact scores + per-(dst, port) and per-dst counts' },
  { name: 'core-norev', profile: 'modern', model: 'core-norev', what: 'core without the lookup of the reply direction' },
  { name: 'core-min', profile: 'modern', model: 'core-min', what: 'core-norev without index deletion (optimistic bound)' },
  { name: 'core-tiered', profile: 'modern', model: 'core-tiered', what: 'core, with first contacts in a small admission tier: the log from a second contact on' },
  { name: 'native', profile: 'modern', model: 'native', what: 'core in C (N-API), one call per TCP packet' },
  { name: 'native-batch', profile: 'modern', model: 'native-batch', what: 'core in C, one call per 1,024 TCP packets' },
];

async function main(): Promise<void> {
  const { runs, files } = modelArgs(process.argv.slice(2), 5);
  for (const f of files) {
    if (!fs.existsSync(f)) {
      process.stderr.write(`core-model: ${f}: missing (npm run bench makes the bench captures)\n`);
      process.exit(2);
    }
  }
  const addon = path.join(ROOT, 'test', 'bench', 'native-core', 'build', 'Release', 'core_model.node');
  const variants = VARIANTS.filter((v) => !v.model.startsWith('native') || fs.existsSync(addon));
  if (variants.length < VARIANTS.length) process.stderr.write(`core-model: no ${path.relative(ROOT, addon)}: the native variants are left out (node-gyp rebuild --nodedir=/usr --directory=test/bench/native-core)\n`);
  const out: string[] = [];
  out.push(`Runs per variant: ${runs}, interleaved; whole process, CPU seconds (user + system), median. Load average before: ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}.`);
  out.push('');
  out.push(`| variant | what the TCP path does | ${files.map((f) => `${path.basename(f)} CPU s | ratio`).join(' | ')} |`);
  out.push(`|---|---|${files.map(() => '---:|---:').join('|')}|`);
  const cpu = new Map<string, number[]>();
  const notes: string[] = [];
  for (let fi = 0; fi < files.length; fi++) {
    const samples = variants.map(() => [] as number[]);
    let coreWork: string | null = null;
    for (let r = 0; r < runs; r++) {
      for (let v = 0; v < variants.length; v++) {
        const x = variants[v]!;
        const env: NodeJS.ProcessEnv = { ...process.env, IPLOG_NO_BUNDLE: '1' };
        if (x.model !== '') {
          env.IPLOG_CORE_MODEL = x.model;
          env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --require ${HOOK}`.trim();
        }
        const p = await runIplog(BIN, ['--profile', x.profile, '-r', files[fi]!, '-m', '-N'], env);
        if (p.status !== 0) throw new Error(`${x.name}: exit ${p.status}: ${p.stderr}`);
        samples[v]!.push(p.cpu);
        if (r === 0 && x.model !== '') {
          const line = p.stderr.split('\n').find((l) => l.startsWith('core-model'));
          if (line === undefined) throw new Error(`${x.name}: the hook did not run`);
          notes.push(`${path.basename(files[fi]!)}: ${line}`);
          // the core models (JavaScript and C) must have done the same work
          if ((x.model.startsWith('core') && x.model !== 'core-tiered') || x.model.startsWith('native')) {
            const work = line.replace(/^core-model \S+: /, '').replace(/, sink .*$/, '');
            if (coreWork === null) coreWork = work;
            else if (work !== coreWork) throw new Error(`${x.name} did other work than the first core model: ${work} vs ${coreWork}`);
          }
        }
      }
    }
    variants.forEach((x, v) => cpu.set(`${fi}:${x.name}`, [median(samples[v]!)]));
  }
  for (const x of variants) {
    const cells: string[] = [];
    for (let fi = 0; fi < files.length; fi++) {
      const c = cpu.get(`${fi}:${x.name}`)![0]!;
      const base = cpu.get(`${fi}:compat`)![0]!;
      cells.push(`${c.toFixed(2)} | ${(base / c).toFixed(2)}`);
    }
    out.push(`| ${x.name} | ${x.what} | ${cells.join(' | ')} |`);
  }
  out.push('');
  for (const n of notes) out.push(`- ${n}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`core-model: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});

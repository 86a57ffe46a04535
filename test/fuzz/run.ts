/**
 * `npm run fuzz`: the long fuzzing run (docs/fuzzing.md). Usage:
 *   node dist/test/fuzz/run.js [COUNT_PER_SEED] [SEED,SEED,...]
 * Default: 10,000 cases for each of the seeds 1..5 (50,000 files). Prints the figures and
 * every failure with its (seed, index), which reproduces it; exits 1 if any case failed.
 */
import { join } from 'node:path';
import { fuzz } from './harness';

async function runMain(): Promise<number> {
  const count = Number(process.argv[2] ?? 10_000);
  const seeds = (process.argv[3] ?? '1,2,3,4,5').split(',').map(Number);
  const root = join(__dirname, '..', '..', '..');
  const cpu0 = process.cpuUsage();
  const rep = await fuzz(root, seeds, count, { parallel: Number(process.env.FUZZ_PARALLEL ?? 2), timeoutMs: 20_000 });
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ ...rep, failures: rep.failures.length, harnessCpuMs: Math.round((cpu.user + cpu.system) / 1000) }, null, 1));
  for (const f of rep.failures) console.log(`FAIL seed ${f.seed} case ${f.index}: ${f.problem}\n    input: ${f.what}`);
  return rep.failures.length === 0 ? 0 : 1;
}

runMain().then((c) => process.exit(c));

/**
 * Fuzz worker (a child process of harness.ts): replays cases [from, to) of one seed list
 * through iplog's real entry point, main(), in this process, one after the other, each
 * to a text log (-l) and a JSON file (--json), and checks what they hold. Everything it
 * reports goes to standard error, between markers, together with what main() itself
 * writes there (synchronously, so in order):
 *
 *   \x01BEGIN i <description>      before case i
 *   \x01BAD i <problem>            a problem in case i's outputs
 *   \x01END i <status> <lines> <json lines>
 *
 * Usage: node worker.js ROOT SEED FROM TO TMPDIR
 */
import { readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { main } from '../../src/main';
import { BAD_TEXT, loadSeeds, makeCase, Rng } from './mutate';


function say(s: string): void {
  writeSync(2, s.replace(/\n/g, ' ') + '\n');
}

/** Command-line variants: profile and the flags that change which lines are written. */
function argsFor(seed: number, i: number): string[] {
  const r = new Rng((Math.imul(seed ^ 0x5bd1e995, 31) + i * 7919) >>> 0);
  const a: string[] = ['--profile', r.chance(0.5) ? 'modern' : 'compat', '-N'];
  if (r.chance(0.6)) a.push('-V');
  if (r.chance(0.4)) a.push('-w');
  if (r.chance(0.4)) a.push('-D');
  if (r.chance(0.2)) a.push('-m');
  if (r.chance(0.2)) a.push('-a', '0.0.0.0/0');
  return a;
}

async function run(): Promise<void> {
  const [root, seedS, fromS, toS, tmp] = process.argv.slice(2);
  const seed = Number(seedS);
  const from = Number(fromS);
  const to = Number(toS);
  const seeds = await loadSeeds(root!);
  const schema = JSON.parse(readFileSync(join(root!, 'config', 'iplog-event.schema.json'), 'utf8'));
  const ajv = new Ajv2020({ allErrors: false, strict: true });
  const validate = ajv.compile(schema);
  const cap = join(tmp!, 'case.pcap');
  const txt = join(tmp!, 'case.log');
  const json = join(tmp!, 'case.json');
  for (let i = from; i < to; i++) {
    const c = makeCase(seeds, seed, i);
    writeFileSync(cap, c.bytes);
    for (const f of [txt, json]) rmSync(f, { force: true });
    say(`\x01BEGIN ${i} ${c.what}`);
    let status: number;
    try {
      status = await main(['--config', '/dev/null', ...argsFor(seed, i), '-r', cap, '-l', txt, '--json', json]);
    } catch (e) {
      say(`\x01BAD ${i} main() threw: ${(e as Error)?.stack ?? String(e)}`);
      status = -1;
    }
    const text = existsSync(txt) ? readFileSync(txt, 'utf8') : '';
    const events = existsSync(json) ? readFileSync(json, 'utf8') : '';
    if (BAD_TEXT.test(text)) say(`\x01BAD ${i} text output: ${text.split('\n').find((l) => BAD_TEXT.test(l))}`);
    const lines = events.split('\n').filter((l) => l !== '');
    for (const l of lines) {
      let o: unknown;
      try {
        o = JSON.parse(l);
      } catch {
        say(`\x01BAD ${i} JSON line does not parse: ${l.slice(0, 200)}`);
        break;
      }
      if (!validate(o)) {
        say(`\x01BAD ${i} JSON line outside the schema (${ajv.errorsText(validate.errors)}): ${l.slice(0, 300)}`);
        break;
      }
      if (BAD_TEXT.test(l)) {
        say(`\x01BAD ${i} JSON line: ${l.slice(0, 300)}`);
        break;
      }
    }
    const textLines = text === '' ? 0 : text.split('\n').length - 1;
    say(`\x01END ${i} ${status} ${textLines} ${lines.length}`);
  }
}

run().then(
  () => process.exit(0),
  (e) => {
    say(`\x01FATAL ${(e as Error)?.stack ?? String(e)}`);
    process.exit(2);
  },
);

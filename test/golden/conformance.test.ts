/**
 * The recorded output of the original iplog 2.2.3 as golden tests (the project's copy of
 * the conformance corpus: pcaps/conformance/, test/conformance/out/, .../conf/).
 *
 * Every recorded run `<capture>.<variant>.log` is replayed through bin/iplog in the
 * compat profile with the variant's options, and its log text (timestamps and the
 * life-cycle lines removed) must equal the original's, line for line, with the same
 * untimestamped diagnostics. Cases listed in docs/compat-deviations.txt differ on
 * purpose; each must instead equal its reviewed golden in
 * test/golden/conformance-deviations/ (written by the engine with UPDATE_GOLDEN=1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { VARIANTS } from '../helpers/variants';

const root = join(__dirname, '..', '..', '..');
const corpus = join(root, 'test', 'conformance');
const pcaps = join(root, 'pcaps', 'conformance');
const bin = join(root, 'bin', 'iplog');
const devGoldens = join(root, 'test', 'golden', 'conformance-deviations');
const update = process.env.UPDATE_GOLDEN === '1';


const STAMP = /^[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} /;
const LIFECYCLE = /^(iplog started\.|Caught signal \d+, exiting\.)$/;

function normalise(text: string): { log: string[]; diag: string[] } {
  const log: string[] = [];
  const diag: string[] = [];
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    if (STAMP.test(raw)) {
      const line = raw.slice(16);
      if (!LIFECYCLE.test(line)) log.push(line);
    } else diag.push(raw.replace(/^\S+: Parse Error:/, 'CONF: Parse Error:'));
  }
  return { log, diag: diag.sort() };
}

const deviations = new Map<string, string>();
const devFile = join(root, 'docs', 'compat-deviations.txt');
if (existsSync(devFile)) {
  for (const line of readFileSync(devFile, 'utf8').split('\n')) {
    const m = /^\s*([^#\s]\S*)\s+(.*)$/.exec(line);
    if (m) deviations.set(m[1]!, m[2]!);
  }
}

function run(pcap: string, opts: string[]) {
  return spawnSync(process.execPath, [bin, '-r', pcap, '--profile', 'compat', ...opts], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
    timeout: 60_000,
  });
}

let cases = 0;
for (const file of readdirSync(join(corpus, 'out')).sort()) {
  const m = /^(.+)\.([a-z_0-9]+)\.log$/.exec(file);
  if (!m) continue;
  const [, capture, variant] = m;
  const pcap = join(pcaps, `${capture}.pcap`);
  if (!(variant! in VARIANTS) || !existsSync(pcap)) continue;
  cases++;
  test(`conformance ${file}`, () => {
    const r = run(pcap, VARIANTS[variant!]!);
    assert.equal(r.status, 0, `exit status ${r.status}; stderr: ${r.stderr}`);
    const got = normalise(r.stdout);
    if (deviations.has(file)) {
      // a documented deviation: must still differ from the original, and equal its own golden
      const want = normalise(readFileSync(join(corpus, 'out', file), 'utf8'));
      assert.notDeepEqual(got, want, `${file} matches the original now: remove it from docs/compat-deviations.txt`);
      const golden = join(devGoldens, file);
      const text = got.log.join('\n') + '\n' + (got.diag.length ? '# diagnostics\n' + got.diag.join('\n') + '\n' : '');
      if (update) {
        mkdirSync(devGoldens, { recursive: true });
        writeFileSync(golden, text);
      }
      assert.ok(existsSync(golden), `no golden for deviation ${file} (run with UPDATE_GOLDEN=1 and review it)`);
      assert.equal(text, readFileSync(golden, 'utf8'));
      return;
    }
    const want = normalise(readFileSync(join(corpus, 'out', file), 'utf8'));
    assert.deepEqual(got.log, want.log);
    assert.deepEqual(got.diag, want.diag);
  });
}

test('the corpus is present', () => {
  assert.ok(cases >= 80, `only ${cases} conformance cases found`);
});

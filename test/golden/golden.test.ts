/**
 * One golden per capture of the project's own (pcaps/<area>/<name>.pcap[ng] ->
 * test/golden/<area>/<name>.golden), STYLE.md "Golden pcap tests". Each capture is
 * replayed end to end through bin/iplog in the compat profile, --quiet (no progress line
 * or wall-clock summary), with `-N` (or the options
 * in <name>.args, one per line); the golden holds the iplog lines, byte for byte as the
 * file sink writes them (packet time in UTC), then `# actions` when the args turn on the
 * dry-run ban backend (its argv, stamped with network time), then a `# counters` section with the
 * non-zero anomaly counters from the operational log, and `# stderr` when there is any.
 * The suite fails on a capture without a golden, a golden without a capture, a registered
 * detector that no golden (nor the recorded corpus) shows firing, and any detection line
 * in pcaps/clean/. The captures of the areas in JSON_AREAS also have a JSON golden
 * (<name>.json.golden: the same run with `--json -`, so the JSON events, then the same
 * sections). Rewrite goldens with UPDATE_GOLDEN=1 and review the diff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { DETECTORS } from '../../src/detect/index';
import { stamp } from '../../src/output/timestamp';

const root = join(__dirname, '..', '..', '..');
const pcapRoot = join(root, 'pcaps');
const goldenRoot = join(root, 'test', 'golden');
const update = process.env.UPDATE_GOLDEN === '1';
// modern/: checked against hand-written expectations in the modern profile (test/detect/modern-expectations.test.ts)
const SKIP_AREAS = new Set(['conformance', 'bench', 'modern']);
/** areas whose captures also have a JSON golden (`--json -`) */
const JSON_AREAS = new Set(['ipv6']);

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (!(dir === pcapRoot && SKIP_AREAS.has(name))) walk(p, out);
    } else if (/\.pcap(ng)?$/.test(name)) out.push(p);
  }
  return out;
}

function render(pcap: string, args: string[]): string {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'iplog'), '-r', pcap, '--profile', 'compat', '--quiet', ...args], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C', IPLOG_LOG_LEVEL: 'info' },
    timeout: 60_000,
  });
  let counters: [string, number][] = [];
  const actions: string[] = [];
  const other: string[] = [];
  for (const line of r.stderr.split('\n')) {
    if (!line) continue;
    let obj: { msg?: string; anomalies?: Record<string, number>; packet_time?: number; command?: string } | null = null;
    try {
      obj = JSON.parse(line);
    } catch {
      /* not the operational log */
    }
    if (obj && obj.msg === 'replay finished') counters = Object.entries(obj.anomalies ?? {}).sort();
    // the dry-run ban backend's argv, stamped with network time (STYLE "Golden pcap tests")
    else if (obj && obj.msg === 'ban action') actions.push(`${stamp(obj.packet_time ?? 0)} ${obj.command}`);
    else if (!obj) other.push(line);
  }
  let text = r.stdout;
  if (actions.length) text += '# actions\n' + actions.map((a) => `${a}\n`).join('');
  text += '# counters\n' + counters.map(([k, v]) => `${k} ${v}\n`).join('');
  if (other.length) text += '# stderr\n' + other.join('\n') + '\n';
  text += `# exit ${r.status}\n`;
  return text;
}

const pcaps = walk(pcapRoot);
const fired = new Set<string>();

for (const pcap of pcaps) {
  const rel = relative(pcapRoot, pcap).replace(/\.pcap(ng)?$/, '');
  const golden = join(goldenRoot, `${rel}.golden`);
  const argsFile = join(goldenRoot, `${rel}.args`);
  const args = existsSync(argsFile) ? readFileSync(argsFile, 'utf8').split('\n').filter(Boolean) : ['-N'];
  test(`golden ${rel}`, () => {
    const got = render(pcap, args);
    if (update) {
      mkdirSync(dirname(golden), { recursive: true });
      writeFileSync(golden, got);
    }
    assert.ok(existsSync(golden), `no golden for pcaps/${relative(pcapRoot, pcap)} (UPDATE_GOLDEN=1 writes it; review it)`);
    assert.equal(got, readFileSync(golden, 'utf8'));
    for (const d of DETECTORS) if (got.includes(`${d.title} detected`)) fired.add(d.name);
    if (JSON_AREAS.has(rel.split('/')[0]!)) {
      const jsonGolden = join(goldenRoot, `${rel}.json.golden`);
      const json = render(pcap, [...args, '--json', '-']);
      if (update) writeFileSync(jsonGolden, json);
      assert.ok(existsSync(jsonGolden), `no JSON golden for pcaps/${relative(pcapRoot, pcap)} (UPDATE_GOLDEN=1 writes it; review it)`);
      assert.equal(json, readFileSync(jsonGolden, 'utf8'));
      // the same events as the text lines (which compress repeats), each with its family
      const dedupe = (xs: string[]) => xs.filter((x, i) => i === 0 || x !== xs[i - 1]);
      const events = json.split('# counters\n')[0]!.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { kind: string; text: string; family: number })
        .filter((e) => e.kind !== 'iplog.summary');
      const lines = got.split('# counters\n')[0]!.split('\n').filter((l) => /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d /.test(l)).map((l) => l.slice(16));
      assert.deepEqual(dedupe(events.map((e) => e.text)), dedupe(lines.filter((l) => !/^last message repeated \d+ times$/.test(l))));
      assert.deepEqual([...new Set(events.map((e) => e.family))].filter((f) => f !== 6), [], 'an IPv6 capture gave an event of another family');
    }
    if (rel.startsWith('clean/') || /\/benign-/.test(rel)) assert.doesNotMatch(got, / detected|Bogus TCP flags|traceroute from|IP fragment/, 'clean traffic produced a detection');
  });
}

test('every golden has its capture', () => {
  const orphans: string[] = [];
  (function scan(dir: string) {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) scan(p);
      else if (name.endsWith('.golden') && dir !== join(goldenRoot, 'conformance-deviations')) {
        const rel = relative(goldenRoot, p).replace(/(\.json)?\.golden$/, '');
        if (!existsSync(join(pcapRoot, rel + '.pcap')) && !existsSync(join(pcapRoot, rel + '.pcapng'))) orphans.push(rel);
      }
    }
  })(goldenRoot);
  assert.deepEqual(orphans, []);
});

test('every registered detector fires in some golden or recorded output', () => {
  const corpus = join(root, 'test', 'conformance', 'out');
  for (const f of readdirSync(corpus)) {
    const text = readFileSync(join(corpus, f), 'utf8');
    for (const d of DETECTORS) if (text.includes(`${d.title} detected`)) fired.add(d.name);
  }
  assert.deepEqual(DETECTORS.map((d) => d.name).filter((n) => !fired.has(n)), []);
});

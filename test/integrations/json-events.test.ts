/**
 * JSON events (`--json`): every event of every golden capture validates against
 * config/iplog-event.schema.json, and is the twin of its text line.
 *
 * Every capture of pcaps/ (not bench/) is replayed through bin/iplog as its golden test
 * runs it, and every capture of pcaps/conformance/ in every variant the original was
 * recorded in, with the text on stdout and `--json FILE`. Then: each object validates
 * (ajv, draft 2020-12); the text lines, with iplog's "last message repeated N times"
 * expanded, are exactly the objects' `text` fields in order; each printed line's time
 * stamp is its object's packet time; and the facts the catalogue oracle reads from each
 * line are the object's typed fields (twin.ts). The hostile-name replays (corpus.ts) are
 * checked the same way, in process. The rest pins the output rules of --json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { ROOT, hostileTwins } from './corpus';
import { twinProblems } from './twin';
import { jsonEvent, openOutputs, JsonSink, type JsonEvent } from '../../src/output/sinks/json';
import { TextSink } from '../../src/output/sinks/text';
import { event } from '../../src/output/event';
import { NO_HOSTS } from '../../src/output/lines';
import { IpAddr } from '../../src/net/addr';

const ip = (t: string): IpAddr => IpAddr.parse(t)!;
import { stamp } from '../../src/output/timestamp';
import { makeSettings } from '../helpers/engine';
import { MODERN_DETECTORS } from '../../src/detect/modern/index';
import { DETECTORS } from '../../src/detect/index';
import { OPTIONS } from '../../src/config/options';
import { CORPUS, VARIANTS } from '../helpers/variants';

const bin = join(ROOT, 'bin', 'iplog');
const schema = JSON.parse(readFileSync(join(ROOT, 'config', 'iplog-event.schema.json'), 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: true });
const validate = ajv.compile<JsonEvent>(schema);
const tmp = mkdtempSync(join(tmpdir(), 'iplog-json-'));
const env = { ...process.env, TZ: 'UTC', LC_ALL: 'C' };

const corpus = CORPUS;

interface Case {
  name: string;
  pcap: string;
  args: string[];
}

function cases(): Case[] {
  const out: Case[] = [];
  const pcapRoot = join(ROOT, 'pcaps');
  const goldenRoot = join(ROOT, 'test', 'golden');
  (function walk(dir: string) {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) {
        if (!(dir === pcapRoot && (name === 'bench' || name === 'conformance'))) walk(p);
      } else if (/\.pcap(ng)?$/.test(name)) {
        const rel = relative(pcapRoot, p).replace(/\.pcap(ng)?$/, '');
        const argsFile = join(goldenRoot, `${rel}.args`);
        const args = existsSync(argsFile) ? readFileSync(argsFile, 'utf8').split('\n').filter(Boolean) : ['-N'];
        out.push({ name: rel, pcap: p, args });
      }
    }
  })(pcapRoot);
  for (const file of readdirSync(join(corpus, 'out')).sort()) {
    const m = /^(.+)\.([a-z_0-9]+)\.log$/.exec(file);
    if (!m) continue;
    const pcap = join(pcapRoot, 'conformance', `${m[1]}.pcap`);
    if (!(m[2]! in VARIANTS) || !existsSync(pcap)) continue;
    out.push({ name: `conformance/${m[1]}.${m[2]}`, pcap, args: VARIANTS[m[2]!]! });
  }
  return out;
}

function run(c: Case, jsonFile: string): Promise<{ stdout: string; status: number }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, '-r', c.pcap, '--profile', 'compat', ...c.args, '--json', jsonFile], { env, encoding: 'utf8', maxBuffer: 1 << 28, timeout: 60_000 }, (err, stdout) => {
      resolve({ stdout, status: err ? ((err as { code?: number }).code ?? 1) : 0 });
    });
  });
}

const STAMP = /^([A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2}) (.*)$/;
const REPEAT = /^last message repeated ([0-9]+) times$/;

/** The stamped lines with repeats expanded: [stamp or null (a repeat), text]. */
function expand(stdout: string): [string | null, string][] {
  const out: [string | null, string][] = [];
  let last = '';
  for (const raw of stdout.split('\n')) {
    const m = STAMP.exec(raw);
    if (!m) continue;
    const r = REPEAT.exec(m[2]!);
    if (r) {
      for (let i = 0; i < Number(r[1]); i++) out.push([null, last]);
    } else {
      out.push([m[1]!, m[2]!]);
      last = m[2]!;
    }
  }
  return out;
}

function checkRun(name: string, stdout: string, all: JsonEvent[]): void {
  // a replay's stream ends with its summary record (kind iplog.summary), no line's twin
  const summary = all.at(-1);
  assert.equal(summary?.kind, 'iplog.summary', `${name}: the last record is the summary`);
  assert.ok(validate(summary), `${name} summary: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(summary)}`);
  const objects = all.slice(0, -1);
  assert.ok(!objects.some((o) => o.kind === 'iplog.summary'), `${name}: one summary, at the end`);
  const d = summary!.detail as Record<string, unknown>;
  assert.equal(d.lines, objects.length, `${name}: the summary counts the lines written`);
  assert.equal(d.inputs, 1);
  assert.equal(summary!.count, d.packets);
  for (const [i, o] of objects.entries()) {
    assert.ok(validate(o), `${name} #${i}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(o)}`);
    assert.deepEqual(twinProblems(o), [], `${name} #${i}: ${o.text}`);
  }
  const lines = expand(stdout);
  assert.deepEqual(
    objects.map((o) => o.text),
    lines.map((l) => l[1]),
    `${name}: the JSON texts are not the text lines`,
  );
  lines.forEach(([st], i) => {
    if (st !== null) assert.equal(stamp(objects[i]!.epoch), st, `${name} line ${i + 1}: time stamp`);
  });
}

const kindsSeen = new Set<string>();
let events = 0;

test('every event of every golden capture validates and is the twin of its line', async (t) => {
  const all = cases();
  assert.ok(all.length >= 90, `only ${all.length} cases`);
  let next = 0;
  const worker = async () => {
    while (next < all.length) {
      const c = all[next++]!;
      const jsonFile = join(tmp, `${c.name.replace(/\//g, '_')}.ndjson`);
      const r = await run(c, jsonFile);
      const objects = existsSync(jsonFile)
        ? readFileSync(jsonFile, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as JsonEvent)
        : [];
      rmSync(jsonFile, { force: true });
      checkRun(c.name, r.stdout, objects);
      for (const o of objects) kindsSeen.add(o.kind);
      events += objects.length;
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  assert.ok(events > 1000, `only ${events} events`);
  t.diagnostic(`${all.length} runs, ${events} events, ${kindsSeen.size} kinds`);
  // the families the goldens show must all have been seen
  for (const k of ['scan.detected', 'scan.expired', 'tcp.connection_attempt', 'tcp.bogus_flags', 'udp.datagram', 'udp.traceroute', 'icmp.echo', 'icmp.redirect', 'frag.overlap', 'frag.duplicate', 'frag.oversized', 'ip.short', 'ip.bad_checksum']) {
    assert.ok(kindsSeen.has(k), `no ${k} event in the goldens`);
  }
});

test('hostile reverse-DNS names: every twin validates and states only the true address', async (t) => {
  const twins = await hostileTwins();
  assert.ok(twins.length > 1000);
  let named = 0;
  for (const t of twins) {
    assert.ok(validate(t.json), `${t.origin}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(t.json)}`);
    assert.deepEqual(twinProblems(t.json), [], `${t.origin}: ${t.text}`);
    if (t.json.src_name !== null) named++;
  }
  assert.ok(named > 100, 'the fake name server named the sources');
  t.diagnostic(`${twins.length} events, ${named} with a named source`);
});

test('modern profile: every detection says how far it can be trusted and what it rests on (issue 9 item 6)', async (t) => {
  const modern = (await hostileTwins()).filter((x) => x.json.profile === 'modern');
  assert.ok(modern.length > 50, `only ${modern.length} modern events`);
  const GRADED = /^(scan\.detected|tcp\.bogus_flags|(udp|icmp|tcp)\.traceroute|frag\..*)$/;
  const seen = new Set<string>();
  for (const { json: j, origin } of modern) {
    const d = (j.detail ?? {}) as Record<string, unknown>;
    const where = `${origin}: ${j.text}`;
    if (GRADED.test(j.kind)) {
      // the grade, always the three fields together (the schema types them)
      assert.ok(Number.isInteger(d.spoofable) && typeof d.proof === 'boolean' && typeof d.source_role === 'string', where);
      if (d.proof === true) assert.equal(d.spoofable, 0, `proven evidence cannot be forged: ${where}`);
      // an event without a source is an aggregate's ("from many sources"), never a ban subject
      if (j.src === null) assert.equal(d.source_role, 'aggregate', where);
      if (j.src === null) assert.match(j.text, / from many sources$| expired for many sources - /, where);
      seen.add(`grade ${j.kind}`);
    }
    if (j.kind === 'scan.detected' && (j.detector === 'syn-scan' || j.detector === 'port-scan')) {
      const [s, r, h, q] = [d.outcome_success, d.outcome_reject, d.outcome_halfopen, d.outcome_silent] as number[];
      for (const n of [s, r, h, q, d.trw_score]) assert.ok(Number.isInteger(n), `outcome counts and score: ${where}`);
      // TRW: the walk is (failures - successes) raised by its floor, and it reached the alarm (4)
      assert.ok(r + h + q >= 4, `at least four failed first contacts: ${where}`);
      assert.ok((d.trw_score as number) >= r + h + q - s, `score >= F - S: ${where}`);
      seen.add('trw tcp');
    }
    if (j.kind === 'scan.detected' && j.detector === 'udp-scan') {
      assert.ok(d.mode === 'scan' || d.mode === 'flood', where);
      if (d.mode === 'scan') {
        for (const n of [d.outcome_success, d.outcome_reject, d.outcome_silent, d.trw_score]) assert.ok(Number.isInteger(n), where);
        seen.add('trw udp');
      }
    }
    if (j.kind === 'tcp.bogus_flags') {
      assert.ok(['syn+fin', 'syn+rst', 'reserved-bits', 'ecn-misuse'].includes(d.reason as string), where);
      seen.add('bogus reason');
    }
  }
  for (const k of ['grade scan.detected', 'grade tcp.bogus_flags', 'grade udp.traceroute', 'trw tcp', 'trw udp', 'bogus reason']) assert.ok(seen.has(k), `no modern event showed ${k}`);
  t.diagnostic(`${modern.length} modern events checked`);
});

test('the schema knows every detector of the registries (compat and modern), and nothing else', () => {
  const en = schema.properties.detector.enum as (string | null)[];
  // modern's syn-scan is written as port-scan for a connect() scan, a compat name too
  const names = new Set([...DETECTORS.map((d) => d.name), ...MODERN_DETECTORS.map((d) => d.name)]);
  assert.deepEqual(en.filter((x) => x !== null).sort(), [...names].sort());
});

test('lines without an event, and ban events', () => {
  const s = makeSettings();
  const m = jsonEvent(1700000000, 'iplog started.', undefined, undefined, s.profile);
  assert.ok(validate(m), ajv.errorsText(validate.errors));
  assert.equal(m.kind, 'iplog.message');
  assert.equal(m.time, '2023-11-14T22:13:20Z');
  const addr = '203.0.113.7';
  // as src/ban/manager.ts makes them
  const reason = 'TCP: SYN scan; score 10; offence 1';
  const ban = event('ban.added', 1700000000, ip(addr), { detail: { addr: '203.0.113.7', family: 4, seconds: 600, until: 1700000600, offence: 1, score: 10, reason } });
  const j = jsonEvent(1700000000, `BAN: banned 203.0.113.7 for 600 seconds (${reason})`, ban, NO_HOSTS, 'modern');
  assert.ok(validate(j), ajv.errorsText(validate.errors));
  assert.equal(j.src, '203.0.113.7');
  assert.equal(j.dst, null);
  assert.deepEqual(twinProblems(j), []);
  const ban6 = event('ban.removed', 1700000600, ip('2001:db8::7'), { detail: { addr: '2001:db8::7', family: 6, reason: 'expired' } });
  const j6 = jsonEvent(1700000600, 'BAN: unbanned 2001:db8::7 (expired)', ban6, NO_HOSTS, 'modern');
  assert.ok(validate(j6), ajv.errorsText(validate.errors));
  assert.equal(j6.src, '2001:db8::7');
  assert.deepEqual(twinProblems(j6), []);
  // a name is never put where the address goes
  const scan = event('scan.detected', 1700000000, ip(addr), { dst: ip('0.0.0.1'), detector: 'syn-scan', count: 10, bytes: 400, detail: { title: 'TCP: SYN scan', dports: [1], dports_truncated: false, sports: [], sports_truncated: false } });
  const n = jsonEvent(1700000000, 'TCP: SYN scan detected [port 1] from 6.6.6.6', scan, { ...NO_HOSTS, src: '6.6.6.6' }, 'compat');
  assert.equal(n.src, '203.0.113.7');
  assert.notDeepEqual(twinProblems(n), [], 'a line naming another address than the event is caught');
});

test('--json -: standard output carries JSON only; -l keeps the text; -L with it is an error', () => {
  const pcap = join(ROOT, 'pcaps', 'conformance', 'nmap_sS.pcap');
  // compat: one line per packet of the scan, more than ten events
  const a = spawnSync(process.execPath, [bin, '-r', pcap, '--profile', 'compat', '-N', '--json', '-'], { env, encoding: 'utf8' });
  assert.equal(a.status, 0);
  const lines = a.stdout.split('\n').filter(Boolean);
  assert.ok(lines.length > 10);
  for (const l of lines) assert.ok(validate(JSON.parse(l)), l);
  const logfile = join(tmp, 'text.log');
  const b = spawnSync(process.execPath, [bin, '-r', pcap, '--profile', 'compat', '-N', '-l', logfile, '--json', '-'], { env, encoding: 'utf8' });
  assert.equal(b.status, 0);
  assert.equal(b.stdout, a.stdout);
  const text = readFileSync(logfile, 'utf8');
  assert.match(text, /SYN scan detected/);
  const c = spawnSync(process.execPath, [bin, '-r', pcap, '-L', '--json', '-'], { env, encoding: 'utf8' });
  assert.equal(c.status, 1);
  assert.equal(c.stdout, '');
  assert.match(c.stderr, /--json - and --stdout \(-L\) both write standard output/);
  const d = spawnSync(process.execPath, [bin, '-r', pcap, '-N', '--json', join(tmp, 'no', 'such', 'dir.json')], { env, encoding: 'utf8' });
  assert.equal(d.status, 1);
  assert.match(d.stderr, /Unable to open/);
});

test('openOutputs: which sinks a run gets', () => {
  const opened: string[] = [];
  const text = () => {
    opened.push('text');
    return TextSink.memory().sink;
  };
  const none = openOutputs(makeSettings(), 'replay', text);
  assert.equal(none.sink, none.text);
  const file = join(tmp, 'o.json');
  const both = openOutputs(makeSettings({}, { jsonFile: file }), 'replay', text);
  assert.notEqual(both.sink, both.text);
  both.sink.close(0);
  const dash = openOutputs(makeSettings({}, { jsonFile: '-' }), 'replay', text);
  assert.ok(dash.sink instanceof JsonSink);
  assert.equal(dash.text, null);
  const live = openOutputs(makeSettings({}, { jsonFile: '-' }), 'live', text);
  assert.notEqual(live.text, null, 'live mode: text to syslog, JSON to stdout');
  assert.deepEqual(opened, ['text', 'text', 'text']);
});

test('--json is in the option table', () => {
  const spec = OPTIONS.find((o) => o.long[0] === 'json');
  assert.ok(spec);
  assert.equal(spec.origin, '3');
  assert.equal(spec.setting, 'jsonFile');
  assert.ok(readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8').includes('`--json FILE\\|-`'), 'npm run docs');
});

/**
 * The modern corpus (pcaps/modern/, issue 9 point 7): captures made with real tools in
 * network namespaces by test/tools/make-modern-corpus.ts (how each was made:
 * pcaps/modern/PROVENANCE.md), each with its expectations in NAME.expect.json, written by
 * hand from what the issue demands:
 *   must        regular expressions, each matched by a detection line (text after the time)
 *   exhaustive  true: the capture gives exactly as many detection lines as `must` lists
 *               (a benign capture: none at all, silent in modern)
 *   mustNot     regular expressions no line may match
 *   notAttacker addresses no detection may name as an attacker (spoofed sources, decoys)
 *   pending     expectations whose detector has not landed yet (`reason` names it): each
 *               is a test.todo that runs and reports, and fails nothing, until it is moved
 *               into the checked expectations
 * Each capture is replayed with the settings of the command line `iplog --profile modern
 * --home 192.0.2.0/24 -N -r FILE` (the victim holds 192.0.2.5-20), its lines and JSON
 * events collected in memory. Over the whole corpus:
 * no detection names an address of the protected network as its source (the victim only
 * answered and made benign requests).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandLine } from '../../src/cli/program';
import { replay } from '../../src/pipeline';
import { jsonEvent } from '../../src/output/sinks/json';
import type { LineHosts, LineSink } from '../../src/output/sinks/sink';

const ROOT = join(__dirname, '..', '..', '..');
const DIR = join(ROOT, 'pcaps', 'modern');
const HOME = '192.0.2.0/24';
const DETECTION = / detected|Bogus TCP flags|traceroute from|IP fragment/;

interface Pending {
  must?: string;
  mustNot?: string;
  notAttacker?: string[];
  reason: string;
}
interface Expect {
  what: string;
  must: string[];
  exhaustive: boolean;
  mustNot?: string[];
  notAttacker?: string[];
  pending?: Pending[];
}
interface Ev {
  kind: string;
  src?: string;
  detector?: string;
  detail?: { source_role?: string };
}
interface Result {
  lines: string[];
  events: Ev[];
}

const NAMES = readdirSync(DIR)
  .filter((n) => n.endsWith('.pcap'))
  .map((n) => n.slice(0, -5))
  .sort();

async function replayCapture(name: string): Promise<Result> {
  const file = join(DIR, `${name}.pcap`);
  const cli = parseCommandLine(['--config', '/dev/null', '--profile', 'modern', '--home', HOME, '-N', '-r', file]);
  if (cli.kind !== 'run') throw new Error(`${name}: ${cli.kind}`);
  const lines: string[] = [];
  const events: Ev[] = [];
  const sink: LineSink = {
    write: (now, text, ev, hosts?: LineHosts) => {
      if (DETECTION.test(text)) lines.push(text);
      if (ev) events.push(jsonEvent(now, text, ev, hosts, 'modern') as unknown as Ev);
    },
    flush: () => {},
    close: () => {},
  };
  const r = await replay(cli.settings, file, sink, null);
  if (r.error) throw r.error;
  return { lines, events };
}

/** each capture replayed once (its checked and pending expectations share the run) */
const results = new Map<string, Promise<Result>>();
function result(name: string): Promise<Result> {
  let r = results.get(name);
  if (r === undefined) {
    r = replayCapture(name);
    results.set(name, r);
  }
  return r;
}

function expectation(name: string): Expect {
  return JSON.parse(readFileSync(join(DIR, `${name}.expect.json`), 'utf8')) as Expect;
}

function isDetection(e: Ev): boolean {
  return e.kind === 'scan.detected' || e.kind === 'tcp.bogus_flags' || e.kind.endsWith('.traceroute') || e.kind.startsWith('frag.');
}

function attackers(r: Result, addrs: string[]): string[] {
  return r.events.filter((e) => isDetection(e) && e.src !== undefined && addrs.includes(e.src) && (e.detail?.source_role ?? 'attacker') === 'attacker').map((e) => `${e.src} (${e.detector ?? e.kind})`);
}

test('modern corpus: every capture has its expectations file, and every expectations file its capture', () => {
  assert.ok(NAMES.length >= 30, `only ${NAMES.length} captures`);
  const exp = readdirSync(DIR).filter((n) => n.endsWith('.expect.json')).map((n) => n.slice(0, -12)).sort();
  assert.deepEqual(exp, NAMES);
  for (const n of NAMES) {
    const e = expectation(n);
    assert.equal(typeof e.what, 'string', n);
    assert.ok(Array.isArray(e.must) && typeof e.exhaustive === 'boolean', n);
    for (const p of e.pending ?? []) assert.ok(p.reason.length > 10, `${n}: a pending expectation names what it waits for`);
  }
  // the benign captures are silent by construction of their expectations
  for (const n of NAMES.filter((x) => x.startsWith('benign-'))) assert.deepEqual([expectation(n).must, expectation(n).exhaustive], [[], true], n);
});

for (const name of NAMES) {
  const e = expectation(name);
  test(`modern corpus ${name}: ${e.what}`, async () => {
    const r = await result(name);
    const text = `\n${r.lines.join('\n')}`;
    for (const m of e.must) assert.ok(r.lines.some((l) => new RegExp(m).test(l)), `${name}: no line matches ${m}${text}`);
    if (e.exhaustive) assert.equal(r.lines.length, e.must.length, `${name}: ${e.must.length} detection lines expected${text}`);
    for (const m of e.mustNot ?? []) assert.ok(!r.lines.some((l) => new RegExp(m).test(l)), `${name}: a line matches ${m}${text}`);
    if (e.notAttacker) assert.deepEqual(attackers(r, e.notAttacker), [], `${name}: named as attackers`);
    // the protected network (the victim) is never a source in this corpus: it only answered
    // probes and made benign requests
    assert.ok(!r.lines.some((l) => / from 192\.0\.2\.\d+\b/.test(l)), `${name}: a protected address named as a source${text}`);
    assert.ok(!r.events.some((ev) => isDetection(ev) && ev.src?.startsWith('192.0.2.')), `${name}: a detection event names a protected source`);
  });
  for (const [i, p] of (e.pending ?? []).entries()) {
    test(`modern corpus ${name}, pending ${i + 1}: ${p.must ?? p.mustNot ?? `not attackers: ${p.notAttacker?.join(',')}`}`, { todo: p.reason }, async () => {
      const r = await result(name);
      const text = `\n${r.lines.join('\n')}`;
      if (p.must !== undefined) assert.ok(r.lines.some((l) => new RegExp(p.must!).test(l)), `${name}: no line matches ${p.must}${text}`);
      if (p.mustNot !== undefined) assert.ok(!r.lines.some((l) => new RegExp(p.mustNot!).test(l)), `${name}: a line matches ${p.mustNot}${text}`);
      if (p.notAttacker) assert.deepEqual(attackers(r, p.notAttacker), [], `${name}: named as attackers`);
    });
  }
}

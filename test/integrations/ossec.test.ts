/**
 * config/integrations/ossec/ (decoders, rules, active response) through an emulation of
 * OSSEC's pre-decoder, decoder tree, rule tree and pattern languages (ossec-emu.ts,
 * osregex.ts). There is no OSSEC in Debian, so this is NOT the real ossec-logtest; the
 * emulation keeps to the documented syntax and the patterns are checked to be ones on
 * which OS_Regex's lazy matcher and full backtracking agree.
 *
 * Every line of the corpus (corpus.ts) goes through predecode → decode → rules; each
 * detection line ("detected" of all eight detectors, "mode expired", bogus flags,
 * traceroute, the four fragment lines, BAN lines) must give `srcip` = the address the line
 * states for the source, and none when it shows a name only; every other iplog line is
 * decoded as `iplog` with no field and gets the level-0 rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, fullCorpus } from './corpus';
import { OsRegex } from './osregex';
import { loadDecoders, loadRules, predecode, decode, parseXml } from './ossec-emu';
import { runCorpus } from './hids';

const dir = join(ROOT, 'config', 'integrations', 'ossec');
const decoders = loadDecoders(readFileSync(join(dir, 'iplog_decoders.xml'), 'utf8'));
const rules = loadRules(readFileSync(join(dir, 'iplog_rules.xml'), 'utf8'));

test('OSSEC decoders: every OS_Regex is in the documented syntax and unambiguous for OS_Regex', () => {
  for (const d of decoders) {
    for (const p of [d.prematch, d.regex]) {
      if (p === undefined) continue;
      assert.equal(p.type, 'osregex', `${d.name}: OSSEC has no type= attribute here`);
      const re = new OsRegex(p.source);
      assert.deepEqual(re.deterministic(), [], d.name);
      if (p === d.regex) assert.deepEqual(new Set(re.groups()), new Set([d.order.length]), `${d.name}: every alternative captures <order>`);
    }
    if (d.programName) assert.equal(d.programName.source, '^iplog$');
  }
  for (const r of rules) if (r.regex) assert.deepEqual(new OsRegex(r.regex.source).deterministic(), []);
  assert.deepEqual(decoders.filter((d) => d.parent === undefined).map((d) => d.name), ['iplog']);
});

test('OSSEC decoders and rules (emulated): every golden, hostile and BAN line', async (t) => {
  const entries = await fullCorpus();
  const { problems, withSrcip, withoutSrcip } = runCorpus(entries, decoders, rules);
  assert.deepEqual(problems, []);
  assert.ok(withSrcip >= 300, `only ${withSrcip} lines gave a srcip`);
  assert.ok(withoutSrcip >= 30, 'name-only detection lines were tested');
  t.diagnostic(`${entries.length} lines; ${withSrcip} decoded with srcip; ${withoutSrcip} decoded without (name only)`);
});

test('OSSEC: lines of other programs are not decoded as iplog', () => {
  for (const line of ['Mar  5 10:00:00 sensor sshd[42]: TCP: SYN scan detected [ports 22,21] from 192.0.2.7 [port 40000]', 'Mar  5 10:00:01 sensor iplogger[1]: Oversized IP fragment from 192.0.2.8']) {
    assert.equal(decode(decoders, predecode(line)!), null, line);
  }
});

test('OSSEC active response: only the detection rules that always carry a srcip', () => {
  const ar = parseXml(readFileSync(join(dir, 'active-response.xml'), 'utf8'))[0]!;
  const resp = ar.children.find((c) => c.name === 'active-response')!;
  const ids = resp.children.find((c) => c.name === 'rules_id')!.text.split(',').map(Number);
  assert.deepEqual(ids, [100701, 100708, 100720]);
  const cmd = ar.children.find((c) => c.name === 'command')!;
  assert.equal(cmd.children.find((c) => c.name === 'expect')!.text, 'srcip');
  for (const id of ids) assert.ok(rules.some((r) => r.id === id), `rule ${id} exists`);
  // the frequency rule correlates only the detection groups, per source
  const freq = rules.find((r) => r.id === 100720)!;
  assert.equal(freq.node.children.find((c) => c.name === 'if_matched_group')!.text, 'iplog_detection');
  assert.ok(freq.node.children.some((c) => c.name === 'same_source_ip'));
  for (const r of rules) {
    if (r.groups.includes('iplog_detection')) assert.ok([100701, 100702, 100703, 100708].includes(r.id), `${r.id} in iplog_detection`);
  }
});

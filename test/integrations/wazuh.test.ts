/**
 * config/integrations/wazuh/ (Wazuh 4.x decoders with PCRE2, rules, active response).
 * No Wazuh here either: the decoder and rule trees are emulated (ossec-emu.ts), the PCRE2
 * patterns run as JavaScript RegExp there, and each pattern is also run through the real
 * PCRE2 library (pcre2grep, Debian's pcre2-utils) over every corpus line, which must give
 * the same matches and captures as JavaScript. The expectations are those of the OSSEC
 * test (hids.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, fullCorpus } from './corpus';
import { loadDecoders, loadRules, predecode, decode, parseXml } from './ossec-emu';
import { runCorpus } from './hids';

const dir = join(ROOT, 'config', 'integrations', 'wazuh');
const decoders = loadDecoders(readFileSync(join(dir, 'iplog_decoders.xml'), 'utf8'));
const rules = loadRules(readFileSync(join(dir, 'iplog_rules.xml'), 'utf8'));
const PCRE2GREP = '/usr/bin/pcre2grep';

test('Wazuh decoders: PCRE2 regexes, one capture each, anchored', () => {
  assert.deepEqual(decoders.filter((d) => d.parent === undefined).map((d) => d.name), ['iplog']);
  for (const d of decoders) {
    if (d.parent === undefined) {
      assert.equal(d.programName?.source, '^iplog$');
      continue;
    }
    assert.equal(d.prematch?.type, 'pcre2', d.name);
    if (d.name === 'iplog-aggregate') {
      // "... from many sources": recognised so that it is never decoded as a detection, and no field at all
      assert.equal(d.regex, undefined);
      assert.deepEqual(d.order, []);
      continue;
    }
    assert.equal(d.regex?.type, 'pcre2', d.name);
    assert.deepEqual(d.order, ['srcip']);
    const src = d.regex!.source;
    assert.ok(src.startsWith('^') && src.endsWith('$'), `${d.name}: the whole line`);
    // exactly one capturing group (Wazuh maps groups to <order> by position; an unset group breaks it)
    assert.equal(new RegExp(`${src}|`).exec('')!.length - 1, 1, `${d.name}: one capture group`);
    assert.doesNotMatch(src, /\(\?[<P|]|\\[kKgG]|\(\?\(/, `${d.name}: no named groups, branch resets, conditionals or backreferences`);
  }
});

test('Wazuh decoders and rules (emulated, JavaScript RegExp for PCRE2): every golden, hostile and BAN line', async (t) => {
  const entries = await fullCorpus();
  const { problems, withSrcip, withoutSrcip } = runCorpus(entries, decoders, rules);
  assert.deepEqual(problems, []);
  assert.ok(withSrcip >= 300, `only ${withSrcip} lines gave a srcip`);
  assert.ok(withoutSrcip >= 30);
  t.diagnostic(`${entries.length} lines; ${withSrcip} decoded with srcip; ${withoutSrcip} decoded without (name only)`);
});

test('Wazuh PCRE2 patterns: the real PCRE2 (pcre2grep) agrees with JavaScript on every line', { skip: existsSync(PCRE2GREP) ? false : 'pcre2grep is not installed (npm run setup installs pcre2-utils on Debian)' }, async (t) => {
  const entries = await fullCorpus();
  const texts = entries.map((e) => e.text);
  const file = join(mkdtempSync(join(tmpdir(), 'iplog-pcre2-')), 'lines.txt');
  writeFileSync(file, texts.join('\n') + '\n');
  let checked = 0;
  for (const d of decoders) {
    for (const p of [d.prematch, d.regex]) {
      if (p === undefined || p.type !== 'pcre2') continue;
      const capture = p === d.regex;
      const r = spawnSync(PCRE2GREP, [capture ? '-o1' : '-o', '-n', '-e', p.source, file], { encoding: 'utf8', maxBuffer: 1 << 26 });
      assert.ok(r.status === 0 || r.status === 1, `pcre2grep: ${r.stderr}`);
      const real = new Map<number, string>();
      for (const l of r.stdout.split('\n').filter(Boolean)) {
        const colon = l.indexOf(':');
        real.set(Number(l.slice(0, colon)) - 1, l.slice(colon + 1));
      }
      const js = new RegExp(p.source);
      texts.forEach((t, i) => {
        const m = js.exec(t);
        const want = m === null ? undefined : capture ? m[1] : m[0];
        assert.equal(real.get(i), want, `${d.name} ${capture ? 'regex' : 'prematch'} on ${JSON.stringify(t)}`);
      });
      checked++;
    }
  }
  assert.equal(checked, 13);
  t.diagnostic(`${checked} patterns x ${texts.length} lines: PCRE2 and JavaScript agree`);
});

test('Wazuh: lines of other programs are not decoded as iplog', () => {
  for (const line of ['Mar  5 10:00:00 sensor sshd[42]: TCP: SYN scan detected [ports 22,21] from 192.0.2.7 [port 40000]', 'Mar  5 10:00:01 sensor iplogger[1]: Oversized IP fragment from 192.0.2.8']) {
    assert.equal(decode(decoders, predecode(line)!), null, line);
  }
});

test('Wazuh rules and active response', () => {
  const ossec = loadRules(readFileSync(join(ROOT, 'config', 'integrations', 'ossec', 'iplog_rules.xml'), 'utf8'));
  // the same ids, levels and matches as the OSSEC set
  assert.deepEqual(
    rules.map((r) => [r.id, r.level, r.match?.source]),
    ossec.map((r) => [r.id, r.level, r.match?.source]),
  );
  for (const id of [100701, 100702, 100703, 100704]) {
    const r = rules.find((x) => x.id === id)!;
    assert.ok(r.node.children.some((c) => c.name === 'mitre'), `${id} has a MITRE id`);
  }
  const ar = parseXml(readFileSync(join(dir, 'active-response.xml'), 'utf8'))[0]!;
  const resp = ar.children.find((c) => c.name === 'active-response')!;
  assert.deepEqual(resp.children.find((c) => c.name === 'rules_id')!.text.split(',').map(Number), [100701, 100708, 100720]);
});

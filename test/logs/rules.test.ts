/**
 * Log rules as configuration: the log_* statements of iplog.conf (and of an included
 * rules file), checked at load time with FILE:LINE on standard error; the address macros
 * match exactly the address texts (property test against node's own parser).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseCommandLine } from '../../src/cli/program';
import { compileRuleRegex, MACROS } from '../../src/logs/rules';
import { addrOf } from '../../src/logs/matcher';

function load(conf: string, extra: Record<string, string> = {}, args: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'iplog-logrules-'));
  const path = join(dir, 'iplog.conf');
  writeFileSync(path, conf);
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
  return { path, dir, r: parseCommandLine(['--config', path, '-r', '/dev/null', ...args]) };
}

test('a rule, a file source and a journal source from iplog.conf; other statements unaffected', () => {
  const { r } = load(
    [
      'set udp false',
      'log_rule sshd-fail weight 3 threshold 5 window 10m ban_time 2h program sshd,sshd-session match ^Failed password for .* from <ADDR> port \\d+ ssh2$',
      'log_file /var/log/auth.log rules sshd-*',
      'log_journal unit ssh.service ident sshd rules sshd-fail',
      'user nobody',
    ].join('\n') + '\n',
  );
  assert.equal(r.kind, 'run');
  if (r.kind !== 'run') return;
  const ls = r.settings.logs!;
  assert.equal(r.settings.flags.udp, false);
  assert.equal(r.settings.user, 'nobody');
  assert.equal(ls.rules.length, 1);
  const rule = ls.rules[0]!;
  assert.deepEqual([rule.name, rule.weight, rule.threshold, rule.windowSec, rule.banSec, rule.programs], ['sshd-fail', 3, 5, 600, 7200, ['sshd', 'sshd-session']]);
  assert.equal(rule.source, 'Failed password for .* from <ADDR> port \\d+ ssh2$'.replace(/^/, '^'));
  assert.match(rule.where, /iplog\.conf:2$/);
  assert.deepEqual(ls.sources.map((s) => s.kind), ['file', 'journal']);
  const m = rule.re.exec('Failed password for root from 2001:db8::7 port 22 ssh2');
  assert.equal(m?.groups?.addr, '2001:db8::7');
});

test('rejected at load time with FILE:LINE: rules that could capture something other than an address', () => {
  const bad: [string, RegExp][] = [
    ['log_rule a match ^from (?<addr>\\S+)', /hand-written \(\?<addr>/],
    ['log_rule a match ^from (?<host>\\S+)', /hand-written \(\?<host>/],
    ['log_rule a match ^Failed .* from <HOST>$', /<HOST> \(fail2ban\) also matches host names/],
    ['log_rule a match ^Failed password$', /no address/],
    ['log_rule a match ^<ADDR> -> <IP4>$', /more than one address/],
    ['log_rule a match ^<ADDR> (unclosed', /invalid regex/],
    ['log_rule a weight x match <ADDR>', /weight "x"/],
    ['log_rule a window 10m match <ADDR>', /"window" without "threshold"/],
    ['log_rule a weight 2', /missing "match REGEX"/],
    ['log_file /var/log/auth.log rules nosuch', /no rule "nosuch"/],
    ['log_file relative.log rules x', /not an absolute path|no rule/],
    ['log_journal rules x', /at least one "unit U" or "ident I"/],
  ];
  for (const [line, why] of bad) {
    const { path, r } = load(`# comment\n${line}\n`);
    assert.equal(r.kind, 'exit', line);
    if (r.kind !== 'exit') continue;
    assert.equal(r.status, 1, line);
    assert.equal(r.code, 'IPLOG_ERR_LOG_CONFIG');
    assert.ok(r.stderr.startsWith(`iplog: ${path}:2: `), `${line}: ${r.stderr}`);
    assert.match(r.stderr, why, line);
  }
});

test('log_rules FILE includes a rules file relative to the configuration; errors name that file and line', () => {
  const ok = load('log_rules rules.conf\nlog_file /var/log/auth.log rules a\n', { 'rules.conf': '# shipped rules\n\nlog_rule a weight 2 match ^x <ADDR>$\n' });
  assert.equal(ok.r.kind, 'run');
  const bad = load('log_rules rules.conf\n', { 'rules.conf': 'log_rule a match ^x\nset tcp false\n' });
  assert.equal(bad.r.kind, 'exit');
  if (bad.r.kind !== 'exit') return;
  assert.match(bad.r.stderr, new RegExp(`${join(bad.dir, 'rules.conf')}:1: log_rule a: no address`));
  assert.match(bad.r.stderr, new RegExp(`${join(bad.dir, 'rules.conf')}:2: only log_\\* statements belong in a rules file`));
  const missing = load('log_rules nope.conf\n');
  assert.equal(missing.r.kind, 'exit');
  if (missing.r.kind === 'exit') assert.match(missing.r.stderr, /:1: log_rules: cannot read .*nope\.conf/);
});

test('the shipped rules file loads', () => {
  const shipped = join(__dirname, '..', '..', '..', 'config', 'log-rules.conf');
  const { r } = load(`log_rules ${shipped}\n`);
  assert.equal(r.kind, 'run', r.kind === 'exit' ? r.stderr : '');
  if (r.kind === 'run') assert.ok(r.settings.logs!.rules.length >= 6);
});

test('<ADDR> captures exactly the IPv4 and IPv6 texts, whole, and nothing else', () => {
  const re = new RegExp(`^from ${MACROS['<ADDR>']} port`);
  const v6 = fc.ipV6().map((a) => a.toLowerCase());
  fc.assert(
    fc.property(fc.oneof(fc.ipV4(), v6), (a) => {
      const m = re.exec(`from ${a} port`);
      assert.equal(m?.groups?.addr, a);
      assert.ok(addrOf(a) !== undefined);
    }),
    { numRuns: 3000 },
  );
  // texts that are not an address (or are longer than one) are not captured
  const loose = new RegExp(`${MACROS['<ADDR>']}`);
  for (const t of ['256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4x', 'host.example', '::g', '2001:db8:::1', '1:2:3:4:5:6:7:8:9', 'fe80::1x']) {
    const m = loose.exec(t);
    if (m !== null) assert.equal(isIP(m.groups!.addr!) !== 0 && t === m.groups!.addr, true, `${t} gave ${m.groups!.addr}`);
  }
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...'0123456789abcdef.:xz '.split('')), maxLength: 40 }), (s) => {
      const m = loose.exec(s);
      if (m !== null) assert.notEqual(isIP(m.groups!.addr!), 0, `captured ${m.groups!.addr} from ${s}`);
    }),
    { numRuns: 5000 },
  );
});

test('compileRuleRegex: the time macro, one time group at most', () => {
  const c = compileRuleRegex('^<ADDR> - - \\[<CLFTIME>\\]');
  assert.ok(typeof c !== 'string' && c.hasTime);
  assert.match(String(compileRuleRegex('^(?<time>\\S+) <CLFTIME> <ADDR>')), /more than one time group/);
});

test('iplog -t (check the configuration) rejects a rule that can capture a non-address, naming its line; accepts the shipped rules', () => {
  const BIN = join(__dirname, '..', '..', '..', 'bin', 'iplog');
  const RULES = join(__dirname, '..', '..', '..', 'config', 'log-rules.conf');
  const t = (conf: string) => {
    const { path } = load(conf);
    return { path, r: spawnSync(process.execPath, [BIN, '-t', '--config', path], { encoding: 'utf8', timeout: 30_000 }) };
  };
  const bad = t(`log_rules ${RULES}\nlog_rule fine weight 2 match ^x <ADDR>$\nlog_rule greedy weight 2 match ^Failed .* from (?<addr>\\S+) port\n`);
  assert.equal(bad.r.status, 1);
  assert.match(bad.r.stderr, new RegExp(`^iplog: ${bad.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: log_rule greedy: a hand-written \\(\\?<addr>`, 'm'));
  assert.equal(bad.r.stdout, '');
  const good = t(`log_rules ${RULES}\nlog_file /var/log/auth.log rules sshd-*\nlog_file /var/log/mail.log rules postfix-*,dovecot-*\n`);
  assert.equal(good.r.status, 0, good.r.stderr);
  assert.match(`${good.r.stdout}${good.r.stderr}`, /configuration OK/);
});

test('the matcher (prefilter, sticky match inside the line) decides exactly as each regex on the message alone', async () => {
  const { LogMatcher } = await import('../../src/logs/matcher');
  const { parseHeader, Header } = await import('../../src/logs/line');
  const { readFileSync } = await import('node:fs');
  const { rulesOf } = await import('../../src/logs/rules');
  // the shipped rules, one without ^ (no prefilter, no sticky form) and one with a top-level | (no sticky form)
  const conf = `log_rules ${join(__dirname, '..', '..', '..', 'config', 'log-rules.conf')}\nlog_rule any-pos weight 1 match <ADDR> did it$\nlog_rule alt weight 1 program cron match ^x|^y from <ADDR>$\n`;
  const { r } = load(conf);
  assert.equal(r.kind, 'run');
  if (r.kind !== 'run') return;
  const rules = rulesOf(r.settings.logs!, ['*']);
  const corpus = join(__dirname, '..', '..', '..', 'test', 'logs', 'corpus');
  const real = [...readFileSync(join(corpus, 'auth.log'), 'utf8').split('\n'), ...readFileSync(join(corpus, 'mail.log'), 'utf8').split('\n')].filter((l) => l !== '');
  const msgs = real.map((l) => {
    const h = new Header();
    parseHeader(l, h);
    return h.ok ? l.slice(h.msgStart) : l;
  });
  /** the reference: the first rule whose program fits and whose regex matches the message */
  const reference = (line: string): string | null => {
    const h = new Header();
    parseHeader(line, h);
    for (const rule of rules) {
      if (rule.programs.length > 0 && (!h.ok || !rule.programs.includes(line.slice(h.progStart, h.progEnd)))) continue;
      const m = rule.re.exec(h.ok ? line.slice(h.msgStart) : line);
      // (a match without an address is counted and ends the line: matcher.ts take)
      if (m !== null) return m.groups?.addr === undefined ? null : `${rule.name} ${m.groups.addr}`;
    }
    return null;
  };
  const m = new LogMatcher(rules, 'syslog', null);
  fc.assert(
    fc.property(
      fc.constantFrom('sshd', 'sshd-session', 'postfix/smtpd', 'dovecot', 'cron'),
      fc.constantFrom(' ', '', '  '),
      fc.oneof(fc.constantFrom(...msgs), fc.constantFrom(...msgs).chain((x) => fc.tuple(fc.nat(x.length), fc.string({ maxLength: 8 })).map(([k, s]) => x.slice(0, k) + s + x.slice(k))), fc.constant('198.51.100.4 did it'), fc.constant('y from 2001:db8::7'), fc.constant('x')),
      (prog, sep, msg) => {
        const line = `Dec  5 10:00:01 vm ${prog}[42]:${sep}${msg}`;
        const want = reference(line);
        const got = m.matchLine(line, 0, false) ? `${m.rule!.name} ${m.addr.toString()}` : null;
        // the matcher gives the canonical text of the same address
        const canon = want === null ? null : `${want.split(' ')[0]} ${addrOf(want.split(' ')[1]!)!.toString()}`;
        assert.equal(got, canon, line);
      },
    ),
    { numRuns: 3000 },
  );
});

/**
 * config/integrations/fail2ban/filter.d/iplog.conf against the real fail2ban-regex
 * (Debian's fail2ban, installed by scripts/setup.mjs): every line of the corpus
 * (corpus.ts: the golden outputs, hostile reverse-DNS names, BAN lines) is written in
 * syslog form `Mmm dd HH:MM:SS sensor iplog[4242]: text`, and fail2ban must match exactly
 * the detection lines (the eight detectors' "detected" lines, bogus flags, the fragment
 * attacks) that state a source address, each with that address; no other line. The same
 * again for the -l file form `Mmm dd HH:MM:SS text`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, fullCorpus, syslogLine, type Entry } from './corpus';
import { DETECTION_KINDS, SCAN_TITLES } from './catalogue';

const F2B = '/usr/bin/fail2ban-regex';
const COMMON = '/etc/fail2ban/filter.d/common.conf';
const have = existsSync(F2B) && existsSync(COMMON);

/** A private filter.d with Debian's common.conf and our filter. */
function filterDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'iplog-f2b-'));
  mkdirSync(join(dir, 'filter.d'));
  symlinkSync(COMMON, join(dir, 'filter.d', 'common.conf'));
  copyFileSync(join(ROOT, 'config', 'integrations', 'fail2ban', 'filter.d', 'iplog.conf'), join(dir, 'filter.d', 'iplog.conf'));
  return dir;
}

/** What fail2ban must extract from a line: the source address of a detection line, else nothing. */
export function f2bExpected(e: Entry): string | null {
  return e.parsed !== null && DETECTION_KINDS.has(e.parsed.kind) ? e.addr : null;
}

function runRegex(dir: string, lines: string[]): Map<string, string[]> {
  const log = join(dir, 'iplog.log');
  writeFileSync(log, lines.join('\n') + '\n');
  const r = spawnSync(F2B, ['-o', '<ip>|<msg>', log, join(dir, 'filter.d', 'iplog.conf')], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  const got = new Map<string, string[]>();
  for (const l of r.stdout.split('\n')) {
    const bar = l.indexOf('|');
    if (bar < 0) continue;
    const msg = l.slice(bar + 1);
    got.set(msg, [...(got.get(msg) ?? []), l.slice(0, bar)]);
  }
  return got;
}

function check(entries: Entry[], lines: string[], got: Map<string, string[]>): { matched: number; missedNames: number } {
  let matched = 0;
  let missedNames = 0;
  const wrong: string[] = [];
  entries.forEach((e, i) => {
    const want = f2bExpected(e);
    const ips = got.get(lines[i]!) ?? [];
    if (want === null) {
      if (ips.length > 0) wrong.push(`matched ${ips.join(',')} but must not: ${e.text} (${e.origin})`);
      if (e.parsed !== null && DETECTION_KINDS.has(e.parsed.kind)) missedNames++;
    } else if (ips.length !== 1 || ips[0] !== want) {
      wrong.push(`want ${want}, got [${ips.join(',')}]: ${e.text} (${e.origin})`);
    } else matched++;
  });
  assert.deepEqual(wrong, []);
  return { matched, missedNames };
}

test('fail2ban-regex: the filter matches every detection line with its source address, and nothing else', { skip: have ? false : 'fail2ban is not installed (npm run setup installs it on Debian)' }, async (t) => {
  const entries = await fullCorpus();
  const dir = filterDir();
  const lines = entries.map((e, i) => syslogLine(e.text, i));
  const { matched, missedNames } = check(entries, lines, runRegex(dir, lines));
  assert.ok(matched >= 150, `only ${matched} lines matched`);
  t.diagnostic(`${entries.length} lines; ${matched} matched with the right address; ${missedNames} name-only detection lines not matched; the other ${entries.length - matched - missedNames} not matched`);
  assert.ok(missedNames >= 20, 'name-only detection lines were in the corpus and were not matched');
  // coverage: every family, each with the plain and the "name (address)" form
  const covered = new Set<string>();
  for (const e of entries) {
    if (f2bExpected(e) === null) continue;
    const family = e.parsed!.kind === 'scan.detected' ? e.parsed!.title! : e.parsed!.kind;
    covered.add(`${family} ${e.parsed!.src === e.addr ? 'address' : 'named'}${e.parsed!.dst !== null ? ' -D' : ''}`);
  }
  for (const family of [...SCAN_TITLES.filter((t) => !t.startsWith('ICMP/UDP')), 'tcp.bogus_flags', 'frag.overlap', 'frag.duplicate', 'frag.oversized']) {
    for (const form of ['address', 'named', 'address -D', 'named -D']) assert.ok(covered.has(`${family} ${form}`), `no matched line for ${family} ${form}`);
  }
  // smurf lines show a network address, never a name
  assert.ok(covered.has('ICMP/UDP: smurf attack address') && covered.has('ICMP/UDP: smurf attack address -D'));
  // the modern profile's detections of one source are banned like the others ...
  for (const family of ['TCP: ACK scan', 'TCP: Maimon scan', 'TCP: port sweep', 'UDP: port sweep', 'ICMP: ping sweep', 'ARP: host sweep', 'ICMPv6: neighbour sweep', 'TCP: SYN flood', 'frag.tiny']) {
    assert.ok([...covered].some((c) => c.startsWith(`${family} `)), `no matched line for ${family}`);
  }
  // ... its aggregates ("from many sources") were in the corpus and matched nothing (check() above)
  const aggregates = entries.filter((e) => e.parsed?.aggregate === true);
  assert.ok(aggregates.length >= 10, `only ${aggregates.length} aggregate lines`);
  t.diagnostic(`${aggregates.length} aggregate lines ("from many sources"), none matched`);
});

test('fail2ban-regex: the same for the -l file form (no host, no tag)', { skip: have ? false : 'fail2ban is not installed' }, async () => {
  const entries = await fullCorpus();
  const dir = filterDir();
  const lines = entries.map((e, i) => syslogLine(e.text, i).replace(/ sensor iplog\[4242\]:/, ''));
  const { matched } = check(entries, lines, runRegex(dir, lines));
  assert.ok(matched >= 150);
});

test('fail2ban-regex: lines of other programs are not matched', { skip: have ? false : 'fail2ban is not installed' }, () => {
  const dir = filterDir();
  const lines = [
    'Mar  5 10:00:00 sensor sshd[42]: TCP: SYN scan detected [ports 22,21] from 192.0.2.7 [port 40000]',
    'Mar  5 10:00:01 sensor notiplog[42]: Oversized IP fragment from 192.0.2.8',
  ];
  assert.equal(runRegex(dir, lines).size, 0);
});

test('fail2ban-client -t: the example jail loads with the filter (Debian\'s configuration, private copy)', { skip: have && existsSync('/usr/bin/fail2ban-client') ? false : 'fail2ban is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'iplog-f2b-conf-'));
  cpSync('/etc/fail2ban', dir, { recursive: true });
  // only our jail: Debian's own jail.d enables sshd, which needs its log or the journal
  for (const f of readdirSync(join(dir, 'jail.d'))) rmSync(join(dir, 'jail.d', f), { force: true });
  const ours = join(ROOT, 'config', 'integrations', 'fail2ban');
  copyFileSync(join(ours, 'jail.d', 'iplog.conf'), join(dir, 'jail.d', 'iplog.conf'));
  copyFileSync(join(ours, 'filter.d', 'iplog.conf'), join(dir, 'filter.d', 'iplog.conf'));
  // the log file must exist for the test; a real install reads /var/log/syslog
  writeFileSync(join(dir, 'iplog.log'), '');
  writeFileSync(join(dir, 'jail.local'), `[iplog]\nlogpath = ${join(dir, 'iplog.log')}\n`);
  const t = spawnSync('/usr/bin/fail2ban-client', ['-c', dir, '-t'], { encoding: 'utf8' });
  assert.equal(t.status, 0, t.stdout + t.stderr);
  assert.match(t.stdout + t.stderr, /OK: configuration test is successful/);
  const d = spawnSync('/usr/bin/fail2ban-client', ['-c', dir, '-d'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  assert.equal(d.status, 0, d.stderr);
  for (const want of ["['set', 'iplog', 'maxretry', 1]", "['set', 'iplog', 'usedns', 'no']", "['set', 'iplog', 'addjournalmatch', 'SYSLOG_IDENTIFIER=iplog']"]) {
    assert.ok(d.stdout.includes(want), `${want} in the jail`);
  }
});

/**
 * `--log-replay`: the log rules over log files, alone or merged by time with a capture,
 * through the real CLI with the dry-run backend: one score per address across the packet
 * detectors and the log rules, one BAN line naming both, deterministic output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const BIN = join(root, 'bin', 'iplog');
const RULES = join(root, 'config', 'log-rules.conf');

function iplog(args: string[], conf: string) {
  const dir = mkdtempSync(join(tmpdir(), 'iplog-logreplay-'));
  const path = join(dir, 'iplog.conf');
  writeFileSync(path, conf);
  return spawnSync(process.execPath, [BIN, '--config', path, ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' }, timeout: 60_000 });
}

function logFile(lines: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'iplog-logreplay-'));
  const p = join(dir, 'auth.log');
  writeFileSync(p, lines.join('\n') + '\n');
  return p;
}

const CONF = `log_rules ${RULES}\nlog_file /var/log/auth.log rules sshd-*\n`;

test('a SYN scan (capture) and sshd failures (log) from one address: one score, one BAN line naming both', () => {
  // pcaps/ban/dry-run-repeat-offender.pcap: 203.0.113.5 SYN-scans at 1700000000 (Nov 14 22:13:20 2023 UTC)
  const pcap = join(root, 'pcaps', 'ban', 'dry-run-repeat-offender.pcap');
  const log = logFile([
    'Nov 14 22:13:10 srv sshd[811]: Server listening on 198.51.100.10 port 22.',
    'Nov 14 22:13:24 srv sshd[901]: Failed password for root from 203.0.113.5 port 40222 ssh2',
    'Nov 14 22:13:30 srv sshd[905]: Accepted password for alice from 198.51.100.20 port 40300 ssh2',
  ]);
  const args = ['-r', pcap, '--profile', 'compat', '-N', '--log-replay', log, '--log-year', '2023', '--ban-backend', 'dry-run', '--ban-weight', 'syn-scan=7', '--ban-allow', '198.51.100.0/24'];
  const r = iplog(args, CONF);
  assert.equal(r.status, 0, r.stderr);
  const mine = r.stdout.split('\n').filter((l) => l.includes('203.0.113.5') && /BAN|log:|SYN scan/.test(l));
  assert.deepEqual(mine.slice(0, 3).map((l) => l.replace(/\[ports [^\]]*\]/, '[ports ...]')), [
    'Nov 14 22:13:20 TCP: SYN scan detected [ports ...] from 203.0.113.5 [port 40000]',
    `Nov 14 22:13:24 log: sshd-failed-password from 203.0.113.5 (${log})`,
    'Nov 14 22:13:24 BAN: banned 203.0.113.5 for 3600 seconds (TCP: SYN scan, log: sshd-failed-password; score 10; offence 1; evidence proven)',
  ]);
  assert.equal(r.stdout.split('\n').filter((l) => l.includes('BAN: banned')).length, 1, 'one ban');
  // the same input gives the same output
  assert.equal(iplog(args, CONF).stdout, r.stdout);
});

test('logs alone: what would have been banned and when; the year rule; JSON log.match events', () => {
  const log = logFile([
    'Dec 31 23:59:58 srv sshd[1]: Invalid user admin from 2001:db8::66 port 50000',
    'Dec 31 23:59:58 srv sshd[1]: Failed password for invalid user admin from 2001:db8::66 port 50000 ssh2',
    'Jan  1 00:00:03 srv sshd[2]: Invalid user admin from 2001:db8::66 port 50002',
    'Jan  1 00:00:03 srv sshd[2]: Failed password for invalid user admin from 2001:db8::66 port 50002 ssh2',
  ]);
  const r = iplog(['--log-replay', log, '--log-year', '2025', '--ban-backend', 'dry-run', '--ban-time', '10m', '--json', '-'], CONF);
  assert.equal(r.status, 0, r.stderr);
  const evs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(evs.map((e) => [e.time, e.kind, e.src]), [
    ['2025-12-31T23:59:58Z', 'log.match', '2001:db8::66'],
    ['2025-12-31T23:59:58Z', 'log.match', '2001:db8::66'],
    ['2026-01-01T00:00:03Z', 'log.match', '2001:db8::66'],
    ['2026-01-01T00:00:03Z', 'log.match', '2001:db8::66'],
    ['2026-01-01T00:00:03Z', 'ban.added', '2001:db8::66'],
    ['2026-01-01T00:10:03Z', 'ban.removed', '2001:db8::66'],
    // the stream's final record, at the network clock's time (no packet time in a log replay)
    ['2026-01-01T00:10:03Z', 'iplog.summary', null],
  ]);
  const d = evs[1]!.detail as Record<string, unknown>;
  assert.deepEqual([d.rule, d.weight, d.spoofable, d.family], ['sshd-failed-password', 3, 0, 6]);
  assert.match(String((evs[4]!.detail as Record<string, unknown>).reason), /^log: sshd-invalid-user, log: sshd-failed-password; score 10; offence 1; evidence proven$/);
});

test('a rule with its own threshold, window and ban time bans on its own', () => {
  const conf = 'log_rule probe weight 1 threshold 3 window 1m ban_time 1d match ^<ADDR> \\S+ \\S+ \\[<CLFTIME>\\] "GET /wp-admin/\n';
  const log = logFile([0, 10, 20, 90, 95, 100].map((s) => `203.0.113.77 - - [05/Dec/2026:07:0${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')} +0000] "GET /wp-admin/ HTTP/1.1" 404 153 "-" "curl/7.88.1"`));
  const r = iplog(['--log-replay', log, '--ban-backend', 'dry-run'], conf);
  // 1 + 1 for the first two matches, then the third completes the rule's threshold: it weighs the ban threshold (10)
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n').filter((l) => l.includes('BAN')), [
    'Dec  5 07:00:20 BAN: banned 203.0.113.77 for 86400 seconds (log: probe; score 12; offence 1; evidence proven)',
    'Dec  6 07:00:20 BAN: unbanned 203.0.113.77 (expired)',
  ]);
});

test('--log-replay of a missing file, or without rules: a clear error', () => {
  const a = iplog(['--log-replay', '/nonexistent/auth.log', '--ban-backend', 'dry-run'], CONF);
  assert.equal(a.status, 1);
  assert.match(a.stderr, /--log-replay \/nonexistent\/auth\.log: ENOENT/);
  const b = iplog(['--log-replay', '/dev/null'], '');
  assert.equal(b.status, 1);
  assert.match(b.stderr, /no log rules are configured/);
});

test('several files share rules and one score: auth.log and secure (the same sshd rules), and a plain log whose rule has its own time group', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iplog-logreplay-'));
  const auth = join(dir, 'auth.log');
  const secure = join(dir, 'secure');
  const app = join(dir, 'app.log');
  // one guesser seen by two hosts' logs (both sshd: the shared rules), then by an application
  // (3 + 3 + 4 = the default threshold 10: the ban needs all three files; each rule named once)
  writeFileSync(auth, 'Dec  5 10:00:01 a sshd[1]: Failed password for root from 198.51.100.23 port 40000 ssh2\n');
  writeFileSync(secure, 'Dec  5 10:00:02 b sshd[2]: Failed password for root from 198.51.100.23 port 40001 ssh2\n');
  // the time group gives the time (RFC 3339 with an offset); the address is the rule's macro
  writeFileSync(app, '2026-12-05T11:00:03+01:00 auth failure for admin from 198.51.100.23\n');
  const conf = [
    `log_rules ${RULES}`,
    'log_rule app-auth weight 4 match ^(?<time>\\S+) auth failure for \\S+ from <ADDR>$',
    'log_file /var/log/auth.log rules sshd-*',
    'log_file /var/log/secure rules sshd-*',
    'log_file /srv/app/app.log rules app-auth format plain',
    '',
  ].join('\n');
  const r = iplog(['--log-replay', auth, '--log-replay', secure, '--log-replay', app, '--log-year', '2026', '--ban-backend', 'dry-run'], conf);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [
    `Dec  5 10:00:01 log: sshd-failed-password from 198.51.100.23 (${auth})`,
    `Dec  5 10:00:02 log: sshd-failed-password from 198.51.100.23 (${secure})`,
    `Dec  5 10:00:03 log: app-auth from 198.51.100.23 (${app})`,
    'Dec  5 10:00:03 BAN: banned 198.51.100.23 for 3600 seconds (log: sshd-failed-password, log: app-auth; score 10; offence 1; evidence proven)',
    'Dec  5 11:00:03 BAN: unbanned 198.51.100.23 (expired)',
  ]);
});

/**
 * The shipped rules (config/log-rules.conf) against lines written by the real programs
 * (test/logs/corpus/, made by test/tools/make-log-corpus.ts; PROVENANCE.md says what each
 * client did). The expectations come from what the clients did, per address: the
 * password guessers are matched for every wrong password, unknown user, pre-auth
 * disconnect and MaxAuthTries; the scanner for its banner and key exchange; the user who
 * logged in is never matched. auth.log (rsyslog) and the journal give the same matches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';

const root = join(__dirname, '..', '..', '..');
const BIN = join(root, 'bin', 'iplog');
const CORPUS = join(root, 'test', 'logs', 'corpus');
const CONF = `log_rules ${join(root, 'config', 'log-rules.conf')}\nlog_file /var/log/auth.log rules sshd-*\nlog_journal unit ssh.service ident sshd rules sshd-*\nlog_file /var/log/nginx/nginx-access.log rules http-* format plain\nlog_file /var/log/apache2/apache-access.log rules http-* format plain\nlog_file /var/log/mail.log rules postfix-*,dovecot-*\nlog_journal ident postfix/smtpd ident dovecot rules postfix-*,dovecot-*\n`;

const ATTACKER4 = '203.0.113.5';
const ATTACKER6 = '2001:db8:2::5';
const SCANNER = '203.0.113.7';
const GOOD = ['203.0.113.6', '2001:db8:2::6'];

interface Ev {
  kind: string;
  src: string;
  detail: Record<string, unknown>;
}

function replay(file: string): Ev[] {
  const dir = mkdtempSync(join(tmpdir(), 'iplog-corpus-'));
  writeFileSync(join(dir, 'iplog.conf'), CONF);
  const r = spawnSync(process.execPath, [BIN, '--config', join(dir, 'iplog.conf'), '--log-replay', join(CORPUS, file), '--log-year', '2026', '--ban-backend', 'dry-run', '--json', '-'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Ev);
}

/** rule → address → count */
function byRule(evs: Ev[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const e of evs) {
    if (e.kind !== 'log.match') continue;
    const r = (out[String(e.detail.rule)] ??= {});
    r[e.src] = (r[e.src] ?? 0) + 1;
  }
  return out;
}

const SSH_EXPECTED = {
  // per guesser: sshpass for iplogtest, root and admin (one password each), then oracle up to MaxAuthTries 3
  'sshd-failed-password': { [ATTACKER4]: 6, [ATTACKER6]: 6 },
  'sshd-invalid-user': { [ATTACKER4]: 2, [ATTACKER6]: 2 },
  // the three sshpass connections end before authentication; oracle's ends in MaxAuthTries
  'sshd-preauth-disconnect': { [ATTACKER4]: 3, [ATTACKER6]: 3 },
  'sshd-max-auth': { [ATTACKER4]: 1, [ATTACKER6]: 1 },
  // an HTTP request on port 22, and a client offering only diffie-hellman-group1-sha1
  'sshd-banner': { [ATTACKER4]: 1 },
  'sshd-no-kex': { [SCANNER]: 1 },
};

test('OpenSSH, auth.log form (sshd → rsyslogd): every failure of the guessers and the scanner, nothing of the user', () => {
  const evs = replay('auth.log');
  assert.deepEqual(byRule(evs), SSH_EXPECTED);
  for (const g of GOOD) assert.equal(evs.some((e) => e.src === g), false, `${g} logged in: no match, no ban`);
  assert.deepEqual(evs.filter((e) => e.kind === 'ban.added').map((e) => e.src), [ATTACKER4, ATTACKER6]);
});

test('OpenSSH, journal form (sshd → systemd-journald, journalctl -o json): the same matches', () => {
  const evs = replay('sshd-journal.json');
  assert.deepEqual(byRule(evs), SSH_EXPECTED);
  for (const g of GOOD) assert.equal(evs.some((e) => e.src === g), false);
});

for (const server of ['nginx', 'apache']) {
  test(`${server} access log: the admin-path probes (all 4xx) of both guessers; the user's pages and 404s not`, () => {
    const evs = replay(`${server}-access.log`);
    // 7 GETs and a POST of well-known admin paths, from each attacker (PROVENANCE.md)
    assert.deepEqual(byRule(evs), { 'http-admin-probe': { [ATTACKER4]: 8, [ATTACKER6]: 8 } });
    const lines = readFileSync(join(CORPUS, `${server}-access.log`), 'utf8').trim().split('\n');
    assert.equal(lines.filter((l) => l.startsWith('203.0.113.6 ')).length, 4, 'the user made 4 requests');
    // times come from the CLF time of the line
    const first = evs.find((e) => e.kind === 'log.match')!;
    const clf = /\[(\d\d)\/Dec\/2026:(\d\d:\d\d:\d\d) \+0000\]/.exec(lines[0]!)!;
    assert.equal((first as unknown as { time: string }).time, `2026-12-${clf[1]}T${clf[2]}Z`);
  });
}

// per attacker (PROVENANCE.md): SMTP AUTH PLAIN with a wrong password and AUTH LOGIN for an
// unknown user (one connection each), IMAP logins with a wrong password and for an unknown
// user (one connection each); the user's SMTP AUTH and IMAP login with the right password
const MAIL_EXPECTED = {
  'postfix-sasl': { [ATTACKER4]: 2, [ATTACKER6]: 2 },
  // + one login as a user named `x>, method=PLAIN, rip=192.0.2.99, lip=...`: still ATTACKER4's
  'dovecot-auth-failed': { [ATTACKER4]: 3, [ATTACKER6]: 2 },
};

test('Postfix SMTP AUTH (Dovecot SASL) and Dovecot IMAP, mail.log form (→ rsyslogd): every refused login of both guessers, nothing of the user', () => {
  const evs = replay('mail.log');
  assert.deepEqual(byRule(evs), MAIL_EXPECTED);
  for (const g of GOOD) assert.equal(evs.some((e) => e.src === g), false, `${g} logged in: no match, no ban`);
  assert.match(readFileSync(join(CORPUS, 'mail.log'), 'utf8'), /user=<x>, method=PLAIN, rip=192\.0\.2\.99, lip=/, 'the hostile name is in the log');
  assert.equal(evs.some((e) => e.src === '192.0.2.99'), false, 'the address inside a user name is never accused');
  // 4 + 4 + 4: each guesser is banned at its third refused login (SMTP twice, then IMAP)
  assert.deepEqual(evs.filter((e) => e.kind === 'ban.added').map((e) => [e.src, String(e.detail.reason)]), [
    [ATTACKER4, 'log: postfix-sasl, log: dovecot-auth-failed; score 12; offence 1; evidence proven'],
    [ATTACKER6, 'log: postfix-sasl, log: dovecot-auth-failed; score 12; offence 1; evidence proven'],
  ]);
  // the lines really are the daemons' (not a typed sample): the user's successes are in the file
  const text = readFileSync(join(CORPUS, 'mail.log'), 'utf8');
  assert.match(text, /postfix\/smtpd\[\d+\]: disconnect from unknown\[203\.0\.113\.6\] ehlo=1 auth=1 quit=1/);
  assert.match(text, /dovecot: imap-login: Login: user=<iplogtest>, method=\S+, rip=203\.0\.113\.6,/);
});

test('Postfix and Dovecot, journal form (→ systemd-journald, journalctl -o json): the same matches', () => {
  const evs = replay('mail-journal.json');
  assert.deepEqual(byRule(evs), MAIL_EXPECTED);
  for (const g of GOOD) assert.equal(evs.some((e) => e.src === g), false);
});

test('log.match events follow the event schema, graded spoofable 0', () => {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const validate = ajv.compile(JSON.parse(readFileSync(join(root, 'config', 'iplog-event.schema.json'), 'utf8')));
  const evs = [...replay('auth.log'), ...replay('nginx-access.log')];
  for (const e of evs) assert.ok(validate(e), `${JSON.stringify(e)}: ${ajv.errorsText(validate.errors)}`);
  assert.ok(evs.filter((e) => e.kind === 'log.match').every((e) => e.detail.spoofable === 0));
});

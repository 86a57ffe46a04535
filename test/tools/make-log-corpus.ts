/**
 * Makes the log corpus of the shipped rules (test/logs/corpus/): real daemons in network
 * namespaces (test/logs/daemon-lab.ts), real clients, real loggers; documentation
 * addresses only. Run as root: `npm run build && node dist/test/tools/make-log-corpus.js`.
 *
 * Run 1 (rsyslogd, classic format): sshd's auth.log, nginx's and Apache's access logs,
 * Postfix's and Dovecot's mail.log (SMTP AUTH through Dovecot SASL with swaks, IMAP
 * logins with curl).
 * Run 2 (systemd-journald): the same sshd and mail events in the journal, exported with
 * `journalctl -o json` and kept to the fields iplog reads (MESSAGE, SYSLOG_IDENTIFIER,
 * _SYSTEMD_UNIT, _PID, PRIORITY, SYSLOG_FACILITY, __REALTIME_TIMESTAMP, __CURSOR).
 *
 * What each client did is written next to the logs (corpus/PROVENANCE.md): the tests
 * derive their expectations from it (which address did what), not from the lines.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ATTACKER4, ATTACKER6, DaemonLab, GOOD4, GOOD6, OTHER4, SRV4, SRV6, TEST_PASSWORD, TEST_USER, labSkipReason, sleep } from '../logs/daemon-lab';

const out = process.env.IPLOG_CORPUS_OUT ?? join(__dirname, '..', '..', '..', 'test', 'logs', 'corpus');

function version(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.trim().split('\n')[0]!;
}

async function sshEvents(lab: DaemonLab, log: string[]): Promise<void> {
  const note = (s: string) => log.push(s);
  // brute force: wrong passwords for an existing user, for root, for users that do not exist
  for (const [from, to] of [
    [ATTACKER4, SRV4],
    [ATTACKER6, SRV6],
  ] as const) {
    lab.sshPassword(from, TEST_USER, 'wrong-1', to);
    note(`${from}: one wrong password for ${TEST_USER} (sshpass)`);
    lab.sshPassword(from, 'root', 'wrong-2', to);
    note(`${from}: one wrong password for root (sshpass)`);
    lab.sshPassword(from, 'admin', 'admin', to);
    note(`${from}: one password for the unknown user admin (sshpass)`);
    lab.sshManyPasswords(from, 'oracle', to);
    note(`${from}: wrong passwords for the unknown user oracle until sshd's MaxAuthTries (3) (ssh + SSH_ASKPASS)`);
  }
  // a scanner: not SSH at all, then an SSH client with only an old key exchange
  lab.client(['bash', '-c', `exec 3<>/dev/tcp/${SRV4}/22; printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; timeout 3 cat <&3 >/dev/null; true`]);
  note(`${ATTACKER4}: an HTTP request sent to port 22 (bash /dev/tcp) -- bound to the first address of the interface`);
  lab.client(['ssh', '-n', '-b', OTHER4, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'KexAlgorithms=diffie-hellman-group1-sha1', '-o', 'ConnectTimeout=5', `x@${SRV4}`, 'true']);
  note(`${OTHER4}: ssh offering only diffie-hellman-group1-sha1`);
  // the legitimate user: logs in with the right password, from v4 and v6
  const ok4 = lab.sshPassword(GOOD4, TEST_USER, TEST_PASSWORD, SRV4);
  note(`${GOOD4}: successful password login of ${TEST_USER}, ran \`true\`, logged out (ssh exit ${ok4})`);
  const ok6 = lab.sshPassword(GOOD6, TEST_USER, TEST_PASSWORD, SRV6);
  note(`${GOOD6}: successful password login of ${TEST_USER}, ran \`true\`, logged out (ssh exit ${ok6})`);
  if (ok4 !== 0 || ok6 !== 0) throw new Error('the successful logins failed: the corpus would not show them');
  await sleep(1500);
}

async function webEvents(lab: DaemonLab, log: string[]): Promise<void> {
  const probes = ['/wp-admin/', '/wp-login.php', '/xmlrpc.php', '/.env', '/phpmyadmin/index.php', '/.git/config', '/administrator/'];
  for (const [port, name] of [
    [80, 'nginx'],
    [8080, 'apache'],
  ] as const) {
    for (const [from, host] of [
      [ATTACKER4, SRV4],
      [ATTACKER6, `[${SRV6}]`],
    ] as const) {
      for (const p of probes) lab.client(['curl', '-s', '-o', '/dev/null', '-g', '--interface', from, '-A', 'Mozilla/5.0 (probe)', `http://${host}:${port}${p}`]);
      lab.client(['curl', '-s', '-o', '/dev/null', '-g', '--interface', from, '-X', 'POST', '-d', 'x=1', `http://${host}:${port}/wp-login.php`]);
      log.push(`${from}: ${name}: GET ${probes.join(' ')} and POST /wp-login.php (curl; all 404)`);
    }
    for (const p of ['/', '/index.html', '/favicon.ico', '/blog/wp-admin-tips.html']) lab.client(['curl', '-s', '-o', '/dev/null', '--interface', GOOD4, `http://${SRV4}:${port}${p}`]);
    log.push(`${GOOD4}: ${name}: GET / /index.html (200) /favicon.ico /blog/wp-admin-tips.html (404, not admin paths) (curl)`);
  }
  await sleep(500);
}

/** an address that only appears inside a hostile user name (it never connects) */
const DECOY4 = '192.0.2.99';

/**
 * swaks: one SMTP AUTH from `from` to `to`:25, then QUIT; returns swaks' exit status (0:
 * accepted, 28: refused). IPv6 needs Perl's IO::Socket::INET6 (Debian libio-socket-inet6-perl).
 */
function smtpAuth(lab: DaemonLab, from: string, to: string, mech: 'PLAIN' | 'LOGIN', user: string, password: string): number | null {
  const v6 = to.includes(':');
  return lab.client(['swaks', ...(v6 ? ['-6'] : []), '--server', to, '--port', '25', '--local-interface', from, '--ehlo', 'client.example.net', '--auth', mech, '--auth-user', user, '--auth-password', password, '--quit-after', 'AUTH', '--timeout', '20'], {}, 60_000).status;
}

/** curl: one IMAP login from `from` (LIST of the mailbox when it works); returns curl's exit status (0: logged in). */
function imapLogin(lab: DaemonLab, from: string, to: string, user: string, password: string): number | null {
  const host = to.includes(':') ? `[${to}]` : to;
  return lab.client(['curl', '-sS', '-g', '-o', '/dev/null', '--interface', from, '--max-time', '20', `imap://${host}/`, '-u', `${user}:${password}`], {}, 60_000).status;
}

async function mailEvents(lab: DaemonLab, log: string[]): Promise<void> {
  const note = (s: string) => log.push(s);
  // the user first: Dovecot's auth penalty counts failures per IPv6 /48, which the user's
  // address shares with the guesser's here (it would be slowed down until Postfix gives up)
  for (const [from, to] of [
    [GOOD4, SRV4],
    [GOOD6, SRV6],
  ] as const) {
    const a = smtpAuth(lab, from, to, 'PLAIN', TEST_USER, TEST_PASSWORD);
    const b = imapLogin(lab, from, to, TEST_USER, TEST_PASSWORD);
    if (a !== 0 || b !== 0) throw new Error(`the legitimate mail logins failed (swaks ${a}, curl ${b}): the corpus would not show them`);
    note(`${from}: SMTP AUTH PLAIN of ${TEST_USER} with the right password (swaks, accepted), then an IMAP login with it and a LIST (curl)`);
  }
  for (const [from, to] of [
    [ATTACKER4, SRV4],
    [ATTACKER6, SRV6],
  ] as const) {
    const a = smtpAuth(lab, from, to, 'PLAIN', TEST_USER, 'wrong-1');
    const b = smtpAuth(lab, from, to, 'LOGIN', 'admin', 'admin');
    // swaks exits 28 when the server refuses the AUTH (anything else: it did not get that far)
    if (a !== 28 || b !== 28) throw new Error(`the wrong SMTP AUTHs from ${from}: swaks exit ${a}, ${b} (28 = refused)`);
    note(`${from}: SMTP AUTH PLAIN with a wrong password for ${TEST_USER}, then SMTP AUTH LOGIN for the unknown user admin (swaks, one connection each; both refused)`);
    const c = imapLogin(lab, from, to, TEST_USER, 'wrong-2');
    const d = imapLogin(lab, from, to, 'oracle', 'oracle');
    // curl exits 67 when the login is denied
    if (c !== 67 || d !== 67) throw new Error(`the wrong IMAP logins from ${from}: curl exit ${c}, ${d} (67 = login denied)`);
    note(`${from}: IMAP login with a wrong password for ${TEST_USER}, then one for the unknown user oracle (curl, one connection each; both refused)`);
  }
  // a user name made to look like Dovecot's own fields, naming another address
  const hostile = `x>, method=PLAIN, rip=${DECOY4}, lip=${SRV4}, session=<x`;
  const e = imapLogin(lab, ATTACKER4, SRV4, hostile, 'x');
  if (e !== 67) throw new Error(`the hostile IMAP login: curl exit ${e} (67 = login denied)`);
  note(`${ATTACKER4}: IMAP login as the user "${hostile}" (curl; refused): the address in the name is ${DECOY4}, which did nothing`);
  await sleep(1500);
}

async function main(): Promise<void> {
  const skip = labSkipReason(['sshd', 'sshpass', 'ssh', 'rsyslogd', 'nginx', 'apache2', 'curl', 'journalctl', '/lib/systemd/systemd-journald', 'openssl', 'ss', 'postfix', 'dovecot', 'swaks']);
  if (skip !== null) throw new Error(skip);
  mkdirSync(out, { recursive: true });
  const log1: string[] = [];
  const lab1 = new DaemonLab('corpus', { logger: 'rsyslog', web: true, mail: true });
  try {
    await lab1.up();
    await sshEvents(lab1, log1);
    await webEvents(lab1, log1);
    await mailEvents(lab1, log1);
  } finally {
    await lab1.down();
  }
  copyFileSync(lab1.path('auth.log'), join(out, 'auth.log'));
  copyFileSync(lab1.path('nginx-access.log'), join(out, 'nginx-access.log'));
  copyFileSync(lab1.path('apache-access.log'), join(out, 'apache-access.log'));
  copyFileSync(lab1.path('mail.log'), join(out, 'mail.log'));

  const log2: string[] = [];
  const lab2 = new DaemonLab('corpus', { logger: 'journald', mail: true });
  try {
    await lab2.up();
    await sshEvents(lab2, log2);
    await mailEvents(lab2, log2);
  } finally {
    await lab2.down();
  }
  const keep = ['MESSAGE', 'SYSLOG_IDENTIFIER', '_SYSTEMD_UNIT', '_PID', 'PRIORITY', 'SYSLOG_FACILITY', '__REALTIME_TIMESTAMP', '__CURSOR'];
  const journal = readFileSync(lab2.path('journal.json'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const pick = (want: (ident: string) => boolean) =>
    journal
      .filter((o) => want(String(o.SYSLOG_IDENTIFIER)))
      .map((o) => JSON.stringify(Object.fromEntries(keep.filter((k) => k in o).map((k) => [k, o[k]]))))
      .join('\n') + '\n';
  writeFileSync(join(out, 'sshd-journal.json'), pick((i) => i === 'sshd'));
  writeFileSync(join(out, 'mail-journal.json'), pick((i) => i === 'dovecot' || i.startsWith('postfix/')));

  const prov = `# Provenance of the log corpus

Made by \`node dist/test/tools/make-log-corpus.js\` (test/tools/make-log-corpus.ts) on
${new Date().toISOString().slice(0, 10)}, as root, in network namespaces it created and deleted
(test/logs/daemon-lab.ts). Nothing here was typed by hand.

Programs: ${version(['/usr/sbin/sshd', '-V'])}; ${version(['rsyslogd', '-v'])}; ${version(['/lib/systemd/systemd-journald', '--version'])};
${version(['nginx', '-v'])}; ${version(['/usr/sbin/apache2', '-v'])}; ${version(['curl', '--version'])}; ${version(['sshpass', '-V'])};
Postfix ${version(['postconf', '-h', 'mail_version'])}; Dovecot ${version(['dovecot', '--version'])}; ${version(['swaks', '--version'])}.

Server ${SRV4} / ${SRV6}. Clients: ${ATTACKER4}, ${ATTACKER6} (attackers), ${OTHER4} (a scanner), ${GOOD4}, ${GOOD6} (the legitimate user).

- auth.log: sshd → /dev/log → rsyslogd (RSYSLOG_TraditionalFileFormat), facility auth/authpriv.
- sshd-journal.json: sshd → /dev/log → systemd-journald, exported with \`journalctl -D DIR -o json\`,
  entries of SYSLOG_IDENTIFIER=sshd, fields ${keep.join(', ')}.
- nginx-access.log, apache-access.log: the servers' "combined" access logs.
- mail.log: Postfix (smtpd, SMTP AUTH on port 25 with Dovecot's SASL socket, no TLS, no
  reverse lookups) and Dovecot (IMAP on port 143, log_path = syslog) → /dev/log → rsyslogd, facility mail.
- mail-journal.json: the same mail events in run 2 (systemd-journald), entries of
  SYSLOG_IDENTIFIER=dovecot or postfix/*, the same fields.

## What the clients did (run 1: auth.log, the access logs, mail.log)

${log1.map((l) => `- ${l}`).join('\n')}

## What the clients did (run 2: the journal)

${log2.map((l) => `- ${l}`).join('\n')}
`;
  writeFileSync(join(out, 'PROVENANCE.md'), prov);
  console.log(`corpus written to ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

/**
 * Makes the log corpus of the shipped rules (test/logs/corpus/): real daemons in network
 * namespaces (test/logs/daemon-lab.ts), real clients, real loggers; documentation
 * addresses only. Run as root: `npm run build && node dist/test/tools/make-log-corpus.js`.
 *
 * Run 1 (rsyslogd, classic format): sshd's auth.log, nginx's and Apache's access logs.
 * Run 2 (systemd-journald): the same sshd events in the journal, exported with
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

async function main(): Promise<void> {
  const skip = labSkipReason(['sshd', 'sshpass', 'ssh', 'rsyslogd', 'nginx', 'apache2', 'curl', 'journalctl', '/lib/systemd/systemd-journald', 'openssl', 'ss']);
  if (skip !== null) throw new Error(skip);
  mkdirSync(out, { recursive: true });
  const log1: string[] = [];
  const lab1 = new DaemonLab('corpus', { logger: 'rsyslog', web: true });
  try {
    await lab1.up();
    await sshEvents(lab1, log1);
    await webEvents(lab1, log1);
  } finally {
    await lab1.down();
  }
  copyFileSync(lab1.path('auth.log'), join(out, 'auth.log'));
  copyFileSync(lab1.path('nginx-access.log'), join(out, 'nginx-access.log'));
  copyFileSync(lab1.path('apache-access.log'), join(out, 'apache-access.log'));

  const log2: string[] = [];
  const lab2 = new DaemonLab('corpus', { logger: 'journald' });
  try {
    await lab2.up();
    await sshEvents(lab2, log2);
  } finally {
    await lab2.down();
  }
  const keep = ['MESSAGE', 'SYSLOG_IDENTIFIER', '_SYSTEMD_UNIT', '_PID', 'PRIORITY', 'SYSLOG_FACILITY', '__REALTIME_TIMESTAMP', '__CURSOR'];
  const entries = readFileSync(lab2.path('journal.json'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((o) => o.SYSLOG_IDENTIFIER === 'sshd')
    .map((o) => JSON.stringify(Object.fromEntries(keep.filter((k) => k in o).map((k) => [k, o[k]]))));
  writeFileSync(join(out, 'sshd-journal.json'), entries.join('\n') + '\n');

  const prov = `# Provenance of the log corpus

Made by \`node dist/test/tools/make-log-corpus.js\` (test/tools/make-log-corpus.ts) on
${new Date().toISOString().slice(0, 10)}, as root, in network namespaces it created and deleted
(test/logs/daemon-lab.ts). Nothing here was typed by hand.

Programs: ${version(['/usr/sbin/sshd', '-V'])}; ${version(['rsyslogd', '-v'])}; ${version(['/lib/systemd/systemd-journald', '--version'])};
${version(['nginx', '-v'])}; ${version(['/usr/sbin/apache2', '-v'])}; ${version(['curl', '--version'])}; ${version(['sshpass', '-V'])}.

Server ${SRV4} / ${SRV6}. Clients: ${ATTACKER4}, ${ATTACKER6} (attackers), ${OTHER4} (a scanner), ${GOOD4}, ${GOOD6} (the legitimate user).

- auth.log: sshd → /dev/log → rsyslogd (RSYSLOG_TraditionalFileFormat), facility auth/authpriv.
- sshd-journal.json: sshd → /dev/log → systemd-journald, exported with \`journalctl -D DIR -o json\`,
  entries of SYSLOG_IDENTIFIER=sshd, fields ${keep.join(', ')}.
- nginx-access.log, apache-access.log: the servers' "combined" access logs.

## What the clients did (run 1: auth.log and the access logs)

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

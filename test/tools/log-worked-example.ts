/**
 * The worked example of docs/log-rules.md, for real: one address (203.0.113.5) SYN-scans
 * the server with nmap, then fails ssh passwords; tcpdump records the packets, rsyslogd
 * the sshd lines (test/logs/daemon-lab.ts). Writes the capture and auth.log to DIR
 * (default /tmp/iplog-log-example) and prints the `iplog -r ... --log-replay ...` run.
 * Run as root: `npm run build && node dist/test/tools/log-worked-example.js [DIR]`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ATTACKER4, DaemonLab, SRV4, TEST_USER, sleep } from '../logs/daemon-lab';

async function main(): Promise<void> {
  const out = process.argv[2] ?? '/tmp/iplog-log-example';
  mkdirSync(out, { recursive: true });
  const lab = new DaemonLab('example', { logger: 'rsyslog' });
  try {
    await lab.up();
    const pcap = join(out, 'scan-and-ssh.pcap');
    const dump = spawn('ip', ['netns', 'exec', lab.srv, 'tcpdump', '-i', 'vsrv', '-U', '-n', '-w', pcap, 'ip'], { stdio: ['ignore', 'ignore', 'pipe'] });
    await sleep(1500);
    lab.client(['nmap', '-n', '-sS', '-Pn', '-S', ATTACKER4, '-e', 'vcli', '-p', '20-30,80,443,8080', SRV4], {}, 60_000);
    await sleep(1000);
    lab.sshPassword(ATTACKER4, 'root', 'password123');
    lab.sshPassword(ATTACKER4, TEST_USER, 'letmein');
    await sleep(1500);
    dump.kill('SIGINT');
    await new Promise((r) => dump.on('exit', r));
    copyFileSync(lab.path('auth.log'), join(out, 'auth.log'));
  } finally {
    await lab.down();
  }
  writeFileSync(join(out, 'iplog.conf'), `log_rules ${join(__dirname, '..', '..', '..', 'config', 'log-rules.conf')}\nlog_file /var/log/auth.log rules sshd-*\n`);
  const args = ['--config', join(out, 'iplog.conf'), '-r', join(out, 'scan-and-ssh.pcap'), '--log-replay', join(out, 'auth.log'), '-N', '-m', '--ban-backend', 'dry-run', '--ban-weight', 'syn-scan=6'];
  console.log(`$ iplog ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [join(__dirname, '..', '..', '..', 'bin', 'iplog'), ...args], { encoding: 'utf8' });
  process.stdout.write(r.stdout + r.stderr);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

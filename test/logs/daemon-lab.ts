/**
 * Real daemons in network namespaces, for the log corpus (test/tools/make-log-corpus.ts)
 * and the live sshd → nftables test: a server namespace `srv` (198.51.100.1/24,
 * 2001:db8:1::1/64) and a client namespace `cli` (203.0.113.5, .6, .7 and 2001:db8:2::5,
 * ::6), joined by a veth pair created inside `srv`, documentation ranges only.
 *
 * The server's daemons run in a private mount namespace (`unshare -m`) where:
 * - /dev is a tmpfs holding only the usual nodes and `/dev/log`, a link to the socket of
 *   the syslog daemon started there (rsyslogd writing auth.log/mail.log in the classic
 *   format, or a real systemd-journald whose journal `journalctl -D` reads): the host's
 *   logging is untouched;
 * - /etc/passwd, /etc/shadow and /etc/group are copies with one more user, `iplogtest`
 *   (password `correct-horse`), so that a real successful login can be made without
 *   changing the host's accounts.
 * Daemons: sshd, and optionally nginx and Apache (access logs), and Postfix (smtpd with
 * SMTP AUTH through Dovecot's SASL socket) with Dovecot (IMAP), all with configurations
 * written here (the mail daemons see their own /etc/postfix, /etc/dovecot and a tmpfs
 * /var/spool/postfix, bind-mounted in the private mount namespace; Dovecot's users are a
 * passwd-file of its own). `down()` stops them and deletes the namespaces (also at exit).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync, readFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const live = new Set<string>();
process.on('exit', () => {
  for (const ns of live) spawnSync('ip', ['netns', 'del', ns]);
});

export const SRV4 = '198.51.100.1';
export const SRV6 = '2001:db8:1::1';
export const ATTACKER4 = '203.0.113.5';
export const GOOD4 = '203.0.113.6';
export const OTHER4 = '203.0.113.7';
export const ATTACKER6 = '2001:db8:2::5';
export const GOOD6 = '2001:db8:2::6';
export const TEST_USER = 'iplogtest';
export const TEST_PASSWORD = 'correct-horse';

function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0 || existsSync(tool);
}

/** Why the lab cannot run here, or null. */
export function labSkipReason(tools: string[]): string | null {
  if (process.platform !== 'linux') return 'needs Linux namespaces';
  if (process.getuid?.() !== 0) return 'needs root (ip netns, unshare -m); CI runs it as root';
  for (const t of ['ip', 'unshare', 'mount', ...tools]) if (!has(t)) return `needs ${t} (scripts/setup.mjs installs it on Debian)`;
  const probe = `iplog-lprobe-${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.status !== 0) return `ip netns does not work here: ${r.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

export interface LabOptions {
  logger: 'rsyslog' | 'journald';
  web?: boolean;
  /** Postfix (SMTP AUTH on port 25 via Dovecot SASL) and Dovecot (IMAP on port 143) */
  mail?: boolean;
  /**
   * journald only: run sshd in a cgroup named like a systemd unit (system.slice/UNIT), so
   * that journald gives its entries _SYSTEMD_UNIT=UNIT as on a systemd machine
   */
  sshdUnit?: string;
  /** extra sshd_config lines */
  sshd?: string[];
}

export class DaemonLab {
  readonly srv: string;
  readonly cli: string;
  readonly dir: string;
  private server: ChildProcess | null = null;
  serverErr = '';
  private static n = 0;

  constructor(
    tag: string,
    private readonly o: LabOptions,
  ) {
    const id = `${process.pid}-${DaemonLab.n++}`;
    this.srv = `iplog-${tag}-${id}-srv`;
    this.cli = `iplog-${tag}-${id}-cli`;
    this.dir = mkdtempSync(join(tmpdir(), `iplog-${tag}-`));
    chmodSync(this.dir, 0o755);
  }

  run(ns: string, argv: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}) {
    const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', input: opts.input, env: { ...process.env, ...opts.env }, timeout: opts.timeout ?? 60_000 });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  must(ns: string, argv: string[]): string {
    const r = this.run(ns, argv);
    if (r.status !== 0) throw new Error(`${argv.join(' ')} in ${ns}: exit ${r.status}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** Client: run argv in the client namespace. */
  client(argv: string[], env: NodeJS.ProcessEnv = {}, timeout = 30_000) {
    return this.run(this.cli, argv, { env, timeout });
  }

  network(): void {
    for (const ns of [this.srv, this.cli]) {
      const r = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ip netns add ${ns}: ${r.stderr}`);
      live.add(ns);
      this.must(ns, ['ip', 'link', 'set', 'lo', 'up']);
    }
    this.must(this.srv, ['ip', 'link', 'add', 'vsrv', 'type', 'veth', 'peer', 'name', 'vcli']);
    this.must(this.srv, ['ip', 'link', 'set', 'vcli', 'netns', this.cli]);
    this.must(this.srv, ['ip', 'addr', 'add', `${SRV4}/24`, 'dev', 'vsrv']);
    this.must(this.srv, ['ip', '-6', 'addr', 'add', `${SRV6}/64`, 'dev', 'vsrv', 'nodad']);
    this.must(this.srv, ['ip', 'link', 'set', 'vsrv', 'up']);
    this.must(this.srv, ['ip', 'route', 'add', '203.0.113.0/24', 'dev', 'vsrv']);
    this.must(this.srv, ['ip', '-6', 'route', 'add', '2001:db8:2::/64', 'dev', 'vsrv']);
    for (const a of [ATTACKER4, GOOD4, OTHER4]) this.must(this.cli, ['ip', 'addr', 'add', `${a}/24`, 'dev', 'vcli']);
    for (const a of [ATTACKER6, GOOD6]) this.must(this.cli, ['ip', '-6', 'addr', 'add', `${a}/64`, 'dev', 'vcli', 'nodad']);
    this.must(this.cli, ['ip', 'link', 'set', 'vcli', 'up']);
    this.must(this.cli, ['ip', 'route', 'add', '198.51.100.0/24', 'dev', 'vcli']);
    this.must(this.cli, ['ip', '-6', 'route', 'add', '2001:db8:1::/64', 'dev', 'vcli']);
  }

  private files(): void {
    const T = this.dir;
    mkdirSync(join(T, 'www'), { recursive: true });
    mkdirSync(join(T, 'home'), { recursive: true });
    mkdirSync(join(T, 'rsyslog'), { recursive: true });
    writeFileSync(join(T, 'www', 'index.html'), '<p>iplog test page</p>\n');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(T, 'hostkey')]);
    writeFileSync(
      join(T, 'sshd_config'),
      [
        `ListenAddress ${SRV4}`,
        `ListenAddress [${SRV6}]`,
        `HostKey ${T}/hostkey`,
        `PidFile ${T}/sshd.pid`,
        'PasswordAuthentication yes',
        'KbdInteractiveAuthentication no',
        'UsePAM yes',
        'PermitRootLogin no',
        'MaxAuthTries 3',
        'LoginGraceTime 20',
        'SyslogFacility AUTH',
        'LogLevel INFO',
        'UseDNS no',
        ...(this.o.sshd ?? []),
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(T, 'rsyslog.conf'),
      [
        `global(workDirectory="${T}/rsyslog")`,
        `module(load="imuxsock" SysSock.Name="${T}/log.sock")`,
        'module(load="builtin:omfile" Template="RSYSLOG_TraditionalFileFormat" fileCreateMode="0644")',
        `auth,authpriv.* action(type="omfile" file="${T}/auth.log")`,
        `mail.* action(type="omfile" file="${T}/mail.log")`,
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(T, 'nginx.conf'),
      `daemon off;\nuser www-data;\npid ${T}/nginx.pid;\nerror_log ${T}/nginx-error.log;\nevents { worker_connections 64; }\nhttp {\n  access_log ${T}/nginx-access.log combined;\n  server { listen ${SRV4}:80; listen [${SRV6}]:80; root ${T}/www; }\n}\n`,
    );
    const mod = (m: string) => `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so`;
    writeFileSync(
      join(T, 'apache2.conf'),
      [
        mod('mpm_event'),
        mod('authz_core'),
        mod('dir'),
        mod('mime'),
        'TypesConfig /etc/mime.types',
        `Listen ${SRV4}:8080`,
        `Listen [${SRV6}]:8080`,
        'ServerName www.example.org',
        `PidFile ${T}/apache.pid`,
        `DefaultRuntimeDir ${T}`,
        `Mutex file:${T}`,
        'User www-data',
        'Group www-data',
        `ErrorLog ${T}/apache-error.log`,
        'HostnameLookups Off',
        'LogFormat "%h %l %u %t \\"%r\\" %>s %O \\"%{Referer}i\\" \\"%{User-Agent}i\\"" combined',
        `CustomLog ${T}/apache-access.log combined`,
        `DocumentRoot ${T}/www`,
        `<Directory ${T}/www>`,
        '  Require all granted',
        '</Directory>',
        '',
      ].join('\n'),
    );
    if (this.o.mail === true) this.mailFiles();
    const hash = spawnSync('openssl', ['passwd', '-6', '-salt', 'iplogsalt', TEST_PASSWORD], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(join(T, 'passwd'), readFileSync('/etc/passwd', 'utf8') + `${TEST_USER}:x:64123:64123:iplog test:${T}/home:/bin/sh\n`);
    writeFileSync(join(T, 'shadow'), readFileSync('/etc/shadow', 'utf8') + `${TEST_USER}:${hash}:19000:0:99999:7:::\n`, { mode: 0o640 });
    writeFileSync(join(T, 'group'), readFileSync('/etc/group', 'utf8') + `${TEST_USER}:x:64123:\n`);
    const journald = this.o.logger === 'journald';
    const web = this.o.web === true;
    const mail = this.o.mail === true;
    const unit = journald && this.o.sshdUnit !== undefined ? this.o.sshdUnit : '';
    if (!/^[A-Za-z0-9@._-]*$/.test(unit)) throw new Error(`sshdUnit ${unit}`);
    writeFileSync(
      join(T, 'server.sh'),
      `set -e
T=${T}
mount --make-rprivate /
mkdir -p $T/olddev
mount --bind /dev $T/olddev
mount -t tmpfs -o mode=755 tmpfs /dev
for n in null zero full random urandom tty ptmx; do touch /dev/$n; mount --bind $T/olddev/$n /dev/$n; done
mkdir -p /dev/pts /dev/shm
mount --bind $T/olddev/pts /dev/pts
mount -t tmpfs tmpfs /dev/shm
for f in passwd shadow group; do mount --bind $T/$f /etc/$f; done
chown 64123:64123 $T/home
PIDS=""
${
  journald
    ? `# ip netns exec mounted a sysfs of its own: journald needs the cgroup tree
mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null || true
mount -t tmpfs tmpfs /run/systemd
mount -t tmpfs tmpfs /run/log
# the host's persistent journal (if any) is not ours to write: journald and journalctl here see an empty one
if [ -d /var/log/journal ]; then mount -t tmpfs tmpfs /var/log/journal; fi
mkdir -p /run/systemd/journal
/lib/systemd/systemd-journald > $T/journald.out 2>&1 &
PIDS="$PIDS $!"
i=0; while [ ! -S /run/systemd/journal/dev-log ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
ln -s /run/systemd/journal/dev-log /dev/log
ln -s /run/log/journal $T/journal`
    : `rsyslogd -n -f $T/rsyslog.conf -i $T/rsyslog.pid > $T/rsyslog.out 2>&1 &
PIDS="$PIDS $!"
i=0; while [ ! -S $T/log.sock ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
ln -s $T/log.sock /dev/log`
}
mkdir -p /run/sshd
${unit !== '' ? `mkdir -p /sys/fs/cgroup/system.slice/${unit}
echo $$ > /sys/fs/cgroup/system.slice/${unit}/cgroup.procs` : ''}
/usr/sbin/sshd -D -f $T/sshd_config > $T/sshd.out 2>&1 &
PIDS="$PIDS $!"
${unit !== '' ? 'echo $$ > /sys/fs/cgroup/cgroup.procs' : ''}
${
  mail
    ? `mount --bind $T/postfix /etc/postfix
mount --bind $T/dovecot /etc/dovecot
mount -t tmpfs -o mode=755 tmpfs /var/spool/postfix
mkdir -p /var/spool/postfix/private /var/spool/postfix/pid $T/postfix-data
chown postfix:postfix $T/postfix-data
postfix set-permissions create-missing > $T/postfix-setup.out 2>&1 || true
postfix check >> $T/postfix-setup.out 2>&1 || true
postfix start-fg > $T/postfix.out 2>&1 &
PIDS="$PIDS $!"
dovecot -F -c /etc/dovecot/dovecot.conf > $T/dovecot.out 2>&1 &
PIDS="$PIDS $!"
# ready only once Postfix's master runs (stopping before would leave it behind)
i=0; while [ ! -s /var/spool/postfix/pid/master.pid ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done`
    : ''
}
${web ? `nginx -c $T/nginx.conf > $T/nginx.out 2>&1 &\nPIDS="$PIDS $!"\n/usr/sbin/apache2 -f $T/apache2.conf -DFOREGROUND > $T/apache.out 2>&1 &\nPIDS="$PIDS $!"` : ''}
echo ready > $T/ready
while [ ! -e $T/stop ]; do sleep 0.1; done
${journald ? 'journalctl -D /run/log/journal -o json --no-pager > $T/journal.json 2>/dev/null || true' : ''}
${mail ? 'postfix stop > /dev/null 2>&1 || true\nM=$(cat /var/spool/postfix/pid/master.pid 2>/dev/null | tr -d " "); [ -n "$M" ] && kill $M 2>/dev/null || true' : ''}
kill $PIDS 2>/dev/null || true
wait 2>/dev/null || true
${unit !== '' ? `i=0; while ! rmdir /sys/fs/cgroup/system.slice/${unit} 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
rmdir /sys/fs/cgroup/system.slice 2>/dev/null || true` : ''}
`,
    );
  }

  /** Postfix's and Dovecot's configurations (mail: true). */
  private mailFiles(): void {
    const T = this.dir;
    // the package's files (postfix-files, dynamicmaps.cf, ...), then our main.cf and master.cf
    cpSync('/etc/postfix', join(T, 'postfix'), { recursive: true });
    mkdirSync(join(T, 'dovecot'), { recursive: true });
    mkdirSync(join(T, 'mail'), { recursive: true });
    chmodSync(join(T, 'mail'), 0o777);
    writeFileSync(
      join(T, 'postfix', 'main.cf'),
      [
        'compatibility_level = 3.6',
        'myhostname = mx.example.org',
        'mydomain = example.org',
        'myorigin = example.org',
        'mydestination =',
        'relayhost =',
        `inet_interfaces = ${SRV4}, [${SRV6}]`,
        'inet_protocols = all',
        'mynetworks = 127.0.0.0/8',
        // no reverse lookups: the client is `unknown[ADDR]` at once (no DNS in the namespace)
        'smtpd_peername_lookup = no',
        'disable_dns_lookups = yes',
        'smtp_dns_support_level = disabled',
        'smtpd_sasl_auth_enable = yes',
        'smtpd_sasl_type = dovecot',
        'smtpd_sasl_path = private/auth',
        'smtpd_tls_security_level = none',
        'smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination',
        // its own lock and cache files, not the host's /var/lib/postfix
        `data_directory = ${T}/postfix-data`,
        'maillog_file =',
        'alias_maps =',
        'alias_database =',
        'local_recipient_maps =',
        'biff = no',
        '',
      ].join('\n'),
    );
    // the daemons that an SMTP session and its queueing need, none chrooted (their syslog is /dev/log)
    writeFileSync(
      join(T, 'postfix', 'master.cf'),
      [
        'smtp      inet  n       -       n       -       -       smtpd',
        'pickup    unix  n       -       n       60      1       pickup',
        'cleanup   unix  n       -       n       -       0       cleanup',
        'qmgr      unix  n       -       n       300     1       qmgr',
        'tlsmgr    unix  -       -       n       1000?   1       tlsmgr',
        'rewrite   unix  -       -       n       -       -       trivial-rewrite',
        'bounce    unix  -       -       n       -       0       bounce',
        'defer     unix  -       -       n       -       0       bounce',
        'trace     unix  -       -       n       -       0       bounce',
        'verify    unix  -       -       n       -       1       verify',
        'flush     unix  n       -       n       1000?   0       flush',
        'proxymap  unix  -       -       n       -       -       proxymap',
        'smtp      unix  -       -       n       -       -       smtp',
        'showq     unix  n       -       n       -       -       showq',
        'error     unix  -       -       n       -       -       error',
        'retry     unix  -       -       n       -       -       error',
        'discard   unix  -       -       n       -       -       discard',
        'anvil     unix  -       -       n       -       1       anvil',
        'scache    unix  -       -       n       -       1       scache',
        'postlog   unix-dgram n  -       n       -       1       postlogd',
        '',
      ].join('\n'),
    );
    writeFileSync(join(T, 'dovecot', 'users'), `${TEST_USER}:{PLAIN}${TEST_PASSWORD}::::::\n`);
    writeFileSync(
      join(T, 'dovecot', 'dovecot.conf'),
      [
        'protocols = imap',
        `listen = ${SRV4}, ${SRV6}`,
        `base_dir = ${T}/dovecot-run`,
        `state_dir = ${T}/dovecot-state`,
        'ssl = no',
        'disable_plaintext_auth = no',
        'auth_mechanisms = plain login',
        'log_path = syslog',
        'syslog_facility = mail',
        `mail_location = maildir:${T}/mail/%u`,
        'mail_uid = nobody',
        'mail_gid = nogroup',
        'first_valid_uid = 1',
        'login_trusted_networks =',
        'passdb {',
        '  driver = passwd-file',
        `  args = ${T}/dovecot/users`,
        '}',
        'userdb {',
        '  driver = static',
        `  args = uid=nobody gid=nogroup home=${T}/mail/%u`,
        '}',
        'service auth {',
        '  unix_listener /var/spool/postfix/private/auth {',
        '    mode = 0660',
        '    user = postfix',
        '    group = postfix',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  }

  /** Network, files, and the server's daemons; resolves when they listen. */
  async up(): Promise<void> {
    this.network();
    this.files();
    this.server = spawn('ip', ['netns', 'exec', this.srv, 'unshare', '-m', 'sh', join(this.dir, 'server.sh')], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.server.stderr!.on('data', (b: Buffer) => (this.serverErr += b.toString()));
    // Postfix start-up (its checks) takes seconds on a busy machine
    const end = Date.now() + (this.o.mail === true ? 90_000 : 20_000);
    for (;;) {
      if (existsSync(join(this.dir, 'ready'))) break;
      if (Date.now() > end || this.server.exitCode !== null) throw new Error(`the lab's server did not start: ${this.serverErr}`);
      await sleep(50);
    }
    // sshd (and the web servers) listening
    for (;;) {
      const ss = this.run(this.srv, ['ss', '-ltnH']).stdout;
      if (ss.includes(`${SRV4}:22`) && (!this.o.web || (ss.includes(`${SRV4}:80`) && ss.includes(`${SRV4}:8080`))) && (!this.o.mail || (ss.includes(`${SRV4}:25`) && ss.includes(`${SRV4}:143`)))) break;
      if (Date.now() > end) throw new Error(`daemons not listening: ${ss}\n${this.serverErr}\n${this.read('sshd.out')}${this.read('nginx.out')}${this.read('apache.out')}${this.read('rsyslog.out')}${this.read('postfix-setup.out')}${this.read('postfix.out')}${this.read('dovecot.out')}`);
      await sleep(50);
    }
  }

  /**
   * argv prefix that runs a command in the server's network and mount namespaces (where
   * its syslog daemon or journald is: a plain `journalctl` there reads the lab's journal).
   */
  inServer(): string[] {
    if (this.server?.pid === undefined) throw new Error('the lab is not up');
    return ['nsenter', '-t', String(this.server.pid), '-m', '-n', '--'];
  }

  read(name: string): string {
    try {
      return readFileSync(join(this.dir, name), 'utf8');
    } catch {
      return '';
    }
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** Stop the daemons (the journal is exported to journal.json first) and the namespaces. */
  async down(): Promise<void> {
    if (this.server !== null) {
      writeFileSync(join(this.dir, 'stop'), '');
      const s = this.server;
      await new Promise<void>((r) => {
        if (s.exitCode !== null) return r();
        const t = setTimeout(() => {
          s.kill('SIGKILL');
          r();
        }, 10_000);
        s.on('exit', () => {
          clearTimeout(t);
          r();
        });
      });
      this.server = null;
    }
    for (const ns of [this.srv, this.cli]) {
      spawnSync('ip', ['netns', 'del', ns]);
      live.delete(ns);
    }
  }

  // ---------------------------------------------------------------- clients

  /** One ssh password attempt (sshpass) from `from` as `user`; returns ssh's exit status. */
  sshPassword(from: string, user: string, password: string, to = SRV4, extra: string[] = []): number | null {
    const r = this.client(['sshpass', '-p', password, 'ssh', '-n', '-b', from, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password', '-o', 'NumberOfPasswordPrompts=1', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', ...extra, `${user}@${to}`, 'true']);
    return r.status;
  }

  /** Several wrong passwords in one connection (SSH_ASKPASS), up to sshd's MaxAuthTries. */
  sshManyPasswords(from: string, user: string, to = SRV4): number | null {
    const askpass = join(this.dir, 'askpass.sh');
    writeFileSync(askpass, '#!/bin/sh\necho wrong-password\n', { mode: 0o755 });
    const r = this.client(
      ['setsid', '-w', 'ssh', '-n', '-b', from, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password', '-o', 'NumberOfPasswordPrompts=6', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', `${user}@${to}`, 'true'],
      { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
    );
    return r.status;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

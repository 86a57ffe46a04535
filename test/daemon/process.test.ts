/**
 * The daemon as a process (src/daemon.ts), with a stand-in capture (fake-iplog.ts) so
 * that it runs without libpcap: the start-up order and its fatal texts, the pid file and
 * its lock, `-k`, `-R`/SIGHUP (the oracle's restart_hup run, line for line), background
 * mode (session, directory, umask, descriptors, the parent's exit status), SIGUSR1
 * statistics in the operational log, and, as root, -u with capture going on after the
 * drop. The same scenarios with the real capture on a namespace's loopback are in
 * live.test.ts.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, readlinkSync, rmSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, readOr, root, unstamp, waitFor } from './helpers';

const FAKE = join(__dirname, 'fake-iplog.js');
const BIN = join(root, 'bin', 'iplog');
const TCP_FLAGS = join(root, 'pcaps', 'conformance', 'crafted_tcp_flags.pcap');
const ORACLE_HUP = join(root, 'test', 'conformance', 'out', 'restart_hup.default.log');

let dir: string;
/** the stand-in capture's input directory of the instance started last */
let feed: string;
let seq = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'iplog-daemon-'));
  chmodSync(dir, 0o755);
});
/** every process a test started, and background daemons, killed at the end whatever happened */
const children: ChildProcess[] = [];
const daemons: number[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const pid of daemons) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** each instance gets its own input directory */
const env = () => {
  feed = join(dir, `feed-${seq++}`);
  mkdirSync(feed);
  chmodSync(feed, 0o777); // also for an instance that has become nobody
  return { ...process.env, IPLOG_FAKE_FEED: feed };
};
/** -N: no reverse DNS (nothing but loopback may be asked); an empty config file */
const base = () => {
  const conf = join(dir, 'empty.conf');
  if (!existsSync(conf)) closeSync(openSync(conf, 'w'));
  return ['-N', '--config', conf];
};

/** Run the stand-in iplog to the end; stdout, stderr, status. */
function runSync(args: string[]): { out: string; err: string; status: number | null } {
  const r = spawnSync(process.execPath, [FAKE, ...base(), ...args], { encoding: 'utf8', env: env(), timeout: 20_000 });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

/** Start a foreground (-o -L) instance writing to a file; resolves once it logged its start. */
async function foreground(args: string[]): Promise<{ child: ChildProcess; out: string; exited: Promise<number | null> }> {
  const out = join(dir, `fg-${seq++}.txt`);
  const fd = openSync(out, 'w');
  const child = spawn(process.execPath, [FAKE, ...base(), '-o', '-L', ...args], { stdio: ['ignore', fd, 'inherit'], env: env() });
  children.push(child);
  closeSync(fd);
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  assert.ok(await waitFor(() => readOr(out).includes('iplog started.')), 'started');
  return { child, out, exited };
}

function feedPcap(src: string): void {
  copyFileSync(src, join(feed, `f-${seq++}.pcap`));
}

async function fed(): Promise<void> {
  assert.ok(await waitFor(() => !readdirSync(feed).some((f) => f.endsWith('.pcap'))), 'capture fed');
}

describe('pid file, -k, already running', { timeout: 60000 }, () => {
  test('written with our pid and locked; a second start says so (after "iplog started."), exit 255; -k stops the first, file removed', async () => {
    const pid = join(dir, 'a.pid');
    const first = await foreground(['--pid-file', pid]);
    assert.ok(await waitFor(() => readOr(pid) === `${first.child.pid}\n`));

    const second = runSync(['-o', '-L', '--pid-file', pid]);
    assert.equal(second.status, 255);
    assert.deepEqual(unstamp(second.out), ['iplog started.', `Fatal: iplog is already running (pid: ${first.child.pid})`]);
    assert.equal(readOr(pid), `${first.child.pid}\n`, 'the pid file is left alone');

    const k = spawnSync(process.execPath, [BIN, '--pid-file', pid, '-k'], { encoding: 'utf8' });
    assert.equal(k.status, 0);
    assert.equal(k.stdout + k.stderr, '');
    assert.equal(await first.exited, 0);
    assert.deepEqual(unstamp(readOr(first.out)), ['iplog started.', 'Caught signal 15, exiting.']);
    assert.equal(existsSync(pid), false);
  });

  test('a stale pid file (no lock) is replaced', async () => {
    const pid = join(dir, 'stale.pid');
    closeSync(openSync(pid, 'w'));
    const r = await foreground(['--pid-file', pid]);
    assert.ok(await waitFor(() => readOr(pid) === `${r.child.pid}\n`));
    r.child.kill('SIGTERM');
    assert.equal(await r.exited, 0);
  });

  test('SIGINT ends a foreground run cleanly', async () => {
    const pid = join(dir, 'int.pid');
    const r = await foreground(['--pid-file', pid]);
    r.child.kill('SIGINT');
    assert.equal(await r.exited, 0);
    assert.deepEqual(unstamp(readOr(r.out)), ['iplog started.', 'Caught signal 2, exiting.']);
    assert.equal(existsSync(pid), false);
  });

  test('start-up fatals are logged after "iplog started." with status 255 (oracle cli_messages)', () => {
    const pid = join(dir, 'fatal.pid');
    const a = runSync(['-o', '-L', '-i', 'nosuchif0', '--pid-file', pid]);
    assert.equal(a.status, 255);
    assert.deepEqual(unstamp(a.out), ['iplog started.', "Fatal: Couldn't initialize interfaces."]);
    const b = runSync(['-o', '-L', '-i', 'lo', '-u', 'nosuchuser', '--pid-file', pid]);
    assert.equal(b.status, 255);
    assert.deepEqual(unstamp(b.out), ['iplog started.', 'Fatal: Unknown user: "nosuchuser"']);
    const c = runSync(['-o', '-L', '--pid-file', join(dir, 'no', 'dir.pid')]);
    assert.equal(c.status, 255);
    assert.deepEqual(unstamp(c.out), ['iplog started.', `Fatal: Cannot open lockfile "${join(dir, 'no', 'dir.pid')}": No such file or directory`]);
  });
});

describe('SIGHUP / -R', { timeout: 60000 }, () => {
  test('the oracle\'s restart_hup run: same lines; the bogus-flag memory survives the restart', async () => {
    const pid = join(dir, 'hup.pid');
    // the oracle is iplog 2.2.3's run: the compat profile
    const r = await foreground(['--profile', 'compat', '--pid-file', pid]);
    feedPcap(TCP_FLAGS);
    await fed();
    const R = spawnSync(process.execPath, [BIN, '--pid-file', pid, '-R'], { encoding: 'utf8' });
    assert.equal(R.status, 0);
    assert.ok(await waitFor(() => readOr(r.out).split('iplog started.').length === 3), 'restarted');
    feedPcap(TCP_FLAGS);
    await fed();
    r.child.kill('SIGTERM');
    assert.equal(await r.exited, 0);
    const got = unstamp(readOr(r.out)).map((l) => l.replace(/\(pid \d+\)/, '(pid N)'));
    const want = unstamp(readFileSync(ORACLE_HUP, 'utf8')).map((l) => l.replace(/\(pid \d+\)/, '(pid N)'));
    assert.deepEqual(got, want);
  });

  test('the configuration is read again on top of the current settings', async () => {
    const conf = join(dir, 'hup.conf');
    closeSync(openSync(conf, 'w'));
    const pid = join(dir, 'hup2.pid');
    const out = join(dir, 'hup2.txt');
    const fd = openSync(out, 'w');
    const child = spawn(process.execPath, [FAKE, '-N', '--config', conf, '--profile', 'compat', '-o', '-L', '--pid-file', pid], { stdio: ['ignore', fd, 'inherit'], env: env() });
    children.push(child);
    closeSync(fd);
    const exited = new Promise((r) => child.once('exit', r));
    assert.ok(await waitFor(() => readOr(out).includes('iplog started.')));
    // now ignore TCP to port 22 and switch on destinations
    writeFileSync(conf, 'ignore tcp dport 22\nset log_dest true\n');
    child.kill('SIGHUP');
    assert.ok(await waitFor(() => readOr(out).split('iplog started.').length === 3));
    feedPcap(TCP_FLAGS);
    await fed();
    child.kill('SIGTERM');
    await exited;
    const lines = unstamp(readOr(out));
    assert.ok(!lines.some((l) => l.includes('ssh')), 'port 22 ignored');
    assert.ok(lines.includes('TCP: telnet connection attempt to 127.0.0.1 from 127.0.0.3:1237'), lines.join('\n'));
  });
});

describe('background mode', { timeout: 60000 }, () => {
  test('the command returns 0 once the daemon runs; new session, /, umask 022, stdio on /dev/null; -R and -k', async () => {
    const pid = join(dir, 'bg.pid');
    const log = join(dir, 'bg.log');
    const r = spawnSync(process.execPath, [FAKE, ...base(), '-l', log, '--pid-file', pid], { encoding: 'utf8', env: env(), timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    const daemon = Number(readOr(pid));
    daemons.push(daemon);
    assert.ok(daemon > 0 && alive(daemon), 'the pid file names a live process');
    assert.deepEqual(unstamp(readOr(log)), ['iplog started.'], '"iplog started." once');
    const stat = readFileSync(`/proc/${daemon}/stat`, 'utf8').split(') ')[1]!.split(' ');
    assert.equal(Number(stat[3]), daemon, 'session leader (setsid)');
    assert.equal(readlinkSync(`/proc/${daemon}/cwd`), '/');
    assert.match(readFileSync(`/proc/${daemon}/status`, 'utf8'), /^Umask:\s+0022$/m);
    for (const fd of [0, 1, 2]) assert.equal(readlinkSync(`/proc/${daemon}/fd/${fd}`), '/dev/null', `fd ${fd}`);

    feedPcap(TCP_FLAGS);
    await fed();
    assert.equal(spawnSync(process.execPath, [BIN, '--pid-file', pid, '-R']).status, 0);
    assert.ok(await waitFor(() => readOr(log).split('iplog started.').length === 3));
    assert.equal(spawnSync(process.execPath, [BIN, '--pid-file', pid, '-k']).status, 0);
    assert.ok(await waitFor(() => !alive(daemon)), 'stopped');
    const lines = unstamp(readOr(log));
    assert.equal(lines[0], 'iplog started.');
    assert.ok(lines.includes(`Restarting iplog (pid ${daemon}).`));
    assert.equal(lines.at(-1), 'Caught signal 15, exiting.');
    assert.equal(existsSync(pid), false);
  });

  test('-L keeps standard output; a failing daemon makes the command fail with its status', () => {
    const pid = join(dir, 'bgfail.pid');
    const r = runSync(['-L', '-i', 'nosuchif0', '--pid-file', pid]);
    assert.equal(r.status, 255);
    assert.deepEqual(unstamp(r.out), ['iplog started.', "Fatal: Couldn't initialize interfaces."]);
    const log = join(dir, 'bgfail.log');
    const q = runSync(['-l', log, '-i', 'nosuchif0', '--pid-file', pid]);
    assert.equal(q.status, 255);
    assert.equal(q.err, "iplog: Fatal: Couldn't initialize interfaces.\n", 'said on stderr when the log is elsewhere');
    assert.deepEqual(unstamp(readOr(log)), ['iplog started.', "Fatal: Couldn't initialize interfaces."]);
  });

  test('relative paths are taken from the starting directory', async () => {
    const cwd = join(dir, 'rel');
    mkdirSync(cwd);
    const r = spawnSync(process.execPath, [FAKE, ...base(), '-l', 'rel.log', '--pid-file', 'rel.pid'], { cwd, encoding: 'utf8', env: env() });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(cwd, 'rel.pid')));
    daemons.push(Number(readOr(join(cwd, 'rel.pid'))));
    assert.equal(spawnSync(process.execPath, [BIN, '--pid-file', 'rel.pid', '-R'], { cwd }).status, 0);
    assert.ok(await waitFor(() => readOr(join(cwd, 'rel.log')).split('iplog started.').length === 3), 'the log file reopened in place');
    assert.equal(spawnSync(process.execPath, [BIN, '--pid-file', 'rel.pid', '-k'], { cwd }).status, 0);
    assert.ok(await waitFor(() => !existsSync(join(cwd, 'rel.pid'))));
  });
});

describe('operational log', { timeout: 60000 }, () => {
  test('start, configuration, and statistics on SIGUSR1 and at exit', async () => {
    const pid = join(dir, 'op.pid');
    const op = join(dir, 'op.log');
    // the compat profile's tables (the modern profile adds its own eviction counters)
    const r = await foreground(['--profile', 'compat', '--pid-file', pid, '--op-log', op]);
    feedPcap(TCP_FLAGS);
    await fed();
    r.child.kill('SIGUSR1');
    assert.ok(await waitFor(() => readOr(op).includes('"msg":"statistics"')));
    r.child.kill('SIGTERM');
    assert.equal(await r.exited, 0);
    const records = readOr(op).trim().split('\n').map((l) => JSON.parse(l));
    const start = records.find((x) => x.msg === 'iplog started');
    assert.equal(start.pid, r.child.pid);
    assert.ok(start.settings.flags.includes('disable_resolver'));
    for (const msg of ['statistics', 'iplog exiting']) {
      const s = records.find((x) => x.msg === msg);
      assert.equal(s.capture.received, 14, msg);
      assert.equal(typeof s.capture.dropped, 'number');
      assert.equal(typeof s.capture.ifDropped, 'number');
      assert.equal(s.packets, 14);
      assert.deepEqual(s.anomalies, {});
      assert.deepEqual(s.evictions, { scan: 0, scan_in_mode: 0, frag: 0 });
    }
  });
});

describe('privileges', { skip: process.getuid?.() === 0 ? false : 'needs root (runs as root in CI)', timeout: 60000 }, () => {
  test('-u nobody: capture goes on after the drop and after a restart (handles kept); the pid file cannot be removed', async () => {
    const piddir = join(dir, 'root-only');
    mkdirSync(piddir, { mode: 0o755 });
    const pid = join(piddir, 'u.pid');
    const r = await foreground(['--pid-file', pid, '-u', 'nobody']);
    // "iplog started." comes before the drop: wait for it
    assert.ok(await waitFor(() => /^Uid:\s+65534\s/m.test(readOr(`/proc/${r.child.pid}/status`))), 'dropped');
    const status = readFileSync(`/proc/${r.child.pid}/status`, 'utf8');
    assert.match(status, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
    assert.match(status, /^Gid:\s+65534\s+65534\s+65534\s+65534$/m);
    assert.match(status, /^CapEff:\s+0+$/m);
    feedPcap(TCP_FLAGS);
    await fed();
    r.child.kill('SIGHUP');
    assert.ok(await waitFor(() => readOr(r.out).split('iplog started.').length === 3));
    feedPcap(TCP_FLAGS);
    await fed();
    r.child.kill('SIGTERM');
    assert.equal(await r.exited, 0);
    const lines = unstamp(readOr(r.out));
    assert.equal(lines.filter((l) => l === 'TCP: ssh connection attempt from 127.0.0.3:1234').length, 2, 'logged before and after the restart');
    assert.deepEqual(lines.slice(-2), [`Couldn't unlink "${pid}": Permission denied`, 'Caught signal 15, exiting.']);
  });
});

/**
 * SIGUSR1 asks for statistics in every mode and never opens Node's inspector (whose
 * default answer to SIGUSR1 is a debugger listening on 127.0.0.1:9229, src/cli/usr1.ts).
 *
 * Each test sends the signal to a running iplog and then looks, in /proc/PID/net/tcp and
 * tcp6 (the process's own network namespace), for a listening socket among the
 * process's own descriptors: there must be none. It also checks that nothing new
 * listens on the inspector's port 9229 anywhere in that namespace.
 *
 *  - a replay reading a capture from a fifo whose writer keeps it open (as
 *    `tcpdump -U -w - | iplog -r -` would): the statistics line on standard error;
 *  - the same, signalled over and over from the first milliseconds of the process
 *    (Node's bootstrap, before bin/iplog's first statement): iplog either was killed
 *    by the signal before Node installed any handler, or it runs without a listener;
 *  - the daemon (src/daemon.ts) with a stand-in capture (no root needed): statistics in
 *    the operational log;
 *  - as root, the real daemon in a network namespace of its own (foreground and
 *    background): statistics in the operational log.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, writeSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, createNetns, deleteNetns, loadAddonLocks, privilegedSkip, readOr, root, sleep, waitFor } from '../daemon/helpers';

const BIN = join(root, 'bin', 'iplog');
const FAKE = join(root, 'dist', 'test', 'daemon', 'fake-iplog.js');
const PCAP = join(root, 'pcaps', 'conformance', 'crafted_filters.pcap');

const dir = mkdtempSync(join(tmpdir(), 'iplog-usr1-'));
chmodSync(dir, 0o755);
const children: ChildProcess[] = [];
const namespaces: string[] = [];
const daemons: number[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const pid of daemons) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const ns of namespaces) deleteNetns(ns);
  rmSync(dir, { recursive: true, force: true });
});

/** Listening TCP sockets (state 0A) in `pid`'s network namespace: local port and inode. */
function listeners(pid: number): { port: number; inode: string }[] {
  const out: { port: number; inode: string }[] = [];
  for (const f of ['tcp', 'tcp6']) {
    const text = readOr(`/proc/${pid}/net/${f}`);
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A') continue;
      out.push({ port: parseInt(cols[1]!.split(':').pop()!, 16), inode: cols[9]! });
    }
  }
  return out;
}

/** Socket inodes among `pid`'s open descriptors. */
function socketInodes(pid: number): Set<string> {
  const s = new Set<string>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return s;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) s.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return s;
}

/** What `pid` itself listens on (empty is the only right answer), and whether 9229 is taken. */
function ownListeners(pid: number): { own: number[]; inspectorPort: boolean } {
  const mine = socketInodes(pid);
  const all = listeners(pid);
  return { own: all.filter((l) => mine.has(l.inode)).map((l) => l.port), inspectorPort: all.some((l) => l.port === 9229) };
}

/**
 * A fifo with the capture written into it once iplog has opened it for reading (which it
 * does only once its start-up is over); the writer is kept open until `close()`.
 */
function fifoWithCapture(name: string): { path: string; opened: () => boolean; close: () => void } {
  const path = join(dir, name);
  assert.equal(spawnSync('mkfifo', [path]).status, 0, 'mkfifo');
  let fd: number | null = null;
  // non-blocking: fails (ENXIO) until iplog has opened the fifo for reading
  const opener = setInterval(() => {
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
      writeSync(fd, readFileSync(PCAP));
      clearInterval(opener);
    } catch {
      // no reader yet
    }
  }, 20);
  return {
    path,
    opened: () => fd !== null,
    close: () => {
      clearInterval(opener);
      if (fd !== null) closeSync(fd);
    },
  };
}

describe('SIGUSR1 never opens a debugger', { timeout: 90000 }, () => {
  test('a replay reading a fifo: statistics on standard error, no listening socket', async () => {
    const before9229 = listeners(process.pid).some((l) => l.port === 9229);
    const fifo = join(dir, 'replay.fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const child = spawn(process.execPath, [BIN, '-r', fifo, '-N', '--config', '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    // non-blocking: fails (ENXIO) until iplog has opened the fifo for reading
    let wfd = -1;
    assert.ok(await waitFor(() => {
      try {
        wfd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
        return true;
      } catch {
        return false;
      }
    }), 'iplog opened the fifo');
    writeSync(wfd, readFileSync(PCAP));
    assert.ok(await waitFor(() => stdout.split('\n').length > 14), `the 14 lines were written: ${stdout}`);
    child.kill('SIGUSR1');
    assert.ok(await waitFor(() => stderr.includes('iplog: statistics: 14 packets')), `statistics: ${stderr}`);
    await sleep(300);
    const l = ownListeners(child.pid!);
    assert.deepEqual(l.own, [], 'iplog listens on nothing');
    if (!before9229) assert.equal(l.inspectorPort, false, 'nothing listens on 9229');
    child.kill('SIGUSR1');
    assert.ok(await waitFor(() => stderr.split('iplog: statistics:').length === 3), 'a second signal, a second line');
    closeSync(wfd);
    assert.equal(await exited, 0);
    assert.doesNotMatch(stderr, /Debugger listening/);
    assert.match(stderr, /^iplog: replayed 1 input: 14 packets/m);
  });

  test('signals during start-up: killed before Node handles them, or running without a listener', async () => {
    const seen = { killed: 0, survived: 0 };
    for (const delay of [0, 5, 15, 30, 50, 80, 120, 200, 400]) {
      const f = fifoWithCapture(`early-${delay}.fifo`);
      const child = spawn(process.execPath, [BIN, '-r', f.path, '-N', '--config', '/dev/null', '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(child);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<[number | null, string | null]>((r) => child.once('exit', (c, s) => r([c, s])));
      await sleep(delay);
      child.kill('SIGUSR1');
      // until iplog has opened its input (its start-up is over) or has died
      const gone = () => child.exitCode !== null || child.signalCode !== null;
      assert.ok(await waitFor(() => gone() || f.opened(), 30_000), `delay ${delay} ms: iplog neither started nor ended`);
      // the guard looks again after a turn of the event loop and after 200 ms
      await sleep(500);
      if (!gone()) {
        assert.deepEqual(ownListeners(child.pid!).own, [], `delay ${delay} ms: no listener once started\n${stderr}`);
        seen.survived++;
      } else {
        assert.equal(child.signalCode, 'SIGUSR1', `delay ${delay} ms: ${stderr}`);
        seen.killed++;
      }
      f.close();
      const [code] = await exited;
      if (code !== null) assert.equal(code, 0, stderr);
    }
    assert.ok(seen.survived > 0, `the later signals find iplog running (${JSON.stringify(seen)})`);
  });

  test('the daemon (stand-in capture): statistics in the operational log, no listening socket', async () => {
    const op = join(dir, 'fake-op.log');
    const feed = mkdtempSync(join(dir, 'feed-'));
    const out = openSync(join(dir, 'fake-out.txt'), 'w');
    const child = spawn(process.execPath, [FAKE, '-N', '--config', '/dev/null', '-o', '-L', '--pid-file', join(dir, 'fake.pid'), '--op-log', op], {
      stdio: ['ignore', out, 'inherit'],
      env: { ...process.env, IPLOG_FAKE_FEED: feed },
    });
    children.push(child);
    closeSync(out);
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.ok(await waitFor(() => readOr(op).includes('"msg":"iplog started"')), 'running');
    child.kill('SIGUSR1');
    assert.ok(await waitFor(() => readOr(op).includes('"msg":"statistics"')), 'statistics');
    await sleep(300);
    assert.deepEqual(ownListeners(child.pid!).own, []);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});

const rootSkip = privilegedSkip() || (loadAddonLocks() === null ? 'the capture addon is not built' : false);

describe('SIGUSR1 to the real daemon, in a network namespace of its own', { skip: rootSkip, timeout: 90000 }, () => {
  test('foreground and background: statistics, and nothing listens in the namespace', async () => {
    const ns = createNetns('usr1');
    namespaces.push(ns);
    // foreground
    const op = join(dir, 'fg-op.log');
    const pidFile = join(dir, 'fg.pid');
    const fd = openSync(join(dir, 'fg-out.txt'), 'w');
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, BIN, '-N', '--config', '/dev/null', '-o', '-L', '-i', 'lo', '--pid-file', pidFile, '--op-log', op], { stdio: ['ignore', fd, 'inherit'] });
    children.push(child);
    closeSync(fd);
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.ok(await waitFor(() => readOr(op).includes('"msg":"iplog started"')), 'running');
    const pid = child.pid!;
    // one at a time: signals of one kind that arrive together are delivered once
    for (let i = 1; i <= 3; i++) {
      child.kill('SIGUSR1');
      assert.ok(await waitFor(() => readOr(op).split('"msg":"statistics"').length === i + 1), `statistics record ${i}`);
    }
    await sleep(300);
    assert.deepEqual(listeners(pid), [], 'nothing listens in the namespace');
    child.kill('SIGTERM');
    assert.equal(await exited, 0);

    // background: the command returns, the daemon is the child it started
    const bop = join(dir, 'bg-op.log');
    const bpid = join(dir, 'bg.pid');
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, BIN, '-N', '--config', '/dev/null', '-l', join(dir, 'bg.log'), '-i', 'lo', '--pid-file', bpid, '--op-log', bop], { encoding: 'utf8', timeout: 30000 });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(await waitFor(() => existsSync(bpid) && readOr(bpid).trim() !== ''), 'pid file');
    const dpid = Number(readOr(bpid).trim());
    daemons.push(dpid);
    assert.ok(await waitFor(() => readOr(bop).includes('"msg":"iplog started"')), 'daemon running');
    process.kill(dpid, 'SIGUSR1');
    assert.ok(await waitFor(() => readOr(bop).includes('"msg":"statistics"')), 'statistics from the daemon');
    await sleep(300);
    assert.deepEqual(listeners(dpid), [], 'nothing listens in the namespace');
    process.kill(dpid, 'SIGTERM');
    assert.ok(await waitFor(() => !alive(dpid)), 'daemon gone');
  });
});

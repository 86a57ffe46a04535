/**
 * The live sensor for real: bin/iplog capturing with libpcap inside network namespaces
 * that the tests create (nothing but their loopback and a veth pair between two of them
 * is ever used). Root and `ip netns` are needed; elsewhere these tests skip and say why.
 *
 *  - foreground: pid file locked, a second start refused, SIGUSR1 statistics with the
 *    kernel's counters, SIGHUP (`Restarting iplog (pid N).`, `iplog started.`), `-k`;
 *  - background: the command returns once the daemon runs; `-R` and `-k` against it;
 *  - `-u nobody`: traffic is still logged after the drop and after a restart (the
 *    capture handles are kept, since nobody cannot open new ones);
 *  - `-e`: a SYN to a listening port is logged with the user from an identd;
 *  - `-z`: the forged reply to a probe, seen on the other end of a veth pair.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addonPath, alive, createNetns, deleteNetns, ip, loadAddonLocks, privilegedSkip, readOr, root, sleep, unstamp, waitFor } from './helpers';
import { collectFile } from '../helpers/capture-collect';
import { ipv4, tcp, FIN, PSH, URG } from '../helpers/packets';

const BIN = join(root, 'bin', 'iplog');
const skip = privilegedSkip() || (loadAddonLocks() === null ? `the capture addon is not built (${addonPath}): run npm ci with libpcap-dev installed` : false);

let dir: string;
let seq = 0;
const namespaces: string[] = [];
/** every process a test started, killed at the end whatever happened */
const children: ChildProcess[] = [];
const daemons: number[] = [];
before(() => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'iplog-live-'));
  chmodSync(dir, 0o755);
});
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const pid of daemons) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const ns of namespaces) deleteNetns(ns);
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

function netns(tag: string): string {
  const ns = createNetns(tag);
  namespaces.push(ns);
  return ns;
}

/** Common options: no reverse DNS, an empty configuration. */
const BASE = ['-N', '--config', '/dev/null'];

/** bin/iplog inside `ns`, output to a file. `ip netns exec` execs, so the pid is iplog's. */
function iplogIn(ns: string, args: string[]): { child: ChildProcess; out: string; exited: Promise<number | null> } {
  const out = join(dir, `out-${seq++}.txt`);
  const fd = openSync(out, 'w');
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, BIN, ...BASE, ...args], { stdio: ['ignore', fd, 'inherit'] });
  children.push(child);
  closeSync(fd);
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return { child, out, exited };
}

function runIn(ns: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, BIN, ...BASE, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** TCP connection attempts from inside `ns` to 127.0.0.1:ports (closed ports: SYN, RST). */
function connectIn(ns: string, ports: number[], host = '127.0.0.1'): void {
  const script = `const net=require('net');let n=${ports.length};for(const p of ${JSON.stringify(ports)}){const s=net.connect(p,${JSON.stringify(host)});` +
    `const done=()=>{s.destroy();if(--n===0)process.exit(0)};s.on('error',done);s.on('connect',done);}setTimeout(()=>process.exit(0),3000);`;
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

const lines = (out: string) => unstamp(readOr(out));
const has = (out: string, line: string) => lines(out).includes(line);
const attempt = (svc: string, port?: number) => new RegExp(`^TCP: ${svc} connection attempt from 127\\.0\\.0\\.1:${port ?? '\\d+'}$`);
const count = (out: string, re: RegExp) => lines(out).filter((l) => re.test(l)).length;

describe('live, foreground', { skip, timeout: 60000 }, () => {
  test('pid file, second start, SIGUSR1 statistics, SIGHUP, -k', async () => {
    const ns = netns('fg');
    const pid = join(dir, 'fg.pid');
    const op = join(dir, 'fg-op.log');
    // iplog 2.2.3's sensor: its lines, its fatal on a second start, its table statistics
    const r = iplogIn(ns, ['--profile', 'compat', '-o', '-L', '-i', 'lo', '--pid-file', pid, '--op-log', op]);
    assert.ok(await waitFor(() => readOr(pid) === `${r.child.pid}\n`), 'pid file');
    assert.ok(await waitFor(() => readOr(op).includes('"msg":"iplog started"')), 'running');

    const second = runIn(ns, ['--profile', 'compat', '-o', '-L', '-i', 'lo', '--pid-file', pid]);
    assert.equal(second.status, 255);
    assert.deepEqual(unstamp(second.stdout), ['iplog started.', `Fatal: iplog is already running (pid: ${r.child.pid})`]);

    connectIn(ns, [22, 23]);
    assert.ok(await waitFor(() => has(r.out, 'TCP: telnet connection attempt from 127.0.0.1:' + lines(r.out).find((l) => l.startsWith('TCP: telnet'))?.split(':').at(-1))), 'traffic logged');
    assert.equal(count(r.out, attempt('ssh')), 1);

    await sleep(600); // the capture thread refreshes pcap_stats every 250 ms
    r.child.kill('SIGUSR1');
    assert.ok(await waitFor(() => readOr(op).includes('"msg":"statistics"')));
    const stats = readOr(op).trim().split('\n').map((l) => JSON.parse(l)).find((x) => x.msg === 'statistics');
    assert.ok(stats.capture.received >= 2, `received ${stats.capture.received}`);
    assert.equal(stats.capture.dropped, 0);
    assert.equal(typeof stats.capture.ifDropped, 'number');
    assert.ok(stats.packets >= 2);
    assert.deepEqual(stats.evictions, { scan: 0, scan_in_mode: 0, frag: 0 });

    assert.equal(spawnSync(process.execPath, [BIN, '--pid-file', pid, '-R']).status, 0);
    assert.ok(await waitFor(() => readOr(r.out).split('iplog started.').length === 3), 'restarted');
    connectIn(ns, [25]);
    assert.ok(await waitFor(() => count(r.out, attempt('smtp')) === 1), 'logged after the restart');

    assert.equal(spawnSync(process.execPath, [BIN, '--pid-file', pid, '-k']).status, 0);
    assert.equal(await r.exited, 0);
    const l = lines(r.out);
    assert.equal(l[0], 'iplog started.');
    assert.ok(l.includes(`Restarting iplog (pid ${r.child.pid}).`));
    assert.equal(l.indexOf(`Restarting iplog (pid ${r.child.pid}).`) + 1, l.lastIndexOf('iplog started.'));
    assert.equal(l.at(-1), 'Caught signal 15, exiting.');
    assert.equal(existsSync(pid), false);
    const exit = readOr(op).trim().split('\n').map((x) => JSON.parse(x)).find((x) => x.msg === 'iplog exiting');
    assert.ok(exit.capture.received >= 3, 'statistics at exit, across the reopened capture');
  });
});

describe('live, the oracle\'s start-up fatals (conformance/out/cli_messages.txt)', { skip, timeout: 60000 }, () => {
  test('unknown interface, unknown user: "iplog started." then the Fatal line, status 255', () => {
    const ns = netns('cli');
    const transcript = readFileSync(join(root, 'test', 'conformance', 'out', 'cli_messages.txt'), 'utf8');
    for (const [args, cmd] of [
      [['-i', 'nosuchif0'], 'iplog -o -L -i nosuchif0 --pid-file /run/iplog-test/cli.pid'],
      [['-i', 'lo', '-u', 'nosuchuser'], 'iplog -o -L -i lo -u nosuchuser --pid-file /run/iplog-test/cli.pid'],
    ] as const) {
      const block = transcript.split(`$ ${cmd}\n`)[1]!.split('\n[exit status ')[0]!;
      const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, BIN, '--config', '/dev/null', '-o', '-L', ...args, '--pid-file', join(dir, 'cli.pid')], { encoding: 'utf8' });
      assert.equal(r.status, 255, cmd);
      assert.deepEqual(unstamp(r.stdout), unstamp(block), cmd);
      assert.equal(r.stdout.split('\n').filter(Boolean).length, block.split('\n').length, 'nothing else on stdout');
    }
  });
});

describe('live, background', { skip, timeout: 60000 }, () => {
  test('returns once the daemon runs; the daemon logs, restarts and stops', async () => {
    const ns = netns('bg');
    const pid = join(dir, 'bg.pid');
    const log = join(dir, 'bg.log');
    const r = runIn(ns, ['-i', 'lo', '-l', log, '--pid-file', pid]);
    assert.equal(r.status, 0, r.stderr);
    const daemon = Number(readOr(pid));
    assert.ok(daemon > 0 && alive(daemon));
    daemons.push(daemon);
    connectIn(ns, [22]);
    assert.ok(await waitFor(() => count(log, attempt('ssh')) === 1), 'logged by the daemon');
    assert.equal(spawnSync(process.execPath, [BIN, '--pid-file', pid, '-R']).status, 0);
    assert.ok(await waitFor(() => readOr(log).split('iplog started.').length === 3));
    connectIn(ns, [22]);
    assert.ok(await waitFor(() => count(log, attempt('ssh')) === 2), 'logged after the restart');
    assert.equal(spawnSync(process.execPath, [BIN, '--pid-file', pid, '-k']).status, 0);
    assert.ok(await waitFor(() => !alive(daemon)));
    assert.equal(lines(log).at(-1), 'Caught signal 15, exiting.');
    assert.equal(existsSync(pid), false);
  });

  test('a daemon that cannot start: the command fails with 255 and says why', async () => {
    const ns = netns('bgfail');
    const log = join(dir, 'bgfail.log');
    const r = runIn(ns, ['-i', 'nosuchif0', '-l', log, '--pid-file', join(dir, 'bgfail.pid')]);
    assert.equal(r.status, 255);
    assert.equal(r.stderr, "iplog: Fatal: Couldn't initialize interfaces.\n");
    assert.deepEqual(lines(log), ['iplog started.', "Fatal: Couldn't initialize interfaces."]);
  });
});

describe('live, -u nobody', { skip, timeout: 60000 }, () => {
  test('capture goes on after the drop, and after a restart that keeps the handles', async () => {
    const ns = netns('nobody');
    const pid = join(dir, 'nobody.pid');
    const r = iplogIn(ns, ['-o', '-L', '-i', 'lo', '--pid-file', pid, '-u', 'nobody']);
    assert.ok(await waitFor(() => /^Uid:\s+65534\s+65534\s+65534\s+65534$/m.test(readOr(`/proc/${r.child.pid}/status`))), 'dropped to nobody');
    assert.match(readFileSync(`/proc/${r.child.pid}/status`, 'utf8'), /^CapEff:\s+0+$/m);
    connectIn(ns, [22]);
    assert.ok(await waitFor(() => count(r.out, attempt('ssh')) === 1), 'logged after the drop');
    r.child.kill('SIGHUP');
    assert.ok(await waitFor(() => readOr(r.out).split('iplog started.').length === 3), 'restarted');
    await sleep(100);
    connectIn(ns, [23]);
    assert.ok(await waitFor(() => count(r.out, attempt('telnet')) === 1), 'logged after the restart');
    r.child.kill('SIGTERM');
    assert.equal(await r.exited, 0);
    // nobody may not remove root's pid file: 2.2.3's message, then the usual last line
    assert.deepEqual(lines(r.out).slice(-2), [`Couldn't unlink "${pid}": Permission denied`, 'Caught signal 15, exiting.']);
  });
});

describe('live, -e', { skip, timeout: 60000 }, () => {
  test('a SYN to a listening port is logged with the identd\'s answer; other ports at once', async () => {
    const ns = netns('ident');
    // a listener on 2222 and an identd on 113 that names every connection "alice"
    const servers = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e',
      `const net=require('net');net.createServer((s)=>s.destroy()).listen(2222,'127.0.0.1');` +
      `net.createServer((s)=>s.once('data',(d)=>s.end(d.toString().trim()+' : USERID : UNIX : alice\\r\\n'))).listen(113,'127.0.0.1',()=>console.log('up'));`], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(servers);
    await new Promise((res) => servers.stdout!.once('data', res));
    // -e is the compat profile's (docs/detectors.md: the modern profile does not use ident)
    const r = iplogIn(ns, ['--profile', 'compat', '-o', '-L', '-i', 'lo', '-e', '--pid-file', join(dir, 'ident.pid')]);
    try {
      assert.ok(await waitFor(() => has(r.out, 'iplog started.')));
      await sleep(1200); // the listening sockets are read once a second
      connectIn(ns, [2222, 23]);
      assert.ok(await waitFor(() => count(r.out, /^TCP: port 2222 connection attempt from alice@127\.0\.0\.1:\d+$/) === 1), readOr(r.out));
      assert.equal(count(r.out, attempt('telnet')), 1);
      assert.equal(count(r.out, /@/), 1, 'only the listening port was looked up');
    } finally {
      r.child.kill('SIGTERM');
      await r.exited;
      servers.kill();
    }
  });
});

describe('live, -z', { skip, timeout: 60000 }, () => {
  test('the forged reply goes back to the prober across a veth pair', async () => {
    const a = netns('za');
    const b = netns('zb');
    ip('link', 'add', 'iplz0', 'netns', a, 'type', 'veth', 'peer', 'name', 'iplz1', 'netns', b);
    ip('-n', a, 'link', 'set', 'iplz0', 'address', '02:00:00:00:00:01');
    ip('-n', b, 'link', 'set', 'iplz1', 'address', '02:00:00:00:00:02');
    ip('-n', a, 'addr', 'add', '192.0.2.1/24', 'dev', 'iplz0');
    ip('-n', b, 'addr', 'add', '192.0.2.2/24', 'dev', 'iplz1');
    ip('-n', a, 'link', 'set', 'iplz0', 'up');
    ip('-n', b, 'link', 'set', 'iplz1', 'up');
    const r = iplogIn(a, ['-o', '-L', '-i', 'iplz0', '-z', '--pid-file', join(dir, 'z.pid')]);
    const cap = join(dir, 'z.pcap');
    const dump = spawn('ip', ['netns', 'exec', b, 'tcpdump', '-i', 'iplz1', '-U', '-w', cap, 'tcp'], { stdio: 'ignore' });
    children.push(dump);
    try {
      assert.ok(await waitFor(() => has(r.out, 'iplog started.')));
      await sleep(1000); // tcpdump ready
      // an Xmas probe 192.0.2.2:31001 -> 192.0.2.1:80, injected as a frame on the prober's side
      const pkt = ipv4({ src: '192.0.2.2', dst: '192.0.2.1', proto: 6 }, tcp(31001, 80, FIN | PSH | URG));
      const frame = Buffer.concat([Buffer.from('020000000001020000000002', 'hex'), Buffer.from([8, 0]), pkt]);
      const inject = spawnSync('ip', ['netns', 'exec', b, process.execPath, '-e',
        `const a=require(${JSON.stringify(addonPath)});const c=new a.Capture('iplz1',{snaplen:1500,promisc:false,bufferSize:0,timeoutMs:10});` +
        `c.inject(Buffer.from(${JSON.stringify(frame.toString('hex'))},'hex'));c.close();`], { encoding: 'utf8' });
      assert.equal(inject.status, 0, inject.stderr);
      await sleep(1000);
    } finally {
      dump.kill('SIGINT');
      await new Promise((res) => dump.once('exit', res));
      r.child.kill('SIGTERM');
      await r.exited;
    }
    const { frames } = await collectFile(cap);
    const replies = frames.filter((f) => f.data.length >= 54 && f.data[22] === 255);
    assert.equal(replies.length, 1, `frames: ${frames.length}`);
    const x = replies[0]!.data;
    assert.equal(x.subarray(0, 12).toString('hex'), '020000000002020000000001', 'to the prober\'s MAC');
    assert.equal(x.readUInt16BE(14 + 4), 0xff00, 'IP id 65280');
    assert.equal(x.readUInt32BE(14 + 12), 0xc0000201, 'from 192.0.2.1');
    assert.equal(x.readUInt32BE(14 + 16), 0xc0000202, 'to 192.0.2.2');
    assert.equal(x.readUInt16BE(34), 80);
    assert.equal(x.readUInt16BE(36), 31001);
  });
});

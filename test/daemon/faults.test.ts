/**
 * The live sensor under output faults (docs/operations.md "Faults"), for real: bin/iplog
 * capturing on the loopback of a namespace the test creates (192.0.2.1/32 on it, traffic
 * nowhere else).
 *
 *  - disk full: `-l` on a 64 KiB tmpfs the test mounts and fills. The sensor goes on
 *    (it used to exit 70): the JSON events keep coming, the op log says `output write
 *    failed`, and once there is room again the file gets the new lines and the op log
 *    `output recovered`; SIGUSR1 statistics count the lost lines;
 *  - standard output closed (`-L` into a pipe whose reader goes away): reported as
 *    `output closed` and counted; the JSON file and capture go on (it used to exit 0), in
 *    the foreground (-o) and in a detached daemon that kept standard output;
 *  - 200 SIGHUPs leave no eventfd or other descriptor behind, and memory stays bounded
 *    (RSS from restart 1 to 200, ArrayBuffers outside the heap, V8 heap used);
 *  - the same in the modern profile, whose tables (48 MiB by default) are handed to the
 *    restarted engine: ArrayBuffers stay flat, and a scan begun before the 200 SIGHUPs
 *    and finished after them is detected (its first contacts were kept).
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readlinkSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetns, deleteNetns, ip, loadAddonLocks, privilegedSkip, readOr, root, unstamp, waitFor, addonPath } from './helpers';

const BIN = join(root, 'bin', 'iplog');
const ADDR = '192.0.2.1';
const skip =
  privilegedSkip() ||
  (loadAddonLocks() === null ? `the capture addon is not built (${addonPath})` : false) ||
  (spawnSync('sh', ['-c', 'command -v mount']).status !== 0 ? 'mount(8) is missing' : false);

const cleanup: (() => void)[] = [];
after(() => {
  for (const f of cleanup.reverse()) f();
});

function records(op: string): { msg: string; [k: string]: unknown }[] {
  return readOr(op)
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

/** TCP connection attempts from inside `ns` to ADDR:ports (closed ports: SYN, RST). */
function connectIn(ns: string, ports: number[]): void {
  const script = `const net=require('net');let n=${ports.length};for(const p of ${JSON.stringify(ports)}){const s=net.connect(p,'${ADDR}');` +
    `const done=()=>{s.destroy();if(--n===0)process.exit(0)};s.on('error',done);s.on('connect',done);}setTimeout(()=>process.exit(0),3000);`;
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

function namespace(tag: string): string {
  const ns = createNetns(tag);
  cleanup.push(() => deleteNetns(ns));
  ip('-n', ns, 'addr', 'add', `${ADDR}/32`, 'dev', 'lo');
  return ns;
}

function start(ns: string, args: string[], stdout: 'pipe' | number, profile: 'compat' | 'modern' = 'compat'): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, BIN, '-N', '--config', '/dev/null', '--profile', profile, '-o', '-i', 'lo', ...args], {
    stdio: ['ignore', stdout, 'inherit'],
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
  });
  cleanup.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, exited: new Promise((r) => child.once('exit', (c) => r(c))) };
}

type Memory = { rss: number; heapUsed: number; external: number; arrayBuffers: number };

/** A running sensor's resident memory, restart count, memory record and SIGHUP driver. */
function probe(pid: number, op: string, child: ChildProcess) {
  const rss = (): number => Number(/VmRSS:\s+(\d+) kB/.exec(readOr(`/proc/${pid}/status`))![1]) * 1024;
  const restarted = (): number => records(op).filter((r) => r.msg === 'iplog restarted').length;
  // process.memoryUsage() of the sensor, from its SIGUSR1 statistics record
  const memory = async (): Promise<Memory> => {
    const n = records(op).filter((r) => r.msg === 'statistics').length;
    child.kill('SIGUSR1');
    assert.ok(await waitFor(() => records(op).filter((r) => r.msg === 'statistics').length > n), 'statistics');
    return records(op).filter((r) => r.msg === 'statistics')[n]!.memory as Memory;
  };
  // SIGHUP until `to` restarts in all, each one waited for
  const hup = async (to: number): Promise<void> => {
    for (let i = restarted(); i < to; i++) {
      process.kill(pid, 'SIGHUP');
      assert.ok(await waitFor(() => restarted() >= i + 1, 10_000), `restart ${i + 1}`);
    }
  };
  return { rss, restarted, memory, hup };
}

const jsonKinds = (file: string) =>
  readOr(file)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { kind: string; dport: number | null });

describe('live sensor, output faults', { skip, timeout: 120_000 }, () => {
  test('disk full on -l: capture, JSON and detection go on; the loss is reported, counted, and the recovery logged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-full-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const mnt = join(dir, 'small');
    mkdirSync(mnt);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'iplog-test-full', mnt], { encoding: 'utf8' });
    assert.equal(m.status, 0, m.stderr);
    cleanup.push(() => void spawnSync('umount', ['-l', mnt]));
    // fill it to the last byte
    const filler = join(mnt, 'filler');
    const fd = openSync(filler, 'w');
    const block = Buffer.alloc(4096, 0x78);
    for (;;) {
      try {
        if (writeSync(fd, block) < block.length) break;
      } catch {
        break;
      }
    }
    closeSync(fd);
    const ns = namespace('full');
    const log = join(mnt, 'iplog.log');
    const events = join(dir, 'events.json');
    const op = join(dir, 'op.log');
    const s = start(ns, ['-l', log, '--json', events, '--op-log', op, '--pid-file', join(dir, 'p.pid')], 'ignore' as unknown as number);
    assert.ok(await waitFor(() => records(op).some((r) => r.msg === 'iplog started')), 'running');

    connectIn(ns, [22, 23]);
    assert.ok(await waitFor(() => jsonKinds(events).filter((e) => e.kind === 'tcp.connection_attempt').length >= 2), 'JSON events while the disk is full');
    assert.ok(await waitFor(() => records(op).some((r) => r.msg.startsWith('output write failed'))), 'the failure is in the op log');
    const fail = records(op).find((r) => r.msg.startsWith('output write failed'))!;
    assert.deepEqual([fail.code, fail.output, fail.err], ['IPLOG_ERR_OUTPUT_WRITE', log, 'No space left on device']);
    assert.equal(s.child.exitCode, null, 'the sensor is still running');

    rmSync(filler);
    connectIn(ns, [25]);
    assert.ok(await waitFor(() => unstamp(readOr(log)).some((l) => /^TCP: smtp connection attempt from 192\.0\.2\.1:\d+$/.test(l))), 'new lines reach the file again');
    assert.ok(await waitFor(() => records(op).some((r) => r.msg === 'output recovered')), 'the recovery is in the op log');
    assert.ok((records(op).find((r) => r.msg === 'output recovered')!.linesLost as number) >= 2);
    // nothing before the recovery got in, nothing after it was lost
    assert.equal(unstamp(readOr(log)).filter((l) => l.startsWith('TCP: ssh')).length, 0);

    s.child.kill('SIGUSR1');
    assert.ok(await waitFor(() => records(op).some((r) => r.msg === 'statistics')));
    const st = records(op).find((r) => r.msg === 'statistics')! as unknown as { outputs: { output: string; linesLost: number; failing: boolean }[] };
    assert.equal(st.outputs.length, 1);
    assert.equal(st.outputs[0]!.output, log);
    assert.ok(st.outputs[0]!.linesLost >= 2);
    assert.equal(st.outputs[0]!.failing, false);

    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
  });

  test('200 SIGHUPs: no eventfd or other file descriptor left behind; memory bounded', { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-hup-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const ns = namespace('hup');
    const op = join(dir, 'op.log');
    const s = start(ns, ['-l', join(dir, 'out.log'), '--op-log', op, '--pid-file', join(dir, 'p.pid')], 'ignore' as unknown as number);
    assert.ok(await waitFor(() => records(op).some((r) => r.msg === 'iplog started')), 'running');
    const pid = Number(readOr(join(dir, 'p.pid')).trim());
    const fds = (): { all: number; eventfd: number } => {
      let all = 0;
      let eventfd = 0;
      for (const f of readdirSync(`/proc/${pid}/fd`)) {
        all++;
        try {
          if (readlinkSync(`/proc/${pid}/fd/${f}`) === 'anon_inode:[eventfd]') eventfd++;
        } catch {
          /* closed meanwhile */
        }
      }
      return { all, eventfd };
    };
    const { rss, memory, hup } = probe(pid, op, s.child);

    const MiB = 1 << 20;
    // one restart first: whatever a restart opens once (and keeps) is in the baseline
    await hup(1);
    const before = fds();
    const rss1 = rss();
    const samples: Memory[] = [];
    for (let to = 25; to <= 200; to += 25) {
      await hup(to);
      samples.push(await memory());
    }
    const after = fds();
    const rss200 = rss();
    // the eventfds were 24 -> 85 after 500 restarts: the capture thread's wake-up eventfd
    // was closed only when the garbage collector freed the handle
    assert.ok(after.eventfd <= before.eventfd, `eventfds ${before.eventfd} -> ${after.eventfd}`);
    assert.ok(after.all <= before.all + 2, `file descriptors ${before.all} -> ${after.all}`);
    // Every restart used to allocate new capture batch slots (1 MiB) and pair tables
    // (0.5 MiB) that only the garbage collector freed: memory outside the V8 heap swung up
    // to 65 MiB and RSS grew by 27 MiB over 200 restarts (now: under 1 MiB, ~2 MiB of
    // ArrayBuffers; docs/operations.md "SIGHUP").
    const ab = Math.max(...samples.map((m) => m.arrayBuffers));
    assert.ok(ab < 16 * MiB, `ArrayBuffers outside the heap up to ${(ab / MiB).toFixed(1)} MiB`);
    const heap = samples.map((m) => m.heapUsed);
    assert.ok(Math.max(...heap) < 2 * Math.min(...heap) + 8 * MiB, `V8 heap used ${heap.map((h) => (h / MiB).toFixed(1)).join(', ')} MiB`);
    assert.ok(rss200 - rss1 < 12 * MiB, `RSS ${(rss1 / MiB).toFixed(1)} MiB after 1 restart, ${(rss200 / MiB).toFixed(1)} MiB after 200`);
    connectIn(ns, [22]);
    assert.ok(await waitFor(() => unstamp(readOr(join(dir, 'out.log'))).some((l) => l.startsWith('TCP: ssh connection attempt'))), 'still capturing');
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
  });

  test('modern profile, 200 SIGHUPs: the modern tables are handed over (ArrayBuffers and RSS flat) and a scan in progress is still detected', { timeout: 300_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-hup-modern-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const ns = namespace('hupm');
    const op = join(dir, 'op.log');
    const out = join(dir, 'out.log');
    const s = start(ns, ['-l', out, '--op-log', op, '--pid-file', join(dir, 'p.pid')], 'ignore' as unknown as number, 'modern');
    assert.ok(await waitFor(() => records(op).some((r) => r.msg === 'iplog started')), 'running');
    const pid = Number(readOr(join(dir, 'p.pid')).trim());
    const { rss, memory, hup } = probe(pid, op, s.child);
    const detections = () => unstamp(readOr(out)).filter((l) => / scan detected /.test(l));
    const MiB = 1 << 20;
    // a scan begins: two closed ports refused (RST), two failed first contacts of the four
    // the Threshold Random Walk needs (docs/detectors.md, syn-scan)
    connectIn(ns, [1001, 1002]);
    // handled before the first SIGHUP (frames that come during a restart are dropped)
    assert.ok(await waitFor(() => unstamp(readOr(out)).filter((l) => /^TCP: port 100[12] connection attempt/.test(l)).length === 2), 'the first contacts');
    await hup(1);
    const m1 = await memory();
    const rss1 = rss();
    const samples: Memory[] = [];
    for (let to = 25; to <= 200; to += 25) {
      await hup(to);
      samples.push(await memory());
    }
    const rss200 = rss();
    assert.deepEqual(detections(), [], 'no detection before the scan goes on');
    // Each restart made new modern tables (48 MiB of typed arrays with the default
    // --state-memory) and left the old ones to the garbage collector: ArrayBuffers grew to
    // 164 MiB over 200 SIGHUPs. Handed over, nothing of that size is made again.
    const ab = Math.max(...samples.map((m) => m.arrayBuffers));
    t.diagnostic(`ArrayBuffers ${(m1.arrayBuffers / MiB).toFixed(1)} MiB after 1 restart, ${samples.map((m) => (m.arrayBuffers / MiB).toFixed(1)).join(', ')} MiB every 25; RSS ${(rss1 / MiB).toFixed(1)} -> ${(rss200 / MiB).toFixed(1)} MiB`);
    // What remains is each restart's small garbage (output buffers, fragment tables: tens
    // of KiB), as in compat, freed when the garbage collector runs: 13 MiB over 200 here.
    assert.ok(ab < m1.arrayBuffers + 24 * MiB, `ArrayBuffers ${(m1.arrayBuffers / MiB).toFixed(1)} MiB after 1 restart, up to ${(ab / MiB).toFixed(1)} MiB over 200`);
    assert.ok(rss200 - rss1 < 24 * MiB, `RSS ${(rss1 / MiB).toFixed(1)} MiB after 1 restart, ${(rss200 / MiB).toFixed(1)} MiB after 200`);
    // the scan goes on: two more refused ports make four failed first contacts
    connectIn(ns, [1003, 1004]);
    assert.ok(
      await waitFor(() => detections().some((l) => /^TCP: (port|SYN) scan detected \[ports 100[1-4],100[1-4],100[1-4],100[1-4]\] from 192\.0\.2\.1 /.test(l)), 15_000),
      `the scan begun before the restarts is detected: ${JSON.stringify(unstamp(readOr(out)).slice(-5))}`,
    );
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
  });

  test('-L into a pipe whose reader goes away: reported and counted; the JSON file and capture go on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-pipe-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const ns = namespace('pipe');
    const events = join(dir, 'events.json');
    const op = join(dir, 'op.log');
    const s = start(ns, ['-L', '--json', events, '--op-log', op, '--pid-file', join(dir, 'p.pid')], 'pipe');
    await new Promise<void>((r) => s.child.stdout!.once('data', () => r())); // `iplog started.`
    s.child.stdout!.destroy();
    connectIn(ns, [22]);
    assert.ok(await waitFor(() => records(op).some((r) => r.msg.startsWith('output closed'))), 'the closed output is in the op log');
    const closed = records(op).find((r) => r.msg.startsWith('output closed'))!;
    assert.deepEqual([closed.code, closed.output], ['IPLOG_ERR_OUTPUT_CLOSED', 'stdout']);
    connectIn(ns, [23]);
    assert.ok(await waitFor(() => jsonKinds(events).some((e) => e.dport === 23)), 'JSON events after stdout closed');
    assert.equal(s.child.exitCode, null, 'the sensor is still running');
    s.child.kill('SIGUSR1');
    assert.ok(await waitFor(() => records(op).some((r) => r.msg === 'statistics')));
    const st = records(op).find((r) => r.msg === 'statistics')! as unknown as { outputs: { output: string; linesLost: number; closed: boolean }[] };
    assert.deepEqual(st.outputs.map((o) => [o.output, o.closed]), [['stdout', true]]);
    assert.ok(st.outputs[0]!.linesLost >= 2);
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
  });
  test('detached daemon (no -o) with -L into a pipe whose reader goes away: reported, the JSON file goes on, still running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-dpipe-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const ns = namespace('dpipe');
    const events = join(dir, 'events.json');
    const op = join(dir, 'op.log');
    const pidFile = join(dir, 'p.pid');
    // (-l would override -L, as in 2.2.3.) The parent hands over to a detached child that keeps standard output (-L): our pipe
    const parent = spawn('ip', ['netns', 'exec', ns, process.execPath, BIN, '-N', '--config', '/dev/null', '-L', '-i', 'lo', '--json', events, '--op-log', op, '--pid-file', pidFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
    });
    const parentExit = await new Promise<number | null>((r) => parent.once('exit', (c) => r(c)));
    assert.equal(parentExit, 0, 'the parent exits 0 once the daemon runs');
    assert.ok(await waitFor(() => records(op).some((r) => r.msg === 'iplog started' && r.mode === 'daemon')), 'daemon running');
    const pid = Number(readOr(pidFile).trim());
    cleanup.push(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    });
    parent.stdout!.destroy();
    connectIn(ns, [22]);
    assert.ok(await waitFor(() => records(op).some((r) => r.msg.startsWith('output closed'))), 'the closed output is in the op log');
    const closed = records(op).find((r) => r.msg.startsWith('output closed'))!;
    assert.deepEqual([closed.code, closed.output], ['IPLOG_ERR_OUTPUT_CLOSED', 'stdout']);
    connectIn(ns, [23]);
    assert.ok(await waitFor(() => jsonKinds(events).some((e) => e.dport === 23)), 'JSON events after stdout closed');
    process.kill(pid, 0); // still running (throws if not)
    process.kill(pid, 'SIGTERM');
    assert.ok(await waitFor(() => records(op).some((r) => r.msg === 'iplog exiting')), 'exits on SIGTERM');
    assert.equal(records(op).find((r) => r.msg === 'iplog exiting')!.status, 0);
  });
});

/**
 * The syslog sink against stand-in daemons on sockets of our own (a unix datagram socket
 * in a temp dir, UDP and TCP on 127.0.0.1): delivery, congestion (EAGAIN → 'writable'),
 * reconnection after the daemon goes away and comes back, the bounded buffer with its
 * in-band dropped-lines report, replay's lossless waiting, and that nothing ever throws.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import {
  SyslogSink,
  localSyslogSink,
  remoteSyslogSink,
  SYSLOG_CODE,
  type OpLog,
} from '../../src/output/sinks/syslog';
import { droppedText, formatLocal } from '../../src/output/sinks/syslog-format';
import { chooseSink, openSink, sinkClosed } from '../../src/output/sinks/open';
import { TextSink } from '../../src/output/sinks/text';
import { replay } from '../../src/pipeline';
import { makeSettings } from '../helpers/engine';
import { defaultSettings } from '../../src/config/options';
import {
  FakeTcpCollector,
  FakeUdpCollector,
  FakeUnixSyslogd,
  ROOT,
  readDatagrams,
  StallingSyslogd,
  sleep,
  tempDir,
  waitUntil,
} from './syslog-helpers';

const T0 = 1_700_000_000;
const PID = 4242;
const strip = (m: string): string => m.replace(/^<\d+>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d iplog\[\d+\]: /, '');

function recordingLog(): OpLog & { entries: Array<{ code?: string; [k: string]: unknown }> } {
  const entries: Array<{ code?: string }> = [];
  return {
    entries,
    warn: (o) => entries.push(o as { code?: string }),
    info: (o) => entries.push(o as { code?: string }),
  };
}

function local(path: string, extra: Partial<Parameters<typeof localSyslogSink>[0]> = {}): SyslogSink {
  return localSyslogSink({ path, facility: 3, priority: 5, pid: PID, retryMinMs: 10, retryMaxMs: 50, closeTimeoutMs: 3000, ...extra });
}

describe('local socket', () => {
  test('every line arrives, in order, in glibc form', async () => {
    const { dir, cleanup } = tempDir('syslog');
    const d = new FakeUnixSyslogd(join(dir, 'log.sock'));
    const sink = local(d.path);
    for (let i = 0; i < 300; i++) sink.write(T0 + i, `line ${i}`);
    sink.close(T0 + 300);
    const st = await sink.closed();
    // the datagrams are in the daemon's queue; it reads them on the next turns of the loop
    assert.ok(await d.waitFor(300));
    assert.equal(d.messages.length, 300);
    assert.equal(d.messages[0], formatLocal(29, T0, PID, 'line 0'));
    assert.deepEqual(d.messages.map(strip), Array.from({ length: 300 }, (_, i) => `line ${i}`));
    assert.deepEqual([st.sent, st.dropped, st.outages, st.lostAtClose], [300, 0, 0, 0]);
    d.close();
    cleanup();
  });

  test('a replay of crafted_tcp_flags.pcap gives the oracle datagrams (apart from time and pid)', async () => {
    for (const [file, facility, priority] of [
      ['crafted_tcp_flags.syslog_default.datagrams.txt', 3, 5],
      ['crafted_tcp_flags.syslog_local3_warning.datagrams.txt', 19, 4],
    ] as const) {
      const { dir, cleanup } = tempDir('syslog');
      const d = new FakeUnixSyslogd(join(dir, 'log.sock'));
      const sink = local(d.path, { facility, priority });
      await replay(makeSettings(), join(ROOT, 'pcaps', 'conformance', 'crafted_tcp_flags.pcap'), sink, null);
      await sinkClosed(sink);
      assert.ok(await d.waitFor(8));
      const norm = (m: string): string => m.replace(/^(<\d+>)[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d iplog\[\d+\]: /, '$1TIME iplog[PID]: ');
      // the oracle's own life-cycle lines (start, SIGTERM) are not replay's
      const want = readDatagrams(file).map(norm).filter((m) => !/: (iplog started\.|Caught signal 15, exiting\.)$/.test(m));
      assert.deepEqual(d.messages.map(norm), want);
      d.close();
      cleanup();
    }
  });

  test('congestion: a daemon that stops reading makes the sink wait for writable, not drop', async () => {
    const { dir, cleanup } = tempDir('syslog');
    const d = new StallingSyslogd(join(dir, 'log.sock'), 400);
    await d.ready();
    const sink = local(d.path, { capacity: 5000 });
    for (let i = 0; i < 2000; i++) sink.write(T0, `c${i}`);
    // the daemon is stalled: most lines wait in the sink's queue
    assert.ok(sink.queued > 0, 'lines queued behind EAGAIN');
    sink.close(T0);
    const st = await sink.closed();
    assert.ok(await d.waitFor(2000));
    assert.deepEqual(d.messages.map(strip), Array.from({ length: 2000 }, (_, i) => `c${i}`));
    assert.deepEqual([st.sent, st.dropped, st.lostAtClose], [2000, 0, 0]);
    await d.stop();
    cleanup();
  });

  test('replay mode waits synchronously for a slow daemon instead of dropping (blockWhenFullMs)', async () => {
    const { dir, cleanup } = tempDir('syslog');
    const d = new StallingSyslogd(join(dir, 'log.sock'), 300);
    await d.ready();
    const sink = local(d.path, { capacity: 50, blockWhenFullMs: 5000 });
    const t = Date.now();
    for (let i = 0; i < 1000; i++) sink.write(T0, `r${i}`);
    assert.ok(Date.now() - t >= 200, 'the writes waited for the stalled daemon');
    sink.close(T0);
    const st = await sink.closed();
    assert.ok(await d.waitFor(1000));
    assert.deepEqual(d.messages.map(strip), Array.from({ length: 1000 }, (_, i) => `r${i}`));
    assert.equal(st.dropped, 0);
    await d.stop();
    cleanup();
  });

  test('reconnects after the daemon is closed and recreated; lines written meanwhile are kept', async () => {
    const { dir, cleanup } = tempDir('syslog');
    const d = new FakeUnixSyslogd(join(dir, 'log.sock'));
    const log = recordingLog();
    const sink = local(d.path, { log });
    for (let i = 0; i < 10; i++) sink.write(T0, `a${i}`);
    assert.ok(await d.waitFor(10));
    d.close();
    for (let i = 0; i < 20; i++) sink.write(T0 + 1, `b${i}`);
    assert.equal(sink.connected, false);
    assert.equal(sink.queued, 20);
    await sleep(100); // a few failed attempts (ENOENT)
    d.open();
    assert.ok(await waitUntil(() => sink.queued === 0 && sink.connected));
    for (let i = 0; i < 5; i++) sink.write(T0 + 2, `c${i}`);
    sink.close(T0 + 2);
    const st = await sink.closed();
    assert.ok(await d.waitFor(35));
    const want = [...Array.from({ length: 10 }, (_, i) => `a${i}`), ...Array.from({ length: 20 }, (_, i) => `b${i}`), ...Array.from({ length: 5 }, (_, i) => `c${i}`)];
    assert.deepEqual(d.messages.map(strip), want);
    assert.deepEqual([st.sent, st.dropped, st.outages, st.reconnects], [35, 0, 1, 1]);
    const codes = log.entries.map((e) => e.code);
    assert.deepEqual(codes, [SYSLOG_CODE.UNAVAILABLE, SYSLOG_CODE.RESUMED]);
    assert.equal(log.entries[0]!.err, 'ECONNREFUSED');
    d.close();
    cleanup();
  });

  test('bounded buffer: lines beyond it are dropped, counted, and reported in-band where the gap is', async () => {
    const { dir, cleanup } = tempDir('syslog');
    const path = join(dir, 'log.sock');
    const log = recordingLog();
    // no daemon yet: the sink starts in its outage
    const sink = local(path, { capacity: 5, log });
    for (let i = 0; i < 12; i++) sink.write(T0 + i, `x${i}`);
    assert.equal(sink.queued, 5);
    assert.equal(sink.stats.dropped, 7);
    const d = new FakeUnixSyslogd(path);
    assert.ok(await d.waitFor(6));
    sink.write(T0 + 20, 'after');
    sink.close(T0 + 20);
    const st = await sink.closed();
    assert.ok(await d.waitFor(7));
    assert.deepEqual(d.messages.map(strip), ['x0', 'x1', 'x2', 'x3', 'x4', droppedText(7), 'after']);
    // the report carries the time of the last line written before it
    assert.equal(d.messages[5], formatLocal(29, T0 + 11, PID, droppedText(7)));
    assert.deepEqual([st.sent, st.dropped, st.dropReports, st.outages, st.reconnects], [7, 7, 1, 1, 1]);
    assert.equal(log.entries[0]!.err, 'ENOENT');
    assert.ok(log.entries.some((e) => e.code === SYSLOG_CODE.DROPPING));
    assert.ok(log.entries.some((e) => e.code === SYSLOG_CODE.DROPPED && e.dropped === 7));
    d.close();
    cleanup();
  });

  test('never throws: a socket path that is a plain file, a message too large, writes after close', async () => {
    const { dir, cleanup } = tempDir('syslog');
    const file = join(dir, 'not-a-socket');
    writeFileSync(file, '');
    const log = recordingLog();
    const sink = local(file, { closeTimeoutMs: 100, log });
    for (let i = 0; i < 3; i++) sink.write(T0, 'lost');
    sink.close(T0);
    const st = await sink.closed();
    assert.equal(st.lostAtClose, 3);
    sink.write(T0, 'after close');
    assert.equal(st.lostAtClose, 4);
    assert.ok(log.entries.some((e) => e.code === SYSLOG_CODE.LOST_AT_CLOSE && e.lost === 3));

    const d = new FakeUnixSyslogd(join(dir, 'log.sock'));
    const big = local(d.path, { log });
    big.write(T0, 'y'.repeat(4 << 20)); // larger than any datagram: EMSGSIZE
    big.write(T0, 'small');
    big.close(T0);
    const st2 = await big.closed();
    assert.ok(await d.waitFor(1));
    assert.deepEqual([st2.rejected, st2.sent], [1, 1]);
    assert.deepEqual(d.messages.map(strip), ['small']);
    assert.ok(log.entries.some((e) => e.code === SYSLOG_CODE.REJECTED));
    d.close();
    cleanup();
  });

  test('close() with nothing queued resolves at once, even while the daemon is away', async () => {
    const { dir, cleanup } = tempDir('syslog');
    const sink = local(join(dir, 'missing.sock'), { closeTimeoutMs: 60_000 });
    const t = Date.now();
    sink.close(T0);
    await sink.closed();
    assert.ok(Date.now() - t < 1000);
    cleanup();
  });
});

describe('remote', () => {
  test('UDP: RFC 3164 with HOSTNAME, one datagram per line', async () => {
    const c = new FakeUdpCollector();
    const port = await c.listen();
    const sink = remoteSyslogSink({ server: { proto: 'udp', host: '127.0.0.1', port }, format: 'rfc3164', facility: 19, priority: 4, pid: PID, hostname: 'sensor.example.org' });
    for (let i = 0; i < 50; i++) sink.write(T0, `u${i}`);
    sink.close(T0);
    const st = await sink.closed();
    assert.ok(await waitUntil(() => c.messages.length >= 50));
    assert.equal(c.messages[0], formatLocal(156, T0, PID, 'u0').replace(' iplog[', ' sensor iplog['));
    assert.equal(st.sent, 50);
    await c.close();
  });

  test('TCP: octet counting for RFC 5424, LF for RFC 3164', async () => {
    for (const format of ['rfc5424', 'rfc3164'] as const) {
      const c = new FakeTcpCollector();
      const port = await c.listen();
      const sink = remoteSyslogSink({ server: { proto: 'tcp', host: '127.0.0.1', port }, format, facility: 3, priority: 5, pid: PID, hostname: 'sensor' });
      sink.write(T0, 'one');
      sink.write(T0, 'twö');
      sink.close(T0);
      await sink.closed();
      assert.ok(await waitUntil(() => c.data.includes('tw')));
      await sleep(20);
      if (format === 'rfc5424') {
        const a = '<29>1 2023-11-14T22:13:20Z sensor iplog 4242 - - one';
        const b = '<29>1 2023-11-14T22:13:20Z sensor iplog 4242 - - twö';
        assert.equal(c.data, `${Buffer.byteLength(a)} ${a}${Buffer.byteLength(b)} ${b}`);
      } else {
        assert.equal(c.data, `${formatLocal(29, T0, PID, 'one').replace(' iplog[', ' sensor iplog[')}\n${formatLocal(29, T0, PID, 'twö').replace(' iplog[', ' sensor iplog[')}\n`);
      }
      await c.close();
    }
  });

  test('TCP: the collector goes away and comes back on the same port; delivery resumes, bounded buffer reported', async () => {
    const c = new FakeTcpCollector();
    const port = await c.listen();
    const log = recordingLog();
    const sink = remoteSyslogSink({
      server: { proto: 'tcp', host: '127.0.0.1', port },
      format: 'rfc3164',
      facility: 3,
      priority: 5,
      pid: PID,
      hostname: 'h',
      capacity: 10,
      retryMinMs: 10,
      retryMaxMs: 50,
      log,
    });
    for (let i = 0; i < 5; i++) sink.write(T0, `p${i}`);
    assert.ok(await waitUntil(() => c.data.split('\n').length > 5));
    await c.close();
    assert.ok(await waitUntil(() => !sink.connected));
    for (let i = 0; i < 25; i++) sink.write(T0, `q${i}`);
    await sleep(100);
    const c2 = new FakeTcpCollector();
    await c2.listen(port);
    assert.ok(await waitUntil(() => sink.queued === 0 && sink.connected));
    sink.write(T0, 'end');
    sink.close(T0);
    const st = await sink.closed();
    await waitUntil(() => c2.data.includes('end'));
    const got = (c.data + c2.data).split('\n').filter(Boolean).map((l) => l.replace(/^.* h iplog\[4242\]: /, ''));
    assert.deepEqual(got, ['p0', 'p1', 'p2', 'p3', 'p4', ...Array.from({ length: 10 }, (_, i) => `q${i}`), droppedText(15), 'end']);
    assert.deepEqual([st.dropped, st.outages, st.reconnects, st.lostAtClose], [15, 1, 1, 0]);
    assert.ok(log.entries.some((e) => e.code === SYSLOG_CODE.UNAVAILABLE));
    await c2.close();
  });

  test('a collector that never answers: close() gives up after closeTimeoutMs and counts the lines', async () => {
    const c = new FakeTcpCollector();
    const port = await c.listen();
    await c.close(); // nothing listens there now: ECONNREFUSED on every attempt
    const sink = remoteSyslogSink({ server: { proto: 'tcp', host: '127.0.0.1', port }, format: 'rfc5424', facility: 3, priority: 5, closeTimeoutMs: 200, retryMinMs: 10 });
    sink.write(T0, 'never');
    sink.close(T0);
    const st = await sink.closed();
    assert.deepEqual([st.sent, st.lostAtClose], [0, 1]);
  });
});

describe('openSink()', () => {
  test('replay: stdout by default; a syslog option selects syslog; -l/-L win', async () => {
    const { dir, cleanup } = tempDir('syslog');
    const d = new FakeUnixSyslogd(join(dir, 'log.sock'));
    const s = defaultSettings();
    assert.ok(openSink(s, 'replay') instanceof TextSink);
    s.syslogSocket = d.path;
    const sink = openSink(s, 'replay');
    assert.ok(sink instanceof SyslogSink);
    sink.write(T0, 'hello');
    sink.close(T0);
    assert.equal((await sinkClosed(sink))?.target, `unix:${d.path}`);
    assert.ok(await d.waitFor(1));
    assert.deepEqual(d.messages.map(strip), ['hello']);
    s.flags.stdout = true;
    assert.ok(openSink(s, 'replay') instanceof TextSink);
    s.flags.stdout = false;
    s.logfile = join(dir, 'out.log');
    const f = openSink(s, 'live');
    assert.ok(f instanceof TextSink);
    f.close(T0);
    assert.equal(await sinkClosed(f), undefined);
    s.logfile = undefined;
    s.syslogServer = { proto: 'udp', host: '127.0.0.1', port: 9 };
    const r = openSink(s, 'replay') as SyslogSink;
    assert.equal(r.stats.target, 'udp://127.0.0.1:9');
    r.close(T0);
    await r.closed();
    d.close();
    cleanup();
  });

  test('live: syslog on /dev/log by default (chosen, not opened: the test stays off the system socket)', () => {
    const s = defaultSettings();
    assert.deepEqual(chooseSink(s, 'live'), { kind: 'syslog-local', path: '/dev/log' });
    assert.deepEqual(chooseSink(s, 'replay'), { kind: 'stdout' });
    s.syslogSocket = '/run/x.sock';
    assert.deepEqual(chooseSink(s, 'replay'), { kind: 'syslog-local', path: '/run/x.sock' });
    s.syslogServer = { proto: 'tcp', host: '127.0.0.1', port: 514 };
    assert.deepEqual(chooseSink(s, 'live'), { kind: 'syslog-remote', server: s.syslogServer, format: 'rfc3164' });
    s.logfile = '/tmp/f';
    assert.deepEqual(chooseSink(s, 'live'), { kind: 'file', path: '/tmp/f' });
    s.flags.stdout = true;
    assert.deepEqual(chooseSink(s, 'live'), { kind: 'stdout' });
  });
});

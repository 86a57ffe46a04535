/**
 * The syslog sink against a real rsyslogd (Debian's rsyslog package; scripts/setup.mjs
 * installs it), run in the foreground with a private configuration in a temp dir: its own
 * imuxsock socket (not /dev/log), imudp/imtcp on 127.0.0.1 and a free port, no rate
 * limits, no DNS, work directory and pid file in the temp dir.
 *
 *  - `bin/iplog -r crafted_tcp_flags.pcap --syslog-socket SOCK -N`: every line arrives
 *    with tag iplog[pid], the pid, and the facility/priority asked for;
 *  - rsyslogd restarted while a live-like feeder keeps writing: delivery resumes, the
 *    bounded buffer's drops are reported in-band where the gap is, and nothing else is
 *    missing except what the dying daemon had accepted and not read (a window no
 *    datagram sender can see; the test measures it);
 *  - --syslog-server udp:// and tcp:// in both formats, and a TCP restart.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { localSyslogSink, remoteSyslogSink, SYSLOG_CODE, type OpLog, type SyslogSink } from '../../src/output/sinks/syslog';
import { PrivateRsyslog, RSYSLOGD, ROOT, freePort, sleep, tempDir, waitUntil, type RsyslogRecord } from './syslog-helpers';

const skip = RSYSLOGD === undefined ? 'rsyslogd is not installed (scripts/setup.mjs installs the Debian rsyslog package)' : false;
const PCAP = join(ROOT, 'pcaps', 'conformance', 'crafted_tcp_flags.pcap');
const DROPPED = /^(\d+) messages? dropped while syslog was unavailable\.$/;

function iplog(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string; pid: number }> {
  return new Promise((resolve) => {
    // compat: the 8 lines of the capture (one per packet) are what the syslog runs are compared with
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'iplog'), '--profile', 'compat', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('close', (status) => resolve({ status, stdout, stderr, pid: child.pid as number }));
  });
}

/** The replay's lines as text (stdout, the 16-character timestamp cut off). */
async function expectedLines(): Promise<{ texts: string[]; stamped: string[] }> {
  const r = await iplog(['-r', PCAP, '-N']);
  assert.equal(r.status, 0, r.stderr);
  const stamped = r.stdout.split('\n').filter(Boolean);
  return { texts: stamped.map((l) => l.slice(16)), stamped };
}

const msgOf = (r: RsyslogRecord): string => r.msg.replace(/^ /, '');

describe('real rsyslogd', { skip }, () => {
  test('replay to the local socket: every line, tag iplog[pid], daemon.notice and local3.warning', async () => {
    const { dir, cleanup } = tempDir('rsyslog');
    const rs = new PrivateRsyslog(dir, await freePort());
    await rs.start();
    try {
      const want = await expectedLines();
      assert.equal(want.texts.length, 8);
      const runs: Array<{ args: string[]; pri: number; fac: number; sev: number; pid?: number }> = [
        { args: [], pri: 29, fac: 3, sev: 5 },
        { args: ['--facility', 'local3', '--priority', 'warning'], pri: 156, fac: 19, sev: 4 },
      ];
      for (const run of runs) {
        const r = await iplog(['-r', PCAP, '--syslog-socket', rs.socket, '-N', ...run.args]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, '', 'nothing on stdout in syslog mode');
        run.pid = r.pid;
      }
      assert.ok(await waitUntil(() => rs.iplog().length >= 16, 15_000), `got ${rs.iplog().length}`);
      const recs = rs.iplog();
      for (const run of runs) {
        const mine = recs.filter((r) => r.procid === String(run.pid));
        assert.deepEqual(mine.map(msgOf), want.texts);
        for (const [i, r] of mine.entries()) {
          assert.equal(r.input, 'imuxsock');
          assert.deepEqual([r.pri, r.facility, r.severity], [run.pri, run.fac, run.sev]);
          assert.equal(r.tag, `iplog[${run.pid}]:`);
          // the datagram as glibc would have sent it, stamped with the packet's time
          assert.equal(r.raw, `<${run.pri}>${want.stamped[i]!.slice(0, 15)} iplog[${run.pid}]: ${want.texts[i]}`);
        }
      }
    } finally {
      await rs.stop();
      cleanup();
    }
  });

  test('rsyslogd restarted mid-stream: delivery resumes; only reported drops are missing, bar the dying daemon’s unread queue', async (t) => {
    const { dir, cleanup } = tempDir('rsyslog');
    const rs = new PrivateRsyslog(dir, await freePort());
    await rs.start();
    let seq = 0;
    let outageSeq = -1;
    const entries: Array<{ code?: string }> = [];
    const log: OpLog = {
      warn: (o) => {
        entries.push(o);
        if ((o as { code?: string }).code === SYSLOG_CODE.UNAVAILABLE && outageSeq < 0) outageSeq = seq;
      },
      info: (o) => entries.push(o),
    };
    const capacity = 200;
    const sink = localSyslogSink({ path: rs.socket, facility: 3, priority: 5, capacity, retryMinMs: 20, retryMaxMs: 100, closeTimeoutMs: 10_000, log });
    // live-like: a few lines every few milliseconds, time = the wall clock
    const feeder = setInterval(() => {
      const now = Math.floor(Date.now() / 1000);
      for (let k = 0; k < 3; k++) sink.write(now, `seq ${seq++}`);
    }, 3);
    const seqsOf = (recs: RsyslogRecord[]): number[] => recs.map(msgOf).filter((m) => m.startsWith('seq ')).map((m) => Number(m.slice(4)));
    try {
      assert.ok(await waitUntil(() => rs.iplog().length >= 150));
      await rs.stop();
      // what the first daemon wrote is final now
      const before = seqsOf(rs.iplog());
      const seenBeforeKill = Math.max(...before);
      // the daemon is away long enough for the bounded buffer to overflow
      // (until enough lines were written, not a fixed time: a loaded machine feeds slower)
      assert.ok(await waitUntil(() => seq - seenBeforeKill > capacity * 2), `wrote ${seq - seenBeforeKill} lines while away`);
      await rs.start();
      await sleep(600);
      clearInterval(feeder);
      const last = seq - 1;
      sink.close(Math.floor(Date.now() / 1000));
      const st = await sink.closed();
      assert.ok(await waitUntil(() => seqsOf(rs.iplog()).includes(last)), 'the last line arrived: delivery resumed');
      // the in-band drop reports come with the lines: wait until they add up (or the deadline)
      await waitUntil(() => rs.iplog().map(msgOf).filter((m) => DROPPED.test(m)).reduce((a, m) => a + Number(DROPPED.exec(m)![1]), 0) >= st.dropped);

      const recs = rs.iplog();
      for (const r of recs) assert.deepEqual([r.input, r.pri, r.program], ['imuxsock', 29, 'iplog']);
      const got = new Set(seqsOf(recs));
      const reports = recs.map(msgOf).filter((m) => DROPPED.test(m)).map((m) => Number(DROPPED.exec(m)![1]));
      assert.ok(st.dropped > 0, 'the buffer overflowed');
      assert.equal(reports.reduce((a, b) => a + b, 0), st.dropped, 'every drop reported in-band');
      assert.ok(st.outages >= 1 && st.reconnects >= 1);
      assert.equal(st.lostAtClose, 0);
      assert.ok(outageSeq > seenBeforeKill);

      const missing: number[] = [];
      for (let i = 0; i < seq; i++) if (!got.has(i)) missing.push(i);
      // Sent to the old daemon before the sink noticed it had gone: lost only if it had
      // not read them yet.
      const lostInWindow = missing.filter((m) => m < outageSeq);
      for (const m of lostInWindow) assert.ok(m > seenBeforeKill, `line ${m} lost although the first daemon had written up to ${seenBeforeKill}`);
      // Everything missing after that is a reported drop, exactly.
      assert.equal(missing.length - lostInWindow.length, st.dropped);
      // Each report sits right where its gap is: after the last line buffered, before the
      // first line queued once there was room again.
      const order = recs.map(msgOf);
      for (let i = 0; i < order.length; i++) {
        const m = DROPPED.exec(order[i]!);
        if (m === null) continue;
        const prev = Number(order[i - 1]!.slice(4));
        const next = Number(order[i + 1]!.slice(4));
        assert.equal(next - prev - 1, Number(m[1]), `report between seq ${prev} and ${next}`);
      }
      t.diagnostic(
        `wrote ${seq}, delivered ${got.size}, dropped+reported ${st.dropped}, lost in the dying daemon's queue ${lostInWindow.length}, outages ${st.outages}`,
      );
    } finally {
      clearInterval(feeder);
      await rs.stop();
      cleanup();
    }
  });

  test('remote: UDP and TCP, RFC 3164 and RFC 5424, via --syslog-server', async () => {
    const { dir, cleanup } = tempDir('rsyslog');
    const port = await freePort();
    const rs = new PrivateRsyslog(dir, port);
    await rs.start();
    try {
      const want = await expectedLines();
      const pids = new Map<number, { proto: string; format: string }>();
      for (const proto of ['udp', 'tcp']) {
        for (const format of ['rfc3164', 'rfc5424']) {
          const r = await iplog(['-r', PCAP, '-N', '--syslog-server', `${proto}://127.0.0.1:${port}`, '--syslog-format', format, '--facility=local3', '--priority=warning']);
          assert.equal(r.status, 0, r.stderr);
          pids.set(r.pid, { proto, format });
        }
      }
      assert.ok(await waitUntil(() => rs.iplog().length >= 32, 15_000), `got ${rs.iplog().length}`);
      const host = hostname();
      for (const [pid, { proto, format }] of pids) {
        const mine = rs.iplog().filter((r) => r.procid === String(pid));
        assert.deepEqual(mine.map(msgOf), want.texts, `${proto} ${format}`);
        for (const [i, r] of mine.entries()) {
          assert.equal(r.input, proto === 'udp' ? 'imudp' : 'imtcp');
          assert.deepEqual([r.pri, r.facility, r.severity], [156, 19, 4]);
          if (format === 'rfc3164') {
            assert.equal(r.hostname, host.split('.')[0]);
            assert.equal(r.raw, `<156>${want.stamped[i]!.slice(0, 15)} ${host.split('.')[0]} iplog[${pid}]: ${want.texts[i]}`);
          } else {
            assert.equal(r.hostname, host);
            assert.match(r.raw, new RegExp(`^<156>1 \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ ${host.replace(/\./g, '\\.')} iplog ${pid} - - `));
            assert.ok(r.raw.endsWith(want.texts[i]!));
          }
        }
      }
    } finally {
      await rs.stop();
      cleanup();
    }
  });

  test('remote TCP: rsyslogd restarted; the sink reconnects and delivery resumes', async () => {
    const { dir, cleanup } = tempDir('rsyslog');
    const port = await freePort();
    const rs = new PrivateRsyslog(dir, port);
    await rs.start();
    let seq = 0;
    const sink: SyslogSink = remoteSyslogSink({
      server: { proto: 'tcp', host: '127.0.0.1', port },
      format: 'rfc5424',
      facility: 3,
      priority: 5,
      capacity: 100,
      retryMinMs: 20,
      retryMaxMs: 100,
      closeTimeoutMs: 10_000,
    });
    const feeder = setInterval(() => sink.write(Math.floor(Date.now() / 1000), `seq ${seq++}`), 2);
    try {
      assert.ok(await waitUntil(() => rs.iplog().length >= 50));
      await rs.stop();
      await sleep(800);
      await rs.start();
      assert.ok(await waitUntil(() => sink.connected && sink.queued === 0, 10_000), 'reconnected and drained');
      const resumedAt = seq;
      await sleep(200);
      clearInterval(feeder);
      const last = seq - 1;
      sink.close(Math.floor(Date.now() / 1000));
      const st = await sink.closed();
      assert.ok(await waitUntil(() => rs.iplog().some((r) => msgOf(r) === `seq ${last}`)));
      const got = new Set(rs.iplog().map(msgOf));
      for (let i = resumedAt; i <= last; i++) assert.ok(got.has(`seq ${i}`), `line ${i} after the reconnection`);
      const reported = [...got].filter((m) => DROPPED.test(m)).reduce((a, m) => a + Number(DROPPED.exec(m)![1]), 0);
      assert.equal(reported, st.dropped);
      assert.ok(st.outages >= 1 && st.reconnects >= 1);
    } finally {
      clearInterval(feeder);
      await rs.stop();
      cleanup();
    }
  });
});

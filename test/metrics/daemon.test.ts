/**
 * A real sensor in a network namespace of its own (only its loopback): with --metrics on
 * an ephemeral 127.0.0.1 port it serves the counters of the traffic the test sends; without
 * --metrics the namespace has no listening socket at all; `iplog status` reads the status
 * file the daemon rewrites (also at SIGUSR1) and says when it is gone.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { liveSkip, requireTools, Netns, startIplog, capturing, BIN, sleep, type Proc } from '../live/netns';
import { statusPathFor } from '../../src/metrics/status';

const skip = liveSkip();

/** The pid file startIplog() gave the child. */
function pidFileOf(p: Proc): string {
  const args = p.child.spawnargs;
  return args[args.indexOf('--pid-file') + 1]!;
}

/** Listening TCP/UDP sockets in the namespace (ss), one line each. */
async function listeners(ns: Netns): Promise<string[]> {
  const r = await ns.must(['ss', '-H', '-l', '-n', '-t', '-u']);
  return r.split('\n').filter((l) => l.trim() !== '');
}

/** GET /metrics from inside the namespace. */
async function scrape(ns: Netns, port: number): Promise<string> {
  const js = `require('http').get({host:'127.0.0.1',port:${port},path:'/metrics'},(r)=>{let b='';r.on('data',(d)=>b+=d);r.on('end',()=>{process.stdout.write(r.statusCode+'\\n'+b)})}).on('error',(e)=>{console.error(e.message);process.exit(1)})`;
  const r = await ns.run([process.execPath, '-e', js]);
  assert.equal(r.status, 0, r.stderr);
  const [code, ...rest] = r.stdout.split('\n');
  assert.equal(code, '200');
  return rest.join('\n');
}

function sample(text: string, name: string): number | undefined {
  const l = text.split('\n').find((x) => x.startsWith(`${name} `));
  return l === undefined ? undefined : Number(l.slice(name.length + 1));
}

async function status(ns: Netns, pidFile: string, json = false): Promise<{ status: number | null; stdout: string }> {
  const r = await ns.run([process.execPath, BIN, 'status', '--pid-file', pidFile, ...(json ? ['--json'] : [])]);
  return { status: r.status, stdout: r.stdout };
}

describe('metrics and status of a live sensor', { skip: skip ?? undefined }, () => {
  let ns: Netns;
  before(async () => {
    requireTools('ip', 'ss', 'ping');
    ns = await Netns.create('metrics');
  });
  after(async () => {
    await ns?.destroy();
  });

  test('without --metrics nothing listens', async () => {
    const p = startIplog(ns, ['-i', 'lo', '-N']);
    try {
      await capturing(p);
      await ns.must(['ping', '-c', '2', '-i', '0.2', '127.0.0.1']);
      assert.deepEqual(await listeners(ns), []);
      assert.ok(!p.records().some((r) => r.msg === 'metrics listening'));
    } finally {
      assert.equal(await p.stop(), 0);
    }
  });

  test('--metrics 127.0.0.1:0 serves the counters; iplog status tells the same; SIGUSR1 rewrites the status', async () => {
    const p = startIplog(ns, ['-i', 'lo', '-N', '--metrics', '127.0.0.1:0']);
    const pidFile = pidFileOf(p);
    const statusFile = statusPathFor(pidFile);
    try {
      await capturing(p);
      const rec = p.records().find((r) => r.msg === 'metrics listening');
      assert.ok(rec, 'the operational log says where metrics listen');
      const port = rec.port as number;
      assert.ok(port > 0);
      // exactly one listener: ours, on loopback
      const ls = await listeners(ns);
      assert.equal(ls.length, 1, ls.join('\n'));
      assert.match(ls[0]!, new RegExp(`127\\.0\\.0\\.1:${port}\\b`));

      await ns.must(['ping', '-c', '5', '-i', '0.2', '127.0.0.1']);
      await p.until(() => p.texts().filter((t) => t.startsWith('ICMP: echo reply')).length === 5, 10_000, 'five echo replies');
      // the capture hands batches over within ~20 ms; the counters are read at scrape time
      await sleep(300);
      const text = await scrape(ns, port);
      assert.equal(sample(text, 'iplog_events_total{kind="icmp.echo"}'), 5);
      assert.equal(sample(text, 'iplog_events_total{kind="icmp.echo_reply"}'), 5);
      // 5 requests + 5 replies, and the TCP packets of this very scrape on lo
      const packets = sample(text, 'iplog_packets_total')!;
      assert.ok(packets >= 10, `packets ${packets}`);
      assert.equal(sample(text, 'iplog_interface_up{interface="lo"}'), 1);
      assert.ok(sample(text, 'iplog_interface_packets_total{interface="lo"}')! >= 10);
      assert.ok(sample(text, 'iplog_interface_bytes_total{interface="lo"}')! >= 10 * 98, 'ten 98-byte echo frames at least');
      assert.equal(sample(text, 'iplog_interface_kernel_drops_total{interface="lo"}'), 0);
      assert.equal(sample(text, 'iplog_table_capacity{table="scan"}'), 512);
      assert.equal(sample(text, 'iplog_decode_anomalies_total{anomaly="ipv4.bad_checksum"}'), 0);
      assert.doesNotMatch(text, /^iplog_dns_/m, '-N: no DNS metrics');

      // iplog status (human and JSON)
      await p.until(() => existsSync(statusFile), 10_000, 'the status file');
      const h = await status(ns, pidFile);
      assert.equal(h.status, 0, h.stdout);
      assert.match(h.stdout, new RegExp(`^iplog \\S+ is running \\(pid ${p.child.pid}, foreground, profile compat\\)$`, 'm'));
      assert.match(h.stdout, new RegExp(`metrics +127\\.0\\.0\\.1:${port}`));
      assert.match(h.stdout, /^ {2}lo +up +received \d+/m);
      const before = statSync(statusFile).ino;
      p.child.kill('SIGUSR1');
      await p.until(() => existsSync(statusFile) && statSync(statusFile).ino !== before, 3000, 'SIGUSR1 to rewrite the status file');
      const j = await status(ns, pidFile, true);
      assert.equal(j.status, 0);
      const doc = JSON.parse(j.stdout) as { state: string; pid: number; status: { started: number; metrics: string; counters: { packets: number; events: Record<string, number> } } };
      assert.equal(doc.state, 'running');
      assert.equal(doc.pid, p.child.pid);
      assert.equal(doc.status.metrics, `127.0.0.1:${port}`);
      assert.ok(doc.status.counters.packets >= 10);
      assert.equal(doc.status.counters.events['icmp.echo'], 5);
      assert.ok(Math.abs(doc.status.started - Date.now() / 1000) < 120);
      assert.equal(JSON.parse(readFileSync(statusFile, 'utf8')).pid, p.child.pid);
    } finally {
      assert.equal(await p.stop(), 0);
    }
    // stopped: pid and status files gone, nothing listens, status says so (exit 3)
    assert.equal(existsSync(statusFile), false);
    assert.deepEqual(await listeners(ns), []);
    const after = await status(ns, pidFile);
    assert.equal(after.status, 3);
    assert.match(after.stdout, /iplog is not running/);
  });

  test('a port in use is a Fatal start-up error (255), not a crash', async () => {
    const holder = startIplog(ns, ['-i', 'lo', '-N', '--metrics', '127.0.0.1:0']);
    try {
      await capturing(holder);
      const port = holder.records().find((r) => r.msg === 'metrics listening')!.port as number;
      const second = startIplog(ns, ['-i', 'lo', '-N', '--metrics', `127.0.0.1:${port}`]);
      assert.equal(await second.exited, 255);
      assert.ok(second.texts().some((t) => t === `Fatal: Unable to serve metrics on 127.0.0.1:${port}: EADDRINUSE`), second.stdout);
    } finally {
      await holder.stop();
    }
  });
});


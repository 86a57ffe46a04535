/**
 * --metrics without a daemon: the address syntax, the option and the iplog.conf statement,
 * the Prometheus text of a known snapshot (scraped over HTTP from an ephemeral port on
 * 127.0.0.1), and the status file's reader on pid files whose lock state is known.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMetricsAddress } from '../../src/metrics/address';
import { buildRegistry, serveMetrics } from '../../src/metrics/prometheus';
import { banSnapshot, EventCounts, type SensorSnapshot } from '../../src/metrics/snapshot';
import { readStatus, renderStatus, statusPathFor, STATUS_EXIT } from '../../src/metrics/status';
import { parseCommandLine } from '../../src/cli/program';
import { ANOMALY_NAMES } from '../../src/decode/anomalies';
import { IpAddr } from '../../src/net/addr';
import { event } from '../../src/output/event';

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `name{labels} value` lines of a Prometheus text, as a map. */
function samples(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of text.split('\n')) {
    if (l === '' || l.startsWith('#')) continue;
    const i = l.lastIndexOf(' ');
    m.set(l.slice(0, i), Number(l.slice(i + 1)));
  }
  return m;
}

function snapshot(): SensorSnapshot {
  const anomalies: Record<string, number> = {};
  for (const n of ANOMALY_NAMES) anomalies[n] = 0;
  anomalies['ipv4.bad_checksum'] = 3;
  anomalies['scan.evicted'] = 7;
  return {
    time: 1_800_000_000,
    interfaces: [
      { name: 'eth0', open: true, received: 1000, captured: 990, capturedBytes: 123456, kernelDrops: 10, ifDrops: 2 },
      { name: 'eth1', open: false, received: 5, captured: 5, capturedBytes: 300, kernelDrops: 0, ifDrops: 0 },
    ],
    packets: 995,
    ipv4Packets: 990,
    lines: 40,
    droppedInRestart: 1,
    anomalies,
    events: { 'scan.detected': 2, 'tcp.connection_attempt': 38 },
    detections: { 'syn-scan': 1, 'udp-scan': 1 },
    tables: [
      { name: 'scan', entries: 12, capacity: 512, evictions: 7 },
      { name: 'frag', entries: 0, capacity: null, evictions: 0 },
    ],
    bans: banSnapshot({ events: 5, bans: 2, unbans: 1, refusedAllow: 4, refusedBudget: 1, refusedTableFull: 0, scoreEvictions: 3 }, 1, 'nftables', { commands: 9, failed: 2, retried: 1, dropped: 0 }),
    dns: { queries: 20, timeouts: 3, failures: 1, cacheHits: 50, hostsHits: 2, coalesced: 4, dropped: 0 },
    syslog: { target: 'unix:/dev/log', sent: 40, dropped: 6, rejected: 0, queued: 2, maxQueued: 9, outages: 1, reconnects: 1 },
  };
}

describe('--metrics HOST:PORT', () => {
  test('addresses', () => {
    assert.deepEqual(parseMetricsAddress('127.0.0.1:9108'), { host: '127.0.0.1', port: 9108 });
    assert.deepEqual(parseMetricsAddress('[::1]:9108'), { host: '::1', port: 9108 });
    assert.deepEqual(parseMetricsAddress('localhost:0'), { host: 'localhost', port: 0 });
    for (const bad of ['9108', '127.0.0.1', '127.0.0.1:', '127.0.0.1:65536', '300.1.1.1:80', '1.2.3:80', '::1:9108', 'a b:1', '127.0.0.1:9108x', '']) {
      assert.equal(parseMetricsAddress(bad), undefined, bad);
    }
  });

  test('off by default; the option and the iplog.conf statement set it; a bad value is a fatal error', () => {
    const none = parseCommandLine(['--config', '/dev/null']);
    assert.equal(none.kind, 'run');
    assert.equal(none.kind === 'run' && none.settings.metrics, undefined);
    const cli = parseCommandLine(['--config', '/dev/null', '--metrics', '127.0.0.1:9108']);
    assert.ok(cli.kind === 'run');
    assert.deepEqual(cli.settings.metrics, { host: '127.0.0.1', port: 9108 });
    const dir = mkdtempSync(join(tmpdir(), 'iplog-metrics-conf-'));
    try {
      const conf = join(dir, 'iplog.conf');
      writeFileSync(conf, 'metrics [::1]:9200\n');
      const f = parseCommandLine(['--config', conf]);
      assert.ok(f.kind === 'run');
      assert.deepEqual(f.settings.metrics, { host: '::1', port: 9200 });
      writeFileSync(conf, 'metrics nonsense\n');
      const g = parseCommandLine(['--config', conf]);
      assert.ok(g.kind === 'run');
      assert.equal(g.settings.metrics, undefined);
      assert.ok(g.messages.some((m) => m.includes('Invalid metrics address: nonsense')), g.messages.join('|'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const bad = parseCommandLine(['--config', '/dev/null', '--metrics', '0.0.0.0']);
    assert.equal(bad.kind, 'exit');
    assert.ok(bad.kind === 'exit' && bad.code === 'IPLOG_ERR_BAD_METRICS' && bad.status === 255);
  });

  test('a scrape of a known snapshot over HTTP on 127.0.0.1 (ephemeral port)', async () => {
    let reads = 0;
    const reg = buildRegistry(() => (reads++, snapshot()), { version: '9.9.9', profile: 'compat', mode: 'live' }, 1_799_999_000);
    const srv = await serveMetrics({ host: '127.0.0.1', port: 0 }, reg);
    try {
      assert.ok(srv.address.port > 0);
      const before = reads;
      const r = await get(srv.address.port, '/metrics');
      assert.equal(r.status, 200);
      assert.match(r.type, /^text\/plain; version=0\.0\.4/);
      // one snapshot per scrape, however many metrics read it
      assert.equal(reads - before, 1);
      const s = samples(r.body);
      const want: [string, number][] = [
        ['iplog_info{version="9.9.9",profile="compat",mode="live"}', 1],
        ['iplog_start_time_seconds', 1_799_999_000],
        ['iplog_interface_up{interface="eth0"}', 1],
        ['iplog_interface_up{interface="eth1"}', 0],
        ['iplog_interface_received_packets_total{interface="eth0"}', 1000],
        ['iplog_interface_packets_total{interface="eth0"}', 990],
        ['iplog_interface_bytes_total{interface="eth0"}', 123456],
        ['iplog_interface_kernel_drops_total{interface="eth0"}', 10],
        ['iplog_interface_drops_total{interface="eth0"}', 2],
        ['iplog_packets_total', 995],
        ['iplog_ipv4_packets_total', 990],
        ['iplog_lines_total', 40],
        ['iplog_restart_dropped_packets_total', 1],
        ['iplog_decode_anomalies_total{anomaly="ipv4.bad_checksum"}', 3],
        ['iplog_decode_anomalies_total{anomaly="link.truncated"}', 0],
        ['iplog_events_total{kind="scan.detected"}', 2],
        ['iplog_detections_total{detector="syn-scan"}', 1],
        ['iplog_table_entries{table="scan"}', 12],
        ['iplog_table_capacity{table="scan"}', 512],
        ['iplog_table_evictions_total{table="scan"}', 7],
        ['iplog_bans_active', 1],
        ['iplog_bans_total', 2],
        ['iplog_unbans_total', 1],
        ['iplog_ban_refusals_total{reason="allow"}', 4],
        ['iplog_ban_refusals_total{reason="budget"}', 1],
        ['iplog_ban_refusals_total{reason="table_full"}', 0],
        ['iplog_ban_manager_total{counter="score_evictions"}', 3],
        ['iplog_ban_commands_total', 9],
        ['iplog_ban_command_failures_total', 2],
        ['iplog_dns_queries_total', 20],
        ['iplog_dns_timeouts_total', 3],
        ['iplog_dns_cache_hits_total', 50],
        ['iplog_syslog_sent_total{target="unix:/dev/log"}', 40],
        ['iplog_syslog_dropped_total{target="unix:/dev/log"}', 6],
        ['iplog_syslog_queue_length{target="unix:/dev/log"}', 2],
      ];
      for (const [k, v] of want) assert.equal(s.get(k), v, k);
      assert.ok(!s.has('iplog_table_capacity{table="frag"}'), 'no capacity for an unbounded-by-config table');
      assert.match(r.body, /^# TYPE iplog_packets_total counter$/m);
      assert.match(r.body, /^# TYPE iplog_table_entries gauge$/m);
      assert.ok([...s.keys()].some((k) => k.startsWith('process_cpu_user_seconds_total')), 'process metrics');
      assert.equal((await get(srv.address.port, '/')).status, 404);
      assert.equal((await get(srv.address.port, '/metrics', 'POST')).status, 405);
    } finally {
      await srv.close();
    }
  });

  test('bans, DNS and syslog metrics exist only when those parts are on', async () => {
    const reg = buildRegistry(() => ({ ...snapshot(), bans: null, dns: null, syslog: null }), { version: '1', profile: 'compat', mode: 'live' }, 0);
    const text = await reg.metrics();
    assert.doesNotMatch(text, /iplog_ban|iplog_dns|iplog_syslog/);
    assert.match(text, /iplog_packets_total 995/);
  });

  test('an address in use is a clear error, not a crash', async () => {
    const reg = buildRegistry(snapshot, { version: '1', profile: 'compat', mode: 'live' }, 0);
    const a = await serveMetrics({ host: '127.0.0.1', port: 0 }, reg);
    try {
      await assert.rejects(serveMetrics({ host: '127.0.0.1', port: a.address.port }, reg), /EADDRINUSE/);
    } finally {
      await a.close();
    }
  });

  test('events by kind and detections by detector', () => {
    const c = new EventCounts();
    c.onEvent(event('scan.detected', 1, IpAddr.v4(1), { dst: IpAddr.v4(2), detector: 'syn-scan' }));
    c.onEvent(event('scan.detected', 1, IpAddr.v4(1), { dst: IpAddr.v4(2), detector: 'syn-scan' }));
    c.onEvent(event('tcp.bogus_flags', 1, IpAddr.v4(1), { dst: IpAddr.v4(2) }));
    c.onEvent(event('frag.overlap', 1, IpAddr.v4(1), { dst: IpAddr.v4(2) }));
    c.onEvent(event('tcp.connection_attempt', 1, IpAddr.v4(1), { dst: IpAddr.v4(2) }));
    assert.deepEqual(Object.fromEntries(c.kinds), { 'scan.detected': 2, 'tcp.bogus_flags': 1, 'frag.overlap': 1, 'tcp.connection_attempt': 1 });
    assert.deepEqual(Object.fromEntries(c.detectors), { 'syn-scan': 2, 'bogus-flags': 1, 'frag-overlap': 1 });
  });
});

describe('iplog status without a daemon', () => {
  const fakeLocks = (owner: number) => ({ lockFile: () => true, lockOwner: () => owner });

  test('the status file sits next to the pid file', () => {
    assert.equal(statusPathFor('/run/iplog/iplog.pid'), '/run/iplog/iplog.status.json');
    assert.equal(statusPathFor('/var/run/iplog.lock'), '/var/run/iplog.lock.status.json');
  });

  test('no pid file: not running (3); an unlocked one: stale (1); a locked one without status: running (0)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-status-'));
    try {
      const pid = join(dir, 'iplog.pid');
      const none = readStatus(pid, fakeLocks(0));
      assert.equal(none.state, 'stopped');
      assert.equal(STATUS_EXIT[none.state], 3);
      assert.match(renderStatus(none), /iplog is not running \(no pid file/);
      writeFileSync(pid, '4242\n');
      const stale = readStatus(pid, fakeLocks(0));
      assert.equal(stale.state, 'stale');
      assert.equal(stale.pid, 4242);
      assert.equal(STATUS_EXIT[stale.state], 1);
      const running = readStatus(pid, fakeLocks(4242));
      assert.equal(running.state, 'running');
      assert.equal(running.status, null);
      assert.match(renderStatus(running), /iplog is running \(pid 4242\)\n.*no status from the daemon/);
      // a status file of another process is not shown as this one's
      writeFileSync(statusPathFor(pid), JSON.stringify({ schema: 1, pid: 1, updated: 0 }));
      assert.equal(readStatus(pid, fakeLocks(4242)).status, null);
      closeSync(openSync(pid, 'r'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

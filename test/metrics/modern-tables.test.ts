/**
 * The modern profile's tables in the counters (issue 9 item 5): per-table entries, capacity,
 * evictions and evictions of entries holding evidence, in the sensor snapshot, the
 * Prometheus text (`iplog_table_*{table="modern_contacts"|"modern_sources"}`), the status
 * text and the anomaly counters that the replay summary and SIGUSR1 statistics print.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Harness, makeSettings } from '../helpers/engine';
import { ipv4, tcp, udp, SYN } from '../helpers/packets';
import { SensorMetrics } from '../../src/metrics/sensor';
import { buildRegistry } from '../../src/metrics/prometheus';
import { renderStatus } from '../../src/metrics/status';
import { writePcap } from '../helpers/pcap-writer';
import { ether } from '../helpers/packets';

const V = '198.51.100.1';

/**
 * `count` packets to V, 0.1 ms apart, from 512 spoofed sources of 192.0.2.0/24 and
 * 203.0.113.0/24 (each back after 511 others): SYNs (`proto` 6) or datagrams (17); or SYNs
 * from 4 sources of 198.18.0.0/24 that each stay (`few`)
 */
function flood(h: Harness, count: number, t0: number, proto: 6 | 17, few = false): void {
  for (let i = 0; i < count; i++) {
    const src = few ? `198.18.0.${i & 3}` : `${i & 256 ? '203.0.113' : '192.0.2'}.${i & 255}`;
    h.feed(t0 + i * 0.0001, ipv4({ src, dst: V, proto, ttl: 64 }, proto === 6 ? tcp(1024 + (i % 50000), 1 + (i % 60000), SYN) : udp(1024 + (i % 50000), 1 + (i % 60000))));
  }
}

test('modern tables: evictions (and evictions of entries holding evidence) reach the snapshot, Prometheus and the status text', async () => {
  // SYN-flood detection off: with it, the flood's destination enters mode and the flood sieve
  // (test/detect/modern.test.ts) keeps the SYNs from the tables this test fills
  const h = new Harness({ syn_flood: false }, { profile: 'modern', hashSeed: 1, replayFile: 'synthetic', stateMemory: 1 << 20 });
  const e = h.engine;
  const m = e.modern!;
  // the spoofed sources' first SYNs wait in the SYN tier; each is back after 511 others, more
  // than the tier holds at 1M, so none becomes a contact and the tier evicts and counts
  flood(h, 40_000, 1000, 6);
  assert.equal(m.contacts.size, 0);
  assert.ok(m.counters().tierEvictions > 20_000, JSON.stringify(m.counters()));
  // four sources that stay: their SYNs are contacts (pending ones hold evidence), and the contact table evicts
  flood(h, 40_000, 1100, 6, true);
  // spoofed datagrams: each source's one resolved contact waits in the admission table, which evicts
  flood(h, 40_000, 1200, 17);
  await h.finish();
  const an = e.an;
  const c = m.counters();
  // the anomaly counters and the tables' own counters agree
  assert.ok(c.contactEvictions > 20_000, JSON.stringify(c));
  assert.equal(an.get('modern.contact_evicted'), c.contactEvictions);
  assert.equal(an.get('modern.contact_evicted_evidence'), c.contactEvidenceEvictions);
  assert.equal(an.get('modern.source_evicted'), c.sourceEvictions);
  assert.equal(an.get('modern.source_evicted_evidence'), c.sourceEvidenceEvictions);
  assert.ok(c.contactEvidenceEvictions > 0 && c.contactEvidenceEvictions <= c.contactEvictions, JSON.stringify(c));
  // the datagram flood's 512 sources each come back after 511 others: more than the admission
  // table holds at 1M, so none gets a source record; the admission table evicts and counts
  assert.equal(an.get('modern.admission_evicted'), c.admissionEvictions);
  assert.ok(c.admissionEvictions > 20_000, JSON.stringify(c));
  assert.equal(an.get('modern.syn_tier_evicted'), c.tierEvictions);

  const noLog = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined } as never;
  const sm = new SensorMetrics(makeSettings({}, { profile: 'modern' }), noLog, {
    engine: () => e,
    capture: () => null,
    totals: { packets: 0, ipv4: 0, lines: 0, droppedInRestart: 0 },
    anomalies: an,
    renderer: () => null,
    text: () => null,
    bans: () => null,
  });
  const snap = sm.snapshot();
  const contacts = snap.tables.find((t) => t.name === 'modern_contacts');
  const sources = snap.tables.find((t) => t.name === 'modern_sources');
  assert.deepEqual(contacts, { name: 'modern_contacts', entries: m.contacts.size, capacity: m.contacts.capacity, evictions: c.contactEvictions, evidenceEvictions: c.contactEvidenceEvictions });
  assert.deepEqual(sources, { name: 'modern_sources', entries: m.sources.size, capacity: m.sources.capacity, evictions: c.sourceEvictions, evidenceEvictions: c.sourceEvidenceEvictions });
  assert.deepEqual(snap.tables.find((t) => t.name === 'modern_admission'), { name: 'modern_admission', entries: m.admit.size, capacity: m.admit.capacity, evictions: c.admissionEvictions });
  assert.deepEqual(snap.tables.find((t) => t.name === 'modern_syn_tier'), { name: 'modern_syn_tier', entries: m.tier.size, capacity: m.tier.capacity, evictions: c.tierEvictions });

  const reg = buildRegistry(() => snap, { version: 'test', profile: 'modern', mode: 'live' }, 0);
  const text = await reg.metrics();
  const line = (n: string): number => Number(new RegExp(`^${n.replace(/[{}"]/g, (x) => `\\${x}`)} (\\S+)$`, 'm').exec(text)?.[1]);
  assert.equal(line('iplog_table_evictions_total{table="modern_contacts"}'), c.contactEvictions);
  assert.equal(line('iplog_table_evidence_evictions_total{table="modern_contacts"}'), c.contactEvidenceEvictions);
  assert.equal(line('iplog_table_evictions_total{table="modern_sources"}'), c.sourceEvictions);
  assert.equal(line('iplog_table_evidence_evictions_total{table="modern_sources"}'), c.sourceEvidenceEvictions);
  assert.equal(line('iplog_table_capacity{table="modern_contacts"}'), m.contacts.capacity);
  assert.equal(line('iplog_table_evictions_total{table="modern_admission"}'), c.admissionEvictions);
  assert.equal(line('iplog_table_evictions_total{table="modern_syn_tier"}'), c.tierEvictions);
  assert.equal(line('iplog_decode_anomalies_total{anomaly="modern.source_evicted"}'), c.sourceEvictions);
  // compat tables have no evidence count
  assert.doesNotMatch(text, /iplog_table_evidence_evictions_total\{table="scan"\}/);
  const status = renderStatus({
    state: 'running',
    pidFile: '/run/iplog.pid',
    statusFile: '/run/iplog.status.json',
    pid: 1,
    age: 0,
    problem: null,
    status: { schema: 1, pid: 1, version: 'test', profile: 'modern', mode: 'foreground', started: snap.time, updated: snap.time, pidFile: '/run/iplog.pid', interfaces: [], metrics: null, counters: snap },
  }, snap.time);
  assert.match(status, new RegExp(`modern_contacts ${m.contacts.size}/${m.contacts.capacity} \\(${c.contactEvictions} evicted, ${c.contactEvidenceEvictions} holding evidence\\)`));
  assert.match(status, new RegExp(`modern_sources ${m.sources.size}/${m.sources.capacity} \\(${c.sourceEvictions} evicted, ${c.sourceEvidenceEvictions} holding evidence\\)`));
});

test('modern tables: a replay\'s summary prints the eviction counters (small --state-memory, spoofed flood)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iplog-modern-tables-'));
  try {
    const frames: { ts: number; data: Uint8Array }[] = [];
    // spoofed sources (each back after 511 others), then four that stay (their SYNs are contacts)
    for (let i = 0; i < 40_000; i++) {
      const src = i < 20_000 ? `${i & 256 ? '203.0.113' : '192.0.2'}.${i & 255}` : `198.18.0.${i & 3}`;
      frames.push({ ts: 1000 + i * 0.0001, data: ether(ipv4({ src, dst: V, proto: 6, ttl: 64 }, tcp(1024 + (i % 50000), 1 + (i % 60000), SYN))) });
    }
    const file = join(dir, 'flood.pcap');
    writeFileSync(file, writePcap(frames));
    const r = spawnSync(process.execPath, [join(__dirname, '..', '..', '..', 'bin', 'iplog'), '--config', '/dev/null', '--profile', 'modern', '--state-memory', '1M', '-m', '-N', '-r', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const summary = r.stderr.split('\n').find((l) => l.startsWith('iplog: anomalies:'));
    assert.ok(summary !== undefined, r.stderr);
    assert.match(summary, /modern\.contact_evicted \d+/);
    assert.match(summary, /modern\.contact_evicted_evidence \d+/);
    // one-SYN sources wait in the SYN tier, not given contacts or source records: the tier evicts
    assert.match(summary, /modern\.syn_tier_evicted \d+/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

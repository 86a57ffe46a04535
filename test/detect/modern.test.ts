/**
 * The modern profile's detection on synthetic packets (src/detect/modern/): roles, TRW on
 * outcomes, flag judgement, ACK/Maimon scans, traceroute by TTL pattern, bounded tables.
 * Addresses: 198.51.100.0/24 is protected (the victim .1), scanners 203.0.113.0/24.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness } from '../helpers/engine';
import { PENDING_QUOTA } from '../../src/detect/modern/define';
import { seg, session } from '../helpers/flows';
import { ipv4, udp, icmp, SYN, ACK, RST, FIN, PSH, URG, ECE, CWR, DF } from '../helpers/packets';

const V = '198.51.100.1';
const S = '203.0.113.9';

function modern(extra: Record<string, unknown> = {}): Harness {
  return new Harness({}, { profile: 'modern', hashSeed: 1, replayFile: 'synthetic', ...extra });
}



const detections = (lines: string[]): string[] => lines.filter((l) => / detected|Bogus|traceroute from/.test(l));

test('a busy client of an open port is never a scanner: 30 connections 0.3 s apart (issue 9)', async () => {
  const h = modern();
  for (let i = 0; i < 30; i++) session(h, 1000 + i * 0.3, S, 40000 + i, V, 443, 7000 + i * 1000);
  const lines = await h.finish();
  assert.deepEqual(detections(lines), []);
  assert.equal(lines.filter((l) => l.startsWith('TCP: https connection attempt')).length, 30);
});

test('a SYN scan is detected after four failed first contacts; the victim\'s RSTs and SYN-ACKs are never a subject', async () => {
  const h = modern();
  for (let i = 0; i < 12; i++) {
    const port = 20 + i;
    h.feed(1000 + i * 0.01, seg(S, V, 55555, port, SYN, 1, 0, { ttl: 40 }));
    if (port === 22) {
      h.feed(1000 + i * 0.01 + 0.001, seg(V, S, port, 55555, SYN | ACK, 9000, 2));
      h.feed(1000 + i * 0.01 + 0.002, seg(S, V, 55555, port, RST, 2, 0, { ttl: 40 }));
    } else h.feed(1000 + i * 0.01 + 0.001, seg(V, S, port, 55555, RST | ACK, 0, 2));
  }
  const lines = await h.finish();
  const det = detections(lines);
  assert.equal(det.length, 1, lines.join('\n'));
  assert.match(det[0]!, /^TCP: SYN scan detected \[ports 20,21,22,23,24,25,26,27,28,29,\.\.\.\] from 203\.0\.113\.9 \[port 55555\]$/);
  assert.ok(!lines.some((l) => l.includes(`from ${V}`)), 'the victim is named as a source');
  assert.ok(lines.some((l) => /^TCP: SYN scan mode expired for 203\.0\.113\.9 - received a total of 12 packets/.test(l)));
});

test('TRW: three failures are not a scan, four are (alpha 0.01, beta 0.99)', async () => {
  for (const [n, want] of [
    [3, 0],
    [4, 1],
  ] as const) {
    const h = modern();
    for (let i = 0; i < n; i++) h.feed(1000 + i, seg(S, V, 40000, 1000 + i, SYN));
    const det = detections(await h.finish());
    assert.equal(det.length, want, `${n} silent contacts: ${det.join('|')}`);
  }
});

test('successes pull the walk down: a client that reaches 4 services then fails 4 times is not (yet) a scanner', async () => {
  const h = modern();
  for (let i = 0; i < 4; i++) session(h, 1000 + i, S, 41000 + i, V, 80 + i, 100000 * (i + 1));
  for (let i = 0; i < 4; i++) h.feed(1010 + i, seg(S, V, 42000, 5000 + i, SYN));
  assert.deepEqual(detections(await h.finish()), []);
});

test('a slow scan (one probe a minute, nmap -T0 territory) is still caught: TRW has no window', async () => {
  const h = modern();
  for (let i = 0; i < 5; i++) h.feed(1000 + i * 60, seg(S, V, 40000, 100 + i, SYN));
  const det = detections(await h.finish());
  assert.equal(det.length, 1, det.join('|'));
  assert.match(det[0]!, /^TCP: SYN scan detected \[ports 100,101,102,103\] from 203\.0\.113\.9/);
});

test('the compat blinding attack (issue 9: four spoofed SYNs per probe from the attacker\'s own /8 hide a 25-port scan) does not hide the scan in modern', async () => {
  const blind = (h: Harness, spoofed = 4): void => {
    let t = 1000;
    for (let i = 0; i < 25; i++) {
      for (let k = 0; k < spoofed; k++) h.feed((t += 0.001), seg(`203.${(i * 4 + k) % 250}.${k}.7`, V, 1000 + k, 2000 + i, SYN));
      h.feed((t += 0.001), seg(S, V, 40000, 2000 + i, SYN));
    }
  };
  // the attack is real: compat's bucket (first octets of source and destination, 4 pairs)
  // is churned by the four spoofed pairs before each probe, so the scan leaves no line
  const alone = new Harness({ syn_scan: true }, { profile: 'compat', replayFile: 'synthetic' });
  blind(alone, 0);
  assert.ok(detections(await alone.finish()).some((l) => l.startsWith('TCP: SYN scan detected') && l.includes(S)), 'compat detects the scan without the spoofed SYNs');
  const c = new Harness({ syn_scan: true }, { profile: 'compat', replayFile: 'synthetic' });
  blind(c);
  const cdet = detections(await c.finish());
  assert.ok(!cdet.some((l) => l.includes(S)), cdet.join('\n'));
  assert.ok(c.engine.an.get('scan.evicted') >= 25 * 4, String(c.engine.an.get('scan.evicted')));
  const h = modern();
  blind(h);
  const det = detections(await h.finish());
  assert.ok(det.some((l) => l.startsWith('TCP: SYN scan detected') && l.includes(`from ${S} `)), det.join('\n'));
  // ... and the 100 spoofed sources, one contact each, are not scanners: together they are a
  // distributed scan of the victim (an aggregate line, no source named, never a ban)
  assert.deepEqual(
    det.filter((l) => / detected/.test(l) && !l.includes(`from ${S} `)),
    [`TCP: distributed scan detected to ${V} [ports 2000,2001,2002,2003,2004,2005,2006,2007,2008,2009,...] from many sources`],
  );
});

test('flags: ECN setup (SYN with ECE+CWR) is never bogus; SYN+FIN, SYN+RST, reserved bits and a lone ECE on a SYN are', async () => {
  const ecn = modern();
  for (let i = 0; i < 5; i++) session(ecn, 1000 + i, S, 40000 + i, V, 22);
  ecn.feed(1010, seg(S, V, 40100, 22, SYN | ECE | CWR, 1, 0, { frag: DF }));
  ecn.feed(1010.001, seg(V, S, 22, 40100, SYN | ACK | ECE, 77, 2));
  ecn.feed(1010.002, seg(S, V, 40100, 22, ACK, 2, 78));
  assert.deepEqual(detections(await ecn.finish()), []);
  const cases: [number, number, string][] = [
    [SYN | FIN, 0, 'syn+fin'],
    [SYN | RST, 0, 'syn+rst'],
    [SYN, 0x4, 'reserved-bits'],
    [SYN | ECE, 0, 'ecn-misuse'],
  ];
  for (const [flags, res, reason] of cases) {
    const h = modern({ jsonFile: undefined });
    h.feed(1000, seg(S, V, 40000, 80, flags, 1, 0, { res }));
    const det = detections(await h.finish());
    assert.deepEqual(det, ['TCP: Bogus TCP flags set by 203.0.113.9:40000 (dest port 80)'], reason);
  }
});

test('NULL, FIN and Xmas probes are evidence on their own; the line waits 2 s for its port list', async () => {
  for (const [flags, title] of [
    [0, 'null scan'],
    [FIN, 'FIN scan'],
    [FIN | PSH | URG, 'Xmas scan'],
  ] as const) {
    const h = modern();
    h.feed(1000, seg(S, V, 40000, 80, flags));
    h.feed(1000.5, seg(V, S, 80, 40000, RST | ACK));
    h.feed(1001, seg(S, V, 40000, 81, flags));
    h.feed(1005, seg(S, V, 40000, 82, flags));
    const det = detections(await h.finish());
    assert.deepEqual(det, [`TCP: ${title} detected [ports 80,81] from 203.0.113.9 [port 40000]`]);
  }
});

test('ACK and Maimon scans: five distinct ports answered by RST or silence; fewer, or answered otherwise, are not', async () => {
  for (const [flags, title] of [
    [ACK, 'ACK scan'],
    [FIN | ACK, 'Maimon scan'],
  ] as const) {
    const h = modern();
    for (let i = 0; i < 5; i++) {
      h.feed(1000 + i * 0.1, seg(S, V, 40000, 20 + i, flags, 0, 0));
      if (i % 2 === 0) h.feed(1000 + i * 0.1 + 0.01, seg(V, S, 20 + i, 40000, RST, 0, 0));
    }
    const det = detections(await h.finish());
    // ports in the order their outcome was known: RSTs at once, silence after the grace time
    assert.deepEqual(det, [`TCP: ${title} detected [ports 20,22,24,21,23] from 203.0.113.9 [port 40000]`]);
    const few = modern();
    for (let i = 0; i < 4; i++) few.feed(1000 + i * 0.1, seg(S, V, 40000, 20 + i, flags, 0, 0));
    assert.deepEqual(detections(await few.finish()), []);
  }
  // late ACKs of unseen sessions: one service port, many client ports — never a scan
  const late = modern();
  for (let i = 0; i < 20; i++) late.feed(1000 + i, seg(S, V, 50000 + i, 443, ACK, 0, 0));
  assert.deepEqual(detections(await late.finish()), []);
});

test('UDP scan by ICMP port-unreachable evidence; the victim\'s unreachables are never a subject', async () => {
  const h = modern();
  for (let i = 0; i < 6; i++) {
    const d = ipv4({ src: S, dst: V, proto: 17 }, udp(40000, 100 + i));
    h.feed(1000 + i * 0.1, d);
    h.feed(1000 + i * 0.1 + 0.01, ipv4({ src: V, dst: S, proto: 1 }, icmp(3, 3, Buffer.concat([Buffer.alloc(4), d.subarray(0, 28)]))));
  }
  const lines = await h.finish();
  const det = detections(lines);
  // UDP contacts resolve after the grace time (a traceroute's probes are told apart by then)
  assert.deepEqual(det, ['UDP: scan/flood detected [ports 100,101,102,103,104,105] from 203.0.113.9 [port 40000]']);
  assert.ok(!lines.some((l) => l.includes('unreachable')), 'evidence is not logged as a subject');
});

test('echo replies matched to requests are evidence; unsolicited echo replies feed only the smurf detector', async () => {
  const h = modern();
  for (let i = 0; i < 5; i++) {
    h.feed(1000 + i, ipv4({ src: S, dst: V, proto: 1 }, icmp(8, 0, Buffer.from([0, 1, 0, i, 0, 0, 0, 0]))));
    h.feed(1000 + i + 0.001, ipv4({ src: V, dst: S, proto: 1 }, icmp(0, 0, Buffer.from([0, 1, 0, i, 0, 0, 0, 0]))));
  }
  for (let i = 0; i < 60; i++) h.feed(1100 + i * 0.1, ipv4({ src: `192.0.2.${1 + (i % 50)}`, dst: V, proto: 1 }, icmp(0, 0, 8)));
  const lines = await h.finish();
  assert.ok(!lines.some((l) => l.includes(`from ${V}`)), lines.join('\n'));
  assert.deepEqual(detections(lines), ['ICMP/UDP: smurf attack detected from 192.0.2.0']);
});

test('traceroute by its TTL pattern (UDP, ICMP, TCP); one TTL-1 datagram alone (eBGP) is not one', async () => {
  const h = modern();
  for (let ttl = 1; ttl <= 4; ttl++) h.feed(1000 + ttl * 0.01, ipv4({ src: S, dst: V, proto: 17, ttl }, udp(40000 + ttl, 33433 + ttl)));
  for (let ttl = 1; ttl <= 4; ttl++) h.feed(1000 + ttl * 0.01, ipv4({ src: '203.0.113.10', dst: V, proto: 1, ttl }, icmp(8, 0, Buffer.from([0, 9, 0, ttl]))));
  for (let ttl = 1; ttl <= 4; ttl++) h.feed(1000 + ttl * 0.01, seg('203.0.113.11', V, 40000, 80, SYN, 1, 0, { ttl }));
  h.feed(1000, ipv4({ src: '203.0.113.12', dst: V, proto: 17, ttl: 1 }, udp(179, 179)));
  const det = detections(await h.finish());
  assert.deepEqual(det.sort(), ['ICMP: traceroute from 203.0.113.10', 'TCP: traceroute from 203.0.113.11', 'UDP: traceroute from 203.0.113.9']);
});

test('--home: a protected host\'s outbound connections are not judged; a remote\'s scan of it is', async () => {
  const h = modern({ home: ['198.51.100.0/24'] });
  // the protected host connects out to closed ports of a remote: not a subject
  for (let i = 0; i < 6; i++) {
    h.feed(1000 + i, seg(V, S, 40000, 100 + i, SYN));
    h.feed(1000 + i + 0.01, seg(S, V, 100 + i, 40000, RST | ACK));
  }
  for (let i = 0; i < 6; i++) h.feed(1100 + i, seg(S, V, 41000, 200 + i, SYN));
  const det = detections(await h.finish());
  assert.equal(det.length, 1, det.join('|'));
  assert.match(det[0]!, /from 203\.0\.113\.9 \[port 41000\]$/);
});

/** 100,000 one-off spoofed SYNs to V's port 80, 0.1 ms apart, and among them S's SYN scan, one new port every 500 of them */
function floodWithScanner(h: Harness): void {
  let t = 1000;
  for (let i = 0; i < 100_000; i++) {
    if (i % 500 === 0) h.feed(t, seg(S, V, 40000, 3000 + i / 500, SYN));
    h.feed((t += 0.0001), seg(`192.0.${(i >>> 8) & 255}.${i & 255}`, V, 1024 + (i & 1023), 80, SYN));
  }
}

test('bounded tables: 100,000 spoofed SYNs through small tables evict and count, and a real scanner among them is detected', async () => {
  // with SYN-flood detection off, the SYN tier takes the flood: so it is what this tests
  const h = new Harness({ syn_flood: false }, { profile: 'modern', hashSeed: 1, replayFile: 'synthetic', stateMemory: 4 * 1024 * 1024 });
  const m = h.engine.modern!;
  floodWithScanner(h);
  const lines = await h.finish();
  const c = m.counters();
  // each spoofed source sends one SYN: it waits in the SYN tier, never becomes a contact, is
  // never given a source record, and the tier evicts and counts (the source table holds the scanner)
  assert.ok(c.tierEvictions > 50_000, JSON.stringify(c));
  assert.equal(h.engine.an.get('modern.syn_tier_evicted'), c.tierEvictions);
  assert.ok(m.contacts.size < 1000, `the flood made ${m.contacts.size} contacts`);
  assert.ok(m.contacts.size <= m.contacts.capacity && m.sources.size <= m.sources.capacity && m.admit.size <= m.admit.capacity && m.tier.size <= m.tier.capacity);
  assert.ok(detections(lines).some((l) => l.startsWith(`TCP: SYN scan detected`) && l.includes(`from ${S} `)), detections(lines).join('\n'));
  assert.equal(h.engine.an.get('modern.flood_shed'), 0, 'no destination was in SYN-flood mode');
});

test('the flood sieve: SYNs to a destination in SYN-flood mode from sources seen once are counted on the flood only; a scanner among them is tracked and detected', async () => {
  const h = modern({ stateMemory: 4 * 1024 * 1024 });
  const m = h.engine.modern!;
  floodWithScanner(h);
  const lines = await h.finish();
  const c = m.counters();
  const shed = h.engine.an.get('modern.flood_shed');
  // SYN-flood mode begins at the 1,000th SYN: almost all the rest are shed, and the tier hardly works
  assert.ok(shed > 98_000, `shed ${shed}`);
  assert.ok(c.tierEvictions < 1000, JSON.stringify(c));
  // the contacts are the scanner's (200 SYNs), not the flood's
  assert.ok(m.contacts.size <= 200, `the flood made ${m.contacts.size} contacts`);
  const det = detections(lines);
  assert.ok(det.some((l) => /^TCP: SYN flood detected to 198\.51\.100\.1 \[ports 80[,\d]*\] from many sources$/.test(l)), det.join('\n'));
  // S comes back every 500 SYNs, within the sieve's span (2,048 at this budget): from its third SYN on it is tracked
  assert.ok(det.some((l) => l.startsWith(`TCP: SYN scan detected`) && l.includes(`from ${S} `)), det.join('\n'));
  // the flood's sources, each seen once, are never a subject
  assert.deepEqual(det.filter((l) => l.includes('from 192.0.')), []);
  // and the sieve is first in, first out: a scanner that comes back only after more other
  // sources than its span is not tracked while the flood lasts (the documented limit); the
  // same scanner without the flood is (the test can fail)
  const slow = async (flood: boolean): Promise<string[]> => {
    const g = modern({ stateMemory: 4 * 1024 * 1024 });
    let u = 1000;
    for (let i = 0; i < 100_000; i++) {
      if (i % 5000 === 0) g.feed(u, seg(S, V, 40000, 3000 + i / 5000, SYN));
      if (flood) g.feed(u, seg(`192.0.${(i >>> 8) & 255}.${i & 255}`, V, 1024 + (i & 1023), 80, SYN));
      u += 0.0001;
    }
    return detections(await g.finish()).filter((l) => l.includes(`from ${S} `));
  };
  assert.deepEqual(await slow(true), []);
  assert.equal((await slow(false)).length, 1);
});

test('a flood of one-off spoofed SYNs does not cut a known client\'s grace time short: its slow connections still succeed', async () => {
  // with SYN-flood detection off the tier takes the flood; on, the flood sieve does (the client, known, is not sieved)
  for (const syn_flood of [false, true]) {
    const h = new Harness({ syn_flood }, { profile: 'modern', hashSeed: 1, replayFile: 'synthetic', stateMemory: 4 * 1024 * 1024 });
    const m = h.engine.modern!;
    const C = '203.0.113.50';
    // C is known: three completed connections give it a source record, so its SYNs are contacts at once
    for (let i = 0; i < 3; i++) session(h, 990 + i, C, 50000 + i, V, 443, 10000 + i * 1000);
    // then eight connections to eight services of a slow server (SYN-ACK 1.5 s after the SYN) while 80,000 one-off
    // spoofed SYNs arrive within two seconds: every SYN-ACK comes within the 3-s grace time
    const ev: [number, Buffer][] = [];
    for (let i = 0; i < 8; i++) {
      const t = 1000 + i * 0.1;
      ev.push([t, seg(C, V, 51000 + i, 8000 + i, SYN, 100, 0)]);
      ev.push([t + 1.5, seg(V, C, 8000 + i, 51000 + i, SYN | ACK, 90000 + i * 1000, 101)]);
      ev.push([t + 1.501, seg(C, V, 51000 + i, 8000 + i, ACK, 101, 90001 + i * 1000)]);
    }
    for (let i = 0; i < 80_000; i++) ev.push([1000 + i / 40_000, seg(`198.18.${(i >>> 8) & 255}.${i & 255}`, V, 1024 + (i & 1023), 80, SYN)]);
    ev.sort((a, b) => a[0] - b[0]);
    for (const [t, b] of ev) h.feed(t, b);
    const lines = await h.finish();
    if (syn_flood) assert.ok(h.engine.an.get('modern.flood_shed') > 70_000, JSON.stringify(m.counters()));
    else assert.ok(m.counters().tierEvictions > 70_000, JSON.stringify(m.counters()));
    // the flood's first SYNs keep their timers in the tier: the grace ring holds contacts only, and does not overflow
    assert.equal(m.counters().graceOverflows, 0);
    assert.equal(h.engine.an.get('modern.grace_overflow'), 0);
    assert.deepEqual(detections(lines).filter((l) => l.includes(C)), [], 'eight connections that completed are not a scan');
  }
  // and without the flood the same eight connections are, of course, not a scan either; with
  // their SYN-ACKs missing they are (the test can fail)
  const h2 = modern({ stateMemory: 4 * 1024 * 1024 });
  const C = '203.0.113.50';
  for (let i = 0; i < 3; i++) session(h2, 990 + i, C, 50000 + i, V, 443, 10000 + i * 1000);
  for (let i = 0; i < 8; i++) h2.feed(1000 + i * 0.1, seg(C, V, 51000 + i, 8000 + i, SYN, 100, 0));
  assert.equal(detections(await h2.finish()).filter((l) => l.includes(C)).length, 1);
});

test('a source in SYN-scan mode: its further SYNs to the host it scans are counted on its episode without contacts; the host\'s RSTs to them are answers, not backscatter (IPv4, IPv6)', async () => {
  for (const [src, dst] of [
    [S, V],
    ['2001:db8:7::9', '2001:db8::1'],
  ] as const) {
    const h = modern();
    const m = h.engine.modern!;
    // 900 ports, 5 ms apart (slower than a SYN flood), each refused within 0.5 ms
    for (let i = 0; i < 900; i++) {
      const t = 1000 + i * 0.005;
      h.feed(t, seg(src, dst, 55555, 1 + i, SYN, 1, 0, { ttl: 40 }));
      h.feed(t + 0.0005, seg(dst, src, 1 + i, 55555, RST | ACK, 0, 2));
    }
    const lines = await h.finish();
    const c = m.counters();
    const det = detections(lines);
    assert.equal(det.length, 1, lines.join('\n'));
    assert.ok(det[0]!.startsWith('TCP: SYN scan detected [ports 1,2,3,4,5,6,7,8,9,10,...] from ') && det[0]!.includes(src), det[0]);
    // the episode counts every SYN, whether it made a contact (before the line) or not
    assert.ok(lines.some((l) => l.startsWith(`TCP: SYN scan mode expired for ${src} - received a total of 900 packets`)), lines.join('\n'));
    // all but the SYNs before the line were taken in mode, each with its answer; none of the answers is backscatter
    assert.ok(c.inModeSyns > 850, JSON.stringify(c));
    assert.equal(c.inModeAnswers, c.inModeSyns);
    assert.equal(c.unsolicited, 0);
    assert.ok(m.contacts.size < 50, `${m.contacts.size} contacts`);
  }
});

/** S scans ports 1..n of V from second t on, 1 ms apart, each refused (RST) within 0.5 ms: in mode after a few; the time of its last SYN */
function refusedScan(h: Harness, n: number, t: number): number {
  for (let i = 0; i < n; i++) {
    h.feed((t += 0.001), seg(S, V, 55555, 1 + i, SYN, 1, 0, { ttl: 40 }));
    h.feed(t + 0.0005, seg(V, S, 1 + i, 55555, RST | ACK, 0, 2));
  }
  return t;
}

test('a source in SYN-scan mode: an open port\'s SYN-ACK makes the contact its SYN did not, so the rest of the handshake is judged as before (a connect scan is no ACK scan)', async () => {
  const h = modern();
  const m = h.engine.modern!;
  let t = refusedScan(h, 40, 1000);
  const before = m.counters().inModeAnswers;
  // then eight open ports, each connect()ed and closed by RST (nmap -sT): SYN, SYN-ACK, ACK, RST
  for (let j = 0; j < 8; j++) {
    const port = 8000 + j;
    const isn = 90000 + j * 1000;
    h.feed((t += 0.01), seg(S, V, 41000 + j, port, SYN, 100, 0, { ttl: 40 }));
    h.feed(t + 0.0005, seg(V, S, port, 41000 + j, SYN | ACK, isn, 101));
    h.feed(t + 0.001, seg(S, V, 41000 + j, port, ACK, 101, isn + 1, { ttl: 40 }));
    h.feed(t + 0.002, seg(S, V, 41000 + j, port, RST | ACK, 101, isn + 1, { ttl: 40 }));
  }
  const lines = await h.finish();
  const c = m.counters();
  // the eight SYNs came in mode, and their SYN-ACKs found no contact
  assert.equal(c.inModeAnswers - before, 8, JSON.stringify(c));
  // the ACKs completed the contacts the SYN-ACKs made: no ACK (or any other) scan besides the SYN scan
  assert.deepEqual(
    detections(lines).map((l) => l.replace(/ \[ports.*/, '')),
    ['TCP: SYN scan detected'],
  );
  // and the episode completed handshakes: it ended as a connect() scan
  assert.ok(lines.some((l) => l.startsWith(`TCP: port scan mode expired for ${S} - received a total of 48 packets`)), lines.join('\n'));
});

test('a source in SYN-scan mode: its SYNs to other hosts are still judged contact by contact (a port sweep is still found)', async () => {
  const h = modern({ home: ['198.51.100.0/24'] });
  const m = h.engine.modern!;
  let t = refusedScan(h, 40, 1000);
  const taken = m.counters().inModeSyns;
  assert.ok(taken > 20, `${taken}`);
  // port 22 of twenty other hosts, none of which answers
  for (let i = 2; i < 22; i++) h.feed((t += 0.01), seg(S, `198.51.100.${i}`, 55555, 22, SYN, 1, 0, { ttl: 40 }));
  const lines = await h.finish();
  assert.equal(m.counters().inModeSyns, taken);
  assert.ok(detections(lines).some((l) => /^TCP: port sweep detected to 198\.51\.100\.0\/\d+ \[port 22\] from 203\.0\.113\.9/.test(l)), lines.join('\n'));
});

test('a source with a record holds at most PENDING_QUOTA pending first contacts to the host it scans: its further SYNs are counted on its episode, and the decision is the same', async () => {
  const h = modern();
  const m = h.engine.modern!;
  // two completed connections (two first contacts) give S its record
  session(h, 990, S, 50000, V, 443, 10000);
  session(h, 991, S, 50001, V, 80, 20000);
  assert.equal(m.sources.size, 1);
  // then 500 ports in one second, none answered (a host that drops them)
  for (let i = 0; i < 500; i++) h.feed(1000 + i * 0.002, seg(S, V, 55555, 1000 + i, SYN, 1, 0, { ttl: 40 }));
  // all sent before the first grace time: 64 contacts pending, the rest counted without one
  assert.equal(m.counters().quotaSyns, 500 - PENDING_QUOTA);
  assert.ok(m.contacts.size <= PENDING_QUOTA + 2, `${m.contacts.size} contacts`);
  const lines = await h.finish();
  // the 64 resolve silent at their grace time (second 1003, 00:16:43): the line, with the first ten ports (a port
  // scan: its two connections completed handshakes); the episode counts all 500 SYNs, and the connections' two
  const stamped = h.stamped().filter((l) => l.includes(' detected'));
  assert.deepEqual(stamped, ['Jan  1 00:16:43 TCP: port scan detected [ports 1000,1001,1002,1003,1004,1005,1006,1007,1008,1009,...] from 203.0.113.9 [ports 50000,50001,55555]']);
  assert.ok(lines.some((l) => l.startsWith(`TCP: port scan mode expired for ${S} - received a total of 502 packets`)), lines.join('\n'));
  assert.equal(m.counters().graceOverflows, 0);
});

test('a source at its quota: an open port\'s SYN-ACK to a SYN counted without a contact makes the contact, so a client of a slow server with many open ports is no scanner', async () => {
  const h = modern();
  const m = h.engine.modern!;
  session(h, 990, S, 50000, V, 443, 10000);
  session(h, 991, S, 50001, V, 443, 20000);
  // 100 connections to 100 open ports of a server that answers 1.5 s later; each completes
  const ev: [number, Buffer][] = [];
  for (let i = 0; i < 100; i++) {
    const t = 1000 + i * 0.005;
    const isn = 100000 + i * 1000;
    ev.push([t, seg(S, V, 40000 + i, 2000 + i, SYN, 100, 0)]);
    ev.push([t + 1.5, seg(V, S, 2000 + i, 40000 + i, SYN | ACK, isn, 101)]);
    ev.push([t + 1.501, seg(S, V, 40000 + i, 2000 + i, ACK, 101, isn + 1)]);
  }
  ev.sort((a, b) => a[0] - b[0]);
  for (const [t, b] of ev) h.feed(t, b);
  const lines = await h.finish();
  const c = m.counters();
  assert.equal(c.quotaSyns, 100 - PENDING_QUOTA, JSON.stringify(c));
  assert.equal(c.inModeAnswers, 100 - PENDING_QUOTA, JSON.stringify(c));
  assert.equal(c.unsolicited, 0);
  assert.deepEqual(detections(lines), []);
  // the quota counts pending contacts only: the same 100 connections answered at once never reach it
  const h2 = modern();
  session(h2, 990, S, 50000, V, 443, 10000);
  session(h2, 991, S, 50001, V, 80, 20000);
  for (let i = 0; i < 100; i++) session(h2, 1000 + i * 0.1, S, 40000 + i, V, 2000 + i, 100000 + i * 1000);
  assert.deepEqual(detections(await h2.finish()), []);
  assert.equal(h2.engine.modern!.counters().quotaSyns, 0);
});

test('a flood from a pool small enough to pass the flood sieve: each source gets its record as it passes, and its quota bounds its pending contacts', async () => {
  const h = modern();
  const m = h.engine.modern!;
  // 32 sources, 400 SYNs each to random ports of V, interleaved at 20,000 SYNs/s; V answers none
  let t = 1000;
  let x = 12345;
  for (let r = 0; r < 400; r++) {
    for (let i = 0; i < 32; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      h.feed((t += 0.00005), seg(`192.0.2.${100 + i}`, V, 1024 + i, 1 + ((x >>> 16) % 65535), SYN));
    }
  }
  assert.ok(m.contacts.size < 32 * (PENDING_QUOTA + 40), `${m.contacts.size} contacts`);
  const lines = await h.finish();
  const c = m.counters();
  assert.ok(c.quotaSyns > 32 * 250, JSON.stringify(c));
  assert.equal(c.graceOverflows, 0);
  const det = detections(lines);
  assert.ok(det.some((l) => /^TCP: SYN flood detected to 198\.51\.100\.1 /.test(l)), det.join('\n'));
  for (let i = 0; i < 32; i++) assert.ok(det.some((l) => l.startsWith('TCP: SYN scan detected') && l.includes(`from 192.0.2.${100 + i} `)), `192.0.2.${100 + i}: ${det.join('\n')}`);
});

test('a grace ring that overflows is counted: modern.grace_overflow, one per timer fired early', async () => {
  // SYN-flood detection off: on, the flood sieve would give the source its record at its third SYN, and its quota of pending first contacts would keep the ring from filling
  const h = new Harness({ syn_flood: false }, { profile: 'modern', hashSeed: 1, replayFile: 'synthetic', stateMemory: 1024 * 1024 });
  const m = h.engine.modern!;
  // one source without a record, SYNs to more distinct ports within a second than the contact table (and so the ring) holds
  const n = m.contacts.capacity * 2;
  for (let i = 0; i < n; i++) h.feed(1000 + i / n, seg(S, V, 40000, 1 + (i % 65535), SYN));
  await h.finish();
  const c = m.counters();
  assert.ok(c.graceOverflows > 0, JSON.stringify(c));
  assert.equal(h.engine.an.get('modern.grace_overflow'), c.graceOverflows);
});

test('admission: a first resolved contact makes no source record; the second makes it, with the first replayed into it', async () => {
  const h = modern();
  const m = h.engine.modern!;
  h.feed(1000, seg(S, V, 40000, 1000, SYN));
  h.feed(1005, seg('203.0.113.50', V, 40000, 80, SYN)); // the packet clock passes the first one's grace time
  assert.equal(m.sources.size, 0);
  // the first SYN waited in the SYN tier, resolved there, and stands for its admission entry
  // (made when the source comes back), beside the second source's waiting SYN
  assert.equal(m.admit.size, 0);
  assert.equal(m.tier.size, 2);
  assert.equal(m.contacts.size, 0);
  for (let i = 1; i < 4; i++) h.feed(1005 + i, seg(S, V, 40000, 1000 + i, SYN));
  h.feed(1020, seg('203.0.113.51', V, 40000, 80, SYN));
  assert.equal(m.sources.size, 1);
  const lines = await h.finish();
  // the same as with the record made at the first contact: four silent contacts, their ports in order, four packets
  assert.deepEqual(detections(lines), [`TCP: SYN scan detected [ports 1000,1001,1002,1003] from ${S} [port 40000]`]);
  assert.ok(lines.some((l) => l.startsWith(`TCP: SYN scan mode expired for ${S} - received a total of 4 packets`)), lines.join('\n'));
});

test('admission: a source whose first contact left the full admission table (the SYN tier, for a SYN) before its second starts again (counted)', async () => {
  const h = modern({ stateMemory: 1024 * 1024 });
  const m = h.engine.modern!;
  h.feed(1000, seg(S, V, 40000, 1000, SYN));
  // more one-contact sources than the admission table holds, each resolved (silent)
  const n = m.admit.capacity + 10;
  for (let i = 0; i < n; i++) h.feed(1001 + i * 0.0001, seg(`198.18.${(i >>> 8) & 255}.${i & 255}`, V, 40000, 80, SYN));
  for (let i = 1; i < 4; i++) h.feed(1010 + i, seg(S, V, 40000, 1000 + i, SYN));
  const lines = await h.finish();
  // the SYN tier holds as many entries as the admission table, and stands for it: it evicted S's
  assert.ok(m.counters().tierEvictions >= 10, JSON.stringify(m.counters()));
  assert.deepEqual(detections(lines).filter((l) => l.includes(S)), [], 'three remembered failures are not a scan');
});

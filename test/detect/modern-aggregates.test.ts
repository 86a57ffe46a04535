/**
 * The modern profile's aggregate and sweep detectors on synthetic packets written by code
 * (src/detect/modern/{syn-flood,distributed-scan,decoy-scan,udp-flood,port-sweep,ping-sweep}.ts),
 * each with benign counter-tests that must stay silent. Addresses: the protected hosts are
 * 198.51.100.0/24 (the victim .1), attackers and clients 203.0.113.0/24 and 192.0.2.0/24.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness } from '../helpers/engine';
import { seg, session } from '../helpers/flows';
import { ipv4, udp, icmp, SYN, ACK, RST } from '../helpers/packets';
import type { IplogEvent } from '../../src/output/event';

const V = '198.51.100.1';
const S = '203.0.113.9';

function modern(extra: Record<string, unknown> = {}): { h: Harness; events: IplogEvent[] } {
  const h = new Harness({}, { profile: 'modern', hashSeed: 1, replayFile: 'synthetic', ...extra });
  const events: IplogEvent[] = [];
  h.engine.out.subscribe((e) => events.push(e));
  return { h, events };
}


/** the i-th of 508 documentation addresses (192.0.2.1-254, 203.0.113.1-254) */
function spoofed(i: number): string {
  const j = i % 508;
  return j < 254 ? `192.0.2.${j + 1}` : `203.0.113.${j - 253}`;
}


/** an ICMP port unreachable from `from` quoting the UDP datagram src:sp -> from:dp */
function portUnreach(from: string, src: string, sp: number, dp: number): Buffer {
  const quoted = ipv4({ src, dst: from, proto: 17 }, udp(sp, dp, 4));
  return ipv4({ src: from, dst: src, proto: 1 }, icmp(3, 3, Buffer.concat([Buffer.alloc(4), quoted.subarray(0, 28)])));
}

const detections = (lines: string[]): string[] => lines.filter((l) => / detected|Bogus|traceroute from/.test(l));
const detected = (events: IplogEvent[]): IplogEvent[] => events.filter((e) => e.kind === 'scan.detected');

// ------------------------------------------------------------------ SYN flood

test('SYN flood from many spoofed sources: one aggregate line to D [port N] from many sources, src null, never a ban subject; per-packet lines stop', async () => {
  const { h, events } = modern();
  for (let i = 0; i < 3000; i++) h.feed(1000 + i / 1500, seg(spoofed(i), V, 1024 + (i % 50000), 80, SYN, i));
  const lines = await h.finish();
  assert.deepEqual(detections(lines), [`TCP: SYN flood detected to ${V} [port 80] from many sources`]);
  const ev = detected(events)[0]!;
  assert.equal(ev.src, null);
  assert.equal(ev.detector, 'syn-flood');
  assert.equal(ev.dst?.toString(), V);
  assert.equal(ev.detail?.source_role, 'aggregate');
  assert.equal(ev.detail?.sources, 64, 'sources are counted exactly up to 64');
  assert.equal(ev.detail?.completed, 0);
  // the 1000th SYN decides; the 2000 after it write no connection-attempt line
  assert.equal(lines.filter((l) => l.startsWith('TCP: http connection attempt')).length, 999);
  assert.ok(lines.includes(`TCP: SYN flood mode to ${V} expired for many sources - received a total of 3000 packets (60000 bytes).`), lines.slice(-3).join('\n'));
  assert.ok(!lines.some((l) => / from (192\.0\.2|203\.0\.113)\.\d+$/.test(l) && l.includes('SYN flood')));
});

test('SYN flood from one source: the per-source form names it', async () => {
  const { h, events } = modern();
  for (let i = 0; i < 1200; i++) h.feed(1000 + i / 1000, seg(S, V, 1024 + i, 443, SYN, i));
  const lines = await h.finish();
  assert.deepEqual(detections(lines), [`TCP: SYN flood detected [port 443] from ${S} [port 2023]`]);
  const ev = detected(events)[0]!;
  assert.equal(ev.src?.toString(), S);
  assert.equal(ev.detail?.source_role, 'attacker');
  assert.ok(lines.some((l) => l.startsWith(`TCP: SYN flood mode expired for ${S} - received a total of 1200 packets`)));
});

test('SYN flood to random ports (as Mirai sends it): one line for the destination, listing its ports', async () => {
  const { h, events } = modern();
  for (let i = 0; i < 3000; i++) h.feed(1000 + i / 1500, seg(spoofed(i), V, 1024 + (i % 50000), 1024 + ((i * 7919) % 60000), SYN, i));
  const lines = await h.finish();
  const flood = lines.filter((l) => l.includes('SYN flood'));
  assert.equal(flood.length, 2, flood.join('\n'));
  assert.match(flood[0]!, new RegExp(`^TCP: SYN flood detected to ${V.replace(/\./g, '\\.')} \\[ports (\\d+,){10}\\.\\.\\.\\] from many sources$`));
  assert.equal(flood[1], `TCP: SYN flood mode to ${V} expired for many sources - received a total of 3000 packets (60000 bytes).`);
  const ev = detected(events).find((e) => e.detector === 'syn-flood')!;
  assert.equal(ev.src, null);
  assert.equal(ev.detail?.source_role, 'aggregate');
  assert.equal(ev.detail?.dports_truncated, true);
  assert.equal((ev.detail?.dports as number[]).length, 10);
  assert.equal(ev.count, 1000, 'the 1000th SYN to the destination decides, whatever its port');
});

test('SYN flood to one port of a busy server whose other port completes its handshakes: reported for the (destination, port)', async () => {
  const { h, events } = modern();
  // 600 completed connections to 443 and 1200 unanswered SYNs to 80 in 5 s: a third of the
  // destination's SYNs complete, none of port 80's
  for (let i = 0; i < 600; i++) {
    const t = 1000 + i / 120;
    session(h, t, `192.0.2.${(i % 250) + 1}`, 20000 + i, V, 443, 100000 + i * 1000);
    for (let j = 0; j < 2; j++) h.feed(t + 0.06 + j * 0.001, seg(`203.0.113.${((i * 2 + j) % 250) + 1}`, V, 30000 + i * 2 + j, 80, SYN, i));
  }
  const lines = await h.finish();
  assert.deepEqual(lines.filter((l) => l.includes('SYN flood detected')), [`TCP: SYN flood detected to ${V} [port 80] from many sources`]);
  const ev = detected(events).find((e) => e.detector === 'syn-flood')!;
  assert.deepEqual(ev.detail?.dports, [80]);
  assert.equal(ev.detail?.completed, 0);
});

test('benign: a busy server (1500 connections in 5 s from 300 clients, all completing) and a NAT of clients are not a SYN flood', async () => {
  const { h } = modern();
  for (let i = 0; i < 1500; i++) session(h, 1000 + i / 300, spoofed(i % 300), 20000 + i, V, 443, 100000 + i * 1000);
  // a NAT: 1200 connections from one address in 4 s, all completing
  for (let i = 0; i < 1200; i++) session(h, 2000 + i / 300, S, 30000 + i, V, 80, 9000000 + i * 1000);
  assert.deepEqual(detections(await h.finish()), []);
});

// ------------------------------------------------------------------ distributed scan

test('distributed scan: 25 sources, 3 closed ports each (none alarmed on its own): one aggregate line', async () => {
  const { h, events } = modern();
  let t = 1000;
  for (let i = 0; i < 25; i++) {
    for (let j = 0; j < 3; j++) {
      const port = 1000 + i * 3 + j;
      h.feed((t += 0.2), seg(spoofed(i), V, 40000 + i, port, SYN));
      h.feed(t + 0.001, seg(V, spoofed(i), port, 40000 + i, RST | ACK, 0, 1001));
    }
  }
  const lines = await h.finish();
  const det = detections(lines);
  assert.equal(det.length, 1, det.join('\n'));
  assert.match(det[0]!, new RegExp(`^TCP: distributed scan detected to ${V.replace(/\./g, '\\.')} \\[ports (\\d+,){10}\\.\\.\\.\\] from many sources$`));
  const ev = detected(events)[0]!;
  assert.equal(ev.src, null);
  assert.equal(ev.detail?.source_role, 'aggregate');
  assert.ok((ev.detail?.sources as number) >= 10);
});

test('benign: 80 clients failing on one closed service (a server down) are not a distributed scan', async () => {
  const { h } = modern();
  for (let i = 0; i < 80; i++) {
    for (const port of [80, 443]) {
      h.feed(1000 + i * 0.3, seg(spoofed(i), V, 40000 + i, port, SYN));
      h.feed(1000 + i * 0.3 + 0.001, seg(V, spoofed(i), port, 40000 + i, RST | ACK, 0, 1001));
    }
  }
  assert.deepEqual(detections(await h.finish()), []);
});

// ------------------------------------------------------------------ decoy scan

test('decoy scan (nmap -D): 4 sources probing the same ports at once; each scan line is a decoy, one aggregate line', async () => {
  const { h, events } = modern();
  const srcs = [S, '203.0.113.20', '192.0.2.30', '192.0.2.40'];
  let t = 1000;
  for (let port = 20; port < 32; port++) {
    for (const s of srcs) {
      h.feed((t += 0.001), seg(s, V, 55555, port, SYN, 1, 0, { ttl: 50 }));
      h.feed(t + 0.0005, seg(V, s, port, 55555, RST | ACK, 0, 2));
    }
  }
  const lines = await h.finish();
  const det = detections(lines);
  assert.equal(det.filter((l) => l.startsWith('TCP: SYN scan detected')).length, 4, det.join('\n'));
  assert.deepEqual(
    det.filter((l) => l.includes('decoy')),
    [`TCP: decoy scan detected to ${V} [ports 20,21,22,23,24,25,26,27,28,29,...] from many sources`],
  );
  const members = detected(events).filter((e) => e.detector === 'syn-scan');
  assert.deepEqual(
    members.map((e) => [e.src?.toString(), e.detail?.source_role, e.detail?.decoy_group]),
    srcs.map((s) => [s, 'decoy', 4]),
  );
  const agg = detected(events).find((e) => e.detector === 'decoy-scan')!;
  assert.equal(agg.src, null);
  assert.equal(agg.detail?.source_role, 'aggregate');
});

test('benign: two unrelated scanners of one host are not a decoy group', async () => {
  const { events, h } = modern();
  for (const [k, s] of [S, '192.0.2.30'].entries()) {
    for (let port = 20; port < 32; port++) h.feed(1000 + k * 0.5 + port * 0.01, seg(s, V, 55555, port, SYN));
  }
  await h.finish();
  assert.ok(detected(events).every((e) => e.detail?.source_role === 'attacker'), JSON.stringify(detected(events).map((e) => e.detail)));
});

// ------------------------------------------------------------------ port sweep, ping sweep

test('port sweep: one source, port 22 of 10 protected hosts, unanswered: the covering prefix is named', async () => {
  const { h, events } = modern({ home: ['198.51.100.0/24'] });
  for (let i = 1; i <= 10; i++) h.feed(1000 + i * 0.5, seg(S, `198.51.100.${i}`, 50000, 22, SYN));
  const lines = await h.finish();
  const det = detections(lines).filter((l) => l.includes('sweep'));
  assert.deepEqual(det, [`TCP: port sweep detected to 198.51.100.0/28 [port 22] from ${S} [port 50000]`]);
  const ev = detected(events).find((e) => e.detector === 'port-sweep')!;
  assert.equal(ev.detail?.dst_prefix, '198.51.100.0/28');
  assert.equal(ev.detail?.source_role, 'attacker');
});

test('UDP port sweep: port 161 of 9 hosts answered by port unreachables', async () => {
  const { h } = modern({ home: ['198.51.100.0/24'] });
  for (let i = 1; i <= 9; i++) {
    const d = `198.51.100.${16 + i}`;
    h.feed(1000 + i * 0.5, ipv4({ src: S, dst: d, proto: 17 }, udp(40000, 161, 4)));
    h.feed(1000 + i * 0.5 + 0.001, portUnreach(d, S, 40000, 161));
  }
  const det = detections(await h.finish()).filter((l) => l.includes('sweep'));
  assert.deepEqual(det, [`UDP: port sweep detected to 198.51.100.16/28 [port 161] from ${S} [port 40000]`]);
});

test('benign: a client of port 443 on 12 hosts (all answering) is no port sweep', async () => {
  const { h } = modern({ home: ['198.51.100.0/24'] });
  for (let i = 1; i <= 12; i++) session(h, 1000 + i, S, 40000 + i, `198.51.100.${i}`, 443, 1000 * i);
  assert.deepEqual(detections(await h.finish()), []);
});

test('ping sweep: echo requests to 10 hosts, none answered; a LAN sweep seen by its answers (nmap -sn) is one too', async () => {
  const { h, events } = modern({ home: ['198.51.100.0/24'] });
  for (let i = 1; i <= 10; i++) h.feed(1000 + i * 0.2, ipv4({ src: S, dst: `198.51.100.${32 + i}`, proto: 1 }, icmp(8, 0, Buffer.from([0, 7, 0, i]))));
  const lines = await h.finish();
  assert.deepEqual(detections(lines), [`ICMP: ping sweep detected to 198.51.100.32/28 from ${S}`]);
  assert.equal(detected(events)[0]!.detector, 'ping-sweep');
  const lan = modern({ home: ['198.51.100.0/24'] });
  for (let i = 1; i <= 16; i++) {
    const d = `198.51.100.${64 + i}`;
    const body = Buffer.from([0x8f, i, 0, 0]);
    lan.h.feed(1000 + i * 0.003, ipv4({ src: S, dst: d, proto: 1 }, icmp(8, 0, body)));
    lan.h.feed(1000 + i * 0.003 + 0.0001, ipv4({ src: d, dst: S, proto: 1 }, icmp(0, 0, body)));
  }
  assert.deepEqual(detections(await lan.h.finish()), [`ICMP: ping sweep detected to 198.51.100.64/27 from ${S}`]);
});

test('benign: monitoring pings of 6 hosts every second for a minute, answered, are no ping sweep', async () => {
  const { h } = modern({ home: ['198.51.100.0/24'] });
  for (let round = 0; round < 60; round++) {
    for (let i = 1; i <= 6; i++) {
      const d = `198.51.100.${i}`;
      const t = 1000 + round + i * 0.05;
      const body = Buffer.from([0, 9, round, i]);
      h.feed(t, ipv4({ src: S, dst: d, proto: 1 }, icmp(8, 0, body)));
      h.feed(t + 0.001, ipv4({ src: d, dst: S, proto: 1 }, icmp(0, 0, body)));
    }
  }
  assert.deepEqual(detections(await h.finish()), []);
});

// ------------------------------------------------------------------ UDP flood to closed ports

test('UDP flood to a closed port from one source: udp-scan in flood mode, named', async () => {
  const { h, events } = modern();
  for (let i = 0; i < 800; i++) {
    h.feed(1000 + i / 200, ipv4({ src: S, dst: V, proto: 17 }, udp(40000, 9999, 32)));
    // the kernel rate-limits its unreachables: one in 50 here
    if (i % 50 === 0) h.feed(1000 + i / 200 + 0.0001, portUnreach(V, S, 40000, 9999));
  }
  const lines = await h.finish();
  assert.deepEqual(detections(lines), [`UDP: scan/flood detected [port 9999] from ${S} [port 40000]`]);
  const ev = detected(events)[0]!;
  assert.equal(ev.detector, 'udp-scan');
  assert.equal(ev.detail?.mode, 'flood');
  // in mode: no datagram lines for it any more
  const after = lines.indexOf(detections(lines)[0]!);
  assert.ok(!lines.slice(after).some((l) => l.startsWith('UDP: dgram to 9999')), 'datagram lines go on in mode');
});

test('UDP flood to a closed port from many spoofed sources: aggregate', async () => {
  const { h, events } = modern();
  for (let i = 0; i < 800; i++) {
    const s = spoofed(i);
    h.feed(1000 + i / 200, ipv4({ src: s, dst: V, proto: 17 }, udp(40000, 9999, 32)));
    if (i % 50 === 0) h.feed(1000 + i / 200 + 0.0001, portUnreach(V, s, 40000, 9999));
  }
  const lines = await h.finish();
  assert.deepEqual(detections(lines), [`UDP: scan/flood detected to ${V} [port 9999] from many sources`]);
  const ev = detected(events)[0]!;
  assert.equal(ev.src, null);
  assert.equal(ev.detector, 'udp-flood');
});

test('benign: 1000 DNS queries in 5 s (answered) and a syslog stream to an open port are no UDP flood', async () => {
  const { h } = modern();
  for (let i = 0; i < 1000; i++) {
    const c = spoofed(i % 40);
    h.feed(1000 + i / 200, ipv4({ src: c, dst: V, proto: 17 }, udp(30000 + i, 53, 30)));
    h.feed(1000 + i / 200 + 0.0005, ipv4({ src: V, dst: c, proto: 17 }, udp(53, 30000 + i, 80)));
  }
  for (let i = 0; i < 2000; i++) h.feed(1010 + i / 400, ipv4({ src: S, dst: V, proto: 17 }, udp(514, 514, 120)));
  assert.deepEqual(detections(await h.finish()), []);
});

// ------------------------------------------------------------------ tiny fragments

test('tiny fragments (RFC 1858): a first fragment without the whole TCP header, and a small non-final fragment; one line per source per 60 s', async () => {
  const { h, events } = modern();
  // nmap -f: 8 data bytes per fragment; the first holds only the ports and sequence number
  const t = Buffer.alloc(24);
  t.writeUInt16BE(40000, 0);
  t.writeUInt16BE(80, 2);
  t[12] = 5 << 4;
  t[13] = SYN;
  for (let k = 0; k < 3; k++) {
    h.feed(1000 + k * 0.001, ipv4({ src: S, dst: V, proto: 6, id: 77, frag: 0x2000 | k }, t.subarray(k * 8, k * 8 + 8)));
  }
  h.feed(1000.01, ipv4({ src: S, dst: V, proto: 6, id: 77, frag: 3 }, t.subarray(24)));
  // another tiny datagram of the same source 10 s later: no second line within 60 s
  h.feed(1010, ipv4({ src: S, dst: V, proto: 17, id: 78, frag: 0x2000 }, Buffer.alloc(8)));
  h.feed(1010.001, ipv4({ src: S, dst: V, proto: 17, id: 78, frag: 1 }, Buffer.alloc(8)));
  // a different source sending a 16-byte middle fragment
  h.feed(1020, ipv4({ src: '192.0.2.77', dst: V, proto: 17, id: 5, frag: 0x2000 }, Buffer.alloc(64)));
  h.feed(1020.001, ipv4({ src: '192.0.2.77', dst: V, proto: 17, id: 5, frag: 0x2000 | 8 }, Buffer.alloc(16)));
  h.feed(1020.002, ipv4({ src: '192.0.2.77', dst: V, proto: 17, id: 5, frag: 10 }, Buffer.alloc(8)));
  const lines = await h.finish();
  assert.deepEqual(lines.filter((l) => l.startsWith('Tiny')), [`Tiny IP fragment from ${S}`, 'Tiny IP fragment from 192.0.2.77']);
  const tiny = events.filter((e) => e.kind === 'frag.tiny');
  assert.deepEqual(tiny.map((e) => [e.detail?.reason, e.detail?.fragment_offset, e.detail?.fragment_bytes, e.detail?.source_role]), [
    ['short-first', 0, 8, 'attacker'],
    ['small-nonfinal', 64, 16, 'attacker'],
  ]);
});

test('benign: a datagram fragmented at a 576-byte MTU is no tiny fragment', async () => {
  const { h } = modern();
  h.feed(1000, ipv4({ src: S, dst: V, proto: 17, id: 9, frag: 0x2000 }, Buffer.alloc(552)));
  h.feed(1000.001, ipv4({ src: S, dst: V, proto: 17, id: 9, frag: 552 / 8 }, Buffer.alloc(100)));
  const lines = await h.finish();
  assert.ok(!lines.some((l) => l.startsWith('Tiny')), lines.join('\n'));
});

// ------------------------------------------------------------------ ARP / ND sweeps

/** an Ethernet ARP who-has frame: sender spa asks for tpa */
function arpRequest(spa: string, tpa: string): Buffer {
  const f = Buffer.alloc(42);
  f.fill(0xff, 0, 6);
  f.writeUInt16BE(0x0806, 12);
  f.writeUInt16BE(1, 14);
  f.writeUInt16BE(0x0800, 16);
  f[18] = 6;
  f[19] = 4;
  f.writeUInt16BE(1, 20);
  spa.split('.').forEach((x, i) => (f[28 + i] = Number(x)));
  tpa.split('.').forEach((x, i) => (f[38 + i] = Number(x)));
  return f;
}

test('ARP host sweep: who-has for 12 protected addresses in 2 s; ARP probes and a host resolving its gateway stay silent', async () => {
  const { h } = modern({ home: ['198.51.100.0/24'] });
  const feed = (t: number, f: Buffer): void => h.engine.onFrame(f, 0, f.length, f.length, Math.floor(t), Math.round((t % 1) * 1e9), 1);
  for (let i = 1; i <= 12; i++) feed(1000 + i * 0.15, arpRequest('198.51.100.200', `198.51.100.${i}`));
  // DAD probes (sender 0.0.0.0) for many addresses, and a client asking for its gateway again and again
  for (let i = 1; i <= 12; i++) feed(1100 + i * 0.1, arpRequest('0.0.0.0', `198.51.100.${20 + i}`));
  for (let i = 0; i < 30; i++) feed(1200 + i, arpRequest('198.51.100.7', '198.51.100.254'));
  const det = detections(await h.finish());
  assert.deepEqual(det, ['ARP: host sweep detected to 198.51.100.0/28 from 198.51.100.200']);
});

test('IPv6 neighbour sweep: solicitations for 16 protected targets; duplicate-address detection (source ::) is not counted', async () => {
  const { h } = modern({ home: ['2001:db8:5::/64'] });
  const { ipv6, icmp6, ip6bytes } = await import('../helpers/packets');
  const ns = (src: string, target: string): Buffer => ipv6({ src, dst: 'ff02::1:ff00:1', nh: 58, hlim: 255 }, icmp6(135, 0, Buffer.concat([Buffer.alloc(4), ip6bytes(target)])));
  for (let i = 1; i <= 16; i++) h.feed(1000 + i * 0.1, ns('2001:db8:5::99', `2001:db8:5::${i.toString(16)}`));
  for (let i = 1; i <= 16; i++) h.feed(1100 + i * 0.1, ns('::', `2001:db8:5::${(32 + i).toString(16)}`));
  const det = detections(await h.finish());
  assert.deepEqual(det, ['ICMPv6: neighbour sweep detected to 2001:db8:5::/123 from 2001:db8:5::99']);
});

test('SYN-flood admission: a destination and a (destination, port) each get their aggregate entry at their second SYN, the first replayed into it; a handshake also makes them', async () => {
  const { h } = modern();
  const g = h.engine.modern!.aggs;
  const entry = (kind: number, port: number): number => {
    g.agg.key(kind, 4, 0xc6336401 | 0, 0, 0, 0, port);
    return g.agg.t.find();
  };
  const SYN_PORT = 1; // AK_SYN
  const SYN_DST = 5; // AK_SYND
  h.feed(1000, seg(spoofed(0), V, 40000, 80, SYN));
  assert.equal(g.synAdmit.size, 2, 'the destination and the (destination, port), each admitted');
  assert.equal(entry(SYN_DST, 0), -1, 'one SYN: admitted, no aggregate entry');
  assert.equal(entry(SYN_PORT, 80), -1);
  h.feed(1000.5, seg(spoofed(1), V, 40001, 80, SYN));
  assert.equal(g.synAdmit.size, 0);
  for (const a of [entry(SYN_DST, 0), entry(SYN_PORT, 80)]) {
    assert.ok(a >= 0);
    // as if the entry had been made at the first SYN: two packets, both sources, both in the ring
    assert.equal(g.agg.count[a], 2);
    assert.equal(g.agg.sources(a, 1000, 5), 2);
    assert.equal(g.agg.sum(a, 1000, 1, 5, false), 2);
  }
  assert.deepEqual(g.agg.portList(entry(SYN_DST, 0), 1000, 5, 10), [80], "the destination's first SYN's port is replayed too");
  // a SYN to another port: counted for the destination, admitted for its (destination, port)
  h.feed(1000.7, seg(spoofed(2), V, 40002, 22, SYN));
  assert.equal(g.agg.count[entry(SYN_DST, 0)], 3);
  assert.deepEqual(g.agg.portList(entry(SYN_DST, 0), 1000, 5, 10), [22, 80]);
  assert.equal(entry(SYN_PORT, 22), -1);
  assert.equal(g.synAdmit.size, 1);
  // a handshake completed to an admitted (destination, port) makes its entry and counts, on both
  h.feed(1001, seg(S, V, 40003, 443, SYN, 1, 0));
  h.feed(1001.001, seg(V, S, 443, 40003, SYN | ACK, 9000, 2));
  h.feed(1001.002, seg(S, V, 40003, 443, ACK, 2, 9001));
  const b = entry(SYN_PORT, 443);
  assert.ok(b >= 0);
  assert.equal(g.agg.count[b], 1);
  assert.equal(g.agg.sum(b, 1001, 1, 5, true), 1, 'the completion is counted');
  assert.equal(g.agg.sum(entry(SYN_DST, 0), 1001, 1, 5, true), 1, "and on the destination's entry");
  await h.finish();
});

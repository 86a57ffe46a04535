/**
 * The handshake tracker and the evidence grades on synthetic packets with explicit
 * packet times: which handshakes prove a source (a connect-probe), which only show a
 * session, and which prove nothing; the clientele; the bounds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness } from '../helpers/engine';
import { ipv4, tcp, SYN, ACK, RST, FIN, DF } from '../helpers/packets';
import type { IplogEvent } from '../../src/output/event';
import { Clientele } from '../../src/evidence/clientele';
import { HandshakeTracker } from '../../src/evidence/handshake';
import { IpAddr } from '../../src/net/addr';
import { parseAddr } from '../../src/ban/addr';
import { DETECTORS } from '../../src/detect/index';
import { gradeOf, isProven, SPOOFABLE_ATTACKER } from '../../src/evidence/grade';

const HOST = '198.51.100.1';

function seg(src: string, dst: string, sport: number, dport: number, flags: number, seq: number, ack: number, data = 0, frag = DF, ttl = 64): Buffer {
  const t = Buffer.from(tcp(sport, dport, flags, new Uint8Array(data)));
  t.writeUInt32BE(seq >>> 0, 4);
  t.writeUInt32BE(ack >>> 0, 8);
  return ipv4({ src, dst, proto: 6, frag, ttl }, t);
}

/** A client `c` connects to HOST:port: SYN, our SYN-ACK (ISN isn), its ACK; then `after`. */
function connect(h: Harness, t: number, c: string, sport: number, port: number, isn: number, after: 'rst' | 'fin' | 'data' | 'none' | 'rst-to-synack', ack = isn + 1): void {
  h.feed(t, seg(c, HOST, sport, port, SYN, 5000, 0));
  h.feed(t, seg(HOST, c, port, sport, SYN | ACK, isn, 5001));
  if (after === 'rst-to-synack') {
    h.feed(t, seg(c, HOST, sport, port, RST, 5001, 0));
    return;
  }
  h.feed(t, seg(c, HOST, sport, port, ACK, 5001, ack));
  if (after === 'rst') h.feed(t + 0.01, seg(c, HOST, sport, port, RST | ACK, 5001, ack));
  else if (after === 'fin') h.feed(t + 0.01, seg(c, HOST, sport, port, FIN | ACK, 5001, ack));
  else if (after === 'data') h.feed(t + 0.01, seg(c, HOST, sport, port, ACK | 8, 5001, ack, 100));
}

function events(h: Harness): IplogEvent[] {
  const out: IplogEvent[] = [];
  h.engine.out.subscribe((e) => out.push(e));
  return out;
}

const addr = (s: string): IpAddr => IpAddr.v4(parseAddr(s)!.v4);

test('a connect-probe (handshake to our ISN, aborted without data) proves the source; data, a wrong ACK or a RST to the SYN-ACK do not', () => {
  const h = new Harness();
  const t = h.engine.trust;
  connect(h, 100, '203.0.113.10', 40000, 22, 0xfffffff0, 'rst');
  connect(h, 100, '203.0.113.11', 40000, 22, 77, 'fin');
  connect(h, 100, '203.0.113.12', 40000, 80, 1234, 'data');
  connect(h, 100, '203.0.113.13', 40000, 80, 1234, 'rst', 1236); // ACK is not ISN + 1
  connect(h, 100, '203.0.113.14', 40000, 80, 99, 'rst-to-synack'); // nmap -sS, or the innocent owner of a spoofed address
  assert.equal(t.proven(addr('203.0.113.10'), 101), true, 'RST after the handshake');
  assert.equal(t.proven(addr('203.0.113.11'), 101), true, 'FIN after the handshake');
  assert.equal(t.proven(addr('203.0.113.12'), 101), false, 'a session with data is not a probe');
  assert.equal(t.session(addr('203.0.113.12'), 101), true);
  assert.equal(t.proven(addr('203.0.113.13'), 101), false, 'wrong ACK');
  assert.equal(t.session(addr('203.0.113.13'), 101), false);
  assert.equal(t.proven(addr('203.0.113.14'), 101), false, 'RST to the SYN-ACK');
  assert.equal(t.session(addr('203.0.113.14'), 101), false);
  // the episode: proof counts for 120 s
  assert.equal(t.proven(addr('203.0.113.10'), 220), true);
  assert.equal(t.proven(addr('203.0.113.10'), 221), false);
  assert.deepEqual(t.stats, { handshakes: 3, probes: 2, vetoes: 0, flowEvictions: 0, sourceEvictions: 0 });
});

test('an ACK more than 2 s after the handshake with no data is an ordinary idle session, not a probe', () => {
  const h = new Harness();
  connect(h, 100, '203.0.113.20', 40000, 22, 5, 'none');
  h.feed(103, seg('203.0.113.20', HOST, 40000, 22, RST | ACK, 5001, 6));
  assert.equal(h.engine.trust.proven(addr('203.0.113.20'), 103), false);
  assert.equal(h.engine.trust.session(addr('203.0.113.20'), 103), true);
});

test('clientele: both ends of a completed handshake, either direction, for 14 days; bounded, least recent forgotten first', () => {
  const h = new Harness();
  const c = new Clientele(4, 12345);
  h.engine.trust.clientele = c;
  connect(h, 1000, '203.0.113.30', 40000, 443, 9, 'data');
  // outbound: the host connects to a mirror; the mirror's SYN-ACK is answered by our ACK
  h.feed(1001, seg(HOST, '192.0.2.80', 50000, 80, SYN, 1, 0));
  h.feed(1001, seg('192.0.2.80', HOST, 80, 50000, SYN | ACK, 700, 2));
  h.feed(1001, seg(HOST, '192.0.2.80', 50000, 80, ACK, 2, 701));
  // a spoofed scan "from" a stranger: the stranger answers our SYN-ACK with a RST
  connect(h, 1002, '203.0.113.31', 40000, 22, 9, 'rst-to-synack');
  assert.equal(c.has(addr('203.0.113.30'), 1002), true);
  assert.equal(c.has(addr('192.0.2.80'), 1002), true, 'the server we connected to');
  assert.equal(c.has(addr(HOST), 1002), true);
  assert.equal(c.has(addr('203.0.113.31'), 1002), false);
  assert.equal(c.has(addr('203.0.113.30'), 1000 + 14 * 86400 - 1), true);
  assert.equal(c.has(addr('203.0.113.30'), 1000 + 14 * 86400), false, '14 days later');
  for (let i = 0; i < 3; i++) connect(h, 1010 + i, `192.0.2.${100 + i}`, 40000, 443, 9, 'data');
  assert.equal(c.stats.size, 4);
  assert.ok(c.stats.evictions >= 2, `evictions ${c.stats.evictions}`);
  assert.equal(c.has(addr('203.0.113.30'), 1020), false, 'the least recently seen went first');
  assert.deepEqual(
    c.entries(1020).map((e) => e[0]),
    ['192.0.2.100', '192.0.2.101', '192.0.2.102', '198.51.100.1'],
  );
});

test('bounded flows: a SYN-ACK flood evicts (counted) and a later real handshake still completes', () => {
  const tr = new HandshakeTracker(7, null, 64, 64);
  const h = new Harness();
  (h.engine as unknown as { trust: HandshakeTracker }).trust = tr;
  (h.engine.ctx as unknown as { trust: HandshakeTracker }).trust = tr;
  for (let i = 0; i < 1000; i++) h.feed(50, seg(HOST, `203.0.113.${i % 250}`, 80, 1024 + i, SYN | ACK, i, 1));
  assert.equal(tr.stats.flowEvictions, 1000 - 64);
  connect(h, 51, '192.0.2.9', 41000, 80, 31337, 'rst');
  assert.equal(tr.proven(addr('192.0.2.9'), 51), true);
});

test('grades: port-scan with a connect-probe is proof (spoofable 0); a SYN scan from a source with a session is spoofable 2; a stranger 3', async () => {
  const h = new Harness();
  const ev = events(h);
  // nmap -sT shape: one open port probed by connect(), 15 DF SYNs in all
  connect(h, 10, '203.0.113.40', 41000, 22, 1, 'rst');
  for (let p = 1; p <= 15; p++) h.feed(10, seg('203.0.113.40', HOST, 41000 + p, 1000 + p, SYN, 1, 0));
  // a client with a session, then a spoofed raw SYN scan "from" it (DF clear)
  connect(h, 20, '203.0.113.41', 42000, 443, 5, 'data');
  for (let p = 1; p <= 10; p++) h.feed(21, seg('203.0.113.41', HOST, 42001, 2000 + p, SYN, 1, 0, 0, 0));
  // a raw SYN scan from a stranger
  for (let p = 1; p <= 10; p++) h.feed(22, seg('203.0.113.42', HOST, 42001, 2000 + p, SYN, 1, 0, 0, 0));
  await h.finish();
  const det = ev.filter((e) => e.kind === 'scan.detected').map((e) => [e.src!.toString(), e.detector, e.detail!.spoofable, e.detail!.proof, e.detail!.source_role]);
  assert.deepEqual(det, [
    ['203.0.113.40', 'port-scan', 0, true, 'attacker'],
    ['203.0.113.41', 'syn-scan', 2, false, 'attacker'],
    ['203.0.113.42', 'syn-scan', 3, false, 'attacker'],
  ]);
});

test('static grades: smurf is a reflector, detectors without a declaration are spoofable attackers, log evidence is proven', () => {
  const smurf = DETECTORS.find((d) => d.name === 'smurf')!;
  assert.deepEqual(gradeOf(smurf.evidence ?? SPOOFABLE_ATTACKER, true, true), { spoofable: 3, proof: false, source_role: 'reflector' });
  const syn = DETECTORS.find((d) => d.name === 'syn-scan')!;
  assert.deepEqual(gradeOf(syn.evidence ?? SPOOFABLE_ATTACKER, false, false), { spoofable: 3, proof: false, source_role: 'attacker' });
  assert.deepEqual(gradeOf(syn.evidence ?? SPOOFABLE_ATTACKER, true, true), { spoofable: 2, proof: false, source_role: 'attacker' }, 'proof elsewhere does not prove a raw SYN scan');
  const port = DETECTORS.find((d) => d.name === 'port-scan')!;
  assert.deepEqual(gradeOf(port.evidence!, true, true), { spoofable: 0, proof: true, source_role: 'attacker' });
  assert.equal(isProven({ spoofable: 0 }), true);
  assert.equal(isProven({ spoofable: 2, proof: false }), false);
});

/** A health check from `m` (TTL `ttl`): connect to HOST:80 and abort without data, a connect-probe every time. */
function healthCheck(h: Harness, t: number, m: string, sport: number, ttl: number): void {
  h.feed(t, seg(m, HOST, sport, 80, SYN, 5000, 0, 0, DF, ttl));
  h.feed(t, seg(HOST, m, 80, sport, SYN | ACK, 900 + sport, 5001));
  h.feed(t, seg(m, HOST, sport, 80, ACK, 5001, 901 + sport, 0, DF, ttl));
  h.feed(t + 0.01, seg(m, HOST, sport, 80, RST | ACK, 5001, 901 + sport, 0, DF, ttl));
}

test('borrowed proof: a DF SYN scan spoofed in the name of a health checker (connect-probes of its own) is not proven: its SYNs arrive at another TTL', async () => {
  const h = new Harness();
  const ev = events(h);
  const M = '192.0.2.60';
  for (let i = 0; i < 4; i++) healthCheck(h, 100 + 5 * i, M, 40000 + i, 61);
  assert.equal(h.engine.trust.proven(addr(M), 116), true, 'the checker itself is proven by its probes');
  // the spoofer sends DF SYNs to 15 closed ports "from" M, from 7 hops further away
  for (let p = 1; p <= 15; p++) h.feed(117, seg(M, HOST, 41000 + p, 1000 + p, SYN, 1, 0, 0, DF, 54));
  assert.equal(h.engine.trust.proven(addr(M), 117), false, 'a SYN at another TTL vetoes the proof');
  assert.equal(h.engine.trust.stats.vetoes, 15);
  await h.finish();
  const det = ev.filter((e) => e.kind === 'scan.detected').map((e) => [e.src!.toString(), e.detector, e.detail!.proof]);
  assert.deepEqual(det, [[M, 'port-scan', false]]);
  // the veto lasts the episode (120 s after the last vetoing SYN), then the checker's probes prove it again
  healthCheck(h, 240, M, 40010, 61);
  assert.equal(h.engine.trust.proven(addr(M), 240), true);
});

test('borrowed proof: spoofed SYNs at the checker\'s own TTL that reach an open port are vetoed by the checker\'s RST to our SYN-ACK', () => {
  const h = new Harness();
  const M = '192.0.2.61';
  for (let i = 0; i < 3; i++) healthCheck(h, 100 + 5 * i, M, 40000 + i, 61);
  // same TTL, so only the half-open veto can tell: our SYN-ACK for port 80 reaches the real M, which resets it
  for (let p = 1; p <= 15; p++) h.feed(111, seg(M, HOST, 42000 + p, p === 8 ? 80 : 1000 + p, SYN, 1, 0, 0, DF, 61));
  assert.equal(h.engine.trust.proven(addr(M), 111), true, 'nothing tells them apart yet');
  h.feed(111, seg(HOST, M, 80, 42008, SYN | ACK, 4444, 2));
  h.feed(111.001, seg(M, HOST, 42008, 80, RST, 2, 0, 0, DF, 61));
  assert.equal(h.engine.trust.proven(addr(M), 111.01), false, 'a RST to our SYN-ACK vetoes it');
});

test('a connect() scanner keeps its proof: its SYNs and handshakes share one TTL and it completes every handshake it is offered', () => {
  const h = new Harness();
  const S = '203.0.113.70';
  for (let p = 1; p <= 20; p++) {
    const port = p % 5 === 0 ? 20 + p : 1000 + p;
    if (p % 5 === 0) {
      h.feed(50, seg(S, HOST, 43000 + p, port, SYN, 7, 0, 0, DF, 57));
      h.feed(50, seg(HOST, S, port, 43000 + p, SYN | ACK, 300 + p, 8));
      h.feed(50, seg(S, HOST, 43000 + p, port, ACK, 8, 301 + p, 0, DF, 57));
      h.feed(50.001, seg(S, HOST, 43000 + p, port, RST | ACK, 8, 301 + p, 0, DF, 57));
    } else {
      h.feed(50, seg(S, HOST, 43000 + p, port, SYN, 7, 0, 0, DF, 57));
      h.feed(50, seg(HOST, S, port, 43000 + p, RST | ACK, 0, 8));
    }
  }
  assert.equal(h.engine.trust.proven(addr(S), 51), true);
  assert.equal(h.engine.trust.stats.vetoes, 0);
});

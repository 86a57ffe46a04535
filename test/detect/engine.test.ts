/**
 * Engine behaviour the conformance corpus does not show, on synthetic packets with
 * explicit packet times (no timers, no sleeps).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness } from '../helpers/engine';
import { ipv4, tcp, udp, icmp, SYN, FIN, ACK, ECE, CWR, DF, MF } from '../helpers/packets';

const syn = (src: string, dport: number, flags = SYN, frag = DF) => ipv4({ src, dst: '10.0.0.1', proto: 6, frag }, tcp(40000, dport, flags));

test('connection attempt line, and nothing for SYN+ACK or ACK', async () => {
  const h = new Harness();
  h.feed(1, syn('192.0.2.7', 22));
  h.feed(1, syn('192.0.2.7', 22, SYN | ACK));
  h.feed(1, syn('192.0.2.7', 22, ACK));
  assert.deepEqual(await h.finish(), ['TCP: ssh connection attempt from 192.0.2.7:40000']);
});

test('ECN SYN (0xC2) is a bogus-flag line in compat, a connection attempt with bogus detection off', async () => {
  const h = new Harness();
  h.feed(1, syn('192.0.2.7', 80, SYN | ECE | CWR));
  assert.deepEqual(await h.finish(), ['TCP: Bogus TCP flags set by 192.0.2.7:40000 (dest port 80)']);
  const h2 = new Harness({ bogus: false });
  h2.feed(1, syn('192.0.2.7', 80, SYN | ECE | CWR));
  assert.deepEqual(await h2.finish(), ['TCP: http connection attempt from 192.0.2.7:40000']);
});

test('-a: only packets to the listed networks (and enabled protocols) are processed', async () => {
  const h = new Harness({ promisc: true, log_dest: true, udp: false }, { promiscNets: ['10.0.0.0/24', '192.168'] });
  h.feed(1, syn('192.0.2.7', 22));
  h.feed(1, ipv4({ src: '192.0.2.7', dst: '10.0.1.1', proto: 6, frag: DF }, tcp(1, 23, SYN)));
  h.feed(1, ipv4({ src: '192.0.2.7', dst: '192.168.9.9', proto: 6, frag: DF }, tcp(1, 25, SYN)));
  h.feed(1, ipv4({ src: '192.0.2.7', dst: '10.0.0.1', proto: 17 }, udp(5, 53, 4)));
  assert.deepEqual(await h.finish(), [
    'TCP: ssh connection attempt to 10.0.0.1 from 192.0.2.7:40000',
    'TCP: smtp connection attempt to 192.168.9.9 from 192.0.2.7:1',
  ]);
});

test('fragments 2.5 s apart are reassembled (the original lost them at the next tick)', async () => {
  const h = new Harness();
  const payload = udp(1111, 53, 100);
  const first = ipv4({ src: '192.0.2.9', dst: '10.0.0.1', proto: 17, id: 77, frag: MF }, payload.subarray(0, 56));
  const second = ipv4({ src: '192.0.2.9', dst: '10.0.0.1', proto: 17, id: 77, frag: 7 }, payload.subarray(56));
  h.feed(10, first);
  h.feed(12.5, second);
  assert.deepEqual(await h.finish(), ['UDP: dgram to domain from 192.0.2.9:1111 (100 data bytes)']);
  assert.equal(h.engine.an.get('frag.reassembled'), 1);
});

test('an incomplete datagram is dropped 60 s after its last fragment, silently', async () => {
  const h = new Harness();
  const payload = udp(1111, 53, 100);
  h.feed(10, ipv4({ src: '192.0.2.9', dst: '10.0.0.1', proto: 17, id: 78, frag: MF }, payload.subarray(0, 56)));
  h.feed(69, syn('192.0.2.1', 22));
  assert.equal(h.engine.frags.size(), 1);
  h.feed(70, syn('192.0.2.1', 22));
  assert.equal(h.engine.frags.size(), 0);
  assert.equal(h.engine.an.get('frag.expired'), 1);
  await h.finish();
});

test('truncated transport headers are counted, not read', async () => {
  const h = new Harness();
  h.feed(1, ipv4({ src: '192.0.2.7', dst: '10.0.0.1', proto: 6 }, new Uint8Array(10)));
  h.feed(1, ipv4({ src: '192.0.2.7', dst: '10.0.0.1', proto: 17 }, new Uint8Array(4)));
  h.feed(1, ipv4({ src: '192.0.2.7', dst: '10.0.0.1', proto: 1 }, new Uint8Array(1)));
  assert.deepEqual(await h.finish(), []);
  assert.equal(h.engine.an.get('tcp.truncated'), 1);
  assert.equal(h.engine.an.get('udp.truncated'), 1);
  assert.equal(h.engine.an.get('icmp.truncated'), 1);
});

test('expiry happens on the network clock and fires before the packet that crosses it', async () => {
  const h = new Harness();
  for (let i = 0; i < 10; i++) h.feed(100, ipv4({ src: '192.0.2.5', dst: '10.0.0.1', proto: 6 }, tcp(5, 100 + i, FIN)));
  h.feed(150, syn('192.0.2.6', 22));
  const lines = h.stamped();
  assert.equal(lines.length, 3);
  assert.match(lines[1]!, /^Jan  1 00:02:30 TCP: FIN scan mode expired for 192\.0\.2\.5 - received a total of 10 packets \(200 bytes\)\.$/);
  assert.match(lines[2]!, /connection attempt/);
  await h.finish();
});

test('ICMP lines read missing fields as zero instead of failing', async () => {
  const h = new Harness();
  h.feed(1, ipv4({ src: '192.0.2.7', dst: '10.0.0.1', proto: 1 }, icmp(3, 3, 0)));
  const lines = await h.finish();
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^ICMP: \(from 192\.0\.2\.7\) 0\.0\.0\.0: port is unreachable to \(ip: dest port 0, source port 0\)$/);
});

/**
 * The host's listening sockets (src/live/listeners.ts, issue 9 point 2): /proc/net parsing,
 * and the modern engine's use of them (a silent first contact to a port with no listener
 * counts as REJECT), on files and synthetic packets; the live test with real nmap is in
 * test/live/modern.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcListeners, loopback, PROTO_TCP, PROTO_UDP } from '../../src/live/listeners';
import { Harness } from '../helpers/engine';
import { ipv4, udp, tcp, SYN } from '../helpers/packets';

const TCP_HEAD = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const tcpRow = (local: string, remote: string, st: string) => `   0: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000     0        0 1071 1 0000000000000000 100 0 0 10 0\n`;

function procDir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'iplog-procnet-'));
  for (const [n, t] of Object.entries(files)) writeFileSync(join(d, n), t);
  return d;
}

test('loopback: /proc/net address words as they lie in memory (little- and big-endian), IPv4 and IPv6', () => {
  assert.equal(loopback('0100007F', true), true);
  assert.equal(loopback('7F000001', false), true);
  assert.equal(loopback('00000000', true), false);
  assert.equal(loopback('0500000C', true), false); // 12.0.0.5
  assert.equal(loopback('00000000000000000000000001000000', true), true); // ::1
  assert.equal(loopback('0000000000000000FFFF00000100007F', true), true); // ::ffff:127.0.0.1
  assert.equal(loopback('00000000000000000000000000000000', true), false); // ::
  assert.equal(loopback('B80D0120000000000000000005000000', true), false); // 2001:db8::5
});

test('ProcListeners: TCP LISTEN and unconnected UDP sockets, not loopback-only ones, not connected ones; re-read after maxAge', () => {
  const d = procDir({
    tcp:
      TCP_HEAD +
      tcpRow('00000000:0016', '00000000:0000', '0A') + // *:22 LISTEN
      tcpRow('0100007F:0019', '00000000:0000', '0A') + // 127.0.0.1:25 LISTEN: loopback only
      tcpRow('0500000C:0050', '0A00000C:D431', '01'), // an established connection on 80: not a listener
    udp:
      TCP_HEAD +
      tcpRow('050200C0:0035', '00000000:0000', '07') + // 192.0.2.5:53 unconnected
      tcpRow('00000000:A000', '350200C0:0035', '01'), // a connected client socket: not a listener
    tcp6: TCP_HEAD + tcpRow('00000000000000000000000000000000:01BB', '00000000000000000000000000000000:0000', '0A'), // [::]:443
    // no udp6: IPv6 disabled in the namespace
  });
  try {
    let now = 0;
    const l = new ProcListeners(d, 2000, () => now);
    assert.equal(l.listening(PROTO_TCP, 22), true);
    assert.equal(l.listening(PROTO_TCP, 443), true);
    assert.equal(l.listening(PROTO_TCP, 25), false);
    assert.equal(l.listening(PROTO_TCP, 80), false);
    assert.equal(l.listening(PROTO_UDP, 53), true);
    assert.equal(l.listening(PROTO_UDP, 0xa000), false);
    assert.equal(l.listening(PROTO_UDP, 22), false);
    assert.equal(l.reads, 1);
    writeFileSync(join(d, 'tcp'), TCP_HEAD + tcpRow('00000000:0050', '00000000:0000', '0A'));
    now = 1999;
    assert.equal(l.listening(PROTO_TCP, 80), false, 'not re-read before maxAge');
    now = 2000;
    assert.equal(l.listening(PROTO_TCP, 80), true);
    assert.equal(l.listening(PROTO_TCP, 22), false);
    assert.equal(l.reads, 2);
    assert.equal(l.failures, 0);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('ProcListeners: an unreadable table makes every port listening (no sharpening), counted', () => {
  const l = new ProcListeners('/nonexistent/proc/net');
  assert.equal(l.listening(PROTO_TCP, 1), true);
  assert.equal(l.listening(PROTO_UDP, 1), true);
  assert.equal(l.failures, 1);
});

const V = '198.51.100.1';
const S = '203.0.113.9';
const detections = (lines: string[]): string[] => lines.filter((l) => / detected/.test(l));

function udpProbes(withListeners: boolean): Harness {
  const h = new Harness({}, { profile: 'modern', hashSeed: 1, replayFile: 'synthetic' });
  // the host listens on UDP 53 only
  if (withListeners) h.engine.modern!.listeners = { listening: (proto, port) => proto === PROTO_UDP && port === 53 };
  // six datagrams to closed ports and one to 53, none answered (a firewall drops them)
  for (const [i, port] of [7, 9, 53, 111, 123, 137, 161].entries()) h.feed(1000 + i * 0.5, ipv4({ src: S, dst: V, proto: 17 }, udp(40000, port, 10)));
  h.feed(1010, ipv4({ src: '192.0.2.77', dst: V, proto: 17 }, udp(40001, 9999, 10))); // time moves past the grace
  return h;
}

test('modern: silent UDP first contacts to ports with no listener count as rejects (a UDP scan of a host that drops), not without the listener table', async () => {
  const sharp = detections(await udpProbes(true).finish());
  assert.equal(sharp.length, 1, sharp.join('\n'));
  assert.match(sharp[0]!, /^UDP: scan\/flood detected \[ports [\d,.]+\] from 203\.0\.113\.9 \[port 40000\]$/);
  // without it, silence is neutral and six silent ports are far from the 20 of the window rule
  assert.deepEqual(detections(await udpProbes(false).finish()), []);
});

test('modern: a silent SYN to a port with no listener is a reject in the outcome counts; to a listening port it stays silent', async () => {
  const h = new Harness({}, { profile: 'modern', hashSeed: 1, replayFile: 'synthetic' });
  h.engine.modern!.listeners = { listening: (proto, port) => proto === PROTO_TCP && port === 22 };
  const events: { detail?: Record<string, unknown> }[] = [];
  h.engine.out.subscribe((ev) => {
    if (ev.kind === 'scan.detected') events.push(ev as never);
  });
  for (const [i, port] of [22, 23, 25, 80, 110, 143].entries()) h.feed(1000 + i * 0.2, ipv4({ src: S, dst: V, proto: 6 }, tcp(50000, port, SYN)));
  h.feed(1010, ipv4({ src: '192.0.2.77', dst: V, proto: 17 }, udp(40001, 9999, 10)));
  const lines = await h.finish();
  assert.equal(detections(lines).length, 1, lines.join('\n'));
  assert.equal(events.length, 1);
  const d = events[0]!.detail!;
  assert.equal(d.outcome_reject, 5, JSON.stringify(d)); // 23, 25, 80, 110, 143: no listener, no answer
  assert.equal(d.outcome_silent, 1, JSON.stringify(d)); // 22 has a listener: silence stays silence
});

/**
 * iplog's detectors and lines on IPv6 (issue 8 B.3, B.4, B.5, B.7), on synthetic decoded
 * IPv6 packets handed to Engine.handleIp6() with explicit packet times. Addresses are
 * from 2001:db8::/32 only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { Harness } from '../helpers/engine';
import { tcp, udp, icmp, SYN, FIN, ACK } from '../helpers/packets';
import { DecodedPacket } from '../../src/decode/packet';
import { IpAddr } from '../../src/net/addr';
import { A, Anomalies } from '../../src/decode/anomalies';
import { ScanTable6 } from '../../src/detect/scan-table6';
import { Scan } from '../../src/detect/index';
import { jsonEvent, type JsonEvent } from '../../src/output/sinks/json';
import type { IplogEvent } from '../../src/output/event';
import type { Flags } from '../../src/config/settings';

const ROOT = join(__dirname, '..', '..', '..');

function words(text: string): number[] {
  const a = IpAddr.parse(text)!;
  return [a.w0, a.w1, a.w2, a.w3];
}

/** Feed one IPv6 packet: `l4` is the upper-layer header and data, `proto` its protocol. */
function feed6(h: Harness, t: number, src: string, dst: string, proto: number, l4: Uint8Array, hlim = 64): void {
  const p = new DecodedPacket();
  const buf = Buffer.from(l4);
  p.reset(buf, 0, buf.length, t, 0);
  p.family = 6;
  p.src6.set(words(src));
  p.dst6.set(words(dst));
  p.proto = proto;
  p.ttl = hlim;
  p.l4Off = 0;
  p.l4Avail = buf.length;
  p.l4Len = buf.length;
  h.engine.advance(t);
  h.engine.dispatchIp6(p, t);
}

/** A TCP header with `opts` option bytes (data offset set accordingly). */
function tcp6(sport: number, dport: number, flags: number, opts = 0): Uint8Array {
  const t = Buffer.from(tcp(sport, dport, flags, new Uint8Array(opts)));
  t[12] = ((20 + opts) / 4) << 4;
  if (opts >= 4) t.set([2, 4, 0x05, 0xb4], 20); // MSS 1460
  return t;
}

const V = '2001:db8::1';

function harness(flags: Partial<Flags> = {}): { h: Harness; events: IplogEvent[] } {
  const h = new Harness(flags);
  const events: IplogEvent[] = [];
  h.engine.out.subscribe((e) => events.push(e));
  return { h, events };
}

test('IPv6 connection attempt: host and port as [2001:db8::7]:40000, the destination with -D', async () => {
  const { h } = harness({ log_dest: true });
  feed6(h, 1, '2001:db8::7', V, 6, tcp6(40000, 22, SYN, 20));
  feed6(h, 1, '2001:db8::7', V, 6, tcp6(40000, 22, SYN | ACK, 20));
  assert.deepEqual(await h.finish(), ['TCP: ssh connection attempt to 2001:db8::1 from [2001:db8::7]:40000']);
  const { h: h2 } = harness();
  feed6(h2, 1, '2001:db8::7', V, 17, udp(5353, 53, 4));
  assert.deepEqual(await h2.finish(), ['UDP: dgram to domain from [2001:db8::7]:5353 (4 data bytes)']);
});

test('SYN scan on IPv6: raw-socket SYNs (no options, or a lone MSS) are SYN scan; kernel SYNs (more options) port scan', async () => {
  const { h } = harness();
  for (let i = 0; i < 10; i++) feed6(h, 1, '2001:db8::66', V, 6, tcp6(51000, 20 + i, SYN, 4));
  for (let i = 0; i < 15; i++) feed6(h, 2, '2001:db8::77', V, 6, tcp6(52000, 100 + i, SYN, 20));
  const lines = await h.finish();
  assert.equal(lines.filter((l) => l.startsWith('TCP: SYN scan detected [ports 20,21,22,23,24,25,26,27,28,29,...] from 2001:db8::66 [port 51000]')).length, 1, lines.join('\n'));
  assert.ok(lines.includes('TCP: SYN scan mode expired for 2001:db8::66 - received a total of 10 packets (240 bytes).'), lines.join('\n'));
  assert.ok(lines.some((l) => l.startsWith('TCP: port scan detected [ports 100,') && l.endsWith('from 2001:db8::77 [port 52000]')), lines.join('\n'));
  assert.ok(!lines.some((l) => l.includes('SYN scan') && l.includes('2001:db8::77')));
});

test('FIN scan on IPv6 with the IPv4 thresholds; the pair table is bounded and its evictions counted', async () => {
  const { h } = harness();
  for (let i = 0; i < 10; i++) feed6(h, 1, '2001:db8::5', V, 6, tcp6(1000, 200 + i, FIN));
  // more pairs than the table holds (512): the oldest go, counted
  for (let i = 0; i < 600; i++) feed6(h, 2, `2001:db8:0:1::${(i + 1).toString(16)}`, V, 6, tcp6(1000, 80, FIN));
  const lines = await h.finish();
  assert.ok(lines.some((l) => l.startsWith('TCP: FIN scan detected') && l.includes('from 2001:db8::5')), lines.join('\n'));
  assert.ok(h.engine.scans6.size() <= 512);
  assert.ok(h.engine.an.get('scan.evicted') >= 600 + 1 - 512);
});

test('smurf on IPv6: echo replies from many hosts of one /64 share one counter; the line names the /64', async () => {
  const { h } = harness();
  for (let i = 0; i < 90; i++) feed6(h, 1, `2001:db8:1:2::${(i + 1).toString(16)}`, V, 58, icmp(129, 0, 60));
  const lines = await h.finish();
  assert.equal(lines[89], 'ICMP/UDP: smurf attack detected from 2001:db8:1:2::', lines.join('\n'));
  assert.ok(lines.some((l) => l.startsWith('ICMP/UDP: smurf attack mode expired for 2001:db8:1:2:: - received a total of 90 packets')), lines.join('\n'));
  assert.equal(lines.filter((l) => l.startsWith('ICMPv6: echo reply')).length, 89);
});

test('UDP traceroute on IPv6 is hop limit 1: one line per source change or 15 s', async () => {
  const { h } = harness();
  for (let i = 0; i < 3; i++) feed6(h, 1 + i, '2001:db8::9', V, 17, udp(40000, 33434 + i, 12), 1);
  feed6(h, 20, '2001:db8::9', V, 17, udp(40000, 33440, 12), 1);
  feed6(h, 20, '2001:db8::9', V, 17, udp(40000, 33441, 12), 2);
  assert.deepEqual(await h.finish(), [
    'UDP: traceroute from 2001:db8::9',
    'last message repeated 1 times',
    'UDP: dgram to port 33441 from [2001:db8::9]:40000 (12 data bytes)',
  ]);
});

test('ICMPv6 lines: echo, unreachable, packet too big, time exceeded, parameter problem', async () => {
  const { h } = harness({ log_dest: true });
  const quoted = (proto: number, dst: string) => {
    const q = Buffer.alloc(4 + 40 + 8);
    q[4 + 6] = proto;
    q.set(Buffer.from(words(dst).flatMap((w) => [w >>> 24, (w >>> 16) & 255, (w >>> 8) & 255, w & 255])), 4 + 24);
    q.writeUInt16BE(40000, 44);
    q.writeUInt16BE(33434, 46);
    return q;
  };
  feed6(h, 1, '2001:db8::7', V, 58, icmp(128, 0, 60));
  feed6(h, 1, '2001:db8::ff', V, 58, icmp(1, 4, quoted(17, '2001:db8::ff')));
  feed6(h, 1, '2001:db8::fe', V, 58, icmp(1, 3, quoted(17, '2001:db8::99')));
  const ptb = quoted(6, '2001:db8::99');
  ptb.writeUInt32BE(1280, 0);
  feed6(h, 1, '2001:db8::fe', V, 58, icmp(2, 0, ptb));
  feed6(h, 1, '2001:db8::fe', V, 58, icmp(3, 0, quoted(17, '2001:db8::99')));
  const pp = Buffer.alloc(4);
  pp.writeUInt32BE(40, 0);
  feed6(h, 1, '2001:db8::fe', V, 58, icmp(4, 1, pp));
  const lines = await h.finish();
  const udpName = lines[1]!.replace(/^.*\((\w+): dest port.*$/, '$1');
  const tcpName = lines[3]!.replace(/^.*; (\w+): dest port.*$/, '$1');
  assert.deepEqual(lines, [
    'ICMPv6: echo request from 2001:db8::7 to 2001:db8::1 (64 bytes)',
    `ICMPv6: 2001:db8::ff: port unreachable to 2001:db8::1 (${udpName}: dest port 33434, source port 40000)`,
    `ICMPv6: (from 2001:db8::fe) 2001:db8::99: address unreachable to 2001:db8::1 (${udpName}: dest port 33434, source port 40000)`,
    `ICMPv6: packet too big to 2001:db8::1 from 2001:db8::fe (mtu 1280; ${tcpName}: dest port 33434, source port 40000)`,
    `ICMPv6: (from 2001:db8::fe) 2001:db8::99 hop limit exceeded to 2001:db8::1 (${udpName}: dest port 33434, source port 40000)`,
    'ICMPv6: parameter problem to 2001:db8::1 from 2001:db8::fe (code 1, ptr 40)',
  ]);
});

test('neighbour discovery and MLD: never a detection, their lines only with -V', async () => {
  const ns = () => {
    const b = Buffer.alloc(4 + 20);
    b.set(Buffer.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42]), 4);
    return b;
  };
  const quiet = harness();
  for (let i = 0; i < 200; i++) feed6(quiet.h, 1 + Math.floor(i / 10), 'fe80::1', 'ff02::1:ff00:42', 58, icmp(135, 0, ns()));
  for (let i = 0; i < 200; i++) feed6(quiet.h, 30, 'fe80::1', 'ff02::16', 58, icmp(143, 0, 20));
  assert.deepEqual(await quiet.h.finish(), []);
  const verbose = harness({ verbose: true });
  feed6(verbose.h, 1, 'fe80::1', 'ff02::1:ff00:42', 58, icmp(135, 0, ns()));
  feed6(verbose.h, 1, 'fe80::1', 'ff02::2', 58, icmp(133, 0, 4));
  feed6(verbose.h, 1, 'fe80::1', 'ff02::16', 58, icmp(143, 0, 20));
  assert.deepEqual(await verbose.h.finish(), [
    'ICMPv6: neighbour solicitation for 2001:db8::42 from fe80::1',
    'ICMPv6: router solicitation from fe80::1',
    'ICMPv6: multicast listener report v2 from fe80::1',
  ]);
});

test('ping flood on IPv6 at the IPv4 threshold (70 echo requests)', async () => {
  const { h } = harness();
  for (let i = 0; i < 75; i++) feed6(h, 1, '2001:db8::3', V, 58, icmp(128, 0, 60));
  const lines = await h.finish();
  // 69 echo-request lines (the text sink writes the repeats as "last message repeated")
  assert.deepEqual(lines.slice(0, 2), ['ICMPv6: echo request from 2001:db8::3 (64 bytes)', 'last message repeated 68 times']);
  assert.ok(lines.includes('ICMP: ping flood detected from 2001:db8::3'), lines.join('\n'));
});

test('IPv6 events in JSON: family 6, RFC 5952 addresses, valid against the schema', async () => {
  const schema = JSON.parse(readFileSync(join(ROOT, 'config', 'iplog-event.schema.json'), 'utf8'));
  const validate = new Ajv2020({ allErrors: true, strict: true }).compile<JsonEvent>(schema);
  const { h, events } = harness({ log_dest: true });
  feed6(h, 1, '2001:0db8:0:0:0:0:0:7', V, 6, tcp6(40000, 22, SYN, 20));
  for (let i = 0; i < 10; i++) feed6(h, 2, '2001:db8::66', V, 6, tcp6(51000, 20 + i, SYN, 4));
  feed6(h, 3, '2001:db8::7', V, 58, icmp(128, 0, 60));
  await h.finish();
  assert.ok(events.length >= 4);
  for (const ev of events) {
    const j = jsonEvent(ev.time, 'x', ev, { src: ev.src!.toString(), dst: ev.dst!.toString(), gateway: '', quoted: '', mask: '' }, 'compat');
    assert.ok(validate(j), `${ev.kind}: ${JSON.stringify(validate.errors)}`);
    assert.equal(j.family, 6);
  }
  assert.equal(events[0]!.src!.toString(), '2001:db8::7');
});

test('the IPv6 pair table: reports and evictions never depend on the seed', () => {
  const run = (seed: number) => {
    const out: string[] = [];
    const t = new ScanTable6(
      8,
      {
        detected: (type, s, d, _dp, _sp, c, _b, now) => out.push(`D ${type} ${s} ${d} ${c} @${now}`),
        ended: (type, s, d, c, _b, now) => out.push(`E ${type} ${s} ${d} ${c} @${now}`),
      },
      new Anomalies(),
      seed,
    );
    for (let i = 0; i < 40; i++) {
      const s = words(`2001:db8::${(i % 13) + 1}`);
      for (let k = 0; k < 10; k++) t.check(Scan.FIN, s, words(V), 20, 1000, k, i);
    }
    t.sweep(1000);
    return out;
  };
  const a = run(1);
  assert.ok(a.length > 10);
  for (const seed of [2, 0x7ffffffe, 123456]) assert.deepEqual(run(seed), a);
});

test('the IPv6 pair table against a model: the least recently active pair is evicted, a pair is found again while held, words of 2^31 and more come back as written', () => {
  // a small table (8 pairs, 16 buckets: chains collide) under 3,000 packets of 24 pairs;
  // the model is a list in recency order. Addresses with words >= 2^31 (the index keeps
  // int32) and pairs that differ in one word only (same /64, same interface id, swapped).
  const addrs = ['2001:db8::1', '2001:db8:ffff:ffff:ffff:ffff:ffff:fffe', '2001:db8:8000::8000:0:1', '2001:db8:8000::8000:0:2', '2001:db8:1:2::1', '2001:db8:1:3::1'];
  const pairs: [string, string][] = [];
  for (const a of addrs) for (const b of addrs.slice(0, 4)) if (a !== b) pairs.push([a, b]);
  const detected: string[] = [];
  const an = new Anomalies();
  const t = new ScanTable6(8, { detected: (_type, s, d) => detected.push(`${s} ${d}`), ended: () => {} }, an, 0x5eed);
  const model: string[] = [];
  let evicted = 0;
  let x = 12345;
  for (let i = 0; i < 3000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const [s, d] = pairs[(x >>> 8) % pairs.length]!;
    const key = `${s} ${d}`;
    const at = model.indexOf(key);
    if (at >= 0) model.splice(at, 1);
    else if (model.length === 8) {
      model.shift();
      evicted++;
    }
    model.push(key);
    // 10 FIN packets make a FIN scan (the pair must have been held all along)
    t.check(Scan.FIN, words(s), words(d), 20, 1000, 1 + (i % 10), 100);
    assert.equal(t.size(), model.length);
    assert.equal(an.counts[A.scanEvicted], evicted, `packet ${i}`);
  }
  assert.ok(evicted > 1000, `${evicted} evictions`);
  // every reported pair is one that was sent, in RFC 5952 text
  for (const line of detected) assert.ok(pairs.some(([s, d]) => `${IpAddr.parse(s)} ${IpAddr.parse(d)}` === line), line);
  // a pair of high words, held from its first packet: its scan is detected, its addresses as sent
  const [s, d] = ['2001:db8:ffff:ffff:ffff:ffff:ffff:fffe', '2001:db8:8000::8000:0:1'];
  const before = an.counts[A.scanEvicted];
  detected.length = 0;
  for (let k = 0; k < 50 && detected.length === 0; k++) t.check(Scan.NULL, words(s), words(d), 20, 1000, k, 101);
  assert.equal(an.counts[A.scanEvicted], before + (model.includes(`${s} ${d}`) ? 0 : 1));
  assert.deepEqual(detected, [`${s} ${d}`]);
});

test('filter rules apply to ICMPv6: icmp6 rules by ICMPv6 type, icmp rules without a type; an icmp rule with a type does not', async () => {
  const { parseConfig } = await import('../../src/config/conf-parser');
  const { defaultSettings } = await import('../../src/config/options');
  const st = defaultSettings();
  const errors: string[] = [];
  parseConfig('ignore icmp6 from 2001:db8::7 type echo-request\nignore icmp from 2001:db8::8\nignore icmp type 8\n', '/etc/iplog.conf', st, (m) => errors.push(m));
  assert.deepEqual(errors, []);
  const h = new Harness({ verbose: true }, { rules: st.rules });
  feed6(h, 1, '2001:db8::7', V, 58, icmp(128, 0, 60)); // ignored (icmp6 rule)
  feed6(h, 2, '2001:db8::7', V, 58, icmp(129, 0, 60)); // another type: logged
  feed6(h, 3, '2001:db8::8', V, 58, icmp(128, 0, 60)); // ignored (icmp rule without a type)
  feed6(h, 4, '2001:db8::9', V, 58, icmp(128, 0, 60)); // `ignore icmp type 8` is about ICMP: logged
  assert.deepEqual(await h.finish(), ['ICMPv6: echo reply from 2001:db8::7 (64 bytes)', 'ICMPv6: echo request from 2001:db8::9 (64 bytes)']);
});

/**
 * The line catalogue (src/output/lines.ts): pure, both log_dest forms, roles by name, and
 * the events behind the lines keep one shape. The full wording is pinned by the
 * conformance corpus and the goldens; this covers what they cannot show.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateEvent, event, type IplogEvent } from '../../src/output/event';
import { lineText, shownRoles, hostPort, NO_HOSTS, ROLE_SRC, ROLE_DST, ROLE_GATEWAY, ROLE_QUOTED, ROLE_MASK } from '../../src/output/lines';
import { protoName } from '../../src/output/services';
import { Harness } from '../helpers/engine';
import { ipv4, tcp, udp, icmp, SYN, ECE, CWR, DF } from '../helpers/packets';
import { IpAddr } from '../../src/net/addr';

const ip = (t: string): IpAddr => IpAddr.parse(t)!;

const hosts = (src: string, dst = '', more: Partial<typeof NO_HOSTS> = {}) => ({ ...NO_HOSTS, src, dst, ...more });

test('a host followed by a port: IPv6 addresses in brackets (RFC 5952 §6), names and IPv4 as they are', () => {
  assert.equal(hostPort('192.0.2.1', 80), '192.0.2.1:80');
  assert.equal(hostPort('2001:db8::1', 54321), '[2001:db8::1]:54321');
  assert.equal(hostPort('host.example', 22), 'host.example:22');
  assert.equal(hostPort('host.example (2001:db8::1)', 22), 'host.example (2001:db8::1):22');
  const ev = event('tcp.connection_attempt', 1, ip('2001:db8::7'), { dst: ip('2001:db8::1'), sport: 54321, dport: 22, detail: { service: 'ssh', tcp_flags: 2 } });
  assert.equal(lineText(ev, hosts('2001:db8::7', '2001:db8::1'), true), 'TCP: ssh connection attempt to 2001:db8::1 from [2001:db8::7]:54321');
  const u = event('udp.datagram', 1, ip('2001:db8::7'), { dst: ip('2001:db8::1'), sport: 5353, dport: 53, bytes: 4, detail: { service: 'domain', udp_length: 12 } });
  assert.equal(lineText(u, hosts('2001:db8::7', '2001:db8::1'), true), 'UDP: dgram to [2001:db8::1]:domain from [2001:db8::7]:5353 (4 data bytes)');
});

test('roles a line shows: destination only with -D, redirect gateway and target, the quoted destination only when it is not the sender', () => {
  const base = { dst: ip('10.0.0.1'), bytes: 36 };
  const echo = event('icmp.echo', 1, ip('192.0.2.1'), { ...base, detail: { icmp_type: 8, icmp_code: 0 } });
  assert.equal(shownRoles(echo, false), ROLE_SRC);
  assert.equal(shownRoles(echo, true), ROLE_SRC | ROLE_DST);
  const redirect = event('icmp.redirect', 1, ip('192.0.2.1'), { ...base, gateway: ip('192.0.2.254'), quoted: ip('198.51.100.9'), detail: { icmp_type: 5, icmp_code: 1 } });
  assert.equal(shownRoles(redirect, true), ROLE_SRC | ROLE_GATEWAY | ROLE_QUOTED);
  assert.equal(
    lineText(redirect, hosts('192.0.2.1', '', { gateway: 'gw', quoted: '198.51.100.9' }), true),
    'ICMP: (gw) redirect 192.0.2.1 to host 198.51.100.9',
  );
  // the protocol name is /etc/protocols' (proto_lookup())
  const udpName = protoName(17);
  const facts = { icmp_type: 3, icmp_code: 3, quoted_proto: 17, quoted_sport: 1000, quoted_dport: 53 };
  const own = event('icmp.unreachable', 1, ip('192.0.2.1'), { ...base, quoted: ip('192.0.2.1'), detail: facts });
  assert.equal(shownRoles(own, false), ROLE_SRC);
  assert.equal(lineText(own, hosts('192.0.2.1'), false), `ICMP: 192.0.2.1: port is unreachable to (${udpName}: dest port 53, source port 1000)`);
  const other = event('icmp.unreachable', 1, ip('192.0.2.1'), { ...base, quoted: ip('198.51.100.9'), detail: facts });
  assert.equal(shownRoles(other, true), ROLE_SRC | ROLE_DST | ROLE_QUOTED);
  assert.equal(
    lineText(other, hosts('192.0.2.1', '10.0.0.1', { quoted: '198.51.100.9' }), true),
    `ICMP: (from 192.0.2.1) 198.51.100.9: port is unreachable to 10.0.0.1 (${udpName}: dest port 53, source port 1000)`,
  );
  const mask = event('icmp.mask_reply', 1, ip('192.0.2.1'), { ...base, mask: ip('255.255.255.0'), detail: { icmp_type: 18, icmp_code: 0 } });
  assert.equal(shownRoles(mask, false), ROLE_SRC | ROLE_MASK);
});

test('the catalogue is pure: the same event and hosts give the same text, and the event is not touched', () => {
  const ev = event('scan.detected', 5, ip('192.0.2.1'), { dst: ip('10.0.0.1'), detector: 'syn-scan', count: 10, bytes: 400, detail: { title: 'TCP: SYN scan', dports: [1, 2], dports_truncated: false, sports: [9], sports_truncated: false } });
  const before = JSON.stringify(ev);
  const a = lineText(ev, hosts('192.0.2.1', '10.0.0.1'), true);
  assert.equal(a, 'TCP: SYN scan detected to 10.0.0.1 [ports 1,2] from 192.0.2.1 [port 9]');
  assert.equal(lineText(ev, hosts('192.0.2.1', '10.0.0.1'), true), a);
  assert.equal(lineText(ev, hosts('192.0.2.1'), false), 'TCP: SYN scan detected [ports 1,2] from 192.0.2.1 [port 9]');
  assert.equal(JSON.stringify(ev), before);
});

test('every event of a run has one shape: same fields in the same order, addresses IpAddr or null, numbers numbers', async () => {
  const seen: IplogEvent[] = [];
  const h = new Harness({ log_dest: true, verbose: true });
  h.engine.out.subscribe((ev) => seen.push(ev));
  const src = '192.0.2.7';
  h.feed(1, ipv4({ src, dst: '10.0.0.1', proto: 6, frag: DF }, tcp(40000, 22, SYN)));
  h.feed(1, ipv4({ src, dst: '10.0.0.1', proto: 6, frag: DF }, tcp(40000, 80, SYN | ECE | CWR)));
  h.feed(2, ipv4({ src, dst: '10.0.0.1', proto: 17 }, udp(5000, 53, 4)));
  h.feed(2, ipv4({ src, dst: '10.0.0.1', proto: 17, ttl: 1 }, udp(5000, 33434, 4)));
  h.feed(3, ipv4({ src, dst: '10.0.0.1', proto: 1 }, icmp(8, 0, 8)));
  h.feed(3, ipv4({ src, dst: '10.0.0.1', proto: 1 }, icmp(5, 1, 40)));
  for (let i = 0; i < 12; i++) h.feed(4, ipv4({ src: '198.51.100.3', dst: '10.0.0.1', proto: 6 }, tcp(41000, 100 + i, SYN)));
  await h.finish();
  const kinds = new Set(seen.map((e) => e.kind));
  for (const k of ['tcp.connection_attempt', 'tcp.bogus_flags', 'udp.datagram', 'udp.traceroute', 'icmp.echo', 'icmp.redirect', 'scan.detected', 'scan.expired']) {
    assert.ok(kinds.has(k), `the run produced ${k}`);
  }
  const keys = Object.keys(seen[0]!).join(',');
  const types = (e: IplogEvent) => Object.values(e).map((v) => (v === null ? 'null' : typeof v));
  for (const e of seen) {
    assert.equal(Object.keys(e).join(','), keys, e.kind);
    const t = types(e);
    assert.deepEqual([t[1], t[2]], ['number', 'number'], `${e.kind}: time, family`);
    assert.ok(e.src instanceof IpAddr, `${e.kind}.src`);
    for (const f of ['dst', 'gateway', 'quoted', 'mask'] as const) assert.ok(e[f] === null || e[f] instanceof IpAddr, `${e.kind}.${f}`);
    for (const f of ['sport', 'dport', 'count', 'bytes'] as const) assert.equal(typeof e[f], 'number', `${e.kind}.${f}`);
  }
});

test('writeLine() writes the bytes of lineText() for every kind, both log_dest forms, names, IPv6, odd facts', async () => {
  const { writeLine } = await import('../../src/output/lines');
  const { ByteWriter } = await import('../../src/output/bytes');
  const s4 = ip('192.0.2.7');
  const d4 = ip('198.51.100.1');
  const s6 = ip('2001:db8::7');
  const d6 = ip('2001:db8::1');
  const evs: IplogEvent[] = [
    event('tcp.connection_attempt', 1, s4, { dst: d4, sport: 40000, dport: 22, detail: { service: 'ssh', tcp_flags: 2 } }),
    event('tcp.connection_attempt', 1, s4, { dst: d4, sport: 0, dport: 7, detail: { service: 'port 7', tcp_flags: 2, ident_user: 'rööt' } }),
    event('tcp.connection_attempt', 1, s4, { dst: d4, dport: 22, detail: { service: 'ssh', tcp_flags: 2 } }),
    event('tcp.connection_attempt', 1, s4, { dst: d4, sport: 65535, dport: 22, detail: null }),
    event('tcp.connection_attempt', 1, s6, { dst: d6, sport: 1, dport: 22, detail: { service: 'ssh', tcp_flags: 2, ident_user: 'x\ud800y' } }),
    event('udp.datagram', 1, s4, { dst: d4, sport: 5353, dport: 53, bytes: 4, detail: { service: 'domain', udp_length: 12 } }),
    event('udp.datagram', 1, s4, { dst: d4, sport: 5353, dport: 53, bytes: 0, detail: { service: 'domain', udp_length: 8 } }),
    event('udp.datagram', 1, s4, { dst: d4, sport: 5353, dport: 53, bytes: 0, detail: { service: 'domain', udp_length: 3 } }),
    event('udp.datagram', 1, s6, { dst: d6, sport: 5353, dport: 53, bytes: 4, detail: { service: 'domain', udp_length: 1234567 } }),
    event('udp.datagram', 1, s6, { dst: d6, sport: 5353, dport: 53, bytes: 4, detail: { udp_length: 8.5 } }),
    event('udp.traceroute', 1, s4, { dst: d4, sport: 5000, dport: 33434 }),
    event('icmp.echo', 1, s4, { dst: d4, bytes: 64, detail: { icmp_type: 8, icmp_code: 0 } }),
    event('scan.expired', 1, s4, { dst: d4, detector: 'syn-scan', count: 25, bytes: 500, detail: { title: 'TCP: SYN scan' } }),
    // modern aggregates (no source) and a sweep (a prefix)
    aggregateEvent('scan.detected', 1, d4, { detector: 'syn-flood', count: 1000, bytes: 20000, detail: { title: 'TCP: SYN flood', dports: [80], dports_truncated: false, sports: [], sports_truncated: false, sources: 64 } }),
    aggregateEvent('scan.expired', 1, d6, { detector: 'syn-flood', count: 3000, bytes: 60000, detail: { title: 'TCP: SYN flood' } }),
    event('scan.detected', 1, s4, { dst: d4, detector: 'port-sweep', count: 8, bytes: 160, detail: { title: 'TCP: port sweep', dports: [22], dports_truncated: false, sports: [5000], sports_truncated: false, dst_prefix: '198.51.100.0/28', dst_prefix_len: 28 } }),
  ];
  const hostSets = (ev: IplogEvent) => {
    const a = ev.src?.toString() ?? '';
    const b = ev.dst?.toString() ?? '';
    return [hosts(a, b), hosts(`host.example (${a})`, `dst.example (${b})`), hosts('naïve.example', b)];
  };
  const w = new ByteWriter(8);
  let n = 0;
  for (const ev of evs) {
    for (const h of hostSets(ev)) {
      for (const logDest of [false, true]) {
        w.reset();
        writeLine(w, ev, h, logDest);
        const want = lineText(ev, h, logDest);
        assert.equal(w.toString(), Buffer.from(want, 'utf8').toString('utf8'), `${ev.kind} ${logDest}`);
        assert.ok(w.buf.subarray(0, w.pos).equals(Buffer.from(want, 'utf8')), `${ev.kind} ${logDest}: bytes`);
        assert.equal(w.exotic, /[^\x00-\x7f]/.test(want), `${ev.kind}: exotic flag`);
        n++;
      }
    }
  }
  assert.equal(n, evs.length * 6);
});

test('the text sink writes the same framing and repeat compression from events (line()) as from texts (write())', async () => {
  const { TextSink } = await import('../../src/output/sinks/text');
  const s4 = ip('192.0.2.7');
  const d4 = ip('198.51.100.1');
  const a = event('tcp.connection_attempt', 1, s4, { dst: d4, sport: 40000, dport: 22, detail: { service: 'ssh', tcp_flags: 2 } });
  const b = event('tcp.connection_attempt', 1, s4, { dst: d4, sport: 40000, dport: 22, detail: { service: 'ssh', tcp_flags: 2, ident_user: 'x\ud800' } });
  const c = event('tcp.connection_attempt', 1, s4, { dst: d4, sport: 40000, dport: 22, detail: { service: 'ssh', tcp_flags: 2, ident_user: 'x\udc00' } });
  const h = hosts('192.0.2.7', '198.51.100.1');
  // times chosen to cross the 60 s repeat deadline
  const seq: [number, IplogEvent | string][] = [
    [1, a], [1, a], [2, a], [70, a], [70, a], [71, 'iplog started.'], [71, b], [71, b], [72, c], [72, c], [200, c], [200, a], [200, ''], [200, ''],
  ];
  const m1 = TextSink.memory();
  const m2 = TextSink.memory();
  for (const [t, x] of seq) {
    if (typeof x === 'string') {
      m1.sink.write(t, x);
      m2.sink.write(t, x);
    } else {
      m1.sink.line(t, x, h, false);
      m2.sink.write(t, lineText(x, h, false));
    }
  }
  m1.sink.close(300);
  m2.sink.close(300);
  assert.equal(m1.text(), m2.text());
  assert.match(m1.text(), /last message repeated 2 times/);
});

test('modern aggregate lines: "from many sources", D always named, no source role; a sweep names its prefix', () => {
  const d4 = ip('198.51.100.1');
  const ev = aggregateEvent('scan.detected', 1, d4, { detector: 'syn-flood', count: 1000, bytes: 20000, detail: { title: 'TCP: SYN flood', dports: [80], dports_truncated: false, sports: [], sports_truncated: false } });
  assert.equal(ev.src, null);
  assert.equal(ev.family, 4);
  for (const logDest of [false, true]) {
    assert.equal(shownRoles(ev, logDest), ROLE_DST);
    assert.equal(lineText(ev, { ...NO_HOSTS, dst: '198.51.100.1' }, logDest), 'TCP: SYN flood detected to 198.51.100.1 [port 80] from many sources');
  }
  const end = aggregateEvent('scan.expired', 1, d4, { detector: 'syn-flood', count: 3000, bytes: 60000, detail: { title: 'TCP: SYN flood' } });
  assert.equal(lineText(end, { ...NO_HOSTS, dst: '198.51.100.1' }, false), 'TCP: SYN flood mode to 198.51.100.1 expired for many sources - received a total of 3000 packets (60000 bytes).');
  const sweep = event('scan.detected', 1, ip('203.0.113.9'), { dst: ip('198.51.100.0'), detector: 'port-sweep', detail: { title: 'TCP: port sweep', dports: [22], dports_truncated: false, sports: [5000], sports_truncated: false, dst_prefix: '198.51.100.0/28' } });
  assert.equal(lineText(sweep, { ...NO_HOSTS, src: '203.0.113.9' }, false), 'TCP: port sweep detected to 198.51.100.0/28 [port 22] from 203.0.113.9 [port 5000]');
});

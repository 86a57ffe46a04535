/**
 * The JSON sink writes its objects by hand (issue 10); they must be byte for byte what
 * JSON.stringify(jsonEvent(...)) gives, which docs/json-events.md and the schema
 * describe. Random events of every shape against the general path, and the lines of
 * events (line()) against their texts (write()).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { JsonSink, jsonEvent } from '../../src/output/sinks/json';
import { event, type IplogEvent, type DetailValue } from '../../src/output/event';
import { lineText, NO_HOSTS, type RoleHosts } from '../../src/output/lines';
import { IpAddr } from '../../src/net/addr';

const addr4 = fc.integer({ min: 0, max: 0xffffffff }).map((n) => IpAddr.v4(n));
const addr6 = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff })).map(([a, b, c, d]) => IpAddr.v6(a, b, c, d));
const addr = fc.oneof(addr4, addr6);
const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.constantFrom('ssh', 'port 7', 'a"b', 'c\\d', 'e\nf', '\u2028', '\ud800', 'ü'));
const num = fc.oneof(fc.integer({ min: -1, max: 65535 }), fc.constantFrom(-1, 0, 2 ** 31, 2 ** 40, 2 ** 53, 0.5, -0, NaN, Infinity, 1e21, 1e-7));
const value: fc.Arbitrary<DetailValue | undefined> = fc.oneof(text, num, fc.boolean(), fc.constant(null), fc.constant(undefined), fc.array(num, { maxLength: 4 }), fc.array(text, { maxLength: 3 }));
const key = fc.oneof(fc.constantFrom('service', 'tcp_flags', 'title', 'dports', 'icmp_type', 'spoofable', 'proof', 'source_role', '7', '12', 'gateway_host', 'quoted_dst_host'), fc.string({ maxLength: 6 }));
const detail = fc.option(fc.dictionary(key, value, { maxKeys: 6 }), { nil: null });
const kind = fc.constantFrom('tcp.connection_attempt', 'udp.datagram', 'scan.detected', 'scan.expired', 'icmp.redirect', 'icmp.unreachable', 'icmp.mask_reply', 'ban.added', 'log.match', 'icmp6.redirect');
const host = fc.oneof(fc.constant(''), text);

const evArb = fc.record({
  kind,
  time: fc.oneof(fc.integer({ min: 0, max: 2 ** 33 }), fc.constant(1704067200)),
  src: addr,
  dst: fc.option(addr, { nil: null }),
  gateway: fc.option(addr, { nil: null }),
  quoted: fc.option(addr, { nil: null }),
  sport: num,
  dport: num,
  detector: fc.option(text, { nil: null }),
  count: num,
  bytes: num,
  detail,
});

const hostsArb: fc.Arbitrary<RoleHosts | undefined> = fc.option(fc.record({ src: host, dst: host, gateway: host, quoted: host, mask: host }), { nil: undefined });

function general(now: number, t: string, ev: IplogEvent | undefined, hosts: RoleHosts | undefined, profile: 'compat' | 'modern'): string {
  return JSON.stringify(jsonEvent(now, t, ev, hosts, profile)) + '\n';
}

test('hand-written JSON events are byte for byte JSON.stringify(jsonEvent()) for random events, hosts and texts', () => {
  fc.assert(
    fc.property(evArb, hostsArb, text, fc.constantFrom('compat' as const, 'modern' as const), (e, hosts, t, profile) => {
      const ev = event(e.kind, e.time, e.src, {
        dst: e.dst, gateway: e.gateway, quoted: e.quoted, sport: e.sport, dport: e.dport,
        detector: e.detector, count: e.count, bytes: e.bytes, detail: e.detail as IplogEvent['detail'],
      });
      const m = JsonSink.memory(profile);
      m.sink.write(e.time, t, ev, hosts);
      m.sink.flush();
      assert.equal(m.text(), general(e.time, t, ev, hosts, profile));
    }),
    { numRuns: 3000 },
  );
});

test('a line written from its event (line()) is the JSON of its text (write()), with and without log_dest', () => {
  fc.assert(
    fc.property(evArb, fc.record({ src: host, dst: host, gateway: host, quoted: host, mask: host }), fc.boolean(), (e, hosts, logDest) => {
      const ev = event(e.kind, e.time, e.src, { dst: e.dst, sport: e.sport, dport: e.dport, count: e.count, bytes: e.bytes, detail: e.detail as IplogEvent['detail'] });
      const m = JsonSink.memory('compat');
      let want: string;
      try {
        want = lineText(ev, hosts, logDest);
      } catch {
        // a detail no detector makes (a port list that is no list): both paths refuse it
        assert.throws(() => m.sink.line(e.time, ev, hosts, logDest));
        return;
      }
      m.sink.line(e.time, ev, hosts, logDest);
      m.sink.flush();
      assert.equal(m.text(), general(e.time, want, ev, hosts, 'compat'));
    }),
    { numRuns: 2000 },
  );
  // the common line, exactly
  const ev = event('tcp.connection_attempt', 1704067200, IpAddr.v4(0xc6120000), { dst: IpAddr.v4(0xc6130001), sport: 25605, dport: 44636, detail: { service: 'port 44636', tcp_flags: 2 } });
  const m = JsonSink.memory('compat');
  m.sink.line(ev.time, ev, { ...NO_HOSTS, src: '198.18.0.0' }, false);
  m.sink.flush();
  assert.equal(
    m.text(),
    '{"schema_version":1,"time":"2024-01-01T00:00:00Z","epoch":1704067200,"kind":"tcp.connection_attempt","profile":"compat","family":4,"src":"198.18.0.0","sport":25605,"src_host":"198.18.0.0","src_name":null,"dst":"198.19.0.1","dport":44636,"dst_host":null,"dst_name":null,"detector":null,"count":null,"bytes":null,"detail":{"service":"port 44636","tcp_flags":2},"text":"TCP: port 44636 connection attempt from 198.18.0.0:25605"}\n',
  );
});

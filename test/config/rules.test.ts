/**
 * Rule matching (rules/compile.ts): the conformance configs against the packets of
 * crafted_filters.pcap / crafted_icmp_types.pcap with the decisions the original made
 * (which lines its logs lack), every matching quirk, the -d nameserver rules, and a
 * property test against a direct transcription of the original's matching functions.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makeConfigEnv, parseConfig } from '../../src/config/conf-parser';
import { defaultSettings } from '../../src/config/options';
import type { Profile, Rule, RuleLists, Settings } from '../../src/config/settings';
import { addNameserverRules, compileRules } from '../../src/rules/compile';
import { fixture, ip, oracleEnv, splitOracleLog } from './fixtures';
import { IpAddr } from '../../src/net/addr';

function load(text: string, env = oracleEnv()): Settings {
  const settings = defaultSettings();
  parseConfig(text, '/etc/iplog.conf', settings, () => undefined, env);
  return settings;
}

function lists(partial: Partial<RuleLists>): RuleLists {
  return { tcp: [], udp: [], icmp: [], ...partial };
}

function rule(over: Partial<Rule> & Pick<Rule, 'proto'>): Rule {
  return {
    action: 'ignore',
    from: { any: true, negate: false, addr: 0, mask: 0xffffffff },
    to: { any: true, negate: false, addr: 0, mask: 0xffffffff },
    sport: { lo: 0, hi: 65535, negate: false },
    dport: { lo: 0, hi: 65535, negate: false },
    icmpType: -1,
    icmpNegate: false,
    line: 1,
    ...over,
  };
}

const D = ip('127.0.0.1');

/** The packets of generators/gen_filters.py and the line 2.2.3 logged for each by default. */
const FILTER_PACKETS: Array<{ line: string; proto: 'tcp' | 'udp' | 'icmp'; src: string; sport: number; dport: number }> = [
  { line: 'TCP: http connection attempt from 127.0.7.2:1000', proto: 'tcp', src: '127.0.7.2', sport: 1000, dport: 80 },
  { line: 'TCP: http connection attempt from 127.0.7.1:1000', proto: 'tcp', src: '127.0.7.1', sport: 1000, dport: 80 },
  { line: 'TCP: ssh connection attempt from 127.0.7.2:1001', proto: 'tcp', src: '127.0.7.2', sport: 1001, dport: 22 },
  { line: 'TCP: telnet connection attempt from 127.0.7.2:1002', proto: 'tcp', src: '127.0.7.2', sport: 1002, dport: 23 },
  { line: 'TCP: smtp connection attempt from 127.0.7.2:1003', proto: 'tcp', src: '127.0.7.2', sport: 1003, dport: 25 },
  { line: 'TCP: http-alt connection attempt from 127.0.7.2:1004', proto: 'tcp', src: '127.0.7.2', sport: 1004, dport: 8080 },
  { line: 'UDP: dgram to port 1024 from 127.0.7.3:53 (4 data bytes)', proto: 'udp', src: '127.0.7.3', sport: 53, dport: 1024 },
  { line: 'UDP: dgram to port 1024 from 127.0.7.3:54 (4 data bytes)', proto: 'udp', src: '127.0.7.3', sport: 54, dport: 1024 },
  { line: 'UDP: dgram to discard from 127.0.8.5:999 (4 data bytes)', proto: 'udp', src: '127.0.8.5', sport: 999, dport: 9 },
  { line: 'ICMP: echo from 127.0.7.4 (16 bytes)', proto: 'icmp', src: '127.0.7.4', sport: 0, dport: 8 },
  { line: 'ICMP: echo reply from 127.0.7.4 (16 bytes)', proto: 'icmp', src: '127.0.7.4', sport: 0, dport: 0 },
  { line: 'ICMP: 127.0.7.4: port is unreachable to (udp: dest port 6, source port 5)', proto: 'icmp', src: '127.0.7.4', sport: 0, dport: 3 },
  { line: 'TCP: https connection attempt from 127.0.7.5:1005', proto: 'tcp', src: '127.0.7.5', sport: 1005, dport: 443 },
  { line: 'TCP: https connection attempt from 0.0.0.0:1006', proto: 'tcp', src: '0.0.0.0', sport: 1006, dport: 443 },
];

function decisions(settings: Settings, profile: Profile = 'compat'): boolean[] {
  const m = compileRules(settings.rules, { profile });
  return FILTER_PACKETS.map((p) =>
    p.proto === 'icmp' ? m.icmp(ip(p.src), D, p.dport) : m[p.proto](ip(p.src), D, p.sport, p.dport),
  );
}

/** What 2.2.3 ignored: the default-run lines missing from the config run's log. */
function oracleIgnored(logName: string): boolean[] {
  const logged = new Set(splitOracleLog(fixture('config', logName)).timed);
  return FILTER_PACKETS.map((p) => !logged.has(p.line));
}

describe('conformance: decisions of iplog 2.2.3', () => {
  test('filters.conf on crafted_filters.pcap (incl. the !22 and 0.0.0.0 quirks)', () => {
    const expected = oracleIgnored('crafted_filters.conf_filters.log');
    assert.deepEqual(decisions(load(fixture('config', 'filters.conf'))), expected);
    // sanity: the quirks are really exercised
    assert.deepEqual(
      FILTER_PACKETS.filter((_p, i) => expected[i]).map((p) => `${p.src}:${p.dport}`),
      ['127.0.7.2:80', '127.0.7.2:23', '127.0.7.3:1024', '127.0.8.5:9', '127.0.7.4:0', '127.0.7.4:3', '127.0.7.5:443', '0.0.0.0:443'],
    );
  });

  test('badhost.conf: 2.2.3 ignored https from everyone; the rule is dropped here (deviation a)', () => {
    const oracle = oracleIgnored('crafted_filters.conf_badhost.log');
    assert.deepEqual(
      FILTER_PACKETS.filter((_p, i) => oracle[i]).map((p) => p.src),
      ['127.0.7.5', '0.0.0.0'],
    );
    assert.deepEqual(decisions(load(fixture('config', 'badhost.conf'))), FILTER_PACKETS.map(() => false));
  });

  test('icmpnames.conf on crafted_icmp_types.pcap: echo (8) and timestamp request (13) ignored', () => {
    const m = compileRules(load(fixture('config', 'icmpnames.conf')).rules);
    const ignored = [...Array(256).keys()].filter((t) => m.icmp(ip('127.0.0.2'), D, t));
    assert.deepEqual(ignored, [8, 13]);
    // The oracle log lost exactly the echo line and the type-13 line.
    const def = new Set(['ICMP: echo from 127.0.0.2 (64 bytes)', 'ICMP: timestamp request from 127.0.0.2']);
    const logged = new Set(splitOracleLog(fixture('config', 'crafted_icmp_types.conf_icmpnames.log')).timed);
    for (const line of def) assert.ok(!logged.has(line), line);
    assert.ok(logged.has('ICMP: timestamp request from 127.0.0.2 (12:34:56)'), 'type 14 still logged');
  });

  test('modern profile: !22 means "not 22", 0.0.0.0 is an ordinary address', () => {
    const got = decisions(load(fixture('config', 'filters.conf')), 'modern');
    const at = (src: string, dport: number): boolean =>
      got[FILTER_PACKETS.findIndex((p) => p.src === src && p.dport === dport)];
    assert.equal(at('127.0.7.2', 22), false);
    assert.equal(at('127.0.7.2', 23), true);
    assert.equal(at('127.0.7.2', 25), true); // "ignore tcp dport !22" now ignores smtp too
    // Still ignored, but now by "dport !22" (443 is not 22), not by "from 127.0.7.5".
    assert.equal(at('0.0.0.0', 443), true);
    const only5 = compileRules(load('ignore tcp from 127.0.7.5 dport https\n').rules, { profile: 'modern' });
    assert.equal(only5.tcp(0, D, 1006, 443), false);
    assert.equal(compileRules(load('ignore tcp from 127.0.7.5 dport https\n').rules).tcp(0, D, 1006, 443), true);
  });
});

describe('matching semantics', () => {
  test('first matching rule decides; log = false; no match = false; empty lists', () => {
    const m = compileRules(
      lists({
        tcp: [
          rule({ proto: 'tcp', action: 'log', from: { any: false, negate: false, addr: ip('10.0.0.1'), mask: 0xffffffff } }),
          rule({ proto: 'tcp', dport: { lo: 80, hi: 80, negate: false } }),
        ],
      }),
    );
    assert.equal(m.tcp(ip('10.0.0.1'), D, 1, 80), false);
    assert.equal(m.tcp(ip('10.0.0.2'), D, 1, 80), true);
    assert.equal(m.tcp(ip('10.0.0.2'), D, 1, 81), false);
    assert.equal(m.udp(ip('10.0.0.2'), D, 1, 80), false);
    assert.equal(m.icmp(ip('10.0.0.2'), D, 8), false);
  });

  test('port ranges with 0 as an open end', () => {
    const check = (lo: number, hi: number, port: number): boolean =>
      compileRules(lists({ udp: [rule({ proto: 'udp', sport: { lo, hi, negate: false } })] })).udp(1, 2, port, 9);
    assert.equal(check(0, 0, 12345), true, '0:0 any');
    assert.equal(check(53, 53, 53), true);
    assert.equal(check(53, 53, 54), false);
    assert.equal(check(0, 1023, 1023), true);
    assert.equal(check(0, 1023, 1024), false);
    assert.equal(check(1024, 65535, 1023), false);
    assert.equal(check(1024, 65535, 65535), true);
    assert.equal(check(10, 20, 0), false);
  });

  test('compat `!port` flips the packet port\'s lowest bit (quirk 17)', () => {
    const m = (port: number, profile: Profile): boolean =>
      compileRules(lists({ tcp: [rule({ proto: 'tcp', dport: { lo: 22, hi: 22, negate: true } })] }), { profile }).tcp(1, 2, 3, port);
    assert.deepEqual([21, 22, 23, 24].map((p) => m(p, 'compat')), [false, false, true, false]);
    assert.deepEqual([21, 22, 23, 24].map((p) => m(p, 'modern')), [true, false, true, true]);
    const s80 = compileRules(lists({ tcp: [rule({ proto: 'tcp', sport: { lo: 80, hi: 80, negate: true } })] }));
    assert.equal(s80.tcp(1, 2, 81, 9), true);
    assert.equal(s80.tcp(1, 2, 80, 9), false);
  });

  test('addresses: masks, negation, any, uint32 and int32 forms', () => {
    const net = (addr: string, mask: number, negate = false): Rule['from'] => ({ any: false, negate, addr: ip(addr), mask });
    const m = compileRules(
      lists({
        tcp: [rule({ proto: 'tcp', from: net('192.168.1.0', 0xffffff00), to: net('10.0.0.0', 0xff000000, true) })],
      }),
    );
    assert.equal(m.tcp(ip('192.168.1.77'), ip('11.0.0.1'), 1, 1), true);
    assert.equal(m.tcp(ip('192.168.1.77') | 0, ip('11.0.0.1'), 1, 1), true, 'int32 form');
    assert.equal(m.tcp(ip('192.168.2.77'), ip('11.0.0.1'), 1, 1), false);
    assert.equal(m.tcp(ip('192.168.1.77'), ip('10.9.9.9'), 1, 1), false, 'negated to');
    // `!*` never matches (except nothing)
    const never = compileRules(lists({ udp: [rule({ proto: 'udp', from: { any: true, negate: true, addr: 0, mask: 0xffffffff } })] }));
    assert.equal(never.udp(ip('1.2.3.4'), D, 1, 1), false);
  });

  test('packet address 0.0.0.0 matches every address test in compat (quirk 18), not in modern', () => {
    const r = lists({
      udp: [rule({ proto: 'udp', from: { any: false, negate: false, addr: ip('10.0.0.1'), mask: 0xffffffff } })],
    });
    assert.equal(compileRules(r).udp(0, D, 1, 1), true);
    assert.equal(compileRules(r, { profile: 'modern' }).udp(0, D, 1, 1), false);
    // ... and makes a negated test fail in compat
    const neg = lists({ udp: [rule({ proto: 'udp', from: { any: false, negate: true, addr: ip('10.0.0.1'), mask: 0xffffffff } })] });
    assert.equal(compileRules(neg).udp(0, D, 1, 1), false);
    assert.equal(compileRules(neg, { profile: 'modern' }).udp(0, D, 1, 1), true);
  });

  test('ICMP type: any, equality, negation', () => {
    const m = compileRules(
      lists({
        icmp: [
          rule({ proto: 'icmp', action: 'log', icmpType: 3 }),
          rule({ proto: 'icmp', icmpType: 8, icmpNegate: true }),
        ],
      }),
    );
    assert.equal(m.icmp(1, 2, 3), false);
    assert.equal(m.icmp(1, 2, 8), false);
    assert.equal(m.icmp(1, 2, 0), true);
    assert.equal(m.icmp(1, 2, 255), true);
  });
});

describe('-d nameserver rules (addNameserverRules)', () => {
  test('UDP from each nameserver with source port 53, prepended; IPv6 ones for IPv6 packets; unknown names skipped', () => {
    const env = makeConfigEnv('127.0.0.1 localhost\n192.0.2.1 ns ns-alias\n192.0.2.2 ns\n', '');
    const l = lists({ udp: [rule({ proto: 'udp', action: 'log', line: 7 })] });
    const resolv = [
      '# comment',
      'search example.org',
      'nameserver 127.0.0.53',
      'nameserver ::1',
      'nameserver 2001:db8::53',
      'nameserver ns',
      'nameserver nosuchhost',
      'nameserver',
      '  nameserver\t10.0.0.1\r',
      'Nameserver 10.9.9.9',
    ].join('\n');
    assert.equal(addNameserverRules(l, resolv, env), 6);
    assert.deepEqual(
      l.udp.map(
        (r) =>
          `${r.action} ${r.from.v6 ? r.from.v6.toString() : `${r.from.addr >>> 24}.${(r.from.addr >>> 16) & 255}.${(r.from.addr >>> 8) & 255}.${r.from.addr & 255}`}:${r.sport.lo}-${r.sport.hi}`,
      ),
      ['ignore 10.0.0.1:53-53', 'ignore 192.0.2.2:53-53', 'ignore 192.0.2.1:53-53', 'ignore 2001:db8::53/128:53-53', 'ignore ::1/128:53-53', 'ignore 127.0.0.53:53-53', 'log 0.0.0.0:0-65535'],
    );
    const m = compileRules(l);
    assert.equal(m.udp(ip('127.0.0.53'), ip('10.1.1.1'), 53, 40000), true);
    assert.equal(m.udp(ip('127.0.0.53'), ip('10.1.1.1'), 54, 40000), false);
    assert.equal(m.udp(ip('10.9.9.9'), ip('10.1.1.1'), 53, 40000), false);
    assert.equal(m.udp6(w6('2001:db8::53'), w6('2001:db8::1'), 53, 40000), true);
    assert.equal(m.udp6(w6('2001:db8::54'), w6('2001:db8::1'), 53, 40000), false);
    assert.equal(m.udp6(w6('::1'), w6('2001:db8::1'), 54, 40000), false);
  });
});

describe('IPv6 rule addresses', () => {
  const conf = [
    'ignore tcp from 2001:db8:1::/48 to * dport 22',
    'ignore udp from !2001:db8::/32',
    'ignore tcp from 192.0.2.0/24',
    'ignore icmp from 2001:db8::7',
    'ignore icmp type 8',
    'log tcp from 2001:db8:1:2::/64',
  ].join('\n');

  test('parsed as networks of IPv6 packets; errors named', () => {
    const st = load(conf);
    const tcp = st.rules.tcp.map((r) => r.from.v6?.toString() ?? (r.from.any ? '*' : r.from.addr.toString(16)));
    assert.deepEqual(tcp.sort(), ['2001:db8:1:2::/64', '2001:db8:1::/48', 'c0000200']);
    const errors: string[] = [];
    parseConfig('ignore tcp from 2001:db8::/129\nignore tcp from 2001:db8:::1\n', '/etc/iplog.conf', defaultSettings(), (m) => errors.push(m), oracleEnv());
    assert.equal(errors.length, 2, errors.join(' | '));
    assert.match(errors[0]!, /Invalid mask: must be in range 0 - 128/);
    assert.match(errors[1]!, /Unknown host: "2001:db8:::1"/);
  });

  for (const profile of ['compat', 'modern'] as const) {
    test(`${profile}: an address of the other family never matches; IPv4 decisions unchanged`, () => {
      const m = compileRules(load(conf).rules, { profile });
      // IPv6 packets
      assert.equal(m.tcp6(w6('2001:db8:1:ff::1'), w6('2001:db8::2'), 40000, 22), true);
      assert.equal(m.tcp6(w6('2001:db8:1:ff::1'), w6('2001:db8::2'), 40000, 23), false);
      assert.equal(m.tcp6(w6('2001:db8:2::1'), w6('2001:db8::2'), 40000, 22), false);
      assert.equal(m.tcp6(w6('2001:db8:1:2::9'), w6('2001:db8::2'), 40000, 22), false, 'the log rule comes first');
      assert.equal(m.udp6(w6('2001:db9::1'), w6('2001:db8::2'), 1, 2), true, '!2001:db8::/32 holds 2001:db9::1');
      assert.equal(m.udp6(w6('2001:db8::1'), w6('2001:db8::2'), 1, 2), false);
      assert.equal(m.icmp6(w6('2001:db8::7'), w6('2001:db8::2'), 128), true);
      assert.equal(m.icmp6(w6('2001:db8::8'), w6('2001:db8::2'), 128), false, 'a rule with an ICMP type is about IPv4');
      assert.equal(m.icmp6(w6('2001:db8::8'), w6('2001:db8::2'), 8), false);
      assert.equal(m.icmp(ip('198.51.100.9'), ip('198.51.100.1'), 8), true);
      // the IPv4 rule does not touch IPv6 packets, and the IPv6 rules not IPv4 ones
      assert.equal(m.tcp6(w6('::ffff:192.0.2.5'), w6('2001:db8::2'), 1, 2), false);
      assert.equal(m.tcp(ip('192.0.2.5'), ip('198.51.100.1'), 1, 2), true);
      assert.equal(m.tcp(ip('198.51.100.9'), ip('198.51.100.1'), 40000, 22), false);
      // a negated IPv6 address is true of every IPv4 packet
      assert.equal(m.udp(ip('198.51.100.9'), ip('198.51.100.1'), 1, 2), true);
      assert.equal(m.icmp(ip('198.51.100.9'), ip('198.51.100.1'), 128), false);
    });
  }
});

describe('icmp6 rules (ICMPv6 types)', () => {
  const conf = [
    'ignore icmp6 type neighbor-solicitation',
    'ignore icmp6 from 2001:db8:5::/48 type !echo-request',
    'log icmp6 from 2001:db8:5::9 type 129',
    'ignore icmp type echo-request',
    'ignore icmp6 type 300',
    'ignore icmp6 type echo',
    'ignore icmp6 sport 1',
  ].join('\n');

  test('parsed with ICMPv6 type names and numbers; errors named; IPv4 ICMP untouched', () => {
    const errors: string[] = [];
    const st = defaultSettings();
    parseConfig(conf, '/etc/iplog.conf', st, (m) => errors.push(m), oracleEnv());
    assert.equal(errors.length, 3, errors.join(' | '));
    assert.match(errors[0]!, /Invalid ICMPv6 type: 300 \(must be 0 - 255\)/);
    assert.match(errors[1]!, /Unknown ICMPv6 type: echo/);
    assert.match(errors[2]!, /Invalid filter keyword: sport/);
    assert.deepEqual(st.rules.icmp.map((r) => [r.action, r.icmp6 === true, r.icmpType, r.icmpNegate]), [
      ['log', true, 129, false],
      ['ignore', true, 135, false],
      ['ignore', true, 128, true],
      ['ignore', false, 8, false],
    ]);
    // `ignore icmp6` without a clause is a rule for all ICMPv6, not `set icmp false`
    const all = load('ignore icmp6\n');
    assert.equal(all.flags.icmp, true);
    assert.equal(all.rules.icmp.length, 1);
  });

  for (const profile of ['compat', 'modern'] as const) {
    test(`${profile}: an icmp6 rule is about ICMPv6 only, its type an ICMPv6 type`, () => {
      const m = compileRules(load(conf).rules, { profile });
      const a = w6('2001:db8::1');
      const d = w6('2001:db8::2');
      assert.equal(m.icmp6(a, d, 135), true, 'neighbour solicitations ignored');
      assert.equal(m.icmp6(a, d, 128), false);
      assert.equal(m.icmp6(a, d, 8), false, 'the IPv4 echo-request rule is not about ICMPv6');
      assert.equal(m.icmp6(w6('2001:db8:5::1'), d, 1), true, '!echo-request from 2001:db8:5::/48');
      assert.equal(m.icmp6(w6('2001:db8:5::1'), d, 128), false);
      assert.equal(m.icmp6(w6('2001:db8:5::9'), d, 129), false, 'the log rule comes first');
      assert.equal(m.icmp6(w6('2001:db8:5::8'), d, 129), true);
      // IPv4 ICMP: only the icmp rule
      assert.equal(m.icmp(ip('198.51.100.9'), ip('198.51.100.1'), 8), true);
      assert.equal(m.icmp(ip('198.51.100.9'), ip('198.51.100.1'), 135 & 0xff), false);
      assert.equal(m.icmp(ip('198.51.100.9'), ip('198.51.100.1'), 0), false);
    });
  }
});

function w6(text: string): Uint32Array {
  const a = IpAddr.parse(text)!;
  return new Uint32Array([a.w0, a.w1, a.w2, a.w3]);
}

// ---------------------------------------------------------------------------
// Property: the compiled matcher equals a transcription of iplog_config.c.

function refAddr(t: Rule['from'], host: number, modern: boolean): boolean {
  const addr = t.any ? 0 : t.addr >>> 0;
  const m = addr === 0 || (!modern && host === 0) || ((host ^ addr) & t.mask) >>> 0 === 0;
  return m !== t.negate;
}

function refPort(lo: number, hi: number, port: number): boolean {
  if (hi === 0 && lo === 0) return true;
  if (hi === lo) return hi === port;
  if (!hi) return lo <= port;
  if (!lo) return hi >= port;
  return hi >= port && lo <= port;
}

function reference(rules: Rule[], src: number, dst: number, sport: number, dport: number, type: number, modern: boolean): boolean {
  for (const r of rules) {
    if (!refAddr(r.from, src, modern) || !refAddr(r.to, dst, modern)) continue;
    if (r.proto === 'icmp') {
      if ((r.icmpType === -1 || r.icmpType === type) === r.icmpNegate) continue;
    } else if (modern) {
      if (refPort(r.dport.lo, r.dport.hi, dport) === r.dport.negate) continue;
      if (refPort(r.sport.lo, r.sport.hi, sport) === r.sport.negate) continue;
    } else {
      if (!refPort(r.dport.lo, r.dport.hi, r.dport.negate ? dport ^ 1 : dport)) continue;
      if (!refPort(r.sport.lo, r.sport.hi, r.sport.negate ? sport ^ 1 : sport)) continue;
    }
    return r.action === 'ignore';
  }
  return false;
}

test('property: compiled matcher = reference transcription (both profiles)', () => {
  // Small address and port spaces so that matches actually happen.
  const addrArb = fc.constantFrom(0, ip('10.0.0.1'), ip('10.0.0.2'), ip('10.1.0.1'), ip('192.168.1.1'), 0xffffffff);
  const maskArb = fc.constantFrom(0xffffffff, 0xffff0000, 0xff000000, 0);
  const testArb = fc.record({ any: fc.boolean(), negate: fc.boolean(), addr: addrArb, mask: maskArb });
  const portArb = fc.constantFrom(0, 1, 22, 23, 80, 81, 1024, 65535);
  const portTestArb = fc
    .record({ a: portArb, b: portArb, negate: fc.boolean() })
    .map(({ a, b, negate }) => ({ lo: Math.min(a, b), hi: Math.max(a, b), negate }));
  const ruleArb = (proto: 'tcp' | 'icmp') =>
    fc.record({
      action: fc.constantFrom<'log' | 'ignore'>('log', 'ignore'),
      from: testArb,
      to: testArb,
      sport: portTestArb,
      dport: portTestArb,
      icmpType: fc.constantFrom(-1, 0, 3, 8),
      icmpNegate: fc.boolean(),
    }).map((r) => ({ ...r, proto, line: 1, from: { ...r.from, any: r.from.any || r.from.addr === 0 }, to: { ...r.to, any: r.to.any || r.to.addr === 0 } }) as Rule);
  fc.assert(
    fc.property(
      fc.array(ruleArb('tcp'), { maxLength: 5 }),
      fc.array(ruleArb('icmp'), { maxLength: 5 }),
      addrArb,
      addrArb,
      portArb,
      portArb,
      fc.constantFrom(0, 3, 8, 13),
      fc.boolean(),
      (tcp, icmp, src, dst, sport, dport, type, modern) => {
        const m = compileRules(lists({ tcp, icmp }), { profile: modern ? 'modern' : 'compat' });
        assert.equal(m.tcp(src, dst, sport, dport), reference(tcp, src, dst, sport, dport, type, modern));
        assert.equal(m.icmp(src, dst, type), reference(icmp, src, dst, sport, dport, type, modern));
      },
    ),
    { numRuns: 3000 },
  );
});

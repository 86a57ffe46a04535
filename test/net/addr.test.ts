/** src/net/addr.ts: the two-family address type (RFC 5952 text, parsing, networks, hashing). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import { IpAddr, Cidr, parseIp, parseCidr, parseIpv4, parseIpv6, formatIpv6, hostPort, hashIpv4, hashIpv6, hashIpv6Pair, cidrOf, ipFamily } from '../../src/net/addr';

const ip = (t: string): IpAddr => {
  const a = parseIp(t);
  assert.ok(a, `parses ${t}`);
  return a;
};

test('RFC 5952 text: lower case, no leading zeros, longest zero run, first on a tie', () => {
  const cases: [string, string][] = [
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // tie: the first run (§4.2.3)
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed (§4.2.2)
    ['2001:db8:0:0:0:1:0:0', '2001:db8::1:0:0'], // the longest run wins
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['fe80::0001', 'fe80::1'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'], // IPv4-mapped: mixed notation (§5)
    ['::ffff:c000:0201', '::ffff:192.0.2.1'],
    ['::192.0.2.1', '::c000:201'], // IPv4-compatible (deprecated): plain hex
    ['2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff'],
  ];
  for (const [input, want] of cases) assert.equal(ip(input).toString(), want, input);
});

test('parsing is strict (inet_pton), and agrees with node on what is IPv6', () => {
  for (const bad of ['', ':', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::1', 'fe80::1%eth0', '[::1]', '::1/128', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.04', ' 1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', ':1.2.3.4', '::1.2.3.256', '1::2:'])
    assert.equal(parseIp(bad), undefined, JSON.stringify(bad));
  for (const good of ['::', '::1', '1::', '2001:db8::1', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:1.2.3.4', '::ffff:1.2.3.4', '1::1.2.3.4', 'FFFF:ffff::'])
    assert.ok(parseIp(good), good);
  // a sample of spellings: every one node calls IPv6 parses here to the same words
  const spellings = ['1:0:0:0:0:0:0:0', '0:0:0:0:0:0:0:1', 'a:b::c:d', '::a:b:c:d:e:f:1', '1:2:3:4:5:6:7::', '::1:2:3:4:5:6:7'];
  for (const s of spellings) {
    assert.ok(isIPv6(s));
    const a = ip(s);
    assert.ok(ip(a.toString()).equals(a), `round trip of ${s}`);
  }
  assert.equal(parseIpv4('192.0.2.255'), 0xc00002ff);
  assert.equal(parseIpv4('0.0.0.0'), 0);
  assert.deepEqual(parseIpv6('2001:db8::1'), [0x20010db8, 0, 0, 1]);
  assert.equal(ipFamily('192.0.2.1'), 4);
  assert.equal(ipFamily('2001:db8::'), 6);
  assert.equal(ipFamily('example.org'), 0);
});

test('words, bytes and bigint agree', () => {
  const a = ip('2001:db8:1:2:3:4:5:6');
  assert.deepEqual([a.w0, a.w1, a.w2, a.w3], [0x20010db8, 0x00010002, 0x00030004, 0x00050006]);
  const bytes = Buffer.from('20010db8000100020003000400050006', 'hex');
  assert.ok(IpAddr.v6FromBytes(bytes, 0).equals(a));
  assert.ok(IpAddr.v6FromWords(new Uint32Array([0x20010db8, 0x00010002, 0x00030004, 0x00050006])).equals(a));
  assert.equal(a.toBigInt(), 0x20010db8000100020003000400050006n);
  assert.ok(IpAddr.fromBigInt(6, a.toBigInt()).equals(a));
  assert.equal(IpAddr.v4(0xc0000201).toString(), '192.0.2.1');
  assert.equal(formatIpv6(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff), 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
});

test('equality and hashing: one address, one key, across families distinct', () => {
  assert.ok(ip('2001:DB8::1').equals(ip('2001:db8:0::1')));
  assert.ok(!ip('::c000:201').equals(ip('192.0.2.1')), 'IPv4-compatible is not the IPv4 host');
  assert.equal(ip('2001:db8::1').hash(7), ip('2001:db8:0:0::1').hash(7));
  assert.equal(ip('2001:db8::1').hash(7), hashIpv6(7, 0x20010db8, 0, 0, 1));
  assert.equal(ip('192.0.2.1').hash(7), hashIpv4(7, 0xc0000201));
  // the seed changes the hash (attacker-chosen keys), and the hash spreads nearby addresses
  assert.notEqual(ip('2001:db8::1').hash(1), ip('2001:db8::1').hash(2));
  const buckets = new Set<number>();
  for (let i = 0; i < 256; i++) buckets.add(hashIpv6(99, 0x20010db8, 0, 0, i) & 255);
  assert.ok(buckets.size > 128, `256 consecutive hosts spread over ${buckets.size} of 256 buckets`);
});

test('the IPv6 pair hash: every bit of both addresses and the seed count; uint32 and int32 words agree; it spreads a flood of one /112', () => {
  const base = [0x20010db8, 0xf1000000, 0, 0x1234, 0x20010db8, 0, 0xffffffff, 1];
  const h = (w: number[], seed = 5) => hashIpv6Pair(seed, w[0]!, w[1]!, w[2]!, w[3]!, w[4]!, w[5]!, w[6]!, w[7]!);
  const h0 = h(base);
  assert.equal(h0, h0 | 0, 'an int32');
  assert.equal(h(base.map((x) => x | 0)), h0);
  for (let i = 0; i < 8; i++) {
    for (let bit = 0; bit < 32; bit++) {
      const w = [...base];
      w[i] = (w[i]! ^ (1 << bit)) >>> 0;
      assert.notEqual(h(w), h0, `word ${i} bit ${bit}`);
    }
  }
  // source and destination are not interchangeable
  assert.notEqual(h([...base.slice(4), ...base.slice(0, 4)]), h0);
  assert.notEqual(h(base, 6), h0);
  // 65,536 sources of one /112 to one destination over 4,096 buckets: none empty, none crowded
  for (const seed of [1, 0x7ffffffe]) {
    const c = new Int32Array(4096);
    for (let i = 0; i < 65536; i++) c[hashIpv6Pair(seed, 0x20010db8, 0xf1000000, 0, i, 0x20010db8, 0, 0, 1) & 4095]!++;
    assert.ok(Math.min(...c) > 0 && Math.max(...c) < 48, `seed ${seed}: ${Math.min(...c)}..${Math.max(...c)} per bucket (mean 16)`);
  }
});

test('IPv4-mapped handling', () => {
  const m = ip('::ffff:192.0.2.9');
  assert.equal(m.family, 6);
  assert.ok(m.isV4Mapped());
  assert.ok(m.unmap().equals(IpAddr.v4(0xc0000209)));
  assert.ok(ip('2001:db8::1').unmap().equals(ip('2001:db8::1')));
  assert.ok(!ip('::192.0.2.9').isV4Mapped());
});

test('prefix truncation: /24, /64, /48 and odd lengths', () => {
  assert.equal(ip('198.51.100.77').truncate(24).toString(), '198.51.100.0');
  assert.equal(ip('2001:db8:1:2:3:4:5:6').truncate(64).toString(), '2001:db8:1:2::');
  assert.equal(ip('2001:db8:1:2:3:4:5:6').truncate(48).toString(), '2001:db8:1::');
  assert.equal(ip('2001:db8:1:2:3:4:5:6').truncate(50).toString(), '2001:db8:1::');
  assert.equal(ip('2001:db8:1:ffff::').truncate(50).toString(), '2001:db8:1:c000::');
  assert.equal(ip('2001:db8:1:2:3:4:5:6').truncate(128).toString(), '2001:db8:1:2:3:4:5:6');
  assert.equal(ip('2001:db8:1:2:3:4:5:6').truncate(0).toString(), '::');
  assert.equal(cidrOf(ip('2001:db8:1:2:3:4:5:6'), 64).toString(), '2001:db8:1:2::/64');
});

test('networks: parse, contains (both families), first/last', () => {
  const n = parseCidr('2001:db8:1::5/48')!;
  assert.equal(n.toString(), '2001:db8:1::/48', 'host bits cleared');
  assert.ok(n.contains(ip('2001:db8:1:ffff::1')));
  assert.ok(!n.contains(ip('2001:db8:2::1')));
  assert.ok(!n.contains(ip('192.0.2.1')), 'other family');
  assert.ok(n.containsV6(0x20010db8, 0x0001abcd, 1, 2));
  assert.ok(!n.containsV4(0x20010db8));
  assert.equal(n.last().toString(), '2001:db8:1:ffff:ffff:ffff:ffff:ffff');
  const four = parseCidr('198.51.100.7/24')!;
  assert.ok(four.containsV4(0xc63364fe));
  assert.ok(!four.containsV4(0xc63365fe));
  assert.equal(four.last().toString(), '198.51.100.255');
  assert.equal(parseCidr('192.0.2.1')!.len, 32);
  assert.equal(parseCidr('2001:db8::1')!.len, 128);
  assert.ok(parseCidr('::/0')!.contains(ip('2001:db8::1')));
  assert.ok(parseCidr('0.0.0.0/0')!.containsV4(0xffffffff));
  for (const bad of ['192.0.2.0/33', '2001:db8::/129', '2001:db8::/-1', '2001:db8::/6a', '2001:db8::/', 'x/8', 'fe80::/64%eth0', '', '/8', '192.0.2.0/024'])
    assert.equal(parseCidr(bad), undefined, bad);
  assert.throws(() => new Cidr(ip('192.0.2.0'), 33), /out of range/);
  // odd lengths across a word boundary
  const odd = parseCidr('2001:db8:c000::/33')!;
  assert.equal(odd.toString(), '2001:db8:8000::/33');
  assert.ok(odd.contains(ip('2001:db8:ffff::1')));
  assert.ok(!odd.contains(ip('2001:db8:7fff::1')));
});

test('host:port as iplog writes it, RFC 5952 §6 brackets for IPv6', () => {
  assert.equal(hostPort(ip('2001:db8::1'), 54321), '[2001:db8::1]:54321');
  assert.equal(hostPort('192.0.2.1', 80), '192.0.2.1:80');
  assert.equal(hostPort('2001:db8::1', 80), '[2001:db8::1]:80');
});

test('classification', () => {
  assert.ok(ip('fe80::1').isLinkLocal());
  assert.ok(ip('febf::1').isLinkLocal());
  assert.ok(!ip('fec0::1').isLinkLocal());
  assert.ok(ip('169.254.1.1').isLinkLocal());
  assert.ok(ip('ff02::1').isMulticast());
  assert.ok(ip('224.0.0.1').isMulticast());
  assert.ok(ip('::1').isLoopback());
  assert.ok(ip('127.1.2.3').isLoopback());
  assert.ok(ip('::').isUnspecified());
  assert.ok(!ip('2001:db8::').isUnspecified());
  assert.equal(JSON.stringify({ a: ip('2001:db8::1') }), '{"a":"2001:db8::1"}');
});

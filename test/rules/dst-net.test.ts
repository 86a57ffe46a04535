import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileNets, netMatch, netMatch6, parseNet, NetSyntaxError } from '../../src/rules/dst-net';
import { IpAddr } from '../../src/net/addr';
import { ip4 } from '../helpers/packets';

test('BPF net forms: CIDR, leading octets, "mask", a whole address', () => {
  assert.deepEqual(parseNet('10.1.0.0/16'), { base: ip4('10.1.0.0'), mask: ip4('255.255.0.0') });
  assert.deepEqual(parseNet('10'), { base: ip4('10.0.0.0'), mask: ip4('255.0.0.0') });
  assert.deepEqual(parseNet('192.168.7'), { base: ip4('192.168.7.0'), mask: ip4('255.255.255.0') });
  assert.deepEqual(parseNet('172.16.0.0 mask 255.240.0.0'), { base: ip4('172.16.0.0'), mask: ip4('255.240.0.0') });
  assert.deepEqual(parseNet('198.51.100.20'), { base: ip4('198.51.100.20'), mask: 0xffffffff });
  assert.deepEqual(parseNet('0.0.0.0/0'), { base: 0, mask: 0 });
});

test('invalid networks are errors, not wildcards', () => {
  for (const bad of ['10.0.0.1/8', '300.0.0.0/8', '10.0.0.0/33', 'example.com', '', '10..0', '1.2.3.4.5'])
    assert.throws(() => parseNet(bad), NetSyntaxError, bad);
});

test('matching', () => {
  const m = compileNets(['10.0.0.0/8', '192.168.1']);
  assert.equal(netMatch(m, ip4('10.200.3.4')), true);
  assert.equal(netMatch(m, ip4('192.168.1.77')), true);
  assert.equal(netMatch(m, ip4('192.168.2.1')), false);
  assert.equal(netMatch(m, ip4('11.0.0.1')), false);
});

test('IPv6 networks select IPv6 packets; the IPv4 ones IPv4 packets', () => {
  const m = compileNets(['192.0.2.0/24', '2001:db8:1::/48', '2001:db8::7']);
  const w = (t: string) => {
    const a = IpAddr.parse(t)!;
    return new Uint32Array([a.w0, a.w1, a.w2, a.w3]);
  };
  assert.equal(netMatch6(m, w('2001:db8:1:ffff::1')), true);
  assert.equal(netMatch6(m, w('2001:db8::7')), true);
  assert.equal(netMatch6(m, w('2001:db8::8')), false);
  assert.equal(netMatch(m, ip4('192.0.2.9')), true);
  assert.equal(netMatch6(compileNets(['192.0.2.0/24']), w('::ffff:192.0.2.9')), false);
  for (const bad of ['2001:db8::1/64', '2001:db8::/129', '2001:db8:::/48', 'fe80::/64%eth0'])
    assert.throws(() => compileNets([bad]), NetSyntaxError, bad);
});

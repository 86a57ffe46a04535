/**
 * The interface list and the BPF filter text of the live sensor, as iplog 2.2.3 builds
 * them (spec §5.2, iplog_pcap.c get_iflist(), setup_pcap(), open_pcap_device()).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFilter, ipv4Interfaces, selectInterfaces, IFF_UP, IFF_LOOPBACK, type IfAddress } from '../../src/capture/live';

const on = { tcp: true, udp: true, icmp: true, promisc: false };

test('the filter names every protocol and every local address', () => {
  assert.equal(buildFilter(on, ['10.0.0.1']), 'ip and (tcp or udp or icmp) and dst host (10.0.0.1)');
  assert.equal(buildFilter(on, ['10.0.0.1', '192.0.2.7']), 'ip and (tcp or udp or icmp) and dst host (10.0.0.1 or 192.0.2.7)');
});

test('a disabled protocol is left out as the original leaves it out (stray spaces included)', () => {
  assert.equal(buildFilter({ ...on, icmp: false }, ['10.0.0.1']), 'ip and (tcp or udp ) and dst host (10.0.0.1)');
  assert.equal(buildFilter({ ...on, tcp: false }, ['10.0.0.1']), 'ip and (udp or icmp) and dst host (10.0.0.1)');
  assert.equal(buildFilter({ ...on, udp: false }, ['10.0.0.1']), 'ip and (tcp or icmp) and dst host (10.0.0.1)');
  assert.equal(buildFilter({ ...on, udp: false, icmp: false }, ['10.0.0.1']), 'ip and (tcp ) and dst host (10.0.0.1)');
  assert.equal(buildFilter({ ...on, tcp: false, icmp: false }, ['10.0.0.1']), 'ip and (udp ) and dst host (10.0.0.1)');
  assert.equal(buildFilter({ ...on, tcp: false, udp: false }, ['10.0.0.1']), 'ip and (icmp) and dst host (10.0.0.1)');
});

test('-a: dst net with the networks as given, not the addresses', () => {
  const f = buildFilter({ ...on, promisc: true }, ['10.0.0.1'], ['10.0.0.0/8', '192.168.1.0/24']);
  assert.equal(f, 'ip and (tcp or udp or icmp) and dst net (10.0.0.0/8 or 192.168.1.0/24)');
});

const UP = IFF_UP;
const LO = IFF_UP | IFF_LOOPBACK;

test('interface list: up and IPv4 only, aliases merged into their device, system order', () => {
  const raw: IfAddress[] = [
    { name: 'lo', address: '127.0.0.1', flags: LO },
    { name: 'eth0', address: '192.0.2.1', flags: UP },
    { name: 'eth0:1', address: '192.0.2.2', flags: UP },
    { name: 'eth1', address: '198.51.100.1', flags: 0 }, // down
    { name: 'eth0:web', address: '192.0.2.3', flags: UP },
    { name: 'tun0', address: '203.0.113.9', flags: UP },
  ];
  assert.deepEqual(ipv4Interfaces(raw), [
    { name: 'lo', addresses: ['127.0.0.1'], loopback: true },
    { name: 'eth0', addresses: ['192.0.2.1', '192.0.2.2', '192.0.2.3'], loopback: false },
    { name: 'tun0', addresses: ['203.0.113.9'], loopback: false },
  ]);
});

test('selection: default skips loopback; -i keeps system order and ignores unknown names', () => {
  const all = ipv4Interfaces([
    { name: 'lo', address: '127.0.0.1', flags: LO },
    { name: 'eth0', address: '192.0.2.1', flags: UP },
    { name: 'tun0', address: '203.0.113.9', flags: UP },
  ]);
  assert.deepEqual(selectInterfaces(all, undefined).map((i) => i.name), ['eth0', 'tun0']);
  assert.deepEqual(selectInterfaces(all, ['tun0', 'nosuch0', 'eth0']).map((i) => i.name), ['eth0', 'tun0']);
  assert.deepEqual(selectInterfaces(all, ['lo']).map((i) => i.name), ['lo']);
  assert.deepEqual(selectInterfaces(all, ['nosuch0']), []);
  assert.deepEqual(selectInterfaces(all, []), []);
});

test('-i any: Linux any device, filtered on every local address', () => {
  const all = ipv4Interfaces([
    { name: 'lo', address: '127.0.0.1', flags: LO },
    { name: 'eth0', address: '192.0.2.1', flags: UP },
  ]);
  assert.deepEqual(selectInterfaces(all, ['any']), [{ name: 'any', addresses: ['127.0.0.1', '192.0.2.1'], loopback: false }]);
});

test('IPv6: an ip6 part beside the IPv4 one, or alone; IPv4-only text unchanged', () => {
  assert.equal(
    buildFilter(on, ['192.0.2.1'], undefined, ['2001:db8::1', 'fe80::1']),
    '(ip and (tcp or udp or icmp) and dst host (192.0.2.1)) or (ip6 and dst host (2001:db8::1 or fe80::1))',
  );
  assert.equal(buildFilter(on, [], undefined, ['2001:db8::1']), 'ip6 and dst host (2001:db8::1)');
  assert.equal(buildFilter(on, ['192.0.2.1'], undefined, []), 'ip and (tcp or udp or icmp) and dst host (192.0.2.1)');
  // -a with networks of both families, or IPv6 only
  const a = { ...on, promisc: true };
  assert.equal(
    buildFilter(a, ['192.0.2.1'], ['192.0.2.0/24', '2001:db8:1::/48'], ['2001:db8::1']),
    '(ip and (tcp or udp or icmp) and dst net (192.0.2.0/24)) or (ip6 and dst net (2001:db8:1::/48))',
  );
  assert.equal(buildFilter(a, ['192.0.2.1'], ['2001:db8:1::/48']), 'ip6 and dst net (2001:db8:1::/48)');
  assert.equal(buildFilter(a, ['192.0.2.1'], ['192.0.2.0/24'], ['2001:db8::1']), 'ip and (tcp or udp or icmp) and dst net (192.0.2.0/24)');
});

test('IPv6: interfaces with only IPv6 addresses are accepted; -i any gathers both families', () => {
  const all = ipv4Interfaces([
    { name: 'lo', address: '127.0.0.1', flags: LO },
    { name: 'eth0', address: '192.0.2.1', flags: UP },
    { name: 'six0', address: '2001:db8::1', flags: UP },
    { name: 'eth0', address: 'fe80::1', flags: UP },
    { name: 'lo', address: '::1', flags: LO },
  ]);
  assert.deepEqual(all, [
    { name: 'lo', addresses: ['127.0.0.1'], addresses6: ['::1'], loopback: true },
    { name: 'eth0', addresses: ['192.0.2.1'], addresses6: ['fe80::1'], loopback: false },
    { name: 'six0', addresses: [], addresses6: ['2001:db8::1'], loopback: false },
  ]);
  assert.deepEqual(selectInterfaces(all, undefined).map((i) => i.name), ['eth0', 'six0']);
  assert.deepEqual(selectInterfaces(all, ['any']), [
    { name: 'any', addresses: ['127.0.0.1', '192.0.2.1'], addresses6: ['::1', 'fe80::1', '2001:db8::1'], loopback: false },
  ]);
});

test('modern (both directions): host / net instead of dst host / dst net, both families', () => {
  // with ICMP on, the local link's host sweeps: ARP requests for a protected address, every neighbour solicitation
  assert.equal(
    buildFilter(on, ['192.0.2.1', '192.0.2.7'], undefined, [], true),
    '(ip and (tcp or udp or icmp) and host (192.0.2.1 or 192.0.2.7)) or (arp dst host (192.0.2.1 or 192.0.2.7))',
  );
  assert.equal(buildFilter({ ...on, icmp: false }, ['192.0.2.1'], undefined, [], true), 'ip and (tcp or udp ) and host (192.0.2.1)');
  assert.equal(
    buildFilter(on, ['192.0.2.1'], undefined, ['2001:db8::1'], true),
    '((ip and (tcp or udp or icmp) and host (192.0.2.1)) or (arp dst host (192.0.2.1))) or ((ip6 and host (2001:db8::1)) or (icmp6 and ip6[40] == 135))',
  );
  assert.equal(
    buildFilter({ ...on, promisc: true }, ['192.0.2.1'], ['192.0.2.0/24', '2001:db8:1::/48'], [], true),
    '((ip and (tcp or udp or icmp) and net (192.0.2.0/24)) or (arp dst net (192.0.2.0/24))) or ((ip6 and net (2001:db8:1::/48)) or (icmp6 and ip6[40] == 135))',
  );
  assert.equal(buildFilter({ ...on, icmp: false }, ['192.0.2.1'], undefined, ['2001:db8::1'], true), '(ip and (tcp or udp ) and host (192.0.2.1)) or (ip6 and host (2001:db8::1))');
});

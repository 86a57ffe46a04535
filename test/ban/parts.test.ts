/**
 * The small parts of src/ban/: addresses and networks, the host's facts (/proc/net/route,
 * ipv6_route, resolv.conf), durations, the firewall listings each backend parses, the
 * state file's validation, the command template, and the command queue's order and bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatV6, parseAddr, parseNet, neverBan, fromV4 } from '../../src/ban/addr';
import { parseRoute, parseIpv6Route, parseResolvConf, readSystemFacts } from '../../src/ban/system';
import { parseDuration } from '../../src/ban/config';
import { findBackend } from '../../src/ban/index';
import { resolveParams } from '../../src/ban/backend';
import { splitTemplate } from '../../src/ban/command';
import { sanitizeState } from '../../src/ban/state';
import { CommandQueue } from '../../src/ban/exec';
import { memLogger } from './helpers';

test('addresses: canonical text for both families', () => {
  assert.equal(parseAddr('2001:DB8:0:0:0:0:0:1')!.text, '2001:db8::1');
  assert.equal(parseAddr('2001:db8:0:1:0:0:0:1')!.text, '2001:db8:0:1::1');
  assert.equal(parseAddr('::')!.text, '::');
  assert.equal(parseAddr('fe80::1:2:3:4')!.text, 'fe80::1:2:3:4');
  assert.equal(parseAddr('1:0:0:1:0:0:0:1')!.text, '1:0:0:1::1', 'the longest zero run');
  assert.equal(parseAddr('::ffff:192.0.2.7')!.text, '192.0.2.7', 'IPv4-mapped is IPv4');
  assert.equal(formatV6(1n), '::1');
  for (const bad of ['', 'host.example', '1.2.3', '1.2.3.256', 'fe80::1%eth0', '192.0.2.7/32', ':::']) assert.equal(parseAddr(bad), undefined, bad);
  assert.equal(fromV4(0xc0000207).text, '192.0.2.7');
});

test('networks: ip-num ranges, host bits cleared', () => {
  const n = parseNet('10.1.2.3/8')!;
  assert.deepEqual([n.family, n.lo, n.hi], [4, 0x0a000000n, 0x0affffffn]);
  const six = parseNet('2001:db8::/32')!;
  assert.equal(six.hi - six.lo, (1n << 96n) - 1n);
  assert.equal(parseNet('192.0.2.7')!.lo, parseNet('192.0.2.7')!.hi);
  for (const bad of ['10.0.0.0/33', '2001:db8::/129', 'x/8', 'fe80::/64%eth0', '']) assert.equal(parseNet(bad), undefined, bad);
});

test('never banned whatever the configuration', () => {
  const r = (t: string) => neverBan(parseAddr(t)!);
  assert.equal(r('0.1.2.3'), 'unspecified address');
  assert.equal(r('127.1.1.1'), 'loopback');
  assert.equal(r('239.255.255.250'), 'multicast');
  assert.equal(r('255.255.255.255'), 'broadcast');
  assert.equal(r('250.0.0.1'), 'reserved address');
  assert.equal(r('::'), 'unspecified address');
  assert.equal(r('::1'), 'loopback');
  assert.equal(r('ff05::2'), 'multicast');
  assert.equal(r('203.0.113.5'), undefined);
  assert.equal(r('2001:db8::5'), undefined);
});

test('host facts: gateways from /proc/net/route and ipv6_route, resolvers from resolv.conf', () => {
  const route = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
  ].join('\n');
  assert.deepEqual(parseRoute(route, true), ['192.0.2.1']);
  assert.deepEqual(parseRoute(route.replace('010200C0', 'C0000201'), false), ['192.0.2.1']);
  const v6 = [
    '00000000000000000000000000000000 00 00000000000000000000000000000000 00 20010db8000000000000000000000001 00000400 00000002 00000000 00000003     eth0',
    '20010db8000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0',
  ].join('\n');
  assert.deepEqual(parseIpv6Route(v6), ['2001:db8::1']);
  assert.deepEqual(parseResolvConf('# c\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\nsearch x\n nameserver   2001:DB8::53\nnameserver bogus\n'), ['192.0.2.53', 'fe80::1', '2001:db8::53']);
  const f = readSystemFacts();
  assert.ok(f.own.includes('127.0.0.1'), 'this host: loopback is among its addresses');
});

test('durations carry units', () => {
  assert.equal(parseDuration('3600'), 3600);
  assert.equal(parseDuration('90s'), 90);
  assert.equal(parseDuration('10m'), 600);
  assert.equal(parseDuration('1H'), 3600);
  assert.equal(parseDuration('7d'), 604800);
  assert.equal(parseDuration('2w'), 1209600);
  for (const bad of ['', '0', '-1', '1.5h', '1y', '366d', 'h']) assert.equal(parseDuration(bad), undefined, bad);
});

test('firewall listings: what each backend parses', () => {
  const nft = findBackend('nftables')!;
  const p = resolveParams(nft, {});
  const json = JSON.stringify({
    nftables: [
      { metainfo: { json_schema_version: 1 } },
      { set: { name: 'ban4', elem: [{ elem: { val: '192.0.2.7', timeout: 3600, expires: 3599 } }, '192.0.2.8', { prefix: { addr: '10.0.0.0', len: 8 } }] } },
      { set: { name: 'ban6', elem: [{ elem: { val: '2001:DB8::7', timeout: 100, expires: 99 } }] } },
      { set: { name: 'other', elem: ['192.0.2.9'] } },
      { chain: { name: 'input' } },
    ],
  });
  assert.deepEqual(nft.parse!(p, [json]), [
    { addr: '192.0.2.7', family: 4, seconds: 3599 },
    { addr: '192.0.2.8', family: 4, seconds: null },
    { addr: '2001:db8::7', family: 6, seconds: 99 },
  ]);
  assert.deepEqual(nft.parse!(p, ['']), []);

  const ipset = findBackend('ipset')!;
  const ps = resolveParams(ipset, {});
  assert.deepEqual(
    ipset.parse!(ps, [
      'create iplog4 hash:ip family inet hashsize 1024 maxelem 65536 timeout 0\nadd iplog4 192.0.2.7 timeout 29\nadd iplog4 192.0.2.8 timeout 0\n',
      'create iplog6 hash:ip family inet6 timeout 0\nadd iplog6 2001:db8::7 timeout 5\n',
    ]),
    [
      { addr: '192.0.2.7', family: 4, seconds: 29 },
      { addr: '192.0.2.8', family: 4, seconds: null },
      { addr: '2001:db8::7', family: 6, seconds: 5 },
    ],
  );

  const ipt = findBackend('iptables')!;
  const pi = resolveParams(ipt, {});
  assert.deepEqual(ipt.parse!(pi, ['-N iplog\n-A iplog -s 192.0.2.7/32 -j DROP\n-A other -s 192.0.2.9/32 -j DROP\n', '-N iplog\n-A iplog -s 2001:db8::7/128 -j DROP\n']), [
    { addr: '192.0.2.7', family: 4, seconds: null },
    { addr: '2001:db8::7', family: 6, seconds: null },
  ]);

  const pf = findBackend('pf')!;
  assert.deepEqual(pf.parse!(resolveParams(pf, {}), ['   192.0.2.7\n   2001:db8::7\n']).map((x) => x.addr), ['192.0.2.7', '2001:db8::7']);
  const ipfw = findBackend('ipfw')!;
  assert.deepEqual(ipfw.parse!(resolveParams(ipfw, {}), ['--- table(20), set(0) ---\n192.0.2.7/32 0\n2001:db8::7/128 0\n']).map((x) => x.addr), ['192.0.2.7', '2001:db8::7']);
});

test('backend parameters: unknown names and bad values are refused', () => {
  assert.throws(() => resolveParams(findBackend('nftables')!, { tabel: 'x' }), /has no parameter "tabel"/);
  assert.throws(() => resolveParams(findBackend('nftables')!, { table: 'a b' }), /table must be an identifier/);
  assert.throws(() => resolveParams(findBackend('nftables')!, { hooks: 'output' }), /hooks/);
  assert.throws(() => resolveParams(findBackend('ipset')!, { target: 'ACCEPT' }), /target/);
  assert.throws(() => resolveParams(findBackend('command')!, { ban_command: 'block {ip}', unban_command: '/x {ip}' }), /absolute program path/);
  assert.throws(() => resolveParams(findBackend('command')!, { ban_command: '/x {host}', unban_command: '/x {ip}' }), /must contain \{ip\}|unknown placeholder/);
  assert.throws(() => resolveParams(findBackend('dry-run')!, { target: 'dry-run' }), /unknown target/);
  assert.throws(() => resolveParams(findBackend('dry-run')!, { target: 'ipset', table: 'x' }), /has no parameter "table"/);
  assert.equal(resolveParams(findBackend('dry-run')!, { target: 'ipset', set4: 'x' }).set4, 'x');
});

test('command templates: split first, then substituted; an address never adds a word', () => {
  assert.deepEqual(splitTemplate('/sbin/x add {ip}  {seconds}'), ['/sbin/x', 'add', '{ip}', '{seconds}']);
  assert.deepEqual(splitTemplate('/sbin/x,add,{ip}'), ['/sbin/x', 'add', '{ip}']);
  const cmd = findBackend('command')!;
  const p = resolveParams(cmd, { ban_command: '/sbin/x --addr={ip} --for {seconds}s {family}', unban_command: '/sbin/x del {ip}' });
  assert.deepEqual(cmd.ban(p, '2001:db8::7', 6, 60)[0]!.argv, ['/sbin/x', '--addr=2001:db8::7', '--for', '60s', 'inet6']);
  assert.equal(cmd.kernelExpiry(p), false);
  assert.equal(cmd.kernelExpiry(resolveParams(cmd, { ban_command: '/x {ip}', unban_command: '/x {ip}', kernel_expiry: 'yes' })), true);
});

test('state files: entries that make no sense are dropped, not trusted', () => {
  const st = sanitizeState({
    version: 1,
    backend: 'nftables',
    bans: [
      { addr: '192.0.2.7', family: 4, since: 1, until: 2, offence: 1, reason: 'x' },
      { addr: '2001:DB8::7', family: 6, since: 1, until: 2, offence: 2, reason: 'y' },
      { addr: 'evil; rm -rf /', family: 4, since: 1, until: 2, offence: 1 },
      { addr: '192.0.2.8', family: 5, since: 1, until: 2, offence: 1 },
      { addr: '192.0.2.9', family: 4, since: 1, until: 'soon', offence: 1 },
      null,
    ],
    offenders: [{ addr: '192.0.2.7', offences: 3, last: 5 }, { addr: 'x', offences: 1, last: 1 }],
  });
  assert.deepEqual(st.bans.map((b) => b.addr), ['192.0.2.7', '2001:db8::7']);
  assert.deepEqual(st.offenders.map((o) => [o.addr, o.offences]), [['192.0.2.7', 3]]);
  assert.throws(() => sanitizeState({ version: 2 }), /unsupported version/);
});

test('the command queue: one command at a time, in order; unless skips; a full queue drops', async () => {
  const { log, records } = memLogger();
  const order: string[] = [];
  let running = 0;
  const q = new CommandQueue(
    async (argv) => {
      running++;
      assert.equal(running, 1, 'never two at once');
      order.push(argv.join(' '));
      await new Promise((r) => setTimeout(r, 2));
      running--;
      return argv[0] === 'probe-ok' ? { ok: true, status: 0, stdout: '', stderr: '' } : { ok: argv[0] !== 'fail', status: argv[0] === 'fail' ? 1 : 0, stdout: 'out', stderr: 'gone away' };
    },
    log,
    { maxQueue: 3, sleep: async () => undefined },
  );
  const jobs = [
    q.run([{ argv: ['a'] }, { argv: ['b'], unless: ['probe-ok'] }], 'one'),
    q.run([{ argv: ['fail'], okIf: /gone away/ }], 'two'),
    q.run([{ argv: ['fail'] }], 'three'),
    q.run([{ argv: ['c'] }], 'four'),
    q.run([{ argv: ['d'] }], 'five (dropped)'),
  ];
  const results = await Promise.all(jobs);
  assert.deepEqual(results.map((r) => r.ok), [true, true, false, true, false]);
  assert.deepEqual(order, ['a', 'probe-ok', 'fail', 'fail', 'fail', 'fail', 'fail', 'c']);
  assert.deepEqual(q.stats, { commands: 8, failed: 1, retried: 3, skipped: 1, dropped: 1 });
  assert.ok(records().some((r) => r.code === 'IPLOG_ERR_BAN_QUEUE_FULL'));
  assert.ok(records().some((r) => r.code === 'IPLOG_ERR_BAN_EXEC'));
});

/**
 * The live sensor on IPv6 (issue 8 B.10), in network namespaces the test creates (root
 * only; skipped with the reason elsewhere): a veth pair with only IPv6 addresses
 * (2001:db8:66::1 attacker, 2001:db8:66::2 sensor; link-local addresses as the kernel
 * makes them), `iplog -o -L -N -i vv0` on the sensor's end, and real traffic from the
 * other: `nmap -6 -sS` of 40 ports, a UDP datagram with hop limit 1 (traceroute -6) and
 * echo requests (ping -6). tcpdump on the same interface with the filter iplog installs
 * records what arrived; the live lines must equal `iplog -r` on tcpdump's capture, line
 * for line and second for second, the SYN scan's expiry 50 s later included.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, Netns, exec, liveSkip, requireTools, startIplog, capturing, sleep, type Proc } from './netns';

const skip = liveSkip();
const LIFECYCLE = /^(iplog started\.|Caught signal \d+, exiting\.)$/;
const A6 = '2001:db8:66::1';
const V6 = '2001:db8:66::2';

async function ipv6Pair(): Promise<{ a: Netns; v: Netns }> {
  const a = await Netns.create('v6a');
  const v = await Netns.create('v6v');
  await v.must(['ip', 'link', 'add', 'vv0', 'address', '02:66:00:00:00:02', 'type', 'veth', 'peer', 'name', 'va0', 'address', '02:66:00:00:00:01']);
  await v.must(['ip', 'link', 'set', 'va0', 'netns', a.name]);
  for (const [ns, ifname, addr] of [
    [a, 'va0', A6],
    [v, 'vv0', V6],
  ] as const) {
    // Netns.create turns IPv6 off; this link has it, without router solicitations
    await ns.must(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=0']);
    await ns.must(['sysctl', '-qw', `net.ipv6.conf.${ifname}.disable_ipv6=0`]);
    await ns.must(['sysctl', '-qw', `net.ipv6.conf.${ifname}.router_solicitations=0`]);
    await ns.must(['sysctl', '-qw', `net.ipv6.conf.${ifname}.accept_ra=0`]);
    await ns.must(['ip', '-6', 'addr', 'add', `${addr}/64`, 'dev', ifname, 'nodad']);
    await ns.must(['ip', 'link', 'set', ifname, 'up']);
  }
  // link-local addresses settle (DAD) before iplog reads the interface's addresses
  for (let i = 0; i < 50; i++) {
    const r = await v.run(['ip', '-6', 'addr', 'show', 'dev', 'vv0', 'tentative']);
    if (r.stdout.trim() === '') break;
    await sleep(100);
  }
  return { a, v };
}

describe('live sensor on IPv6', { skip: skip ?? false, timeout: 180_000 }, () => {
  let work = '';
  before(() => {
    requireTools('tcpdump', 'nmap', 'ping', 'traceroute');
    work = mkdtempSync(join(tmpdir(), 'iplog-live-ipv6-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('veth with only IPv6: live output of nmap -6, traceroute -6 and ping -6 equals the replay of the same packets', async () => {
    const { a, v } = await ipv6Pair();
    let iplog: Proc | null = null;
    let dump: Proc | null = null;
    try {
      iplog = startIplog(v, ['-N', '-i', 'vv0']);
      await capturing(iplog);
      const filter = iplog.records().find((r) => r.msg === 'filter')?.filter as string | undefined;
      // an interface with only IPv6 addresses is opened, with the ip6 filter on its addresses
      assert.ok(filter !== undefined && filter.startsWith('ip6 and dst host (') && filter.includes(V6), `filter: ${filter}`);
      const dumped = join(work, 'live6.pcap');
      dump = v.spawn(['tcpdump', '-i', 'vv0', '-n', '-s', '1500', '--immediate-mode', '-U', '-w', dumped, filter]);
      await dump.until(() => /listening on/.test(dump!.stderr), 15_000, 'tcpdump to listen');

      const scan = await a.run(['nmap', '-6', '-n', '-Pn', '-sS', '--max-retries', '0', '-p', '1-40', V6]);
      assert.equal(scan.status, 0, scan.stderr);
      const trace = await a.run(['traceroute', '-6', '-n', '-m', '1', '-q', '1', '-w', '1', V6]);
      assert.equal(trace.status, 0, trace.stderr);
      const ping = await a.run(['ping', '-6', '-n', '-c', '3', '-i', '0.2', V6]);
      assert.equal(ping.status, 0, ping.stderr);
      await sleep(1000);
      await dump.stop('SIGINT');
      await iplog.until(() => iplog!.stdout.includes('SYN scan mode expired'), 80_000, 'the SYN scan to expire');
      await sleep(300);
      const code = await iplog.stop('SIGTERM');
      assert.equal(code, 0, iplog.stderr.slice(-2000));
      const live = iplog.lines().filter((l) => !LIFECYCLE.test(l.slice(16)));
      iplog = null;

      const r = await exec(['env', 'TZ=UTC', 'IPLOG_LOG_LEVEL=silent', process.execPath, BIN, '--config', '/dev/null', '--profile', 'compat', '-r', dumped, '-N']);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(live, r.stdout.split('\n').filter(Boolean));
      const texts = live.map((l) => l.slice(16));
      assert.ok(texts.some((t) => t.startsWith('TCP: SYN scan detected [ports ') && t.includes(`from ${A6} [port `)), texts.join('\n'));
      assert.ok(texts.some((t) => t.startsWith(`TCP: SYN scan mode expired for ${A6} - received a total of 40 packets`)), texts.join('\n'));
      assert.ok(texts.includes(`UDP: traceroute from ${A6}`), texts.join('\n'));
      assert.ok(texts.includes(`ICMPv6: echo request from ${A6} (64 bytes)`), texts.join('\n'));
      assert.ok(texts.some((t) => t.includes(`[${A6}]:`)), 'host:port in RFC 5952 section 6 form');
    } finally {
      await iplog?.stop('SIGKILL');
      await dump?.stop('SIGKILL');
      await a.destroy();
      await v.destroy();
    }
  });
});

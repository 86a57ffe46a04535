/**
 * The modern profile's live capture (issue 9 point 1), on a veth pair in namespaces the test
 * creates (root only; skipped with the reason elsewhere): the filter selects the protected
 * addresses in both directions, so the victim's answers (RSTs, echo replies) reach the
 * engine and judge the contacts, and the victim, whose answers and own requests are
 * captured, is never named as a source. Live on the host, its listening sockets
 * (/proc/net, issue 9 point 2) turn silence to a port with no listener into a reject.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VethPair, liveSkip, requireTools, startIplog, capturing, sleep, type Proc } from './netns';

const skip = liveSkip();
let work = '';

describe('modern profile live in network namespaces', { skip: skip ?? false, timeout: 120_000 }, () => {
  before(() => {
    requireTools('nmap', 'ping');
    work = mkdtempSync(join(tmpdir(), 'iplog-live-modern-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test("modern live: filter on the protected address in both directions; the victim's replies are evidence, never a source", async () => {
    const pair = await VethPair.create('mod', 1);
    let iplog: Proc | null = null;
    try {
      const { aAddr, vAddr } = pair;
      const json = join(work, 'events.json');
      // --home twice (repeatable): a network of the attacker's side is not the victim's
      iplog = startIplog(pair.v, ['--profile', 'modern', '-N', '-i', pair.vIf, '--json', json, '--home', '203.0.113.0/24', '--home', '2001:db8:77::/48']);
      await capturing(iplog);
      const filter = iplog.records().find((r) => r.msg === 'filter')?.filter;
      assert.equal(filter, `(ip and (tcp or udp or icmp) and host (${vAddr})) or (arp dst host (${vAddr}))`);
      // the victim originates: echo requests to the other end (its replies come back)
      const ping = await pair.v.run(['ping', '-n', '-q', '-c', '5', '-i', '0.2', aAddr]);
      assert.equal(ping.status, 0, ping.stderr);
      // the other end pings the victim (the victim's echo replies are captured) ...
      const ping2 = await pair.a.run(['ping', '-n', '-q', '-c', '5', '-i', '0.2', vAddr]);
      assert.equal(ping2.status, 0, ping2.stderr);
      // ... and SYN-scans 30 closed ports: every probe answered by the victim's RST
      const scan = await pair.a.run(['nmap', '-n', '-Pn', '-sS', '--max-retries', '0', '-T4', '-p', '1-30', vAddr]);
      assert.equal(scan.status, 0, scan.stderr);
      await iplog.until(() => /SYN scan detected/.test(iplog!.stdout), 20_000, 'the SYN scan line');
      await sleep(500);
      const code = await iplog.stop('SIGTERM');
      assert.equal(code, 0, iplog.stderr.slice(-2000));
      const texts = iplog.texts();
      const det = texts.filter((t) => / detected|Bogus TCP flags|traceroute from/.test(t));
      assert.equal(det.length, 1, det.join('\n'));
      assert.match(det[0]!, new RegExp(`^TCP: SYN scan detected \\[ports [\\d,.]+\\] from ${aAddr.replace(/\./g, '\\.')} \\[port \\d+\\]$`));
      assert.ok(!texts.some((t) => t.includes(`from ${vAddr}`)), `the victim is never a source:\n${texts.join('\n')}`);
      const events = readFileSync(json, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { kind: string; src?: string; detail?: Record<string, number> });
      const ev = events.find((e) => e.kind === 'scan.detected');
      assert.ok(ev, 'a scan.detected event');
      // the victim's RSTs were captured and used: rejects, not silence
      assert.ok((ev.detail?.outcome_reject ?? 0) >= 4, JSON.stringify(ev.detail));
      assert.equal(ev.detail?.outcome_silent ?? 0, 0, JSON.stringify(ev.detail));
      assert.ok(!events.some((e) => e.src === vAddr), 'no event names the victim as its source');
    } finally {
      await iplog?.stop('SIGKILL');
      await pair.destroy();
    }
  });
  test("modern live: the host's listening sockets make silence to a closed port a reject; a UDP scan of a host that drops everything is seen", async () => {
    const pair = await VethPair.create('mdr', 2);
    let iplog: Proc | null = null;
    try {
      const { aAddr, vAddr } = pair;
      const json = join(work, 'drop.json');
      await pair.v.dropInput(); // a firewall that drops: no RST, no port unreachable
      iplog = startIplog(pair.v, ['--profile', 'modern', '-N', '-i', pair.vIf, '--json', json]);
      await capturing(iplog);
      // eight UDP ports, nothing listens in the victim's namespace, nothing answers
      const scan = await pair.a.run(['nmap', '-n', '-Pn', '-sU', '--max-retries', '0', '-T4', '-p', '1-8', vAddr]);
      assert.equal(scan.status, 0, scan.stderr);
      // silence is known after the 3-s grace time (packet clock moved by the idle ticker)
      await iplog.until(() => /UDP: scan\/flood detected/.test(iplog!.stdout), 20_000, 'the UDP scan line');
      await sleep(500);
      const code = await iplog.stop('SIGTERM');
      assert.equal(code, 0, iplog.stderr.slice(-2000));
      const det = iplog.texts().filter((t) => / detected/.test(t));
      assert.equal(det.length, 1, det.join('\n'));
      assert.match(det[0]!, new RegExp(`^UDP: scan/flood detected \\[ports [\\d,.]+\\] from ${aAddr.replace(/\./g, '\\.')} \\[port \\d+\\]$`));
      const ev = readFileSync(json, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { kind: string; detail?: Record<string, number> }).find((e) => e.kind === 'scan.detected');
      assert.ok(ev, 'a scan.detected event');
      // every silent datagram counted as a reject: no listener on its port
      assert.ok((ev.detail?.outcome_reject ?? 0) >= 4, JSON.stringify(ev.detail));
      assert.equal(ev.detail?.outcome_silent ?? 0, 0, JSON.stringify(ev.detail));
    } finally {
      await iplog?.stop('SIGKILL');
      await pair.destroy();
    }
  });
  test('modern live: ARP and neighbour-discovery host sweeps on the local link are seen (-a networks)', async () => {
    const pair = await VethPair.create('mds', 3);
    let iplog: Proc | null = null;
    try {
      const { aAddr } = pair;
      // the namespaces start with IPv6 off (netns.ts): on for the two ends only
      for (const [ns, ifname, addr] of [[pair.a, pair.aIf, '2001:db8:77::1'], [pair.v, pair.vIf, '2001:db8:77::2']] as const) {
        await ns.must(['sysctl', '-qw', `net.ipv6.conf.${ifname}.disable_ipv6=0`]);
        await ns.must(['sysctl', '-qw', `net.ipv6.conf.${ifname}.accept_ra=0`]);
        await ns.must(['ip', 'addr', 'add', `${addr}/64`, 'dev', ifname, 'nodad']);
      }
      iplog = startIplog(pair.v, ['--profile', 'modern', '-N', '-i', pair.vIf, '-a', '192.0.2.0/24,2001:db8:77::/64']);
      await capturing(iplog);
      const filter = iplog.records().find((r) => r.msg === 'filter')?.filter;
      assert.equal(
        filter,
        '((ip and (tcp or udp or icmp) and net (192.0.2.0/24)) or (arp dst net (192.0.2.0/24))) or ((ip6 and net (2001:db8:77::/64)) or (icmp6 and ip6[40] == 135))',
      );
      // nmap's host discovery on a local network asks ARP (IPv4) and neighbour discovery (IPv6)
      const arp = await pair.a.run(['nmap', '-n', '-sn', '-PR', '--max-retries', '0', '192.0.2.16/28']);
      assert.equal(arp.status, 0, arp.stderr);
      const targets6 = Array.from({ length: 12 }, (_, i) => `2001:db8:77::${(0x10 + i).toString(16)}`);
      const nd = await pair.a.run(['nmap', '-6', '-n', '-sn', '--max-retries', '0', ...targets6]);
      assert.equal(nd.status, 0, nd.stderr);
      await iplog.until(() => /ARP: host sweep detected/.test(iplog!.stdout) && /ICMPv6: neighbour sweep detected/.test(iplog!.stdout), 20_000, 'both sweep lines');
      const code = await iplog.stop('SIGTERM');
      assert.equal(code, 0, iplog.stderr.slice(-2000));
      const det = iplog.texts().filter((t) => / detected/.test(t));
      assert.ok(det.some((t) => new RegExp(`^ARP: host sweep detected to 192\\.0\\.2\\.\\d+/\\d+ from ${aAddr.replace(/\./g, '\\.')}$`).test(t)), det.join('\n'));
      assert.ok(det.some((t) => /^ICMPv6: neighbour sweep detected to 2001:db8:77::[0-9a-f]*\/\d+ from 2001:db8:77::/.test(t)), det.join('\n'));
      assert.ok(!det.some((t) => t.includes('from 192.0.2.2') || t.includes('from 2001:db8:77::2')), `the victim is never a source:\n${det.join('\n')}`);
    } finally {
      await iplog?.stop('SIGKILL');
      await pair.destroy();
    }
  });
});

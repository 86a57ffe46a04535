/**
 * The live sensor on real interfaces, in network namespaces the tests create (root only;
 * skipped with the reason elsewhere). The scenarios run concurrently, each in its own
 * namespaces; the longest waits for a port scan to expire (50 s), so the whole file takes
 * about a minute.
 *
 *  1. veth: `iplog -o -L -i vv0` in the victim's namespace, crafted traffic sent with
 *     tcpreplay from the other end, captured at the same time by tcpdump with iplog's own
 *     filter: the live lines equal `iplog -r` on tcpdump's capture, line for line and
 *     second for second, "mode expired" lines included (the idle clock);
 *  2. loopback: captures of the conformance corpus replayed on a namespace's `lo` give
 *     the original iplog 2.2.3's recorded output (as the oracle was recorded: live, on lo,
 *     kernel input dropped), life-cycle lines included;
 *  3. an interface taken down and up: `went down`, then `was reopened` at the next 30 s
 *     retry, and traffic is seen again;
 *  4. a slow consumer (test hook) and a small kernel buffer: drops counted by the kernel
 *     reach the statistics and a warning on the operational log;
 *  5. -a NETS: promiscuous, `dst net` filter, destinations shown;
 *  6. the default interface list (up, IPv4, not loopback, aliases merged), SIGINT with -o;
 *  7. the addon itself: pcap records, timestamps, inject, slots, stats, close.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePcap, type Frame } from '../helpers/pcap-writer';
import { ipv4, tcp, udp, icmp, SYN, DF } from '../helpers/packets';
import { buildFilter } from '../../src/capture/live';
import { defaultFlags } from '../../src/config/settings';
import { BIN, ROOT, Netns, VethPair, exec, liveSkip, requireTools, startIplog, capturing, sleep, type Proc } from './netns';

const skip = liveSkip();
let work = '';
const LIFECYCLE = /^(iplog started\.|Caught signal \d+, exiting\.)$/;

function mac(s: string): Buffer {
  return Buffer.from(s.split(':').map((h) => parseInt(h, 16)));
}

function eth(dst: string, src: string, ip: Buffer): Buffer {
  return Buffer.concat([mac(dst), mac(src), Buffer.from([0x08, 0x00]), ip]);
}

/** `iplog -r FILE` with the same options: the replay the live output must equal. */
async function replayLines(pcap: string, args: string[]): Promise<string[]> {
  const r = await exec(['env', 'TZ=UTC', 'IPLOG_LOG_LEVEL=silent', process.execPath, BIN, '--config', '/dev/null', '--profile', 'compat', '-r', pcap, ...args]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

/** Stop iplog with SIGTERM, expect a clean exit, return its lines. */
async function stopped(p: Proc): Promise<string[]> {
  const code = await p.stop('SIGTERM');
  assert.equal(code, 0, p.stderr.slice(-2000));
  assert.equal(p.texts().at(-1), 'Caught signal 15, exiting.');
  return p.lines();
}

describe('live sensor in network namespaces', { skip: skip ?? false, concurrency: true, timeout: 180_000 }, () => {
  before(() => {
    requireTools('tcpreplay', 'tcpdump', 'iptables');
    work = mkdtempSync(join(tmpdir(), 'iplog-live-sensor-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('veth: live output equals the replay of the same packets, expiry lines included', async () => {
    const pair = await VethPair.create('eq', 1);
    let iplog: Proc | null = null;
    let dump: Proc | null = null;
    try {
      const { aMac, vMac, aAddr, vAddr } = pair;
      const to = (ip: Buffer) => eth(vMac, aMac, ip);
      const T = 1_700_000_000;
      const frames: Frame[] = [];
      // a port scan on one port (16 SYN+DF): 14 lines, the detection, the expiry 50 s later
      for (let i = 0; i < 16; i++) frames.push({ ts: T + i * 0.02, data: to(ipv4({ src: aAddr, dst: vAddr, proto: 6, frag: DF, id: 100 + i }, tcp(40000 + i, 80, SYN))) });
      // four identical datagrams: repeat compression
      for (let i = 0; i < 4; i++) frames.push({ ts: T + 0.4 + i * 0.01, data: to(ipv4({ src: aAddr, dst: vAddr, proto: 17, id: 200 + i }, udp(5353, 53, 20))) });
      // 95 echo replies from one /24: smurf at the 90th, its expiry 30 s later
      for (let k = 1; k <= 95; k++) frames.push({ ts: T + 0.5 + k * 0.01, data: to(ipv4({ src: `203.0.113.${k}`, dst: vAddr, proto: 1, id: 300 + k }, icmp(0, 0, 60))) });
      // to another host of the link: iplog's filter (dst host) keeps it out
      frames.push({ ts: T + 1.5, data: eth('02:77:00:00:00:63', aMac, ipv4({ src: '198.51.100.77', dst: '192.0.2.99', proto: 6, frag: DF }, tcp(1, 80, SYN))) });
      frames.push({ ts: T + 1.55, data: to(ipv4({ src: aAddr, dst: vAddr, proto: 1, id: 400 }, icmp(8, 0, 60))) });
      frames.push({ ts: T + 1.6, data: to(ipv4({ src: '198.51.100.98', dst: vAddr, proto: 6, id: 401 }, tcp(1234, 22, 0xc2))) });
      const sent = join(work, 'eq-sent.pcap');
      writeFileSync(sent, writePcap(frames));

      const dumped = join(work, 'eq-dump.pcap');
      const filter = buildFilter(defaultFlags(), [vAddr]);
      dump = pair.v.spawn(['tcpdump', '-i', pair.vIf, '-n', '-s', '1500', '--immediate-mode', '-U', '-w', dumped, filter]);
      await dump.until(() => /listening on/.test(dump!.stderr), 15_000, 'tcpdump to listen');
      iplog = startIplog(pair.v, ['-N', '-i', pair.vIf]);
      await capturing(iplog);
      assert.ok(iplog.records().some((r) => r.msg === 'filter' && r.filter === filter), 'iplog installs the filter tcpdump uses');

      await pair.replay(sent);
      await sleep(1000);
      await dump.stop('SIGINT');
      // the last deadline: the port scan's, 50 s after its last SYN (plus the idle lag)
      await iplog.until(() => iplog!.stdout.includes('port scan mode expired'), 80_000, 'the port scan to expire');
      const live = await stopped(iplog);
      iplog = null;
      const liveLines = live.filter((l) => !LIFECYCLE.test(l.slice(16)));
      const replayed = await replayLines(dumped, ['-N']);
      assert.deepEqual(liveLines, replayed);
      const texts = liveLines.map((l) => l.slice(16));
      assert.ok(texts.includes('TCP: port scan detected [port 80] from 192.0.2.1 [ports 40000,40001,40002,40003,40004,...]'), texts.join('\n'));
      assert.ok(texts.includes('ICMP/UDP: smurf attack detected from 203.0.113.0'));
      assert.ok(texts.some((t) => t.startsWith('ICMP/UDP: smurf attack mode expired for 203.0.113.0 - received a total of 95 packets')));
      assert.ok(texts.includes('last message repeated 3 times'));
      assert.ok(!texts.some((t) => t.includes('198.51.100.77')), 'traffic to another host is filtered out');
    } finally {
      await iplog?.stop('SIGKILL');
      await dump?.stop('SIGKILL');
      await pair.destroy();
    }
  });

  test("loopback: conformance captures replayed live give the original iplog's output", async () => {
    const cases: [string, string, string[]][] = [
      ['crafted_smurf_icmp', 'nores_dest', ['-N', '-D']],
      ['crafted_udp_misc', 'nores_dest', ['-N', '-D']],
      ['crafted_tcp_flags', 'default', []],
      ['nmap_sS', 'default', []],
    ];
    await Promise.all(
      cases.map(async ([name, variant, args]) => {
        const ns = await Netns.create('lo');
        let iplog: Proc | null = null;
        try {
          await ns.dropInput();
          iplog = startIplog(ns, ['-i', 'lo', ...args]);
          await capturing(iplog);
          const r = await ns.run(['tcpreplay', '-q', '-i', 'lo', join(ROOT, 'pcaps', 'conformance', `${name}.pcap`)]);
          assert.equal(r.status, 0, r.stderr);
          const expected = readFileSync(join(ROOT, 'test', 'conformance', 'out', `${name}.${variant}.log`), 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => l.slice(16));
          // wait for the last line before the exit (an expiry line, if any)
          const lastBeforeExit = expected.at(-2)!;
          await iplog.until(() => iplog!.texts().includes(lastBeforeExit), 80_000, `${name}: "${lastBeforeExit}"`);
          await sleep(300);
          const got = (await stopped(iplog)).map((l) => l.slice(16));
          iplog = null;
          assert.deepEqual(got, expected, `${name}.${variant}`);
        } finally {
          await iplog?.stop('SIGKILL');
          await ns.destroy();
        }
      }),
    );
  });

  test('an interface that goes down is reopened at the next retry (30 s) and captures again', async () => {
    const pair = await VethPair.create('down', 2);
    let iplog: Proc | null = null;
    try {
      await pair.v.dropInput();
      iplog = startIplog(pair.v, ['-N', '-i', pair.vIf]);
      await capturing(iplog);
      const t0 = Date.now();
      await pair.v.must(['ip', 'link', 'set', pair.vIf, 'down']);
      await iplog.until(() => iplog!.texts().includes(`Warning: interface ${pair.vIf} went down.`), 5_000, 'went down');
      await sleep(1000);
      await pair.v.must(['ip', 'link', 'set', pair.vIf, 'up']);
      await iplog.until(() => iplog!.texts().includes(`Interface ${pair.vIf} was reopened.`), 40_000, 'was reopened');
      const waited = Date.now() - t0;
      assert.ok(waited >= 29_000 && waited < 40_000, `reopened after ${waited} ms (iplog retries every 30 s)`);
      const probe = join(work, 'down.pcap');
      writeFileSync(probe, writePcap([{ ts: 1_700_000_000, data: eth(pair.vMac, pair.aMac, ipv4({ src: pair.aAddr, dst: pair.vAddr, proto: 6, frag: DF }, tcp(41000, 22, SYN))) }]));
      await sleep(300);
      await pair.replay(probe);
      await iplog.until(() => iplog!.texts().includes(`TCP: ssh connection attempt from ${pair.aAddr}:41000`), 5_000, 'traffic after the reopen');
      const texts = (await stopped(iplog)).map((l) => l.slice(16));
      iplog = null;
      assert.deepEqual(texts, [
        'iplog started.',
        `Warning: interface ${pair.vIf} went down.`,
        `Interface ${pair.vIf} was reopened.`,
        `TCP: ssh connection attempt from ${pair.aAddr}:41000`,
        'Caught signal 15, exiting.',
      ]);
    } finally {
      await iplog?.stop('SIGKILL');
      await pair.destroy();
    }
  });

  test('kernel drops are counted and reported when the consumer is slow', async () => {
    const pair = await VethPair.create('drop', 3);
    let iplog: Proc | null = null;
    try {
      await pair.v.dropInput();
      iplog = startIplog(pair.v, ['-N', '-m', '-i', pair.vIf], { IPLOG_TEST_CONSUMER_DELAY_MS: '100', IPLOG_LIVE_BUFFER_KIB: '64' });
      await capturing(iplog);
      const frames: Frame[] = [];
      for (let i = 0; i < 200; i++) frames.push({ ts: 1_700_000_000 + i * 1e-5, data: eth(pair.vMac, pair.aMac, ipv4({ src: `203.0.113.${1 + (i % 200)}`, dst: pair.vAddr, proto: 6, id: i }, tcp(1024 + i, 80, SYN))) });
      const flood = join(work, 'drop.pcap');
      writeFileSync(flood, writePcap(frames));
      await pair.replay(flood, ['--topspeed', '--loop=500', '-K']); // 100,000 packets
      await sleep(1500);
      const code = await iplog.stop('SIGTERM');
      assert.equal(code, 0);
      const exit = iplog.records().find((r) => r.msg === 'iplog exiting') as { capture: { received: number; dropped: number } } | undefined;
      assert.ok(exit, iplog.stderr.slice(-2000));
      assert.ok(exit.capture.dropped > 0, `kernel drops: ${JSON.stringify(exit.capture)}`);
      assert.ok(exit.capture.received >= exit.capture.dropped);
      const warning = iplog.records().find((r) => r.msg === 'packets dropped by the kernel (capture buffer full)') as { dropped: number } | undefined;
      assert.ok(warning && warning.dropped > 0, 'a warning on the operational log');
      iplog = null;
    } finally {
      await iplog?.stop('SIGKILL');
      await pair.destroy();
    }
  });

  test('-a NETS: promiscuous capture filtered on the networks, destinations shown', async () => {
    const pair = await VethPair.create('promisc', 4);
    let iplog: Proc | null = null;
    try {
      await pair.v.dropInput();
      iplog = startIplog(pair.v, ['-N', '-i', pair.vIf, '-a', '192.0.2.0/24']);
      await capturing(iplog);
      assert.ok(iplog.records().some((r) => r.msg === 'filter' && r.filter === 'ip and (tcp or udp or icmp) and dst net (192.0.2.0/24)'));
      assert.ok(iplog.records().some((r) => r.msg === 'capturing' && r.promisc === true));
      const other = (n: number) => `02:77:00:00:00:${n.toString(16).padStart(2, '0')}`;
      const pcap = join(work, 'promisc.pcap');
      writeFileSync(
        pcap,
        writePcap([
          { ts: 1_700_000_000, data: eth(other(7), pair.aMac, ipv4({ src: pair.aAddr, dst: '192.0.2.7', proto: 6, frag: DF }, tcp(40000, 80, SYN))) },
          { ts: 1_700_000_000.01, data: eth(other(8), pair.aMac, ipv4({ src: pair.aAddr, dst: '192.0.2.8', proto: 17 }, udp(40001, 53, 4))) },
          { ts: 1_700_000_000.02, data: eth(other(9), pair.aMac, ipv4({ src: pair.aAddr, dst: '198.51.100.200', proto: 6, frag: DF }, tcp(40002, 80, SYN))) },
        ]),
      );
      await pair.replay(pcap);
      await iplog.until(() => iplog!.texts().some((t) => t.startsWith('UDP:')), 5_000, 'the datagram line');
      await sleep(300);
      const texts = (await stopped(iplog)).map((l) => l.slice(16));
      iplog = null;
      assert.deepEqual(texts, [
        'iplog started.',
        'TCP: http connection attempt to 192.0.2.7 from 192.0.2.1:40000',
        'UDP: dgram to 192.0.2.8:domain from 192.0.2.1:40001 (4 data bytes)',
        'Caught signal 15, exiting.',
      ]);
    } finally {
      await iplog?.stop('SIGKILL');
      await pair.destroy();
    }
  });

  test('default interfaces: up, with IPv4, not loopback, aliases merged; SIGINT ends a -o run', async () => {
    const pair = await VethPair.create('dflt', 5);
    let iplog: Proc | null = null;
    try {
      await pair.v.must(['ip', 'addr', 'add', '192.0.2.3/24', 'dev', pair.vIf, 'label', `${pair.vIf}:1`]);
      iplog = startIplog(pair.v, ['-N']);
      await capturing(iplog);
      const filters = iplog.records().filter((r) => r.msg === 'filter');
      assert.deepEqual(
        filters.map((r) => [r.iface, r.filter]),
        [[pair.vIf, 'ip and (tcp or udp or icmp) and dst host (192.0.2.2 or 192.0.2.3)']],
      );
      assert.ok(!iplog.records().some((r) => r.msg === 'capturing' && r.iface === 'lo'));
      const code = await iplog.stop('SIGINT');
      assert.equal(code, 0);
      assert.deepEqual(iplog.texts(), ['iplog started.', 'Caught signal 2, exiting.']);
      iplog = null;
    } finally {
      await iplog?.stop('SIGKILL');
      await pair.destroy();
    }
  });

  test('the addon: pcap records with nanosecond timestamps, inject, slots kept and released, stats, close', async () => {
    const ns = await Netns.create('addon');
    try {
      await ns.must(['ip', 'link', 'add', 'x0', 'type', 'veth', 'peer', 'name', 'x1']);
      await ns.must(['ip', 'link', 'set', 'x0', 'up']);
      await ns.must(['ip', 'link', 'set', 'x1', 'up']);
      const r = await ns.run([process.execPath, join(__dirname, 'addon-probe.js'), 'x0', 'x1']);
      assert.equal(r.status, 0, r.stderr);
      const o = JSON.parse(r.stdout) as {
        missing: string;
        badFilter: [string, string];
        filterAfterStart: string;
        datalink: number;
        nanosecond: boolean;
        records: { sec: number; nsec: number; caplen: number; len: number; ok: boolean; slot: number }[];
        t0: number;
        pending: number;
        stats: { received: number; captured: number; dropped: number; batches: number };
        anyDatalink: number;
      };
      assert.equal(o.missing, 'PCAP_ERROR_NO_SUCH_DEVICE');
      assert.equal(o.badFilter[0], 'PCAP_COMPILE');
      assert.match(o.badFilter[1], /^pcap_compile: /);
      assert.equal(o.filterAfterStart, 'setFilter() after start()');
      assert.equal(o.datalink, 1);
      assert.equal(o.nanosecond, true);
      assert.deepEqual(o.records.map((x) => [x.caplen, x.len, x.ok]), [0, 1, 2, 3, 4].map((i) => [60 + i, 60 + i, true]));
      for (const x of o.records) {
        assert.ok(Math.abs(x.sec + x.nsec / 1e9 - o.t0) < 5, 'kernel timestamps near now');
        assert.ok(x.nsec < 1e9);
      }
      // the first batch's slot was kept: frames 1-3 went to the other one
      assert.notEqual(o.records[1]!.slot, o.records[0]!.slot);
      assert.equal(o.pending, 0);
      assert.equal(o.stats.captured, 5);
      assert.ok(o.stats.received >= 5);
      assert.equal(o.stats.dropped, 0);
      assert.equal(o.anyDatalink, 113);
    } finally {
      await ns.destroy();
    }
  });
});

/**
 * The ban manager on the network clock (no wall time, no sleeps): weights, threshold,
 * window, growth for repeat offenders, the maximum, the allowlist (own addresses,
 * gateways, resolvers, broadcasts, configured networks, fixed ranges), the budget,
 * smurf and traceroute, bounded tables, failures that never stall detection, and
 * persistence + start-up reconciliation against a fake nftables.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Harness } from '../helpers/engine';
import { ipv4, tcp, SYN } from '../helpers/packets';
import { memLogger, facts, FakeNft } from './helpers';
import { attachBans } from '../../src/ban/attach';
import { defaultBanSettings, applyBanValue } from '../../src/ban/config';
import { event, type IplogEvent } from '../../src/output/event';
import type { BanSettings } from '../../src/config/settings';
import type { SystemFacts } from '../../src/ban/system';
import type { Runner } from '../../src/ban/exec';
import type { BanManager } from '../../src/ban/manager';
import { fromV6, parseAddr } from '../../src/ban/addr';
import { IplogError } from '../../src/errors';
import { makeSettings } from '../helpers/engine';
import { IpAddr } from '../../src/net/addr';

const ip = (t: string): IpAddr => IpAddr.parse(t)!;

const T0 = 1_700_000_000;
const VICTIM = '198.51.100.10';

function scan(t: number, src: string, detector = 'syn-scan', title = 'TCP: SYN scan'): IplogEvent {
  return event('scan.detected', t, ip(src), { dst: ip(VICTIM), detector, count: 12, bytes: 240, detail: { title } });
}

interface Setup {
  h: Harness;
  m: BanManager;
  lines: () => string[];
  stamped: () => string[];
  records: () => Record<string, unknown>[];
  host: { facts: SystemFacts };
}

async function setup(
  ban: Partial<BanSettings> = {},
  o: { mode?: 'replay' | 'live'; runner?: Runner; wall?: number; facts?: Partial<SystemFacts>; limits?: Record<string, number>; clockMs?: () => number } = {},
): Promise<Setup> {
  // documentation ranges hold few /24s: the prefix budget is off unless a test is about it;
  // these tests are about the mechanism, so every crossing bans alike (--ban-evidence any)
  // unless a test is about the evidence policy (test/ban/evidence.test.ts)
  const h = new Harness({}, { replayFile: o.mode === 'live' ? undefined : 'capture.pcap', ban: { ...defaultBanSettings(), backend: 'dry-run', prefixBudget: 100_000, evidence: 'any', ...ban } });
  const { log, records } = memLogger();
  const host = { facts: facts(o.facts) };
  const m = await attachBans(h.engine, h.engine.settings, {
    mode: o.mode ?? 'replay',
    log,
    probe: () => host.facts,
    runner: o.runner,
    queue: { sleep: async () => undefined },
    wallNow: () => o.wall ?? T0,
    limits: o.limits,
    clockMs: o.clockMs,
  });
  assert.ok(m);
  return { h, m, lines: () => h.lines(), stamped: () => h.stamped(), records, host };
}

describe('policy', () => {
  test('defaults: a scan detection bans its source at once, the ban lapses after --ban-time', async () => {
    const s = await setup({ timeSec: 60 });
    s.h.engine.advance(T0);
    s.h.engine.out.text(scan(T0, '203.0.113.5'), 'TCP: SYN scan detected [ports 20,21] from 203.0.113.5');
    s.h.engine.advance(T0 + 59);
    assert.equal(s.m.list().length, 1);
    s.h.engine.advance(T0 + 61);
    assert.deepEqual(s.stamped(), [
      'Nov 14 22:13:20 TCP: SYN scan detected [ports 20,21] from 203.0.113.5',
      'Nov 14 22:13:20 BAN: banned 203.0.113.5 for 60 seconds (TCP: SYN scan; score 10; offence 1; spoofable evidence)',
      'Nov 14 22:14:20 BAN: unbanned 203.0.113.5 (expired)',
    ]);
    assert.equal(s.m.list().length, 0);
  });

  test('every TCP/UDP scan detector and the ping flood ban by default; smurf and traceroute never', async () => {
    const s = await setup();
    const kinds = ['port-scan', 'null-scan', 'fin-scan', 'syn-scan', 'xmas-scan', 'udp-scan', 'ping-flood'];
    kinds.forEach((d, i) => s.m.onEvent(scan(T0, `203.0.113.${i + 1}`, d, d)));
    s.m.onEvent(scan(T0, '203.0.113.0', 'smurf', 'ICMP/UDP: smurf attack'));
    s.m.onEvent(event('udp.traceroute', T0, ip('203.0.113.50'), { dst: ip(VICTIM), sport: 40000, dport: 33434 }));
    for (let i = 0; i < 50; i++) s.m.onEvent(event('udp.traceroute', T0 + i, ip('203.0.113.51'), { dst: ip(VICTIM), sport: 40000, dport: 33434 }));
    assert.deepEqual(s.m.list().map((b) => b.addr.text), kinds.map((_, i) => `203.0.113.${i + 1}`));
    assert.equal(s.lines().filter((l) => l.includes('203.0.113.5')).length, 1);
  });

  test('a smurf weight is refused: its "source" is a network of reflectors', () => {
    const st = makeSettings();
    assert.match(applyBanValue(st, 'banWeight', 'smurf=5') ?? '', /cannot be banned/);
    assert.equal(applyBanValue(st, 'banWeight', 'smurf=0'), undefined);
  });

  test('weights add up within the sliding window and ban at the threshold', async () => {
    const s = await setup({ weights: { 'tcp.bogus_flags': 4 }, windowSec: 100 });
    const bogus = (t: number) => event('tcp.bogus_flags', t, ip('203.0.113.7'), { dst: ip(VICTIM), sport: 1234, dport: 80, detail: { tcp_flags: 0xc2 } });
    s.m.onEvent(bogus(T0));
    s.m.onEvent(bogus(T0 + 70));
    s.m.onEvent(bogus(T0 + 150)); // the first has left the window: 8
    assert.equal(s.m.list().length, 0);
    s.m.onEvent(bogus(T0 + 160)); // 12 >= 10
    assert.deepEqual(s.lines(), ['BAN: banned 203.0.113.7 for 3600 seconds (TCP: Bogus TCP flags; score 12; offence 1; spoofable evidence)']);
    // explain trail: which events, which weights, which rule, which duration
    const ex = s.records().find((r) => r.msg === 'banned 203.0.113.7')?.explain as Record<string, unknown>;
    assert.equal((ex.events as unknown[]).length, 3);
    assert.equal(ex.rule, 'score 12 >= threshold 10 within 100 s');
    assert.equal(ex.duration, 'min(3600 × 2^0, 604800) = 3600 s');
  });

  test('several kinds consolidate into one score per source', async () => {
    const s = await setup({ weights: { 'tcp.bogus_flags': 3, 'frag.overlap': 5, 'syn-scan': 2 } });
    s.m.onEvent(event('tcp.bogus_flags', T0, ip('203.0.113.8'), { dst: ip(VICTIM) }));
    s.m.onEvent(event('frag.overlap', T0 + 1, ip('203.0.113.8'), { dst: ip(VICTIM) }));
    s.m.onEvent(scan(T0 + 2, '203.0.113.8'));
    assert.deepEqual(s.lines(), ['BAN: banned 203.0.113.8 for 3600 seconds (TCP: Bogus TCP flags, Overlapping IP fragments, TCP: SYN scan; score 10; offence 1; spoofable evidence)']);
  });

  test('repeat offenders: the ban grows by the factor up to the maximum; offences are forgotten', async () => {
    const s = await setup({ timeSec: 60, factor: 2, maxTimeSec: 200 });
    let t = T0;
    const got: string[] = [];
    for (let i = 0; i < 4; i++) {
      s.h.engine.advance(t);
      s.m.onEvent(scan(t, '203.0.113.9'));
      const b = s.m.list()[0]!;
      got.push(`${b.offence}:${b.until - b.since}`);
      t = b.until + 10;
      s.h.engine.advance(t);
    }
    assert.deepEqual(got, ['1:60', '2:120', '3:200', '4:200']);
    // more than --ban-max-time after the last ban ended: a first offence again
    t += 300;
    s.h.engine.advance(t);
    s.m.onEvent(scan(t, '203.0.113.9'));
    assert.equal(s.m.list()[0]!.offence, 1);
  });

  test('events from a banned source are counted, not scored', async () => {
    const s = await setup();
    s.m.onEvent(scan(T0, '203.0.113.10'));
    s.m.onEvent(scan(T0 + 1, '203.0.113.10'));
    assert.equal(s.m.stats.eventsWhileBanned, 1);
    assert.equal(s.lines().length, 1);
  });
});

describe('never the wrong address', () => {
  test('own addresses, gateways, resolvers, broadcasts, fixed ranges and configured networks', async () => {
    const s = await setup({ allow: ['198.51.100.0/24', '2001:db8:1::/48'] });
    const cases: [string, string][] = [
      ['203.0.113.242', 'own address'],
      ['203.0.113.241', 'gateway'],
      ['203.0.113.253', 'nameserver'],
      ['203.0.113.255', 'broadcast'],
      ['127.0.0.5', 'loopback'],
      ['0.0.0.0', 'unspecified address'],
      ['224.0.0.1', 'multicast'],
      ['255.255.255.255', 'broadcast'],
      ['240.1.2.3', 'reserved address'],
      ['198.51.100.77', 'allowlisted by 198.51.100.0/24'],
    ];
    for (const [a] of cases) s.m.onEvent(scan(T0, a));
    for (const [a, why] of [['2001:db8:ffff::2', 'own address'], ['2001:db8:ffff::1', 'gateway'], ['::1', 'loopback'], ['ff02::1', 'multicast'], ['::', 'unspecified address'], ['2001:db8:1::9', 'allowlisted by 2001:db8:1::/48']]) {
      s.m.observe(parseAddr(a!)!, T0, 10, 'TCP: SYN scan', 'scan.detected', 'syn-scan');
      cases.push([a!, why!]);
    }
    assert.deepEqual(s.lines(), cases.map(([a, why]) => `BAN: not banning ${a} (${why})`));
    assert.equal(s.m.list().length, 0);
    assert.equal(s.m.stats.refusedAllow, cases.length);
  });

  test('host facts are cached; a change notice or their age makes the next ban read them again', async () => {
    const clock = { ms: 0 };
    const s = await setup({}, { clockMs: () => clock.ms });
    // a watcher (ip monitor) reports the new address: the next ban decision sees it
    s.host.facts = facts({ own: [...facts().own, '203.0.113.20'] });
    s.m.factsChanged();
    s.m.onEvent(scan(T0, '203.0.113.20'));
    assert.deepEqual(s.lines(), ['BAN: not banning 203.0.113.20 (own address)']);
    // no notice: within FACTS_MAX_AGE_MS the cached facts stand, past it they are read again
    s.host.facts = facts({ own: [...facts().own, '203.0.113.21', '203.0.113.22'] });
    clock.ms += 100;
    s.m.onEvent(scan(T0, '203.0.113.21'));
    assert.match(s.lines()[1]!, /^BAN: banned 203\.0\.113\.21 /);
    clock.ms += 2001;
    s.m.onEvent(scan(T0, '203.0.113.22'));
    // read again: .22 is protected, and the ban of .21, now an own address, is lifted
    assert.deepEqual(s.lines().slice(2), ['BAN: unbanned 203.0.113.21 (allowlisted: own address)', 'BAN: not banning 203.0.113.22 (own address)']);
    // and an address given up can be banned again
    s.host.facts = facts();
    s.m.factsChanged();
    s.h.engine.advance(T0 + 700);
    s.m.onEvent(scan(T0 + 700, '203.0.113.20'));
    assert.match(s.lines()[4]!, /^BAN: banned 203\.0\.113\.20 /);
  });

  test('a flood of crossings reads the host facts only when a ban is possible (budget first)', async () => {
    let c = 0;
    // every look at the clock is 10 s later: the facts are always too old to be trusted
    const s = await setup({ budget: 5 }, { clockMs: () => (c += 10_000) });
    const before = s.m.stats.factsReads;
    for (let i = 0; i < 5000; i++) s.m.onEvent(scan(T0 + Math.floor(i / 100), `2001:db8:${i.toString(16)}::1`));
    assert.equal(s.m.list().length, 5);
    assert.equal(s.m.stats.refusedBudget, 4995);
    // one read per ban at most: never one per event
    assert.equal(s.m.stats.factsReads - before, 5);
  });

  test('one refusal line per address per window, however often it crosses', async () => {
    const s = await setup({ weights: { 'tcp.bogus_flags': 10 }, windowSec: 100 });
    for (let i = 0; i < 20; i++) s.m.onEvent(event('tcp.bogus_flags', T0 + i, ip('203.0.113.241'), { dst: ip(VICTIM) }));
    s.m.onEvent(event('tcp.bogus_flags', T0 + 100, ip('203.0.113.241'), { dst: ip(VICTIM) }));
    // the second line is the same text: the text sink folds it into iplog's repeat line
    assert.deepEqual(await s.h.finish(), ['BAN: not banning 203.0.113.241 (gateway)', 'last message repeated 1 times']);
    assert.equal(s.records().filter((r) => (r.explain as { decision?: string } | undefined)?.decision === 'allowlisted').length, 2);
    assert.equal(s.m.stats.refusedAllow, 21);
  });

  test('ten spoofed decoy scans exhaust the budget; the real scanner refused among them is banned when it recovers', async () => {
    const s = await setup({ budget: 10 });
    s.h.engine.advance(T0);
    // nmap -D: the decoys' scans are seen first, the real scanner's one detection after them
    for (let i = 0; i < 10; i++) s.m.onEvent(scan(T0, `198.51.100.${10 + i}`));
    s.m.onEvent(scan(T0 + 1, '203.0.113.77'));
    assert.equal(s.m.list().length, 10);
    assert.ok(!s.m.list().some((b) => b.addr.text === '203.0.113.77'));
    // no more events from it: the budget recovers a minute later, the evidence (600 s window) still holds
    s.h.engine.advance(T0 + 59);
    assert.ok(!s.m.list().some((b) => b.addr.text === '203.0.113.77'));
    s.h.engine.advance(T0 + 61);
    assert.ok(s.m.list().some((b) => b.addr.text === '203.0.113.77'), 'banned once the budget allows');
    assert.match(s.lines().at(-1)!, /^BAN: banned 203\.0\.113\.77 for 3600 seconds \(TCP: SYN scan; score 10; offence 1; spoofable evidence\)$/);
    assert.equal(s.m.stats.reconsidered, 1);
  });

  test('the prefix budget: at most N new bans per minute in one /24 or /48; the rest wait for it', async () => {
    const s = await setup({ budget: 100, prefixBudget: 2 });
    s.h.engine.advance(T0);
    for (let i = 1; i <= 4; i++) s.m.onEvent(scan(T0, `198.51.100.${i}`));
    for (let i = 1; i <= 3; i++) s.m.observe(parseAddr(`2001:db8:1:${i}::5`)!, T0, 10, 'TCP: SYN scan', 'scan.detected', 'syn-scan');
    s.m.onEvent(scan(T0, '203.0.113.1'));
    assert.deepEqual(s.m.list().map((b) => b.addr.text), ['198.51.100.1', '198.51.100.2', '2001:db8:1:1::5', '2001:db8:1:2::5', '203.0.113.1']);
    assert.deepEqual(s.lines().filter((l) => l.includes('not banning')), [
      'BAN: not banning 198.51.100.3 (ban budget of 2 per minute for 198.51.100.0/24 exhausted)',
      'BAN: not banning 198.51.100.4 (ban budget of 2 per minute for 198.51.100.0/24 exhausted)',
      'BAN: not banning 2001:db8:1:3::5 (ban budget of 2 per minute for 2001:db8:1::/48 exhausted)',
    ]);
    assert.equal(s.m.stats.refusedPrefix, 3);
    s.h.engine.advance(T0 + 61);
    assert.equal(s.m.list().length, 8, 'decided again when the prefix budget allows');
  });

  test('the budget: at most N new bans per minute, then one line, then bans again when it recovers', async () => {
    const s = await setup({ budget: 10 });
    for (let i = 0; i < 200; i++) s.m.onEvent(scan(T0 + (i % 30), `203.0.113.${i}`));
    assert.equal(s.m.list().length, 10);
    const refusals = s.lines().filter((l) => l.includes('not banning'));
    assert.deepEqual(refusals, ['BAN: not banning 203.0.113.10 (ban budget of 10 per minute exhausted)']);
    assert.equal(s.m.stats.refusedBudget, 190);
    // when the budget is back, the refused are decided again, oldest first, while their
    // evidence is in the window: the budget goes to them
    s.h.engine.advance(T0 + 100);
    assert.equal(s.m.list().length, 20);
    assert.deepEqual(s.m.list().slice(10).map((b) => b.addr.text), Array.from({ length: 10 }, (_, i) => `203.0.113.${10 + i}`));
    assert.equal(s.m.stats.reconsidered, 10);
    // a new exhausted period says so once more
    s.m.onEvent(scan(T0 + 100, '203.0.113.230'));
    assert.equal(s.lines().filter((l) => l.includes('not banning')).length, 2);
    // once the window has passed, what is still pending is dropped, not banned late
    s.h.engine.advance(T0 + 700);
    assert.equal(s.m.list().length, 20);
    assert.equal(s.m.stats.pendingExpired, 181);
  });
});

describe('bounds', () => {
  test('scores: the least recently scored source is evicted, and counted', async () => {
    const s = await setup({ weights: { 'tcp.bogus_flags': 4 } }, { limits: { maxSources: 3 } });
    const b = (t: number, a: string) => s.m.onEvent(event('tcp.bogus_flags', t, ip(a), { dst: ip(VICTIM) }));
    b(T0, '203.0.113.1');
    b(T0, '203.0.113.2');
    b(T0, '203.0.113.3');
    b(T0, '203.0.113.1'); // 8; 1 is the most recent now
    b(T0, '203.0.113.4'); // evicts 2
    b(T0, '203.0.113.2'); // starts again from 4 (evicts 3)
    b(T0, '203.0.113.2'); // 8: no ban
    b(T0, '203.0.113.1'); // 12: banned
    assert.deepEqual(s.m.list().map((x) => x.addr.text), ['203.0.113.1']);
    assert.equal(s.m.stats.scoreEvictions, 2);
  });

  test('bans: a full table refuses new bans (one line), never lifts one early', async () => {
    const s = await setup({ budget: 1000 }, { limits: { maxBans: 2 } });
    for (let i = 1; i <= 5; i++) s.m.onEvent(scan(T0, `203.0.113.${i}`));
    assert.equal(s.m.list().length, 2);
    assert.deepEqual(s.lines().slice(2), ['BAN: not banning 203.0.113.3 (ban table full: 2 bans)']);
    assert.equal(s.m.stats.refusedTableFull, 3);
  });
});

describe('IPv6', () => {
  test('an IPv6 source is banned into the IPv6 set, with its canonical text', async () => {
    const s = await setup();
    s.m.onEvent(event('scan.detected', T0, ip('2001:DB8:0:0::7'), { dst: ip(VICTIM), detector: 'syn-scan', count: 12, bytes: 240, detail: { title: 'TCP: SYN scan' } }));
    assert.deepEqual(s.lines(), ['BAN: banned 2001:db8::7 for 3600 seconds (TCP: SYN scan; score 10; offence 1; spoofable evidence)']);
    const fw = (s.m as unknown as { d: { firewall: { actions: { cmd: { argv: string[] } }[] } } }).d.firewall;
    assert.deepEqual(fw.actions.at(-1)!.cmd.argv, ['nft', 'add', 'element', 'inet', 'iplog', 'ban6', '{ 2001:db8::7 timeout 3600s }']);
    assert.equal(fromV6(0xffff_cb00_71f2n).text, '203.0.113.242', 'IPv4-mapped is IPv4');
  });
});

describe('engine integration', () => {
  test('a replay: detection line, then the BAN line, stamped with packet time; drained at the end', async () => {
    const s = await setup({ timeSec: 30 });
    for (let i = 0; i < 12; i++) s.h.feed(T0 + i * 0.01, ipv4({ src: '203.0.113.5', dst: '198.51.100.10', proto: 6 }, tcp(40000, 20 + i, SYN)));
    const lines = await s.h.finish();
    const ban = lines.filter((l) => l.startsWith('BAN') || l.includes('detected') || l.includes('expired'));
    assert.deepEqual(ban, [
      'TCP: SYN scan detected [ports 20,21,22,23,24,25,26,27,28,29,...] from 203.0.113.5 [port 40000]',
      'BAN: banned 203.0.113.5 for 30 seconds (TCP: SYN scan; score 10; offence 1; spoofable evidence)',
      'BAN: unbanned 203.0.113.5 (expired)',
      'TCP: SYN scan mode expired for 203.0.113.5 - received a total of 12 packets (240 bytes).',
    ]);
    assert.ok(s.stamped().some((l) => l === 'Nov 14 22:13:50 BAN: unbanned 203.0.113.5 (expired)'));
  });

  test('a replay of a capture file refuses a real backend', async () => {
    const h = new Harness({}, { replayFile: 'capture.pcap', ban: { ...defaultBanSettings(), backend: 'nftables' } });
    await assert.rejects(attachBans(h.engine, h.engine.settings, { mode: 'replay', log: memLogger().log }), (e: IplogError) => e.code === 'IPLOG_ERR_BAN_REPLAY');
  });

  test('bad backend parameters and max < time are start-up errors', async () => {
    const bad: Partial<BanSettings>[] = [{ backend: 'nftables', params: { tabel: 'x' } }, { backend: 'command', params: {} }, { timeSec: 600, maxTimeSec: 60 }];
    for (const ban of bad) {
      const h = new Harness({}, { ban: { ...defaultBanSettings(), backend: 'dry-run', ...ban } });
      await assert.rejects(attachBans(h.engine, h.engine.settings, { mode: 'live', log: memLogger().log, probe: () => facts(), wallNow: () => T0 }), (e: IplogError) => e.code === 'IPLOG_ERR_BAN_CONFIG');
    }
  });
});

describe('failures never stall detection', () => {
  test('a failing firewall: retried with backoff, logged with a code, counted; lines go on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-ban-'));
    try {
      const calls: string[] = [];
      const runner: Runner = async (argv) => {
        calls.push(argv.join(' '));
        if (argv[1] === '-j') return { ok: false, status: 1, stdout: '', stderr: 'Error: No such file or directory' };
        return { ok: false, status: 1, stdout: '', stderr: 'Error: Could not process rule: Operation not permitted' };
      };
      const s = await setup({ backend: 'nftables', stateFile: join(dir, 'bans.json') }, { mode: 'live', runner });
      s.m.onEvent(scan(T0, '203.0.113.5'));
      s.m.onEvent(scan(T0, '203.0.113.6'));
      assert.equal(s.lines().length, 2, 'both decisions are lines at once, whatever the firewall does');
      await s.m.close();
      const errors = s.records().filter((r) => r.code === 'IPLOG_ERR_BAN_EXEC');
      assert.ok(errors.length >= 2);
      const retries = s.records().filter((r) => r.msg === 'firewall command failed, retrying');
      assert.ok(retries.length >= 3);
      // after a failed ban the structure is checked, found missing, re-created, the ban retried once
      assert.ok(s.records().some((r) => r.code === 'IPLOG_ERR_BAN_REPAIR'));
      assert.ok(calls.includes('nft list table inet iplog'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a missing firewall program is reported once per command, not retried', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-ban-'));
    try {
      let n = 0;
      const runner: Runner = async () => {
        n++;
        return { ok: false, status: null, stdout: '', stderr: 'spawn nft ENOENT', errno: 'ENOENT' };
      };
      const s = await setup({ backend: 'nftables', stateFile: join(dir, 'bans.json') }, { mode: 'live', runner });
      s.m.onEvent(scan(T0, '203.0.113.5'));
      await s.m.close();
      assert.ok(s.records().some((r) => r.code === 'IPLOG_ERR_BAN_NOT_FOUND'));
      assert.equal(s.records().filter((r) => r.msg === 'firewall command failed, retrying').length, 0, `no retries for ENOENT (${n} attempts)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('persistence and reconciliation (fake nftables)', () => {
  async function run(dir: string, nft: FakeNft, wall: number, ban: Partial<BanSettings> = {}) {
    return setup({ backend: 'nftables', stateFile: join(dir, 'bans.json'), ...ban }, { mode: 'live', runner: nft.runner, wall });
  }

  test('state is written atomically; a restart re-adds nothing, duplicates nothing, removes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-ban-'));
    try {
      let clock = T0;
      const nft = new FakeNft(() => clock);
      const a = await run(dir, nft, clock);
      assert.equal(nft.calls.length, 1, 'start: one listing (empty), no transaction, start on demand');
      a.h.engine.advance(clock);
      a.m.onEvent(scan(clock, '203.0.113.5'));
      a.m.onEvent(event('scan.detected', clock, ip('2001:db8::5'), { dst: ip(VICTIM), detector: 'syn-scan', count: 12, bytes: 240, detail: { title: 'TCP: SYN scan' } }));
      await a.m.close();
      assert.deepEqual(nft.elements('ban4'), ['203.0.113.5']);
      assert.deepEqual(nft.elements('ban6'), ['2001:db8::5']);
      const st = JSON.parse(readFileSync(join(dir, 'bans.json'), 'utf8'));
      assert.deepEqual(st.bans.map((b: { addr: string }) => b.addr), ['203.0.113.5', '2001:db8::5']);
      assert.ok(!existsSync(join(dir, 'bans.json.tmp')));

      // the process dies; 100 s later a new one starts
      clock += 100;
      nft.calls.length = 0;
      const b = await run(dir, nft, clock);
      await b.m.close();
      assert.deepEqual(nft.calls.map((c) => c.argv.join(' ')), ['nft -j list table inet iplog', 'nft -f -']);
      const script = nft.calls[1]!.stdin!;
      assert.doesNotMatch(script, /element/, 'nothing removed, nothing re-added');
      assert.deepEqual(nft.elements('ban4'), ['203.0.113.5']);
      assert.deepEqual(b.m.list().map((x) => [x.addr.text, x.until]), [
        ['203.0.113.5', T0 + 3600],
        ['2001:db8::5', T0 + 3600],
      ]);
      assert.deepEqual(b.lines(), [], 'a restart is no ban and no unban');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a restart adds what the firewall lost, with the time left, in one transaction', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-ban-'));
    try {
      let clock = T0;
      const nft = new FakeNft(() => clock);
      const a = await run(dir, nft, clock);
      a.m.onEvent(scan(clock, '203.0.113.5'));
      a.m.onEvent(scan(clock, '203.0.113.6'));
      await a.m.close();
      // `nft flush ruleset` while iplog was down
      nft.sets.clear();
      nft.tableExists = false;
      clock += 600;
      nft.calls.length = 0;
      const b = await run(dir, nft, clock);
      await b.m.close();
      assert.equal(nft.calls.length, 2);
      assert.match(nft.calls[1]!.stdin!, /add element inet iplog ban4 \{ 203\.0\.113\.5 timeout 3000s, 203\.0\.113\.6 timeout 3000s \}/);
      assert.deepEqual(nft.elements('ban4'), ['203.0.113.5', '203.0.113.6']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('expired while stopped: reported, gone from the table; unknown elements are adopted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-ban-'));
    try {
      let clock = T0;
      const nft = new FakeNft(() => clock);
      const a = await run(dir, nft, clock, { timeSec: 60 });
      a.m.onEvent(scan(clock, '203.0.113.5'));
      await a.m.close();
      // someone (a lost state file) left an element iplog does not know
      nft.sets.get('ban4')!.set('203.0.113.99', clock + 5000);
      clock += 120;
      nft.calls.length = 0;
      const b = await run(dir, nft, clock, { timeSec: 60 });
      await b.m.close();
      assert.deepEqual(b.lines(), ['BAN: unbanned 203.0.113.5 (expired while iplog was stopped)']);
      assert.deepEqual(b.m.list().map((x) => [x.addr.text, x.until, x.reason]), [['203.0.113.99', clock + 4880, 'found in the firewall at start']]);
      assert.doesNotMatch(nft.calls[1]!.stdin!, /element/);
      const st = JSON.parse(readFileSync(join(dir, 'bans.json'), 'utf8'));
      assert.deepEqual(st.bans.map((x: { addr: string }) => x.addr), ['203.0.113.99']);
      // the offence is remembered: the next ban of .5 is a second offence
      b.h.engine.advance(clock);
      b.m.onEvent(scan(clock, '203.0.113.5'));
      assert.equal(b.m.list().find((x) => x.addr.text === '203.0.113.5')!.offence, 2);
      await b.m.close(); // the state write it scheduled, before the directory goes
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a transaction that fails (an element lapsed meanwhile) is planned again from a fresh listing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-ban-'));
    try {
      let clock = T0;
      const nft = new FakeNft(() => clock);
      const a = await run(dir, nft, clock);
      a.m.onEvent(scan(clock, '203.0.113.5'));
      await a.m.close();
      nft.sets.clear();
      nft.tableExists = false;
      clock += 10;
      nft.calls.length = 0;
      const runner: Runner = async (argv, stdin) => {
        if (argv[1] === '-f' && nft.calls.filter((c) => c.argv[1] === '-f').length === 0) {
          nft.calls.push({ argv, stdin });
          return { ok: false, status: 1, stdout: '', stderr: 'Error: Could not process rule: No such file or directory' };
        }
        return nft.runner(argv, stdin);
      };
      const b = await setup({ backend: 'nftables', stateFile: join(dir, 'bans.json') }, { mode: 'live', runner, wall: clock });
      await b.m.close();
      assert.deepEqual(nft.elements('ban4'), ['203.0.113.5']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a corrupt state file is set aside; iplog starts with what the firewall holds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-ban-'));
    try {
      writeFileSync(join(dir, 'bans.json'), '{"version": 1, "bans": [');
      const nft = new FakeNft(() => T0);
      const s = await run(dir, nft, T0);
      await s.m.close();
      assert.ok(existsSync(join(dir, 'bans.json.corrupt')));
      assert.ok(s.records().some((r) => r.code === 'IPLOG_ERR_BAN_STATE_READ'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('restore and reconciliation pass the allowlist: own, loopback, unspecified, broadcasts and allowlisted nets are lifted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-ban-'));
    try {
      const clock = T0 + 100;
      const host = { own: ['127.0.0.1', '::1', '192.0.2.2', '2001:db8::2'], broadcasts: ['192.0.2.255'], gateways: ['192.0.2.1'], nameservers: ['192.0.2.53'] };
      const bad = ['127.0.0.1', '0.0.0.0', '255.255.255.255', '192.0.2.2', '192.0.2.255', '192.0.2.1', '198.51.100.7', '2001:db8::2'];
      const keep = ['203.0.113.5'];
      const entry = (addr: string) => ({ addr, family: addr.includes(':') ? 6 : 4, since: T0, until: T0 + 3600, offence: 1, reason: 'TCP: SYN scan; score 10; offence 1' });
      writeFileSync(join(dir, 'bans.json'), JSON.stringify({ version: 1, backend: 'nftables', saved: T0, bans: [...bad, ...keep].map(entry), offenders: [] }));
      const nft = new FakeNft(() => clock);
      nft.tableExists = true;
      // the firewall holds some of them (put back by a previous version), and one unknown to the table
      nft.sets.set('ban4', new Map<string, number | null>([['127.0.0.1', T0 + 3600], ['192.0.2.2', T0 + 3600], ['198.51.100.9', null], ['203.0.113.5', T0 + 3600]]));
      nft.sets.set('ban6', new Map<string, number | null>([['2001:db8::2', T0 + 3600]]));
      const s = await setup(
        { backend: 'nftables', stateFile: join(dir, 'bans.json'), allow: ['198.51.100.0/24'] },
        { mode: 'live', runner: nft.runner, wall: clock, facts: host },
      );
      await s.m.close();
      assert.deepEqual(s.lines(), [
        'BAN: unbanned 0.0.0.0 (allowlisted: unspecified address)',
        'BAN: unbanned 127.0.0.1 (allowlisted: loopback)',
        'BAN: unbanned 192.0.2.1 (allowlisted: gateway)',
        'BAN: unbanned 192.0.2.2 (allowlisted: own address)',
        'BAN: unbanned 192.0.2.255 (allowlisted: broadcast)',
        'BAN: unbanned 198.51.100.7 (allowlisted by 198.51.100.0/24)',
        'BAN: unbanned 198.51.100.9 (allowlisted by 198.51.100.0/24)',
        'BAN: unbanned 2001:db8::2 (allowlisted: own address)',
        'BAN: unbanned 255.255.255.255 (allowlisted: broadcast)',
      ]);
      assert.deepEqual(nft.elements('ban4'), keep, 'only the legitimate ban stays in the firewall');
      assert.deepEqual(nft.elements('ban6'), []);
      assert.deepEqual(s.m.list().map((b) => b.addr.text), keep);
      assert.equal(s.m.stats.liftedAllow, 9);
      const st = JSON.parse(readFileSync(join(dir, 'bans.json'), 'utf8'));
      assert.deepEqual(st.bans.map((x: { addr: string }) => x.addr), keep, 'the state file no longer holds them');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a ban in force the host facts now protect is lifted when the facts change', async () => {
    const s = await setup({}, { facts: { own: ['127.0.0.1', '192.0.2.2'], gateways: [], nameservers: [], broadcasts: [] } });
    s.h.engine.advance(T0);
    s.m.onEvent(scan(T0, '203.0.113.5'));
    assert.equal(s.m.list().length, 1);
    s.host.facts = facts({ own: ['127.0.0.1', '192.0.2.2', '203.0.113.5'], gateways: [], nameservers: [], broadcasts: [] });
    s.h.engine.advance(T0 + 31);
    assert.deepEqual(s.lines().slice(1), ['BAN: unbanned 203.0.113.5 (allowlisted: own address)']);
    assert.equal(s.m.list().length, 0);
  });

  test('invalid and excess state-file entries are reported, counted, and the file kept as .corrupt', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-ban-'));
    try {
      const ok = (addr: string) => ({ addr, family: 4, since: T0, until: T0 + 3600, offence: 1, reason: 'x' });
      const doc = {
        version: 1,
        backend: 'nftables',
        saved: T0,
        bans: [ok('203.0.113.1'), { addr: 'not-an-address', family: 4, since: T0, until: T0 + 1, offence: 1 }, ok('203.0.113.2'), { ...ok('203.0.113.9'), offence: 0 }, ok('203.0.113.3')],
        offenders: [{ addr: '203.0.113.1', family: 4, offences: 'many', last: T0 }],
      };
      const text = JSON.stringify(doc);
      writeFileSync(join(dir, 'bans.json'), text);
      const nft = new FakeNft(() => T0 + 10);
      const s = await setup({ backend: 'nftables', stateFile: join(dir, 'bans.json') }, { mode: 'live', runner: nft.runner, wall: T0 + 10, limits: { maxBans: 2 } });
      await s.m.close();
      assert.deepEqual(s.m.list().map((b) => b.addr.text), ['203.0.113.1', '203.0.113.2']);
      const r = s.records().find((x) => x.msg === 'ban state file has invalid or excess entries: they are left out (the rest is used)')!;
      assert.ok(r, 'reported');
      assert.equal(r.code, 'IPLOG_ERR_BAN_STATE_READ');
      assert.deepEqual([r.invalidBans, r.excessBans, r.invalidOffenders, r.excessOffenders], [2, 1, 1, 0]);
      assert.equal(readFileSync(join(dir, 'bans.json.corrupt'), 'utf8'), text, 'the file as it was is kept');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('periodic resync puts back what the firewall lost while running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-ban-'));
    try {
      let clock = T0;
      const nft = new FakeNft(() => clock);
      const s = await run(dir, nft, clock, { resyncSec: 300 });
      s.h.engine.advance(clock);
      s.m.onEvent(scan(clock, '203.0.113.5'));
      await s.m.close();
      nft.sets.get('ban4')!.clear();
      clock += 301;
      s.h.engine.advance(clock);
      await new Promise((r) => setImmediate(r));
      await s.m.close();
      assert.deepEqual(nft.elements('ban4'), ['203.0.113.5']);
      assert.equal(s.m.stats.resyncRepairs, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

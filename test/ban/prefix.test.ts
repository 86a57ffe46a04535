/**
 * Adaptive IPv6 prefixes in the ban manager (issue 8 B.8): N offenders of one /64 banned
 * within the window ban the /64 instead (their bans replaced), N /64s of one /48 the
 * /48; never a prefix holding a protected address; only from bans the evidence policy
 * allowed in full; the budgets; persistence and the firewall listing of prefixes;
 * `iplog bans list/show/del` of a prefix. On the network clock, with the dry-run backend
 * or the fake nftables of helpers.ts (the real kernel: prefix-netns.test.ts).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Harness } from '../helpers/engine';
import { memLogger, facts, FakeNft } from './helpers';
import { attachBans } from '../../src/ban/attach';
import { defaultBanSettings, applyBanValue } from '../../src/ban/config';
import { event, type IplogEvent } from '../../src/output/event';
import type { BanSettings } from '../../src/config/settings';
import type { SystemFacts } from '../../src/ban/system';
import type { Runner } from '../../src/ban/exec';
import type { BanManager } from '../../src/ban/manager';
import { handleRequest } from '../../src/ban/control';
import { parseTarget, covers, prefixAddr } from '../../src/ban/addr';
import nftables from '../../src/ban/nftables';
import ipset from '../../src/ban/ipset';
import iptables from '../../src/ban/iptables';
import { resolveParams } from '../../src/ban/backend';
import { makeSettings } from '../helpers/engine';
import { IpAddr } from '../../src/net/addr';

const ip = (t: string): IpAddr => IpAddr.parse(t)!;
const T0 = 1_700_000_000;
const VICTIM = '2001:db8:ffff::2';

function scan(t: number, src: string): IplogEvent {
  return event('scan.detected', t, ip(src), { dst: ip(VICTIM), detector: 'syn-scan', count: 12, bytes: 240, detail: { title: 'TCP: SYN scan' } });
}

/** proven evidence (a log rule's match): bans under the default evidence policy */
function proven(t: number, src: string): IplogEvent {
  return event('log.match', t, ip(src), { count: 1, detail: { rule: 'sshd', weight: 10, spoofable: 0, proof: true, source_role: 'attacker' } });
}

interface Setup {
  h: Harness;
  m: BanManager;
  lines: () => string[];
  records: () => Record<string, unknown>[];
  argv: () => string[];
  events: IplogEvent[];
}

async function setup(ban: Partial<BanSettings> = {}, o: { mode?: 'replay' | 'live'; runner?: Runner; wall?: number; facts?: Partial<SystemFacts> } = {}): Promise<Setup> {
  const h = new Harness({}, { replayFile: o.mode === 'live' ? undefined : 'capture.pcap', ban: { ...defaultBanSettings(), backend: 'dry-run', prefixBudget: 100_000, evidence: 'any', ...ban } });
  const { log, records } = memLogger();
  const f = facts(o.facts);
  const m = await attachBans(h.engine, h.engine.settings, { mode: o.mode ?? 'replay', log, probe: () => f, runner: o.runner, queue: { sleep: async () => undefined }, wallNow: () => o.wall ?? T0 });
  assert.ok(m);
  const events: IplogEvent[] = [];
  h.engine.out.subscribe((e) => events.push(e));
  const fw = (m as unknown as { d: { firewall: { actions: { cmd: { argv: string[] } }[] } } }).d.firewall;
  return { h, m, events, lines: () => h.lines(), records, argv: () => fw.actions.map((a) => a.cmd.argv.join(' ')) };
}

describe('addresses', () => {
  test('prefix targets: parsed canonically, host bits refused, /128 and /32 are hosts; covers', () => {
    assert.equal(parseTarget('2001:DB8:1:2:0::/64')?.text, '2001:db8:1:2::/64');
    assert.equal(parseTarget('2001:db8:1:2::/64')?.len, 64);
    assert.equal(parseTarget('2001:db8:1:2::5/64'), undefined, 'host bits set');
    assert.equal(parseTarget('2001:db8::5/128')?.text, '2001:db8::5');
    assert.equal(parseTarget('2001:db8::5/128')?.len, undefined);
    assert.equal(parseTarget('192.0.2.7/32')?.text, '192.0.2.7');
    assert.equal(parseTarget('192.0.2.0/24'), undefined, 'no IPv4 prefixes');
    const n64 = parseTarget('2001:db8:1:2::/64')!;
    const n48 = parseTarget('2001:db8:1::/48')!;
    assert.ok(covers(n64, parseTarget('2001:db8:1:2::abcd')!));
    assert.ok(!covers(n64, parseTarget('2001:db8:1:3::abcd')!));
    assert.ok(covers(n48, n64));
    assert.ok(!covers(n64, n48));
    assert.equal(prefixAddr(parseTarget('2001:db8:1:2:3:4:5:6')!, 48).text, '2001:db8:1::/48');
  });

  test('the option pair: --ban-prefix-offenders / ban_prefix_offenders, 0 = never, 1 refused', () => {
    const st = makeSettings();
    assert.equal(st.ban?.prefixOffenders ?? defaultBanSettings().prefixOffenders, 3);
    assert.equal(applyBanValue(st, 'banPrefixOffenders', '5'), undefined);
    assert.equal(st.ban!.prefixOffenders, 5);
    assert.equal(applyBanValue(st, 'banPrefixOffenders', '0'), undefined);
    assert.match(applyBanValue(st, 'banPrefixOffenders', '1') ?? '', /2 to 1000, or 0/);
    assert.match(applyBanValue(st, 'banPrefixOffenders', 'x') ?? '', /Invalid ban prefix offenders/);
  });

  test('backends list prefixes back: nft -j interval elements, ipset save, iptables -S', () => {
    const nftOut = JSON.stringify({
      nftables: [
        { metainfo: { json_schema_version: 1 } },
        { set: { name: 'ban6net', elem: [{ elem: { val: { prefix: { addr: '2001:db8:1:2::', len: 64 } }, timeout: 60, expires: 59 } }, { prefix: { addr: '2001:db8:2::', len: 48 } }] } },
        { set: { name: 'ban6', elem: [{ elem: { val: '2001:db8:1:3::5', timeout: 60, expires: 50 } }] } },
      ],
    });
    assert.deepEqual(nftables.parse!(resolveParams(nftables, {}), [nftOut]), [
      { addr: '2001:db8:1:2::/64', family: 6, seconds: 59 },
      { addr: '2001:db8:2::/48', family: 6, seconds: null },
      { addr: '2001:db8:1:3::5', family: 6, seconds: 50 },
    ]);
    assert.deepEqual(ipset.parse!(resolveParams(ipset, {}), ['add iplog6net 2001:db8:1:2::/64 timeout 3599\n']), [{ addr: '2001:db8:1:2::/64', family: 6, seconds: 3599 }]);
    assert.deepEqual(iptables.parse!(resolveParams(iptables, {}), ['', '-N iplog\n-A iplog -s 2001:db8:1:2::/64 -j DROP\n-A iplog -s 2001:db8::7/128 -j DROP\n']), [
      { addr: '2001:db8:1:2::/64', family: 6, seconds: null },
      { addr: '2001:db8::7', family: 6, seconds: null },
    ]);
  });
});

describe('escalation', () => {
  test('three offenders of one /64 within the window: the /64 is banned, their bans replaced', async () => {
    const s = await setup();
    s.m.onEvent(scan(T0, '2001:db8:1:2::a'));
    s.m.onEvent(scan(T0 + 10, '2001:db8:1:2::b'));
    assert.equal(s.m.list().length, 2, 'two offenders: still hosts');
    s.m.onEvent(scan(T0 + 20, '2001:db8:1:2::c'));
    assert.deepEqual(s.lines(), [
      'BAN: banned 2001:db8:1:2::a for 3600 seconds (TCP: SYN scan; score 10; offence 1; spoofable evidence)',
      'BAN: banned 2001:db8:1:2::b for 3600 seconds (TCP: SYN scan; score 10; offence 1; spoofable evidence)',
      'BAN: banned 2001:db8:1:2::c for 3600 seconds (TCP: SYN scan; score 10; offence 1; spoofable evidence)',
      'BAN: banned 2001:db8:1:2::/64 for 3600 seconds (3 offenders in 2001:db8:1:2::/64 within 600 s: 2001:db8:1:2::a, 2001:db8:1:2::b, 2001:db8:1:2::c; offence 1; spoofable evidence)',
      'BAN: unbanned 2001:db8:1:2::a (replaced by 2001:db8:1:2::/64)',
      'BAN: unbanned 2001:db8:1:2::b (replaced by 2001:db8:1:2::/64)',
      'BAN: unbanned 2001:db8:1:2::c (replaced by 2001:db8:1:2::/64)',
    ]);
    assert.deepEqual(s.m.list().map((b) => b.addr.text), ['2001:db8:1:2::/64']);
    // the /64 goes to the interval set first, then the hosts leave theirs (no gap for them)
    assert.deepEqual(s.argv().slice(-4), [
      "nft add element inet iplog ban6net { 2001:db8:1:2::/64 timeout 3600s }",
      'nft delete element inet iplog ban6 { 2001:db8:1:2::a }',
      'nft delete element inet iplog ban6 { 2001:db8:1:2::b }',
      'nft delete element inet iplog ban6 { 2001:db8:1:2::c }',
    ]);
    // another host of the /64 is banned already: counted, not scored, no new ban
    const before = s.m.stats.eventsWhileBanned;
    s.m.onEvent(scan(T0 + 30, '2001:db8:1:2::d'));
    assert.equal(s.m.stats.eventsWhileBanned, before + 1);
    assert.equal(s.lines().length, 7);
    // the JSON of the decision names the prefix, its members and what it replaced
    const ev = s.events.find((e) => e.kind === 'ban.added' && e.detail?.prefix === 64)!;
    assert.equal(ev.detail!.addr, '2001:db8:1:2::/64');
    assert.equal(ev.detail!.members, '2001:db8:1:2::a,2001:db8:1:2::b,2001:db8:1:2::c');
    assert.equal(ev.detail!.replaced, '2001:db8:1:2::a,2001:db8:1:2::b,2001:db8:1:2::c');
    assert.equal(ev.src!.toString(), '2001:db8:1:2::');
    assert.equal(s.m.stats.prefixBans, 1);
    assert.equal(s.m.stats.replacedByPrefix, 3);
    // it expires like a ban (the kernel drops the element itself)
    s.h.engine.advance(T0 + 20 + 3600);
    assert.equal(s.lines().at(-1), 'BAN: unbanned 2001:db8:1:2::/64 (expired)');
    assert.equal(s.m.list().length, 0);
  });

  test('offenders banned further apart than the window do not make a prefix; other /64s count apart', async () => {
    const s = await setup({ windowSec: 100, timeSec: 60 });
    s.m.onEvent(scan(T0, '2001:db8:1:2::a'));
    s.m.onEvent(scan(T0 + 50, '2001:db8:1:2::b'));
    s.m.onEvent(scan(T0 + 60, '2001:db8:1:3::c'));
    s.m.onEvent(scan(T0 + 120, '2001:db8:1:2::c')); // ::a (T0) has left the window
    assert.equal(s.lines().filter((l) => l.includes('/64')).length, 0);
    s.m.onEvent(scan(T0 + 121, '2001:db8:1:2::d'));
    assert.match(s.lines().filter((l) => l.includes('/64'))[0] ?? '', /^BAN: banned 2001:db8:1:2::\/64 for 60 seconds \(3 offenders in 2001:db8:1:2::\/64 within 100 s: 2001:db8:1:2::b, 2001:db8:1:2::c, 2001:db8:1:2::d;/);
  });

  test('three /64s of one /48: the /48 is banned, the /64s replaced (the interval set: deleted first)', async () => {
    const s = await setup({ budget: 100 });
    let t = T0;
    for (const net of ['2001:db8:7:1', '2001:db8:7:2', '2001:db8:7:3']) for (const h of ['a', 'b', 'c']) s.m.onEvent(scan(t++, `${net}::${h}`));
    const bans = s.lines().filter((l) => l.startsWith('BAN: banned 2001:db8:7::') || l.includes('/64 for') || l.includes('replaced by 2001:db8:7::/48'));
    assert.deepEqual(bans, [
      'BAN: banned 2001:db8:7:1::/64 for 3600 seconds (3 offenders in 2001:db8:7:1::/64 within 600 s: 2001:db8:7:1::a, 2001:db8:7:1::b, 2001:db8:7:1::c; offence 1; spoofable evidence)',
      'BAN: banned 2001:db8:7:2::/64 for 3600 seconds (3 offenders in 2001:db8:7:2::/64 within 600 s: 2001:db8:7:2::a, 2001:db8:7:2::b, 2001:db8:7:2::c; offence 1; spoofable evidence)',
      'BAN: banned 2001:db8:7:3::/64 for 3600 seconds (3 offenders in 2001:db8:7:3::/64 within 600 s: 2001:db8:7:3::a, 2001:db8:7:3::b, 2001:db8:7:3::c; offence 1; spoofable evidence)',
      'BAN: banned 2001:db8:7::/48 for 3600 seconds (3 offenders in 2001:db8:7::/48 within 600 s: 2001:db8:7:1::/64, 2001:db8:7:2::/64, 2001:db8:7:3::/64; offence 1; spoofable evidence)',
      'BAN: unbanned 2001:db8:7:1::/64 (replaced by 2001:db8:7::/48)',
      'BAN: unbanned 2001:db8:7:2::/64 (replaced by 2001:db8:7::/48)',
      'BAN: unbanned 2001:db8:7:3::/64 (replaced by 2001:db8:7::/48)',
    ]);
    assert.deepEqual(s.m.list().map((b) => b.addr.text), ['2001:db8:7::/48']);
    assert.deepEqual(s.argv().slice(-4), [
      'nft delete element inet iplog ban6net { 2001:db8:7:1::/64 }',
      'nft delete element inet iplog ban6net { 2001:db8:7:2::/64 }',
      'nft delete element inet iplog ban6net { 2001:db8:7:3::/64 }',
      'nft add element inet iplog ban6net { 2001:db8:7::/48 timeout 3600s }',
    ]);
    s.m.onEvent(scan(t, '2001:db8:7:99::1'));
    assert.equal(s.m.list().length, 1, 'a host of the /48 is banned already');
  });

  test('a prefix holding a protected address is never banned: one refusal line, the hosts stay banned', async () => {
    // --ban-allow inside the /64
    const s = await setup({ allow: ['2001:db8:1:2::99'] });
    for (const h of ['a', 'b', 'c', 'd']) s.m.onEvent(scan(T0, `2001:db8:1:2::${h}`));
    assert.deepEqual(s.lines().filter((l) => l.includes('/64')), [
      'BAN: not banning 2001:db8:1:2::/64 (3 offenders in 2001:db8:1:2::/64 within 600 s; it overlaps 2001:db8:1:2::99 (allowlisted by 2001:db8:1:2::99): the offenders stay banned one by one)',
    ]);
    assert.equal(s.m.list().length, 4);
    assert.equal(s.m.stats.refusedPrefixBan, 2, 'the fourth offender tried again, one line per window');
    // the host's own address, a gateway, a resolver (live: system facts; the host's own named first)
    const l = await setup({}, { mode: 'live', facts: { own: ['2001:db8:ffff::2'], gateways: ['2001:db8:ffff::1', '2001:db8:dddd::1'], nameservers: ['2001:db8:eeee::53'] } });
    for (const h of ['a', 'b', 'c']) l.m.onEvent(scan(T0, `2001:db8:ffff::${h}`));
    assert.match(l.lines().at(-1)!, /^BAN: not banning 2001:db8:ffff::\/64 \(3 offenders .*; it holds 2001:db8:ffff::2 \(own address\)/);
    assert.equal(l.m.list().length, 3);
    const g = await setup({}, { mode: 'live', facts: { gateways: ['2001:db8:dddd::1'] } });
    for (const h of ['a', 'b', 'c']) g.m.onEvent(scan(T0, `2001:db8:dddd::${h}`));
    assert.match(g.lines().at(-1)!, /^BAN: not banning 2001:db8:dddd::\/64 \(.*it holds 2001:db8:dddd::1 \(gateway\)/);
    const r = await setup({}, { mode: 'live', facts: { nameservers: ['2001:db8:eeee::53'] } });
    for (const h of ['a', 'b', 'c']) r.m.onEvent(scan(T0, `2001:db8:eeee::${h}`));
    assert.match(r.lines().at(-1)!, /^BAN: not banning 2001:db8:eeee::\/64 \(.*it holds 2001:db8:eeee::53 \(nameserver\)/);
    // a /48 holding the host: its /64s stay
    const w = await setup({ budget: 100 }, { mode: 'live', facts: { own: ['2001:db8:5:ff::1'] } });
    let t = T0;
    for (const net of ['2001:db8:5:1', '2001:db8:5:2', '2001:db8:5:3']) for (const h of ['a', 'b', 'c']) w.m.onEvent(scan(t++, `${net}::${h}`));
    assert.match(w.lines().at(-1)!, /^BAN: not banning 2001:db8:5::\/48 \(3 offenders in 2001:db8:5::\/48 within 600 s; it holds 2001:db8:5:ff::1 \(own address\)/);
    assert.deepEqual(w.m.list().map((b) => b.addr.text), ['2001:db8:5:1::/64', '2001:db8:5:2::/64', '2001:db8:5:3::/64']);
  });

  test('evidence: protected (spoofable) bans never make a prefix; proven ones do, and the prefix says so', async () => {
    const s = await setup({ evidence: 'protected' });
    for (const h of ['a', 'b', 'c', 'd']) s.m.onEvent(scan(T0, `2001:db8:1:2::${h}`));
    s.h.engine.advance(T0 + 3);
    assert.equal(s.m.list().length, 4);
    assert.ok(s.m.list().every((b) => b.protected === true));
    assert.equal(s.lines().filter((l) => l.includes('/64')).length, 0);
    for (const h of ['a', 'b', 'c']) s.m.onEvent(proven(T0 + 10, `2001:db8:9:2::${h}`));
    assert.equal(
      s.lines().find((l) => l.includes('2001:db8:9:2::/64 for')),
      'BAN: banned 2001:db8:9:2::/64 for 3600 seconds (3 offenders in 2001:db8:9:2::/64 within 600 s: 2001:db8:9:2::a, 2001:db8:9:2::b, 2001:db8:9:2::c; offence 1; evidence proven)',
    );
    const ev = s.events.find((e) => e.kind === 'ban.added' && e.detail?.addr === '2001:db8:9:2::/64')!;
    assert.equal(ev.detail!.evidence, 'proven');
    assert.equal(ev.detail!.spoofable, 0);
  });

  test('--ban-prefix-offenders 0: never; 2: two offenders make the prefix', async () => {
    const off = await setup({ prefixOffenders: 0 });
    for (const h of ['a', 'b', 'c', 'd', 'e']) off.m.onEvent(scan(T0, `2001:db8:1:2::${h}`));
    assert.equal(off.m.list().length, 5);
    const two = await setup({ prefixOffenders: 2 });
    for (const h of ['a', 'b']) two.m.onEvent(scan(T0, `2001:db8:1:2::${h}`));
    assert.deepEqual(two.m.list().map((b) => b.addr.text), ['2001:db8:1:2::/64']);
  });

  test('IPv4 never escalates', async () => {
    const s = await setup();
    for (let i = 1; i <= 5; i++) s.m.onEvent(scan(T0, `203.0.113.${i}`));
    assert.equal(s.m.list().length, 5);
  });

  test('the budgets: a prefix ban spends one; when exhausted the escalation is refused and tried again by the next offender', async () => {
    const s = await setup({ budget: 3 });
    for (const h of ['a', 'b', 'c']) s.m.onEvent(scan(T0, `2001:db8:1:2::${h}`));
    assert.match(s.lines().at(-1)!, /^BAN: not banning 2001:db8:1:2::\/64 \(3 offenders .*; ban budget of 3 per minute exhausted\)$/);
    s.m.onEvent(scan(T0 + 61, `2001:db8:1:2::d`));
    assert.ok(s.lines().includes('BAN: unbanned 2001:db8:1:2::a (replaced by 2001:db8:1:2::/64)'));
    assert.deepEqual(s.m.list().map((b) => b.addr.text), ['2001:db8:1:2::/64']);
  });

  test('a repeat prefix escalates its duration like a repeat offender, and lasts as long as what it replaced', async () => {
    const s = await setup({ timeSec: 100, windowSec: 50 });
    for (const h of ['a', 'b', 'c']) s.m.onEvent(scan(T0, `2001:db8:1:2::${h}`));
    s.h.engine.advance(T0 + 200);
    for (const h of ['d', 'e', 'f']) s.m.onEvent(scan(T0 + 200, `2001:db8:1:2::${h}`));
    assert.match(s.lines().filter((l) => l.startsWith('BAN: banned 2001:db8:1:2::/64'))[1] ?? '', /for 200 seconds .*offence 2;/);
  });
});

describe('persistence, listing and iplog bans', () => {
  test('a prefix ban survives a restart: state file, nft interval set listed back, nothing re-added', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-prefix-'));
    try {
      const clock = T0;
      const nft = new FakeNft(() => clock);
      const a = await setup({ backend: 'nftables', stateFile: join(dir, 'bans.json') }, { mode: 'live', runner: nft.runner, wall: clock });
      a.h.engine.advance(clock);
      for (const h of ['a', 'b', 'c']) a.m.onEvent(scan(clock, `2001:db8:1:2::${h}`));
      await a.m.close();
      assert.deepEqual(nft.elements('ban6net'), ['2001:db8:1:2::/64']);
      assert.deepEqual(nft.elements('ban6'), []);
      const st = JSON.parse(readFileSync(join(dir, 'bans.json'), 'utf8'));
      assert.deepEqual(st.bans.map((b: { addr: string }) => b.addr), ['2001:db8:1:2::/64']);
      nft.calls.length = 0;
      const b = await setup({ backend: 'nftables', stateFile: join(dir, 'bans.json') }, { mode: 'live', runner: nft.runner, wall: clock + 100 });
      await b.m.close();
      assert.doesNotMatch(nft.calls[1]?.stdin ?? '', /element/, 'held by the firewall: nothing removed or re-added');
      assert.deepEqual(b.m.list().map((x) => [x.addr.text, x.addr.len]), [['2001:db8:1:2::/64', 64]]);
      assert.deepEqual(b.lines(), []);
      // the restored prefix still covers its hosts
      b.m.onEvent(scan(clock + 101, '2001:db8:1:2::77'));
      assert.equal(b.m.list().length, 1);
      // lost by the firewall: the resync puts it back into the interval set
      nft.sets.get('ban6net')!.clear();
      await b.m.resync(clock + 102);
      assert.deepEqual(nft.elements('ban6net'), ['2001:db8:1:2::/64']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a prefix found in the firewall that now holds a protected address is lifted at start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-prefix-'));
    try {
      const clock = T0;
      const nft = new FakeNft(() => clock);
      nft.tableExists = true;
      nft.sets.set('ban6net', new Map([['2001:db8:ffff::/64', clock + 500]]));
      const s = await setup({ backend: 'nftables', stateFile: join(dir, 'bans.json') }, { mode: 'live', runner: nft.runner, wall: clock });
      await s.m.close();
      assert.deepEqual(s.lines(), ['BAN: unbanned 2001:db8:ffff::/64 (allowlisted: it holds 2001:db8:ffff::2 (own address))']);
      assert.deepEqual(nft.elements('ban6net'), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('iplog bans list / show / del of a prefix', async () => {
    const s = await setup({}, { mode: 'live' });
    for (const h of ['a', 'b', 'c']) s.m.onEvent(scan(T0, `2001:db8:1:2::${h}`));
    const list = handleRequest(s.m, { cmd: 'list' }, T0) as unknown as { bans: { addr: string; prefix?: number }[] };
    assert.deepEqual(list.bans.map((b) => [b.addr, b.prefix]), [['2001:db8:1:2::/64', 64]]);
    const show = handleRequest(s.m, { cmd: 'show', addr: '2001:db8:1:2::/64' }, T0) as Record<string, unknown>;
    assert.equal(show.banned, true);
    assert.equal(show.prefix, 64);
    const trail = show.trail as { rule: string; members: { addr: string }[]; replaced: { addr: string }[] };
    assert.equal(trail.rule, '3 offenders >= 3 in 2001:db8:1:2::/64 within 600 s (adaptive prefixes)');
    assert.deepEqual(trail.replaced.map((x) => x.addr), ['2001:db8:1:2::a', '2001:db8:1:2::b', '2001:db8:1:2::c']);
    const host = handleRequest(s.m, { cmd: 'show', addr: '2001:db8:1:2::55' }, T0) as Record<string, unknown>;
    assert.equal(host.coveredBy, '2001:db8:1:2::/64');
    assert.match((handleRequest(s.m, { cmd: 'add', addr: '2001:db8:1:2::/64' }, T0) as { error: string }).error, /invalid address/);
    assert.match((handleRequest(s.m, { cmd: 'show', addr: '2001:db8:1:2::5/64' }, T0) as { error: string }).error, /invalid address or IPv6 prefix/);
    const del = handleRequest(s.m, { cmd: 'del', addr: '2001:db8:1:2::/64' }, T0 + 5) as Record<string, unknown>;
    assert.equal(del.wasBanned, true);
    assert.equal(s.lines().at(-1), 'BAN: unbanned 2001:db8:1:2::/64 (lifted by hand)');
    assert.deepEqual(s.m.list(), []);
    assert.equal(s.argv().at(-1), 'nft delete element inet iplog ban6net { 2001:db8:1:2::/64 }');
  });
});

/**
 * The evidence policy of the ban manager (src/ban/evidence.ts) on the network clock:
 * proven evidence bans normally; spoofable evidence (the default --ban-evidence
 * protected) is held a moment, refused for a clientele member or a decoy group member,
 * else banned short and without escalation; --ban-evidence proven refuses it; reflector
 * and aggregate evidence never bans; every refusal is one line per address per window and
 * a counter; the BAN line and its JSON name the grade.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness } from '../helpers/engine';
import { memLogger, facts } from './helpers';
import { attachBans } from '../../src/ban/attach';
import { defaultBanSettings } from '../../src/ban/config';
import { event, type IplogEvent } from '../../src/output/event';
import type { BanSettings } from '../../src/config/settings';
import type { BanManager } from '../../src/ban/manager';
import { IpAddr } from '../../src/net/addr';

const ip = (t: string): IpAddr => IpAddr.parse(t)!;
const T0 = 1_700_000_000;
const VICTIM = '198.51.100.10';

function scan(t: number, src: string, grade: { spoofable: number; proof: boolean; source_role: string }, detector = 'syn-scan', ports = [20, 21, 22, 23, 24, 25, 26, 27, 28, 29]): IplogEvent {
  const title = detector === 'port-scan' ? 'TCP: port scan' : detector === 'smurf' ? 'ICMP/UDP: smurf attack' : 'TCP: SYN scan';
  return event('scan.detected', t, ip(src), { dst: ip(VICTIM), detector, count: 12, bytes: 240, detail: { title, dports: ports, ...grade } });
}
const SPOOF = { spoofable: 3, proof: false, source_role: 'attacker' };
const PROVEN = { spoofable: 0, proof: true, source_role: 'attacker' };

async function setup(ban: Partial<BanSettings> = {}): Promise<{ h: Harness; m: BanManager; lines: () => string[]; events: IplogEvent[] }> {
  const h = new Harness({}, { replayFile: 'capture.pcap', ban: { ...defaultBanSettings(), backend: 'dry-run', prefixBudget: 100_000, ...ban } });
  const { log } = memLogger();
  const m = await attachBans(h.engine, h.engine.settings, { mode: 'replay', log, probe: () => facts(), wallNow: () => T0 });
  assert.ok(m);
  const events: IplogEvent[] = [];
  h.engine.out.subscribe((e) => events.push(e));
  return { h, m, lines: () => h.lines(), events };
}

test('proven evidence bans at once for the ban time and escalates; the line and JSON name the grade', async () => {
  const s = await setup({ timeSec: 60 });
  s.h.engine.advance(T0);
  s.m.onEvent(scan(T0, '203.0.113.5', PROVEN, 'port-scan'));
  assert.deepEqual(s.lines(), ['BAN: banned 203.0.113.5 for 60 seconds (TCP: port scan; score 10; offence 1; evidence proven)']);
  const ev = s.events.find((e) => e.kind === 'ban.added')!;
  assert.equal(ev.detail!.evidence, 'proven');
  assert.equal(ev.detail!.spoofable, 0);
  assert.equal(ev.detail!.proof, true);
  s.h.engine.advance(T0 + 70);
  s.m.onEvent(scan(T0 + 70, '203.0.113.5', PROVEN, 'port-scan'));
  assert.match(s.lines().at(-1)!, /for 120 seconds .*offence 2; evidence proven\)$/);
  assert.equal(s.m.stats.provenBans, 2);
});

test('spoofable evidence (default protected): held 2 s, then a short ban capped at the ban time, never escalated', async () => {
  const s = await setup({ timeSec: 3600 });
  s.h.engine.advance(T0);
  s.m.onEvent(scan(T0, '203.0.113.6', SPOOF));
  assert.deepEqual(s.lines(), [], 'held');
  s.h.engine.advance(T0 + 2);
  assert.deepEqual(s.lines(), ['BAN: banned 203.0.113.6 for 600 seconds (TCP: SYN scan; score 10; spoofable evidence, protected)']);
  const ev = s.events.find((e) => e.kind === 'ban.added')!;
  assert.deepEqual([ev.detail!.evidence, ev.detail!.spoofable, ev.detail!.proof, ev.detail!.source_role], ['protected', 3, false, 'attacker']);
  s.h.engine.advance(T0 + 700);
  s.m.onEvent(scan(T0 + 700, '203.0.113.6', SPOOF));
  s.h.engine.advance(T0 + 702);
  assert.equal(s.lines().filter((l) => l.includes('BAN: banned 203.0.113.6 for 600 seconds')).length, 2, 'no escalation');
  // never longer than the configured ban time
  const t = await setup({ timeSec: 60 });
  t.h.engine.advance(T0);
  t.m.onEvent(scan(T0, '203.0.113.7', SPOOF));
  t.h.engine.advance(T0 + 2);
  assert.match(t.lines()[0]!, /for 60 seconds/);
  assert.equal(t.m.stats.protectedBans, 1);
});

test('spoofable evidence from a clientele member is refused: one line per address per window, counted', async () => {
  const s = await setup();
  s.m.clientele!.add(ip('203.0.113.8'), T0 - 86400);
  s.h.engine.advance(T0);
  s.m.onEvent(scan(T0, '203.0.113.8', SPOOF));
  s.h.engine.advance(T0 + 3);
  s.m.onEvent(scan(T0 + 3, '203.0.113.8', SPOOF));
  s.h.engine.advance(T0 + 6);
  assert.deepEqual(s.lines(), ['BAN: not banning 203.0.113.8 (spoofable evidence: 203.0.113.8 is a recent peer)']);
  assert.equal(s.m.stats.refusedClientele, 2);
  // proven evidence from the same member bans
  s.m.onEvent(scan(T0 + 7, '203.0.113.8', PROVEN, 'port-scan'));
  assert.match(s.lines().at(-1)!, /^BAN: banned 203\.0\.113\.8 for 3600 seconds .*evidence proven\)$/);
});

test('--ban-evidence proven: spoofable evidence never bans', async () => {
  const s = await setup({ evidence: 'proven' });
  s.h.engine.advance(T0);
  s.m.onEvent(scan(T0, '203.0.113.9', SPOOF));
  s.h.engine.advance(T0 + 3);
  assert.deepEqual(s.lines(), ['BAN: not banning 203.0.113.9 (spoofable evidence: only proven evidence bans (--ban-evidence proven))']);
  assert.equal(s.m.stats.refusedSpoofable, 1);
  assert.equal(s.m.list().length, 0);
});

test('a decoy group (3 sources scanning one destination alike within 10 s): no unproven member is banned, a proven one is', async () => {
  const s = await setup();
  s.h.engine.advance(T0);
  s.m.onEvent(scan(T0, '203.0.113.21', SPOOF));
  s.m.onEvent(scan(T0, '203.0.113.22', SPOOF));
  s.m.onEvent(scan(T0 + 1, '198.51.100.2', PROVEN, 'port-scan'));
  s.m.onEvent(scan(T0 + 1, '203.0.113.23', SPOOF, 'syn-scan', [20, 21, 22, 23, 24, 25, 26, 27, 28, 30]));
  s.h.engine.advance(T0 + 4);
  assert.deepEqual(s.lines().sort(), [
    'BAN: banned 198.51.100.2 for 3600 seconds (TCP: port scan; score 10; offence 1; evidence proven)',
    'BAN: not banning 203.0.113.21 (decoy evidence: one of 4 sources scanning 198.51.100.10 alike)',
    'BAN: not banning 203.0.113.22 (decoy evidence: one of 4 sources scanning 198.51.100.10 alike)',
    'BAN: not banning 203.0.113.23 (decoy evidence: one of 4 sources scanning 198.51.100.10 alike)',
  ]);
  assert.equal(s.m.stats.refusedDecoy, 3);
  const r = s.events.find((e) => e.kind === 'ban.refused')!;
  assert.equal(r.detail!.source_role, 'decoy');
  // two sources alike are no group: both get protected bans
  const t = await setup();
  t.h.engine.advance(T0);
  t.m.onEvent(scan(T0, '203.0.113.31', SPOOF));
  t.m.onEvent(scan(T0, '203.0.113.32', SPOOF));
  t.h.engine.advance(T0 + 3);
  assert.equal(t.lines().filter((l) => /protected\)$/.test(l)).length, 2);
});

test('reflector and aggregate evidence never bans, in every mode', async () => {
  for (const evidence of ['any', 'protected', 'proven'] as const) {
    const s = await setup({ evidence, weights: { 'tcp.bogus_flags': 10 } });
    s.h.engine.advance(T0);
    s.m.onEvent(event('tcp.bogus_flags', T0, ip('203.0.113.0'), { dst: ip(VICTIM), detail: { tcp_flags: 0xc2, spoofable: 3, proof: false, source_role: 'reflector' } }));
    s.m.onEvent(event('tcp.bogus_flags', T0, ip('203.0.113.40'), { dst: ip(VICTIM), detail: { tcp_flags: 0xc2, spoofable: 3, proof: false, source_role: 'aggregate' } }));
    s.h.engine.advance(T0 + 5);
    assert.deepEqual(s.lines(), ['BAN: not banning 203.0.113.0 (reflector evidence never bans)', 'BAN: not banning 203.0.113.40 (aggregate evidence never bans)'], evidence);
    assert.equal(s.m.stats.refusedRole, 2);
  }
});

test('log evidence (spoofable 0) and events without a grade: by kind', async () => {
  const s = await setup();
  s.h.engine.advance(T0);
  s.m.onEvent(event('log.match', T0, ip('203.0.113.50'), { count: 1, detail: { rule: 'sshd', weight: 10, spoofable: 0, proof: true, source_role: 'attacker' } }));
  assert.match(s.lines()[0]!, /^BAN: banned 203\.0\.113\.50 for 3600 seconds \(log: sshd; score 10; offence 1; evidence proven\)$/);
  // a detection without grade fields is spoofable packet evidence
  s.m.onEvent(event('scan.detected', T0, ip('203.0.113.51'), { dst: ip(VICTIM), detector: 'syn-scan', detail: { title: 'TCP: SYN scan' } }));
  s.h.engine.advance(T0 + 2);
  assert.match(s.lines()[1]!, /protected\)$/);
});

test('a port-scan held for the decoy check is proven when its connect-probe completes during the hold', async () => {
  const s = await setup();
  s.m.trust = { proven: (a) => a.toString() === '203.0.113.60', session: () => true };
  s.h.engine.advance(T0);
  s.m.onEvent(scan(T0, '203.0.113.60', SPOOF, 'port-scan'));
  s.m.onEvent(scan(T0, '203.0.113.61', SPOOF, 'syn-scan'));
  s.h.engine.advance(T0 + 2);
  assert.deepEqual(s.lines(), [
    'BAN: banned 203.0.113.60 for 3600 seconds (TCP: port scan; score 10; offence 1; evidence proven)',
    'BAN: banned 203.0.113.61 for 600 seconds (TCP: SYN scan; score 10; spoofable evidence, protected)',
  ]);
});

test('protected bans stay within the per-/24 budget', async () => {
  const s = await setup({ prefixBudget: 2 });
  s.h.engine.advance(T0);
  for (let i = 0; i < 5; i++) s.m.onEvent(scan(T0, `203.0.113.${70 + i}`, SPOOF, 'syn-scan', [1000 + i]));
  s.h.engine.advance(T0 + 3);
  assert.equal(s.m.list().length, 2);
  assert.equal(s.lines().filter((l) => l.includes('per minute for 203.0.113.0/24 exhausted')).length, 3);
});

/**
 * LogFeed's own-threshold counts (a rule with `threshold N window W`): a bounded table per
 * rule, the least recently seen address evicted first and counted; an address's count
 * completes the threshold within the window only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogFeed } from '../../src/logs/feed';
import { IpAddr } from '../../src/net/addr';
import type { LogRule } from '../../src/logs/rules';
import type { IplogEvent } from '../../src/output/event';

const rule = { name: 'probe', weight: 1, threshold: 3, windowSec: 60, banSec: 0, programs: [], source: '', re: /x/, hasTime: false, where: 'test:1' } as LogRule;
const v4 = (n: number) => IpAddr.v4((203 << 24) | (0 << 16) | (113 << 8) | n);

function feed(maxGate: number) {
  const evs: IplogEvent[] = [];
  const f = new LogFeed((ev) => evs.push(ev), 10, maxGate);
  const own = () => evs.filter((e) => e.detail?.own_threshold !== undefined).map((e) => `${e.src!.toString()}@${e.time}`);
  return { f, evs, own };
}

test('own threshold: 3 matches within the window ban on their own (weight = the ban threshold); older ones do not count', () => {
  const { f, evs, own } = feed(16);
  const a = v4(1);
  for (const t of [0, 10, 100, 110, 120]) f.hit(rule, a, t, 'app.log', 'line');
  // 0 and 10 leave the window by 100; 100, 110, 120 complete it
  assert.deepEqual(own(), ['203.0.113.1@120']);
  assert.deepEqual(evs.map((e) => e.detail?.weight), [1, 1, 1, 1, 10]);
  assert.equal(f.gateSize('probe'), 0, 'a completed count starts again');
  assert.equal(f.stats.ownThresholds, 1);
});

test('the table is bounded: the least recently seen address is evicted (counted) and its count forgotten', () => {
  const { f, own } = feed(4);
  // two matches each from .1 .. .4 (table full), then .5 evicts .1 (the least recently seen)
  for (let n = 1; n <= 4; n++) for (const t of [0, 1]) f.hit(rule, v4(n), t, 'app.log', 'line');
  f.hit(rule, v4(2), 2, 'app.log', 'line'); // .2 completes: removed from the table
  assert.deepEqual(own(), ['203.0.113.2@2']);
  f.hit(rule, v4(5), 3, 'app.log', 'line');
  f.hit(rule, v4(6), 3, 'app.log', 'line');
  assert.equal(f.gateSize('probe'), 4);
  assert.equal(f.stats.gateEvictions, 1, '.2 had left on its own: one eviction (.1) for .5 and .6');
  // .3 still had its two: its third completes; .1 was evicted: its third match is only its first now
  f.hit(rule, v4(3), 4, 'app.log', 'line');
  f.hit(rule, v4(1), 4, 'app.log', 'line');
  assert.deepEqual(own(), ['203.0.113.2@2', '203.0.113.3@4']);
  assert.equal(f.stats.gateEvictions, 1, '.3 left on its own too: room for .1 without an eviction');
  // many distinct addresses: the table never grows past its bound
  for (let n = 0; n < 10_000; n++) f.hit(rule, IpAddr.v6(0x20010db8, 0, n, 1), 10, 'app.log', 'line');
  assert.equal(f.gateSize('probe'), 4);
  assert.ok(f.stats.gateEvictions >= 10_000 - 4);
});

test('an IPv6 match: the event carries the address and its RFC 5952 text', () => {
  const { f, evs } = feed(4);
  f.hit({ ...rule, threshold: 0, windowSec: 0 }, IpAddr.v6(0x20010db8, 0, 0, 5), 7, 'mail.log', 'line');
  assert.equal(evs[0]!.src!.toString(), '2001:db8::5');
  assert.deepEqual([evs[0]!.detail?.addr, evs[0]!.detail?.src6, evs[0]!.detail?.family, evs[0]!.detail?.spoofable], ['2001:db8::5', '2001:db8::5', 6, 0]);
});

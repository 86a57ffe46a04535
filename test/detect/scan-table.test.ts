import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScanTable } from '../../src/detect/scan-table';
import { Anomalies } from '../../src/decode/anomalies';
import { Scan } from '../../src/detect/index';
import { portList } from '../../src/output/lines';
import { ip4 } from '../helpers/packets';

function table(buckets = 128) {
  const events: string[] = [];
  const an = new Anomalies();
  const t = new ScanTable(
    buckets,
    {
      detected: (type, src, dst, dp, sp, _count, _bytes, now) =>
        events.push(`D ${type} ${src.toString(16)} ${dst.toString(16)}${portList(dp, dp.length >= 10)}|${portList(sp, sp.length >= 5)} @${now}`),
      ended: (type, src, dst, c, b, now) => events.push(`E ${type} ${src.toString(16)} ${c} ${b} @${now}`),
    },
    an,
  );
  return { t, events, an };
}

const A1 = ip4('127.0.0.1');
const A2 = ip4('127.0.0.2');

test('threshold-th packet reports once, later packets are in mode and silent', () => {
  const { t, events } = table();
  const inMode: boolean[] = [];
  for (let i = 0; i < 12; i++) inMode.push(t.check(Scan.FIN, A2, A1, 20, 1000, 100 + i, 10));
  assert.deepEqual(inMode, [false, false, false, false, false, false, false, false, false, true, true, true]);
  assert.equal(events.length, 1);
  assert.equal(events[0], 'D 2 7f000002 7f000001 [ports 100,101,102,103,104,105,106,107,108,109,...]| [port 1000] @10');
});

test('port lists end in ",...]" exactly when full, list distinct ports in first-seen order', () => {
  const { t, events } = table();
  for (let i = 0; i < 10; i++) t.check(Scan.FIN, A2, A1, 20, 2000 + (i % 3), 7 + (i % 2), 0);
  assert.equal(events[0], 'D 2 7f000002 7f000001 [ports 7,8]| [ports 2000,2001,2002] @0');
});

test('the deadline slides with every packet; expiry reports count and bytes at the deadline', () => {
  const { t, events } = table();
  for (let i = 0; i < 72; i++) t.check(Scan.PING, A2, A1, 64, -1, -1, i * 2);
  // 70th echo at t=138 crosses; last packet at 142, so the 60 s timeout ends at 202
  assert.equal(events[0], 'D 7 7f000002 7f000001| @138');
  t.sweep(201);
  assert.equal(events.length, 1);
  assert.equal(t.due(), 202);
  t.sweep(202);
  assert.equal(events[1], 'E 7 7f000002 72 4608 @202');
  assert.equal(t.size(), 0);
});

test('below-threshold episodes expire silently and a new episode starts from 1', () => {
  const { t, events } = table();
  for (let i = 0; i < 9; i++) t.check(Scan.FIN, A2, A1, 20, 1, 1, 0);
  t.sweep(50);
  assert.equal(events.length, 0);
  for (let i = 0; i < 9; i++) assert.equal(t.check(Scan.FIN, A2, A1, 20, 1, 1, 51), false);
  assert.equal(t.check(Scan.FIN, A2, A1, 20, 1, 1, 51), true);
});

test('a fifth pair in a bucket evicts the least recently active one, reporting its open episodes', () => {
  const { t, events, an } = table();
  // 127.0.2.1..5 -> 127.0.0.1 all hash to bucket 0 (127 ^ 127)
  for (let s = 1; s <= 5; s++) for (let i = 0; i < 10; i++) t.check(Scan.FIN, ip4(`127.0.2.${s}`), A1, 20, 1, i, s);
  assert.equal(an.get('scan.evicted'), 1);
  assert.deepEqual(
    events.filter((e) => e.startsWith('E')),
    ['E 2 7f000201 10 200 @5'],
  );
  assert.equal(t.size(), 4);
});

test('counters do not wrap at 65536 (fixed in every profile)', () => {
  const { t, events } = table();
  for (let i = 0; i < 70000; i++) t.check(Scan.PORT, A2, A1, 1, -1, -1, 0);
  t.sweep(1000);
  assert.equal(events.at(-1), 'E 0 7f000002 70000 70000 @1000');
});

test('addresses above 2^31 are found again whether given as uint32 or int32', () => {
  const { t, events } = table();
  const src = ip4('203.0.113.200');
  const dst = ip4('198.51.100.9');
  for (let i = 0; i < 5; i++) t.check(Scan.FIN, src, dst, 20, 1, i, 0);
  for (let i = 5; i < 10; i++) t.check(Scan.FIN, src | 0, dst | 0, 20, 1, i, 0);
  assert.equal(t.size(), 1);
  assert.match(events[0]!, /^D 2 cb0071c8 c6336409 /);
});

// -- the registry and the per-pair masks (issue 8 A.4) --

import { DETECTORS, checkRegistry } from '../../src/detect/index';
import { defineDetector, MAX_DETECTORS, type DetectorDef } from '../../src/detect/define';

function registry(n: number): DetectorDef[] {
  return Array.from({ length: n }, (_, i) =>
    defineDetector({ index: i, name: `d${i}`, title: `D${i}`, flag: 'portscan', threshold: 3, timeoutSec: 5, resolve: 'never', counts: 'test' }),
  );
}

test('Scan.TOTAL is the number of registered detectors; a mismatched registry is refused', () => {
  assert.equal(Scan.TOTAL, DETECTORS.length);
  assert.equal(checkRegistry(DETECTORS, Scan.TOTAL), DETECTORS);
  assert.throws(() => checkRegistry(registry(9), 8), /Scan.TOTAL is 8 but 9 detectors/);
  const swapped = registry(3);
  [swapped[0], swapped[1]] = [swapped[1]!, swapped[0]!];
  assert.throws(() => checkRegistry(swapped, 3), /registered at 0 but declares index 1/);
  assert.throws(() => checkRegistry(registry(MAX_DETECTORS + 1), MAX_DETECTORS + 1), /masks hold 32/);
});

test('every detector of a full registry fires, expires and is reported on eviction (no lost mask bit)', () => {
  const defs = registry(MAX_DETECTORS);
  const events: string[] = [];
  const t = new ScanTable(
    1,
    {
      detected: (type, _s, _d, _dp, _sp, count, _b, now) => events.push(`D ${type} ${count} @${now}`),
      ended: (type, _s, _d, count, _b, now) => events.push(`E ${type} ${count} @${now}`),
    },
    new Anomalies(),
    defs,
  );
  // one pair counts 3 packets for each of the 32 detectors: each fires once
  for (const d of defs) for (let k = 0; k < 3; k++) assert.equal(t.check(d.index, A2, A1, 10, -1, -1, 0), k === 2);
  assert.deepEqual(events, defs.map((d) => `D ${d.index} 3 @0`));
  events.length = 0;
  t.sweep(5);
  assert.deepEqual(events, defs.map((d) => `E ${d.index} 3 @5`), 'every episode, bit 31 included, expires');
  // in mode for the highest bits, then evicted by four newer pairs in the one bucket
  events.length = 0;
  for (const type of [8, 31]) for (let k = 0; k < 3; k++) t.check(type, A2, A1, 10, -1, -1, 10);
  for (let i = 0; i < 4; i++) t.check(0, ip4(`127.0.1.${i}`), A1, 10, -1, -1, 11);
  assert.deepEqual(events, ['D 8 3 @10', 'D 31 3 @10', 'E 8 3 @11', 'E 31 3 @11']);
});

test('a registry the masks cannot hold is refused by the scan table', () => {
  const reporter = { detected: () => {}, ended: () => {} };
  assert.throws(() => new ScanTable(128, reporter, new Anomalies(), registry(MAX_DETECTORS + 1)), /33 detectors registered, its per-pair masks hold 32/);
});

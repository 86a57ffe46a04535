/**
 * FifoTable (src/detect/modern/table.ts, the SYN tier's table) against a model of its
 * documented contract, op by op, over long seeded random sequences: add() takes the slot
 * after the newest (cyclically) and evicts whatever live entry is still there, reporting it
 * to onEvict with its key readable; remove() frees a slot early (it stays unused until the
 * order comes round to it); find() answers exactly the live keys, whatever the index's
 * collisions and backward shifts did; size, evictions and (slot, gen) liveness follow. Run
 * also with every key given the same hash (or the same low bits), and with different seeds:
 * the same keys must be evicted in the same order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FifoTable } from '../../src/detect/modern/table';
import { Rng } from '../helpers/rng';
import { keyOf } from '../helpers/address-keys';


interface Run {
  evicted: number[];
  found: number[];
}

function run(capacity: number, seed: number, ops: number, rngSeed: number, hash?: (fam: number, w0: number, w1: number) => number): Run {
  const rng = new Rng(rngSeed);
  const evicted: number[] = [];
  const found: number[] = [];
  // model: live key id -> slot; slot -> key id
  const live = new Map<number, number>();
  const slotKey = new Map<number, number>();
  let next = 0;
  let evictions = 0;
  const t = new FifoTable(capacity, seed, (s) => {
    const id = slotKey.get(s);
    assert.ok(id !== undefined, `evicted slot ${s} holds no live key`);
    const [fam, w0, w1] = keyOf(id);
    assert.deepEqual([t.keys[s * 3], t.keys[s * 3 + 1], t.keys[s * 3 + 2]], [fam, w0, w1], 'the evicted key is readable');
    evicted.push(id);
  });
  if (hash !== undefined) (t as unknown as { hash: typeof hash }).hash = hash;
  const gens = new Map<number, number>();
  const keySpace = capacity * 3 + 5;
  for (let i = 0; i < ops; i++) {
    const op = rng.int(10);
    const id = rng.int(keySpace);
    const [fam, w0, w1] = keyOf(id);
    if (op < 5) {
      const s = t.find(fam, w0, w1);
      if (live.has(id)) {
        assert.equal(s, live.get(id), `find of live key ${id}`);
        found.push(id);
        continue;
      }
      assert.equal(s, -1, `find of absent key ${id}`);
      // the model's add: the slot after the newest; a live entry there is evicted
      const want = next;
      next = (next + 1) % capacity;
      const old = slotKey.get(want);
      const before = evicted.length;
      const got = t.add(t.lastHash, fam, w0, w1);
      if (old !== undefined) {
        live.delete(old);
        slotKey.delete(want);
        evictions++;
      }
      assert.equal(got, want, 'add takes the slot after the newest');
      assert.equal(evicted.length - before, old === undefined ? 0 : 1);
      if (old !== undefined) assert.equal(evicted[evicted.length - 1], old);
      live.set(id, got);
      slotKey.set(got, id);
      gens.set(got, t.gen[got]!);
    } else if (op < 7 && live.size > 0) {
      // remove a live key
      const ids = [...live.keys()];
      const r = ids[rng.int(ids.length)]!;
      const s = live.get(r)!;
      const g = t.gen[s]!;
      assert.ok(t.isLive(s, g));
      t.remove(s);
      assert.ok(!t.isLive(s, g), 'a removed slot is not live under its old generation');
      live.delete(r);
      slotKey.delete(s);
    } else {
      // every live key is found, at its slot, under its generation
      for (const [k, s] of live) {
        const [f, a, b] = keyOf(k);
        assert.equal(t.find(f, a, b), s);
        assert.ok(t.isLive(s, gens.get(s)!));
      }
    }
    assert.equal(t.size, live.size);
    assert.equal(t.evictions, evictions);
  }
  return { evicted, found };
}

test('FifoTable agrees with the model of its contract: capacities 1..300, adds, early removes, evictions', () => {
  for (const cap of [1, 2, 3, 7, 64, 300]) run(cap, 1, 4000, cap * 7919);
});

test('FifoTable stays correct when every key has the same hash, or the same low bits (backward-shift deletion)', () => {
  for (const cap of [1, 5, 40]) {
    run(cap, 1, 3000, cap, () => 12345);
    run(cap, 1, 3000, cap + 1, (_f, w0, w1) => ((w0 ^ w1) << 20) | 7);
  }
});

test('the seed changes no eviction: the same ops with different seeds evict the same keys in the same order', () => {
  const a = run(50, 1, 5000, 99);
  const b = run(50, 0x7f4a7c15, 5000, 99);
  const c = run(50, 0xdeadbeef, 5000, 99);
  assert.ok(a.evicted.length > 100, `the run evicts (${a.evicted.length})`);
  assert.deepEqual(b, a);
  assert.deepEqual(c, a);
});

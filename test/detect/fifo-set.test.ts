/**
 * FifoSet (src/detect/modern/table.ts, the flood sieve's set) against a model of its
 * documented contract, op by op, over long seeded random sequences: add() overwrites the
 * slot after the newest (cyclically), whatever it held; kill() takes a key out early (its
 * slot stays unused until the order comes round to it); find() answers exactly the keys
 * held, whatever stale index cells, collisions and rebuilds left; count[] is the caller's.
 * Run also with every key given the same hash (or the same low bits) and with different
 * seeds: the answers must be the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FifoSet } from '../../src/detect/modern/table';
import { Rng } from '../helpers/rng';
import { keyOf } from '../helpers/address-keys';


/** the keys found, in order, over `ops` random operations */
function run(capacity: number, seed: number, ops: number, rngSeed: number, hash?: (fam: number, w0: number, w1: number) => number): number[] {
  const rng = new Rng(rngSeed);
  const found: number[] = [];
  // model: key id -> slot; slot -> key id
  const held = new Map<number, number>();
  const slotKey = new Map<number, number>();
  let next = 0;
  const t = new FifoSet(capacity, seed);
  if (hash !== undefined) (t as unknown as { hash: typeof hash }).hash = hash;
  const keySpace = capacity * 3 + 5;
  for (let i = 0; i < ops; i++) {
    const op = rng.int(10);
    const id = rng.int(keySpace);
    const [fam, w0, w1] = keyOf(id);
    if (op < 7) {
      const s = t.find(fam, w0, w1);
      if (held.has(id)) {
        assert.equal(s, held.get(id), `find of held key ${id}`);
        assert.equal(t.count[s], id & 0xff, 'the count stays with its slot');
        found.push(id);
        continue;
      }
      assert.equal(s, -1, `find of absent key ${id}`);
      const want = next;
      next = (next + 1) % capacity;
      const old = slotKey.get(want);
      if (old !== undefined) held.delete(old);
      const got = t.add(t.lastHash, fam, w0, w1);
      assert.equal(got, want, 'add takes the slot after the newest');
      assert.equal(t.count[got], 0);
      t.count[got] = id & 0xff;
      held.set(id, got);
      slotKey.set(got, id);
    } else if (held.size > 0) {
      const ids = [...held.keys()];
      const r = ids[rng.int(ids.length)]!;
      const s = held.get(r)!;
      t.kill(s);
      held.delete(r);
      slotKey.delete(s);
      const [f, a, b] = keyOf(r);
      assert.equal(t.find(f, a, b), -1, 'a killed key is not found');
    }
  }
  // every held key is found, every other is not
  for (let id = 0; id < keySpace; id++) {
    const [fam, w0, w1] = keyOf(id);
    assert.equal(t.find(fam, w0, w1), held.has(id) ? held.get(id) : -1, `final find of ${id}`);
  }
  assert.ok(t.rebuilds > 0 || ops < capacity * 2, 'the index was rebuilt');
  return found;
}

test('FifoSet: finds exactly the keys held, through overwrites, kills and index rebuilds', () => {
  for (const cap of [2, 8, 64, 1024]) for (let r = 1; r <= 3; r++) run(cap, 0x1234 * r, 20_000, r * 7 + cap);
});

test('FifoSet: what it answers does not depend on the seed or on hash collisions', () => {
  const a = run(64, 1, 30_000, 99);
  assert.deepEqual(run(64, 0x7f4a7c15, 30_000, 99), a);
  assert.deepEqual(run(64, 1, 30_000, 99, () => 12345), a, 'every key the same hash');
  assert.deepEqual(run(64, 1, 30_000, 99, (f, w0, w1) => ((w0 ^ w1 ^ f) << 20) | 0x5), a, 'every key the same low bits');
});

test('FifoSet: refuses a capacity that is not a power of two', () => {
  assert.throws(() => new FifoSet(1000, 1), /power of two/);
});

/**
 * KeyedTable (src/detect/modern/table.ts) against a reference model of its documented
 * contract, op by op, over long seeded random sequences: which key find() answers, which key
 * add() evicts (least recently touched unpinned entry; the least recently touched pinned one
 * when no unpinned entry is left or pinned entries hold more than half the table, counted in
 * evidenceEvictions), what victim()/warmVictim() predict, the counters, (slot, gen) liveness.
 * Slot numbers are the table's business: the model only remembers the slot the table handed
 * out for each key and checks that the key stays there while it is live. Run also with hash()
 * overridden so that every key lands in one bucket (or shares its low or high bits), and with
 * different seeds (the same keys must be evicted in the same order).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedTable } from '../../src/detect/modern/table';
import { Rng } from '../helpers/rng';

// ---------------------------------------------------------------- keys

/** flood keys have word 0 = FLOOD | id (24 bits); no key of the small set does */
const FLOOD = 0x7f000000;

/**
 * Key ids: 0 .. small.length-1 name a fixed set of keys rich in edge cases (all-zero, all
 * ones, INT32_MIN, one non-zero word in each position, IPv4-in-IPv6-like zero runs, words
 * from a tiny alphabet); ids from small.length on are flood keys, all distinct.
 */
class KeySpace {
  readonly small: Int32Array[] = [];
  readonly strs: string[] = [];
  constructor(
    readonly width: number,
    smallN: number,
    rng: Rng,
  ) {
    const seen = new Set<string>();
    const push = (w: Int32Array): void => {
      if ((w[0]! & 0xff000000) === FLOOD) return;
      const s = w.join(',');
      if (seen.has(s)) return;
      seen.add(s);
      this.small.push(w);
      this.strs.push(s);
    };
    const fill = (v: number): Int32Array => new Int32Array(width).fill(v);
    push(fill(0));
    push(fill(-1));
    push(fill(-0x80000000));
    push(fill(1));
    for (let j = 0; j < width; j++) {
      for (const v of [1, -1, 0x8000]) {
        const w = fill(0);
        w[j] = v;
        push(w);
      }
    }
    const alphabet = [0, 0, 0, 1, -1, 2, 0x10000, -0x80000000];
    while (this.small.length < smallN) {
      const w = new Int32Array(width);
      const shape = rng.int(3);
      for (let j = 0; j < width; j++) {
        if (shape === 0) w[j] = alphabet[rng.int(alphabet.length)]!;
        else if (shape === 1) w[j] = j >= 1 && j <= 3 ? 0 : rng.u32() | 0; // an IPv4 address in an IPv6-wide key
        else w[j] = rng.u32() | 0;
      }
      push(w);
    }
  }
  get smallN(): number {
    return this.small.length;
  }
  words(id: number, out: Int32Array): void {
    if (id < this.small.length) {
      out.set(this.small[id]!);
      return;
    }
    const f = id - this.small.length;
    out[0] = FLOOD | (f & 0xffffff);
    for (let j = 1; j < this.width; j++) out[j] = j % 3 === 1 ? 0 : Math.imul(f + j, 0x9e3779b1) ^ (f >>> 3);
  }
  str(id: number): string {
    if (id < this.small.length) return this.strs[id]!;
    const w = new Int32Array(this.width);
    this.words(id, w);
    return w.join(',');
  }
}

// ---------------------------------------------------------------- reference model

interface Entry {
  id: number;
  slot: number;
  gen: number;
  pinned: boolean;
  /** position in Model.live */
  idx: number;
}

/** the contract, with Maps as recency lists (insertion order: first = least recently touched) */
class Model {
  readonly map = new Map<number, Entry>();
  /** [0] unpinned, [1] pinned */
  readonly lists = [new Map<number, Entry>(), new Map<number, Entry>()] as const;
  readonly live: Entry[] = [];
  evictions = 0;
  evidenceEvictions = 0;
  /** evidence evictions because no unpinned entry was left / because pinned entries held more than half */
  evNoUnpinned = 0;
  evOverHalf = 0;
  constructor(readonly capacity: number) {}
  get size(): number {
    return this.map.size;
  }
  get pinnedCount(): number {
    return this.lists[1].size;
  }
  /** the entry the next add() evicts, and from which list; null while a free slot is left */
  victim(): { e: Entry; pinned: boolean } | null {
    if (this.map.size < this.capacity) return null;
    const pinned = this.lists[0].size === 0 || this.lists[1].size * 2 > this.capacity;
    const e = this.lists[pinned ? 1 : 0].values().next().value as Entry;
    return { e, pinned };
  }
  insert(id: number, slot: number, gen: number): Entry {
    const e: Entry = { id, slot, gen, pinned: false, idx: this.live.length };
    this.map.set(id, e);
    this.lists[0].set(id, e);
    this.live.push(e);
    return e;
  }
  drop(e: Entry): void {
    this.map.delete(e.id);
    this.lists[e.pinned ? 1 : 0].delete(e.id);
    const last = this.live.pop()!;
    if (last !== e) {
      this.live[e.idx] = last;
      last.idx = e.idx;
    }
  }
  evict(): { e: Entry; pinned: boolean } {
    const v = this.victim()!;
    this.evictions++;
    if (v.pinned) {
      this.evidenceEvictions++;
      if (this.lists[0].size === 0) this.evNoUnpinned++;
      else this.evOverHalf++;
    }
    this.drop(v.e);
    return v;
  }
  touch(e: Entry): void {
    const l = this.lists[e.pinned ? 1 : 0];
    l.delete(e.id);
    l.set(e.id, e);
  }
  setPinned(e: Entry, on: boolean): void {
    // already in the wanted list: nothing moves (the table returns early too)
    if (e.pinned === on) return;
    this.lists[e.pinned ? 1 : 0].delete(e.id);
    e.pinned = on;
    this.lists[on ? 1 : 0].set(e.id, e);
  }
}

// ---------------------------------------------------------------- the differential driver

type OnEvict = (slot: number, pinned: boolean) => void;
type Make = (capacity: number, width: number, seed: number, onEvict: OnEvict) => KeyedTable;

const plain: Make = (c, w, s, f) => new KeyedTable(c, w, s, f);

/** a table whose hash() is f(the real hash): f constant puts every key in one bucket */
class Colliding extends KeyedTable {
  constructor(c: number, w: number, s: number, onEvict: OnEvict, private readonly f: (h: number) => number) {
    super(c, w, s, onEvict);
  }
  override hash(): number {
    return this.f(super.hash()) | 0;
  }
}
const colliding =
  (f: (h: number) => number): Make =>
  (c, w, s, e) =>
    new Colliding(c, w, s, e, f);

interface Config {
  name: string;
  capacity: number;
  width: number;
  /** size of the fixed key set (heavy reuse) */
  smallKeys: number;
  /** probability that an accessed key comes from the fixed set, else a flood key */
  pSmall: number;
  ops: number;
  /** drives the op sequence and the keys */
  seed: number;
  /** the table's hash seed */
  tableSeed: number;
  make?: Make;
  /** a full check (every live key found, every dead handle dead) every this many ops */
  fullEvery?: number;
}

interface Result {
  /** evicted keys, in order */
  evicted: string[];
  /** per access: the key and whether it was found */
  accesses: string[];
  model: Model;
  hits: number;
  misses: number;
}

function run(cfg: Config): Result {
  const rng = new Rng(cfg.seed);
  const ks = new KeySpace(cfg.width, cfg.smallKeys, new Rng(cfg.seed ^ 0x51ed270b));
  const W = cfg.width;
  const cap = cfg.capacity;
  const seen: { slot: number; pinned: boolean; key: string }[] = [];
  let t: KeyedTable;
  const keyAt = (slot: number): string => t.keys.subarray(slot * W, slot * W + W).join(',');
  t = (cfg.make ?? plain)(cap, W, cfg.tableSeed, (slot, pinned) => seen.push({ slot, pinned, key: keyAt(slot) }));
  const m = new Model(cap);
  const owner = new Float64Array(cap).fill(-1); // slot -> id of the live entry holding it
  const dead: { slot: number; gen: number }[] = [];
  let deadNext = 0;
  const DEAD = 64;
  const kw = new Int32Array(W);
  let floodNext = ks.smallN;
  const out: Result = { evicted: [], accesses: [], model: m, hits: 0, misses: 0 };
  let op = 0;
  const where = (): string => `${cfg.name}: op ${op}`;

  const fail = (msg: string): never => assert.fail(`${where()}: ${msg}`);
  const fill = (id: number): void => {
    ks.words(id, kw);
    t.k.set(kw);
  };
  const kIs = (id: number, what: string): void => {
    ks.words(id, kw);
    for (let i = 0; i < W; i++) if (t.k[i] !== kw[i]) fail(`${what} changed the key scratch k`);
  };
  const pickKey = (): number => {
    if (rng.chance(cfg.pSmall)) return rng.int(ks.smallN);
    // flood: mostly new keys, some recent ones again
    if (floodNext === ks.smallN || rng.chance(0.7)) return floodNext++;
    return floodNext - 1 - rng.int(Math.min(floodNext - ks.smallN, 2 * cap + 2));
  };
  const pickLive = (): Entry | null => (m.live.length === 0 ? null : m.live[rng.int(m.live.length)]!);
  const buryHandle = (e: Entry): void => {
    owner[e.slot] = -1;
    dead[deadNext] = { slot: e.slot, gen: e.gen };
    deadNext = (deadNext + 1) % DEAD;
  };

  /** a lookup result of key `id` against the model */
  const lookup = (id: number, s: number, how: string): void => {
    const e = m.map.get(id);
    if (e === undefined) {
      if (s !== -1) fail(`${how} of absent key ${ks.str(id)} returned slot ${s} (holding ${s >= 0 && s < cap ? keyAt(s) : '?'})`);
      return;
    }
    if (s !== e.slot) fail(`${how} of live key ${ks.str(id)} returned ${s}, the key was given slot ${e.slot}`);
    if (keyAt(s) !== ks.str(id)) fail(`slot ${s} holds ${keyAt(s)}, not ${ks.str(id)}`);
    if (t.pinned[s] !== (e.pinned ? 1 : 0)) fail(`pinned[${s}] is ${t.pinned[s]}, the model says ${e.pinned}`);
    if (t.gen[s] !== e.gen) fail(`gen[${s}] changed while the key was live (${e.gen} -> ${t.gen[s]})`);
    if (!t.isLive(s, e.gen)) fail(`isLive(${s}, ${e.gen}) false for a live key`);
  };
  const victimIs = (v: number, how: string): void => {
    const p = m.victim();
    if (p === null) {
      if (v !== -1) fail(`${how} = ${v} with ${m.size}/${cap} entries (a free slot is left: -1)`);
    } else if (v !== p.e.slot) {
      fail(`${how} = ${v} (${v >= 0 && v < cap ? keyAt(v) : '?'}), the model's next victim is ${ks.str(p.e.id)} in slot ${p.e.slot} (${p.pinned ? 'pinned' : 'unpinned'} list)`);
    }
  };
  /** add the absent key `id` (in k) with `doAdd`, checking the eviction against the model */
  const add = (id: number, doAdd: () => number): void => {
    const p = m.victim();
    victimIs(t.victim(), 'victim() before add()');
    seen.length = 0;
    const s = doAdd();
    if (p === null) {
      if (seen.length !== 0) fail(`add() evicted ${seen[0]!.key} with a free slot left`);
    } else {
      if (seen.length !== 1) fail(`add() on a full table called onEvict ${seen.length} times`);
      const got = seen[0]!;
      const want = ks.str(p.e.id);
      if (got.key !== want || got.slot !== p.e.slot || got.pinned !== p.pinned) {
        fail(`add() evicted ${got.key} (slot ${got.slot}, pinned ${got.pinned}), the model evicts ${want} (slot ${p.e.slot}, pinned ${p.pinned})`);
      }
      m.evict();
      buryHandle(p.e);
      out.evicted.push(want);
    }
    if (!(s >= 0 && s < cap)) fail(`add() returned slot ${s}`);
    if (owner[s] !== -1) fail(`add() returned slot ${s}, still held by live key ${ks.str(owner[s]!)}`);
    if (keyAt(s) !== ks.str(id)) fail(`add() of ${ks.str(id)}: slot ${s} holds ${keyAt(s)}`);
    if (t.pinned[s] !== 0) fail('a new entry is pinned');
    const g = t.gen[s]!;
    if (!t.isLive(s, g)) fail(`isLive(${s}, gen[${s}]) false right after add()`);
    owner[s] = id;
    m.insert(id, s, g);
    kIs(id, 'add()');
    seen.length = 0;
  };

  // the op sequence
  let pOn = 0.5;
  for (op = 0; op < cfg.ops; op++) {
    // phases: few pins, about half, nearly all (so pinned entries sometimes hold more than half, or all)
    if (op % 4000 === 0) pOn = [0.25, 0.55, 0.97][(op / 4000) % 3]!;
    const r = rng.int(100);
    if (r < 55) {
      // an access, in one of the ways the engine looks a key up and adds it
      const id = pickKey();
      const way = rng.int(4);
      let s: number;
      if (way === 3) {
        // the engine's pair: both keys' hashes and heads first, the victim warmed, then the walks
        const id2 = pickKey();
        fill(id2);
        const h2 = t.hash();
        fill(id);
        const h1 = t.hash();
        const f1 = t.headOf(h1);
        const f2 = t.headOf(h2);
        victimIs(t.warmVictim(), 'warmVictim()');
        kIs(id, 'headOf()/warmVictim()');
        s = t.findFrom(h1, f1);
        lookup(id, s, 'findFrom()');
        kIs(id, 'findFrom()');
        let s2 = -1;
        if (s < 0 && id2 !== id) {
          fill(id2);
          s2 = t.findFrom(h2, f2);
          lookup(id2, s2, 'findFrom() (second key, heads taken before)');
          if (s2 >= 0) {
            t.touch(s2);
            m.touch(m.map.get(id2)!);
          }
          fill(id);
        }
        if (s < 0 && s2 < 0) add(id, () => t.add(h1));
      } else {
        fill(id);
        let h = 0;
        if (way === 2) {
          h = t.hash();
          s = t.findFrom(h, t.headOf(h));
          lookup(id, s, 'findFrom(h, headOf(h))');
        } else {
          s = t.find();
          lookup(id, s, 'find()');
        }
        kIs(id, 'find()');
        if (s < 0) add(id, way === 0 ? () => t.add(t.lastHash) : way === 1 ? () => t.add() : () => t.add(h));
      }
      out.accesses.push(`${ks.str(id)}${s >= 0 ? '+' : '-'}`);
      if (s >= 0) {
        out.hits++;
        if (rng.chance(0.8)) {
          t.touch(s);
          m.touch(m.map.get(id)!);
        }
      } else out.misses++;
    } else if (r < 65) {
      const e = pickLive();
      if (e !== null) {
        t.touch(e.slot);
        m.touch(e);
      }
    } else if (r < 82) {
      const e = pickLive();
      if (e !== null) {
        const on = rng.chance(pOn);
        t.setPinned(e.slot, on);
        m.setPinned(e, on);
      }
    } else if (r < 87) {
      const e = pickLive();
      if (e !== null) {
        t.remove(e.slot);
        m.drop(e);
        buryHandle(e);
        if (t.isLive(e.slot, e.gen)) fail(`isLive(${e.slot}, ${e.gen}) true right after remove()`);
        if (t.gen[e.slot] === e.gen) fail(`remove() left gen[${e.slot}] at ${e.gen} (a removed slot's generation moves on)`);
        // a second remove() of a free slot changes nothing
        if (rng.chance(0.3)) t.remove(e.slot);
        fill(e.id);
        lookup(e.id, t.find(), 'find() after remove()');
      }
    } else if (r < 96) {
      const id = rng.chance(0.5) && m.live.length > 0 ? pickLive()!.id : pickKey();
      fill(id);
      lookup(id, t.find(), 'find()');
    } else {
      // warmVictim() alone: the victim, and no change (the checks below see any)
      victimIs(t.warmVictim(), 'warmVictim()');
    }

    // after every op
    if (t.size !== m.size) fail(`size ${t.size}, model ${m.size}`);
    if (t.pinnedCount !== m.pinnedCount) fail(`pinnedCount ${t.pinnedCount}, model ${m.pinnedCount}`);
    if (t.evictions !== m.evictions) fail(`evictions ${t.evictions}, model ${m.evictions}`);
    if (t.evidenceEvictions !== m.evidenceEvictions) fail(`evidenceEvictions ${t.evidenceEvictions}, model ${m.evidenceEvictions}`);
    victimIs(t.victim(), 'victim()');
    // a sample of lookups: a live key (a hit), any key (often a miss), both ways
    {
      const e = pickLive();
      if (e !== null) {
        fill(e.id);
        lookup(e.id, t.find(), 'find() (sample)');
      }
      const id = pickKey();
      fill(id);
      const h = t.hash();
      lookup(id, t.findFrom(h, t.headOf(h)), 'findFrom() (sample)');
    }
    if (seen.length !== 0) fail('onEvict called outside add()');
    for (let i = 0; i < 2 && dead.length > 0; i++) {
      const d = dead[rng.int(dead.length)]!;
      if (t.isLive(d.slot, d.gen)) fail(`isLive(${d.slot}, ${d.gen}) true for a removed/evicted entry`);
    }
    if (cfg.fullEvery !== undefined && op % cfg.fullEvery === cfg.fullEvery - 1) fullCheck();
  }

  function fullCheck(): void {
    for (const e of m.live) {
      fill(e.id);
      lookup(e.id, t.find(), 'find() (full check)');
    }
    for (const d of dead) if (t.isLive(d.slot, d.gen)) fail(`isLive(${d.slot}, ${d.gen}) true for a removed/evicted entry`);
  }
  fullCheck();

  // drain: fresh keys until every entry present at the end is evicted, each in the model's order
  // (this reads the whole of both recency lists)
  const before = m.size;
  for (let i = 0; i < before + cap; i++) {
    const id = floodNext++;
    fill(id);
    const s = t.find();
    lookup(id, s, 'find() (drain)');
    add(id, () => t.add(t.lastHash));
    if (rng.chance(0.3)) {
      const e = m.map.get(id)!;
      t.setPinned(e.slot, true);
      m.setPinned(e, true);
    }
  }
  fullCheck();
  return out;
}

function checkCoverage(cfg: Config, r: Result): void {
  assert.ok(r.hits > 0, `${cfg.name}: no hit`);
  assert.ok(r.misses > 0, `${cfg.name}: no miss`);
  assert.ok(r.model.evictions > 0, `${cfg.name}: no eviction`);
  assert.ok(r.model.evidenceEvictions > 0, `${cfg.name}: no evidence eviction`);
}

// ---------------------------------------------------------------- the tests

test('KeyedTable agrees with the model of its contract: capacities 1..1000, widths 1/5/9, reused keys and floods', () => {
  let n = 0;
  let noUnpinned = 0;
  let overHalf = 0;
  for (const capacity of [1, 2, 7, 64, 1000]) {
    for (const width of [1, 5, 9]) {
      for (const space of ['small', 'flood'] as const) {
        const cfg: Config = {
          name: `capacity ${capacity}, width ${width}, ${space} key space`,
          capacity,
          width,
          smallKeys: space === 'small' ? Math.max(4, Math.ceil(capacity * 1.5)) : capacity + 8,
          pSmall: space === 'small' ? 0.97 : 0.1,
          ops: capacity === 1000 ? 30_000 : 12_000,
          seed: 0x1234 + n * 7919,
          tableSeed: 0x9e3779b9 ^ (n * 101),
          fullEvery: capacity <= 64 ? 97 : 3001,
        };
        n++;
        const r = run(cfg);
        checkCoverage(cfg, r);
        noUnpinned += r.model.evNoUnpinned;
        overHalf += r.model.evOverHalf;
      }
    }
  }
  // both reasons for evicting a pinned entry were exercised
  assert.ok(noUnpinned > 0, 'no evidence eviction for want of an unpinned entry');
  assert.ok(overHalf > 0, 'no evidence eviction because pinned entries held more than half');
});

test('KeyedTable stays correct when every key has the same hash (or shares its low or high bits)', () => {
  const hashes: [string, (h: number) => number][] = [
    ['constant 42', () => 42],
    ['constant 0', () => 0],
    ['constant -1', () => -1],
    ['low 16 bits zero', (h) => h & ~0xffff],
    ['only the low 3 bits', (h) => h & 7],
  ];
  let n = 0;
  for (const [hname, f] of hashes) {
    for (const capacity of [64, 1000]) {
      const width = n % 2 === 0 ? 5 : 1;
      const cfg: Config = {
        name: `hash ${hname}, capacity ${capacity}, width ${width}`,
        capacity,
        width,
        smallKeys: Math.ceil(capacity * 1.5),
        pSmall: 0.8,
        ops: capacity === 1000 ? 4_000 : 8_000,
        seed: 0xc0111de + n,
        tableSeed: n,
        make: colliding(f),
        fullEvery: capacity === 64 ? 499 : undefined,
      };
      n++;
      checkCoverage(cfg, run(cfg));
    }
  }
});

test('the seed changes no eviction: the same ops on tables with different seeds evict the same keys in the same order', () => {
  for (const [capacity, width, pSmall] of [
    [7, 1, 0.9],
    [64, 5, 0.5],
    [1000, 9, 0.3],
  ] as const) {
    const runs = [0, 1, 0x9e3779b9, -1].map((tableSeed) =>
      run({ name: `capacity ${capacity}, width ${width}, seed ${tableSeed}`, capacity, width, smallKeys: capacity * 2, pSmall, ops: 10_000, seed: 0xabc + capacity, tableSeed }),
    );
    for (const r of runs.slice(1)) {
      assert.ok(runs[0]!.evicted.length > capacity, 'the run evicts');
      assert.deepEqual(r.evicted, runs[0]!.evicted, `capacity ${capacity}: eviction order depends on the seed`);
      assert.deepEqual(r.accesses, runs[0]!.accesses, `capacity ${capacity}: hits depend on the seed`);
    }
  }
});

/**
 * A bounded keyed table in typed arrays, for the modern profile's state (contacts,
 * sources): fixed capacity chosen at start, a seeded hash over the key's 32-bit words
 * (attacker-chosen keys cannot be aimed at one chain without the seed), chained buckets,
 * and eviction by age: two recency lists, one for entries without evidence and one for
 * entries that hold evidence ("pinned", as Snort's priority nodes). A full table evicts the
 * least recently touched unpinned entry; pinned entries may hold at most half the table,
 * beyond that (or with no unpinned entry left) the least recently touched pinned entry
 * goes and `evidenceEvictions` counts it. The recency order is the order of touches, never
 * a hash position, so which entry is evicted — and so every line — does not depend on the
 * seed. No allocation after construction.
 */
const NONE = -1;

export class KeyedTable {
  /** key scratch: fill `k` then call find()/add() */
  readonly k: Int32Array;
  readonly keys: Int32Array;
  /** generation of each slot, bumped when the slot is reused (timers hold (slot, gen)) */
  readonly gen: Int32Array;
  readonly pinned: Uint8Array;
  /** per slot, interleaved: [2s] its key's hash, [2s+1] the next slot of its bucket's chain (one cache line per step) */
  private readonly hc: Int32Array;
  /** per bucket: its first slot + 1, 0 for an empty bucket (a zero-filled array needs no set-up: its pages are touched only when used) */
  private readonly head: Int32Array;
  /** per slot, interleaved: [2s] previous, [2s+1] next in its recency list */
  private readonly pn: Int32Array;
  /** list heads/tails: [0] unpinned, [1] pinned */
  private readonly lhead = new Int32Array([NONE, NONE]);
  private readonly ltail = new Int32Array([NONE, NONE]);
  private readonly inUse: Uint8Array;
  private readonly mask: number;
  private used = 0;
  private freeHead = NONE;
  size = 0;
  pinnedCount = 0;
  evictions = 0;
  evidenceEvictions = 0;
  longestChain = 0;

  constructor(
    readonly capacity: number,
    readonly width: number,
    private readonly seed: number,
    /** called with the slot about to be evicted (its key and data still readable) */
    private readonly onEvict: (slot: number, pinned: boolean) => void,
  ) {
    let buckets = 1;
    while (buckets < capacity * 2) buckets <<= 1;
    this.mask = buckets - 1;
    this.k = new Int32Array(width);
    this.keys = new Int32Array(capacity * width);
    this.gen = new Int32Array(capacity);
    this.pinned = new Uint8Array(capacity);
    this.inUse = new Uint8Array(capacity);
    // none of the three is filled: a slot's chain and list words are written when the slot is
    // first taken (add, link), and an empty bucket is 0, so a large table costs no page until used
    this.head = new Int32Array(buckets);
    this.hc = new Int32Array(capacity * 2);
    this.pn = new Int32Array(capacity * 2);
  }

  /** bytes held by the arrays per entry, bucket heads apart (for --state-memory accounting) */
  static bytesPerEntry(width: number): number {
    return width * 4 /* keys */ + 4 /* gen */ + 1 /* pinned */ + 1 /* inUse */ + 8 /* hc */ + 8 /* pn */;
  }

  /** bytes of the bucket heads of a table of `capacity` entries (a power of two, at least twice the capacity) */
  static headBytes(capacity: number): number {
    let buckets = 1;
    while (buckets < capacity * 2) buckets <<= 1;
    return buckets * 4;
  }

  /** the hash of the key in `k` (kept in lastHash by find(), for an add() of the same key) */
  hash(): number {
    const k = this.k;
    let h = this.seed | 0;
    for (let i = 0; i < this.width; i++) {
      const w = k[i]!;
      // zero words (an IPv4 address in an IPv6-wide key) are skipped; the word's position
      // is mixed in with it, so the hash is still a function of the whole key
      if (w === 0) continue;
      h = Math.imul(h ^ w ^ (i << 27), 0x9e3779b1);
      h ^= h >>> 15;
      h = Math.imul(h, 0x85ebca77);
    }
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae3d);
    h ^= h >>> 16;
    return h;
  }

  private same(slot: number): boolean {
    const k = this.k;
    const o = slot * this.width;
    const keys = this.keys;
    for (let i = 0; i < this.width; i++) if (keys[o + i] !== k[i]) return false;
    return true;
  }

  /** hash of the key of the last find() */
  lastHash = 0;

  /**
   * The first slot of the chain of hash `h` (to be walked by findFrom). Loading the bucket
   * heads of several lookups one after the other, before walking any chain, lets the
   * processor wait for their cache misses together rather than one after the other.
   */
  headOf(h: number): number {
    return this.head[h & this.mask]! - 1;
  }

  /** a value read from the bucket of the entry the next add() would evict (see headOf) */
  warm = 0;

  /** the slot the next add() would evict, or -1 (a free slot is left) */
  victim(): number {
    if (this.freeHead !== NONE || this.used < this.capacity) return NONE;
    return this.lhead[this.lhead[0] === NONE || this.pinnedCount * 2 > this.capacity ? 1 : 0]!;
  }

  /**
   * read what evicting the next victim touches (its bucket head, links and key) so that
   * these cache misses overlap with others (see headOf); returns the victim or -1
   */
  warmVictim(): number {
    const v = this.victim();
    if (v !== NONE) {
      this.warm = this.head[this.hc[2 * v]! & this.mask]! + this.pn[2 * v]! + this.keys[v * this.width]! + this.gen[v]! + this.pinned[v]! + this.inUse[v]!;
    }
    return v;
  }

  /** find() of the key in `k`, whose hash is `h` and chain head `first` (headOf(h)) */
  findFrom(h: number, first: number): number {
    this.lastHash = h;
    const hc = this.hc;
    let depth = 0;
    for (let s = first; s !== NONE; s = hc[2 * s + 1]!) {
      depth++;
      if (hc[2 * s] === h && this.same(s)) {
        if (depth > this.longestChain) this.longestChain = depth;
        return s;
      }
    }
    return NONE;
  }

  /** the slot holding key `k`, or -1 */
  find(): number {
    const h = this.hash();
    this.lastHash = h;
    const hc = this.hc;
    let depth = 0;
    for (let s = this.head[h & this.mask]! - 1; s !== NONE; s = hc[2 * s + 1]!) {
      depth++;
      if (hc[2 * s] === h && this.same(s)) {
        if (depth > this.longestChain) this.longestChain = depth;
        return s;
      }
    }
    return NONE;
  }

  /**
   * a new slot for key `k` (the caller has checked it is absent), evicting if full; unpinned,
   * most recent. `h`: the key's hash when the caller has it (lastHash after find() of this key)
   */
  add(h = this.hash()): number {
    let s: number;
    if (this.freeHead !== NONE) {
      s = this.freeHead;
      this.freeHead = this.hc[2 * s + 1]!;
    } else if (this.used < this.capacity) {
      s = this.used++;
    } else {
      const usePinned = this.lhead[0] === NONE || this.pinnedCount * 2 > this.capacity;
      s = this.lhead[usePinned ? 1 : 0]!;
      this.evictions++;
      if (usePinned) this.evidenceEvictions++;
      this.onEvict(s, usePinned);
      this.remove(s);
      s = this.freeHead;
      this.freeHead = this.hc[2 * s + 1]!;
    }
    const w = this.width;
    const keys = this.keys;
    const k = this.k;
    for (let i = 0, o = s * w; i < w; i++) keys[o + i] = k[i]!;
    const b = h & this.mask;
    this.hc[2 * s] = h;
    this.hc[2 * s + 1] = this.head[b]! - 1;
    this.head[b] = s + 1;
    this.inUse[s] = 1;
    this.gen[s] = (this.gen[s]! + 1) | 0;
    this.pinned[s] = 0;
    this.link(s, 0);
    this.size++;
    return s;
  }

  /** take `s` out of the table (its slot is free) */
  remove(s: number): void {
    if (this.inUse[s] === 0) return;
    const hc = this.hc;
    const b = hc[2 * s]! & this.mask;
    if (this.head[b] === s + 1) this.head[b] = hc[2 * s + 1]! + 1;
    else {
      let p = this.head[b]! - 1;
      while (hc[2 * p + 1] !== s) p = hc[2 * p + 1]!;
      hc[2 * p + 1] = hc[2 * s + 1]!;
    }
    this.unlink(s, this.pinned[s]!);
    if (this.pinned[s] === 1) this.pinnedCount--;
    this.pinned[s] = 0;
    this.inUse[s] = 0;
    this.gen[s] = (this.gen[s]! + 1) | 0;
    hc[2 * s + 1] = this.freeHead;
    this.freeHead = s;
    this.size--;
  }

  isLive(s: number, g: number): boolean {
    return this.inUse[s] === 1 && this.gen[s] === g;
  }

  /** most recently touched */
  touch(s: number): void {
    const l = this.pinned[s]!;
    if (this.ltail[l] === s) return;
    this.unlink(s, l);
    this.link(s, l);
  }

  setPinned(s: number, on: boolean): void {
    const want = on ? 1 : 0;
    const l = this.pinned[s]!;
    if (l === want) return;
    this.unlink(s, l);
    this.pinned[s] = want;
    this.pinnedCount += on ? 1 : -1;
    this.link(s, want);
  }

  private link(s: number, l: number): void {
    const pn = this.pn;
    const t = this.ltail[l]!;
    pn[2 * s] = t;
    pn[2 * s + 1] = NONE;
    if (t === NONE) this.lhead[l] = s;
    else pn[2 * t + 1] = s;
    this.ltail[l] = s;
  }

  private unlink(s: number, l: number): void {
    const pn = this.pn;
    const p = pn[2 * s]!;
    const n = pn[2 * s + 1]!;
    if (p === NONE) this.lhead[l] = n;
    else pn[2 * p + 1] = n;
    if (n === NONE) this.ltail[l] = p;
    else pn[2 * n] = p;
    pn[2 * s] = pn[2 * s + 1] = NONE;
  }
}

/** the seeded hash of an address key (family, two words) of FifoTable and FifoSet */
function addressHash(seed: number, fam: number, w0: number, w1: number): number {
  let h = Math.imul(seed ^ w0, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h ^ w1, 0x85ebca77);
  h ^= h >>> 13;
  h = Math.imul(h ^ fam, 0xc2b2ae3d);
  return h ^ (h >>> 16);
}

/**
 * A bounded table of source-keyed entries (a family and a source's first 64 bits) in the
 * order they came, for the modern profile's SYN tier: fixed capacity, a seeded hash into an
 * open-addressing index of (hash, slot + 1) pairs at most half full (a lookup that misses
 * reads one cache line of the index and no entry), and eviction strictly first in, first
 * out: a full table takes the slot after the newest, evicting what is still there. Entries
 * removed before their turn leave their slot unused until the order comes round to it. The
 * eviction order is the order of arrival, never a hash position, so what is evicted — and so
 * every line — does not depend on the seed. No allocation after construction.
 */
export class FifoTable {
  /** per slot: its key's three words (family, first and second address word) */
  readonly keys: Int32Array;
  /** generation of each slot, bumped when the slot is taken or freed (timers hold (slot, gen)) */
  readonly gen: Int32Array;
  private readonly live: Uint8Array;
  /** per slot: its key's hash (to find its index cell when it goes) */
  private readonly hs: Int32Array;
  /** index cells, interleaved: [2i] hash, [2i+1] slot + 1 (0: empty) */
  private readonly ix: Int32Array;
  private readonly mask: number;
  private next = 0;
  size = 0;
  evictions = 0;
  /** hash of the key of the last find() */
  lastHash = 0;

  constructor(
    readonly capacity: number,
    private readonly seed: number,
    /** called with the slot about to be evicted (its data still readable) */
    private readonly onEvict: (slot: number) => void,
  ) {
    let cells = 1;
    while (cells < capacity * 2) cells <<= 1;
    this.mask = cells - 1;
    this.keys = new Int32Array(capacity * 3);
    this.gen = new Int32Array(capacity);
    this.live = new Uint8Array(capacity);
    this.hs = new Int32Array(capacity);
    this.ix = new Int32Array(cells * 2);
  }

  /** bytes held per entry, index included (for --state-memory accounting) */
  static bytesPerEntry(): number {
    return 3 * 4 /* keys */ + 4 /* gen */ + 1 /* live */ + 4 /* hs */ + 2 * 2 * 8 /* index cells: at most half full, 8 bytes each */;
  }

  private hash(fam: number, w0: number, w1: number): number {
    return addressHash(this.seed, fam, w0, w1);
  }

  /** the slot holding (fam, w0, w1), or -1; its hash is left in lastHash for add() */
  find(fam: number, w0: number, w1: number): number {
    const h = this.hash(fam, w0, w1);
    this.lastHash = h;
    const ix = this.ix;
    const keys = this.keys;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const v = ix[2 * i + 1]!;
      if (v === 0) return -1;
      const s = v - 1;
      if (ix[2 * i] === h && keys[s * 3 + 1] === w0 && keys[s * 3 + 2] === w1 && keys[s * 3] === fam) return s;
    }
  }

  /** a new slot for (fam, w0, w1), whose hash is h (the caller has checked it is absent), evicting the oldest when full */
  add(h: number, fam: number, w0: number, w1: number): number {
    const s = this.next;
    this.next = s + 1 === this.capacity ? 0 : s + 1;
    if (this.live[s] === 1) {
      this.evictions++;
      this.onEvict(s);
      this.remove(s);
    }
    this.keys[s * 3] = fam;
    this.keys[s * 3 + 1] = w0;
    this.keys[s * 3 + 2] = w1;
    this.hs[s] = h;
    const ix = this.ix;
    let i = h & this.mask;
    while (ix[2 * i + 1] !== 0) i = (i + 1) & this.mask;
    ix[2 * i] = h;
    ix[2 * i + 1] = s + 1;
    this.live[s] = 1;
    this.gen[s] = (this.gen[s]! + 1) | 0;
    this.size++;
    return s;
  }

  /** take `s` out of the table (its index cell freed by backward shift, so no probe chain breaks) */
  remove(s: number): void {
    if (this.live[s] === 0) return;
    const ix = this.ix;
    const m = this.mask;
    let i = this.hs[s]! & m;
    while (ix[2 * i + 1] !== s + 1) i = (i + 1) & m;
    for (let j = (i + 1) & m; ix[2 * j + 1] !== 0; j = (j + 1) & m) {
      // a cell whose home is not cyclically in (i, j] moves into the hole
      const home = ix[2 * j]! & m;
      if (((j - home) & m) >= ((j - i) & m)) {
        ix[2 * i] = ix[2 * j]!;
        ix[2 * i + 1] = ix[2 * j + 1]!;
        i = j;
      }
    }
    ix[2 * i + 1] = 0;
    this.live[s] = 0;
    this.gen[s] = (this.gen[s]! + 1) | 0;
    this.size--;
  }

  isLive(s: number, g: number): boolean {
    return this.live[s] === 1 && this.gen[s] === g;
  }
}

/**
 * The keys of the last `capacity` arrivals (a power of two; a key: family and two address
 * words), in the order they came, for the modern profile's flood sieve: a ring of slots
 * overwritten oldest first, with a seeded open-addressing index of one 32-bit cell per
 * (hash tag << SB | slot + 1), four cells per slot. What a lookup finds, and what is
 * overwritten, is decided by the order of arrival alone, never by a hash position, so no
 * line depends on the seed. Cheaper than FifoTable where the table is hit by every packet
 * of a flood: an overwritten slot leaves its index cell in place (stale: the slot no longer
 * holds its key), so an arrival costs the lookup's one cache line and no removal; after
 * every `capacity` arrivals the index is rebuilt from the ring (sequential, amortised to a
 * few ns an arrival), so at most half of its cells are ever taken. No allocation after
 * construction.
 */
export class FifoSet {
  /** per slot: the key's family (0: empty, or killed) and words */
  private readonly fam: Uint8Array;
  private readonly w0: Int32Array;
  private readonly w1: Int32Array;
  /** per slot: the caller's count */
  readonly count: Uint8Array;
  private readonly ix: Int32Array;
  private readonly mask: number;
  /** bits of a cell for slot + 1 */
  private readonly sb: number;
  private readonly slotMask: number;
  private next = 0;
  private added = 0;
  /** hash of the key of the last find() */
  lastHash = 0;
  /** index rebuilds (for tests) */
  rebuilds = 0;

  constructor(
    readonly capacity: number,
    private readonly seed: number,
  ) {
    if (capacity < 2 || (capacity & (capacity - 1)) !== 0 || capacity > 1 << 20) throw new Error(`FifoSet: capacity ${capacity} is not a power of two from 2 to 2^20`);
    this.fam = new Uint8Array(capacity);
    this.w0 = new Int32Array(capacity);
    this.w1 = new Int32Array(capacity);
    this.count = new Uint8Array(capacity);
    this.ix = new Int32Array(capacity * 4);
    this.mask = capacity * 4 - 1;
    this.sb = Math.log2(capacity) + 1;
    this.slotMask = (1 << this.sb) - 1;
  }

  /** bytes held per entry, index included (for --state-memory accounting) */
  static bytesPerEntry(): number {
    return 1 /* fam */ + 4 + 4 /* words */ + 1 /* count */ + 4 * 4 /* index cells: four per slot */;
  }

  private hash(fam: number, w0: number, w1: number): number {
    return addressHash(this.seed, fam, w0, w1);
  }

  /** the slot holding (fam, w0, w1), or -1; its hash is left in lastHash for add() */
  find(fam: number, w0: number, w1: number): number {
    const h = this.hash(fam, w0, w1);
    this.lastHash = h;
    const ix = this.ix;
    const sb = this.sb;
    const tag = h >>> sb;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const v = ix[i]!;
      if (v === 0) return -1;
      if (v >>> sb === tag) {
        const s = (v & this.slotMask) - 1;
        if (this.w0[s] === w0 && this.w1[s] === w1 && this.fam[s] === fam) return s;
      }
    }
  }

  /** slot s no longer holds its key (its cell goes at the next rebuild) */
  kill(s: number): void {
    this.fam[s] = 0;
  }

  /** a slot for (fam, w0, w1) (fam 1 to 255), whose hash is h (the caller has checked it is absent): the oldest, overwritten */
  add(h: number, fam: number, w0: number, w1: number): number {
    if (this.added === this.capacity) this.rebuild();
    const s = this.next;
    this.next = (s + 1) & (this.capacity - 1);
    this.fam[s] = fam;
    this.w0[s] = w0;
    this.w1[s] = w1;
    this.count[s] = 0;
    this.place(h, s);
    this.added++;
    return s;
  }

  private place(h: number, s: number): void {
    const ix = this.ix;
    let i = h & this.mask;
    while (ix[i] !== 0) i = (i + 1) & this.mask;
    ix[i] = ((h >>> this.sb) << this.sb) | (s + 1);
  }

  /** the index anew from the slots that hold a key: the stale cells go */
  private rebuild(): void {
    this.ix.fill(0);
    for (let s = 0; s < this.capacity; s++) {
      const f = this.fam[s]!;
      if (f !== 0) this.place(this.hash(f, this.w0[s]!, this.w1[s]!), s);
    }
    this.added = 0;
    this.rebuilds++;
  }
}

/**
 * A FIFO of timers (slot, generation, due second) with one fixed delay, so deadlines come
 * out in order. Full: the oldest timer fires early (the caller counts it).
 */
export class TimerRing {
  /** bytes per timer slot */
  static readonly BYTES = 4 + 4 + 8;
  private readonly slot: Int32Array;
  private readonly gen: Int32Array;
  private readonly due: Float64Array;
  private h = 0;
  private n = 0;
  overflows = 0;
  /** timers taken out so far (fired or popped early): the head is the popped-th timer ever pushed */
  popped = 0;
  constructor(readonly capacity: number) {
    this.slot = new Int32Array(capacity);
    this.gen = new Int32Array(capacity);
    this.due = new Float64Array(capacity);
  }
  get length(): number {
    return this.n;
  }
  /** false when full (the caller must pop first) */
  push(slot: number, gen: number, due: number): boolean {
    if (this.n === this.capacity) return false;
    const i = (this.h + this.n) % this.capacity;
    this.slot[i] = slot;
    this.gen[i] = gen;
    this.due[i] = due;
    this.n++;
    return true;
  }
  nextDue(): number {
    return this.n === 0 ? Infinity : this.due[this.h]!;
  }
  headSlot(): number {
    return this.slot[this.h]!;
  }
  headGen(): number {
    return this.gen[this.h]!;
  }
  pop(): void {
    this.h = (this.h + 1) % this.capacity;
    this.n--;
    this.popped++;
  }
}

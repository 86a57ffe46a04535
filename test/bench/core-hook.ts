/**
 * Preloaded by test/bench/core-model.ts (`NODE_OPTIONS=--require …/core-hook.js`, with
 * IPLOG_NO_BUNDLE=1 so that iplog loads the modules this file patches): replaces the
 * modern profile's TCP path (ModernDetect.prototype.tcp) with a cost model, so that a
 * replay measures, whole process, what iplog would cost if its modern TCP path cost only
 * that. Nothing here is used by iplog itself.
 *
 * IPLOG_CORE_MODEL:
 *  - `floor`: the TCP path does nothing (read, decode and dispatch only);
 *  - `probe1`, `probe3`: one, or three, bare random accesses per TCP packet: a contact
 *    index of 2^20 entries (8 MiB), then a source table and a (destination, port) table
 *    of 2^16 records of 32 bytes each (2 MiB each);
 *  - `core`: the smallest TCP path that keeps the modern profile's meaning for a flood SYN:
 *    the contact (originator, responder, port) looked up both ways in an open-addressing
 *    index of log positions; a new one appended to a FIFO log of 2^19 records of 32 bytes;
 *    the log's oldest record resolved SILENT when its grace time (3 s of packet time) is
 *    over or when the log is full; a resolved contact scored for its originator (Threshold
 *    Random Walk, +1, alarm at 4) in a compact source table of 2^17 entries; the SYN counted
 *    per (destination, port) (a 2^12-entry table: the SYN flood aggregate) and per
 *    destination with a 1,024-bit distinct-source bitmap (the distributed scan). Index
 *    entries of overwritten records are removed by backward shift. IPv4 only: no lines, no
 *    port lists, no replies (the bench captures have none).
 *  - `core-norev`: `core` without the lookup of the responder's side;
 *  - `native`, `native-batch`: `core` in C (test/bench/native-core, built by hand:
 *    `node-gyp rebuild --nodedir=/usr --directory=test/bench/native-core`), called per
 *    TCP packet, or per 1,024 packets through a shared Int32Array (lines would then lag
 *    by up to a batch);
 *  - `core-tiered`: `core` with a source's first contact kept in a small admission tier
 *    (2^14 entries, a cost model of a FIFO table of that size) and entered into the log only
 *    when the source makes a second one while the first is still there (as 2Q admits);
 *  - `core-min`: nor any index deletion (an index of 2^22 entries, big enough for a 2 M
 *    packet replay without deleting: an optimistic bound, not a structure for an endless
 *    stream).
 *
 * At exit it writes its counters to standard error (so that none of the work is dead code).
 */
import { ModernDetect } from '../../src/detect/modern/engine';
import { be16, type DecodedPacket } from '../../src/decode/packet';
import { GRACE_SEC, TRW } from '../../src/detect/modern/define';
import { mix, mix3 } from './model-util';

const MODE = process.env.IPLOG_CORE_MODEL ?? '';

/** the engine's grace time and TRW alarm (src/detect/modern/define.ts) */
const GRACE = GRACE_SEC;
const ALARM = TRW.alarm;
let sink = 0;
let alarms = 0;
let contacts = 0;
let repeats = 0;
let evicted = 0;

// ---------------------------------------------------------------- probes
const PI = 1 << 20;
const pIdx = new Int32Array(MODE.startsWith('probe') ? PI * 2 : 2);
const pSrc = new Int32Array(MODE === 'probe3' ? (1 << 16) * 8 : 8);
const pAgg = new Int32Array(MODE === 'probe3' ? (1 << 16) * 8 : 8);

function probes(src: number, dst: number, port: number, n: number): void {
  const h = mix3(src, dst, port);
  let i = h & (PI - 1);
  // an occupied entry is overwritten: the table is a cost model, not a set
  pIdx[2 * i] = src;
  pIdx[2 * i + 1] = port;
  if (n === 1) return;
  let j = (mix(src) & 0xffff) * 8;
  if (pSrc[j] !== src) {
    pSrc[j] = src;
    pSrc[j + 1] = 0;
  }
  pSrc[j + 1]!++;
  j = (mix(dst ^ port) & 0xffff) * 8;
  if (pAgg[j] !== dst || pAgg[j + 1] !== port) {
    pAgg[j] = dst;
    pAgg[j + 1] = port;
    pAgg[j + 2] = 0;
  }
  pAgg[j + 2]!++;
  i = (i + 1) & (PI - 1);
  sink += pIdx[2 * i]!;
}

// ---------------------------------------------------------------- core
const LOG = 1 << 19;
const LW = 8; // words per log record: src, dst, port, hash, second, outcome, 2 spare
const core = MODE.startsWith('core');
/** core-norev: no lookup of the responder's side (a pure SYN is never a reply); core-min: nor any index deletion (an index big enough for the whole replay: an optimistic bound, not a structure for an endless stream) */
const noRev = MODE === 'core-norev' || MODE === 'core-min';
const noDelete = MODE === 'core-min';
const lRec = new Int32Array(core ? LOG * LW : LW);
let lHead = 0; // next record to write
let lN = 0; // records in the log
let lGrace = 0; // records resolved by the grace time, from the oldest
const IC = noDelete ? 1 << 22 : LOG * 2;
const im = IC - 1;
const idx = new Int32Array(core ? IC : 1);
const SC = 1 << 17;
const sm = SC - 1;
const sKey = new Int32Array(core ? SC : 1);
const sScore = new Int8Array(core ? SC : 1);
const AG = 1 << 12;
const aKey = new Int32Array(core ? AG * 4 : 4);
let dDst = 0;
let dCount = 0;
const dBits = new Int32Array(32);

function lookup(h: number, a: number, d: number, p: number): number {
  let j = h & im;
  for (;;) {
    const v = idx[j]!;
    if (v === 0) return -1;
    const o = (v - 1) * LW;
    if (lRec[o + 3] === h && lRec[o] === a && lRec[o + 1] === d && lRec[o + 2] === p) return v - 1;
    j = (j + 1) & im;
  }
}

/** record q (the log's oldest) resolved SILENT: score its originator */
function judge(q: number): void {
  const o = q * LW;
  if (lRec[o + 5] !== 0) return;
  lRec[o + 5] = 1;
  const a = lRec[o]!;
  let x = mix(a) & sm;
  // (a full compact table would evict; the bench's 65,536 sources fit its 2^17 entries)
  while (sKey[x] !== 0 && sKey[x] !== a) x = (x + 1) & sm;
  sKey[x] = a;
  if (sScore[x]! < 127 && ++sScore[x]! === ALARM) alarms++;
}

/** the oldest record leaves the log: resolved if pending, its index entry removed */
function dropOldest(): void {
  const q = (lHead - lN + LOG) & (LOG - 1);
  judge(q);
  lN--;
  if (lGrace > 0) lGrace--;
  if (noDelete) return;
  let j = lRec[q * LW + 3]! & im;
  while (idx[j] !== q + 1) j = (j + 1) & im;
  for (let k = (j + 1) & im; ; k = (k + 1) & im) {
    const v = idx[k]!;
    if (v === 0) break;
    const home = lRec[(v - 1) * LW + 3]! & im;
    if (j <= k ? home <= j || home > k : home <= j && home > k) {
      idx[j] = v;
      j = k;
    }
  }
  idx[j] = 0;
}

/** the contact part of coreSyn: grace, lookups, the log; false for a repeat */
function coreContact(a: number, d: number, p: number, sport: number, now: number): boolean {
  // grace: the oldest pending records whose time is over, in time order
  while (lGrace < lN) {
    const q = (lHead - lN + lGrace + LOG) & (LOG - 1);
    if (lRec[q * LW + 4]! + GRACE > now) break;
    judge(q);
    lGrace++;
  }
  const h = mix3(a, d, p);
  const hr = mix3(d, a, sport);
  const f = lookup(h, a, d, p);
  // the responder's side (a SYN-ACK or RST of the contact would be found here)
  if (!noRev && lookup(hr, d, a, sport) >= 0) sink++;
  if (f >= 0) {
    repeats++;
    return false;
  }
  if (lN === LOG) {
    dropOldest();
    evicted++;
  }
  const q = lHead;
  lHead = (lHead + 1) & (LOG - 1);
  lN++;
  contacts++;
  const o = q * LW;
  lRec[o] = a;
  lRec[o + 1] = d;
  lRec[o + 2] = p;
  lRec[o + 3] = h;
  lRec[o + 4] = now;
  lRec[o + 5] = 0;
  let j = h & im;
  while (idx[j] !== 0) j = (j + 1) & im;
  idx[j] = q + 1;
  return true;
}

/** the aggregate part of coreSyn: per (destination, port) and per destination */
function coreAggregates(a: number, d: number, p: number, now: number): void {
  // SYN flood per (destination, port)
  const g = (mix(d ^ Math.imul(p, 0x9e3779b1)) & (AG - 1)) * 4;
  if (aKey[g] !== d || aKey[g + 1] !== p) {
    aKey[g] = d;
    aKey[g + 1] = p;
    aKey[g + 2] = 0;
  }
  aKey[g + 2]!++;
  aKey[g + 3] = now;
  // distributed scan per destination: count and distinct sources
  if (dDst !== d) {
    dDst = d;
    dCount = 0;
    dBits.fill(0);
  }
  dCount++;
  const b = mix(a) & 1023;
  dBits[b >>> 5]! |= 1 << (b & 31);
}

function coreSyn(a: number, d: number, p: number, sport: number, now: number): void {
  if (coreContact(a, d, p, sport, now)) coreAggregates(a, d, p, now);
}

// tiered: a source's first contact waits in a small admission tier (2^14 entries of 16
// bytes, direct-mapped: a cost model of a FIFO admission table of that size); its contacts
// enter the log only from its second one on, the first replayed then
const TA = 1 << 14;
const tRec = new Int32Array(MODE === 'core-tiered' ? TA * 4 : 4);
let promoted = 0;
let admitted = 0;

function coreTiered(a: number, d: number, p: number, sport: number, now: number): void {
  const j = (mix(a) & (TA - 1)) * 4;
  if (tRec[j] !== a) {
    tRec[j] = a;
    tRec[j + 1] = d;
    tRec[j + 2] = p;
    tRec[j + 3] = now | 0x40000000; // bit 30: not promoted
    admitted++;
    coreAggregates(a, d, p, now);
    return;
  }
  const w = tRec[j + 3]!;
  if ((w & 0x40000000) !== 0) {
    if (tRec[j + 1] === d && tRec[j + 2] === p) {
      repeats++;
      return;
    }
    tRec[j + 3] = w & ~0x40000000;
    promoted++;
    coreContact(a, tRec[j + 1]!, tRec[j + 2]!, sport, w & ~0x40000000);
  }
  if (coreContact(a, d, p, sport, now)) coreAggregates(a, d, p, now);
}

// ---------------------------------------------------------------- native
interface NativeCore {
  syn(a: number, d: number, p: number, sport: number, now: number): void;
  setBuffer(b: Int32Array): void;
  batch(n: number): void;
  stats(): number[];
}
const native: NativeCore | null = MODE.startsWith('native')
  ? // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require(require('node:path').resolve(__dirname, '..', '..', '..', 'test', 'bench', 'native-core', 'build', 'Release', 'core_model.node')) as NativeCore)
  : null;
const BATCH = 1024;
const nBuf = new Int32Array(native !== null ? BATCH * 5 : 5);
let nN = 0;
if (native !== null) native.setBuffer(nBuf);

if (MODE !== '') {
  ModernDetect.prototype.tcp = function (this: ModernDetect, p: DecodedPacket, now: number): void {
    if (MODE === 'floor' || p.family !== 4 || p.l4Avail < 14) return;
    const b = p.buf;
    const o = p.l4Off;
    const sport = be16(b, o);
    const dport = be16(b, o + 2);
    if (MODE === 'probe1') probes(p.src | 0, p.dst | 0, dport, 1);
    else if (MODE === 'probe3') probes(p.src | 0, p.dst | 0, dport, 3);
    else if (MODE === 'core-tiered') coreTiered(p.src | 0, p.dst | 0, dport, sport, Math.floor(now));
    else if (core) coreSyn(p.src | 0, p.dst | 0, dport, sport, Math.floor(now));
    else if (MODE === 'native') native!.syn(p.src | 0, p.dst | 0, dport, sport, Math.floor(now));
    else if (MODE === 'native-batch') {
      const o5 = nN * 5;
      nBuf[o5] = p.src | 0;
      nBuf[o5 + 1] = p.dst | 0;
      nBuf[o5 + 2] = dport;
      nBuf[o5 + 3] = sport;
      nBuf[o5 + 4] = Math.floor(now);
      if (++nN === BATCH) {
        native!.batch(nN);
        nN = 0;
      }
    }
  };
  process.on('exit', () => {
    if (native !== null) {
      if (nN > 0) native.batch(nN);
      const [c, r, e, a, dc] = native.stats();
      contacts = c!;
      repeats = r!;
      evicted = e!;
      alarms = a!;
      dCount = dc!;
    }
    let ones = native !== null ? native.stats()[5]! : 0;
    for (let i = 0; i < 32; i++) for (let x = dBits[i]!; x !== 0; x &= x - 1) ones++;
    if (MODE === 'core-tiered') process.stderr.write(`core-model tiered: admitted ${admitted}, promoted ${promoted}\n`);
    process.stderr.write(`core-model ${MODE}: contacts ${contacts}, repeats ${repeats}, evicted ${evicted}, alarms ${alarms}, per-dst ${dCount} (${ones} bits), sink ${sink}\n`);
  });
}

/**
 * Cost models of the modern profile's first-contact tracking (issue 9 item 9), for the
 * redesign docs/benchmarks.md proposes: how many nanoseconds per SYN the core of two
 * alternative state layouts costs on this machine, on the bench captures' SYN streams.
 *
 *   node dist/test/bench/contact-models.js [--runs N] [CAPTURE.pcap ...]
 *
 * Both models do what the engine's TCP path does for a flood SYN with the SYN-flood
 * aggregate off (`--detect-syn-flood=false`): remember the contact (originator,
 * destination, port) so that a repeat is not a new first contact, resolve it SILENT after
 * GRACE_SEC of packet time (or earlier when the state is full), and score its originator
 * (Threshold Random Walk: +1 per silent contact, alarm at 4). Neither matches replies,
 * keeps port lists or writes lines: they are lower bounds of a layout's cost, not engines.
 * The packets are decoded before the clock starts (the engine's decode is in its figures
 * and in compat's alike).
 *
 *  - `source-ring`: MODERN.md §5.3's SourceTable with a contact ring: one record of 256
 *    bytes per source (open addressing on the source address), its pending contacts in a
 *    16-entry ring inside the record, resolved from the ring in time order when the source
 *    comes back. One lookup per SYN, but a record per source.
 *  - `contact-log`: pending contacts in a FIFO log (sequential writes) indexed by an
 *    open-addressing table of log positions (backward-shift deletion), resolved from the
 *    log's tail in time order, scores in a compact table of a few bytes per source. Per
 *    SYN: one index probe and insert, one log append, one resolution (index delete, score).
 *
 * IPv4 Ethernet SYNs only (the bench captures are nothing else). Deterministic; prints a
 * Markdown table.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCapture } from '../../src/capture/read';
import { Anomalies } from '../../src/decode/anomalies';
import { GRACE_SEC, TRW } from '../../src/detect/modern/define';
import { halfFull, mix, mix3, median, modelArgs } from './model-util';

/** the engine's grace time and TRW alarm (src/detect/modern/define.ts) */
const TRW_ALARM = TRW.alarm;

interface Syns {
  n: number;
  src: Int32Array;
  dst: Int32Array;
  port: Int32Array;
  sec: Float64Array;
}

/** the capture's TCP SYNs (IPv4 over Ethernet), read by the project's capture reader */
async function readSyns(file: string): Promise<Syns> {
  const max = Math.floor(fs.statSync(file).size / 54);
  const s: Syns = { n: 0, src: new Int32Array(max), dst: new Int32Array(max), port: new Int32Array(max), sec: new Float64Array(max) };
  await readCapture(
    file,
    (b, f, cl, _len, sec, nsec) => {
      if (cl < 54 || b[f + 12] !== 0x08 || b[f + 13] !== 0 || b[f + 23] !== 6) return;
      const ip = f + 14;
      const l4 = ip + (b[ip]! & 15) * 4;
      if (l4 + 14 > f + cl || (b[l4 + 13]! & 0x17) !== 0x02) return;
      s.src[s.n] = b.readInt32BE(ip + 12);
      s.dst[s.n] = b.readInt32BE(ip + 16);
      s.port[s.n] = b.readUInt16BE(l4 + 2);
      s.sec[s.n] = sec + nsec / 1e9;
      s.n++;
    },
    new Anomalies(),
  );
  return s;
}

interface ModelResult {
  ns: number;
  alarms: number;
  bytes: number;
}

/** source-ring: a 256-byte record per source holding its 16 pending contacts */
function sourceRing(s: Syns, capacity: number): ModelResult {
  const RING = 16;
  const STRIDE = 64;
  const cap = halfFull(capacity);
  const mask = cap - 1;
  const idx = new Int32Array(cap);
  const rec = new Int32Array(capacity * STRIDE);
  const recSec = new Float64Array(capacity * RING);
  let used = 0;
  let next = 0;
  let alarms = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < s.n; i++) {
    const a = s.src[i]!;
    const d = s.dst[i]!;
    const p = s.port[i]!;
    const now = s.sec[i]!;
    let j = mix(a) & mask;
    let r = -1;
    for (;;) {
      const v = idx[j]!;
      if (v === 0) break;
      if (rec[(v - 1) * STRIDE] === a) {
        r = v - 1;
        break;
      }
      j = (j + 1) & mask;
    }
    if (r < 0) {
      // (a full table would evict; the bench's sources fit the capacity given)
      r = used < capacity ? used++ : next++ % capacity;
      idx[j] = r + 1;
      const o = r * STRIDE;
      rec[o] = a;
      rec[o + 1] = rec[o + 2] = rec[o + 3] = 0;
    }
    const o = r * STRIDE;
    const so = r * RING;
    const head = rec[o + 2]!;
    let cnt = rec[o + 3]!;
    // pending contacts past their grace: silent, in time order
    while (cnt > 0 && recSec[so + ((head - cnt + RING) % RING)]! + GRACE_SEC <= now) {
      cnt--;
      if (++rec[o + 1] === TRW_ALARM) alarms++;
    }
    let repeat = false;
    for (let k = 1; k <= cnt && !repeat; k++) {
      const e = (head - k + RING) % RING;
      repeat = rec[o + 4 + e * 2] === d && rec[o + 5 + e * 2] === p;
    }
    if (!repeat) {
      if (cnt === RING) {
        cnt--;
        if (++rec[o + 1] === TRW_ALARM) alarms++;
      }
      rec[o + 4 + head * 2] = d;
      rec[o + 5 + head * 2] = p;
      recSec[so + head] = now;
      rec[o + 2] = (head + 1) % RING;
      cnt++;
    }
    rec[o + 3] = cnt;
  }
  const ns = Number(process.hrtime.bigint() - t0) / s.n;
  return { ns, alarms, bytes: idx.byteLength + rec.byteLength + recSec.byteLength };
}

/** contact-log: a FIFO log of pending contacts, an index of log positions, compact scores */
function contactLog(s: Syns, log: number): ModelResult {
  const icap = halfFull(log);
  const im = icap - 1;
  const idx = new Int32Array(icap);
  const lSrc = new Int32Array(log);
  const lDst = new Int32Array(log);
  const lPort = new Int32Array(log);
  const lHash = new Int32Array(log);
  const lSec = new Float64Array(log);
  let head = 0;
  let tail = 0;
  let pending = 0;
  const SC = 1 << 17;
  const sm = SC - 1;
  const sKey = new Int32Array(SC);
  const sScore = new Int8Array(SC);
  let alarms = 0;
  const resolveOldest = (): void => {
    const q = tail;
    tail = tail + 1 === log ? 0 : tail + 1;
    pending--;
    let j = lHash[q]! & im;
    while (idx[j] !== q + 1) j = (j + 1) & im;
    for (let k = (j + 1) & im; ; k = (k + 1) & im) {
      const v = idx[k]!;
      if (v === 0) break;
      const home = lHash[v - 1]! & im;
      if (j <= k ? home <= j || home > k : home <= j && home > k) {
        idx[j] = v;
        j = k;
      }
    }
    idx[j] = 0;
    const a = lSrc[q]!;
    let x = mix(a) & sm;
    while (sKey[x] !== 0 && sKey[x] !== a) x = (x + 1) & sm;
    sKey[x] = a;
    if (sScore[x]! < 127 && ++sScore[x]! === TRW_ALARM) alarms++;
  };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < s.n; i++) {
    const a = s.src[i]!;
    const d = s.dst[i]!;
    const p = s.port[i]!;
    const now = s.sec[i]!;
    while (pending > 0 && lSec[tail]! + GRACE_SEC <= now) resolveOldest();
    const h = mix3(a, d, p);
    let j = h & im;
    let repeat = false;
    for (;;) {
      const v = idx[j]!;
      if (v === 0) break;
      const q = v - 1;
      if (lHash[q] === h && lSrc[q] === a && lDst[q] === d && lPort[q] === p) {
        repeat = true;
        break;
      }
      j = (j + 1) & im;
    }
    if (repeat) continue;
    if (pending === log) {
      resolveOldest();
      j = h & im;
      while (idx[j] !== 0) j = (j + 1) & im;
    }
    const q = head;
    head = head + 1 === log ? 0 : head + 1;
    pending++;
    lSrc[q] = a;
    lDst[q] = d;
    lPort[q] = p;
    lHash[q] = h;
    lSec[q] = now;
    idx[j] = q + 1;
  }
  const ns = Number(process.hrtime.bigint() - t0) / s.n;
  const bytes = idx.byteLength + lSrc.byteLength * 4 + lSec.byteLength + sKey.byteLength + sScore.byteLength;
  return { ns, alarms, bytes };
}

async function main(): Promise<void> {
  const a = modelArgs(process.argv.slice(2), 3);
  const runs = a.runs;
  // the default captures that exist (npm run bench makes them)
  const files = a.named ? a.files : a.files.filter((f) => fs.existsSync(f));
  if (files.length === 0) {
    console.log('contact-models: no capture (run `npm run bench` once to make pcaps/bench/, or name one)');
    return;
  }
  console.log(`Date: ${new Date().toISOString().slice(0, 19)}Z. Median of ${runs} runs per model (ns per SYN, the SYNs decoded before the clock starts).\n`);
  console.log('| capture | SYNs | model | state | ns/SYN (median) | runs | TRW alarms |');
  console.log('|---|---:|---|---|---:|---|---:|');
  for (const f of files) {
    const s = await readSyns(f);
    const models: [string, string, () => ModelResult][] = [
      ['source-ring', '131,072 sources', () => sourceRing(s, 131072)],
      ['contact-log', '524,288 pending', () => contactLog(s, 1 << 19)],
      ['contact-log', '1,048,576 pending', () => contactLog(s, 1 << 20)],
    ];
    for (const [name, state, fn] of models) {
      fn(); // warm-up
      const r: ModelResult[] = [];
      for (let i = 0; i < runs; i++) r.push(fn());
      const ns = r.map((x) => x.ns);
      console.log(
        `| ${path.basename(f)} | ${s.n.toLocaleString('en-US')} | ${name} | ${state}, ${(r[0]!.bytes / 1048576).toFixed(0)} MiB | ${median(ns).toFixed(0)} | ${ns.map((x) => x.toFixed(0)).join(', ')} | ${r[0]!.alarms.toLocaleString('en-US')} |`,
      );
    }
  }
}

main().catch((e: unknown) => {
  console.error(`contact-models: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});

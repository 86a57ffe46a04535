/**
 * The fuzzer's inputs: seed captures and deterministic mutations of them.
 *
 * Seeds are the project's own captures (pcaps/, test/capture/fixtures/), read frame by
 * frame with the project's reader. Case `i` of seed list `seed` is a pure function of
 * (seed, i): a PRNG seeded with both picks a seed capture, writes it as pcap or pcapng
 * with structural choices (byte order, nanosecond magic, snaplen, link type, version,
 * pcapng block kinds, if_tsresol, if_tsoffset, timestamps up to 2^64 units), mutates
 * packet fields (bytes of the link, IPv4 and transport headers set to edge values), then
 * mutates the file's bytes (u32 fields set to edge values, bit flips, cuts, repeats).
 * So a failure is reproduced by its (seed, index) alone.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readCapture } from '../../src/capture/read';
import { Anomalies } from '../../src/decode/anomalies';
import { writePcap, writePcapng, type Frame, type PcapngInterface } from '../helpers/pcap-writer';

/**
 * What must never appear in an output line or a diagnostic: a JavaScript value printed as
 * text. iplog's own words "undefined destination unreachable code", "undefined redirect
 * code", "undefined ICMP type" and "undefined ICMPv6 type" (and the kinds named after them) are not that.
 */
export const BAD_TEXT = /NaN|Invalid Date|Infinity|undefined(?! (?:destination unreachable|redirect) code| ICMP type| ICMPv6 type|_code|_type)/;

/** A small, fast PRNG (mulberry32) from a 32-bit state. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
}

/** A seed: the frames of one capture and its link type. */
export interface Seed {
  name: string;
  linktype: number;
  frames: Frame[];
  /** the file as found (for byte-level mutation of the original layout) */
  bytes: Buffer;
}

const MAX_SEED_FRAMES = 200;

/** Every capture under the given directories (sorted, so the list is stable). */
export function seedFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.pcap(ng)?$/.test(n)) out.push(p);
    }
  };
  for (const d of ['pcaps', 'test/capture/fixtures']) walk(join(root, d));
  return out;
}

/** Reads the seeds (at most MAX_SEED_FRAMES frames each). */
export async function loadSeeds(root: string): Promise<Seed[]> {
  const seeds: Seed[] = [];
  for (const path of seedFiles(root)) {
    const frames: Frame[] = [];
    let linktype = 1;
    await readCapture(
      path,
      (buf, off, caplen, wirelen, sec, nsec, lt) => {
        linktype = lt;
        if (frames.length < MAX_SEED_FRAMES) frames.push({ ts: sec, nsec, data: Buffer.from(buf.subarray(off, off + caplen)), wirelen });
      },
      new Anomalies(),
    );
    seeds.push({ name: path.slice(root.length + 1), linktype, frames, bytes: readFileSync(path) });
  }
  return seeds;
}

const U32_EDGES = [0, 1, 12, 16, 24, 28, 31, 32, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 262144, 262145, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const BYTE_EDGES = [0, 1, 0x0f, 0x10, 0x3f, 0x40, 0x45, 0x46, 0x4f, 0x7f, 0x80, 0xfe, 0xff];
/** if_tsresol bytes: valid decimal and binary ones, the limits, and beyond them */
const TSRESOL = [0, 1, 3, 6, 9, 10, 12, 18, 19, 0x7f, 0x80, 0x81, 0x9f, 0xa0, 0xbf, 0xc0, 0xff];
/** if_tsoffset seconds: 0, small, the edges of the schema and of exact doubles, negative */
const TSOFFSET = [0, 1, -1, -1700000000, 2 ** 31, 2 ** 32, 253402300799, 2 ** 40, 2 ** 53, 2 ** 62, -(2 ** 62), -(2 ** 53)];
/** timestamps (seconds; for pcapng the writer turns them into 64-bit units) */
const TS = [0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 253402300799, 253402300800, 2 ** 40, 2 ** 52, 2 ** 53, 2 ** 53 + 2, 2 ** 60, 2 ** 63];
const LINKTYPES = [0, 1, 12, 14, 101, 108, 113, 228, 276, 127, 0xffff];

/** Case `index` of seed list `seed`: the file bytes and a one-line description. */
export function makeCase(seeds: readonly Seed[], seed: number, index: number): { bytes: Buffer; what: string } {
  const r = new Rng((Math.imul(seed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
  const s = r.pick(seeds);
  const what: string[] = [s.name];
  let bytes: Buffer;
  if (r.chance(0.1) || s.frames.length === 0) {
    bytes = Buffer.from(s.bytes);
    what.push('original');
  } else {
    let frames = s.frames.map((f) => ({ ...f, data: Buffer.from(f.data) }));
    // frame list: a slice, reordered, repeated
    if (r.chance(0.3)) {
      const a = r.int(frames.length);
      frames = frames.slice(a, a + 1 + r.int(frames.length));
    }
    if (r.chance(0.15)) {
      frames = frames.concat(frames.slice(0, 1 + r.int(frames.length)));
      what.push('repeat');
    }
    // timestamps
    if (r.chance(0.25)) {
      const n = 1 + r.int(3);
      for (let k = 0; k < n; k++) {
        const f = frames[r.int(frames.length)]!;
        f.ts = r.chance(0.5) ? r.pick(TS) : f.ts + (r.int(2) ? 1 : -1) * r.int(100000);
        if (f.ts < 0) f.ts = 0;
        f.nsec = r.chance(0.2) ? 999999999 : f.nsec;
      }
      what.push('ts');
    }
    // packet fields: link, IPv4 and transport header bytes set to edge values or flipped
    const nf = r.int(4);
    for (let k = 0; k < nf && frames.length > 0; k++) {
      const f = frames[r.int(frames.length)]!;
      if (f.data.length === 0) continue;
      const at = r.int(Math.min(f.data.length, 80));
      if (r.chance(0.5)) f.data[at] = r.pick(BYTE_EDGES);
      else f.data[at] = f.data[at]! ^ (1 << r.int(8));
      if (r.chance(0.1)) {
        f.data = f.data.subarray(0, r.int(f.data.length + 1));
      }
      if (r.chance(0.1)) f.wirelen = r.pick(U32_EDGES);
    }
    if (nf > 0) what.push(`fields*${nf}`);
    const linktype = r.chance(0.08) ? r.pick(LINKTYPES) : s.linktype;
    const be = r.chance(0.3);
    if (r.chance(0.5)) {
      bytes = writePcap(frames, {
        linktype,
        bigEndian: be,
        nano: r.chance(0.3),
        snaplen: r.chance(0.1) ? r.pick(U32_EDGES) : 262144,
        version: r.chance(0.03) ? [r.int(4), r.int(8)] : [2, 4],
      });
      what.push('pcap');
    } else {
      const nIf = 1 + (r.chance(0.2) ? r.int(3) : 0);
      const interfaces: PcapngInterface[] = [];
      for (let k = 0; k < nIf; k++) {
        const i: PcapngInterface = { linktype, snaplen: r.chance(0.1) ? r.pick(U32_EDGES) : 262144 };
        if (r.chance(0.4)) i.tsresol = r.pick(TSRESOL);
        if (r.chance(0.3)) i.tsoffset = r.pick(TSOFFSET);
        interfaces.push(i);
      }
      // the writer cannot express resolutions it does not know: keep those for the byte stage
      const writable = interfaces.map((i) => ({ ...i, tsresol: i.tsresol !== undefined && validTsresol(i.tsresol) ? i.tsresol : undefined }));
      for (const f of frames) {
        f.iface = r.int(nIf);
        const k = r.int(20);
        f.block = k === 0 ? 'spb' : k === 1 ? 'opb' : 'epb';
      }
      bytes = writePcapng(frames, { bigEndian: be, interfaces: writable });
      // invalid if_tsresol bytes, written in place of a valid one
      interfaces.forEach((i, k) => {
        if (i.tsresol !== undefined && !validTsresol(i.tsresol)) bytes = setTsresol(bytes, k, i.tsresol);
      });
      what.push(`pcapng if=${JSON.stringify(interfaces)}`);
    }
  }
  // byte-level mutations of the file
  const nb = r.chance(0.5) ? r.int(4) : 0;
  for (let k = 0; k < nb && bytes.length > 0; k++) {
    const op = r.int(5);
    if (op === 0 && bytes.length >= 4) {
      const at = r.int(bytes.length >>> 2) << 2;
      bytes.writeUInt32LE(r.pick(U32_EDGES), at);
      what.push(`u32@${at}`);
    } else if (op === 1) {
      const at = r.int(bytes.length);
      bytes[at] = bytes[at]! ^ (1 << r.int(8));
      what.push(`flip@${at}`);
    } else if (op === 2) {
      const at = r.int(bytes.length);
      bytes = bytes.subarray(0, at);
      what.push(`cut@${at}`);
    } else if (op === 3) {
      const a = r.int(bytes.length);
      const b = Math.min(bytes.length, a + 1 + r.int(256));
      bytes = Buffer.concat([bytes.subarray(0, b), bytes.subarray(a, b), bytes.subarray(b)]);
      what.push(`dup@${a}+${b - a}`);
    } else {
      const at = r.int(bytes.length);
      bytes[at] = r.pick(BYTE_EDGES);
      what.push(`byte@${at}`);
    }
  }
  return { bytes, what: what.join(' ') };
}

function validTsresol(v: number): boolean {
  const k = v & 0x7f;
  return v & 0x80 ? k <= 63 : k <= 18;
}

/** Put if_tsresol byte `v` into interface `k`: the writer gave it a placeholder of 6. */
function setTsresol(file: Buffer, k: number, v: number): Buffer {
  // walk the blocks (written little- or big-endian by the writer: read the SHB's byte order)
  const le = file.readUInt32LE(8) === 0x1a2b3c4d;
  const rd = (o: number): number => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const rd16 = (o: number): number => (le ? file.readUInt16LE(o) : file.readUInt16BE(o));
  let pos = 0;
  let n = 0;
  while (pos + 12 <= file.length) {
    const type = rd(pos);
    const total = rd(pos + 4);
    if (total < 12) break;
    if (type === 1) {
      if (n === k) {
        // options start at +16; the writer puts if_tsresol first when present
        if (pos + 21 <= file.length && rd16(pos + 16) === 9) file[pos + 20] = v;
        else return insertTsresol(file, pos, total, v, le);
        return file;
      }
      n++;
    }
    pos += total;
  }
  return file;
}

/** An IDB without options gets `if_tsresol v` and an end-of-options. */
function insertTsresol(file: Buffer, pos: number, total: number, v: number, le: boolean): Buffer {
  const body = file.subarray(pos + 8, pos + total - 4);
  const opt = Buffer.alloc(12);
  if (le) {
    opt.writeUInt16LE(9, 0);
    opt.writeUInt16LE(1, 2);
  } else {
    opt.writeUInt16BE(9, 0);
    opt.writeUInt16BE(1, 2);
  }
  opt[4] = v;
  // opt_endofopt: 4 zero bytes at 8
  const hasOptions = body.length > 8;
  const newBody = hasOptions ? Buffer.concat([body.subarray(0, 8), opt.subarray(0, 8), body.subarray(8)]) : Buffer.concat([body, opt]);
  const newTotal = 12 + newBody.length;
  const head = Buffer.alloc(8);
  const tail = Buffer.alloc(4);
  if (le) {
    head.writeUInt32LE(1, 0);
    head.writeUInt32LE(newTotal, 4);
    tail.writeUInt32LE(newTotal, 0);
  } else {
    head.writeUInt32BE(1, 0);
    head.writeUInt32BE(newTotal, 4);
    tail.writeUInt32BE(newTotal, 0);
  }
  return Buffer.concat([file.subarray(0, pos), head, newBody, tail, file.subarray(pos + total)]);
}

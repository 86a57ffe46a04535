/**
 * Deterministic generator of the benchmark capture: a spoofed TCP SYN flood.
 *
 *   node dist/test/bench/make-bench-pcap.js [--packets N] [--force]
 *
 * What the file holds (classic pcap, little-endian, microseconds, LINKTYPE_ETHERNET):
 *  - N frames of 60 bytes (Ethernet 14 + IPv4 20 + TCP 20 + 6 bytes of zero padding,
 *    the minimum Ethernet frame as a receiver captures it), caplen = len = 60;
 *  - timestamps 5 µs apart from 2024-01-01T00:00:00Z: 200 kpps of packet time, so
 *    2 M packets span 10 s and the network clock ticks and sweeps ten times;
 *  - the flood: 198.18.0.0/16 (65,536 sources, the RFC 2544 benchmark range) to
 *    198.19.0.1, SYN without DF (as hping3 and nmap raw packets are), TTL 64, window 512;
 *    the source of flood packet f is a bijective 16-bit mix of f, re-keyed every 65,536
 *    packets, so every source appears once per round in a random-looking order; source
 *    and destination ports (1024-65535 and 1-65535), IP id and TCP sequence number come
 *    from a seeded PRNG;
 *  - 1 frame in 1000 (the one at index ≡ 999 mod 1000) is from one of SCANNERS, eight
 *    nmap-like SYN scanners (non-DF SYNs to ports 1, 2, 3, ... from a fixed source
 *    port) in 192.0.2.0/24 and 203.0.113.0/24. Their first octets put them in scan-table
 *    buckets of their own (4 pairs each), apart from the flood's, so each is detected
 *    once ("TCP: SYN scan detected") and expires once at the end of the replay: the
 *    benchmark checks that number of lines (expectedLines) to show the pipeline really
 *    ran the detectors; the flood itself churns its bucket (scan.evicted per packet).
 *  - IPv4 and TCP checksums are valid.
 *
 * The file is written through one reused 4 MiB buffer (about 1 s for 2 M packets) to a
 * temporary name and renamed. Its name carries the packet count and GENERATOR_VERSION;
 * ensureBenchPcap() regenerates only when that file is missing or has the wrong size,
 * and deletes captures of older generator versions.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Bump whenever the bytes written change: the file name carries it. */
export const GENERATOR_VERSION = 1;

export const FULL_PACKETS = 2_000_000;
export const QUICK_PACKETS = 200_000;

const FRAME = 60;
const RECORD = 16 + FRAME;
const FILE_HEADER = 24;
/** 2024-01-01T00:00:00Z */
const START_SEC = 1704067200;
/** packet spacing: 5 µs = 200 kpps */
const STEP_US = 5;
const SEED = 0x1b10c223;

/** 198.19.0.1 */
export const FLOOD_DST = ((198 << 24) | (19 << 16) | 1) >>> 0;
/** 198.18.0.0/16 */
export const FLOOD_NET = ((198 << 24) | (18 << 16)) >>> 0;
export const FLOOD_SOURCES = 65536;
/** Every SCANNER_EVERY-th frame (index ≡ SCANNER_EVERY-1) is a scanner's. */
export const SCANNER_EVERY = 1000;
/** 192.0.2.10-13 and 203.0.113.10-13 (TEST-NET-1 and TEST-NET-3). */
export const SCANNERS: readonly number[] = [
  ip(192, 0, 2, 10),
  ip(192, 0, 2, 11),
  ip(192, 0, 2, 12),
  ip(192, 0, 2, 13),
  ip(203, 0, 113, 10),
  ip(203, 0, 113, 11),
  ip(203, 0, 113, 12),
  ip(203, 0, 113, 13),
];
/** SYN-scan threshold of iplog 2.2.3 (detect/syn-scan.ts); a scanner with fewer packets is not reported. */
const SYN_SCAN_THRESHOLD = 10;

function ip(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** Frames from scanners in a file of `packets` frames. */
export function scannerPackets(packets: number): number {
  return Math.floor(packets / SCANNER_EVERY);
}

/**
 * iplog lines a `-m -N` replay of the file must print: each scanner that reaches the
 * SYN-scan threshold is detected once and expires once (drained at end of input). The
 * flood itself produces none: its 65,536 sources share one bucket of 4 pairs.
 */
export function expectedLines(packets: number): number {
  const n = scannerPackets(packets);
  let lines = 0;
  for (let k = 0; k < SCANNERS.length; k++) {
    const mine = Math.floor(n / SCANNERS.length) + (k < n % SCANNERS.length ? 1 : 0);
    if (mine >= SYN_SCAN_THRESHOLD) lines += 2;
  }
  return lines;
}

/**
 * Who floods whom. BENCH_PLAN is the replay benchmark's (65,536 sources of the RFC 2544
 * benchmark range, never sent on any interface); LIVE_PLAN is the live benchmark's, which
 * is sent through a veth pair between namespaces and so stays in the documentation ranges
 * (RFC 5737): 256 sources of 198.51.100.0/24 to 192.0.2.1. The scanners are the same.
 */
export interface AddressPlan {
  /** file name prefix */
  name: string;
  floodNet: number;
  /** number of flood sources: 65,536 or 256 */
  floodSources: number;
  dst: number;
}

export const BENCH_PLAN: AddressPlan = { name: 'syn-flood', floodNet: FLOOD_NET, floodSources: FLOOD_SOURCES, dst: FLOOD_DST };
export const LIVE_PLAN: AddressPlan = { name: 'syn-flood-doc', floodNet: ip(198, 51, 100, 0), floodSources: 256, dst: ip(192, 0, 2, 1) };

export function benchPcapName(packets: number, plan: AddressPlan = BENCH_PLAN): string {
  return `${plan.name}-${packets}-v${GENERATOR_VERSION}.pcap`;
}

export function benchPcapSize(packets: number): number {
  return FILE_HEADER + packets * RECORD;
}

/** mulberry32: a small seeded 32-bit PRNG (deterministic across platforms). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** A bijection of 0..65535 keyed by `round`: odd multiplies and xorshifts mod 2^16. */
export function mix16(x: number, round: number): number {
  x = (x ^ (round * 0x2f1d)) & 0xffff;
  x = Math.imul(x, 0x9e37) & 0xffff;
  x ^= x >>> 7;
  x = Math.imul(x, 0x5bd5) & 0xffff;
  x ^= x >>> 9;
  x = (x + round * 0x3c6f) & 0xffff;
  return x;
}

/** 16-bit ones'-complement sum of b[o, o+len) (len even), folded, plus `init`. */
export function sum16(b: Buffer, o: number, len: number, init: number): number {
  let s = init;
  for (let i = o; i < o + len; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** Write the capture of `packets` frames to `file` (via a temporary file and rename). */
export function writeBenchPcap(file: string, packets: number, plan: AddressPlan = BENCH_PLAN): void {
  const rnd = prng(SEED);
  const perChunk = Math.floor((4 << 20) / RECORD);
  const buf = Buffer.alloc(perChunk * RECORD);
  writeAtomically(file, (fd) => {
    fs.writeSync(fd, pcapFileHeader());

    // The constant parts of every record, written once: buf is zero-filled and only
    // the varying fields are rewritten per packet.
    for (let r = 0; r < perChunk; r++) {
      const o = r * RECORD;
      buf.writeUInt32LE(FRAME, o + 8);
      buf.writeUInt32LE(FRAME, o + 12);
      const e = o + 16;
      buf.set([0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00], e); // MACs (locally administered), IPv4
      const h = e + 14;
      buf[h] = 0x45;
      buf.writeUInt16BE(40, h + 2); // total length
      buf[h + 9] = 6; // TCP
      buf.writeUInt32BE(plan.dst, h + 16);
      const t = h + 20;
      buf[t + 12] = 0x50; // data offset 5
      buf[t + 13] = 0x02; // SYN
    }

    const scanSeq = new Uint32Array(SCANNERS.length);
    let flood = 0;
    let scan = 0;
    let r = 0;
    for (let i = 0; i < packets; i++) {
      const o = r * RECORD;
      const us = i * STEP_US;
      buf.writeUInt32LE(START_SEC + Math.floor(us / 1e6), o);
      buf.writeUInt32LE(us % 1e6, o + 4);
      const h = o + 16 + 14;
      const t = h + 20;
      let src: number;
      let sport: number;
      let dport: number;
      let ttl: number;
      let win: number;
      if (i % SCANNER_EVERY === SCANNER_EVERY - 1) {
        // nmap -sS like: fixed source port per scanner, ports 1, 2, 3, ...
        const k = scan % SCANNERS.length;
        scan++;
        src = SCANNERS[k]!;
        sport = 40000 + k;
        dport = ++scanSeq[k]!;
        ttl = 52;
        win = 1024;
      } else {
        src =
          plan.floodSources === FLOOD_SOURCES
            ? (plan.floodNet | mix16(flood & 0xffff, Math.floor(flood / FLOOD_SOURCES))) >>> 0
            : (plan.floodNet | ((Math.imul(flood & 0xff, 167) + Math.floor(flood / 256) * 73) & 0xff)) >>> 0;
        flood++;
        const p = rnd();
        sport = 1024 + ((p & 0xffff) % 64512);
        dport = 1 + ((p >>> 16) % 65535);
        ttl = 64;
        win = 512;
      }
      const q = rnd();
      // IPv4: id, TTL, source, checksum (flags/fragment offset 0: no DF)
      buf.writeUInt16BE(q & 0xffff, h + 4);
      buf[h + 8] = ttl;
      buf.writeUInt32BE(src, h + 12);
      buf[h + 10] = 0;
      buf[h + 11] = 0;
      buf.writeUInt16BE(~sum16(buf, h, 20, 0) & 0xffff, h + 10);
      // TCP: ports, sequence number, window, checksum over the pseudo-header
      buf.writeUInt16BE(sport, t);
      buf.writeUInt16BE(dport, t + 2);
      buf.writeUInt32BE(rnd(), t + 4);
      buf.writeUInt16BE(win, t + 14);
      buf[t + 16] = 0;
      buf[t + 17] = 0;
      const pseudo = sum16(buf, h + 12, 8, 6 + 20);
      buf.writeUInt16BE(~sum16(buf, t, 20, pseudo) & 0xffff, t + 16);
      if (++r === perChunk) {
        fs.writeSync(fd, buf, 0, r * RECORD);
        r = 0;
      }
    }
    if (r > 0) fs.writeSync(fd, buf, 0, r * RECORD);
  });
}

/** A classic pcap file header (microseconds, snaplen 262144, LINKTYPE_ETHERNET), FILE_HEADER bytes. */
export function pcapFileHeader(): Buffer {
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0);
  hdr.writeUInt16LE(2, 4);
  hdr.writeUInt16LE(4, 6);
  hdr.writeInt32LE(0, 8); // thiszone
  hdr.writeUInt32LE(0, 12); // sigfigs
  hdr.writeUInt32LE(262144, 16); // snaplen
  hdr.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  return hdr;
}

/** Writes `file` through a temporary file renamed into place; on an error the temporary goes. */
export function writeAtomically(file: string, write: (fd: number) => void): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    write(fd);
    fs.closeSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.renameSync(tmp, file);
}

/** Removes the captures `<prefix>-N-vV.pcap` in `dir` of another generator version, and unfinished ones. */
export function removeStale(dir: string, prefix: string, version: number): void {
  const re = new RegExp(`^${prefix}-\\d+-v(\\d+)\\.pcap(\\.tmp-\\d+)?$`);
  for (const old of fs.readdirSync(dir)) {
    const m = re.exec(old);
    if (m !== null && (Number(m[1]) !== version || m[2] !== undefined)) fs.rmSync(path.join(dir, old), { force: true });
  }
}

/** Whether `file` exists with exactly `bytes` bytes. */
export function hasSize(file: string, bytes: number): boolean {
  try {
    return fs.statSync(file).size === bytes;
  } catch {
    return false;
  }
}

export interface BenchPcap {
  path: string;
  packets: number;
  /** true when this call wrote it */
  generated: boolean;
  /** seconds spent generating (0 when reused) */
  seconds: number;
}

/**
 * The capture of `packets` frames in `dir` (pcaps/bench/), generated when missing or of
 * the wrong size. Captures made by other generator versions are removed.
 */
export function ensureBenchPcap(dir: string, packets: number, force = false, plan: AddressPlan = BENCH_PLAN): BenchPcap {
  fs.mkdirSync(dir, { recursive: true });
  const name = benchPcapName(packets, plan);
  const file = path.join(dir, name);
  removeStale(dir, plan.name, GENERATOR_VERSION);
  const ok = hasSize(file, benchPcapSize(packets));
  if (ok && !force) return { path: file, packets, generated: false, seconds: 0 };
  const t0 = process.hrtime.bigint();
  writeBenchPcap(file, packets, plan);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { path: file, packets, generated: true, seconds };
}

/** pcaps/bench/ of the checkout this file belongs to (dist/test/bench/ -> ../../../). */
export function defaultBenchDir(): string {
  return path.resolve(__dirname, '..', '..', '..', 'pcaps', 'bench');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  let packets = FULL_PACKETS;
  let force = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--packets') packets = Number(args[++i]);
    else if (a === '--quick') packets = QUICK_PACKETS;
    else if (a === '--force') force = true;
    else {
      process.stderr.write(`usage: make-bench-pcap [--packets N | --quick] [--force]\n`);
      process.exit(2);
    }
  }
  if (!Number.isSafeInteger(packets) || packets < 1) {
    process.stderr.write(`make-bench-pcap: bad packet count\n`);
    process.exit(2);
  }
  const r = ensureBenchPcap(defaultBenchDir(), packets, force);
  process.stdout.write(`${r.path}: ${r.packets} packets, ${r.generated ? `generated in ${r.seconds.toFixed(2)} s` : 'up to date'}\n`);
}

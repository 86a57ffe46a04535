/**
 * The IPv6 benchmark capture: the spoofed TCP SYN flood of make-bench-pcap.ts, over IPv6.
 *
 * What the file holds (classic pcap, little-endian, microseconds, LINKTYPE_ETHERNET):
 *  - N frames of 74 bytes (Ethernet 14 + IPv6 40 + TCP 20), caplen = len = 74;
 *  - timestamps 5 µs apart from 2024-01-01T00:00:00Z, as the IPv4 capture;
 *  - the flood: 65,536 sources 2001:db8:f100::/112 (the low 16 bits a bijective mix of
 *    the packet index, re-keyed every 65,536 packets, as for IPv4) to 2001:db8::1, hop
 *    limit 64, window 512; ports and sequence numbers from a seeded PRNG;
 *  - 1 frame in 1000 from one of eight SYN scanners 2001:db8:5ca::10–17 (ports 1, 2, 3...
 *    from a fixed source port), as in the IPv4 capture;
 *  - TCP checksums are valid (IPv6 pseudo-header).
 * Only documentation addresses (2001:db8::/32). Regenerated when missing or of the wrong
 * size; the name carries the packet count and GENERATOR6_VERSION.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hasSize, mix16, pcapFileHeader, prng, removeStale, sum16, writeAtomically, type BenchPcap } from './make-bench-pcap';

export const GENERATOR6_VERSION = 1;

const FRAME = 74;
const RECORD = 16 + FRAME;
const FILE_HEADER = 24;
const START_SEC = 1704067200;
const STEP_US = 5;
const SEED = 0x6b10c226;
const SCANNER_EVERY = 1000;
const SCANNERS = 8;

/** The checksum of the 20-byte TCP header at t of the IPv6 packet at h (no payload). */
export function tcp6Checksum(buf: Buffer, h: number, t: number): void {
  buf[t + 16] = 0;
  buf[t + 17] = 0;
  // pseudo-header: source, destination, upper-layer length 20, next header 6
  const pseudo = sum16(buf, h + 8, 32, 20 + 6);
  buf.writeUInt16BE(~sum16(buf, t, 20, pseudo) & 0xffff, t + 16);
}

export function bench6PcapName(packets: number): string {
  return `syn-flood6-${packets}-v${GENERATOR6_VERSION}.pcap`;
}

export function bench6PcapSize(packets: number): number {
  return FILE_HEADER + packets * RECORD;
}

export function writeBench6Pcap(file: string, packets: number): void {
  const rnd = prng(SEED);
  const perChunk = Math.floor((4 << 20) / RECORD);
  const buf = Buffer.alloc(perChunk * RECORD);
  writeAtomically(file, (fd) => {
    fs.writeSync(fd, pcapFileHeader());
    const dst = Buffer.from('20010db8000000000000000000000001', 'hex');
    for (let r = 0; r < perChunk; r++) {
      const o = r * RECORD;
      buf.writeUInt32LE(FRAME, o + 8);
      buf.writeUInt32LE(FRAME, o + 12);
      const e = o + 16;
      buf.set([0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x86, 0xdd], e);
      const h = e + 14;
      buf.writeUInt32BE(0x60000000, h);
      buf.writeUInt16BE(20, h + 4); // payload length
      buf[h + 6] = 6; // TCP
      buf.writeUInt32BE(0x20010db8, h + 8);
      dst.copy(buf, h + 24);
      const t = h + 40;
      buf[t + 12] = 0x50;
      buf[t + 13] = 0x02; // SYN
    }
    const scanSeq = new Uint32Array(SCANNERS);
    let flood = 0;
    let scan = 0;
    let r = 0;
    for (let i = 0; i < packets; i++) {
      const o = r * RECORD;
      const us = i * STEP_US;
      buf.writeUInt32LE(START_SEC + Math.floor(us / 1e6), o);
      buf.writeUInt32LE(us % 1e6, o + 4);
      const h = o + 16 + 14;
      const t = h + 40;
      let sport: number;
      let dport: number;
      if (i % SCANNER_EVERY === SCANNER_EVERY - 1) {
        const k = scan % SCANNERS;
        scan++;
        buf.writeUInt32BE(0x05ca0000, h + 12); // 2001:db8:5ca::
        buf.writeUInt32BE(0, h + 16);
        buf.writeUInt32BE(0x10 + k, h + 20);
        sport = 40000 + k;
        dport = ++scanSeq[k]!;
        buf[h + 7] = 52;
        buf.writeUInt16BE(1024, t + 14);
      } else {
        buf.writeUInt32BE(0xf1000000, h + 12); // 2001:db8:f100::
        buf.writeUInt32BE(0, h + 16);
        buf.writeUInt32BE(mix16(flood & 0xffff, Math.floor(flood / 65536)), h + 20);
        flood++;
        const p = rnd();
        sport = 1024 + ((p & 0xffff) % 64512);
        dport = 1 + ((p >>> 16) % 65535);
        buf[h + 7] = 64;
        buf.writeUInt16BE(512, t + 14);
      }
      buf.writeUInt16BE(sport, t);
      buf.writeUInt16BE(dport, t + 2);
      buf.writeUInt32BE(rnd(), t + 4);
      tcp6Checksum(buf, h, t);
      if (++r === perChunk) {
        fs.writeSync(fd, buf, 0, r * RECORD);
        r = 0;
      }
    }
    if (r > 0) fs.writeSync(fd, buf, 0, r * RECORD);
  });
}

export function ensureBench6Pcap(dir: string, packets: number): BenchPcap {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, bench6PcapName(packets));
  removeStale(dir, 'syn-flood6', GENERATOR6_VERSION);
  const ok = hasSize(file, bench6PcapSize(packets));
  if (ok) return { path: file, packets, generated: false, seconds: 0 };
  const t0 = process.hrtime.bigint();
  writeBench6Pcap(file, packets);
  return { path: file, packets, generated: true, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

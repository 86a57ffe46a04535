/**
 * Classic libpcap file reader (push parser; `read.ts` feeds it chunks).
 *
 * Format: a 24-byte file header — magic, version major/minor (u16 each; we require
 * major 2), thiszone, sigfigs, snaplen, linktype (low 16 bits; the upper bits carry FCS
 * information and are ignored) — then records of a 16-byte header (ts_sec, ts_frac,
 * caplen, wirelen) followed by caplen bytes. The magic as written gives the byte order and
 * the timestamp unit: a1b2c3d4 microseconds, a1b23c4d nanoseconds; a1b2cd34 is the
 * "modified" (Kuznetzov) format whose record headers are 24 bytes, with microseconds.
 * A fraction of a second that is 10^9 ns or more (corrupt) is carried into the seconds.
 * Times outside MIN_TIME_SEC..MAX_TIME_SEC (reader-core.ts) are skipped and counted.
 *
 * Bounds: a record with caplen above MAX_CAPLEN is skipped and counted
 * (`capture.packet_too_large`), above MAX_RECORD_CLAIM it is an error; so the parser never
 * asks for more than 24 + MAX_CAPLEN contiguous bytes. Records are delivered as offsets
 * into the caller's buffer: no allocation per record.
 */
import { A } from '../decode/anomalies';
import type { CaptureError, FrameHandler } from './source';
import {
  CAPTURE_ERR,
  MAX_CAPLEN,
  MAX_RECORD_CLAIM,
  MAX_TIME_SEC,
  ParserContext,
  RecordParser,
  captureError,
  hex32,
  u16,
  u32,
  u32be,
} from './reader-core';

export const PCAP_FILE_HEADER = 24;

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const MAGIC_MODIFIED = 0xa1b2cd34;

/** Does this first word (read big-endian) start a classic pcap file, in either byte order? */
export function isPcapMagic(be: number): boolean {
  return (
    be === MAGIC_US ||
    be === MAGIC_NS ||
    be === MAGIC_MODIFIED ||
    be === 0xd4c3b2a1 ||
    be === 0x4d3cb2a1 ||
    be === 0x34cdb2a1
  );
}

export class PcapParser implements RecordParser {
  readonly format = 'pcap' as const;
  need = PCAP_FILE_HEADER;
  skip = 0;
  frames = 0;
  bytes = 0;
  /** From the file header; -1 until it has been read. */
  linktype = -1;
  snaplen = 0;
  littleEndian = true;
  nanosecond = false;
  private headerDone = false;
  private recHdr = 16;

  constructor(
    private readonly ctx: ParserContext,
    private readonly onFrame: FrameHandler,
  ) {}

  parse(buf: Buffer, pos: number, end: number, base: number): number {
    if (!this.headerDone) {
      if (end - pos < PCAP_FILE_HEADER) {
        this.need = PCAP_FILE_HEADER;
        return pos;
      }
      this.readHeader(buf, pos);
      pos += PCAP_FILE_HEADER;
    }
    const le = this.littleEndian;
    const fracToNs = this.nanosecond ? 1 : 1000;
    const rh = this.recHdr;
    const snap = this.snaplen;
    const lt = this.linktype;
    const counts = this.ctx.anomalies.counts;
    const cb = this.onFrame;
    for (;;) {
      const avail = end - pos;
      if (avail < rh) {
        this.need = rh;
        return pos;
      }
      const caplen = u32(buf, pos + 8, le);
      if (caplen > MAX_CAPLEN) {
        if (caplen > MAX_RECORD_CLAIM) {
          throw captureError(
            this.ctx.name,
            `record at offset ${base + pos} claims ${caplen} bytes (limit ${MAX_RECORD_CLAIM})`,
            CAPTURE_ERR.RECORD_SIZE,
          );
        }
        // Too big to deliver within our buffer bound, small enough to be a real (if odd)
        // packet: stream past it and say so.
        counts[A.capTooLarge]++;
        this.skip = rh + caplen;
        this.need = 0;
        return pos;
      }
      const total = rh + caplen;
      if (avail < total) {
        this.need = total;
        return pos;
      }
      let sec = u32(buf, pos, le);
      let nsec = u32(buf, pos + 4, le) * fracToNs;
      if (nsec >= 1e9) {
        sec += Math.floor(nsec / 1e9);
        nsec %= 1e9;
      }
      if (sec > MAX_TIME_SEC) {
        // only reachable by carrying a corrupt fraction into the seconds: the same rule
        // as pcapng, so the range is the readers' one contract
        counts[A.capTimeRange]++;
        pos += total;
        continue;
      }
      const wirelen = u32(buf, pos + 12, le);
      if (caplen > snap && snap !== 0) counts[A.capCaplenSnaplen]++;
      if (caplen > wirelen) counts[A.capCaplenLen]++;
      this.frames++;
      this.bytes += caplen;
      cb(buf, pos + rh, caplen, wirelen, sec, nsec, lt);
      pos += total;
    }
  }

  truncated(offset: number, have: number): CaptureError {
    if (!this.headerDone) {
      return captureError(
        this.ctx.name,
        `truncated pcap file header (file ends after ${have} of ${PCAP_FILE_HEADER} bytes)`,
        CAPTURE_ERR.TRUNCATED,
      );
    }
    return captureError(
      this.ctx.name,
      `truncated record at offset ${offset} (file ends inside it)`,
      CAPTURE_ERR.TRUNCATED,
    );
  }

  private readHeader(buf: Buffer, pos: number): void {
    const magic = u32be(buf, pos);
    const swapped = u32(buf, pos, true);
    let m: number;
    if (magic === MAGIC_US || magic === MAGIC_NS || magic === MAGIC_MODIFIED) {
      this.littleEndian = false;
      m = magic;
    } else if (swapped === MAGIC_US || swapped === MAGIC_NS || swapped === MAGIC_MODIFIED) {
      this.littleEndian = true;
      m = swapped;
    } else {
      throw captureError(this.ctx.name, `not a pcap or pcapng file (magic ${hex32(magic)})`, CAPTURE_ERR.MAGIC);
    }
    const le = this.littleEndian;
    this.nanosecond = m === MAGIC_NS;
    this.recHdr = m === MAGIC_MODIFIED ? 24 : 16;
    const major = u16(buf, pos + 4, le);
    const minor = u16(buf, pos + 6, le);
    if (major !== 2) {
      throw captureError(this.ctx.name, `unsupported pcap version ${major}.${minor}`, CAPTURE_ERR.VERSION);
    }
    this.snaplen = u32(buf, pos + 16, le);
    this.linktype = u32(buf, pos + 20, le) & 0xffff;
    this.headerDone = true;
    if (this.ctx.onLinktype !== undefined) this.ctx.onLinktype(this.linktype, 0);
  }
}

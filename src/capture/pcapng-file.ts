/**
 * pcapng reader (push parser; `read.ts` feeds it chunks).
 *
 * Format: a sequence of blocks, each `type u32, total length u32, body, total length u32`,
 * total length ≥ 12 and a multiple of 4. A Section Header Block (0x0A0D0D0A) opens each
 * section; its byte-order magic 0x1A2B3C4D gives the byte order of the whole section, and
 * a new SHB (concatenated captures) forgets every interface. Interface Description Blocks
 * (1) number interfaces from 0 within the section: link type (u16), snaplen (u32; 0 = no
 * limit) and options, of which we use `if_tsresol` (code 9: 10^-n, or 2^-n when the top bit
 * is set; default 10^-6) and `if_tsoffset` (code 14: seconds added to every timestamp).
 * Packets come in Enhanced Packet Blocks (6: interface u32, 64-bit timestamp, caplen,
 * origlen, data), obsolete Packet Blocks (2: as EPB with a u16 interface and a u16 drop
 * count) and Simple Packet Blocks (3: origlen, data; interface 0; caplen is the smallest
 * of origlen, the room in the block and interface 0's snaplen). An SPB has no timestamp:
 * we give it the last timestamp delivered in this file (0 before any), so packet time
 * does not jump to 1970 and back. Every other block type is skipped.
 *
 * Timestamps are converted to (seconds, nanoseconds) exactly, without BigInt: 64-bit
 * long division in 16-bit digits by divisors ≤ 10^9; binary resolutions finer than 2^-23
 * may round the nanoseconds by one. A packet whose time (with if_tsoffset) falls outside
 * MIN_TIME_SEC..MAX_TIME_SEC (reader-core.ts) is skipped and counted
 * (`capture.timestamp_out_of_range`).
 *
 * Bounds: a block up to MAX_BUFFER bytes is parsed whole and its trailing length checked;
 * a larger one (≤ MAX_RECORD_CLAIM) is streamed past unverified, and counted as
 * `capture.packet_too_large` if it is a packet block, and is an error if it is an SHB or
 * IDB (we need their contents). At most MAX_INTERFACES interfaces per section.
 */
import { A } from '../decode/anomalies';
import type { CaptureError, FrameHandler } from './source';
import {
  CAPTURE_ERR,
  MAX_BUFFER,
  MAX_CAPLEN,
  MAX_RECORD_CLAIM,
  MAX_TIME_SEC,
  MIN_TIME_SEC,
  ParserContext,
  RecordParser,
  captureError,
  hex32,
  u16,
  u32,
  u32le,
} from './reader-core';

export const PCAPNG_MAGIC = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BT_IDB = 1;
const BT_OPB = 2;
const BT_SPB = 3;
const BT_EPB = 6;

/** Interfaces allowed in one section; a file describing more is reported as broken. */
export const MAX_INTERFACES = 65536;

const TS_DEC = 0; // 10^-k, k ≤ 9: divide by 10^k, scale the remainder up
const TS_DEC_FINE = 1; // 10^-k, 9 < k ≤ 18: divide by 10^(k-9) to get ns, then by 10^9
const TS_BIN = 2; // 2^-k, k ≤ 63

// Scratch results of div64 (module-level so the hot path allocates nothing).
let qHi = 0;
let qLo = 0;
let qRem = 0;

/** (hi·2^32 + lo) / d for 1 ≤ d ≤ 10^9, exactly: quotient in (qHi, qLo), remainder in qRem. */
function div64(hi: number, lo: number, d: number): void {
  const r0 = hi % d;
  qHi = (hi - r0) / d;
  let x = r0 * 65536 + (lo >>> 16);
  const q1 = Math.floor(x / d);
  x = (x - q1 * d) * 65536 + (lo & 0xffff);
  const q2 = Math.floor(x / d);
  qRem = x - q2 * d;
  qLo = q1 * 65536 + q2;
}

export class PcapngParser implements RecordParser {
  readonly format = 'pcapng' as const;
  need = 12;
  skip = 0;
  frames = 0;
  bytes = 0;
  /** Sections seen so far. */
  sections = 0;
  private le = true;
  private nIf = 0;
  private readonly ifLinktype: number[] = [];
  private readonly ifSnaplen: number[] = [];
  private readonly ifTsKind: number[] = [];
  private readonly ifTsDiv: number[] = [];
  private readonly ifTsMul: number[] = [];
  private readonly ifTsOff: number[] = [];
  // last timestamp delivered (for SPB) and the output of toTime()
  private sec = 0;
  private nsec = 0;

  constructor(
    private readonly ctx: ParserContext,
    private readonly onFrame: FrameHandler,
  ) {}

  /** Number of interfaces described in the current section. */
  get interfaces(): number {
    return this.nIf;
  }

  parse(buf: Buffer, pos: number, end: number, base: number): number {
    for (;;) {
      const avail = end - pos;
      if (avail < 12) {
        this.need = 12;
        return pos;
      }
      let le = this.le;
      const type = u32(buf, pos, le); // the SHB type reads the same in both orders
      if (type === PCAPNG_MAGIC) {
        const bom = u32le(buf, pos + 8);
        if (bom === BYTE_ORDER_MAGIC) le = true;
        else if (u32(buf, pos + 8, false) === BYTE_ORDER_MAGIC) le = false;
        else this.broken(base + pos, `bad byte-order magic ${hex32(u32(buf, pos + 8, false))} in section header`);
        this.le = le;
      } else if (this.sections === 0) {
        this.broken(base + pos, `first block is not a section header (type ${hex32(type)})`);
      }
      const total = u32(buf, pos + 4, le);
      if (total < 12) this.broken(base + pos, `total length ${total} is less than 12`);
      if (total % 4 !== 0) this.broken(base + pos, `total length ${total} is not a multiple of 4`);
      if (total > MAX_RECORD_CLAIM) {
        throw captureError(
          this.ctx.name,
          `block at offset ${base + pos} claims ${total} bytes (limit ${MAX_RECORD_CLAIM})`,
          CAPTURE_ERR.RECORD_SIZE,
        );
      }
      if (total > MAX_BUFFER) {
        if (type === PCAPNG_MAGIC || type === BT_IDB) {
          this.broken(base + pos, `${type === BT_IDB ? 'interface description' : 'section header'} block of ${total} bytes exceeds the limit of ${MAX_BUFFER}`);
        }
        if (type === BT_EPB || type === BT_SPB || type === BT_OPB) this.ctx.anomalies.counts[A.capTooLarge]++;
        this.skip = total;
        this.need = 0;
        return pos;
      }
      if (avail < total) {
        this.need = total;
        return pos;
      }
      const trailer = u32(buf, pos + total - 4, le);
      if (trailer !== total) {
        this.broken(base + pos, `trailing length ${trailer} does not match total length ${total}`);
      }
      switch (type) {
        case BT_EPB:
          this.packet(buf, pos, total, base, u32(buf, pos + 8, le));
          break;
        case BT_OPB:
          this.packet(buf, pos, total, base, u16(buf, pos + 8, le));
          break;
        case BT_SPB:
          this.simplePacket(buf, pos, total, base);
          break;
        case BT_IDB:
          this.interfaceDescription(buf, pos, total, base);
          break;
        case PCAPNG_MAGIC:
          this.sectionHeader(buf, pos, total, base);
          break;
        default:
          break; // NRB, ISB, DSB, custom, unknown: nothing we need
      }
      pos += total;
    }
  }

  truncated(offset: number, _have: number): CaptureError {
    return captureError(
      this.ctx.name,
      `truncated block at offset ${offset} (file ends inside it)`,
      CAPTURE_ERR.TRUNCATED,
    );
  }

  private broken(offset: number, why: string): never {
    throw captureError(this.ctx.name, `broken pcapng block at offset ${offset}: ${why}`, CAPTURE_ERR.PCAPNG_BLOCK);
  }

  /** EPB (interface u32) or OPB (interface u16): both have a 28-byte header, then data. */
  private packet(buf: Buffer, pos: number, total: number, base: number, iface: number): void {
    const le = this.le;
    if (total < 32) this.broken(base + pos, `packet block of ${total} bytes is shorter than 32`);
    if (iface >= this.nIf) {
      this.broken(base + pos, `packet on interface ${iface}, but the section describes ${this.nIf} interface(s)`);
    }
    const caplen = u32(buf, pos + 20, le);
    if (caplen > total - 32) {
      this.broken(base + pos, `captured length ${caplen} overruns the block of ${total} bytes`);
    }
    const counts = this.ctx.anomalies.counts;
    if (caplen > MAX_CAPLEN) {
      counts[A.capTooLarge]++;
      return;
    }
    const wirelen = u32(buf, pos + 24, le);
    if (!this.toTime(u32(buf, pos + 12, le), u32(buf, pos + 16, le), iface)) {
      counts[A.capTimeRange]++;
      return;
    }
    const snap = this.ifSnaplen[iface]!;
    if (caplen > snap && snap !== 0) counts[A.capCaplenSnaplen]++;
    if (caplen > wirelen) counts[A.capCaplenLen]++;
    this.frames++;
    this.bytes += caplen;
    this.onFrame(buf, pos + 28, caplen, wirelen, this.sec, this.nsec, this.ifLinktype[iface]!);
  }

  private simplePacket(buf: Buffer, pos: number, total: number, base: number): void {
    if (total < 16) this.broken(base + pos, `simple packet block of ${total} bytes is shorter than 16`);
    if (this.nIf === 0) this.broken(base + pos, 'simple packet block, but the section describes no interface');
    const wirelen = u32(buf, pos + 8, this.le);
    let caplen = total - 16;
    if (wirelen < caplen) caplen = wirelen;
    const snap = this.ifSnaplen[0]!;
    if (snap !== 0 && snap < caplen) caplen = snap;
    if (caplen > MAX_CAPLEN) {
      this.ctx.anomalies.counts[A.capTooLarge]++;
      return;
    }
    this.frames++;
    this.bytes += caplen;
    this.onFrame(buf, pos + 12, caplen, wirelen, this.sec, this.nsec, this.ifLinktype[0]!);
  }

  private sectionHeader(buf: Buffer, pos: number, total: number, base: number): void {
    if (total < 28) this.broken(base + pos, `section header block of ${total} bytes is shorter than 28`);
    const major = u16(buf, pos + 12, this.le);
    const minor = u16(buf, pos + 14, this.le);
    if (major !== 1) {
      throw captureError(
        this.ctx.name,
        `unsupported pcapng version ${major}.${minor} in section at offset ${base + pos}`,
        CAPTURE_ERR.VERSION,
      );
    }
    this.sections++;
    this.nIf = 0;
    this.ifLinktype.length = 0;
    this.ifSnaplen.length = 0;
    this.ifTsKind.length = 0;
    this.ifTsDiv.length = 0;
    this.ifTsMul.length = 0;
    this.ifTsOff.length = 0;
  }

  private interfaceDescription(buf: Buffer, pos: number, total: number, base: number): void {
    const le = this.le;
    if (total < 20) this.broken(base + pos, `interface description block of ${total} bytes is shorter than 20`);
    if (this.nIf >= MAX_INTERFACES) this.broken(base + pos, `more than ${MAX_INTERFACES} interfaces in one section`);
    const linktype = u16(buf, pos + 8, le);
    const snaplen = u32(buf, pos + 12, le);
    let kind = TS_DEC;
    let div = 1e6;
    let mul = 1000;
    let off = 0;
    const oend = pos + total - 4;
    let o = pos + 16;
    while (o + 4 <= oend) {
      const code = u16(buf, o, le);
      const len = u16(buf, o + 2, le);
      if (code === 0) break; // opt_endofopt
      if (o + 4 + len > oend) {
        this.broken(base + pos, `option ${code} at offset ${base + o} overruns the block`);
      }
      if (code === 9) {
        if (len !== 1) this.broken(base + pos, `if_tsresol option has length ${len}, expected 1`);
        const v = buf[o + 4]!;
        const k = v & 0x7f;
        if (v & 0x80) {
          if (k > 63) this.broken(base + pos, `if_tsresol 2^-${k} is not supported`);
          kind = TS_BIN;
          div = k;
          mul = 1e9 / 2 ** k;
        } else if (k <= 9) {
          kind = TS_DEC;
          div = 10 ** k;
          mul = 10 ** (9 - k);
        } else if (k <= 18) {
          kind = TS_DEC_FINE;
          div = 10 ** (k - 9);
          mul = 1;
        } else {
          this.broken(base + pos, `if_tsresol 10^-${k} is not supported`);
        }
      } else if (code === 14) {
        if (len !== 8) this.broken(base + pos, `if_tsoffset option has length ${len}, expected 8`);
        const lo = u32(buf, o + (le ? 4 : 8), le);
        const hi = u32(buf, o + (le ? 8 : 4), le) | 0;
        off = hi * 4294967296 + lo;
      }
      o += 4 + ((len + 3) & ~3);
    }
    const i = this.nIf++;
    this.ifLinktype[i] = linktype;
    this.ifSnaplen[i] = snaplen;
    this.ifTsKind[i] = kind;
    this.ifTsDiv[i] = div;
    this.ifTsMul[i] = mul;
    this.ifTsOff[i] = off;
    if (this.ctx.onLinktype !== undefined) this.ctx.onLinktype(linktype, i);
  }

  /**
   * Sets this.sec / this.nsec from a 64-bit timestamp in the interface's units; false
   * (and nothing set) when the time is outside MIN_TIME_SEC..MAX_TIME_SEC.
   */
  private toTime(hi: number, lo: number, iface: number): boolean {
    const kind = this.ifTsKind[iface]!;
    const div = this.ifTsDiv[iface]!;
    let sec: number;
    let nsec: number;
    if (kind === TS_DEC) {
      div64(hi, lo, div);
      sec = qHi * 4294967296 + qLo;
      nsec = qRem * this.ifTsMul[iface]!;
    } else if (kind === TS_DEC_FINE) {
      div64(hi, lo, div); // → nanoseconds, sub-ns remainder dropped
      div64(qHi, qLo, 1e9);
      sec = qHi * 4294967296 + qLo;
      nsec = qRem;
    } else {
      let frac: number;
      if (div <= 32) {
        const p = 2 ** div;
        const whole = Math.floor(lo / p);
        sec = hi * 2 ** (32 - div) + whole;
        frac = lo - whole * p;
      } else {
        const p = 2 ** (div - 32);
        const whole = Math.floor(hi / p);
        sec = whole;
        frac = (hi - whole * p) * 4294967296 + lo;
      }
      nsec = Math.floor(frac * this.ifTsMul[iface]!);
      if (nsec > 999999999) nsec = 999999999;
    }
    // sec is exact below 2^53 and only grows with the count, so a count past the range
    // stays past it whatever the rounding; the offset is exact (|offset| < 2^63 rounds
    // to a double, but any offset that large puts every packet out of range)
    const t = sec + this.ifTsOff[iface]!;
    if (!(t >= MIN_TIME_SEC && t <= MAX_TIME_SEC)) return false;
    this.sec = t;
    this.nsec = nsec;
    return true;
  }
}

/**
 * Builds classic pcap and pcapng files in memory, for tests that need synthetic captures.
 *
 *   writePcap([{ ts: 1700000000.25, data: frameBytes }], { linktype: 1 })
 *   writePcapng(frames, { interfaces: [{ linktype: 1 }, { linktype: 101, tsresol: 9 }] })
 *
 * Timestamps: `ts` is seconds (a float is fine; its fraction is rounded to the
 * microsecond). Give `nsec` as well for an exact fraction: the seconds are then
 * `Math.floor(ts)` and the fraction is `nsec` nanoseconds. Captured length is
 * `data.length`; `wirelen` defaults to it. Byte order, timestamp unit, pcapng interfaces
 * (link type, snaplen, `if_tsresol` raw byte, `if_tsoffset`) and block kinds (EPB, SPB,
 * OPB) are options; `pcapngBlock` builds any other block, and concatenating two
 * `writePcapng` results gives a two-section file. Nothing here validates: tests of
 * hostile input build or mutate whatever bytes they want.
 */

export interface Frame {
  /** Seconds since the epoch; the fraction is rounded to the microsecond unless `nsec` is given. */
  ts: number;
  /** Exact nanoseconds within the second (then `ts` supplies only the whole seconds). */
  nsec?: number;
  /** The captured bytes. */
  data: Uint8Array;
  /** Original length on the wire; defaults to data.length. */
  wirelen?: number;
  /** pcapng: interface index (default 0). */
  iface?: number;
  /** pcapng: block kind for this frame (default: the `block` option, else 'epb'). */
  block?: 'epb' | 'spb' | 'opb';
}

export interface PcapOptions {
  /** LINKTYPE (default 1, Ethernet). */
  linktype?: number;
  bigEndian?: boolean;
  /** Nanosecond magic a1b23c4d (default: microseconds, a1b2c3d4). */
  nano?: boolean;
  /** Header snaplen (default 262144). */
  snaplen?: number;
  /** Version in the header (default [2, 4]). */
  version?: [number, number];
}

export interface PcapngInterface {
  /** LINKTYPE (default 1). */
  linktype?: number;
  /** 0 = no limit (default 262144). */
  snaplen?: number;
  /** Raw if_tsresol byte: n = 10^-n, 0x80|n = 2^-n. Omitted: no option (10^-6). */
  tsresol?: number;
  /** if_tsoffset seconds (written only when given). */
  tsoffset?: number;
}

export interface PcapngOptions {
  bigEndian?: boolean;
  /** Interfaces of the section (default: one Ethernet interface, microseconds). */
  interfaces?: PcapngInterface[];
  /** Block kind for frames that do not name one (default 'epb'). */
  block?: 'epb' | 'spb' | 'opb';
}

/** Split a frame's time into whole seconds and nanoseconds. */
export function frameTime(f: Pick<Frame, 'ts' | 'nsec'>): { sec: number; nsec: number } {
  const sec = Math.floor(f.ts);
  if (f.nsec !== undefined) return { sec, nsec: f.nsec };
  let us = Math.round((f.ts - sec) * 1e6);
  if (us >= 1e6) us = 999999;
  return { sec, nsec: us * 1000 };
}

class ByteWriter {
  private parts: Buffer[] = [];
  constructor(private readonly be: boolean) {}
  u8(v: number): this {
    this.parts.push(Buffer.from([v & 0xff]));
    return this;
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    if (this.be) b.writeUInt16BE(v & 0xffff);
    else b.writeUInt16LE(v & 0xffff);
    this.parts.push(b);
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    if (this.be) b.writeUInt32BE(v >>> 0);
    else b.writeUInt32LE(v >>> 0);
    this.parts.push(b);
    return this;
  }
  i32(v: number): this {
    const b = Buffer.alloc(4);
    if (this.be) b.writeInt32BE(v | 0);
    else b.writeInt32LE(v | 0);
    this.parts.push(b);
    return this;
  }
  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    const x = BigInt.asUintN(64, v);
    if (this.be) b.writeBigUInt64BE(x);
    else b.writeBigUInt64LE(x);
    this.parts.push(b);
    return this;
  }
  bytes(d: Uint8Array): this {
    this.parts.push(Buffer.from(d));
    return this;
  }
  pad4(): this {
    const n = this.length() % 4;
    if (n !== 0) this.parts.push(Buffer.alloc(4 - n));
    return this;
  }
  length(): number {
    let n = 0;
    for (const p of this.parts) n += p.length;
    return n;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** A classic pcap file holding `frames`. */
export function writePcap(frames: readonly Frame[], opts: PcapOptions = {}): Buffer {
  const be = opts.bigEndian ?? false;
  const w = new ByteWriter(be);
  const [major, minor] = opts.version ?? [2, 4];
  w.u32(opts.nano ? 0xa1b23c4d : 0xa1b2c3d4)
    .u16(major)
    .u16(minor)
    .i32(0)
    .u32(0)
    .u32(opts.snaplen ?? 262144)
    .u32(opts.linktype ?? 1);
  for (const f of frames) {
    const { sec, nsec } = frameTime(f);
    w.u32(sec)
      .u32(opts.nano ? nsec : Math.floor(nsec / 1000))
      .u32(f.data.length)
      .u32(f.wirelen ?? f.data.length)
      .bytes(f.data);
  }
  return w.done();
}

/** One pcapng block: type, total length, body padded to 4, total length. */
export function pcapngBlock(type: number, body: Uint8Array, bigEndian = false): Buffer {
  const padded = (body.length + 3) & ~3;
  const total = 12 + padded;
  const w = new ByteWriter(bigEndian);
  w.u32(type).u32(total).bytes(body);
  w.pad4();
  w.u32(total);
  return w.done();
}

/** Section Header Block, version 1.0, unknown section length. */
export function pcapngSectionHeader(bigEndian = false): Buffer {
  const body = new ByteWriter(bigEndian).u32(0x1a2b3c4d).u16(1).u16(0).u64(-1n).done();
  return pcapngBlock(0x0a0d0d0a, body, bigEndian);
}

/** Interface Description Block. */
export function pcapngInterface(i: PcapngInterface, bigEndian = false): Buffer {
  const w = new ByteWriter(bigEndian)
    .u16(i.linktype ?? 1)
    .u16(0)
    .u32(i.snaplen ?? 262144);
  let opts = false;
  if (i.tsresol !== undefined) {
    w.u16(9).u16(1).u8(i.tsresol).pad4();
    opts = true;
  }
  if (i.tsoffset !== undefined) {
    w.u16(14).u16(8).u64(BigInt(i.tsoffset));
    opts = true;
  }
  if (opts) w.u16(0).u16(0);
  return pcapngBlock(1, w.done(), bigEndian);
}

/** Timestamp units of `if_tsresol` byte `r` (undefined = 10^-6) for a time, minus the offset. */
function tsUnits(f: Frame, r: number | undefined, offset: number): bigint {
  const { sec, nsec } = frameTime(f);
  const s = BigInt(sec - offset);
  const res = r ?? 6;
  const k = BigInt(res & 0x7f);
  if (res & 0x80) {
    const per = 1n << k;
    return s * per + (BigInt(nsec) * per) / 1_000_000_000n;
  }
  const per = 10n ** k;
  return s * per + (BigInt(nsec) * per) / 1_000_000_000n;
}

/** A one-section pcapng file holding `frames`. */
export function writePcapng(frames: readonly Frame[], opts: PcapngOptions = {}): Buffer {
  const be = opts.bigEndian ?? false;
  const ifs = opts.interfaces ?? [{ linktype: 1 }];
  const parts: Buffer[] = [pcapngSectionHeader(be)];
  for (const i of ifs) parts.push(pcapngInterface(i, be));
  for (const f of frames) {
    const kind = f.block ?? opts.block ?? 'epb';
    const wirelen = f.wirelen ?? f.data.length;
    if (kind === 'spb') {
      parts.push(pcapngBlock(3, new ByteWriter(be).u32(wirelen).bytes(f.data).done(), be));
      continue;
    }
    const iface = f.iface ?? 0;
    const idesc = ifs[iface] ?? {};
    const units = tsUnits(f, idesc.tsresol, idesc.tsoffset ?? 0);
    const w = new ByteWriter(be);
    if (kind === 'epb') w.u32(iface);
    else w.u16(iface).u16(0);
    w.u32(Number(BigInt.asUintN(64, units) >> 32n))
      .u32(Number(BigInt.asUintN(32, units)))
      .u32(f.data.length)
      .u32(wirelen)
      .bytes(f.data);
    parts.push(pcapngBlock(kind === 'epb' ? 6 : 2, w.done(), be));
  }
  return Buffer.concat(parts);
}

/** An Ethernet II frame (zero MACs) around `payload` (default EtherType IPv4). */
export function ethernetFrame(payload: Uint8Array, etherType = 0x0800): Buffer {
  const h = Buffer.alloc(14);
  h.writeUInt16BE(etherType, 12);
  return Buffer.concat([h, Buffer.from(payload)]);
}

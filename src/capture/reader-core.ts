/**
 * Shared internals of the capture-file readers: the push-parser contract that
 * `pcap-file.ts` and `pcapng-file.ts` implement and `read.ts` drives, the size bounds,
 * the stable error codes and the byte readers.
 *
 * Bounds. A frame is delivered only if its captured length is at most MAX_CAPLEN
 * (262144, libpcap's MAXIMUM_SNAPLEN). A record or block that claims more than
 * MAX_RECORD_CLAIM (16 MiB) is an error: such a length is corruption, not traffic, and
 * we neither allocate for it nor skip blindly over it. Between the two, a packet record
 * is skipped (streamed past, never buffered) and counted as `capture.packet_too_large`.
 * The reader's buffer is the chunk size, grown at most to MAX_BUFFER so that one whole
 * record fits when the chunk is smaller than a record; memory never grows with file size.
 */
import type { Anomalies } from '../decode/anomalies';
import { CaptureError } from './source';

/** Largest captured length delivered to the callback (libpcap's MAXIMUM_SNAPLEN). */
export const MAX_CAPLEN = 262144;
/** Largest buffer the reader ever holds when the chunk is smaller: a record plus 64 KiB of headroom for pcapng options. */
export const MAX_BUFFER = MAX_CAPLEN + 65536;
/** A record or block claiming more than this is reported as corrupt (IPLOG_ERR_CAPTURE_RECORD_SIZE). */
export const MAX_RECORD_CLAIM = 16 * 1024 * 1024;
/**
 * The range of packet times iplog handles, in seconds since the epoch: 1970-01-01T00:00:00Z
 * to 2106-02-07T06:28:15Z (2^32 - 1), the range of the classic pcap format's seconds and
 * of a live clock. Deadlines drawn from packet time (scan and fragment timeouts, ban
 * expiry) then stay far inside what a four-digit ISO 8601 year (the JSON events' `time`,
 * up to 9999) and the text timestamp can show, and inside the doubles that count seconds
 * exactly. A packet stamped outside it (a pcapng timestamp past 2^53 s, a huge or
 * negative if_tsoffset, a resolution whose count overflows) is skipped and counted as
 * `capture.timestamp_out_of_range`; the packets around it are read as usual.
 */
export const MIN_TIME_SEC = 0;
export const MAX_TIME_SEC = 4294967295;

/** Default bytes read per chunk. */
export const DEFAULT_CHUNK = 1024 * 1024;

/** Stable error codes carried by CaptureError (never reused for another meaning). */
export const CAPTURE_ERR = {
  OPEN: 'IPLOG_ERR_CAPTURE_OPEN',
  READ: 'IPLOG_ERR_CAPTURE_READ',
  EMPTY: 'IPLOG_ERR_CAPTURE_EMPTY',
  MAGIC: 'IPLOG_ERR_CAPTURE_MAGIC',
  VERSION: 'IPLOG_ERR_CAPTURE_VERSION',
  TRUNCATED: 'IPLOG_ERR_CAPTURE_TRUNCATED',
  RECORD_SIZE: 'IPLOG_ERR_CAPTURE_RECORD_SIZE',
  PCAPNG_BLOCK: 'IPLOG_ERR_CAPTURE_PCAPNG_BLOCK',
  LINKTYPE: 'IPLOG_ERR_CAPTURE_LINKTYPE',
} as const;

export type CaptureErrorCode = (typeof CAPTURE_ERR)[keyof typeof CAPTURE_ERR];

/** `iplog: NAME: detail`, the one-line form of every reader error. */
export function captureError(name: string, detail: string, code: CaptureErrorCode): CaptureError {
  return new CaptureError(`iplog: ${name}: ${detail}`, code);
}

/**
 * Called when a link type becomes known: once for a pcap file (from its header), once per
 * Interface Description Block for pcapng (`iface` is the index within its section).
 * It may throw (e.g. a CaptureError for an unsupported link type) to stop the read.
 */
export type LinktypeHook = (linktype: number, iface: number) => void;

/** What a parser needs besides the bytes. */
export interface ParserContext {
  readonly name: string;
  readonly anomalies: Anomalies;
  readonly onLinktype: LinktypeHook | undefined;
}

/**
 * A push parser over a window `buf[pos, end)` of the file, where `base` is the file
 * offset of `buf[0]`. `parse` delivers every complete record in the window and returns
 * the position of the first one it could not finish. It then sets exactly one of:
 *  - `skip` > 0: discard that many bytes from the returned position (the driver streams
 *    past them, possibly across chunks, and resets `skip` to 0), or
 *  - `need`: bytes that must be contiguous at the returned position before parsing can
 *    go on; always greater than what was available and at most MAX_BUFFER.
 */
export interface RecordParser {
  readonly format: 'pcap' | 'pcapng';
  need: number;
  skip: number;
  frames: number;
  bytes: number;
  parse(buf: Buffer, pos: number, end: number, base: number): number;
  /** The error for a file that ends `have` bytes into the record at `offset`. */
  truncated(offset: number, have: number): CaptureError;
}

/** Unsigned 32-bit reads without exceptions (callers check lengths first). */
export function u32le(b: Buffer, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
}

export function u32be(b: Buffer, o: number): number {
  return b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

export function u32(b: Buffer, o: number, le: boolean): number {
  return le ? u32le(b, o) : u32be(b, o);
}

export function u16(b: Buffer, o: number, le: boolean): number {
  return le ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!;
}

/** `0x` and 8 hex digits. */
export function hex32(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

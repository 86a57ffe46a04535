/**
 * Entry point of the file readers: open a capture (a path, or `-` for standard input),
 * sniff its first four bytes and drive the pcap or pcapng push parser over it.
 *
 * Streaming: one buffer of `chunkSize` bytes (default 1 MiB) is reused for the whole
 * file. Files are read with synchronous `fs.readSync` into it (the fastest path); stdin
 * (or any async iterable of byte chunks) is copied into it chunk by chunk. After each
 * parse round the incomplete tail is moved to the front and `opts.between()` is awaited
 * before the next read. When one record is larger than the chunk, the buffer grows to
 * fit it, never beyond MAX_BUFFER (parsers never ask for more; larger records are
 * skipped or rejected, see `reader-core.ts`). So memory is bounded by
 * max(chunkSize, MAX_BUFFER), whatever the file size.
 *
 * Errors: every problem with the input is a CaptureError with a stable code and a
 * one-line message naming the file. A file cut inside a record first delivers every
 * complete record, then throws IPLOG_ERR_CAPTURE_TRUNCATED. Exceptions thrown by the
 * frame callback or by `between()` pass through unchanged.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isSupportedLinktype, linktypeName } from '../decode/link';
import type { Anomalies } from '../decode/anomalies';
import { PcapParser, isPcapMagic } from './pcap-file';
import { PCAPNG_MAGIC, PcapngParser } from './pcapng-file';
import {
  CAPTURE_ERR,
  DEFAULT_CHUNK,
  LinktypeHook,
  MAX_BUFFER,
  ParserContext,
  RecordParser,
  captureError,
  hex32,
  u32be,
} from './reader-core';
import { CaptureError, FrameHandler, ReadOptions, ReadSummary } from './source';

export { isSupportedLinktype, linktypeName } from '../decode/link';
export { CAPTURE_ERR, MAX_BUFFER, MAX_CAPLEN, MAX_RECORD_CLAIM, DEFAULT_CHUNK } from './reader-core';
export type { LinktypeHook } from './reader-core';

export interface CaptureReadOptions extends ReadOptions {
  /**
   * Fail fast with IPLOG_ERR_CAPTURE_LINKTYPE when the pcap header, or any pcapng
   * Interface Description Block, names a link type that `ipv4Offset` cannot decode.
   */
  strictLinktype?: boolean;
  /** Told each link type as it becomes known (pcap: at the header; pcapng: per IDB). May throw. */
  onLinktype?: LinktypeHook;
}

export interface CaptureSummary extends ReadSummary {
  /** Largest buffer the reader held, in bytes (bounded by max(chunkSize, MAX_BUFFER)). */
  maxBufferBytes: number;
}

/** How a reader names its input in messages: the path as given, or `stdin` for `-`. */
export function displayName(path: string): string {
  return path === '-' ? 'stdin' : path;
}

/** `iplog: NAME: unsupported link type 127 (IEEE802_11_RADIOTAP)`. */
export function unsupportedLinktypeError(name: string, linktype: number, iface?: number): CaptureError {
  const where = iface === undefined ? '' : ` on interface ${iface}`;
  return captureError(
    name,
    `unsupported link type ${linktype} (${linktypeName(linktype)})${where}`,
    CAPTURE_ERR.LINKTYPE,
  );
}

/**
 * Read a whole capture file, calling `onFrame` for every frame in file order.
 * `path` may be `-` for standard input.
 */
export async function readCapture(
  path: string,
  onFrame: FrameHandler,
  anomalies: Anomalies,
  opts: CaptureReadOptions = {},
): Promise<CaptureSummary> {
  const name = displayName(path);
  if (path === '-') return readCaptureStream(process.stdin, name, onFrame, anomalies, opts);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw captureError(name, `cannot open: ${describeSystemError(e)}`, CAPTURE_ERR.OPEN);
  }
  try {
    let isDir = false;
    try {
      isDir = fstatSync(fd).isDirectory();
    } catch {
      // fstat failing on an open fd is unheard of; let the read report it
    }
    if (isDir) throw captureError(name, 'cannot open: Is a directory', CAPTURE_ERR.OPEN);
    const src: ByteSource = {
      read(buf, at, len) {
        try {
          return readSync(fd, buf, at, len, null);
        } catch (e) {
          throw captureError(name, `read error: ${describeSystemError(e)}`, CAPTURE_ERR.READ);
        }
      },
    };
    return await drive(src, name, onFrame, anomalies, opts);
  } finally {
    closeSync(fd);
  }
}

/**
 * Read a capture from any async iterable of byte chunks (stdin, a socket, a test's
 * `Readable.from([...])`). `name` is used in messages.
 */
export async function readCaptureStream(
  stream: AsyncIterable<Uint8Array | string>,
  name: string,
  onFrame: FrameHandler,
  anomalies: Anomalies,
  opts: CaptureReadOptions = {},
): Promise<CaptureSummary> {
  const it = stream[Symbol.asyncIterator]();
  let cur: Uint8Array | null = null;
  let curOff = 0;
  let done = false;
  const src: ByteSource = {
    async read(buf, at, len) {
      while (cur === null || curOff >= cur.length) {
        if (done) return 0;
        let r: IteratorResult<Uint8Array | string>;
        try {
          r = await it.next();
        } catch (e) {
          throw captureError(name, `read error: ${describeSystemError(e)}`, CAPTURE_ERR.READ);
        }
        if (r.done) {
          done = true;
          return 0;
        }
        cur = typeof r.value === 'string' ? Buffer.from(r.value, 'latin1') : r.value;
        curOff = 0;
      }
      const n = Math.min(len, cur.length - curOff);
      buf.set(cur.subarray(curOff, curOff + n), at);
      curOff += n;
      return n;
    },
  };
  try {
    return await drive(src, name, onFrame, anomalies, opts);
  } finally {
    // stop the producer early on error (closes our end of stdin's iterator)
    if (!done && typeof it.return === 'function') {
      try {
        await it.return();
      } catch {
        // already failed; the original error matters more
      }
    }
  }
}

interface ByteSource {
  /** Read up to `len` bytes into `buf` at `at`; 0 at end of input. */
  read(buf: Buffer, at: number, len: number): number | Promise<number>;
}

async function drive(
  src: ByteSource,
  name: string,
  onFrame: FrameHandler,
  anomalies: Anomalies,
  opts: CaptureReadOptions,
): Promise<CaptureSummary> {
  const chunk = clampChunk(opts.chunkSize);
  let buf = Buffer.allocUnsafe(chunk);
  let maxBuf = buf.length;
  let end = 0;

  // Sniff: the first four bytes decide the format.
  while (end < 4) {
    const n = await src.read(buf, end, buf.length - end);
    if (n === 0) break;
    end += n;
  }
  if (end === 0) throw captureError(name, 'empty file', CAPTURE_ERR.EMPTY);
  if (end < 4) {
    throw captureError(name, `not a pcap or pcapng file (only ${end} byte${end === 1 ? '' : 's'})`, CAPTURE_ERR.MAGIC);
  }
  const parser = makeParser(u32be(buf, 0), name, onFrame, anomalies, opts);

  let pos = 0;
  let base = 0; // file offset of buf[0]
  let skip = 0; // bytes still to discard (a record we stream past)
  let skipStart = 0;
  let eof = false;
  const between = opts.between;
  for (;;) {
    if (skip > 0) {
      const k = Math.min(skip, end - pos);
      pos += k;
      skip -= k;
    }
    if (skip === 0) {
      pos = parser.parse(buf, pos, end, base);
      if (parser.skip > 0) {
        skip = parser.skip;
        parser.skip = 0;
        skipStart = base + pos;
        continue;
      }
    }
    if (eof) {
      if (skip > 0) throw parser.truncated(skipStart, base + end - skipStart);
      if (pos < end) throw parser.truncated(base + pos, end - pos);
      break;
    }
    // Move the incomplete tail to the front.
    if (pos > 0) {
      if (pos < end) buf.copyWithin(0, pos, end);
      base += pos;
      end -= pos;
      pos = 0;
    }
    const need = skip > 0 ? 0 : parser.need;
    if (need > buf.length) {
      if (need > MAX_BUFFER) throw new Error(`internal: parser asked for ${need} bytes`);
      const grown = Buffer.allocUnsafe(need);
      buf.copy(grown, 0, 0, end);
      buf = grown;
      if (buf.length > maxBuf) maxBuf = buf.length;
    }
    if (end >= buf.length) throw new Error('internal: reader buffer full without progress');
    if (between !== undefined) await between(base + end);
    const n = await src.read(buf, end, buf.length - end);
    if (n === 0) eof = true;
    else end += n;
  }
  return { frames: parser.frames, bytes: parser.bytes, format: parser.format, maxBufferBytes: maxBuf };
}

function makeParser(
  magic: number,
  name: string,
  onFrame: FrameHandler,
  anomalies: Anomalies,
  opts: CaptureReadOptions,
): RecordParser {
  const user = opts.onLinktype;
  let hook: LinktypeHook | undefined = user;
  if (opts.strictLinktype) {
    hook = (linktype, iface) => {
      if (!isSupportedLinktype(linktype)) {
        throw unsupportedLinktypeError(name, linktype, magic === PCAPNG_MAGIC ? iface : undefined);
      }
      if (user !== undefined) user(linktype, iface);
    };
  }
  const ctx: ParserContext = { name, anomalies, onLinktype: hook };
  if (magic === PCAPNG_MAGIC) return new PcapngParser(ctx, onFrame);
  if (isPcapMagic(magic)) return new PcapParser(ctx, onFrame);
  const hint = magic >>> 16 === 0x1f8b ? '; it looks gzip-compressed' : '';
  throw captureError(name, `not a pcap or pcapng file (magic ${hex32(magic)}${hint})`, CAPTURE_ERR.MAGIC);
}

function clampChunk(n: number | undefined): number {
  if (n === undefined || !Number.isFinite(n)) return DEFAULT_CHUNK;
  // at least one pcapng block header; at most 64 MiB
  return Math.min(Math.max(Math.floor(n), 16), 64 * 1024 * 1024);
}

// strerror(3) wording for the errors a user can cause.
const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
  EMFILE: 'Too many open files',
  EIO: 'Input/output error',
  ENXIO: 'No such device or address',
};

function describeSystemError(e: unknown): string {
  if (e !== null && typeof e === 'object') {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && Object.prototype.hasOwnProperty.call(STRERROR, code)) return STRERROR[code]!;
    const msg = (e as { message?: unknown }).message;
    if (typeof msg === 'string') return msg;
  }
  return String(e);
}

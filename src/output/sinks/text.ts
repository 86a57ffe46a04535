/**
 * The stdout and log-file sink of iplog 2.2.3 (iplog_syslog.c mysyslog()):
 * `Mmm dd HH:MM:SS text`, with its repeat compression exactly as the original does it:
 *
 *  - a text different from the last one first flushes `last message repeated R times`
 *    (always "times") when R > 0, then is written; the deadline E becomes now + 60;
 *  - the same text again only counts (R += 1) — but if now >= E and R > 0 at that moment,
 *    the repeat line is written first and the memory of the last text is cleared, so
 *    the next occurrence prints "repeated 1 times" and the text once more;
 *  - pending repeats are written when the sink closes (end of replay, restart).
 *
 * Output is buffered in memory and written with writeSync in large pieces (flushed at
 * every chunk boundary of the reader and at close), so one write per many lines.
 */
import { writeSync, openSync, closeSync } from 'node:fs';
import { stamp } from '../timestamp';
import type { LineSink } from './sink';
import type { IplogEvent } from '../event';
import { ByteWriter } from '../bytes';
import { CONN_LINE_MAX, lineText, writeConnectionV4, type RoleHosts } from '../lines';
import { OutputFaults, type OutputState } from './faults';

export { BrokenPipeError } from './faults';

const FLUSH_AT = 1 << 16;

/** Where a ChunkBuffer's pieces go: text (tests, callbacks) or bytes (a file descriptor). */
type Emit = { text: (chunk: string) => void; bytes: null } | { text: null; bytes: (chunk: Buffer, len: number) => void };

/**
 * Text and bytes in, large pieces out: the buffering shared by the text and JSON sinks.
 * One reused byte buffer (output/bytes.ts) that lines are written into; `emit` receives
 * the pieces (see fdWriter); `onClose` runs once, after the last piece.
 */
export class ChunkBuffer {
  /**
   * The pending output: text (the text sink appends strings, which V8 joins without
   * copying and encodes once per piece) or bytes (the JSON sink writes its objects into
   * `w` directly, see bytes()); never both at once, so the order is kept.
   */
  private pending = '';
  private readonly w = new ByteWriter(FLUSH_AT + 4096);
  private closed = false;
  private readonly to: Emit;
  /**
   * Called before the byte buffer's content is handed out and the buffer reused (a sink
   * that keeps a reference into it, the text sink's last line, copies what it needs).
   */
  beforeReuse: (() => void) | null = null;

  constructor(
    emit: ((chunk: string) => void) | { bytes: (chunk: Buffer, len: number) => void },
    private readonly onClose: () => void = () => {},
  ) {
    this.to = typeof emit === 'function' ? { text: emit, bytes: null } : { text: null, bytes: emit.bytes };
  }

  /**
   * Standard output (fd 1). Write errors go to `faults` (faults.ts): without it, the
   * replay rules (a closed pipe throws BrokenPipeError).
   */
  static stdout(faults?: OutputFaults): ChunkBuffer {
    return new ChunkBuffer({ bytes: fdBytesWriter(1, (faults ?? new OutputFaults('replay')).output('stdout')) });
  }

  /** A file opened for appending, mode 0644, as -l does (throws the open error). */
  static file(path: string, faults?: OutputFaults): ChunkBuffer {
    const fd = openSync(path, 'a', 0o644);
    return new ChunkBuffer({ bytes: fdBytesWriter(fd, (faults ?? new OutputFaults('replay')).output(path)) }, () => closeSync(fd));
  }

  /** In memory (tests, benchmarks). */
  static memory(): { buffer: ChunkBuffer; text: () => string } {
    let acc = '';
    return { buffer: new ChunkBuffer((c) => (acc += c)), text: () => acc };
  }

  add(text: string): void {
    if (this.w.pos > 0) {
      this.w.str(text);
      if (this.w.pos >= FLUSH_AT) this.flush();
      return;
    }
    this.pending += text;
    if (this.pending.length >= FLUSH_AT) this.flush();
  }

  /** The byte buffer to write into directly; call added() after. */
  bytes(): ByteWriter {
    if (this.pending.length > 0) {
      const w = this.w;
      w.room(this.pending.length * 3);
      w.pos += w.buf.write(this.pending, w.pos, 'utf8');
      this.pending = '';
    }
    return this.w;
  }

  /** After a sink wrote into bytes() directly. */
  added(): void {
    if (this.w.pos >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.pending.length > 0) {
      const chunk = this.pending;
      this.pending = '';
      if (this.to.text !== null) this.to.text(chunk);
      else {
        const data = Buffer.from(chunk, 'utf8');
        this.to.bytes(data, data.length);
      }
      return;
    }
    const w = this.w;
    if (w.pos === 0) return;
    if (this.beforeReuse !== null) this.beforeReuse();
    const n = w.pos;
    w.reset();
    if (this.to.bytes !== null) this.to.bytes(w.buf, n);
    else this.to.text(w.buf.toString('utf8', 0, n));
  }

  /** Flushes and closes once; later calls do nothing. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.flush();
    } finally {
      this.onClose();
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

/** What the text sink remembers of the last line (repeat compression): nothing, a string, bytes. */
const LAST_NONE = 0;
const LAST_TEXT = 1;
const LAST_BYTES = 2;

export class TextSink implements LineSink {
  /**
   * The last line's text, for repeat compression: a string (`last`, '' when forgotten) or,
   * after a line of the direct path, its bytes (`lastLen` bytes of `lastArr` at `lastOff`:
   * where it was written in the output buffer, copied aside before that is reused); turned
   * into the other form only when a line of the other path follows.
   */
  private last = '';
  private lastIs = LAST_NONE;
  private lastArr: Buffer = Buffer.alloc(0);
  private lastOff = 0;
  private lastLen = 0;
  private readonly lastAside = Buffer.alloc(CONN_LINE_MAX);
  private times = 0;
  private expire = 0;
  /** stamp(stampSec) as bytes */
  private stampSec = NaN;
  private stampView: Uint8Array = new Uint8Array(0);
  private readonly out: ChunkBuffer;

  /** `emit` receives framed text in large pieces (see fdWriter for files and stdout). */
  constructor(emit: ((chunk: string) => void) | ChunkBuffer, onClose?: () => void) {
    this.out = emit instanceof ChunkBuffer ? emit : new ChunkBuffer(emit, onClose);
    this.out.beforeReuse = () => this.keepLast();
  }

  /** Standard output (fd 1). */
  static stdout(faults?: OutputFaults): TextSink {
    return new TextSink(ChunkBuffer.stdout(faults));
  }

  /** A log file opened for appending, mode 0644, as -l does. */
  static openFile(path: string, faults?: OutputFaults): TextSink {
    return new TextSink(ChunkBuffer.file(path, faults));
  }

  /** Collects the framed output in memory (tests, benchmarks). */
  static memory(): { sink: TextSink; text: () => string } {
    const m = ChunkBuffer.memory();
    return { sink: new TextSink(m.buffer), text: m.text };
  }

  /**
   * The line of `ev` (the line catalogue's text). Text lines stay strings: V8 joins them
   * without copying and each 64 KiB piece is encoded once, which measured faster than
   * writing them byte by byte from JavaScript (docs/benchmarks.md).
   */
  line(now: number, ev: IplogEvent, hosts: RoleHosts, logDest: boolean): void {
    this.write(now, lineText(ev, hosts, logDest));
  }

  /**
   * The direct path (LineSink.connectionV4): the catalogue writes the line's bytes in
   * place in the output buffer, after room for the stamp; a repeat of the last line is
   * only counted (the bytes are left behind the end), a new line gets its stamp and
   * newline around it and stays the last line where it is. No string is made.
   */
  connectionV4(now: number, src: number, sport: number, dst: number, dport: number, rawFlags: number, logDest: boolean): void {
    if (now !== this.stampSec) {
      this.stampView = Buffer.from(stamp(now), 'utf8');
      this.stampSec = now;
    }
    const sv = this.stampView;
    const w = this.out.bytes();
    w.room(sv.length + CONN_LINE_MAX + 2);
    const o = w.buf;
    const start = w.pos;
    const t = start + sv.length + 1;
    const end = writeConnectionV4(o, t, src, sport, dst, dport, logDest);
    const n = end - t;
    let same = false;
    if (this.lastIs === LAST_BYTES) {
      if (n === this.lastLen) {
        // from the end: lines of a flood differ in the source's port and address
        const l = this.lastArr;
        const d = this.lastOff - t;
        let i = end - 1;
        while (i >= t && o[i] === l[i + d]) i--;
        same = i < t;
      }
    } else if (this.lastIs === LAST_TEXT) same = o.toString('utf8', t, end) === this.last;
    if (same) {
      this.repeated(now);
      return;
    }
    if (this.times > 0) {
      // the repeat count goes first, where this line was written: the line again after it
      this.line1(now, `last message repeated ${this.times} times`);
      this.times = 0;
      this.connectionV4(now, src, sport, dst, dport, rawFlags, logDest);
      return;
    }
    for (let i = 0; i < sv.length; i++) o[start + i] = sv[i]!;
    o[t - 1] = 0x20;
    o[end] = 0x0a;
    w.pos = end + 1;
    this.expire = now + 60;
    this.lastArr = o;
    this.lastOff = t;
    this.lastLen = n;
    this.lastIs = LAST_BYTES;
    this.last = '';
    this.out.added();
  }

  /** The output buffer is about to be reused: the last line's bytes, if they are there, are copied aside. */
  private keepLast(): void {
    if (this.lastIs === LAST_BYTES && this.lastArr !== this.lastAside) {
      this.lastArr.copy(this.lastAside, 0, this.lastOff, this.lastOff + this.lastLen);
      this.lastArr = this.lastAside;
      this.lastOff = 0;
    }
  }

  write(now: number, text: string): void {
    if (this.lastIs === LAST_BYTES) {
      this.last = this.lastArr.toString('utf8', this.lastOff, this.lastOff + this.lastLen);
      this.lastIs = LAST_TEXT;
    }
    if (text === this.last) {
      this.repeated(now);
      return;
    }
    if (this.times > 0) {
      this.line1(now, `last message repeated ${this.times} times`);
      this.times = 0;
    }
    this.line1(now, text);
    this.expire = now + 60;
    this.last = text;
    this.lastIs = LAST_TEXT;
  }

  /** The same text as the last line: counted; once its 60 s are past, the count is written and the text forgotten. */
  private repeated(now: number): void {
    if (now >= this.expire && this.times > 0) {
      this.line1(now, `last message repeated ${this.times} times`);
      this.last = '';
      this.lastIs = LAST_NONE;
      this.times = 0;
      this.expire = 0;
    }
    this.times++;
  }

  private line1(now: number, text: string): void {
    this.out.add(`${stamp(now)} ${text}\n`);
  }

  flush(): void {
    this.out.flush();
  }

  close(now: number): void {
    if (this.out.isClosed) return;
    if (this.times > 0) {
      this.line1(now, `last message repeated ${this.times} times`);
      this.times = 0;
    }
    this.out.close();
  }
}

/**
 * Writes whole chunks to a file descriptor; EAGAIN waits. Other errors go to `state`
 * (faults.ts), which counts and reports them and, by the run's rules, drops the rest of
 * the chunk or throws (a replay). An output given up (closed stdout) or failing in a
 * replay drops what it is given, counted.
 */
export function fdWriter(fd: number, state: OutputState): (chunk: string) => void {
  const write = fdBytesWriter(fd, state);
  return (chunk) => {
    const data = Buffer.from(chunk, 'utf8');
    write(data, data.length);
  };
}

/** fdWriter for bytes: the first `len` bytes of `data` (which the caller reuses afterwards). */
export function fdBytesWriter(fd: number, state: OutputState): (data: Buffer, len: number) => void {
  return (data, len) => {
    if (state.closed) {
      state.dropped(data.toString('utf8', 0, len));
      return;
    }
    // a line cut by an earlier failure is ended first, so the next one starts clean
    const prefix = state.cutLine ? 1 : 0;
    if (prefix === 1) {
      data = Buffer.concat([NEWLINE, data.subarray(0, len)]);
      len = data.length;
    }
    let off = 0;
    while (off < len) {
      try {
        off += writeSync(fd, data, off, len - off);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') continue; // a non-blocking pipe: wait for room
        // the pending newline still pending if nothing went out; failed() marks a new cut
        state.cutLine = prefix === 1 && off === 0;
        state.failed(e, data.toString('utf8', prefix, len), Math.max(0, off - prefix));
        return;
      }
    }
    state.cutLine = false;
    state.succeeded();
  };
}

const NEWLINE = Buffer.from('\n');

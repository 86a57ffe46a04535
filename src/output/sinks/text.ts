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
import { OutputFaults, type OutputState } from './faults';

export { BrokenPipeError } from './faults';

const FLUSH_AT = 1 << 16;

/**
 * Text in, large pieces out: the buffering shared by the text and JSON sinks. `emit`
 * receives the pieces (see fdWriter); `onClose` runs once, after the last piece.
 */
export class ChunkBuffer {
  private pending = '';
  private closed = false;

  constructor(
    private readonly emit: (chunk: string) => void,
    private readonly onClose: () => void = () => {},
  ) {}

  /**
   * Standard output (fd 1). Write errors go to `faults` (faults.ts): without it, the
   * replay rules (a closed pipe throws BrokenPipeError).
   */
  static stdout(faults?: OutputFaults): ChunkBuffer {
    return new ChunkBuffer(fdWriter(1, (faults ?? new OutputFaults('replay')).output('stdout')));
  }

  /** A file opened for appending, mode 0644, as -l does (throws the open error). */
  static file(path: string, faults?: OutputFaults): ChunkBuffer {
    const fd = openSync(path, 'a', 0o644);
    return new ChunkBuffer(fdWriter(fd, (faults ?? new OutputFaults('replay')).output(path)), () => closeSync(fd));
  }

  /** In memory (tests, benchmarks). */
  static memory(): { buffer: ChunkBuffer; text: () => string } {
    let acc = '';
    return { buffer: new ChunkBuffer((c) => (acc += c)), text: () => acc };
  }

  add(text: string): void {
    this.pending += text;
    if (this.pending.length >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const chunk = this.pending;
    this.pending = '';
    this.emit(chunk);
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

export class TextSink implements LineSink {
  private last = '';
  private times = 0;
  private expire = 0;
  private readonly out: ChunkBuffer;

  /** `emit` receives framed text in large pieces (see fdWriter for files and stdout). */
  constructor(emit: ((chunk: string) => void) | ChunkBuffer, onClose?: () => void) {
    this.out = emit instanceof ChunkBuffer ? emit : new ChunkBuffer(emit, onClose);
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

  write(now: number, text: string): void {
    if (text === this.last) {
      if (now >= this.expire && this.times > 0) {
        this.line(now, `last message repeated ${this.times} times`);
        this.last = '';
        this.times = 0;
        this.expire = 0;
      }
      this.times++;
      return;
    }
    if (this.times > 0) {
      this.line(now, `last message repeated ${this.times} times`);
      this.times = 0;
    }
    this.line(now, text);
    this.expire = now + 60;
    this.last = text;
  }

  private line(now: number, text: string): void {
    this.out.add(`${stamp(now)} ${text}\n`);
  }

  flush(): void {
    this.out.flush();
  }

  close(now: number): void {
    if (this.out.isClosed) return;
    if (this.times > 0) {
      this.line(now, `last message repeated ${this.times} times`);
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
  return (chunk) => {
    if (state.closed) {
      state.dropped(chunk);
      return;
    }
    // a line cut by an earlier failure is ended first, so the next one starts clean
    const prefix = state.cutLine ? 1 : 0;
    const data = Buffer.from(prefix ? '\n' + chunk : chunk, 'utf8');
    let off = 0;
    while (off < data.length) {
      try {
        off += writeSync(fd, data, off, data.length - off);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') continue; // a non-blocking pipe: wait for room
        // the pending newline still pending if nothing went out; failed() marks a new cut
        state.cutLine = prefix === 1 && off === 0;
        state.failed(e, chunk, Math.max(0, off - prefix));
        return;
      }
    }
    state.cutLine = false;
    state.succeeded();
  };
}

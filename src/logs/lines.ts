/**
 * Bytes → lines, for the file follower and the replay reader. A chunk is decoded once up
 * to its last newline (UTF-8; invalid bytes become U+FFFD) and cut into lines by index;
 * what follows the last newline waits for the rest of its line (a partial last line is
 * never matched until it is complete, or until the caller says the file is done).
 *
 * Lines longer than `maxLine` bytes are dropped whole and counted (`overlong`): a rule
 * never sees a cut line (a cut could make it accuse the wrong address), and a line
 * without end cannot make the buffer grow: past `maxLine` its bytes are skipped up to
 * the next newline. A CR before the newline is removed.
 */
export const DEFAULT_MAX_LINE = 16384;

export class LineSplitter {
  /** bytes of an incomplete last line */
  private partial: Buffer | null = null;
  /** inside an overlong line: skip to the next newline (kept in the follower's state file) */
  skipping = false;
  overlong = 0;
  /** bytes taken (consumed up to the end of the last complete or dropped line) */
  consumed = 0;

  constructor(
    private readonly onLine: (line: string) => void,
    readonly maxLine = DEFAULT_MAX_LINE,
  ) {}

  /** Bytes held for an incomplete line. */
  get pendingBytes(): number {
    return this.partial?.length ?? 0;
  }

  push(chunk: Buffer): void {
    const buf = chunk;
    let start = 0;
    if (this.skipping) {
      const nl = buf.indexOf(10);
      if (nl < 0) {
        this.consumed += buf.length;
        return;
      }
      this.skipping = false;
      this.consumed += nl + 1;
      start = nl + 1;
    } else if (this.partial !== null) {
      const nl = buf.indexOf(10);
      if (nl < 0) {
        if (this.partial.length + buf.length > this.maxLine) {
          this.overlong++;
          this.consumed += this.partial.length + buf.length;
          this.partial = null;
          this.skipping = true;
        } else {
          this.partial = Buffer.concat([this.partial, buf]);
        }
        return;
      }
      const head = this.partial;
      this.partial = null;
      if (head.length + nl > this.maxLine) this.overlong++;
      else this.emit(Buffer.concat([head, buf.subarray(0, nl)]).toString('utf8'));
      this.consumed += head.length + nl + 1;
      start = nl + 1;
    }
    const last = buf.lastIndexOf(10);
    if (last >= start) {
      const text = buf.toString('utf8', start, last + 1);
      this.consumed += last + 1 - start;
      let p = 0;
      const n = text.length;
      while (p < n) {
        const nl = text.indexOf('\n', p);
        // a line's UTF-8 length is at least its length in UTF-16 units
        if (nl - p > this.maxLine || (nl - p > this.maxLine / 3 && Buffer.byteLength(text.slice(p, nl)) > this.maxLine)) this.overlong++;
        else this.emit(text.slice(p, nl));
        p = nl + 1;
      }
      start = last + 1;
    }
    if (start < buf.length) {
      const rest = buf.subarray(start);
      if (rest.length > this.maxLine) {
        this.overlong++;
        this.consumed += rest.length;
        this.skipping = true;
      } else {
        this.partial = Buffer.from(rest); // a copy: the caller reuses its buffer
      }
    }
  }

  /** The file is done (rotated away, end of a replay): its last line, even without newline. */
  end(): void {
    if (this.partial !== null && this.partial.length > 0) {
      this.consumed += this.partial.length;
      this.emit(this.partial.toString('utf8'));
    }
    this.partial = null;
    this.skipping = false;
  }

  /** Forget everything held (a truncated or replaced file). */
  reset(): void {
    this.partial = null;
    this.skipping = false;
  }

  private emit(line: string): void {
    const n = line.length;
    this.onLine(n > 0 && line.charCodeAt(n - 1) === 13 ? line.slice(0, n - 1) : line);
  }
}

/**
 * A growable byte buffer that text is written into directly (issue 10): ASCII and UTF-8
 * strings, unsigned and signed integers and dotted quads as ASCII digits without making
 * a string, bytes copied from another writer. The line catalogue (lines.ts writeLine())
 * writes iplog lines into one, the text and JSON sinks keep one each and reuse it for
 * every line, so a line costs no string building, no flattening and no conversion.
 *
 * `exotic` is set once a string with a character above U+007F was written since the last
 * reset: the bytes are then still right (UTF-8), but a caller that compares or escapes
 * the text exactly as a JavaScript string would (lone surrogates) takes the string path.
 */
export class ByteWriter {
  buf: Buffer;
  pos = 0;
  exotic = false;

  constructor(size = 4096) {
    this.buf = Buffer.allocUnsafe(size);
  }

  reset(): void {
    this.pos = 0;
    this.exotic = false;
  }

  /** Room for `n` more bytes (grows by doubling; a line is short, so rarely). */
  room(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    const nb = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(nb, 0, 0, this.pos);
    this.buf = nb;
  }

  byte(c: number): void {
    if (this.pos >= this.buf.length) this.grow(1);
    this.buf[this.pos++] = c;
  }

  /** Any string, as UTF-8. */
  str(s: string): void {
    const n = s.length;
    if (this.pos + n * 3 > this.buf.length) this.grow(n * 3);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.exotic = true;
        this.pos = p + b.write(i === 0 ? s : s.substring(i), p, 'utf8');
        return;
      }
      b[p++] = c;
    }
    this.pos = p;
  }

  /** A non-negative integer below 2^53 in decimal (no string is made). */
  uint(n: number): void {
    if (n < 10) {
      this.byte(48 + n);
      return;
    }
    let digits = 1;
    for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
    if (this.pos + digits > this.buf.length) this.grow(digits);
    const b = this.buf;
    let p = this.pos + digits;
    this.pos = p;
    while (n >= 10) {
      const q = Math.floor(n / 10);
      b[--p] = 48 + (n - q * 10);
      n = q;
    }
    b[--p] = 48 + n;
  }

  /** A number as String(n) writes it: integers by digits, anything else through String(). */
  num(n: number): void {
    if (Number.isSafeInteger(n)) {
      if (n < 0) {
        this.byte(45);
        this.uint(-n);
      } else this.uint(n);
    } else this.str(String(n));
  }

  /** A host-order IPv4 address (uint32) as a dotted quad. */
  ipv4(a: number): void {
    this.room(15);
    this.octet((a >>> 24) & 255);
    this.buf[this.pos++] = 46;
    this.octet((a >>> 16) & 255);
    this.buf[this.pos++] = 46;
    this.octet((a >>> 8) & 255);
    this.buf[this.pos++] = 46;
    this.octet(a & 255);
  }

  private octet(o: number): void {
    const b = this.buf;
    if (o >= 100) {
      const h = (o / 100) | 0;
      b[this.pos++] = 48 + h;
      o -= h * 100;
      const t = (o / 10) | 0;
      b[this.pos++] = 48 + t;
      b[this.pos++] = 48 + o - t * 10;
    } else if (o >= 10) {
      const t = (o / 10) | 0;
      b[this.pos++] = 48 + t;
      b[this.pos++] = 48 + o - t * 10;
    } else b[this.pos++] = 48 + o;
  }

  /** Bytes [start, end) of another buffer. */
  bytes(src: Buffer, start: number, end: number): void {
    const n = end - start;
    if (this.pos + n > this.buf.length) this.grow(n);
    src.copy(this.buf, this.pos, start, end);
    this.pos += n;
  }

  /** The text written so far (tests, rare paths). */
  toString(): string {
    return this.buf.toString('utf8', 0, this.pos);
  }
}

// ---------------------------------------------------------------- raw writes at a position
//
// The direct line path (issue 10: lines.ts writeConnectionV4(), the sinks' connection())
// writes into a buffer known to have room, at a position, and returns the new position:
// no object, no bounds growth, no string.

/** Digits of 0..255: [length, d0, d1, d2] per octet. */
const OCTETS = new Uint8Array(256 * 4);
for (let o = 0; o < 256; o++) {
  const s = String(o);
  OCTETS[o * 4] = s.length;
  for (let i = 0; i < s.length; i++) OCTETS[o * 4 + 1 + i] = s.charCodeAt(i);
}

/** One octet's digits at `p` (three bytes are written, its length counted; `b` needs 3 bytes of room). */
function putOctet(b: Uint8Array, p: number, o: number): number {
  const i = o << 2;
  b[p] = OCTETS[i + 1]!;
  b[p + 1] = OCTETS[i + 2]!;
  b[p + 2] = OCTETS[i + 3]!;
  return p + OCTETS[i]!;
}

/** A host-order IPv4 address as a dotted quad at `p` (room: 16 bytes). */
export function putQuad(b: Uint8Array, p: number, a: number): number {
  p = putOctet(b, p, (a >>> 24) & 255);
  b[p++] = 46;
  p = putOctet(b, p, (a >>> 16) & 255);
  b[p++] = 46;
  p = putOctet(b, p, (a >>> 8) & 255);
  b[p++] = 46;
  return putOctet(b, p, a & 255);
}

/** A non-negative integer below 2^31 in decimal at `p` (room: 10 bytes). */
export function putUint(b: Uint8Array, p: number, n: number): number {
  let digits = 1;
  for (let t = n; t >= 10; t = (t / 10) | 0) digits++;
  const end = p + digits;
  let q = end;
  while (n >= 10) {
    const d = (n / 10) | 0;
    b[--q] = 48 + n - d * 10;
    n = d;
  }
  b[--q] = 48 + n;
  return end;
}

/**
 * The bytes of `s` at `p` (room: s.length): a short piece by a loop, a longer one by
 * TypedArray set() (a memory copy; its call costs about what a loop of 16 bytes does).
 */
export function putBytes(b: Uint8Array, p: number, s: Uint8Array): number {
  const n = s.length;
  if (n > 16) b.set(s, p);
  else for (let i = 0; i < n; i++) b[p + i] = s[i]!;
  return p + n;
}

/** ASCII text as bytes (constants of the direct path). */
export function ascii(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

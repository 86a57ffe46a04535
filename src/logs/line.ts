/**
 * The parts of a log line the rules need, found without copying the line: the syslog
 * header (time, program) and the start of the message, and the conversion of the time
 * texts that logs carry into seconds since the epoch.
 *
 * Syslog headers, as rsyslog, syslog-ng and busybox write files:
 *   `Dec  5 07:49:21 host prog[pid]: message`                      (RFC 3164 style, local time, no year)
 *   `2026-12-05T07:49:21.123456+01:00 host prog[pid]: message`     (RFC 3339, "high precision")
 * The program is what comes before `[pid]:` or `:`.
 *
 * The year of an RFC 3164 time is not in the line. The rule (docs/log-rules.md "Years"):
 * with `--log-year Y`, Y is the year of the file's first stamped line, and the year goes
 * up by one each time the month goes back by six or more (December → January); without
 * it, a stamp is placed in the year of the file's modification time, or the year before
 * if that would put it more than a day after the modification time (a log is written
 * before its file's mtime). Times are local time (the TZ environment variable).
 */

export const MONTHS: Readonly<Record<string, number>> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};

/** Where the parts of one syslog line are (reused for every line: no allocation). */
export class Header {
  ok = false;
  /** 0 = RFC 3164 time, 1 = RFC 3339 time */
  timeKind = 0;
  timeStart = 0;
  timeEnd = 0;
  progStart = 0;
  progEnd = 0;
  msgStart = 0;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Parse the syslog header of `line` into `h`; h.ok = false when it has none. */
export function parseHeader(line: string, h: Header): void {
  h.ok = false;
  const n = line.length;
  let p: number;
  if (n > 16 && line.charCodeAt(3) === 32 && line.charCodeAt(6) === 32 && line.charCodeAt(9) === 58 && line.charCodeAt(12) === 58 && line.charCodeAt(15) === 32) {
    h.timeKind = 0;
    h.timeStart = 0;
    h.timeEnd = 15;
    p = 16;
  } else if (n > 20 && isDigit(line.charCodeAt(0)) && line.charCodeAt(4) === 45 && line.charCodeAt(10) === 84) {
    const sp = line.indexOf(' ', 19);
    if (sp < 0) return;
    h.timeKind = 1;
    h.timeStart = 0;
    h.timeEnd = sp;
    p = sp + 1;
  } else return;
  // host
  const hostEnd = line.indexOf(' ', p);
  if (hostEnd < 0) return;
  p = hostEnd + 1;
  // program: up to '[' or ':'
  let q = p;
  while (q < n) {
    const c = line.charCodeAt(q);
    if (c === 91 /* [ */ || c === 58 /* : */ || c === 32) break;
    q++;
  }
  if (q === p || q >= n) return;
  h.progStart = p;
  h.progEnd = q;
  if (line.charCodeAt(q) === 91) {
    const close = line.indexOf(']', q);
    if (close < 0) return;
    q = close + 1;
  }
  if (line.charCodeAt(q) !== 58) return;
  q++;
  if (line.charCodeAt(q) === 32) q++;
  h.msgStart = q;
  h.ok = true;
}

/** Years of RFC 3164 times (see the file comment). */
export class SyslogYear {
  private year: number;
  private lastMon = -1;
  constructor(
    private readonly mode: 'given' | 'mtime' | 'now',
    year: number,
    /** seconds: the file's mtime (mode mtime) */
    private readonly anchor = 0,
  ) {
    this.year = year;
  }

  static given(year: number): SyslogYear {
    return new SyslogYear('given', year);
  }

  static fromMtime(mtimeSec: number): SyslogYear {
    return new SyslogYear('mtime', new Date(mtimeSec * 1000).getFullYear(), mtimeSec);
  }

  /** per call site: the minute of the last stamp resolved, and its epoch seconds (lines come in order) */
  private readonly memoKey = [-1, -1];
  private readonly memoSec = [0, 0];

  /** Epoch seconds of month `mon` (0-11), day, time in local time. */
  resolve(mon: number, day: number, h: number, mi: number, s: number): number {
    if (this.mode === 'given') {
      if (this.lastMon >= 0 && this.lastMon - mon >= 6) this.year++;
      this.lastMon = mon;
      return this.minute(0, this.year, mon, day, h, mi) + s;
    }
    const t = this.minute(0, this.year, mon, day, h, mi) + s;
    if (this.mode === 'mtime' && t > this.anchor + 86400) return this.minute(1, this.year - 1, mon, day, h, mi) + s;
    return t;
  }

  /**
   * Epoch seconds of the start of that minute, local time (a time zone's offset changes on
   * a whole minute, so the seconds add): one Date computation per minute of log, not per line.
   */
  private minute(slot: 0 | 1, year: number, mon: number, day: number, h: number, mi: number): number {
    const key = (((year * 12 + mon) * 32 + day) * 24 + h) * 60 + mi;
    if (key === this.memoKey[slot]) return this.memoSec[slot]!;
    const t = Math.floor(new Date(year, mon, day, h, mi, 0).getTime() / 1000);
    this.memoKey[slot] = key;
    this.memoSec[slot] = t;
    return t;
  }
}

function num2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

/** The month (0-11) of the three letters at `i` (`Jan`..`Dec`), or -1; no substring made. */
export function monthAt(s: string, i: number): number {
  const a = s.charCodeAt(i);
  const b = s.charCodeAt(i + 1);
  const c = s.charCodeAt(i + 2);
  // first letter, then the two others (J: Jan Jun Jul; M: Mar May; A: Apr Aug)
  switch (a) {
    case 74: // J
      return b === 97 && c === 110 ? 0 : b === 117 && c === 110 ? 5 : b === 117 && c === 108 ? 6 : -1;
    case 70: // F
      return b === 101 && c === 98 ? 1 : -1;
    case 77: // M
      return b === 97 && c === 114 ? 2 : b === 97 && c === 121 ? 4 : -1;
    case 65: // A
      return b === 112 && c === 114 ? 3 : b === 117 && c === 103 ? 7 : -1;
    case 83: // S
      return b === 101 && c === 112 ? 8 : -1;
    case 79: // O
      return b === 99 && c === 116 ? 9 : -1;
    case 78: // N
      return b === 111 && c === 118 ? 10 : -1;
    case 68: // D
      return b === 101 && c === 99 ? 11 : -1;
    default:
      return -1;
  }
}

/** `Dec  5 07:49:21` at `start`: epoch seconds, or NaN. */
export function rfc3164Time(s: string, start: number, years: SyslogYear): number {
  const mon = monthAt(s, start);
  if (mon < 0) return NaN;
  const d0 = s.charCodeAt(start + 4);
  let day: number;
  if (d0 === 32) {
    const c = s.charCodeAt(start + 5) - 48;
    day = c >= 0 && c <= 9 ? c : -1;
  } else day = num2(s, start + 4);
  const h = num2(s, start + 7);
  const mi = num2(s, start + 10);
  const sec = num2(s, start + 13);
  if (day < 1 || day > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60) return NaN;
  return years.resolve(mon, day, h, mi, sec);
}

const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,]\d+)?(Z|[+-]\d\d:?\d\d)?$/i;

/** `2026-12-05T07:49:21.123+01:00` (no zone: local time): epoch seconds, or NaN. */
export function rfc3339Time(text: string): number {
  const m = RFC3339.exec(text);
  if (!m) return NaN;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  const z = m[7];
  if (z === undefined) return Math.floor(new Date(y, mo - 1, d, h, mi, s).getTime() / 1000);
  let off = 0;
  if (z.toUpperCase() !== 'Z') {
    const sign = z[0] === '-' ? -1 : 1;
    const digits = z.slice(1).replace(':', '');
    off = sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4)) * 60);
  }
  return Date.UTC(y, mo - 1, d, h, mi, s) / 1000 - off;
}

const CLF = /^(\d\d)\/([A-Z][a-z]{2})\/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$/;

/** `05/Dec/2026:07:49:21 +0000` (Common Log Format): epoch seconds, or NaN. */
export function clfTime(text: string): number {
  const m = CLF.exec(text);
  if (!m) return NaN;
  const mon = MONTHS[m[2]!];
  if (mon === undefined) return NaN;
  const off = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 3600 + Number(m[9]) * 60);
  return Date.UTC(Number(m[3]), mon, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])) / 1000 - off;
}

/** A time text of any supported form (a rule's time group): epoch seconds, or NaN. */
export function anyTime(text: string, years: SyslogYear): number {
  if (text.length >= 15 && MONTHS[text.slice(0, 3)] !== undefined && text.charCodeAt(3) === 32) return rfc3164Time(text, 0, years);
  if (text.length >= 19 && text.charCodeAt(4) === 45) return rfc3339Time(text);
  return clfTime(text);
}

/**
 * One source's rules over its lines: the first rule (in definition order) whose program
 * and regex match a line names the line's address and time. No rule matches a line
 * twice and one line accuses at most one address.
 *
 * Per line: the syslog header is located by index (line.ts, no copy); the message is
 * sliced only when a rule applies to the line's program; a match costs the regex's
 * result. A captured address is checked once more (the macros only match addresses; an
 * address the ban manager cannot take is counted, never guessed).
 */
import { IpAddr, parseIp } from '../net/addr';
import { MACRO_GUARD } from './rules';
import type { LogFormat, LogRule } from './rules';
import { anyTime, Header, parseHeader, rfc3164Time, rfc3339Time, type SyslogYear } from './line';

export interface MatchStats {
  lines: number;
  matched: number;
  /** a captured text that is not a usable address (should not happen: counted) */
  badAddress: number;
  /** a time group or header time that could not be read (the fallback time was used) */
  badTime: number;
}

/** Dotted quad → host-order uint32, or -1. */
function quad(s: string): number {
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 255) return -1;
      v = v * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      digits++;
    } else return -1;
  }
  if (dots !== 3 || digits === 0 || part > 255) return -1;
  return (v * 256 + part) >>> 0;
}

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const groups = new Int32Array(8);

/**
 * Strict IPv6 text without an embedded dotted quad (the common form) → IpAddr, by char
 * codes (no split, no regex, no bigint); null when it is not that form (the caller falls
 * back to the general parser, which takes the dotted-quad forms).
 */
function fastV6(s: string): IpAddr | null {
  const n = s.length;
  if (n < 2 || n > 39) return null;
  let g = 0; // groups written
  let gap = -1; // index in groups where `::` was
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return null;
    gap = 0;
    i = 2;
    if (i === n) {
      groups.fill(0);
      return IpAddr.v6(0, 0, 0, 0);
    }
  }
  for (;;) {
    let v = 0;
    let d = 0;
    while (i < n) {
      const h = hexVal(s.charCodeAt(i));
      if (h < 0) break;
      v = v * 16 + h;
      d++;
      i++;
    }
    if (d === 0 || d > 4 || g >= 8) return null;
    groups[g++] = v;
    if (i === n) break;
    if (s.charCodeAt(i) !== 58) return null; // a '.' (dotted quad) or anything else
    i++;
    if (i < n && s.charCodeAt(i) === 58) {
      if (gap >= 0) return null;
      gap = g;
      i++;
      if (i === n) break;
    } else if (i === n) return null;
  }
  if (gap < 0) {
    if (g !== 8) return null;
  } else {
    if (g > 7) return null;
    const move = g - gap;
    for (let k = 0; k < move; k++) groups[7 - k] = groups[g - 1 - k]!;
    for (let k = gap; k < 8 - move; k++) groups[k] = 0;
  }
  return IpAddr.v6(((groups[0]! << 16) | groups[1]!) >>> 0, ((groups[2]! << 16) | groups[3]!) >>> 0, ((groups[4]! << 16) | groups[5]!) >>> 0, ((groups[6]! << 16) | groups[7]!) >>> 0);
}

/**
 * The address of a captured text (an IPv4-mapped IPv6 address is its IPv4 host, as the
 * ban manager counts it), or undefined. Its text (`toString()`, RFC 5952) is computed once
 * and shared by the event, the line and the ban manager.
 */
export function addrOf(text: string): IpAddr | undefined {
  if (text.indexOf(':') < 0) {
    const n = quad(text);
    return n < 0 ? undefined : IpAddr.v4(n);
  }
  const a = fastV6(text) ?? parseIp(text);
  return a === undefined ? undefined : a.unmap();
}

export class LogMatcher {
  readonly stats: MatchStats = { lines: 0, matched: 0, badAddress: 0, badTime: 0 };
  private readonly h = new Header();
  /** result of the last successful match */
  addr: IpAddr = IpAddr.v4(0);
  time = 0;
  rule: LogRule | null = null;

  /** per rule: the literal text its regex starts with (after `^`), '' if none (a prefilter) */
  private readonly prefix: string[];
  /** per rule: the same regex, sticky and without its `^`, to run at the message inside the line (no copy), or null */
  private readonly sticky: (RegExp | null)[];

  constructor(
    readonly rules: readonly LogRule[],
    readonly format: LogFormat,
    /** for RFC 3164 stamps; null: such stamps are not read (the fallback time is used) */
    private readonly years: SyslogYear | null,
  ) {
    this.prefix = rules.map((r) => anchoredShape(r.re.source).prefix);
    this.sticky = rules.map((r) => (anchoredShape(r.re.source).sticky ? new RegExp(r.re.source.slice(1), r.re.flags + 'y') : null));
  }

  /**
   * A line of a file. `fallback` is the time when the line's own is not used or not
   * readable; `useLineTime` = take the time the line states (replay) or not (live).
   */
  matchLine(line: string, fallback: number, useLineTime: boolean): boolean {
    this.stats.lines++;
    const h = this.h;
    if (this.format === 'syslog') parseHeader(line, h);
    else h.ok = false;
    const rules = this.rules;
    let msg: string | null = null;
    // the message starts after "prog[pid]: " (a blank before it: see anchoredShape)
    const blank = h.ok && line.charCodeAt(h.msgStart - 1) === 32;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      if (r.programs.length > 0 && (!h.ok || !programIs(line, h.progStart, h.progEnd, r.programs))) continue;
      const start = h.ok ? h.msgStart : 0;
      const pre = this.prefix[i]!;
      if (pre !== '' && !line.startsWith(pre, start)) continue;
      let m: RegExpExecArray | null;
      const st = this.sticky[i]!;
      if (start === 0) m = r.re.exec(line);
      else if (st !== null && blank) {
        st.lastIndex = start;
        m = st.exec(line);
      } else m = r.re.exec((msg ??= line.slice(start)));
      if (m === null) continue;
      if (!this.take(r, m, fallback, useLineTime)) return false;
      if (useLineTime && !r.hasTime && h.ok) this.time = this.headerTime(line, fallback);
      return true;
    }
    return false;
  }

  /** A journal entry: its message, program (SYSLOG_IDENTIFIER) and time. */
  matchMessage(msg: string, program: string, time: number): boolean {
    this.stats.lines++;
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      if (r.programs.length > 0 && !r.programs.includes(program)) continue;
      const pre = this.prefix[i]!;
      if (pre !== '' && !msg.startsWith(pre)) continue;
      const m = r.re.exec(msg);
      if (m === null) continue;
      // the journal's own time is exact: a time group in the message is not needed
      return this.take(r, m, time, false);
    }
    return false;
  }

  private take(r: LogRule, m: RegExpExecArray, fallback: number, useLineTime: boolean): boolean {
    const text = m.groups?.addr;
    const a = text === undefined ? undefined : addrOf(text);
    if (a === undefined) {
      this.stats.badAddress++;
      return false;
    }
    this.stats.matched++;
    this.addr = a;
    this.rule = r;
    this.time = fallback;
    if (useLineTime && r.hasTime) {
      const t = m.groups?.time;
      const v = t === undefined || this.years === null ? NaN : anyTime(t, this.years);
      if (Number.isFinite(v)) this.time = v;
      else this.stats.badTime++;
    }
    return true;
  }

  private headerTime(line: string, fallback: number): number {
    const h = this.h;
    const v = h.timeKind === 0 ? (this.years === null ? NaN : rfc3164Time(line, h.timeStart, this.years)) : rfc3339Time(line.slice(h.timeStart, h.timeEnd));
    if (Number.isFinite(v)) return v;
    this.stats.badTime++;
    return fallback;
  }

  /**
   * The stamp of a line no rule matched (replay keeps the clock moving on it), or NaN.
   * RFC 3164 stamps go through the year tracker so that its month order stays right.
   */
  lineTime(line: string): number {
    if (this.format !== 'syslog') return NaN;
    parseHeader(line, this.h);
    return this.headerOnlyTime(line);
  }

  /** lineTime() of the line matchLine() was just given (its header is already parsed). */
  lastLineTime(line: string): number {
    if (this.format !== 'syslog') return NaN;
    return this.headerOnlyTime(line);
  }

  private headerOnlyTime(line: string): number {
    if (!this.h.ok) return NaN;
    return this.h.timeKind === 0 ? (this.years === null ? NaN : rfc3164Time(line, 0, this.years)) : rfc3339Time(line.slice(0, this.h.timeEnd));
  }
}

/**
 * What a rule's regex (the expanded source) allows the matcher to do without copying the
 * message out of the line:
 * - `prefix`: the literal characters right after a leading `^` (up to the first special
 *   character; one less when a quantifier follows; none with a top-level `|`): a line whose
 *   message does not start with them cannot match, and the regex is not run;
 * - `sticky`: the regex can run on the whole line from the message's start (sticky flag,
 *   `^` removed) with the same result as on the message alone: it starts with `^`, has no
 *   other `^` and no top-level `|`, and no lookbehind but the address macros' one-character
 *   guard, which sees the blank before the message where the message alone has nothing:
 *   both pass it (the matcher runs sticky only when that character is a blank).
 */
export function anchoredShape(src: string): { prefix: string; sticky: boolean } {
  if (!src.startsWith('^')) return { prefix: '', sticky: false };
  let prefix = '';
  let i = 1;
  for (; i < src.length; i++) {
    const c = src[i]!;
    if ('\\^$.|?*+()[]{}'.includes(c)) break;
    prefix += c;
  }
  if (i < src.length && '?*+{'.includes(src[i]!)) prefix = prefix.slice(0, -1);
  let sticky = true;
  let depth = 0;
  let cls = false;
  for (let k = 1; k < src.length; k++) {
    const c = src[k]!;
    if (c === '\\') k++;
    else if (cls) cls = c !== ']';
    else if (c === '[') cls = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '^') sticky = false;
    // a top-level alternative: the leading ^ and its text belong to the first one only
    else if (c === '|' && depth === 0) return { prefix: '', sticky: false };
  }
  const guard = MACRO_GUARD;
  const rest = src.split(guard).join('');
  if (rest.includes('(?<=') || rest.includes('(?<!')) sticky = false;
  return { prefix, sticky };
}

function programIs(line: string, start: number, end: number, programs: readonly string[]): boolean {
  const len = end - start;
  for (let i = 0; i < programs.length; i++) {
    const p = programs[i]!;
    if (p.length === len && line.startsWith(p, start)) return true;
  }
  return false;
}

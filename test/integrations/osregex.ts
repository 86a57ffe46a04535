/**
 * An emulation of OSSEC's two pattern languages, for testing decoders and rules without an
 * OSSEC binary (there is none in Debian). Written from the documented syntax
 * (ossec.net "Regular Expression Syntax"; the same in Wazuh 4.x), restricted to what our
 * decoders use; anything outside it is an error here, so the files cannot drift out of
 * the documented language.
 *
 * OS_Regex (decoder <prematch>, <regex>):
 *  - `\d` 0-9, `\w` A-Z a-z 0-9 - @ _, `\s` space, `\t` tab, `\p` the punctuation
 *    ()*+,-.:;<=>?[]!"'#$%&|{}, `\W \D \S` their complements, `\.` any character;
 *    `\( \) \\ \$ \|` the literal characters; `+` and `*` after one of those classes only;
 *  - `^` at the start, `$` at the end of an alternative; `|` separates alternatives, tried
 *    in order, the first that matches anywhere wins; `( )` capture, one level only;
 *  - every other character is itself; matching ignores the case of ASCII letters.
 * OS_Match (<program_name>, rule <match>): literal text, `^` `$` anchors, `|` alternatives,
 * case-insensitive.
 *
 * The real OS_Regex matcher does not backtrack like a textbook regex engine: a `+`/`*`
 * run stops as soon as the next token also matches (lazy), keeping at most four places to
 * come back to. This emulation backtracks fully (greedy). The two agree on every match and
 * capture when each quantified class is followed by a token that cannot match the same
 * character (then the run's end is forced); `deterministic()` checks that property, and
 * the tests require it of every OS_Regex we ship. So a pass here says what the real
 * engine does for our patterns, not only what a regex ideally would.
 */

type Cls = 'd' | 'w' | 's' | 't' | 'p' | 'W' | 'D' | 'S' | '.';
type Tok =
  | { t: 'lit'; c: string }
  | { t: 'cls'; c: Cls; q: '' | '+' | '*' }
  | { t: 'open' }
  | { t: 'close' };

interface Alt {
  begin: boolean;
  end: boolean;
  toks: Tok[];
}

const PUNCT = new Set('()*+,-.:;<=>?[]!"\'#$%&|{}');

function inClass(c: Cls, ch: string): boolean {
  const code = ch.charCodeAt(0);
  const digit = code >= 48 && code <= 57;
  const word = digit || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || ch === '-' || ch === '@' || ch === '_';
  switch (c) {
    case 'd':
      return digit;
    case 'D':
      return !digit;
    case 'w':
      return word;
    case 'W':
      return !word;
    case 's':
      return ch === ' ';
    case 'S':
      return ch !== ' ';
    case 't':
      return ch === '\t';
    case 'p':
      return PUNCT.has(ch);
    case '.':
      return true;
  }
}

const lower = (ch: string) => (ch >= 'A' && ch <= 'Z' ? String.fromCharCode(ch.charCodeAt(0) + 32) : ch);

function splitAlternatives(pattern: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) {
      cur += ch + pattern[++i]!;
    } else if (ch === '|') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function compileAlt(src: string, pattern: string): Alt {
  let s = src;
  const begin = s.startsWith('^');
  if (begin) s = s.slice(1);
  // a trailing `$` that is not the escaped `\$`
  let end = false;
  if (s.endsWith('$') && !(s.endsWith('\\$') && !s.endsWith('\\\\$'))) {
    end = true;
    s = s.slice(0, -1);
  }
  const toks: Tok[] = [];
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '\\') {
      const e = s[++i];
      if (e === undefined) throw new Error(`OS_Regex: trailing backslash in ${pattern}`);
      if ('dwstpWDS.'.includes(e)) {
        let q: '' | '+' | '*' = '';
        if (s[i + 1] === '+' || s[i + 1] === '*') q = s[++i] as '+' | '*';
        toks.push({ t: 'cls', c: e as Cls, q });
      } else if ('()\\$|'.includes(e)) toks.push({ t: 'lit', c: e });
      else throw new Error(`OS_Regex: \\${e} is not in the documented syntax (${pattern})`);
    } else if (ch === '(') {
      if (++depth > 1) throw new Error(`OS_Regex: nested parentheses in ${pattern}`);
      toks.push({ t: 'open' });
    } else if (ch === ')') {
      if (--depth < 0) throw new Error(`OS_Regex: unbalanced ) in ${pattern}`);
      toks.push({ t: 'close' });
    } else if (ch === '+' || ch === '*') {
      throw new Error(`OS_Regex: ${ch} may only follow a \\x class (${pattern})`);
    } else if (ch === '^' || ch === '$') {
      throw new Error(`OS_Regex: ${ch} is an anchor only at the start/end (${pattern})`);
    } else toks.push({ t: 'lit', c: lower(ch) });
  }
  if (depth !== 0) throw new Error(`OS_Regex: unbalanced ( in ${pattern}`);
  return { begin, end, toks };
}

/** What a token can match, as a predicate on one character (for the determinism check). */
function matcher(tok: Tok): (ch: string) => boolean {
  if (tok.t === 'lit') return (ch) => lower(ch) === tok.c;
  if (tok.t === 'cls') return (ch) => inClass(tok.c, ch);
  return () => false;
}

const PROBE: string[] = [];
for (let c = 1; c < 128; c++) PROBE.push(String.fromCharCode(c));

export class OsRegex {
  private readonly alts: Alt[];

  constructor(readonly pattern: string) {
    if (pattern.length === 0) throw new Error('OS_Regex: empty pattern');
    this.alts = splitAlternatives(pattern).map((a) => compileAlt(a, pattern));
  }

  /** null if no alternative matches; else the captured substrings (possibly none). */
  exec(text: string): string[] | null {
    const t = text;
    for (const alt of this.alts) {
      const last = alt.begin ? 0 : t.length;
      for (let start = 0; start <= last; start++) {
        const caps: number[] = [];
        if (this.matchAt(alt, 0, t, start, caps)) {
          const out: string[] = [];
          for (let i = 0; i + 1 < caps.length; i += 2) out.push(t.slice(caps[i], caps[i + 1]));
          return out;
        }
      }
    }
    return null;
  }

  test(text: string): boolean {
    return this.exec(text) !== null;
  }

  private matchAt(alt: Alt, k: number, t: string, i: number, caps: number[]): boolean {
    if (k === alt.toks.length) return !alt.end || i === t.length;
    const tok = alt.toks[k]!;
    switch (tok.t) {
      case 'open':
      case 'close': {
        caps.push(i);
        if (this.matchAt(alt, k + 1, t, i, caps)) return true;
        caps.pop();
        return false;
      }
      case 'lit':
        return i < t.length && lower(t[i]!) === tok.c && this.matchAt(alt, k + 1, t, i + 1, caps);
      case 'cls': {
        if (tok.q === '') return i < t.length && inClass(tok.c, t[i]!) && this.matchAt(alt, k + 1, t, i + 1, caps);
        let j = i;
        while (j < t.length && inClass(tok.c, t[j]!)) j++;
        const min = tok.q === '+' ? i + 1 : i;
        for (let e = j; e >= min; e--) if (this.matchAt(alt, k + 1, t, e, caps)) return true;
        return false;
      }
    }
  }

  /**
   * Problems that would let the real (lazy, bounded) matcher differ from this one: a
   * quantified class followed by a token (or by the end, unless `$`... the end is always
   * fine) that can match a character of the class.
   */
  deterministic(): string[] {
    const bad: string[] = [];
    for (const alt of this.alts) {
      alt.toks.forEach((tok, k) => {
        if (tok.t !== 'cls' || tok.q === '') return;
        let n = k + 1;
        while (n < alt.toks.length && (alt.toks[n]!.t === 'open' || alt.toks[n]!.t === 'close')) n++;
        if (n === alt.toks.length) return; // a run to the end of the text, or up to `$`
        const next = alt.toks[n]!;
        const m = matcher(next);
        const overlap = PROBE.filter((ch) => inClass(tok.c, ch) && m(ch));
        if (overlap.length > 0) bad.push(`\\${tok.c}${tok.q} followed by a token that also matches ${JSON.stringify(overlap.slice(0, 8).join(''))} in ${this.pattern}`);
      });
    }
    return bad;
  }

  /** How many capture groups each alternative has (they must agree for <order>). */
  groups(): number[] {
    return this.alts.map((a) => a.toks.filter((x) => x.t === 'open').length);
  }
}

/** OS_Match: literal alternatives with optional ^ and $, case-insensitive. */
export function osMatch(pattern: string, text: string): boolean {
  const t = text.toLowerCase();
  for (const raw of pattern.split('|')) {
    let p = raw.toLowerCase();
    const begin = p.startsWith('^');
    if (begin) p = p.slice(1);
    const end = p.endsWith('$');
    if (end) p = p.slice(0, -1);
    if (p.includes('\\')) throw new Error(`OS_Match has no escapes: ${pattern}`);
    if (begin && end ? t === p : begin ? t.startsWith(p) : end ? t.endsWith(p) : t.includes(p)) return true;
  }
  return false;
}

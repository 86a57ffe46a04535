/**
 * Log rules and log sources: the `log_*` statements of iplog.conf (or of a file it
 * includes with `log_rules FILE`), parsed and checked when the configuration is loaded.
 * docs/log-rules.md is the user's description; this is the grammar:
 *
 *     log_rule NAME [weight N] [threshold N] [window DUR] [ban_time DUR] [program P[,P...]] match REGEX
 *     log_file PATH rules NAME[,NAME...] [format syslog|plain]
 *     log_journal (unit U | ident I)... rules NAME[,NAME...]
 *     log_rules FILE          (read FILE's log_* statements here; relative to this file)
 *     log_state FILE          (positions of the followed files across restarts)
 *
 * REGEX is the rest of the line after `match` (spaces and `#` included; no quoting), a
 * JavaScript regular expression with these macros:
 *
 *     <ADDR>   an IPv4 or IPv6 address, captured as the rule's address (exactly one)
 *     <IP4>    an IPv4 address, captured as the rule's address
 *     <IP6>    an IPv6 address, captured as the rule's address
 *     <CLFTIME> a Common Log Format time (`05/Dec/2026:07:49:21 +0000`), captured as the time
 *
 * An optional `(?<time>...)` group gives the line's time (syslog, RFC 3339 or CLF text).
 * The address can only come from a macro, whose pattern matches nothing but an address:
 * a rule without one, with two, with a hand-written `(?<addr>...)`/`(?<host>...)` group or
 * fail2ban's `<HOST>` (which also matches host names) is rejected with its file and line.
 * Rule names in a source may end in `*` (a prefix: `sshd-*`).
 *
 * Everything is checked here, at load time; errors are `FILE:LINE: message` texts the
 * loader prints on standard error before refusing to start.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDuration } from '../config/duration';

const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
/** strict dotted quad */
export const IPV4_RE = `${OCTET}(?:\\.${OCTET}){3}`;
const H = '[0-9A-Fa-f]{1,4}';
/** strict IPv6 text (RFC 4291 §2.2 forms, with an embedded dotted quad), no zone */
export const IPV6_RE = [
  `(?:${H}:){7}${H}`,
  `(?:${H}:){6}${IPV4_RE}`,
  ...[1, 2, 3, 4, 5].map((k) => `(?:${H}:){${k}}:(?:${H}:){0,${5 - k}}${IPV4_RE}`),
  `::(?:${H}:){0,5}${IPV4_RE}`,
  `(?:${H}:){1,7}:`,
  `(?:${H}:){1,6}:${H}`,
  `(?:${H}:){1,5}(?::${H}){1,2}`,
  `(?:${H}:){1,4}(?::${H}){1,3}`,
  `(?:${H}:){1,3}(?::${H}){1,4}`,
  `(?:${H}:){1,2}(?::${H}){1,5}`,
  `${H}:(?::${H}){1,6}`,
  `:(?:(?::${H}){1,7}|:)`,
].join('|');
/** not inside a longer token of address characters */
const BEFORE = '(?<![0-9A-Za-z.:])';
/** the address macros' lookbehind (matcher.ts anchoredShape knows it looks at one character) */
export const MACRO_GUARD = BEFORE;
const AFTER = '(?![0-9A-Za-z:]|\\.[0-9])';

export const MACROS: Readonly<Record<string, string>> = {
  '<ADDR>': `${BEFORE}(?<addr>${IPV4_RE}|${IPV6_RE})${AFTER}`,
  '<IP4>': `${BEFORE}(?<addr>${IPV4_RE})${AFTER}`,
  '<IP6>': `${BEFORE}(?<addr>${IPV6_RE})${AFTER}`,
  '<CLFTIME>': '(?<time>[0-3][0-9]/[A-Z][a-z]{2}/[0-9]{4}:[0-2][0-9]:[0-5][0-9]:[0-6][0-9] [+-][0-9]{4})',
};

export type LogFormat = 'syslog' | 'plain';

export interface LogRule {
  readonly name: string;
  /** score of one match in the ban manager */
  readonly weight: number;
  /** own threshold: this many matches within `windowSec` ban on their own (0 = none) */
  readonly threshold: number;
  readonly windowSec: number;
  /** own first-ban duration (0 = the ban manager's) */
  readonly banSec: number;
  /** syslog program names the rule applies to (empty = any, or a plain line) */
  readonly programs: readonly string[];
  /** the regex as written */
  readonly source: string;
  readonly re: RegExp;
  readonly hasTime: boolean;
  /** where it was defined: FILE:LINE */
  readonly where: string;
}

export interface LogFileSource {
  readonly kind: 'file';
  readonly path: string;
  readonly format: LogFormat;
  readonly rules: readonly string[];
  readonly where: string;
}

export interface LogJournalSource {
  readonly kind: 'journal';
  readonly units: readonly string[];
  readonly idents: readonly string[];
  readonly rules: readonly string[];
  readonly where: string;
}

export type LogSource = LogFileSource | LogJournalSource;

export interface LogSettings {
  rules: LogRule[];
  sources: LogSource[];
  stateFile: string;
  /** load-time errors, `FILE:LINE: message` */
  errors: string[];
  /** files of an offline run (`--log-replay`), in order */
  replay: string[];
  /** year of a replayed syslog file's first line (`--log-year`), else from its mtime */
  year?: number;
}

export const DEFAULT_LOG_STATE = '/var/lib/iplog/logpos.json';
export const RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function emptyLogSettings(): LogSettings {
  return { rules: [], sources: [], stateFile: DEFAULT_LOG_STATE, errors: [], replay: [] };
}

/** Is `tok` (lower-cased) a log statement keyword? */
export function isLogStatement(tok: string): boolean {
  return tok === 'log_rule' || tok === 'log_file' || tok === 'log_journal' || tok === 'log_rules' || tok === 'log_state';
}

/**
 * Expand the macros of `text` and check what the regex can capture. Returns the
 * compiled regex or the complaint.
 */
export function compileRuleRegex(text: string): { re: RegExp; hasTime: boolean } | string {
  if (text === '') return 'missing regex after "match"';
  if (/<HOST>/.test(text)) return '<HOST> (fail2ban) also matches host names: use <ADDR> (or <IP4>, <IP6>), which matches only an address';
  const hand = /\(\?<(addr|host|ip|address)>/i.exec(text);
  if (hand) return `a hand-written (?<${hand[1]}>...) group can capture something other than an address: use <ADDR> (or <IP4>, <IP6>)`;
  const addrMacros = (text.match(/<(ADDR|IP4|IP6)>/g) ?? []).length;
  if (addrMacros === 0) return 'no address: the regex needs exactly one <ADDR> (or <IP4>, <IP6>)';
  if (addrMacros > 1) return 'more than one address macro: a rule accuses exactly one address';
  const timeMacros = (text.match(/<CLFTIME>|\(\?<time>/g) ?? []).length;
  if (timeMacros > 1) return 'more than one time group';
  const expanded = text.replace(/<(ADDR|IP4|IP6|CLFTIME)>/g, (m) => MACROS[m]!);
  let re: RegExp;
  try {
    re = new RegExp(expanded);
  } catch (e) {
    return `invalid regex: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`;
  }
  // the named groups that exist: only addr (ours) and time may be named addr/time
  return { re, hasTime: timeMacros === 1 };
}

/** Does `name` select rule `rule` (exact, or a `prefix*`)? */
export function selects(name: string, rule: string): boolean {
  return name.endsWith('*') ? rule.startsWith(name.slice(0, -1)) : name === rule;
}

const MAX_INCLUDE_DEPTH = 8;

/**
 * Parse one `log_*` statement (`line` is the whole line, `tokens` its blank-separated
 * words) into `ls`. `readFile` reads an included file (undefined: missing).
 */
export function parseLogStatement(
  ls: LogSettings,
  line: string,
  file: string,
  lineNo: number,
  readFile: (path: string) => string | undefined,
  depth = 0,
): void {
  const where = `${file}:${lineNo}`;
  const fail = (msg: string): void => {
    ls.errors.push(`${where}: ${msg}`);
  };
  const body = line.replace(/^[ \t]+/, '');
  const toks = body.split(/[ \t]+/).filter((t) => t !== '');
  const kw = toks[0]!.toLowerCase();
  switch (kw) {
    case 'log_state': {
      if (toks.length !== 2) return fail('log_state: expected one file name');
      ls.stateFile = resolve(dirname(file), toks[1]!);
      return;
    }
    case 'log_rules': {
      if (toks.length !== 2) return fail('log_rules: expected one file name');
      if (depth >= MAX_INCLUDE_DEPTH) return fail(`log_rules: included more than ${MAX_INCLUDE_DEPTH} deep`);
      const path = resolve(dirname(file), toks[1]!);
      let text: string | undefined;
      try {
        text = readFile(path);
      } catch (e) {
        return fail(`log_rules: cannot read ${path}: ${(e as Error).message}`);
      }
      if (text === undefined) return fail(`log_rules: cannot read ${path}: no such file`);
      parseLogRulesText(ls, text, path, readFile, depth + 1);
      return;
    }
    case 'log_rule':
      return parseRule(ls, body, toks, where, fail);
    case 'log_file': {
      const path = toks[1];
      if (path === undefined || path.toLowerCase() === 'rules') return fail('log_file: expected a file name');
      let rules: string[] | undefined;
      let format: LogFormat = 'syslog';
      for (let i = 2; i < toks.length; i += 2) {
        const k = toks[i]!.toLowerCase();
        const v = toks[i + 1];
        if (v === undefined) return fail(`log_file: "${k}" needs a value`);
        if (k === 'rules') rules = v.split(',').filter((x) => x !== '');
        else if (k === 'format') {
          if (v !== 'syslog' && v !== 'plain') return fail(`log_file: format "${v}" (syslog or plain)`);
          format = v;
        } else return fail(`log_file: unknown keyword "${toks[i]}" (rules, format)`);
      }
      if (rules === undefined || rules.length === 0) return fail('log_file: "rules NAME[,NAME...]" is required');
      if (!path.startsWith('/')) return fail(`log_file: "${path}" is not an absolute path`);
      ls.sources.push({ kind: 'file', path, format, rules, where });
      return;
    }
    case 'log_journal': {
      const units: string[] = [];
      const idents: string[] = [];
      let rules: string[] | undefined;
      for (let i = 1; i < toks.length; i += 2) {
        const k = toks[i]!.toLowerCase();
        const v = toks[i + 1];
        if (v === undefined) return fail(`log_journal: "${k}" needs a value`);
        if (k === 'unit') units.push(v);
        else if (k === 'ident') idents.push(v);
        else if (k === 'rules') rules = v.split(',').filter((x) => x !== '');
        else return fail(`log_journal: unknown keyword "${toks[i]}" (unit, ident, rules)`);
      }
      if (units.length + idents.length === 0) return fail('log_journal: name at least one "unit U" or "ident I" (the whole journal is not followed)');
      if (rules === undefined || rules.length === 0) return fail('log_journal: "rules NAME[,NAME...]" is required');
      ls.sources.push({ kind: 'journal', units, idents, rules, where });
      return;
    }
  }
}

function parseRule(ls: LogSettings, body: string, toks: string[], where: string, fail: (m: string) => void): void {
  const name = toks[1];
  if (name === undefined || !RULE_NAME.test(name) || name.toLowerCase() === 'match') return fail(`log_rule: expected a rule name (letters, digits, . _ -), got "${name ?? ''}"`);
  const at = (m: string): void => fail(`log_rule ${name}: ${m}`);
  if (ls.rules.some((r) => r.name === name)) return at(`defined twice (first at ${ls.rules.find((r) => r.name === name)!.where})`);
  let weight = 1;
  let threshold = 0;
  let windowSec = 0;
  let banSec = 0;
  let programs: string[] = [];
  let i = 2;
  for (; i < toks.length; i += 2) {
    const k = toks[i]!.toLowerCase();
    if (k === 'match') break;
    const v = toks[i + 1];
    if (v === undefined) return at(`"${k}" needs a value`);
    switch (k) {
      case 'weight':
        if (!/^\d{1,7}$/.test(v) || Number(v) > 1_000_000) return at(`weight "${v}" (an integer from 0 to 1000000)`);
        weight = Number(v);
        break;
      case 'threshold':
        if (!/^\d{1,7}$/.test(v) || Number(v) < 1 || Number(v) > 1_000_000) return at(`threshold "${v}" (an integer from 1 to 1000000)`);
        threshold = Number(v);
        break;
      case 'window': {
        const n = parseDuration(v);
        if (n === undefined) return at(`window "${v}" (a duration N[s|m|h|d|w])`);
        windowSec = n;
        break;
      }
      case 'ban_time': {
        const n = parseDuration(v);
        if (n === undefined) return at(`ban_time "${v}" (a duration N[s|m|h|d|w])`);
        banSec = n;
        break;
      }
      case 'program':
        programs = v.split(',').filter((x) => x !== '');
        if (programs.length === 0 || programs.some((p) => !/^[A-Za-z0-9_./-]+$/.test(p))) return at(`program "${v}"`);
        break;
      default:
        return at(`unknown keyword "${toks[i]}" (weight, threshold, window, ban_time, program, match)`);
    }
  }
  if (i >= toks.length) return at('missing "match REGEX"');
  if (windowSec > 0 && threshold === 0) return at('"window" without "threshold"');
  // the regex: the rest of the line after the `match` keyword and its blanks
  const m = new RegExp(`^(?:[^ \\t]+[ \\t]+){${i}}[^ \\t]+(?:[ \\t]+(.*))?$`).exec(body);
  const text = (m?.[1] ?? '').replace(/[ \t\r]+$/, '');
  const c = compileRuleRegex(text);
  if (typeof c === 'string') return at(c);
  ls.rules.push({ name, weight, threshold, windowSec: threshold > 0 ? windowSec || 600 : 0, banSec, programs, source: text, re: c.re, hasTime: c.hasTime, where });
}

/** A rules file: `log_*` statements, blank lines and `#` comment lines only. */
export function parseLogRulesText(ls: LogSettings, text: string, file: string, readFile: (path: string) => string | undefined, depth = 0): void {
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const kw = t.split(/[ \t]+/)[0]!.toLowerCase();
    if (!isLogStatement(kw)) {
      ls.errors.push(`${file}:${n + 1}: only log_* statements belong in a rules file, not "${kw}"`);
      continue;
    }
    parseLogStatement(ls, line, file, n + 1, readFile, depth);
  }
}

/** Cross-checks after the whole configuration: every source's rules exist. */
export function checkLogSettings(ls: LogSettings): void {
  for (const s of ls.sources) {
    for (const n of s.rules) {
      if (!ls.rules.some((r) => selects(n, r.name))) ls.errors.push(`${s.where}: ${s.kind === 'file' ? 'log_file' : 'log_journal'}: no rule "${n}"`);
    }
  }
}

/** The rules a source names, in definition order. */
export function rulesOf(ls: LogSettings, names: readonly string[]): LogRule[] {
  return ls.rules.filter((r) => names.some((n) => selects(n, r.name)));
}

export function defaultReadFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

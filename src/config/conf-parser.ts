/**
 * iplog.conf: lexer and parser with iplog 2.2.3's grammar, diagnostics and quirks
 * (spec §2, iplog_config.c:parse_config()).
 *
 * The original is a token-driven state machine with a state stack (so that a C comment
 * can open anywhere, even inside a rule, and return to the state it interrupted). It is
 * reproduced as such, because several visible behaviours follow from it:
 * - statements end at end of line, but a line may hold several (`user a group b`);
 * - `#` at the start of a token ends the line, and inside a rule ends the rule;
 * - `/*` at the start of a token opens a comment (they nest), closed by the first token
 *   containing `*\/`; what follows `*\/` in that token is parsed; a rule interrupted by a
 *   comment that spans lines continues after it;
 * - the values given to `set` on one line accumulate (`set tcp false set udp` turns both on).
 *
 * Lines: leading blanks skipped; a line of 8191 or more characters reads as empty (the
 * original's get_line()); tokens are separated by space and tab only, so a CR of a DOS line
 * ending stays in the last token. Keywords are case-insensitive, names are not.
 *
 * Deviations fixed in every profile (docs/compat.md, "Configuration"):
 * (a) a rule host that does not resolve is an error (`[line N] Unknown host: "x"`, rule
 *     dropped) instead of silently matching every host; names ending in a digit (`web1`)
 *     are looked up in /etc/hosts instead of being misread as short dotted quads;
 * (b) a bare `pid-file` line reports `[line N] Missing pid file parameter` instead of taking
 *     the first token of the next line as the path;
 * (c) a numeric ICMP type outside 0–18 reports `[line N] Invalid ICMP type: 99 (must be 0 - 18)`
 *     instead of repeating the previous error text;
 * (d) the mask `/*` means any address (the documented wildcard) instead of /32.
 *
 * Host names and services are resolved synchronously from /etc/hosts and /etc/services
 * (ConfigEnv), never through DNS.
 */
import { readFileSync } from 'node:fs';
import { defaultBanSettings } from '../ban/config';
import {
  asciiLower,
  applyValue,
  findStatement,
  SET_KEYWORDS,
  SET_VALUE_KEYWORDS,
  type OptionSpec,
} from './options';
import type { AddrTest, FlagName, PortTest, Rule, Settings } from './settings';
import { checkLogSettings, defaultReadFile as readLogFile, emptyLogSettings, isLogStatement, parseLogStatement } from '../logs/rules';
import { parseCidr, parseIp } from '../net/addr';

// ---------------------------------------------------------------------------
// Name databases

/** Forward lookups the parser needs; `systemConfigEnv()` reads the real files. */
export interface ConfigEnv {
  /** IPv4 addresses of a host name from /etc/hosts, in file order (empty: unknown). */
  lookupHost(name: string): readonly number[];
  /** getservbyname(name, proto): the port, or undefined. */
  lookupService(name: string, proto: 'tcp' | 'udp'): number | undefined;
}

function isCSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}

function fieldsOf(line: string): string[] {
  const hash = line.indexOf('#');
  const body = hash >= 0 ? line.slice(0, hash) : line;
  return body.split(/[ \t\n\v\f\r]+/).filter((f) => f !== '');
}

const STRICT_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** inet_pton(AF_INET): strict dotted decimal. */
function strictQuad(text: string): number | undefined {
  const m = STRICT_QUAD.exec(text);
  if (!m) return undefined;
  return ((+m[1] << 24) | (+m[2] << 16) | (+m[3] << 8) | +m[4]) >>> 0;
}

/**
 * /etc/hosts as glibc's files backend answers gethostbyname() (AF_INET, `multi on`):
 * every IPv4 address of every line naming the host, in file order; names compared
 * case-insensitively; `::1` reads as 127.0.0.1 and `::ffff:a.b.c.d` as a.b.c.d.
 */
export function parseHostsFile(text: string): Map<string, number[]> {
  const byName = new Map<string, number[]>();
  for (const line of text.split('\n')) {
    const f = fieldsOf(line);
    if (f.length < 2) continue;
    let addr = strictQuad(f[0]);
    if (addr === undefined) {
      const a = asciiLower(f[0]);
      if (a === '::1') addr = 0x7f000001;
      else if (a.startsWith('::ffff:')) addr = strictQuad(a.slice(7));
    }
    if (addr === undefined) continue;
    for (const name of f.slice(1)) {
      const key = asciiLower(name);
      const list = byName.get(key);
      if (list === undefined) byName.set(key, [addr]);
      else if (!list.includes(addr)) list.push(addr);
    }
  }
  return byName;
}

/** /etc/services: `proto/name` (names and aliases, case-sensitive) → port; the first line wins. */
export function parseServicesFile(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split('\n')) {
    const f = fieldsOf(line);
    if (f.length < 2) continue;
    const m = /^(\d+)\/(.+)$/.exec(f[1]);
    if (!m) continue;
    const port = Number(m[1]) & 0xffff;
    for (const name of [f[0], ...f.slice(2)]) {
      const key = `${m[2]}/${name}`;
      if (!map.has(key)) map.set(key, port);
    }
  }
  return map;
}

/** A ConfigEnv over the given file texts. */
export function makeConfigEnv(hostsText: string, servicesText: string): ConfigEnv {
  const hosts = parseHostsFile(hostsText);
  const services = parseServicesFile(servicesText);
  return {
    lookupHost: (name) => hosts.get(asciiLower(name)) ?? [],
    lookupService: (name, proto) => services.get(`${proto}/${name}`),
  };
}

/**
 * The ConfigEnv of this host: /etc/hosts and /etc/services read lazily, once, through
 * `readFile` (which returns undefined for a missing file).
 */
export function systemConfigEnv(readFile: (path: string) => string | undefined): ConfigEnv {
  let env: ConfigEnv | undefined;
  const get = (): ConfigEnv => {
    if (env === undefined) {
      const read = (p: string): string => {
        try {
          return readFile(p) ?? '';
        } catch {
          return '';
        }
      };
      env = makeConfigEnv(read('/etc/hosts'), read('/etc/services'));
    }
    return env;
  };
  return {
    lookupHost: (name) => get().lookupHost(name),
    lookupService: (name, proto) => get().lookupService(name, proto),
  };
}

// ---------------------------------------------------------------------------
// C number parsing

/** inet_aton() as glibc has it: 1–4 parts, each decimal, octal (0…) or hex (0x…); trailing blanks end it. */
export function inetAton(text: string): number | undefined {
  const parts: number[] = [];
  let i = 0;
  for (;;) {
    if (!(text[i] >= '0' && text[i] <= '9')) return undefined;
    let base = 10;
    if (text[i] === '0') {
      i++;
      if (text[i] === 'x' || text[i] === 'X') {
        base = 16;
        i++;
      } else {
        base = 8;
      }
    }
    let val = 0;
    for (;;) {
      const c = text[i];
      if (c !== undefined && c >= '0' && c <= '9') {
        if (base === 8 && (c === '8' || c === '9')) return undefined;
        val = val * base + (c.charCodeAt(0) - 48);
      } else if (base === 16 && c !== undefined && /[a-fA-F]/.test(c)) {
        val = val * 16 + (parseInt(c, 16));
      } else {
        break;
      }
      if (val > 0xffffffff) return undefined;
      i++;
    }
    if (text[i] === '.') {
      if (parts.length >= 3 || val > 0xff) return undefined;
      parts.push(val);
      i++;
      continue;
    }
    parts.push(val);
    break;
  }
  if (i < text.length && !isCSpace(text[i])) return undefined;
  const n = parts.length;
  const last = parts[n - 1];
  const maxLast = [0xffffffff, 0xffffff, 0xffff, 0xff][n - 1];
  if (last > maxLast) return undefined;
  let addr = last;
  for (let k = 0; k < n - 1; k++) addr += parts[k] * 2 ** (24 - 8 * k);
  return addr >>> 0;
}

/**
 * strtol(s, &end, 10) followed by the original's `*end == '\0'` test, and the conversion
 * of the long to an int: the int value if the whole text is a number, else undefined.
 * As in C, an empty text is the number 0.
 */
function strtolWhole(s: string): number | undefined {
  let i = 0;
  while (i < s.length && isCSpace(s[i])) i++;
  const negative = s[i] === '-';
  if (s[i] === '+' || s[i] === '-') i++;
  const start = i;
  while (i < s.length && s[i] >= '0' && s[i] <= '9') i++;
  // No digits: strtol() leaves the end pointer at the start of the text.
  if (i === start) return s === '' ? 0 : undefined;
  if (i !== s.length) return undefined;
  let v = BigInt(s.slice(start, i));
  if (negative) v = -v;
  const LONG_MAX = (1n << 63n) - 1n;
  if (v > LONG_MAX) v = LONG_MAX;
  if (v < -LONG_MAX - 1n) v = -LONG_MAX - 1n;
  return Number(BigInt.asIntN(32, v));
}

/** strtoul() of a string of digits, converted to int as the original stores it. */
function strtoulDigitsToInt(digits: string): number {
  const ULONG_MAX = (1n << 64n) - 1n;
  let v = BigInt(digits === '' ? '0' : digits);
  if (v > ULONG_MAX) v = ULONG_MAX;
  return Number(BigInt.asIntN(32, v));
}

// ---------------------------------------------------------------------------
// Clause values (spec §2.5)

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * get_addr(): the addresses a rule host stands for, or undefined if it does not resolve.
 * A text that ends in a digit without exactly three dots is a short dotted quad padded
 * with `.0` (`10` → 10.0.0.0); everything else is /etc/hosts, then inet_aton().
 */
export function resolveRuleHost(host: string, env: ConfigEnv): number[] | undefined {
  const last = host[host.length - 1];
  if (last !== undefined && last >= '0' && last <= '9') {
    const dots = host.split('.').length - 1;
    if (dots !== 3) {
      const padded = dots < 3 ? host + '.0'.repeat(3 - dots) : host;
      const a = inetAton(padded);
      if (a !== undefined) return [a];
      // Deviation (a): 2.2.3 stopped here with an undefined address (a wildcard).
      const named = env.lookupHost(host);
      return named.length > 0 ? [...named] : undefined;
    }
  }
  if (/^[0-9.]+$/.test(host)) {
    // gethostbyname() answers digits-and-dots itself.
    const a = inetAton(host);
    if (a !== undefined) return [a];
  }
  const named = env.lookupHost(host);
  if (named.length > 0) return [...named];
  const a = inetAton(host);
  return a !== undefined ? [a] : undefined;
}

const MASK_ONE = 0xffffffff;

/**
 * `[!]host[/mask]` → the address test and, for a host with several addresses, all of them.
 * An IPv6 address (`2001:db8::1`, `[!]2001:db8::/32`, prefix 0–128; `/*` any IPv6 host)
 * makes a test of IPv6 packets only (never seen by 2.2.3, so no quirk applies to it).
 */
function parseAddrRange(token: string, env: ConfigEnv): Parsed<{ test: AddrTest; list: number[] | null }> {
  let s = token;
  let negate = false;
  if (s[0] === '!') {
    negate = true;
    s = s.slice(1);
  }
  if (s.includes(':')) {
    const c = parseCidr(s.endsWith('/*') ? `${s.slice(0, -2)}/0` : s);
    if (c === undefined || c.family !== 6) {
      const slash = s.indexOf('/');
      if (slash >= 0 && parseIp(s.slice(0, slash))?.family === 6) return { ok: false, error: 'Invalid mask: must be in range 0 - 128' };
      return { ok: false, error: `Unknown host: "${s}"` };
    }
    return { ok: true, value: { test: { any: false, negate, addr: 0, mask: MASK_ONE, v6: c }, list: null } };
  }
  let mask = MASK_ONE;
  const slash = s.indexOf('/');
  if (slash >= 0) {
    const m = s.slice(slash + 1);
    s = s.slice(0, slash);
    if (/^\d*$/.test(m)) {
      // A prefix length (the value goes through strtoul() into an int, as in C).
      const len = strtoulDigitsToInt(m);
      if (len < 1 || len > 32) return { ok: false, error: 'Invalid mask: must be in range 1 - 32' };
      mask = len === 32 ? MASK_ONE : (~((1 << (32 - len)) - 1)) >>> 0;
    } else if (m === '*') {
      // Deviation (d): 2.2.3 tried to resolve "*" as a host, failed and kept /32.
      mask = 0;
    } else {
      // A dotted mask or a host name; one that does not resolve leaves /32 (as in 2.2.3).
      const r = resolveRuleHost(m, env);
      if (r !== undefined) mask = r[0];
    }
  }
  let addr = 0;
  let list: number[] | null = null;
  if (s !== '*') {
    const r = resolveRuleHost(s, env);
    if (r === undefined) return { ok: false, error: `Unknown host: "${s}"` };
    addr = r[0];
    if (r.length > 1) list = r;
  }
  return { ok: true, value: { test: { any: addr === 0 || mask === 0, negate, addr, mask }, list } };
}

/** get_port(): `*` (the wildcard), a number, or a service name for the rule's protocol. */
function parsePort(s: string, wildcard: number, proto: 'tcp' | 'udp', env: ConfigEnv): Parsed<number> {
  if (s === '*') return { ok: true, value: wildcard };
  const n = strtolWhole(s);
  if (n !== undefined) return { ok: true, value: n };
  const port = env.lookupService(s, proto);
  if (port === undefined) return { ok: false, error: `Invalid port: "${s}"` };
  return { ok: true, value: port };
}

/** `[!]start[:[end]]` (get_portrange()). */
function parsePortRange(token: string, proto: 'tcp' | 'udp', env: ConfigEnv): Parsed<PortTest> {
  let s = token;
  let negate = false;
  if (s[0] === '!') {
    negate = true;
    s = s.slice(1);
  }
  const colon = s.indexOf(':');
  const lo = parsePort(colon >= 0 ? s.slice(0, colon) : s, 0, proto, env);
  if (!lo.ok) return lo;
  let hi: Parsed<number> = lo;
  if (colon >= 0) {
    const rest = s.slice(colon + 1);
    hi = rest === '' ? { ok: true, value: 65535 } : parsePort(rest, 65535, proto, env);
    if (!hi.ok) return hi;
  }
  if ((lo.value & 0xffff) !== lo.value || (hi.value & 0xffff) !== hi.value) {
    return { ok: false, error: 'Error: Ports must be between 1 and 65535' };
  }
  if (lo.value > hi.value) {
    return { ok: false, error: `Error: Minimum port (${lo.value}) is greater than the maximum port (${hi.value})` };
  }
  return { ok: true, value: { lo: lo.value, hi: hi.value, negate } };
}

/**
 * ICMP type names as get_icmp_type() tries them: a name matches if its first `k`
 * characters equal the keyword's first `k` (case-insensitive); first match wins.
 */
export const ICMP_TYPE_NAMES: ReadonlyArray<readonly [keyword: string, k: number, type: number]> = [
  ['ECHOREPLY', 5, 0],
  ['ECHO', 2, 8],
  ['UNREACH', 4, 3],
  ['REDIRECT', 3, 5],
  ['ROUTERADVERT', 9, 9],
  ['ROUTERSOLICIT', 9, 10],
  ['TIMXCEED', 5, 11],
  ['TIMESTAMP_REPLY', 10, 14],
  ['TSTAMP', 6, 13],
  ['IREQREPLY', 5, 16],
  ['IREQ', 2, 15],
  ['MASKREPLY', 5, 18],
  ['MASKREQ', 2, 17],
  ['PARAMPROB', 4, 12],
  ['SOURCEQUENCH', 3, 4],
];

/**
 * ICMP type names with hyphens, as iptables and nft spell them. 2.2.3 knew none of them
 * and its prefix rule read `echo-reply` as `echo` (the request: `ignore icmp type
 * echo-reply` ignored pings). A token with a hyphen must be one of these, exactly
 * (case-insensitive, optional icmp_ prefix); fixed in every profile (docs/compat.md).
 */
export const ICMP_HYPHEN_NAMES: ReadonlyMap<string, number> = new Map([
  ['echo-reply', 0],
  ['destination-unreachable', 3],
  ['dest-unreach', 3],
  ['source-quench', 4],
  ['echo-request', 8],
  ['router-advertisement', 9],
  ['router-solicitation', 10],
  ['time-exceeded', 11],
  ['parameter-problem', 12],
  ['timestamp-request', 13],
  ['timestamp-reply', 14],
  ['info-request', 15],
  ['info-reply', 16],
  ['address-mask-request', 17],
  ['address-mask-reply', 18],
]);

/**
 * ICMPv6 type names (`icmp6` rules): the RFC 4443/4861/3810 names as nft spells them, and
 * spelled out; exactly (case-insensitive), or a number 0-255.
 */
export const ICMP6_TYPE_NAMES: ReadonlyMap<string, number> = new Map([
  ['destination-unreachable', 1],
  ['packet-too-big', 2],
  ['time-exceeded', 3],
  ['parameter-problem', 4],
  ['echo-request', 128],
  ['echo-reply', 129],
  ['mld-listener-query', 130],
  ['mld-listener-report', 131],
  ['mld-listener-done', 132],
  ['mld-listener-reduction', 132],
  ['nd-router-solicit', 133],
  ['router-solicitation', 133],
  ['nd-router-advert', 134],
  ['router-advertisement', 134],
  ['nd-neighbor-solicit', 135],
  ['neighbor-solicitation', 135],
  ['neighbour-solicitation', 135],
  ['nd-neighbor-advert', 136],
  ['neighbor-advertisement', 136],
  ['neighbour-advertisement', 136],
  ['nd-redirect', 137],
  ['redirect', 137],
  ['mld2-listener-report', 143],
]);

/** `[!]type` of an icmp6 rule → ICMPv6 type number and negation. */
export function parseIcmp6Type(token: string): Parsed<{ type: number; negate: boolean }> {
  let s = token;
  let negate = false;
  if (s[0] === '!') {
    negate = true;
    s = s.slice(1);
  }
  if (/^[0-9]+$/.test(s)) {
    const n = Number(s);
    if (n > 255) return { ok: false, error: `Invalid ICMPv6 type: ${s} (must be 0 - 255)` };
    return { ok: true, value: { type: n, negate } };
  }
  const type = ICMP6_TYPE_NAMES.get(asciiLower(s));
  return type === undefined ? { ok: false, error: `Unknown ICMPv6 type: ${s}` } : { ok: true, value: { type, negate } };
}

/** `[!]type` → type number and negation. */
export function parseIcmpType(token: string): Parsed<{ type: number; negate: boolean }> {
  let s = token;
  let negate = false;
  if (s[0] === '!') {
    negate = true;
    s = s.slice(1);
  }
  const n = strtolWhole(s);
  if (n !== undefined) {
    // Deviation (c): 2.2.3 printed whatever error text an earlier line had left.
    if (n < 0 || n > 18) return { ok: false, error: `Invalid ICMP type: ${s} (must be 0 - 18)` };
    return { ok: true, value: { type: n, negate } };
  }
  if (asciiLower(s.slice(0, 5)) === 'icmp_') s = s.slice(5);
  if (s.includes('-')) {
    const type = ICMP_HYPHEN_NAMES.get(asciiLower(s));
    return type === undefined ? { ok: false, error: `Unknown ICMP type: ${s}` } : { ok: true, value: { type, negate } };
  }
  const upper = s.replace(/[a-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 32));
  for (const [kw, k, type] of ICMP_TYPE_NAMES) {
    if (upper.length >= k && upper.slice(0, k) === kw.slice(0, k)) return { ok: true, value: { type, negate } };
  }
  return { ok: false, error: `Unknown ICMP type: ${s}` };
}

// ---------------------------------------------------------------------------
// The parser

const enum St {
  Initial,
  Set,
  NeedBool,
  FilterProt,
  Filter,
  NeedAddr,
  NeedPort,
  NeedType,
  Comment,
  Statement,
}

/** Lines of this length or more come back empty from the original's get_line(). */
const MAX_LINE = 8191;

interface Draft {
  action: 'log' | 'ignore';
  proto: 'tcp' | 'udp' | 'icmp';
  /** written `icmp6` */
  icmp6: boolean;
  from: AddrTest;
  to: AddrTest;
  sport: PortTest;
  dport: PortTest;
  icmpType: number;
  icmpNegate: boolean;
  fromList: number[] | null;
  toList: number[] | null;
  seen: Set<'from' | 'to' | 'sport' | 'dport' | 'type'>;
}

function anyAddr(): AddrTest {
  return { any: true, negate: false, addr: 0, mask: MASK_ONE };
}

function anyPort(): PortTest {
  return { lo: 0, hi: 65535, negate: false };
}

/** The lines of the file as get_line() returns them (numbering starts at 1). */
function readLines(text: string): string[] {
  const raw = text.split('\n');
  // A final piece without newline counts only if it holds something after leading blanks.
  const lastPiece = raw.pop() as string;
  if (lastPiece.replace(/^[ \t\v\f\r]+/, '') !== '') raw.push(lastPiece);
  return raw.map((line) => {
    const nul = line.indexOf('\0');
    const cut = nul >= 0 ? line.slice(0, nul) : line;
    const body = cut.replace(/^[ \t\v\f\r]+/, '');
    return body.length >= MAX_LINE ? '' : body;
  });
}

/**
 * Parse an iplog.conf text into `settings` (flags, string settings, and rules appended to
 * `settings.rules`: `log` rules at the front, `ignore` rules at the end). `diag` receives
 * each diagnostic, untimestamped, in order, with the line it is about. `path` names the file in the one diagnostic
 * that quotes it. `env` resolves host and service names (default: this host's files).
 */
export function parseConfig(
  text: string,
  path: string,
  settings: Settings,
  diag: (msg: string, line: number) => void,
  env?: ConfigEnv,
): void {
  const names = env ?? systemConfigEnv(defaultReadFile);
  // log rules and sources come from the file alone (a re-read starts them afresh)
  if (settings.logs !== undefined) settings.logs = { ...emptyLogSettings(), replay: settings.logs.replay, year: settings.logs.year };
  const flags = settings.flags;
  let state = St.Initial as St;
  const stack: St[] = [];
  let draft: Draft | null = null;
  let tempFlags: FlagName[] = [];
  let statement: OptionSpec | null = null;
  let addrSide: 'from' | 'to' = 'from';
  let portSide: 'sport' | 'dport' = 'sport';
  let lineNo = 0;
  let dnsFromFile = false;
  // Until the first iplog statement, diagnostics are held back: a file whose first
  // NOT_CONFIG_AFTER lines with content are all invalid (--config /etc/shadow) is said
  // not to be a configuration file, and none of its text is echoed.
  let held: Array<[string, number]> | null = [];
  let badLines = 0;
  let badLine = 0;
  const emit = (msg: string, at: number): void => {
    if (held !== null) held.push([msg, at]);
    else diag(msg, at);
  };
  const valid = (): void => {
    if (held === null) return;
    for (const [m, at] of held) diag(m, at);
    held = null;
  };

  const enter = (s: St): void => {
    stack.push(state);
    state = s;
  };
  const leave = (): void => {
    state = stack.pop() ?? St.Initial;
  };
  const say = (msg: string): void => emit(printable(`[line ${lineNo}] ${msg}`), lineNo);

  /** Drop the current rule after an error; the rest of the line is skipped. */
  const abandon = (msg: string): void => {
    say(msg);
    draft = null;
  };

  const applyStatement = (spec: OptionSpec, value: string): void => {
    if (spec.setting === undefined) return;
    const r = applyValue(settings, spec.setting, value, (m) => emit(printable(m), lineNo));
    // an invalid network is an error when the engine starts: it then names this line
    if (spec.setting === 'promiscNets') settings.promiscOrigin = `${statementName(spec)} on line ${lineNo} of ${printable(path)}`;
    switch (r.error?.kind) {
      case 'profile':
        return say(`Invalid profile: ${value}`);
      case 'dnsServer':
        return say(`Invalid DNS server: ${r.error.text}`);
      case 'dnsTimeout':
        return say(`Invalid DNS timeout: ${value}`);
      case 'ban':
        // an allowlist typo is fatal (check.ts), as on the command line: never ban what it meant to protect
        if (spec.setting === 'banAllow' || spec.setting === 'home') {
          const b = (settings.ban ??= defaultBanSettings());
          (b.invalidAllow ??= []).push(`${path}: [line ${lineNo}] ${r.error.text}`);
        }
        return say(r.error.text);
      case 'syslogSocket':
        return say(`Invalid syslog socket: ${value}`);
      case 'syslogServer':
        return say(`Invalid syslog server: ${value}`);
      case 'syslogFormat':
        return say(`Invalid syslog format: ${value}`);
      case 'metrics':
        return say(`Invalid metrics address: ${value}`);
    }
    if (r.list !== undefined) {
      settings.dnsServers = dnsFromFile ? [...(settings.dnsServers ?? []), ...r.list] : r.list;
      dnsFromFile = true;
    }
  };

  const insert = (rule: Rule): void => {
    const list = settings.rules[rule.proto];
    if (rule.action === 'log') list.unshift(rule);
    else list.push(rule);
  };

  const finishRule = (d: Draft): void => {
    if (d.seen.size === 0 && !d.icmp6) {
      // No clause: not a filter, a protocol switch (`ignore udp` = `set udp false`).
      // (`ignore icmp6` is a rule for every ICMPv6 message: iplog 2.2.3 had no such switch.)
      flags[d.proto] = d.action === 'log';
      return;
    }
    const base = (from: AddrTest, to: AddrTest): Rule => ({
      action: d.action,
      proto: d.proto,
      from: { ...from },
      to: { ...to },
      sport: { ...d.sport },
      dport: { ...d.dport },
      icmpType: d.icmpType,
      icmpNegate: d.icmpNegate,
      ...(d.icmp6 ? { icmp6: true } : {}),
      line: lineNo,
    });
    const withAddr = (t: AddrTest, a: number): AddrTest => ({ ...t, addr: a, any: a === 0 || t.mask === 0 });
    const nFrom = d.fromList?.length ?? 0;
    const nTo = d.toList?.length ?? 0;
    if (nFrom === 0 && nTo === 0) {
      insert(base(d.from, d.to));
      return;
    }
    // Cross product of the two sides' addresses, in the original's loop order
    // (the side with more addresses outside; `to` outside on a tie).
    const fromBig = nFrom > nTo;
    const big = (fromBig ? d.fromList : d.toList) as number[];
    const small = fromBig ? d.toList : d.fromList;
    for (const b of big) {
      if (small === null || small.length === 0) {
        insert(fromBig ? base(withAddr(d.from, b), d.to) : base(d.from, withAddr(d.to, b)));
        continue;
      }
      for (const s of small) {
        insert(fromBig ? base(withAddr(d.from, b), withAddr(d.to, s)) : base(withAddr(d.from, s), withAddr(d.to, b)));
      }
    }
  };

  /** End of line (or a `#` inside a statement): finish or complain about what is open. */
  const endOfLine = (): void => {
    let missing: string | null = null;
    switch (state) {
      case St.Initial:
      case St.Comment:
        return;
      case St.NeedBool:
        // "set x" without a value means true.
        for (const f of tempFlags) flags[f] = true;
        leave();
        return;
      case St.Filter:
        if (draft !== null) finishRule(draft);
        draft = null;
        leave();
        return;
      case St.Statement:
        // Deviation (b): 2.2.3 said nothing for `pid-file` and took the next line's first token.
        missing = (statement as OptionSpec).missing as string;
        break;
      case St.Set:
        missing = 'set target';
        break;
      case St.FilterProt:
        missing = 'protocol parameter';
        break;
      case St.NeedType:
        missing = 'ICMP type';
        leave();
        break;
      case St.NeedAddr:
        missing = 'address parameter';
        leave();
        break;
      case St.NeedPort:
        missing = 'port parameter';
        leave();
        break;
    }
    draft = null;
    leave();
    say(`Missing ${missing}`);
  };

  /** One token in the current state. Returns false when the rest of the line is to be skipped. */
  const token = (tok: string): boolean => {
    for (;;) {
      if (tok.startsWith('/*')) {
        enter(St.Comment);
        tok = tok.slice(2);
      } else if (state !== St.Comment && tok[0] === '#') {
        return false;
      }
      switch (state) {
        case St.Initial: {
          const kw = asciiLower(tok);
          if (kw === 'set') {
            valid();
            enter(St.Set);
          } else if (kw === 'log' || kw === 'ignore') {
            valid();
            draft = {
              action: kw as 'log' | 'ignore',
              proto: 'tcp',
              from: anyAddr(),
              to: anyAddr(),
              sport: anyPort(),
              dport: anyPort(),
              icmpType: -1,
              icmpNegate: false,
              icmp6: false,
              fromList: null,
              toList: null,
              seen: new Set(),
            };
            enter(St.FilterProt);
          } else if (isLogStatement(asciiLower(tok))) {
            // log rules and sources (src/logs/rules.ts): the whole line is the statement;
            // its errors are fatal, `FILE:LINE: message` on standard error
            parseLogStatement((settings.logs ??= emptyLogSettings()), currentLine, path, lineNo, readLogFile);
            return false;
          } else {
            const spec = findStatement(tok);
            if (spec === undefined) {
              say(`Invalid rule: ${tok}`);
              if (held !== null && badLine !== lineNo) {
                badLine = lineNo;
                badLines++;
              }
              return false;
            }
            valid();
            statement = spec;
            enter(St.Statement);
          }
          return true;
        }
        case St.Statement:
          applyStatement(statement as OptionSpec, tok);
          leave();
          return true;
        case St.Set: {
          const valued = SET_VALUE_KEYWORDS.get(asciiLower(tok));
          if (valued !== undefined && tempFlags.length === 0) {
            // `set threads 2`: the same as the statement `threads 2`
            leave();
            statement = valued;
            enter(St.Statement);
            return true;
          }
          const flag = SET_KEYWORDS.get(asciiLower(tok));
          if (flag !== undefined) tempFlags.push(flag);
          else say(`Invalid "set" target: ${tok}`);
          leave();
          enter(St.NeedBool);
          return true;
        }
        case St.NeedBool: {
          const v = asciiLower(tok);
          if (v === 'true') for (const f of tempFlags) flags[f] = true;
          else if (v === 'false') for (const f of tempFlags) flags[f] = false;
          else say(`Invalid boolean token: ${tok}`);
          leave();
          return true;
        }
        case St.FilterProt: {
          const p = asciiLower(tok);
          if (p !== 'tcp' && p !== 'udp' && p !== 'icmp' && p !== 'icmp6') {
            abandon(`Invalid protocol: ${tok}`);
            leave();
            return false;
          }
          // icmp6 (ours): an ICMPv6 rule, kept in the ICMP list (evaluation order), IPv6 only
          (draft as Draft).proto = p === 'icmp6' ? 'icmp' : p;
          (draft as Draft).icmp6 = p === 'icmp6';
          leave();
          enter(St.Filter);
          return true;
        }
        case St.Filter: {
          const d = draft as Draft;
          const kw = asciiLower(tok);
          const allowed =
            kw === 'from' || kw === 'to' || (d.proto === 'icmp' ? kw === 'type' : kw === 'sport' || kw === 'dport');
          if (!allowed) {
            abandon(`Invalid filter keyword: ${tok}`);
            leave();
            return false;
          }
          const clause = kw as 'from' | 'to' | 'sport' | 'dport' | 'type';
          if (d.seen.has(clause)) {
            abandon(`"${clause}" already set.`);
            leave();
            return false;
          }
          d.seen.add(clause);
          if (clause === 'from' || clause === 'to') {
            addrSide = clause;
            enter(St.NeedAddr);
          } else if (clause === 'type') {
            enter(St.NeedType);
          } else {
            portSide = clause;
            enter(St.NeedPort);
          }
          return true;
        }
        case St.NeedAddr: {
          const d = draft as Draft;
          const r = parseAddrRange(tok, names);
          leave();
          if (!r.ok) {
            abandon(r.error);
            leave();
            return false;
          }
          d[addrSide] = r.value.test;
          if (addrSide === 'from') d.fromList = r.value.list;
          else d.toList = r.value.list;
          return true;
        }
        case St.NeedPort: {
          const d = draft as Draft;
          const r = parsePortRange(tok, d.proto as 'tcp' | 'udp', names);
          leave();
          if (!r.ok) {
            abandon(r.error);
            leave();
            return false;
          }
          d[portSide] = r.value;
          return true;
        }
        case St.NeedType: {
          const d = draft as Draft;
          const r = d.icmp6 ? parseIcmp6Type(tok) : parseIcmpType(tok);
          leave();
          if (!r.ok) {
            abandon(r.error);
            leave();
            return false;
          }
          d.icmpType = r.value.type;
          d.icmpNegate = r.value.negate;
          return true;
        }
        case St.Comment: {
          const end = tok.indexOf('*/');
          if (end < 0) return true;
          leave();
          tok = tok.slice(end + 2);
          if (tok === '') return true;
          continue; // parse what follows "*/" in the same token
        }
      }
    }
  };

  let currentLine = '';
  for (const line of readLines(text)) {
    lineNo++;
    currentLine = line;
    if (state !== St.Comment) tempFlags = [];
    const tokens = line.split(/[ \t]+/).filter((t) => t !== '');
    if (tokens.length === 0) {
      if (state !== St.Initial && state !== St.Comment) say('Premature EOL');
      continue;
    }
    for (const tok of tokens) {
      if (!token(tok)) break;
    }
    if (held !== null && badLines >= NOT_CONFIG_AFTER) {
      diag(notConfig(path, badLines), lineNo);
      return;
    }
    // A `#` ends the line like its end does; after an error the state is back to Initial,
    // where the end of the line does nothing.
    endOfLine();
  }
  if (held !== null && badLines >= 3) {
    diag(notConfig(path, badLines), lineNo);
    return;
  }
  valid();
  if (state === St.Comment) diag(`${printable(path)}: Parse Error: Unterminated comment.`, lineNo);
  if (settings.logs !== undefined) checkLogSettings(settings.logs);
}

/**
 * A file is taken for something else than a configuration file (`--config /etc/shadow`),
 * and its lines are not echoed, when NOT_CONFIG_AFTER invalid lines come before any iplog
 * statement, or when it has no statement at all and three or more invalid lines.
 */
export const NOT_CONFIG_AFTER = 5;

function notConfig(path: string, bad: number): string {
  return `${printable(path)}: not an iplog configuration file (${bad} lines that are no iplog statements, none that is one); nothing read from it.`;
}

/** Longest diagnostic printed (a longer one, quoting a long token, is cut and ends in `...`). */
export const DIAG_MAX = 160;

/**
 * A diagnostic as it may be printed: control bytes (C0 and CR among them, DEL, C1) as
 * `\\xNN` escapes, so a file cannot move the cursor or recolour the terminal; cut to
 * DIAG_MAX characters.
 */
export function printable(msg: string): string {
  const out = msg.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));
  return out.length > DIAG_MAX ? out.slice(0, DIAG_MAX - 3) + '...' : out;
}

/** The name of a statement as written in iplog.conf. */
function statementName(spec: OptionSpec): string {
  return typeof spec.statement === 'string' ? spec.statement : String(spec.long[0]);
}

function defaultReadFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * A test oracle: the iplog 2.2.3 line catalogue (spec §3.4) parsed back into facts, one
 * regular expression per line form, written from the spec, independent of the engine
 * and of the consumer configurations under test. The JSON test checks it against the
 * events behind every replayed line; the consumer tests (fail2ban, OSSEC, Wazuh,
 * CrowdSec) use it to know which address each golden line must yield.
 *
 * A host as rendered (spec §3.2) is `a.b.c.d`, a name, or `name (a.b.c.d)` (-w); names
 * never contain blanks or parentheses (PTR answers are sanitised, /etc/hosts is split at
 * blanks). IPv6 (docs/ipv6.md, docs/log-format.md): an RFC 5952 address, `name (2001:db8::1)`,
 * and before a port `[2001:db8::1]:port` (RFC 5952 §6). `addressOf()` is the address a
 * line states for a host, or null when it shows only a name.
 */

/** One rendered host (a bracketed IPv6 address before a port included). */
const H = '[^\\s()]+(?: \\([0-9a-f.:]+\\))?';
const QUAD = '(?:[0-9]{1,3}\\.){3}[0-9]{1,3}';
/** the ban manager's addresses: IPv4, or IPv6 in RFC 5952 form */
const BANADDR = `(?:${QUAD}|[0-9a-f:.]*:[0-9a-f:.]*)`;
const PORTS = '\\[(ports?) ([0-9,.]+)\\]';
export const SCAN_TITLES = ['TCP: port scan', 'TCP: null scan', 'TCP: FIN scan', 'TCP: SYN scan', 'TCP: Xmas scan', 'UDP: scan/flood', 'ICMP/UDP: smurf attack', 'ICMP: ping flood'];
/**
 * The modern profile's new detection titles (MODERN.md 5.5-5.6, docs/log-format.md): the same
 * `<title> detected[ to D][ ports] from S[ ports]` grammar. Aggregates say `from many sources`
 * (and `mode to D expired for many sources`): no address, never a ban target.
 */
export const MODERN_TITLES = ['TCP: ACK scan', 'TCP: Maimon scan', 'TCP: SYN flood', 'TCP: distributed scan', 'TCP: decoy scan', 'TCP: port sweep', 'UDP: port sweep', 'ICMP: ping sweep', 'ARP: host sweep', 'ICMPv6: neighbour sweep'];
const TITLE = `(${[...SCAN_TITLES, ...MODERN_TITLES].map((t) => t.replace(/[/]/g, '\\/')).join('|')})`;
/** what an aggregate line says instead of a source */
export const MANY = 'many sources';

export interface Parsed {
  /** the event kind this line tells */
  kind: string;
  /** source host as the line shows it (for BAN lines: the address) */
  src: string | null;
  /** destination host when the line shows it */
  dst: string | null;
  sport?: number;
  dport?: number;
  count?: number;
  bytes?: number;
  /** UDP data bytes as printed (may be 2^64 - n for a length field below 8) */
  dataBytes?: string;
  title?: string;
  /** an aggregate detection (`from many sources`): src is null, the line names no source */
  aggregate?: boolean;
  dports?: string;
  sports?: string;
  service?: string;
  ident?: string;
}

type Rule = [RegExp, (m: RegExpExecArray) => Parsed];
const re = (s: string) => new RegExp(`^${s}$`);
const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));

const FRAG: Record<string, string> = {
  'Oversized IP fragment': 'frag.oversized',
  'Duplicate IP fragments': 'frag.duplicate',
  'Overlapping IP fragments': 'frag.overlap',
  'Overlapping IP frags': 'frag.overlap',
  'Tiny IP fragment': 'frag.tiny',
  'Short IP packet': 'ip.short',
  'IP packet with invalid checksum': 'ip.bad_checksum',
};

const ICMP_PLAIN: Record<string, string> = {
  'router solicitation': 'icmp.router_solicitation',
  'timestamp request': 'icmp.timestamp_request',
  'info request': 'icmp.info_request',
  'info reply': 'icmp.info_reply',
  'address mask request': 'icmp.mask_request',
  'source quench': 'icmp.source_quench',
};

const ICMP6_PLAIN: Record<string, string> = {
  'router solicitation': 'icmp6.router_solicitation',
  'multicast listener query': 'icmp6.mld_query',
  'multicast listener report': 'icmp6.mld_report',
  'multicast listener done': 'icmp6.mld_done',
  'multicast listener report v2': 'icmp6.mld2_report',
};

const RULES: Rule[] = [
  // aggregates first: `many` must never be read as a host
  [re(`${TITLE} detected to (${H})(?: ${PORTS})? from ${MANY}`), (m) => ({
    kind: 'scan.detected', title: m[1], dst: m[2]!, dports: m[4], src: null, aggregate: true,
  })],
  [re(`${TITLE} mode to (${H}) expired for ${MANY} - received a total of ([0-9]+) packets \\(([0-9]+) bytes\\)\\.`), (m) => ({
    kind: 'scan.expired', title: m[1], dst: m[2]!, src: null, aggregate: true, count: num(m[3]), bytes: num(m[4]),
  })],
  [re(`${TITLE} detected(?: to (${H}))?(?: ${PORTS})? from (${H})(?: ${PORTS})?`), (m) => ({
    kind: 'scan.detected', title: m[1], dst: m[2] ?? null, dports: m[4], src: m[5]!, sports: m[7] ?? undefined,
  })],
  [re(`${TITLE} mode(?: to (${H}))? expired for (${H}) - received a total of ([0-9]+) packets \\(([0-9]+) bytes\\)\\.`), (m) => ({
    kind: 'scan.expired', title: m[1], dst: m[2] ?? null, src: m[3]!, count: num(m[4]), bytes: num(m[5]),
  })],
  [re(`TCP: Bogus TCP flags set by (${H}):([0-9]+) \\(dest (?:port ([0-9]+)|(${H}):([0-9]+))\\)`), (m) => ({
    kind: 'tcp.bogus_flags', src: m[1]!, sport: num(m[2]), dst: m[4] ?? null, dport: num(m[3] ?? m[5]),
  })],
  [re(`TCP: (.+?) connection attempt(?: to (${H}))? from (?:([^@\\s]+)@)?(${H}):([0-9]+)`), (m) => ({
    kind: 'tcp.connection_attempt', service: m[1], dst: m[2] ?? null, ident: m[3], src: m[4]!, sport: num(m[5]),
  })],
  [re(`UDP: dgram to (?:(${H}):)?(port [0-9]+|[^\\s:]+) from (${H}):([0-9]+) \\(([0-9]+) data bytes\\)`), (m) => ({
    kind: 'udp.datagram', dst: m[1] ?? null, service: m[2], src: m[3]!, sport: num(m[4]), dataBytes: m[5],
  })],
  [re(`(UDP|ICMP|TCP): traceroute from (${H})(?: to (${H}))?`), (m) => ({ kind: `${m[1]!.toLowerCase()}.traceroute`, src: m[2]!, dst: m[3] ?? null })],
  [re(`(${Object.keys(FRAG).join('|')})(?: to (${H}))? from (${H})`), (m) => ({ kind: FRAG[m[1]!]!, dst: m[2] ?? null, src: m[3]! })],
  [re(`ICMP: (echo reply|echo) from (${H})(?: to (${H}))? \\(([0-9]+) bytes\\)`), (m) => ({
    kind: m[1] === 'echo' ? 'icmp.echo' : 'icmp.echo_reply', src: m[2]!, dst: m[3] ?? null, bytes: num(m[4]),
  })],
  [re(`ICMP: (?:\\(from (${H})\\) (${H})|(${H})): port is unreachable to(?: (${H}))? \\((.*)\\)`), (m) => ({
    kind: 'icmp.unreachable', src: (m[1] ?? m[3])!, dst: m[4] ?? null,
  })],
  [re(`ICMP: undefined destination unreachable code \\(([0-9]+)\\) from (${H})(?: to (${H}))?`), (m) => ({
    kind: 'icmp.unreachable_undefined_code', src: m[2]!, dst: m[3] ?? null,
  })],
  [re(`ICMP: \\((${H})\\) (?:redirect|redirect-tos) (${H}) to (?:network|host) (${H})`), (m) => ({ kind: 'icmp.redirect', src: m[2]!, dst: null })],
  [re(`ICMP: undefined redirect code ([0-9]+)(?: to (${H}))? from (${H})`), (m) => ({ kind: 'icmp.redirect_undefined_code', dst: m[2] ?? null, src: m[3]! })],
  [re(`ICMP: path of router advertisement(?: to (${H}))? from (${H}): (.*) \\(lifetime .*\\)`), (m) => ({
    kind: 'icmp.router_advertisement', dst: m[1] ?? null, src: m[2]!,
  })],
  [re(`ICMP: timestamp request(?: to (${H}))? from (${H}) \\([0-9]{2}:[0-9]{2}:[0-9]{2}\\)`), (m) => ({ kind: 'icmp.timestamp_reply', dst: m[1] ?? null, src: m[2]! })],
  [re(`ICMP: (${Object.keys(ICMP_PLAIN).join('|')})(?: to (${H}))? from (${H})`), (m) => ({ kind: ICMP_PLAIN[m[1]!]!, dst: m[2] ?? null, src: m[3]! })],
  [re(`ICMP: (${H}) time exceeded(?: to (${H}))? \\((.*)\\)`), (m) => ({ kind: 'icmp.time_exceeded', src: m[1]!, dst: m[2] ?? null })],
  [re(`ICMP: parameter problem(?: to (${H}))? from (${H}) \\(ptr ([0-9]+)\\)`), (m) => ({ kind: 'icmp.parameter_problem', dst: m[1] ?? null, src: m[2]! })],
  [re(`ICMP: address mask reply(?: to (${H}))? from (${H}) \\((${H})\\)`), (m) => ({ kind: 'icmp.mask_reply', dst: m[1] ?? null, src: m[2]! })],
  [re(`ICMP: undefined ICMP type ([0-9]+)(?: to (${H}))? from (${H})`), (m) => ({ kind: 'icmp.undefined_type', dst: m[2] ?? null, src: m[3]! })],
  // ICMPv6 (docs/log-format.md "ICMPv6 lines")
  [re(`ICMPv6: echo (request|reply) from (${H})(?: to (${H}))? \\(([0-9]+) bytes\\)`), (m) => ({
    kind: m[1] === 'request' ? 'icmp6.echo_request' : 'icmp6.echo_reply', src: m[2]!, dst: m[3] ?? null, bytes: num(m[4]),
  })],
  [re(`ICMPv6: packet too big(?: to (${H}))? from (${H}) \\(mtu [0-9]+; (.*)\\)`), (m) => ({ kind: 'icmp6.packet_too_big', dst: m[1] ?? null, src: m[2]! })],
  [re(`ICMPv6: parameter problem(?: to (${H}))? from (${H}) \\(code [0-9]+, ptr [0-9]+\\)`), (m) => ({ kind: 'icmp6.parameter_problem', dst: m[1] ?? null, src: m[2]! })],
  [re(`ICMPv6: (?:\\(from (${H})\\) (${H})|(${H})) (?:hop limit exceeded|fragment reassembly time exceeded|time exceeded code [0-9]+)(?: to (${H}))? \\((.*)\\)`), (m) => ({
    kind: 'icmp6.time_exceeded', src: (m[1] ?? m[3])!, dst: m[4] ?? null,
  })],
  [re(`ICMPv6: (?:\\(from (${H})\\) (${H})|(${H})): (?:[a-z /-]+)(?: to (${H}))? \\((.*)\\)`), (m) => ({
    kind: 'icmp6.unreachable', src: (m[1] ?? m[3])!, dst: m[4] ?? null,
  })],
  [re(`ICMPv6: redirect(?: to (${H}))? from (${H}): (\\S+) via (\\S+)`), (m) => ({ kind: 'icmp6.redirect', dst: m[1] ?? null, src: m[2]! })],
  [re(`ICMPv6: router advertisement(?: to (${H}))? from (${H}) \\(lifetime [0-9]+ sec\\)`), (m) => ({ kind: 'icmp6.router_advertisement', dst: m[1] ?? null, src: m[2]! })],
  [re(`ICMPv6: neighbour (solicitation|advertisement) for (\\S+)(?: to (${H}))? from (${H})`), (m) => ({
    kind: m[1] === 'solicitation' ? 'icmp6.neighbor_solicitation' : 'icmp6.neighbor_advertisement', dst: m[3] ?? null, src: m[4]!,
  })],
  [re(`ICMPv6: (router solicitation|multicast listener query|multicast listener report v2|multicast listener report|multicast listener done)(?: to (${H}))? from (${H})`), (m) => ({
    kind: ICMP6_PLAIN[m[1]!]!, dst: m[2] ?? null, src: m[3]!,
  })],
  [re(`ICMPv6: undefined ICMPv6 type ([0-9]+)(?: to (${H}))? from (${H})`), (m) => ({ kind: 'icmp6.undefined_type', dst: m[2] ?? null, src: m[3]! })],
  [re(`BAN: banned (${BANADDR}) for ([0-9]+) seconds \\((.*)\\)`), (m) => ({ kind: 'ban.added', src: m[1]!, dst: null })],
  [re(`BAN: unbanned (${BANADDR}) \\((.*)\\)`), (m) => ({ kind: 'ban.removed', src: m[1]!, dst: null })],
  [re(`BAN: not banning (${BANADDR}) \\((.*)\\)`), (m) => ({ kind: 'ban.refused', src: m[1]!, dst: null })],
];

/** The facts of one line text (no timestamp, no syslog header), or null if it is no event line. */
export function parseLine(text: string): Parsed | null {
  for (const [r, f] of RULES) {
    const m = r.exec(text);
    if (m) {
      const p = f(m);
      // `[2001:db8::1]:port`: the host is the address inside the brackets
      if (p.src !== null && p.src.startsWith('[')) p.src = unbracket(p.src);
      if (p.dst !== null && p.dst.startsWith('[')) p.dst = unbracket(p.dst);
      return p;
    }
  }
  return null;
}

function unbracket(host: string): string {
  const b = BRACKETED_RE.exec(host);
  return b ? b[1]! : host;
}

const QUAD_RE = new RegExp(`^${QUAD}$`);
/** an IPv6 address as iplog writes it: hex groups and colons (a name never holds ':'), maybe a dotted tail */
const V6 = '[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){1,7}(?::[0-9.]+)?|::ffff:[0-9.]+';
const V6_RE = new RegExp(`^(?:${V6})$`);
const BRACKETED_RE = new RegExp(`^\\[(${V6})\\]$`);
const NAMED_RE = new RegExp(`^[^\\s()]+ \\((${QUAD}|${V6})\\)$`);

/** The address a rendered host states: itself, `[v6]`, or the one in `name (addr)`; null for a bare name. */
export function addressOf(host: string | null): string | null {
  if (host === null) return null;
  if (QUAD_RE.test(host) || V6_RE.test(host)) return host;
  const b = BRACKETED_RE.exec(host);
  if (b) return b[1]!;
  const m = NAMED_RE.exec(host);
  return m ? m[1]! : null;
}

/** The families a HIDS acts on, by kind. */
export const DETECTION_KINDS = new Set(['scan.detected', 'tcp.bogus_flags', 'frag.oversized', 'frag.duplicate', 'frag.overlap', 'frag.tiny']);

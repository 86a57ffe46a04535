/**
 * The line catalogue: every iplog line's wording, from its event, in both forms (with and
 * without `log_dest`, -D). Pure: no I/O, no state; the host texts come rendered by role
 * (the emitter resolves the roles `shownRoles()` names, then calls `lineText()`).
 *
 * Handlers and detectors decide *that* something is said and with which facts (the
 * event); this module alone decides *how* it reads. The wording is iplog 2.2.3's
 * (spec §3.4), oddities included: every unreachable code 0-15 reads "port is
 * unreachable" (and "to (" dangles without log_dest), ICMP type 14 says "timestamp
 * request" and prints the transmit time as local HH:MM:SS, redirects never name the
 * destination, a smurf source is its network.
 *
 * IPv6 (never seen by the original): a host followed by a port is written `[addr]:port`
 * when the host text is a bare IPv6 address (RFC 5952 §6), `name:port` and
 * `name (addr):port` otherwise, as for IPv4 (docs/log-format.md).
 */
import type { IplogEvent } from './event';
import { protoName, serviceBytes } from './services';
import { clockTime } from './timestamp';
import { type ByteWriter, ascii, putBytes, putQuad, putUint } from './bytes';

/** what an aggregate line (modern profile: src null) says instead of a source; never an address */
export const MANY = 'many sources';

/** Roles a line can render (bit mask of shownRoles()). */
export const ROLE_SRC = 1;
export const ROLE_DST = 2;
export const ROLE_GATEWAY = 4;
export const ROLE_QUOTED = 8;
export const ROLE_MASK = 16;

/** The host texts of a line by role, as rendered; '' for a role the line does not show. */
export interface RoleHosts {
  readonly src: string;
  readonly dst: string;
  readonly gateway: string;
  readonly quoted: string;
  readonly mask: string;
}

export const NO_HOSTS: RoleHosts = Object.freeze({ src: '', dst: '', gateway: '', quoted: '', mask: '' });

/**
 * `host:port` for a rendered host text, bracketing a bare IPv6 address (RFC 5952 §6); a
 * name, or `name (2001:db8::1)`, is followed by `:port` as it is (net/addr.ts hostPort()
 * is the same for address values).
 */
export function hostPort(host: string, port: number | string): string {
  return isBareV6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A host text that is an IPv6 address alone (a name never holds ':', `name (addr)` holds a space). */
function isBareV6(host: string): boolean {
  return host.indexOf(':') >= 0 && host.indexOf(' ') < 0;
}

/**
 * make_ports_str(): ` [port N]` for one port, ` [ports a,b,...]` for several, ending in
 * `,...]` once the list was full (`truncated`); empty without ports.
 */
export function portList(ports: readonly number[], truncated: boolean): string {
  const n = ports.length;
  if (n === 0) return '';
  if (n === 1) return ` [port ${ports[0]}]`;
  return ` [ports ${ports.join(',')}${truncated ? ',...]' : ']'}`;
}

/** icmp_codes[] of iplog_icmp.h, by type (undefined: "undefined ICMP type") */
const TYPE_TEXT: (string | undefined)[] = [
  'echo reply', undefined, undefined, 'destination unreachable', 'source quench', 'redirect', undefined, undefined,
  'echo', 'path of router advertisement', 'router solicitation', 'time exceeded', 'parameter problem',
  'timestamp request', 'timestamp reply', 'info request', 'info reply', 'address mask request', 'address mask reply',
];

/** icmp_types[]: names of a quoted ICMP message's type */
const QUOTED_NAME = [
  'ICMP_ECHO_REPLY', '1', '2', 'ICMP_DEST_UNREACHABLE', 'ICMP_SOURCE_QUENCH', 'ICMP_REDIRECT', '6', '7',
  'ICMP_ECHO', 'ICMP_ROUTER_ADVERT', 'ICMP_ROUTER_SOLICIT', 'ICMP_TIME_EXCEEDED', 'ICMP_PARAMETER_PROBLEM',
  'ICMP_TIMESTAMP', 'ICMP_TIMESTAMP_REPLY', 'ICMP_INFO_REQUEST', 'ICMP_INFO_REPLY', 'ICMP_ADDRESS_REQUEST',
  'ICMP_ADDRESS_REPLY',
];
/** the original indexed past its table for quoted types >= 19; we name them plainly */
const QUOTED_UNDEFINED = 'ICMP_UNDEFINED';

const REDIRECT_FMT = ['redirect', 'to network', 'redirect', 'to host', 'redirect-tos', 'to network', 'redirect-tos', 'to host'];

/** The fixed text of the IP-level kinds. */
const IP_TEXT: Record<string, string> = {
  'frag.oversized': 'Oversized IP fragment',
  'frag.duplicate': 'Duplicate IP fragments',
  'frag.overlap': 'Overlapping IP fragments',
  // modern profile (src/detect/modern/tiny-fragment.ts)
  'frag.tiny': 'Tiny IP fragment',
  'ip.short': 'Short IP packet',
  'ip.bad_checksum': 'IP packet with invalid checksum',
};

const TWO64 = 18446744073709551616n;

/** `N data bytes` of a UDP line: the length field minus 8 in unsigned 64-bit arithmetic. */
export function udpDataBytes(ulen: number): string {
  return ulen >= 8 ? String(ulen - 8) : (TWO64 - BigInt(8 - ulen)).toString();
}

function num(ev: IplogEvent, key: string): number {
  const v = ev.detail?.[key];
  return typeof v === 'number' ? v : 0;
}

function str(ev: IplogEvent, key: string): string {
  const v = ev.detail?.[key];
  return typeof v === 'string' ? v : '';
}

/** Does an unreachable line name the quoted destination (`(from S) Q`)? Only when it is not the sender. */
function quotedShown(ev: IplogEvent): boolean {
  return ev.quoted !== null && (ev.src === null || !ev.quoted.equals(ev.src));
}

/** The roles the line of `ev` renders (ROLE_* bits): the emitter resolves exactly these. */
export function shownRoles(ev: IplogEvent, logDest: boolean): number {
  const k = ev.kind;
  if (k === 'icmp.redirect') return ROLE_SRC | ROLE_GATEWAY | ROLE_QUOTED;
  // an aggregate (no source: "from many sources") always names its destination
  if (ev.src === null) return ev.dst !== null ? ROLE_DST : 0;
  let r = ROLE_SRC;
  if (logDest && ev.dst !== null) r |= ROLE_DST;
  if (k === 'icmp6.redirect') r |= ROLE_GATEWAY | ROLE_QUOTED;
  else if ((k === 'icmp.unreachable' || k === 'icmp6.unreachable' || k === 'icmp6.time_exceeded') && quotedShown(ev)) r |= ROLE_QUOTED;
  else if (k === 'icmp.mask_reply') r |= ROLE_MASK;
  return r;
}

/** The text of the line of `ev` (without timestamp), host texts by role. */
export function lineText(ev: IplogEvent, h: RoleHosts, logDest: boolean): string {
  const k = ev.kind;
  const sh = h.src;
  const dh = h.dst;
  switch (k) {
    case 'tcp.connection_attempt': {
      const svc = str(ev, 'service');
      const user = ev.detail?.ident_user;
      const who = typeof user === 'string' ? `${user}@` : '';
      return logDest
        ? `TCP: ${svc} connection attempt to ${dh} from ${who}${hostPort(sh, ev.sport)}`
        : `TCP: ${svc} connection attempt from ${who}${hostPort(sh, ev.sport)}`;
    }
    case 'udp.datagram': {
      const svc = str(ev, 'service');
      const n = udpDataBytes(num(ev, 'udp_length'));
      return logDest
        ? `UDP: dgram to ${hostPort(dh, svc)} from ${hostPort(sh, ev.sport)} (${n} data bytes)`
        : `UDP: dgram to ${svc} from ${hostPort(sh, ev.sport)} (${n} data bytes)`;
    }
    case 'scan.detected': {
      const title = str(ev, 'title');
      const dports = portList((ev.detail?.dports as number[] | undefined) ?? [], ev.detail?.dports_truncated === true);
      const sports = portList((ev.detail?.sports as number[] | undefined) ?? [], ev.detail?.sports_truncated === true);
      if (ev.src === null) return `${title} detected to ${dh}${dports} from ${MANY}`;
      // a sweep names the prefix its destinations cover, always (modern: port-sweep, ping-sweep)
      const prefix = ev.detail?.dst_prefix;
      if (typeof prefix === 'string') return `${title} detected to ${prefix}${dports} from ${sh}${sports}`;
      return logDest ? `${title} detected to ${dh}${dports} from ${sh}${sports}` : `${title} detected${dports} from ${sh}${sports}`;
    }
    case 'scan.expired': {
      const title = str(ev, 'title');
      const tail = ` - received a total of ${ev.count} packets (${ev.bytes} bytes).`;
      if (ev.src === null) return `${title} mode to ${dh} expired for ${MANY}${tail}`;
      return logDest ? `${title} mode to ${dh} expired for ${sh}${tail}` : `${title} mode expired for ${sh}${tail}`;
    }
    case 'tcp.bogus_flags':
      return logDest
        ? `TCP: Bogus TCP flags set by ${hostPort(sh, ev.sport)} (dest ${hostPort(dh, ev.dport)})`
        : `TCP: Bogus TCP flags set by ${hostPort(sh, ev.sport)} (dest port ${ev.dport})`;
    case 'udp.traceroute':
      return logDest ? `UDP: traceroute from ${sh} to ${dh}` : `UDP: traceroute from ${sh}`;
    // modern profile: traceroutes recognised by their TTL pattern (src/detect/modern/engine.ts)
    case 'icmp.traceroute':
      return logDest ? `ICMP: traceroute from ${sh} to ${dh}` : `ICMP: traceroute from ${sh}`;
    case 'tcp.traceroute':
      return logDest ? `TCP: traceroute from ${sh} to ${dh}` : `TCP: traceroute from ${sh}`;
  }
  const ip = IP_TEXT[k];
  if (ip !== undefined) {
    // iplog's log_dest wording for an overlap found while inserting in the middle
    const what = logDest && k === 'frag.overlap' && ev.detail?.position === 'middle' ? 'Overlapping IP frags' : ip;
    return logDest ? `${what} to ${dh} from ${sh}` : `${what} from ${sh}`;
  }
  if (k.startsWith('icmp.')) return icmpText(ev, h, logDest);
  if (k.startsWith('icmp6.')) return icmp6Text(ev, h, logDest);
  return k;
}

/** `host:port` (hostPort()) into a writer, the port a number or a service name. */
function writeHostPort(w: ByteWriter, host: string, port: number | string): void {
  if (isBareV6(host)) {
    w.byte(0x5b); // [
    w.str(host);
    w.byte(0x5d); // ]
  } else w.str(host);
  w.byte(0x3a); // :
  if (typeof port === 'number') w.uint(port);
  else w.str(port);
}

/**
 * The text of the line of `ev` written as UTF-8 into `w`: the same bytes as
 * `lineText(ev, h, logDest)` (test/output/lines.test.ts compares them over every kind).
 * The lines a busy sensor writes most (a connection attempt, a UDP datagram) are written
 * piece by piece, numbers as digits, without building a string; the others as their text.
 */
export function writeLine(w: ByteWriter, ev: IplogEvent, h: RoleHosts, logDest: boolean): void {
  const k = ev.kind;
  if (k === 'tcp.connection_attempt') {
    const d = ev.detail;
    const svc = d === null ? undefined : d.service;
    const user = d === null ? undefined : d.ident_user;
    if (ev.sport >= 0 && Number.isSafeInteger(ev.sport)) {
      w.str('TCP: ');
      if (typeof svc === 'string') w.str(svc);
      w.str(' connection attempt ');
      if (logDest) {
        w.str('to ');
        w.str(h.dst);
        w.byte(0x20);
      }
      w.str('from ');
      if (typeof user === 'string') {
        w.str(user);
        w.byte(0x40); // @
      }
      writeHostPort(w, h.src, ev.sport);
      return;
    }
  } else if (k === 'udp.datagram') {
    const d = ev.detail;
    const svc = d === null ? undefined : d.service;
    const ulen = d === null ? 0 : d.udp_length;
    if (typeof ulen === 'number' && ulen >= 8 && Number.isSafeInteger(ulen) && ev.sport >= 0 && Number.isSafeInteger(ev.sport)) {
      const name = typeof svc === 'string' ? svc : '';
      w.str('UDP: dgram to ');
      if (logDest) writeHostPort(w, h.dst, name);
      else w.str(name);
      w.str(' from ');
      writeHostPort(w, h.src, ev.sport);
      w.str(' (');
      w.uint(ulen - 8);
      w.str(' data bytes)');
      return;
    }
  }
  w.str(lineText(ev, h, logDest));
}

/** Room a buffer needs for writeConnectionV4() (a service name of 127 Latin-1 characters included). */
export const CONN_LINE_MAX = 512;

const TCP_ = ascii('TCP: ');
const PORT_ = ascii('port ');
const CONN_FROM_ = ascii(' connection attempt from ');
const CONN_TO_ = ascii(' connection attempt to ');
const _FROM_ = ascii(' from ');

/**
 * The line of a `tcp.connection_attempt` from its raw facts, without making the event:
 * IPv4 addresses (host order) shown as addresses (no names, no ident user), written as
 * UTF-8 at `p` of `b` (room: CONN_LINE_MAX); returns the end. The same bytes as
 * `lineText(ev, hosts, logDest)` for the event tcp.ts makes of the same facts
 * (test/output/lines.test.ts compares them): `TCP: SVC connection attempt [to D ]from S:SPORT`.
 */
export function writeConnectionV4(b: Uint8Array, p: number, src: number, sport: number, dst: number, dport: number, logDest: boolean): number {
  p = putBytes(b, p, TCP_);
  const svc = serviceBytes(dport, 'tcp');
  if (svc !== null) p = putBytes(b, p, svc);
  else p = putUint(b, putBytes(b, p, PORT_), dport & 0xffff);
  if (logDest) {
    p = putQuad(b, putBytes(b, p, CONN_TO_), dst);
    p = putBytes(b, p, _FROM_);
  } else p = putBytes(b, p, CONN_FROM_);
  p = putQuad(b, p, src);
  b[p++] = 0x3a; // :
  return putUint(b, p, sport);
}

const UNREACH6 = [
  'no route to destination',
  'communication administratively prohibited',
  'beyond scope of source address',
  'address unreachable',
  'port unreachable',
  'source address failed ingress/egress policy',
  'reject route to destination',
];

const ND_MLD: Record<string, string> = {
  'icmp6.router_solicitation': 'router solicitation',
  'icmp6.router_advertisement': 'router advertisement',
  'icmp6.neighbor_solicitation': 'neighbour solicitation',
  'icmp6.neighbor_advertisement': 'neighbour advertisement',
  'icmp6.mld_query': 'multicast listener query',
  'icmp6.mld_report': 'multicast listener report',
  'icmp6.mld_done': 'multicast listener done',
  'icmp6.mld2_report': 'multicast listener report v2',
};

/**
 * ICMPv6 lines (docs/log-format.md), in the style of iplog's ICMP lines: `ICMPv6: `, the
 * message, `[to D] from S` or `S ... [to D]` as the matching ICMP line has it, facts in
 * parentheses. An error that quotes another destination than its sender says
 * `(from S) Q`, as an ICMP unreachable does.
 */
function icmp6Text(ev: IplogEvent, h: RoleHosts, logDest: boolean): string {
  const sh = h.src;
  const to = logDest ? ` to ${h.dst}` : '';
  const code = num(ev, 'icmp_code');
  const who = quotedShown(ev) && h.quoted !== '' ? `(from ${sh}) ${h.quoted}` : sh;
  switch (ev.kind) {
    case 'icmp6.echo_request':
      return `ICMPv6: echo request from ${sh}${to} (${ev.bytes} bytes)`;
    case 'icmp6.echo_reply':
      return `ICMPv6: echo reply from ${sh}${to} (${ev.bytes} bytes)`;
    case 'icmp6.unreachable': {
      const what = UNREACH6[code] ?? `destination unreachable code ${code}`;
      return `ICMPv6: ${who}: ${what}${to} (${quotedData6(ev)})`;
    }
    case 'icmp6.packet_too_big':
      return `ICMPv6: packet too big${to} from ${sh} (mtu ${num(ev, 'mtu')}; ${quotedData6(ev)})`;
    case 'icmp6.time_exceeded': {
      const what = code === 1 ? 'fragment reassembly time exceeded' : code === 0 ? 'hop limit exceeded' : `time exceeded code ${code}`;
      return `ICMPv6: ${who} ${what}${to} (${quotedData6(ev)})`;
    }
    case 'icmp6.parameter_problem':
      return `ICMPv6: parameter problem${to} from ${sh} (code ${code}, ptr ${num(ev, 'pointer')})`;
    case 'icmp6.redirect':
      return `ICMPv6: redirect${to} from ${sh}: ${h.quoted} via ${h.gateway}`;
    case 'icmp6.router_advertisement':
      return `ICMPv6: router advertisement${to} from ${sh} (lifetime ${num(ev, 'lifetime')} sec)`;
    case 'icmp6.neighbor_solicitation':
    case 'icmp6.neighbor_advertisement':
      return `ICMPv6: ${ND_MLD[ev.kind]!} for ${str(ev, 'target')}${to} from ${sh}`;
  }
  const nd = ND_MLD[ev.kind];
  if (nd !== undefined) return `ICMPv6: ${nd}${to} from ${sh}`;
  return `ICMPv6: undefined ICMPv6 type ${num(ev, 'icmp_type')}${to} from ${sh}`;
}

/** The invoking packet of an ICMPv6 error: protocol and ports, or the quoted ICMPv6 type and code. */
function quotedData6(ev: IplogEvent): string {
  const qproto = num(ev, 'quoted_proto');
  if (qproto === 58) return `ICMPv6: type ${num(ev, 'quoted_icmp_type')} code ${num(ev, 'quoted_icmp_code')}`;
  return `${protoName(qproto)}: dest port ${num(ev, 'quoted_dport')}, source port ${num(ev, 'quoted_sport')}`;
}

function icmpText(ev: IplogEvent, h: RoleHosts, logDest: boolean): string {
  const sh = h.src;
  const dh = h.dst;
  const type = num(ev, 'icmp_type');
  const code = num(ev, 'icmp_code');
  switch (type) {
    case 11: {
      const data = quotedData(ev);
      return logDest ? `ICMP: ${sh} time exceeded to ${dh} (${data})` : `ICMP: ${sh} time exceeded (${data})`;
    }
    case 0:
    case 8: {
      const what = TYPE_TEXT[type]!;
      return logDest ? `ICMP: ${what} from ${sh} to ${dh} (${ev.bytes} bytes)` : `ICMP: ${what} from ${sh} (${ev.bytes} bytes)`;
    }
    case 3: {
      if (code >= 16) {
        return logDest
          ? `ICMP: undefined destination unreachable code (${code}) from ${sh} to ${dh}`
          : `ICMP: undefined destination unreachable code (${code}) from ${sh}`;
      }
      const data = quotedData(ev);
      // H is S, or "(from S) Q" when the quoted destination is not the sender
      const who = quotedShown(ev) ? `(from ${sh}) ${h.quoted}` : sh;
      return logDest ? `ICMP: ${who}: port is unreachable to ${dh} (${data})` : `ICMP: ${who}: port is unreachable to (${data})`;
    }
    case 5: {
      if (code > 3) return logDest ? `ICMP: undefined redirect code ${code} to ${dh} from ${sh}` : `ICMP: undefined redirect code ${code} from ${sh}`;
      return `ICMP: (${h.gateway}) ${REDIRECT_FMT[code * 2]!} ${sh} ${REDIRECT_FMT[code * 2 + 1]!} ${h.quoted}`;
    }
    case 14: {
      const hms = clockTime(Math.floor(num(ev, 'transmit_ms') / 1000));
      return logDest ? `ICMP: timestamp request to ${dh} from ${sh} (${hms})` : `ICMP: timestamp request from ${sh} (${hms})`;
    }
    case 18:
      return logDest ? `ICMP: address mask reply to ${dh} from ${sh} (${h.mask})` : `ICMP: address mask reply from ${sh} (${h.mask})`;
    case 12: {
      const ptr = num(ev, 'pointer');
      return logDest ? `ICMP: parameter problem to ${dh} from ${sh} (ptr ${ptr})` : `ICMP: parameter problem from ${sh} (ptr ${ptr})`;
    }
    case 9: {
      const routers = ((ev.detail?.routers as string[] | undefined) ?? []).join(' -> ');
      const lifetime = num(ev, 'lifetime');
      const dur = lifetime < 60 ? `${lifetime} sec` : `${Math.floor(lifetime / 60)} min, ${lifetime % 60} sec`;
      return logDest
        ? `ICMP: path of router advertisement to ${dh} from ${sh}: ${routers} (lifetime ${dur})`
        : `ICMP: path of router advertisement from ${sh}: ${routers} (lifetime ${dur})`;
    }
    default: {
      const what = type <= 18 ? TYPE_TEXT[type] : undefined;
      if (what === undefined) return logDest ? `ICMP: undefined ICMP type ${type} to ${dh} from ${sh}` : `ICMP: undefined ICMP type ${type} from ${sh}`;
      return logDest ? `ICMP: ${what} to ${dh} from ${sh}` : `ICMP: ${what} from ${sh}`;
    }
  }
}

/** print_data(): the quoted packet's protocol and ports (or ICMP type and code). */
function quotedData(ev: IplogEvent): string {
  const qproto = num(ev, 'quoted_proto');
  if (qproto === 1) {
    const qt = num(ev, 'quoted_icmp_type');
    const name = qt <= 18 ? QUOTED_NAME[qt]! : QUOTED_UNDEFINED;
    if (qt === 3 || qt === 5) return `ICMP: ${name} code ${num(ev, 'quoted_icmp_code')}`;
    return `ICMP: ${name}`;
  }
  return `${protoName(qproto)}: dest port ${num(ev, 'quoted_dport')}, source port ${num(ev, 'quoted_sport')}`;
}

/**
 * Service and protocol names (spec §3.3) with the C library's semantics, precomputed so that
 * the per-line lookup is one array read.
 *
 * - `serviceName(port, proto)` is iplog's `serv_lookup()`: `getservbyport()`, i.e. the *first*
 *   /etc/services line with that port and exactly that protocol string, its first name; unknown
 *   → `port N`. Names longer than 127 characters are cut to 127 (iplog's MAX_SRVLEN buffer).
 * - `servicePort(name, proto)` is `getservbyname()`: the first line whose name *or alias* equals
 *   `name` (case-sensitive) with that protocol; unknown → -1. For config rules.
 * - `protoName(n)` is `proto_lookup()`: `getprotobynumber()`, the first /etc/protocols line with
 *   that number (`0` → `ip`, not `hopopt`); unknown → `proto N`. Cut to 31 characters
 *   (MAX_PRTLEN).
 *
 * Line syntax follows glibc nss_files (`files-service.c`, `files-proto.c`): `#` starts a comment
 * anywhere, fields are separated by C whitespace, the services port is read by
 * `strtoul(…, 0)` (so `0x16` and `026` are 22) then truncated to 16 bits, and must be followed
 * by `/`; the protocol number is decimal and must be followed by whitespace or the end.
 *
 * Files are read once, lazily, on the first call. A missing or unreadable file leaves every
 * answer numeric (`port N` / `proto N`) and is reported in `missing` (the Debian `netbase`
 * package ships both files). There is deliberately no built-in table: names would then depend
 * on this program rather than on the host's databases, which is what iplog printed.
 *
 * Bounds: two 65 536-entry index arrays (tcp, udp) into one list of names, one 256-entry
 * array, and one map per protocol of names and aliases from the files. `port N` strings are
 * created on first use and kept, so a scan across all ports costs at most 65 536 small
 * strings per protocol.
 */
import { fields } from './hosts-file';
import { readFileSync } from 'node:fs';

export type ServiceProto = 'tcp' | 'udp';

/** iplog's buffer sizes minus the terminating NUL (iplog.h: MAX_SRVLEN 128, MAX_PRTLEN 32). */
export const MAX_SERVICE_NAME = 127;
export const MAX_PROTO_NAME = 31;

export const SERVICES_PATH = '/etc/services';
export const PROTOCOLS_PATH = '/etc/protocols';

export interface ServiceDb {
  serviceName(port: number, proto: ServiceProto): string;
  /** serviceName() as UTF-8 bytes, or null for a made-up `port N`; cached */
  serviceBytes(port: number, proto: ServiceProto): Uint8Array | null;
  servicePort(name: string, proto: ServiceProto): number;
  protoName(n: number): string;
  /** Paths that could not be read (empty when both databases were loaded). */
  readonly missing: readonly string[];
}

/** The text of each line before its first `#`. */
function uncommentedLines(text: string): string[] {
  return text.split('\n').map((l) => {
    const hash = l.indexOf('#');
    return hash >= 0 ? l.slice(0, hash) : l;
  });
}

const ULONG_MAX = (1n << 64n) - 1n;

/**
 * `htons(strtoul(field, &end, 0))` followed by glibc's `*end == '/'` check, on a field that
 * holds no whitespace. Returns the 16-bit port and the protocol text after `/`, or undefined.
 */
function parsePortProto(field: string): { port: number; proto: string } | undefined {
  const m = /^([+-]?)(0[xX][0-9A-Fa-f]+|0[0-7]*|[1-9][0-9]*)\//.exec(field);
  if (m === null) return undefined;
  const digits = m[2];
  let v: bigint;
  if (/^0[xX]/.test(digits)) v = BigInt(digits);
  else if (digits.length > 1 && digits[0] === '0') v = BigInt('0o' + digits.slice(1));
  else v = BigInt(digits);
  if (v > ULONG_MAX) v = ULONG_MAX; // strtoul saturates (ERANGE)
  else if (m[1] === '-') v = (ULONG_MAX + 1n - v) & ULONG_MAX; // strtoul negates in unsigned long
  return { port: Number(v & 0xffffn), proto: field.slice(m[0].length) };
}

/**
 * A line's first two fields (its start, or a newline, then optional blanks, a field,
 * blanks, a field): blanks are C isspace() (\t to \r and space) without the newline, a
 * field runs to a blank or a '#' (a comment). Not the `m` flag: in JS, `^` would also
 * match after a carriage return, which is a blank inside a line for the C library.
 */
const SERVICE_LINE = /(?:^|\n)[\t\v\f\r ]*([^\t-\r #]+)[\t\v\f\r ]+([^\t-\r #]+)/g;

/**
 * Each table is built from its file's text on first use (issue 10 item 3: a replay's first
 * line needs only the port index; the name map serves config rules, the protocol table
 * non-TCP/UDP lines). The texts are read when the tables are made, so `missing` is known
 * from the start as before.
 */
class Tables implements ServiceDb {
  /**
   * Per protocol and port, the index of its name in `names` (0: none yet); null until the
   * first lookup. Two 65 536-slot arrays of strings were 1 MiB of the heap written at
   * start-up (about 5 % of a one-packet replay's); these typed arrays come zeroed from the
   * allocator and cost only the pages of the ports actually named.
   */
  private byPort: Record<ServiceProto, Int32Array> | null = null;
  private readonly names: string[] = [''];
  /** serviceBytes() per index of `names` (undefined: not asked yet) */
  private readonly bytes: (Uint8Array | undefined)[] = [undefined];
  /** names below this index are /etc/services'; the others the `port N` made since */
  private fileNames = 1;
  private byName: Record<ServiceProto, Map<string, number>> | null = null;
  private protoByNumber: (string | null)[] | null = null;
  /** Protocol numbers outside 0–255 (never seen in an IPv4 header, kept for completeness). */
  private readonly protoOther = new Map<number, string>();

  constructor(
    private readonly servicesText: string | undefined,
    private readonly protocolsText: string | undefined,
    readonly missing: readonly string[],
  ) {}

  private ports(): Record<ServiceProto, Int32Array> {
    if (this.byPort !== null) return this.byPort;
    const byPort = { tcp: new Int32Array(65536), udp: new Int32Array(65536) };
    this.byPort = byPort;
    if (this.servicesText !== undefined) this.indexPorts(this.servicesText, byPort);
    this.fileNames = this.names.length;
    return byPort;
  }

  /**
   * getservbyport's table: the first line for (port, proto) wins. SERVICE_LINE gives each
   * line's first two fields, as fields() on uncommentedLines() would, in one native scan of
   * the text: at start-up this code runs cold (interpreted), and the per-line arrays and
   * regular expressions of the general path, then a JS loop over the characters, were
   * each a few per cent of a one-packet replay's CPU (issue 10 item 3). Plain decimal
   * ports are read here; any other spelling goes through parsePortProto().
   */
  private indexPorts(text: string, byPort: Record<ServiceProto, Int32Array>): void {
    const re = new RegExp(SERVICE_LINE);
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const name = m[1]!;
      const field = m[2]!;
      let port = -1;
      let proto = '';
      const c0 = field.charCodeAt(0);
      if (c0 >= 0x31 && c0 <= 0x39) {
        // [1-9][0-9]{0,4} then '/': strtoul's value, below 2^17, so no saturation
        let v = 0;
        let q = 0;
        while (q < field.length && q < 6) {
          const c = field.charCodeAt(q);
          if (c < 0x30 || c > 0x39) break;
          v = v * 10 + (c - 0x30);
          q++;
        }
        if (q <= 5 && field.charCodeAt(q) === 0x2f) {
          port = v & 0xffff;
          proto = field.slice(q + 1);
        }
      }
      if (port < 0) {
        const pp = parsePortProto(field);
        if (pp === undefined) continue;
        port = pp.port;
        proto = pp.proto;
      }
      if (proto !== 'tcp' && proto !== 'udp') continue;
      const table = byPort[proto];
      if (table[port] === 0) table[port] = this.names.push(name.slice(0, MAX_SERVICE_NAME)) - 1;
    }
  }

  /** getservbyname's table: the first line naming it (as name or alias) wins. */
  private serviceNames(): Record<ServiceProto, Map<string, number>> {
    if (this.byName !== null) return this.byName;
    const byName = { tcp: new Map<string, number>(), udp: new Map<string, number>() };
    this.byName = byName;
    if (this.servicesText === undefined) return byName;
    for (const line of uncommentedLines(this.servicesText)) {
      const f = fields(line);
      if (f.length < 2) continue;
      const pp = parsePortProto(f[1]);
      if (pp === undefined) continue;
      const proto = pp.proto;
      if (proto !== 'tcp' && proto !== 'udp') continue;
      for (let i = 0; i < f.length; i++) {
        if (i === 1) continue;
        if (!byName[proto].has(f[i])) byName[proto].set(f[i], pp.port);
      }
    }
    return byName;
  }

  private protocols(): (string | null)[] {
    if (this.protoByNumber !== null) return this.protoByNumber;
    const byNumber = new Array<string | null>(256).fill(null);
    this.protoByNumber = byNumber;
    if (this.protocolsText === undefined) return byNumber;
    for (const line of uncommentedLines(this.protocolsText)) {
      const f = fields(line);
      if (f.length < 2) continue;
      const m = /^\+?([0-9]+)$/.exec(f[1]);
      if (m === null) continue;
      const n = Number(m[1]);
      const name = f[0].slice(0, MAX_PROTO_NAME);
      if (n < 256) {
        if (byNumber[n] === null) byNumber[n] = name;
      } else if (Number.isSafeInteger(n) && !this.protoOther.has(n)) {
        this.protoOther.set(n, name);
      }
    }
    return byNumber;
  }

  serviceName(port: number, proto: ServiceProto): string {
    const p = port & 0xffff;
    const table = this.ports()[proto];
    const i = table[p]!;
    if (i !== 0) return this.names[i]!;
    // Unknown port: build `port N` once and keep it, so later lines allocate nothing.
    const text = `port ${p}`;
    table[p] = this.names.push(text) - 1;
    return text;
  }

  serviceBytes(port: number, proto: ServiceProto): Uint8Array | null {
    const i = this.ports()[proto][port & 0xffff]!;
    // no name in the file: `port N`, which the caller writes as digits (no string is made for it)
    if (i === 0 || i >= this.fileNames) return null;
    let b = this.bytes[i];
    if (b === undefined) {
      b = new Uint8Array(Buffer.from(this.names[i]!, 'utf8'));
      this.bytes[i] = b;
    }
    return b;
  }

  servicePort(name: string, proto: ServiceProto): number {
    return this.serviceNames()[proto].get(name) ?? -1;
  }

  protoName(n: number): string {
    if (Number.isInteger(n) && n >= 0 && n < 256) {
      const byNumber = this.protocols();
      const name = byNumber[n];
      if (name !== null) return name;
      const text = `proto ${n}`;
      byNumber[n] = text;
      return text;
    }
    this.protocols();
    return this.protoOther.get(n) ?? `proto ${n}`;
  }
}

/** Build tables from file texts (undefined = that database is unavailable). For tests and tools. */
export function createServiceDb(
  servicesText: string | undefined,
  protocolsText: string | undefined,
  missing: readonly string[] = [],
): ServiceDb {
  return new Tables(servicesText, protocolsText, missing);
}

function readOptional(path: string, missing: string[]): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    missing.push(path);
    return undefined;
  }
}

let systemDb: ServiceDb | undefined;

/** The host's databases, read on first use. Check `.missing` to warn about absent files. */
export function systemServiceDb(): ServiceDb {
  if (systemDb === undefined) {
    const missing: string[] = [];
    const services = readOptional(SERVICES_PATH, missing);
    const protocols = readOptional(PROTOCOLS_PATH, missing);
    systemDb = new Tables(services, protocols, missing);
  }
  return systemDb;
}

/** getservbyport(port, proto) on the host's /etc/services: the name, or `port N`. */
export function serviceName(port: number, proto: ServiceProto): string {
  return systemServiceDb().serviceName(port, proto);
}

/** getservbyname(name, proto) on the host's /etc/services: the port, or -1. */
export function servicePort(name: string, proto: ServiceProto): number {
  return systemServiceDb().servicePort(name, proto);
}

/** getprotobynumber(n) on the host's /etc/protocols: the name (e.g. `tcp`), or `proto N`. */
export function protoName(n: number): string {
  return systemServiceDb().protoName(n);
}

/**
 * The name serviceName() gives `port` as UTF-8 bytes, or null when /etc/services has
 * none (the name is then `port N`, which the caller writes as digits). Cached per port
 * (at most 65536 per protocol; a name is kept once per /etc/services entry), beside the
 * name in the tables' index (no 65,536-slot arrays made at start-up: issue 10 item 3).
 */
export function serviceBytes(port: number, proto: ServiceProto): Uint8Array | null {
  return systemServiceDb().serviceBytes(port, proto);
}

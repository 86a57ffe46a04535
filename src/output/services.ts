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

class Tables implements ServiceDb {
  /**
   * Per protocol and port, the index of its name in `names` (0: none yet). Two 65 536-slot
   * arrays of strings were 1 MiB of the heap written at start-up (about 5 % of a one-packet
   * replay's); these typed arrays come zeroed from the allocator and cost only the pages
   * of the ports actually named.
   */
  private readonly byPort: Record<ServiceProto, Int32Array> = {
    tcp: new Int32Array(65536),
    udp: new Int32Array(65536),
  };
  private readonly names: string[] = [''];
  /** serviceBytes() per index of `names` (undefined: not asked yet) */
  private readonly bytes: (Uint8Array | undefined)[] = [undefined];
  /** names below this index are /etc/services'; the others the `port N` made since */
  private fileNames = 1;
  private readonly byName: Record<ServiceProto, Map<string, number>> = {
    tcp: new Map(),
    udp: new Map(),
  };
  private readonly protoByNumber = new Array<string | null>(256).fill(null);
  /** Protocol numbers outside 0–255 (never seen in an IPv4 header, kept for completeness). */
  private readonly protoOther = new Map<number, string>();

  constructor(
    servicesText: string | undefined,
    protocolsText: string | undefined,
    readonly missing: readonly string[],
  ) {
    if (servicesText !== undefined) this.loadServices(servicesText);
    if (protocolsText !== undefined) this.loadProtocols(protocolsText);
    this.fileNames = this.names.length;
  }

  private loadServices(text: string): void {
    for (const line of uncommentedLines(text)) {
      const f = fields(line);
      if (f.length < 2) continue;
      const pp = parsePortProto(f[1]);
      if (pp === undefined) continue;
      const proto = pp.proto;
      if (proto !== 'tcp' && proto !== 'udp') continue;
      // getservbyport: the first line for (port, proto) wins.
      if (this.byPort[proto][pp.port] === 0) this.byPort[proto][pp.port] = this.names.push(f[0].slice(0, MAX_SERVICE_NAME)) - 1;
      // getservbyname: the first line naming it (as name or alias) wins.
      for (let i = 0; i < f.length; i++) {
        if (i === 1) continue;
        if (!this.byName[proto].has(f[i])) this.byName[proto].set(f[i], pp.port);
      }
    }
  }

  private loadProtocols(text: string): void {
    for (const line of uncommentedLines(text)) {
      const f = fields(line);
      if (f.length < 2) continue;
      const m = /^\+?([0-9]+)$/.exec(f[1]);
      if (m === null) continue;
      const n = Number(m[1]);
      const name = f[0].slice(0, MAX_PROTO_NAME);
      if (n < 256) {
        if (this.protoByNumber[n] === null) this.protoByNumber[n] = name;
      } else if (Number.isSafeInteger(n) && !this.protoOther.has(n)) {
        this.protoOther.set(n, name);
      }
    }
  }

  serviceName(port: number, proto: ServiceProto): string {
    const p = port & 0xffff;
    const table = this.byPort[proto];
    const i = table[p]!;
    if (i !== 0) return this.names[i]!;
    // Unknown port: build `port N` once and keep it, so later lines allocate nothing.
    const text = `port ${p}`;
    table[p] = this.names.push(text) - 1;
    return text;
  }

  serviceBytes(port: number, proto: ServiceProto): Uint8Array | null {
    const i = this.byPort[proto][port & 0xffff]!;
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
    return this.byName[proto].get(name) ?? -1;
  }

  protoName(n: number): string {
    if (Number.isInteger(n) && n >= 0 && n < 256) {
      const name = this.protoByNumber[n];
      if (name !== null) return name;
      const text = `proto ${n}`;
      this.protoByNumber[n] = text;
      return text;
    }
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

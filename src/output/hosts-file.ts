/**
 * /etc/hosts parsing with the C library's semantics (glibc nss_files, `files-hosts.c`), so that
 * a reverse lookup answers exactly what iplog 2.2.3's `gethostbyaddr_r` printed (spec §3.2).
 *
 * - A line is `address name [alias…]`; fields are separated by blanks; `#` starts a comment
 *   anywhere on the line; leading blanks are skipped; lines without a name are ignored.
 * - IPv4 addresses must be strict dotted decimal (inet_pton: four parts, 0–255, no leading
 *   zeros). For an IPv4 (AF_INET) query glibc also reads two IPv6 forms as IPv4:
 *   `::ffff:a.b.c.d` means a.b.c.d and `::1` means 127.0.0.1. Every other IPv6 line is
 *   ignored for reverse IPv4 lookups.
 * - Reverse: the *first* line whose address matches wins, and its *first* name is the answer
 *   (`127.0.0.1 localhost` then `127.0.0.1 vm` → `localhost`). This is what `getent hosts`
 *   prints; c-ares (`dns.reverse`) differs, which is why this file exists.
 * - Forward: every IPv4 address of every line that carries the name (or alias), in file order.
 *   glibc compares names case-insensitively, so the keys are lower case; use `hostsLookup()`.
 *
 * - IPv6 reverse (AF_INET6, for IPv6 sources): the first IPv6 line with that address, its first name.
 *
 * Bounds: one entry per distinct address and per distinct name in the file; the file is read once.
 */
import { IpAddr } from '../net/addr';

/** Result of `parseHosts()`. Addresses are host-order uint32 numbers (see resolve-api.ts). */
export interface HostsTable {
  /** address → first name of the first line with that address (gethostbyaddr). */
  readonly byAddr: ReadonlyMap<number, string>;
  /** lower-cased name or alias → IPv4 addresses in file order, without duplicates. */
  readonly byName: ReadonlyMap<string, readonly number[]>;
  /** IPv6 address (RFC 5952 text) → first name of the first IPv6 line with it (AF_INET6 reverse). */
  readonly byAddr6: ReadonlyMap<string, string>;
}

/** True for the characters C `isspace()` accepts in the "C" locale. */
function isSpaceCode(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** Split on runs of C whitespace, dropping empty fields (also used for /etc/services). */
export function fields(line: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= line.length; i++) {
    const blank = i === line.length || isSpaceCode(line.charCodeAt(i));
    if (blank) {
      if (start >= 0) out.push(line.slice(start, i));
      start = -1;
    } else if (start < 0) {
      start = i;
    }
  }
  return out;
}

/**
 * Strict dotted decimal as glibc `inet_pton(AF_INET)`: exactly four parts of 1–3 digits,
 * each ≤ 255, no leading zero. Returns the host-order uint32 or -1.
 */
export function parseDottedQuad(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) return -1;
  let value = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return -1;
    const n = Number(p);
    if (n > 255) return -1;
    value = value * 256 + n;
  }
  return value >>> 0;
}

/**
 * The IPv4 address glibc uses for an IPv6 hosts line in an AF_INET lookup: the embedded
 * address of `::ffff:a.b.c.d` (v4-mapped), 127.0.0.1 for `::1`, otherwise -1 (line ignored).
 */
function ipv6AsIPv4(text: string): number {
  const bytes = parseIPv6(text);
  if (bytes === undefined) return -1;
  let zeroPrefix = true;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) zeroPrefix = false;
  if (!zeroPrefix) return -1;
  if (bytes[10] === 0xff && bytes[11] === 0xff) {
    return ((bytes[12] << 24) | (bytes[13] << 16) | (bytes[14] << 8) | bytes[15]) >>> 0;
  }
  let loopback = bytes[10] === 0 && bytes[11] === 0;
  for (let i = 12; i < 15; i++) if (bytes[i] !== 0) loopback = false;
  if (loopback && bytes[15] === 1) return 0x7f000001;
  return -1;
}

/**
 * RFC 4291 text form as glibc `inet_pton(AF_INET6)` accepts it: 1–4 hex digits per group,
 * at most one `::`, an optional trailing dotted quad, no zone index. Returns 16 bytes or undefined.
 */
export function parseIPv6(text: string): Uint8Array | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parseSide = (side: string, allowV4Tail: boolean): number[] | undefined => {
    if (side === '') return [];
    const groups = side.split(':');
    const words: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (allowV4Tail && i === groups.length - 1 && g.includes('.')) {
        const v4 = parseDottedQuad(g);
        if (v4 < 0) return undefined;
        words.push(v4 >>> 16, v4 & 0xffff);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(g)) {
        words.push(parseInt(g, 16));
      } else {
        return undefined;
      }
    }
    return words;
  };
  let words: number[];
  if (halves.length === 1) {
    const all = parseSide(halves[0], true);
    if (all === undefined || all.length !== 8) return undefined;
    words = all;
  } else {
    const head = parseSide(halves[0], false);
    const tail = parseSide(halves[1], true);
    if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    bytes[2 * i] = words[i] >>> 8;
    bytes[2 * i + 1] = words[i] & 0xff;
  }
  return bytes;
}

/** Parse the text of an /etc/hosts file (see the file comment for the exact rules). */
export function parseHosts(text: string): HostsTable {
  const byAddr = new Map<number, string>();
  const byName = new Map<string, number[]>();
  const byAddr6 = new Map<string, string>();
  for (const rawLine of text.split('\n')) {
    const hash = rawLine.indexOf('#');
    const line = hash >= 0 ? rawLine.slice(0, hash) : rawLine;
    const f = fields(line);
    // glibc would return an empty h_name for an address-only line; nobody relies on that.
    if (f.length < 2) continue;
    if (f[0].includes(':')) {
      const b6 = parseIPv6(f[0]);
      if (b6 !== undefined) {
        const key = IpAddr.v6FromBytes(b6, 0).toString();
        if (!byAddr6.has(key)) byAddr6.set(key, f[1]);
      }
    }
    let addr = parseDottedQuad(f[0]);
    if (addr < 0) addr = ipv6AsIPv4(f[0]);
    if (addr < 0) continue;
    if (!byAddr.has(addr)) byAddr.set(addr, f[1]);
    for (let i = 1; i < f.length; i++) {
      const key = f[i].toLowerCase();
      const list = byName.get(key);
      if (list === undefined) byName.set(key, [addr]);
      else if (!list.includes(addr)) list.push(addr);
    }
  }
  return { byAddr, byName, byAddr6 };
}

/** Forward lookup in a parsed hosts table (case-insensitive, as glibc). Empty when unknown. */
export function hostsLookup(table: HostsTable, name: string): readonly number[] {
  return table.byName.get(name.toLowerCase()) ?? [];
}

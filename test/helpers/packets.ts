/**
 * Packet builders for tests: IPv4 + TCP/UDP/ICMP bytes from fields, with a correct IP
 * header checksum unless told otherwise. Addresses are dotted-quad strings.
 */
export function ip4(a: string): number {
  const p = a.split('.').map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

export interface IpOpts {
  src: string;
  dst: string;
  proto: number;
  ttl?: number;
  id?: number;
  /** raw flags+offset field (DF = 0x4000, MF = 0x2000) */
  frag?: number;
  tos?: number;
  /** override the total-length field */
  totalLen?: number;
  /** header length in bytes (options are zero-filled) */
  hlen?: number;
  badChecksum?: boolean;
}

export function ipv4(o: IpOpts, payload: Uint8Array): Buffer {
  const hlen = o.hlen ?? 20;
  const b = Buffer.alloc(Math.max(hlen, 20) + payload.length);
  b[0] = 0x40 | ((hlen >> 2) & 15);
  b[1] = o.tos ?? 0;
  b.writeUInt16BE(o.totalLen ?? b.length, 2);
  b.writeUInt16BE(o.id ?? 1, 4);
  b.writeUInt16BE(o.frag ?? 0, 6);
  b[8] = o.ttl ?? 64;
  b[9] = o.proto;
  b.writeUInt32BE(ip4(o.src), 12);
  b.writeUInt32BE(ip4(o.dst), 16);
  const h = Math.max(hlen, 20);
  let sum = 0;
  for (let i = 0; i < h; i += 2) sum += b.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  b.writeUInt16BE((~sum & 0xffff) ^ (o.badChecksum ? 1 : 0), 10);
  b.set(payload, h);
  return b;
}

export function tcp(sport: number, dport: number, flags: number, extra: Uint8Array = new Uint8Array(0)): Uint8Array {
  const t = Buffer.alloc(20 + extra.length);
  t.writeUInt16BE(sport, 0);
  t.writeUInt16BE(dport, 2);
  t.writeUInt32BE(1000, 4);
  t[12] = 5 << 4;
  t[13] = flags;
  t.writeUInt16BE(1024, 14);
  t.set(extra, 20);
  return t;
}

export function udp(sport: number, dport: number, data: Uint8Array | number = 0, lenField?: number): Uint8Array {
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const u = Buffer.alloc(8 + d.length);
  u.writeUInt16BE(sport, 0);
  u.writeUInt16BE(dport, 2);
  u.writeUInt16BE(lenField ?? 8 + d.length, 4);
  u.set(d, 8);
  return u;
}

export function icmp(type: number, code: number, rest: Uint8Array | number = 4): Uint8Array {
  const r = typeof rest === 'number' ? new Uint8Array(rest) : rest;
  const c = Buffer.alloc(4 + r.length);
  c[0] = type;
  c[1] = code;
  c.set(r, 4);
  return c;
}

/** An Ethernet II frame around an IPv4 packet (zero MACs, as on Linux loopback). */
export function ether(ip: Uint8Array, ethertype = 0x0800): Buffer {
  const f = Buffer.alloc(14 + ip.length);
  f.writeUInt16BE(ethertype, 12);
  f.set(ip, 14);
  return f;
}

export const FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16, URG = 32, ECE = 64, CWR = 128;
export const DF = 0x4000, MF = 0x2000;

// --- IPv6 (addresses are RFC 5952 strings, 2001:db8::/32 in tests) ---

export interface Ip6Opts {
  src: string;
  dst: string;
  /** next header of the fixed header (the first extension header, or the upper layer) */
  nh: number;
  hlim?: number;
  tc?: number;
  flow?: number;
  /** override the payload-length field */
  plen?: number;
}

/** 16 bytes of an IPv6 address text (no zone). */
export function ip6bytes(a: string): Buffer {
  let head = a;
  let tail = '';
  const i = a.indexOf('::');
  if (i >= 0) {
    head = a.slice(0, i);
    tail = a.slice(i + 2);
  }
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = i >= 0 ? [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  const b = Buffer.alloc(16);
  groups.forEach((g, k) => b.writeUInt16BE(parseInt(g, 16), k * 2));
  return b;
}

/** An IPv6 packet: the fixed header, then `payload` (extension headers and upper layer). */
export function ipv6(o: Ip6Opts, payload: Uint8Array): Buffer {
  const b = Buffer.alloc(40 + payload.length);
  const tc = o.tc ?? 0;
  const flow = o.flow ?? 0;
  b.writeUInt32BE(((6 << 28) | (tc << 20) | flow) >>> 0, 0);
  b.writeUInt16BE(o.plen ?? payload.length, 4);
  b[6] = o.nh;
  b[7] = o.hlim ?? 64;
  ip6bytes(o.src).copy(b, 8);
  ip6bytes(o.dst).copy(b, 24);
  b.set(payload, 40);
  return b;
}

/**
 * A generic extension header (hop-by-hop 0, routing 43, destination options 60, ...):
 * `next`, then `body` padded with PadN/Pad1 options (or zeros for routing) to a multiple of 8.
 */
export function ext6(next: number, body: Uint8Array = new Uint8Array(0), type = 60): Buffer {
  const total = Math.ceil((2 + body.length) / 8) * 8 || 8;
  const b = Buffer.alloc(total);
  b[0] = next;
  b[1] = total / 8 - 1;
  b.set(body, 2);
  const pad = total - 2 - body.length;
  if (type !== 43 && pad > 0) {
    if (pad === 1) b[2 + body.length] = 0;
    else {
      b[2 + body.length] = 1; // PadN
      b[3 + body.length] = pad - 2;
    }
  }
  return b;
}

/** A fragment header: next header, offset in bytes (multiple of 8), M flag, identification. */
export function frag6(next: number, offset: number, more: boolean, id: number): Buffer {
  const b = Buffer.alloc(8);
  b[0] = next;
  b.writeUInt16BE((offset & 0xfff8) | (more ? 1 : 0), 2);
  b.writeUInt32BE(id >>> 0, 4);
  return b;
}

/** An ICMPv6 header (type, code, zero checksum) followed by `rest` bytes. */
export function icmp6(type: number, code: number, rest: Uint8Array | number = 4): Buffer {
  const r = typeof rest === 'number' ? new Uint8Array(rest) : rest;
  const b = Buffer.alloc(4 + r.length);
  b[0] = type;
  b[1] = code;
  b.set(r, 4);
  return b;
}

export const cat = (...parts: Uint8Array[]): Buffer => Buffer.concat(parts);

/**
 * IPv6 fragment reassembly (RFC 8200 §4.5), with the bounds and expiry of the IPv4 table
 * (src/decode/fragments.ts): at most FRAG6_MAX_DGRAMS datagrams in progress (the IPv4
 * table's 32 buckets x 5), at most MAX_FRAGS_PER_DGRAM fragments each, 65,535 bytes of
 * fragmentable part, and a datagram lives FRAG_TTL seconds of packet time after its last
 * fragment (`frag.expired` when it runs out).
 *
 * Datagrams are keyed by (source, destination, identification). The key is attacker
 * chosen, so the lookup index is a hash seeded per table; what the table *does* never
 * depends on the seed: when it is full, the datagram expiring first (the oldest on a tie)
 * is evicted, whichever bucket it is in (`frag.evicted`).
 *
 * Attacks are reported with the IPv4 table's kinds, lines and counters:
 *  - offset + length > 65,535: FRAG_OVERSIZED (`frag.oversized`; the datagram is dropped);
 *  - a fragment at the offset of one already held: FRAG_DUPLICATE (`frag.duplicate`);
 *  - any other overlap, and a fragment that ends past the known end of the datagram or a
 *    second last fragment with another end: FRAG_OVERLAP (`frag.overlap`). RFC 5722: a
 *    datagram with overlapping fragments is discarded whole, with everything held of it.
 * A datagram is complete when the first (offset 0) and last (M clear) fragments are held
 * and the bytes add up; it is rebuilt as a 40-byte header (the first fragment's, with the
 * payload length set and the next header taken from the fragment header) followed by the
 * fragmentable part; the first fragment's unfragmentable extension headers are dropped,
 * as the IPv4 table drops options. `frag.reassembled` counts each one.
 *
 * Allocation: a copy of each held fragment, the rebuilt datagram, a small record per
 * datagram; the reporter receives IpAddr values (one line each).
 */
import { A, Anomalies } from './anomalies';
import { DecodedPacket, Ip } from './packet';
import { FRAG_TTL, FRAG_OVERSIZED, FRAG_DUPLICATE, FRAG_OVERLAP, copyBytes } from './fragments';
import { IpAddr, hashIpv6 } from '../net/addr';

/** the IPv4 table's bound: 32 buckets of 5 */
export const FRAG6_MAX_DGRAMS = 160;
const MAX_FRAGS_PER_DGRAM = 8192;
const INDEX_BUCKETS = 64;

export interface Frag6Reporter {
  fragment6(kind: number, src: IpAddr, dst: IpAddr, now: number): void;
}

interface Piece {
  off: number;
  len: number;
  data: Uint8Array;
}

interface Datagram6 {
  s0: number;
  s1: number;
  s2: number;
  s3: number;
  d0: number;
  d1: number;
  d2: number;
  d3: number;
  id: number;
  bucket: number;
  seq: number;
  expire: number;
  /** the first fragment's fixed header, and its fragment header's next header */
  header: Uint8Array | null;
  next: number;
  /** end of the datagram (from the last fragment), -1 until it is seen */
  end: number;
  bytes: number;
  pieces: Piece[];
}

export class Fragment6Table {
  private readonly index: Datagram6[][] = Array.from({ length: INDEX_BUCKETS }, () => []);
  private count = 0;
  private seq = 0;
  private nextDue = Infinity;
  private readonly seed: number;

  constructor(
    private readonly reporter: Frag6Reporter,
    private readonly an: Anomalies,
    seed?: number,
  ) {
    this.seed = seed ?? (Math.random() * 0x100000000) >>> 0;
  }

  size(): number {
    return this.count;
  }

  due(): number {
    return this.nextDue;
  }

  /**
   * Take the fragment `p` (decodeIpv6 returned IPV6_FRAGMENT). Returns the rebuilt
   * datagram (40-byte header + fragmentable part) when this fragment completes one, else
   * null (held, or dropped with a report).
   */
  add(p: DecodedPacket, now: number): Buffer | null {
    const s = p.src6;
    const d = p.dst6;
    const id = p.id;
    const h = (hashIpv6(hashIpv6(this.seed ^ id, s[0]!, s[1]!, s[2]!, s[3]!), d[0]!, d[1]!, d[2]!, d[3]!) & (INDEX_BUCKETS - 1)) >>> 0;
    const bucket = this.index[h]!;
    let cur: Datagram6 | undefined;
    for (const x of bucket) {
      if (x.id === id && x.s3 === s[3] && x.d3 === d[3] && x.s0 === s[0] && x.s1 === s[1] && x.s2 === s[2] && x.d0 === d[0] && x.d1 === d[1] && x.d2 === d[2]) {
        cur = x;
        break;
      }
    }
    const off = (p.frag & Ip.OFFMASK) << 3;
    const more = (p.frag & Ip.MF) !== 0;
    const len = p.l4Len;
    if (off + len > 0xffff) return this.attack(FRAG_OVERSIZED, A.fragOversized, p, cur, now);
    if (!cur) {
      if (this.count >= FRAG6_MAX_DGRAMS) this.evictOne();
      cur = {
        s0: s[0]!, s1: s[1]!, s2: s[2]!, s3: s[3]!, d0: d[0]!, d1: d[1]!, d2: d[2]!, d3: d[3]!,
        id, bucket: h, seq: this.seq++, expire: 0, header: null, next: 0, end: -1, bytes: 0, pieces: [],
      };
      bucket.push(cur);
      this.count++;
    }
    const pieces = cur.pieces;
    // the end of the datagram: known from the last fragment; nothing may pass it
    if (!more) {
      if (cur.end >= 0 && cur.end !== off + len) return this.attack(FRAG_OVERLAP, A.fragOverlap, p, cur, now);
      cur.end = off + len;
      const last = pieces.length > 0 ? pieces[pieces.length - 1]! : null;
      if (last !== null && last.off + last.len > cur.end) return this.attack(FRAG_OVERLAP, A.fragOverlap, p, cur, now);
    } else if (cur.end >= 0 && off + len > cur.end) {
      return this.attack(FRAG_OVERLAP, A.fragOverlap, p, cur, now);
    }
    // place in offset order; any overlap discards the datagram (RFC 5722)
    let i = pieces.length;
    while (i > 0 && pieces[i - 1]!.off >= off) i--;
    if (i < pieces.length && pieces[i]!.off === off) return this.attack(FRAG_DUPLICATE, A.fragDuplicate, p, cur, now);
    if ((i > 0 && pieces[i - 1]!.off + pieces[i - 1]!.len > off) || (i < pieces.length && off + len > pieces[i]!.off)) {
      return this.attack(FRAG_OVERLAP, A.fragOverlap, p, cur, now);
    }
    if (pieces.length >= MAX_FRAGS_PER_DGRAM) {
      this.an.counts[A.fragEvicted]++;
      this.remove(cur);
      return null;
    }
    pieces.splice(i, 0, { off, len, data: copyBytes(p.buf, p.l4Off, len, p.ipOff + p.avail) });
    if (off === 0) {
      cur.header = copyBytes(p.buf, p.ipOff, 40, p.ipOff + p.avail);
      cur.next = p.proto;
    }
    cur.bytes += len;
    cur.expire = now + FRAG_TTL;
    if (cur.expire < this.nextDue) this.nextDue = cur.expire;
    if (cur.header === null || cur.end < 0 || cur.bytes !== cur.end) return null;
    const out = Buffer.alloc(40 + cur.end);
    out.set(cur.header, 0);
    out[4] = (cur.end >>> 8) & 0xff;
    out[5] = cur.end & 0xff;
    out[6] = cur.next;
    for (const f of pieces) out.set(f.data, 40 + f.off);
    this.an.counts[A.fragReassembled]++;
    this.remove(cur);
    return out;
  }

  private attack(kind: number, counter: number, p: DecodedPacket, cur: Datagram6 | undefined, now: number): null {
    this.an.counts[counter]++;
    if (cur) this.remove(cur);
    this.reporter.fragment6(kind, IpAddr.v6FromWords(p.src6), IpAddr.v6FromWords(p.dst6), now);
    return null;
  }

  private remove(x: Datagram6): void {
    const b = this.index[x.bucket]!;
    const i = b.indexOf(x);
    if (i >= 0) {
      b.splice(i, 1);
      this.count--;
    }
  }

  /** Full: evict the datagram expiring first, the oldest on a tie (independent of the seed). */
  private evictOne(): void {
    let victim: Datagram6 | null = null;
    for (const b of this.index) {
      for (const x of b) if (victim === null || x.expire < victim.expire || (x.expire === victim.expire && x.seq < victim.seq)) victim = x;
    }
    if (victim !== null) {
      this.an.counts[A.fragEvicted]++;
      this.remove(victim);
    }
  }

  /** Drop datagrams whose FRAG_TTL has run out (counted as frag.expired). */
  sweep(now: number): void {
    if (now < this.nextDue) return;
    let next = Infinity;
    for (const b of this.index) {
      for (let i = 0; i < b.length; ) {
        const x = b[i]!;
        if (now >= x.expire) {
          this.an.counts[A.fragExpired]++;
          b.splice(i, 1);
          this.count--;
        } else {
          if (x.expire < next) next = x.expire;
          i++;
        }
      }
    }
    this.nextDue = next;
  }
}

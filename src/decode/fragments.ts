/**
 * IPv4 fragment handling and reassembly (iplog_input.c parse_packet(), step 3).
 *
 * Datagrams are keyed by (src, dst, IP id, protocol) in 32 buckets of at most 5 (the
 * bucket: XOR of the first octets of src and dst, the first wire byte of the id and the
 * protocol, low 5 bits — the original's hash of raw words on a little-endian host; a
 * sixth datagram evicts the one expiring first). Fragments are kept sorted by offset.
 * Attack lines, as in iplog 2.2.3:
 *  - offset*8 + payload > 65535: "Oversized IP fragment" (the partial datagram is dropped);
 *  - a fragment at the offset of one already held: "Duplicate IP fragments" (dropped);
 *  - a fragment beyond all others starting before the end of the last: "Overlapping IP
 *    fragments" (dropped);
 *  - a fragment inserted in the middle that runs past the start of the fragment *after
 *    the next one*, or starts before the end of the previous one: "Overlapping IP
 *    fragments" ("frags" in the log_dest wording). Overlap with the immediately following
 *    fragment goes unnoticed (compat: kept).
 * Complete when the first (offset 0) and last (MF clear) fragments are in and the payload
 * bytes add up to last offset + last length; the datagram is rebuilt with the first
 * fragment's 20-byte header (options dropped) and handled like any packet. As in the
 * original, fragments appended at the end are copied from a fixed 20-byte header offset.
 *
 * Fixed in every profile: the original's expiry test is inverted, so any incomplete
 * datagram died at the next one-second tick; here a datagram lives 60 s of packet time
 * (FRAG_TTL) after its last fragment.
 *
 * Bounds: 32 x 5 datagrams, at most MAX_FRAGS_PER_DGRAM fragments each (65535 bytes of
 * payload by the oversize rule). This is the only place of the pipeline that copies
 * packet bytes, and only for fragments.
 */
import { A, Anomalies } from './anomalies';
import { Ip } from './packet';

export const FRAG_TTL = 60;
const FRAG_BUCKETS = 32;
const FRAG_MAX = 5;
const MAX_FRAGS_PER_DGRAM = 8192;

export const FRAG_OVERSIZED = 1;
export const FRAG_DUPLICATE = 2;
export const FRAG_OVERLAP = 3;
/** overlap found while inserting in the middle (log_dest wording says "frags") */
export const FRAG_OVERLAP_MID = 4;

export interface FragReporter {
  fragment(kind: number, src: number, dst: number, now: number): void;
}

interface Fragment {
  off: number;
  len: number;
  data: Uint8Array;
}

interface Datagram {
  src: number;
  dst: number;
  id: number;
  proto: number;
  expire: number;
  header: Uint8Array | null;
  /** first and last fragments seen (iplog's rf) */
  rf: number;
  totalLen: number;
  bytes: number;
  frags: Fragment[];
}

export class FragmentTable {
  private readonly buckets: Datagram[][] = Array.from({ length: FRAG_BUCKETS }, () => []);
  private nextDue = Infinity;

  constructor(
    private readonly reporter: FragReporter,
    private readonly an: Anomalies,
  ) {}

  size(): number {
    let n = 0;
    for (const b of this.buckets) n += b.length;
    return n;
  }

  /**
   * Take one fragment. Returns the reassembled datagram (20-byte header + payload) when
   * this fragment completes one, else null (held, or dropped with a line).
   */
  add(
    buf: Buffer,
    ipOff: number,
    hlen: number,
    avail: number,
    totalLen: number,
    fragField: number,
    id: number,
    proto: number,
    src: number,
    dst: number,
    now: number,
  ): Buffer | null {
    const h = ((src >>> 24) ^ (dst >>> 24) ^ (id >>> 8) ^ proto) & (FRAG_BUCKETS - 1);
    const bucket = this.buckets[h]!;
    let cur: Datagram | undefined;
    for (const d of bucket) {
      if (d.id === id && d.src === src && d.proto === proto && d.dst === dst) {
        cur = d;
        break;
      }
    }
    const found = cur !== undefined;
    const off = (fragField & Ip.OFFMASK) << 3;
    const len = totalLen - hlen;
    if (off + len > 0xffff) {
      this.an.counts[A.fragOversized]++;
      this.reporter.fragment(FRAG_OVERSIZED, src, dst, now);
      if (cur) this.remove(h, cur);
      return null;
    }
    if (!cur) {
      cur = { src, dst, id, proto, expire: 0, header: null, rf: 0, totalLen: 0, bytes: 0, frags: [] };
      if (bucket.length >= FRAG_MAX) {
        let oldest = bucket[0]!;
        for (const d of bucket) if (d.expire <= oldest.expire) oldest = d;
        this.an.counts[A.fragEvicted]++;
        this.remove(h, oldest);
      }
      bucket.unshift(cur);
    }
    if (off === 0) {
      cur.header = copyBytes(buf, ipOff, 20, ipOff + avail);
      cur.rf++;
    }
    if ((fragField & Ip.MF) === 0) {
      cur.totalLen = off + len;
      cur.rf++;
    }
    const frags = cur.frags;
    if (!found) {
      frags.push({ off, len, data: copyBytes(buf, ipOff + hlen, len, ipOff + avail) });
    } else {
      if (frags.length >= MAX_FRAGS_PER_DGRAM) {
        this.an.counts[A.fragEvicted]++;
        this.remove(h, cur);
        return null;
      }
      let i = 0;
      let placed = false;
      for (; i < frags.length; i++) {
        const t = frags[i]!;
        if (off < t.off) {
          const next = frags[i + 1];
          const prev = i > 0 ? frags[i - 1]! : null;
          if ((next !== undefined && off + len > next.off) || (prev !== null && off < prev.off + prev.len)) {
            this.an.counts[A.fragOverlap]++;
            this.reporter.fragment(FRAG_OVERLAP_MID, src, dst, now);
            this.remove(h, cur);
            return null;
          }
          frags.splice(i, 0, { off, len, data: copyBytes(buf, ipOff + hlen, len, ipOff + avail) });
          placed = true;
          break;
        }
        if (off === t.off) {
          this.an.counts[A.fragDuplicate]++;
          this.reporter.fragment(FRAG_DUPLICATE, src, dst, now);
          this.remove(h, cur);
          return null;
        }
      }
      if (!placed) {
        const last = frags[frags.length - 1]!;
        if (off < last.off + last.len) {
          this.an.counts[A.fragOverlap]++;
          this.reporter.fragment(FRAG_OVERLAP, src, dst, now);
          this.remove(h, cur);
          return null;
        }
        // compat: appended fragments are copied from a fixed 20-byte header offset
        frags.push({ off, len, data: copyBytes(buf, ipOff + 20, len, ipOff + avail) });
      }
    }
    cur.expire = now + FRAG_TTL;
    if (cur.expire < this.nextDue) this.nextDue = cur.expire;
    cur.bytes += len;
    if (cur.rf < 2 || cur.bytes !== cur.totalLen || cur.header === null) return null;
    // reassemble: 20-byte header, then each fragment at its offset
    const out = Buffer.alloc(20 + cur.bytes);
    out.set(cur.header, 0);
    for (const f of frags) {
      const room = out.length - 20 - f.off;
      if (room > 0) out.set(f.len <= room ? f.data : f.data.subarray(0, room), 20 + f.off);
    }
    out[0] = (out[0]! & 0xf0) | 5;
    out[2] = (out.length >>> 8) & 0xff;
    out[3] = out.length & 0xff;
    this.an.counts[A.fragReassembled]++;
    this.remove(h, cur);
    return out;
  }

  private remove(h: number, d: Datagram): void {
    const b = this.buckets[h]!;
    const i = b.indexOf(d);
    if (i >= 0) b.splice(i, 1);
  }

  due(): number {
    return this.nextDue;
  }

  /** Drop datagrams whose 60 s have run out (silently; counted as frag.expired). */
  sweep(now: number): void {
    if (now < this.nextDue) return;
    let next = Infinity;
    for (const b of this.buckets) {
      for (let i = 0; i < b.length; ) {
        const d = b[i]!;
        if (now >= d.expire) {
          this.an.counts[A.fragExpired]++;
          b.splice(i, 1);
        } else {
          if (d.expire < next) next = d.expire;
          i++;
        }
      }
    }
    this.nextDue = next;
  }
}

/** Copy n bytes from buf at off, zero-filling what lies past `end` (the capture's end). Shared with fragments6.ts. */
export function copyBytes(buf: Buffer, off: number, n: number, end: number): Uint8Array {
  const out = new Uint8Array(n > 0 ? n : 0);
  const have = Math.min(n, end - off);
  if (have > 0) out.set(buf.subarray(off, off + have), 0);
  return out;
}

/**
 * The clientele (MODERN.md §3.3, issue 13): the addresses that completed a TCP handshake
 * with a watched host, in either direction, within the last `horizonSec` (14 days). A
 * handshake proves the address can receive what is sent to it, so a scan "from" one of
 * these addresses on spoofable evidence is more likely a spoofer framing a real peer
 * than the peer itself: the ban manager never bans a member on spoofable evidence.
 *
 * Bounded (`capacity` addresses, default 65536; the least recently seen is forgotten
 * first, `evictions`), keyed by a seeded hash (src/detect/key-table.ts), no allocation per
 * insertion. IPv4 addresses are kept as IPv4-mapped words. It lives as long as the
 * process (a SIGHUP keeps it) and is saved beside the ban state (`--ban-state` FILE +
 * `.clientele`, src/evidence/persist.ts) and restored at start.
 */
import { KeyTable } from '../detect/key-table';
import { IpAddr } from '../net/addr';

export const CLIENTELE_HORIZON_SEC = 14 * 86400;
export const CLIENTELE_CAPACITY = 65536;

export interface ClienteleStats {
  added: number;
  evictions: number;
  size: number;
}

export class Clientele {
  private readonly t: KeyTable;
  private readonly last: Float64Array;
  added = 0;

  constructor(
    capacity = CLIENTELE_CAPACITY,
    seed = 0,
    readonly horizonSec = CLIENTELE_HORIZON_SEC,
  ) {
    this.t = new KeyTable(capacity, 4, seed);
    this.last = new Float64Array(capacity);
  }

  /** `w` (four words, IPv4 mapped) completed a handshake at `now`. */
  addWords(w0: number, w1: number, w2: number, w3: number, now: number): void {
    const k = this.t.key;
    k[0] = w0;
    k[1] = w1;
    k[2] = w2;
    k[3] = w3;
    const before = this.t.size;
    const s = this.t.insert();
    if (this.t.size > before || this.t.evicted >= 0) {
      this.added++;
      this.last[s] = now;
    } else if (now > this.last[s]!) this.last[s] = now;
  }

  add(a: IpAddr, now: number): void {
    if (a.family === 4) this.addWords(0, 0, 0xffff, a.v4, now);
    else this.addWords(a.w0, a.w1, a.w2, a.w3, now);
  }

  /** When `a` last completed a handshake, if within the horizon of `now`; else undefined. */
  lastSeen(a: IpAddr, now: number): number | undefined {
    const k = this.t.key;
    if (a.family === 4) {
      k[0] = 0;
      k[1] = 0;
      k[2] = 0xffff;
      k[3] = a.v4;
    } else {
      k[0] = a.w0;
      k[1] = a.w1;
      k[2] = a.w2;
      k[3] = a.w3;
    }
    const s = this.t.find();
    if (s < 0) return undefined;
    const l = this.last[s]!;
    return now - l < this.horizonSec ? l : undefined;
  }

  has(a: IpAddr, now: number): boolean {
    return this.lastSeen(a, now) !== undefined;
  }

  get stats(): ClienteleStats {
    return { added: this.added, evictions: this.t.evictions, size: this.t.size };
  }

  /** Members still within the horizon of `now`, least recently seen first: [address text, last seen]. */
  entries(now: number): [string, number][] {
    const out: [string, number][] = [];
    const ks = this.t.keys;
    for (let s = this.t.oldest(); s >= 0; s = this.t.newer(s)) {
      const l = this.last[s]!;
      if (now - l >= this.horizonSec) continue;
      const o = s * 4;
      out.push([IpAddr.v6(ks[o]!, ks[o + 1]!, ks[o + 2]!, ks[o + 3]!).unmap().toString(), l]);
    }
    return out;
  }
}

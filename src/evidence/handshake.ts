/**
 * The handshake tracker (MODERN.md §3.1, issue 13): what a passive sensor can prove about
 * a TCP source without the kernel's help. It sees every TCP packet (before the filter
 * rules: proof is not logging) and keeps, per connection being opened, the responder's
 * ISN from its SYN-ACK:
 *
 *  - the initiator's ACK acknowledging exactly ISN + 1 completes the handshake: the
 *    initiator received the SYN-ACK, so its address is real (an off-path spoofer guesses
 *    with probability 2^-32 per packet; SYN-cookie handshakes count too, the cookie *is*
 *    the ISN). Both ends go into the clientele (src/evidence/clientele.ts), and the
 *    initiator's `session` time is set;
 *  - a completed handshake that the initiator aborts (RST or FIN) within PROBE_SEC
 *    without sending a byte is a *connect-probe*, the footprint of a connect() scanner
 *    (nmap -sT): the initiator's `probe` time is set, and a port-scan detection of that
 *    source within EPISODE_SEC is graded proof (spoofable 0);
 *  - a RST answering the SYN-ACK proves nothing (the innocent owner of a spoofed address
 *    sends the same RST as nmap -sS's kernel) and ends the entry, as data from the
 *    initiator does (an ordinary session, not a probe).
 *
 * Proof must not be borrowed. A host that makes connect-probes of its own, such as a
 * load balancer's or a monitor's TCP health check, would otherwise lend proof to a SYN
 * scan spoofed in its name, and get a full ban. MODERN.md §3.3 asks for a scan whose
 * failing probes arrive at the hop count of the connect-probe. So a source that has
 * made a handshake is watched further, with two vetoes that each hold for EPISODE_SEC:
 *
 *  - **mixed TTL**: a SYN from it that arrives with a TTL (IPv6: hop limit) other than
 *    its last handshake's. A connect() scanner's SYNs and ACKs leave one kernel by one
 *    route; an off-path spoofer would have to match the victim's hop count exactly;
 *  - **half-open**: a RST from it answering our SYN-ACK. A connect() scanner completes
 *    every handshake it is offered. The owner of a spoofed address resets the SYN-ACKs
 *    it never asked for.
 *
 * A vetoed source is not proven, so its detections stay spoofable (a protected ban at
 * most, never one of our clientele). nmap -sT keeps its proof. A path whose TTL changes
 * while it scans costs only the proof.
 *
 * Bounds: `flows` connections being opened (default 16384) and `sources` initiators
 * with a recent handshake (default 16384), each a KeyTable (seeded hash, least recently
 * used evicted first, evictions counted); no allocation per packet. A SYN flood against
 * an open port makes the victim SYN-ACK every spoofed source: those entries evict each
 * other (flowEvictions) and at worst delay a real client's entry in the clientele.
 * Assumes the capture sees both directions of the watched host's traffic (a live sensor
 * on the host does); a SYN-ACK must come from the watched side.
 */
import { KeyTable } from '../detect/key-table';
import type { Clientele } from './clientele';
import { be32, Th, type DecodedPacket } from '../decode/packet';
import type { IpAddr } from '../net/addr';
import type { TrustView } from '../detect/context';
import { zeroed, release } from '../detect/arrays';

/** seconds between a SYN-ACK and the ACK that completes it */
export const HANDSHAKE_SEC = 30;
/** a completed handshake aborted without data within this many seconds is a connect-probe */
export const PROBE_SEC = 2;
/** proof (a connect-probe) and sessions count for detections this recent ("the episode") */
export const EPISODE_SEC = 120;

const ST_SYNACK = 1;
const ST_OPEN = 2;

export interface HandshakeStats {
  handshakes: number;
  probes: number;
  vetoes: number;
  flowEvictions: number;
  sourceEvictions: number;
}

export class HandshakeTracker implements TrustView {
  // the per-slot values are made with their table, on its first insertion
  // (KeyTable.onAllocate): a replay without a SYN-ACK never makes them
  private readonly flows: KeyTable;
  private expect = new Uint32Array(0);
  private since = new Float64Array(0);
  private state = new Uint8Array(0);
  private readonly sources: KeyTable;
  private sessionAt = new Float64Array(0);
  private probeAt = new Float64Array(0);
  /** the TTL / hop limit of the source's last completed handshake */
  private ttlOf = new Uint8Array(0);
  /** the last vetoing packet of the source (a SYN at another TTL, a RST to our SYN-ACK) */
  private vetoAt = new Float64Array(0);
  handshakes = 0;
  probes = 0;
  /** vetoing packets seen (a SYN at another TTL, a RST to our SYN-ACK, from a source that made a handshake) */
  vetoes = 0;
  /** where completed handshakes go (long-lived: the ban session's, or the engine's own) */
  clientele: Clientele | null;

  constructor(seed: number, clientele: Clientele | null = null, flows = 16384, sources = 16384) {
    this.flows = new KeyTable(flows, 9, seed);
    this.flows.onAllocate = () => {
      this.expect = zeroed(Uint32Array, flows);
      this.since = zeroed(Float64Array, flows);
      this.state = zeroed(Uint8Array, flows);
    };
    this.sources = new KeyTable(sources, 4, seed ^ 0x5bd1e995);
    this.sources.onAllocate = () => {
      this.sessionAt = zeroed(Float64Array, sources);
      this.probeAt = zeroed(Float64Array, sources);
      this.ttlOf = zeroed(Uint8Array, sources);
      this.vetoAt = zeroed(Float64Array, sources);
    };
    this.clientele = clientele;
  }

  /** The engine that owned this tracker was replaced (a SIGHUP): its arrays go to the next one (detect/arrays.ts). */
  release(): void {
    release(this.flows);
    release(this.sources);
    release(this);
  }

  get stats(): HandshakeStats {
    return { handshakes: this.handshakes, probes: this.probes, vetoes: this.vetoes, flowEvictions: this.flows.evictions, sourceEvictions: this.sources.evictions };
  }

  /**
   * One TCP packet (header at p.l4Off, at least 14 bytes captured). `s`/`d` are the
   * source and destination words (IPv4: 0, 0, 0xffff, addr).
   */
  packet(p: DecodedPacket, s0: number, s1: number, s2: number, s3: number, d0: number, d1: number, d2: number, d3: number, now: number): void {
    const b = p.buf;
    const o = p.l4Off;
    const flags = b[o + 13]!;
    if ((flags & (Th.SYN | Th.ACK | Th.RST)) === (Th.SYN | Th.ACK)) {
      // SYN-ACK from the responder (source) to the initiator (destination)
      const k = this.flows.key;
      k[0] = d0;
      k[1] = d1;
      k[2] = d2;
      k[3] = d3;
      k[4] = s0;
      k[5] = s1;
      k[6] = s2;
      k[7] = s3;
      k[8] = ((b[o + 2]! << 24) | (b[o + 3]! << 16) | (b[o]! << 8) | b[o + 1]!) >>> 0;
      const slot = this.flows.insert();
      this.expect[slot] = (be32(b, o + 4) + 1) >>> 0;
      this.since[slot] = now;
      this.state[slot] = ST_SYNACK;
      return;
    }
    if ((flags & Th.SYN) !== 0) {
      // a SYN from a source that has made a handshake: at another TTL, a veto
      if (this.sources.size !== 0 && (flags & (Th.ACK | Th.RST)) === 0) {
        const s = this.known(s0, s1, s2, s3);
        if (s >= 0 && this.ttlOf[s] !== p.ttl) {
          this.vetoAt[s] = now;
          this.vetoes++;
        }
      }
      return;
    }
    if (this.flows.size === 0) return;
    // from the initiator (source) to the responder (destination)
    const k = this.flows.key;
    k[0] = s0;
    k[1] = s1;
    k[2] = s2;
    k[3] = s3;
    k[4] = d0;
    k[5] = d1;
    k[6] = d2;
    k[7] = d3;
    k[8] = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
    const slot = this.flows.find();
    if (slot < 0) return;
    const data = p.l4Len - (b[o + 12]! >> 4) * 4 > 0;
    const rst = (flags & Th.RST) !== 0;
    if (this.state[slot] === ST_SYNACK) {
      if (now - this.since[slot]! > HANDSHAKE_SEC || rst) {
        this.flows.remove(slot);
        if (rst && this.sources.size !== 0) {
          // half-open: a connect() scanner completes what it is offered
          const s = this.known(s0, s1, s2, s3);
          if (s >= 0) {
            this.vetoAt[s] = now;
            this.vetoes++;
          }
        }
        return;
      }
      if ((flags & Th.ACK) === 0 || p.l4Avail < 12 || be32(b, o + 8) !== this.expect[slot]) return;
      // completed: the initiator received our SYN-ACK
      this.handshakes++;
      this.clientele?.addWords(s0, s1, s2, s3, now);
      this.clientele?.addWords(d0, d1, d2, d3, now);
      const src = this.source(s0, s1, s2, s3);
      this.sessionAt[src] = now;
      this.ttlOf[src] = p.ttl;
      if (data) this.flows.remove(slot);
      else if ((flags & Th.FIN) !== 0) {
        this.flows.remove(slot);
        this.probe(s0, s1, s2, s3, now);
      } else {
        this.state[slot] = ST_OPEN;
        this.since[slot] = now;
      }
      return;
    }
    // open, no data from the initiator yet
    if (now - this.since[slot]! > PROBE_SEC || data) {
      this.flows.remove(slot);
      return;
    }
    if (rst || (flags & Th.FIN) !== 0) {
      this.flows.remove(slot);
      this.probe(s0, s1, s2, s3, now);
    }
  }

  private probe(s0: number, s1: number, s2: number, s3: number, now: number): void {
    this.probes++;
    // the slot first: the first insertion makes probeAt (KeyTable.onAllocate)
    const src = this.source(s0, s1, s2, s3);
    this.probeAt[src] = now;
  }

  /** The slot of a source (inserted if new: its times start at -Infinity). */
  private source(s0: number, s1: number, s2: number, s3: number): number {
    const k = this.sources.key;
    k[0] = s0;
    k[1] = s1;
    k[2] = s2;
    k[3] = s3;
    const before = this.sources.size;
    const slot = this.sources.insert();
    if (this.sources.size > before || this.sources.evicted >= 0) {
      this.sessionAt[slot] = -Infinity;
      this.probeAt[slot] = -Infinity;
      this.vetoAt[slot] = -Infinity;
    }
    return slot;
  }

  /** The slot of a source already held, or -1. */
  private known(s0: number, s1: number, s2: number, s3: number): number {
    const k = this.sources.key;
    k[0] = s0;
    k[1] = s1;
    k[2] = s2;
    k[3] = s3;
    return this.sources.find();
  }

  private find(a: IpAddr): number {
    const k = this.sources.key;
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
    return this.sources.find();
  }

  /**
   * Did `src` make a connect-probe within the episode (EPISODE_SEC before `now`), with
   * no veto (a SYN at another TTL, a RST to our SYN-ACK) within it?
   */
  proven(src: IpAddr, now: number): boolean {
    const s = this.find(src);
    if (s < 0 || now - this.probeAt[s]! > EPISODE_SEC) return false;
    return now - this.vetoAt[s]! > EPISODE_SEC;
  }

  /** Did `src` complete any handshake within the episode? */
  session(src: IpAddr, now: number): boolean {
    const s = this.find(src);
    return s >= 0 && now - this.sessionAt[s]! <= EPISODE_SEC;
  }
}

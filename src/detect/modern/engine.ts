/**
 * The modern profile's detection (docs/detectors.md, ../shared/MODERN.md): roles, not
 * addresses; outcomes, not packets.
 *
 * Roles. A *contact* is (originator, responder, protocol, responder port; ICMP: the request
 * type). The sender of the first packet of a contact is its originator, unless that packet
 * is reply-typed (SYN-ACK, RST, echo or other ICMP reply, ICMP error), which opens nothing:
 * it is *unsolicited* and feeds only the reflection detector (smurf/fraggle) and a counter
 * (backscatter). Every packet of the other side is *evidence* about the originator's
 * contact (a SYN-ACK, our RST, an ICMP error quoting the probe, an echo reply), never a
 * subject: it writes no line. Only originators sending towards a protected address (the
 * `--home` and `-a` networks; every address when none is given) are judged.
 *
 * Outcomes. A contact resolves once: SUCCESS (the handshake completed to the responder's
 * ISN + 1, a UDP or echo reply, any non-RST answer to an ACK probe), REJECT (our RST or an
 * ICMP unreachable quoting it), HALF-OPEN (our SYN-ACK answered by its RST, or never
 * acknowledged) or SILENT (no answer within GRACE_SEC of packet time). First contacts feed
 * the sources' Threshold Random Walk (syn-scan, udp-scan) and the windowed ACK/Maimon
 * counts; crafted segments (NULL, FIN, Xmas) are evidence on their own.
 *
 * State: two KeyedTables (contacts, sources) sized at start from --state-memory, keyed by
 * a seeded hash, evicted by age keeping entries that hold evidence; timers are FIFO rings
 * (fixed delays) and a heap (episode ends) on the packet clock. Nothing allocates per
 * packet except the lines that are written.
 */
import { A, type Anomalies } from '../../decode/anomalies';
import { DecodedPacket, be16, be32, Ip } from '../../decode/packet';
import { IpAddr } from '../../net/addr';
import { event, type DetailValue } from '../../output/event';
import { AGG_BYTES, SYN_ADMIT_BYTES, SYN_ADMIT_PER_ENTRY } from './aggregates';
import { AggregateDetect } from './aggregate-detect';
import { Sweeps, SWEEP_BYTES } from './sweeps';
import { serviceName } from '../../output/services';
import { parseCidr, type Cidr } from '../../net/addr';
import { compileNets, netMatch, netMatch6, type NetMatcher } from '../../rules/dst-net';
import { handleIcmp } from '../icmp';
import { handleIcmp6, isLinkBackground } from '../icmp6';
import { logConnection } from '../tcp';
import type { DetectContext } from '../context';
import type { Settings } from '../../config/settings';
import { FifoSet, FifoTable, KeyedTable, TimerRing } from './table';
import { GRACE_SEC, PENDING_QUOTA, TRW, TRW_MEMORY_SEC } from './define';
import { MODERN_DETECTORS, M } from './index';
import { gradeOf } from '../../evidence/grade';

// contact classes
const C_SYN = 1;
const C_ACK = 2;
const C_FINACK = 3;
const C_STEALTH = 4;
const C_UDP = 5;
const C_ICMP = 6;
/** opened by a reply-typed packet (backscatter): never judged */
const C_UNSOL = 7;
// outcomes
const O_PENDING = 0;
const O_SUCCESS = 1;
const O_REJECT = 2;
const O_HALFOPEN = 3;
const O_SILENT = 4;
// contact flags
const F_SYNACK = 1;
const F_JUDGED = 2;
const F_REPLY = 4;
const F_UNREACH = 8;
/** the contact's destination is protected: its originator's crafted segments are judged */
const F_PROT = 16;
/** the SYN carried DF (IPv4) or a kernel's options (IPv6): a connect() */
const F_DF = 32;
/** the contact's first packet was counted for its source's episode when it came */
const F_COUNTED = 64;
/** a first SYN counted in its source record's pending first contacts (sPending) until it resolves */
const F_QUOTA = 128;
// detector record states
const D_IDLE = 0;
const D_ARMED = 1;
const D_MODE = 2;

// TCP flag bits
const FIN = 1;
const SYN = 2;
const RST = 4;
const PSH = 8;
const ACK = 16;
const URG = 32;
const ECE = 64;
const CWR = 128;

/** contact key: originator (4 words), responder (4 words), family<<24 | proto<<16 | port */
const CW = 9;
/** source key: tag<<8 | family, then the (masked) address words */
const SW = 5;
const TAG_SOURCE = 0;
const TAG_REFLECTOR = 1;

/** detectors with a record per source (the aggregates are keyed by destination: aggregate-detect.ts) */
const ND: number = M.SOURCES;
const DPORTS = 10;
const SPORTS = 5;
/** udp-scan (b): distinct silent UDP contacts within its window */
const UDP_SILENT = 20;
/** windowed detectors: ring of the last `threshold` counted times (offsets into one ring per source) */
const WIN_OFF = new Int32Array(ND).fill(-1);
const WIN_TOTAL = ((): number => {
  let n = 0;
  for (const d of MODERN_DETECTORS) {
    if (d.index < ND && d.windowSec > 0 && d.index !== M.PING && d.index !== M.SMURF && d.index !== M.PSWEEP && d.index !== M.PINGSWEEP && d.index !== M.ARPSWEEP) {
      WIN_OFF[d.index] = n;
      n += d.index === M.UDP ? UDP_SILENT : d.threshold;
    }
  }
  return n;
})();
/** per-second rate rings (ping flood, smurf) */
const RING = 10;
/** sLazy bits of the rings (detector records use bits 0 .. ND-1) */
const LAZY_RING = 1 << 30;
const LAZY_WIN = 1 << 29;
/** the sweep candidates (sweeps.ts) */
const LAZY_SWEEP = 1 << 28;
/** the per-source fields of the bogus-flags, tiny-fragment and traceroute lines */
const LAZY_MISC = 1 << 27;
if (ND > 27) throw new Error('modern: more than 27 detectors do not fit the lazy-reset bits');
/** traceroute: within TRACE_WINDOW s, TRACE_TTLS distinct arrival TTLs, the smallest 1 */
const TRACE_WINDOW = 10;
const TRACE_TTLS = 3;
const TRACE_LINE_EVERY = 60;
const BOGUS_LINE_EVERY = 60;

/** bytes per contact and per source, for sizing from --state-memory */
const CONTACT_BYTES = KeyedTable.bytesPerEntry(CW) + 1 + 1 + 1 + 4 + 1 + 2 + 8 + 4 + 2;
const SOURCE_BYTES = KeyedTable.bytesPerEntry(SW) + SWEEP_BYTES + 12 + 8 + 16 + 1 + 1 + 16 + 1 + 8 + 1 + 1 + 32 + 12 + 8 + 4 + 8 + 24 + 8 + 2 + 1 + RING * 6 + WIN_TOTAL * 4 + 1 + ND * (1 + 8 + 8 + 8 + DPORTS * 2 + 1 + SPORTS * 2 + 1);

/** admission table: words per entry of the admitted contact (class | flags << 8 | outcome << 16, length, source port, contact key) */
const AEW = 3 + CW;
const ADMIT_BYTES = KeyedTable.bytesPerEntry(SW) + AEW * 4 + 8;
/** admission entries per source record */
const ADMIT_PER_SOURCE = 2;
/**
 * The SYN tier (tierAdmits): entries per source record; words per entry besides its contact
 * key (flags | outcome << 8 | TTL << 16, source port, length, its grace timer: TT_NONE,
 * TT_OWN, or the slot of the contact it was handed to); bytes per entry (with its resolution
 * time, its timer's due second and place among the grace ring's pushes, and the contact's
 * generation: the tier keeps its entries' grace timers itself, in its own arrival order).
 */
const TIER_PER_SOURCE = 2;
const TW = 4;
const TIER_BYTES = FifoTable.bytesPerEntry() + CW * 4 + TW * 4 + 8 + 8 + 8 + 4;
/** a tier entry's grace timer (its fourth word): none (fired, or handed on), or its own; a slot number: the contact's */
const TT_NONE = -1;
const TT_OWN = -2;
/** floodSieve(): not a SYN it judges; shed; passed (made a contact at once) */
const SIEVE_NONE = 0;
const SIEVE_SHED = 1;
const SIEVE_PASS = 2;
/** the flood sieve passes a source at its SIEVE_K-th SYN, each within the sieve's span of the one before */
const SIEVE_K = 3;
/** bytes per flood sieve entry (its count included) */
const SIEVE_BYTES = FifoSet.bytesPerEntry();
/**
 * The flood sieve's entries for a budget: one per 2 KiB of it, a power of two from 2,048
 * to 16,384 (the default 48 MiB has the most). Not more: the span is what a flood's
 * sources must come back within, SIEVE_K - 1 times in a row, to be tracked (docs/detectors.md).
 */
function sieveFor(bytes: number): number {
  let n = 2048;
  while (n < 16384 && n * 2 * 2048 <= bytes) n *= 2;
  return n;
}
/** ModernDetect.tierSrc: the tier was not looked up for this packet */
const NOT_LOOKED = -2;
/** tcp(): the forward contact key's hash was not computed (a hash is any 32-bit value: this one is only a marker, recomputed when met) */
const NO_HASH = 0x7fffffff;
/**
 * A tier entry's first word (besides its contact flags, outcome and TTL): resolved without a
 * record or admission entry of its source, it stands for the admission entry admitOrFind
 * would have made (flushTier makes it when the source comes back)
 */
const T_ADMIT = 1 << 24;
/**
 * A tier entry's first word: its contact was made (materialize); the entry stays as a mark
 * that its source is not a one-off, so that its next first SYNs become contacts at once
 */
const T_MARK = 1 << 25;

export const DEFAULT_STATE_MEMORY = 48 * 1024 * 1024;

export interface ModernSizes {
  contacts: number;
  sources: number;
  /** admission entries (sources with one resolved contact); default twice the sources */
  admission?: number;
  /** SYN tier entries (first SYNs of sources without a record); default twice the sources */
  tier?: number;
  /** aggregate entries (per destination and port: aggregates.ts); default from the budget */
  aggregates?: number;
  /** flood sieve entries (sources of SYNs to a destination in SYN-flood mode); default from the budget */
  sieve?: number;
  /** counters of each of the two filters (origins, present): a power of two; default from the budget */
  filterBits?: number;
}

/** the filters' counters (2^bits each) for a budget: one byte per 256 bytes of it, from 2^10 to 2^16 */
function filterBitsFor(bytes: number): number {
  let bits = 10;
  while (bits < 16 && 2 ** (bits + 1) * 256 <= bytes) bits++;
  return bits;
}

/**
 * Table capacities for a memory budget: the filters and the flood sieve off the top, then 11/16 for contacts, a quarter for sources (with
 * their admission table, ADMIT_PER_SOURCE entries per source), 1/16 for aggregates. Each
 * share pays for its entries, their timer-ring slots (TimerRing.BYTES: the grace ring per
 * contact, two hold slots per source) and its tables' bucket heads (a power of two of at
 * least twice the entries), so the tables allocate at most `bytes` in all
 * (test/detect/modern-bounds.test.ts measures them) unless the minimum sizes exceed it.
 */
export function modernSizes(total: number): ModernSizes {
  // the two filters and the flood sieve come off the top
  const filterBits = filterBitsFor(total);
  const sieve = sieveFor(total);
  const bytes = total - 2 * 2 ** filterBits - sieve * SIEVE_BYTES;
  const fit = (share: number, perEntry: number, heads: (n: number) => number, min: number): number => {
    let n = Math.floor(share / perEntry);
    // the heads jump at powers of two: shrink until entries and heads fit
    for (let i = 0; i < 64 && n > min && n * perEntry + heads(n) > share; i++) n = Math.min(n - 1, Math.floor((share - heads(n)) / perEntry));
    return Math.max(min, n);
  };
  const sources = fit(
    bytes * 0.25,
    SOURCE_BYTES + 2 * TimerRing.BYTES + ADMIT_PER_SOURCE * ADMIT_BYTES + TIER_PER_SOURCE * TIER_BYTES,
    (n) => KeyedTable.headBytes(n) + KeyedTable.headBytes(n * ADMIT_PER_SOURCE),
    64,
  );
  return {
    contacts: fit(bytes * 0.6875, CONTACT_BYTES + TimerRing.BYTES, (n) => KeyedTable.headBytes(n), 64),
    sources,
    admission: sources * ADMIT_PER_SOURCE,
    tier: sources * TIER_PER_SOURCE,
    aggregates: fit(
      bytes * 0.0625,
      AGG_BYTES + SYN_ADMIT_PER_ENTRY * SYN_ADMIT_BYTES,
      (n) => KeyedTable.headBytes(n) + KeyedTable.headBytes(n * SYN_ADMIT_PER_ENTRY),
      16,
    ),
    filterBits,
    sieve,
  };
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** Counters of the modern tables, in --stats and the operational log (anomalies). */
export interface ModernCounters {
  contactEvictions: number;
  contactEvidenceEvictions: number;
  sourceEvictions: number;
  sourceEvidenceEvictions: number;
  admissionEvictions: number;
  /** entries the SYN tier evicted (first SYNs still waiting, standing for an admission entry, or marks) */
  tierEvictions: number;
  unsolicited: number;
  /** plain SYNs of sources in SYN-scan mode to the destination they scan, counted on the episode without a contact (inModeSyn) */
  inModeSyns: number;
  /** plain SYNs of sources at their PENDING_QUOTA to the destination they scan, counted on the episode without a contact (inModeSyn) */
  quotaSyns: number;
  /** that destination's answers to them (RST, SYN-ACK) that found no contact (answerInMode) */
  inModeAnswers: number;
  graceOverflows: number;
  aggregateEvictions: number;
  aggregateEvidenceEvictions: number;
}

export class ModernDetect {
  readonly contacts: KeyedTable;
  readonly sources: KeyedTable;
  /** sources whose one resolved first contact is all there is yet (admitOrFind) */
  readonly admit: KeyedTable;
  private readonly aEv: Int32Array;
  private readonly aTime: Float64Array;
  /**
   * How many contacts each originator has, by a seeded hash of its address's first 64 bits
   * into 2^10 to 2^16 counters (filterBitsFor; several originators share one, and a counter
   * that reaches 255 stays there): a counter at 0 means no contact has that originator, so a packet whose two
   * directions' originators both count 0 is not looked up in the contact table, whose index
   * is far too big for the cache. Under a flood of one-off sources (their SYNs wait in the
   * tier) that saves the contact table's cache misses for almost every packet.
   */
  private readonly origins: Uint8Array;
  private readonly originSeed: number;
  private readonly presentSeed: number;
  /** first SYNs of sources without a record, not yet contacts (tierAdmits); keyed as the sources */
  readonly tier: FifoTable;
  /** per tier entry: its contact's key (CW words) and TW words (see TW) */
  private readonly tKey: Int32Array;
  private readonly tW: Int32Array;
  /** the aggregate detectors (per destination: SYN flood, distributed and decoy scans, UDP flood) */
  readonly aggs: AggregateDetect;
  /** port and ping sweeps: per source slot (sweeps.ts), and the candidate each sweep detector fired on */
  private readonly sweeps: Sweeps;
  private readonly sSweep: Int32Array;
  private prot: NetMatcher | null;
  private lineCtx: DetectContext;
  private readonly grace: TimerRing;
  private readonly hold: TimerRing;
  /** episode ends: a binary heap of (due, seq) over sources */
  private readonly epDue: Float64Array;
  private readonly epSeq: Float64Array;
  private readonly epSlot: Int32Array;
  private readonly epGen: Int32Array;
  private epN = 0;
  private epSeqNext = 0;
  unsolicited = 0;
  inModeSyns = 0;
  quotaSyns = 0;
  inModeAnswers = 0;

  // contacts
  private readonly cCls: Uint8Array;
  private readonly cOut: Uint8Array;
  private readonly cFlags: Uint8Array;
  private readonly cIsn: Int32Array;
  private readonly cTtl: Uint8Array;
  private readonly cSport: Uint16Array;
  private readonly cLen: Int32Array;

  // sources
  private readonly sAddr: Int32Array;
  private readonly sFam: Uint8Array;
  private readonly sMulti: Uint8Array;
  private readonly sDst: Int32Array;
  private readonly sDstFam: Uint8Array;
  private readonly sLast: Float64Array;
  private readonly sTrw: Int8Array;
  private readonly sTrwU: Int8Array;
  /** outcome counts: TCP success, reject, half-open, silent; UDP success, reject, silent, (unused) */
  private readonly sOut: Uint32Array;
  private readonly sSyn: Uint32Array;
  private readonly sDf: Uint32Array;
  private readonly sHs: Uint32Array;
  private readonly sBogus: Float64Array;
  /** the second of the source's last tiny-fragment line */
  private readonly sTiny: Float64Array;
  private readonly sTrMask: Int32Array;
  private readonly sTrStart: Float64Array;
  private readonly sTrLine: Float64Array;
  private readonly sTrUntil: Float64Array;
  private readonly sRing: Uint16Array;
  private readonly sRingSec: Float64Array;
  private readonly sWin: Int32Array;
  private readonly sEpQueued: Uint8Array;
  /** the source's pending first SYNs counted against PENDING_QUOTA (F_QUOTA contacts) */
  private readonly sPending: Uint16Array;
  /** 1: some SYN of the source to the destination it scans was taken without a contact (inModeSyn) while it was not in mode; its answers are then answerInMode's */
  private readonly sThrottled: Uint8Array;
  /**
   * Parts of a source record set up on first use rather than when the source is made (a
   * flood of new sources makes one per resolved contact): bit d, detector d's record
   * (except its state, always reset); LAZY_RING, the rate ring; LAZY_WIN, the window rings.
   */
  private readonly sLazy: Int32Array;
  private readonly dState: Uint8Array;
  private readonly dCount: Float64Array;
  private readonly dBytes: Float64Array;
  private readonly dLast: Float64Array;
  private readonly dPorts: Uint16Array;
  private readonly dN: Uint8Array;
  private readonly dSports: Uint16Array;
  private readonly dNs: Uint8Array;

  constructor(
    settings: Settings,
    private ctx: DetectContext,
    private readonly an: Anomalies,
    seed: number,
    sizes: ModernSizes = modernSizes(settings.stateMemory ?? DEFAULT_STATE_MEMORY),
  ) {
    this.prot = null;
    this.lineCtx = ctx;
    this.rebind(settings, ctx);
    const C = sizes.contacts;
    const S = sizes.sources;
    this.contacts = new KeyedTable(C, CW, seed, (s, pinned) => this.contactEvicted(s, pinned));
    this.sources = new KeyedTable(S, SW, seed ^ 0x5bd1e995, (s, pinned) => this.sourceEvicted(s, pinned));
    const AD = sizes.admission ?? S * ADMIT_PER_SOURCE;
    this.admit = new KeyedTable(AD, SW, seed ^ 0x3c6ef372, (e) => {
      this.an.counts[A.modernAdmissionEvicted]++;
      this.countPresent(this.admit.keys, e * SW, -1);
    });
    this.aEv = new Int32Array(AD * AEW);
    this.aTime = new Float64Array(AD);
    const fb = sizes.filterBits ?? filterBitsFor(settings.stateMemory ?? DEFAULT_STATE_MEMORY);
    this.origins = new Uint8Array(2 ** fb);
    this.present = new Uint8Array(2 ** fb);
    this.filterShift = 32 - fb;
    this.originSeed = Math.imul(seed ^ 0x2545f491, 0x9e3779b1) | 1;
    this.presentSeed = Math.imul(seed ^ 0x61c88647, 0x85ebca77) | 1;
    const TI = sizes.tier ?? S * TIER_PER_SOURCE;
    this.tier = new FifoTable(TI, seed ^ 0x7f4a7c15, (e) => this.tierEvicted(e));
    this.sieve = new FifoSet(sizes.sieve ?? sieveFor(settings.stateMemory ?? DEFAULT_STATE_MEMORY), seed ^ 0x4cf5ad43);
    this.tTime = new Float64Array(TI);
    this.tDue = new Float64Array(TI);
    this.tBefore = new Float64Array(TI);
    this.tGen = new Int32Array(TI);
    this.tKey = new Int32Array(TI * CW);
    this.tW = new Int32Array(TI * TW);
    this.aggs = new AggregateDetect(sizes.aggregates ?? modernSizes(settings.stateMemory ?? DEFAULT_STATE_MEMORY).aggregates!, seed ^ 0x27d4eb2f, ctx, an);
    this.sweeps = new Sweeps(S);
    this.sSweep = new Int32Array(S * 3);
    this.grace = new TimerRing(C);
    this.hold = new TimerRing(S * 2);
    this.epDue = new Float64Array(S);
    this.epSeq = new Float64Array(S);
    this.epSlot = new Int32Array(S);
    this.epGen = new Int32Array(S);
    this.cCls = new Uint8Array(C);
    this.cOut = new Uint8Array(C);
    this.cFlags = new Uint8Array(C);
    this.cIsn = new Int32Array(C);
    this.cTtl = new Uint8Array(C);
    this.cSport = new Uint16Array(C);
    this.cLen = new Int32Array(C);
    this.sAddr = new Int32Array(S * 4);
    this.sFam = new Uint8Array(S);
    this.sMulti = new Uint8Array(S);
    this.sDst = new Int32Array(S * 4);
    this.sDstFam = new Uint8Array(S);
    this.sLast = new Float64Array(S);
    this.sTrw = new Int8Array(S);
    this.sTrwU = new Int8Array(S);
    this.sOut = new Uint32Array(S * 8);
    this.sSyn = new Uint32Array(S);
    this.sDf = new Uint32Array(S);
    this.sHs = new Uint32Array(S);
    this.sBogus = new Float64Array(S);
    this.sTiny = new Float64Array(S);
    this.sTrMask = new Int32Array(S);
    this.sTrStart = new Float64Array(S);
    this.sTrLine = new Float64Array(S * 3);
    this.sTrUntil = new Float64Array(S);
    this.sRing = new Uint16Array(S * RING);
    this.sRingSec = new Float64Array(S * RING);
    this.sWin = new Int32Array(Math.max(1, S * WIN_TOTAL));
    this.sEpQueued = new Uint8Array(S);
    this.sPending = new Uint16Array(S);
    this.sThrottled = new Uint8Array(S);
    this.sLazy = new Int32Array(S);
    this.dState = new Uint8Array(S * ND);
    this.dCount = new Float64Array(S * ND);
    this.dBytes = new Float64Array(S * ND);
    this.dLast = new Float64Array(S * ND);
    this.dPorts = new Uint16Array(S * ND * DPORTS);
    this.dN = new Uint8Array(S * ND);
    this.dSports = new Uint16Array(S * ND * SPORTS);
    this.dNs = new Uint8Array(S * ND);
  }

  /**
   * Bind these tables to the settings and detection context of a new engine: a SIGHUP
   * restart in the modern profile hands them over (src/pipeline.ts Engine), so that
   * contacts, scores and episodes in progress survive a reload and the tables (tens of
   * MiB from --state-memory) are not made again. The protected set and the flags are read
   * anew; the lines go to the new engine's output.
   */
  rebind(settings: Settings, ctx: DetectContext): this {
    // live, the host's own addresses are protected too (src/live/protected.ts)
    const home = [...(settings.home ?? []), ...(settings.hostAddresses ?? [])];
    const promisc = settings.promiscNets ?? [];
    this.prot = home.length + promisc.length > 0 ? compileProtected(home, promisc, settings.promiscOrigin) : null;
    this.ctx = ctx;
    // the per-packet lines of compat's ICMP handlers, without their detectors (judged here)
    this.lineCtx = { ...ctx, rules: null, flags: { ...settings.flags, smurf: false, ping_flood: false } };
    // aggs is made after the first call (constructor)
    if (this.aggs !== undefined) this.aggs.rebind(ctx);
    return this;
  }

  counters(): ModernCounters {
    return {
      contactEvictions: this.contacts.evictions,
      contactEvidenceEvictions: this.contacts.evidenceEvictions,
      sourceEvictions: this.sources.evictions,
      sourceEvidenceEvictions: this.sources.evidenceEvictions,
      admissionEvictions: this.admit.evictions,
      tierEvictions: this.tier.evictions,
      unsolicited: this.unsolicited,
      inModeSyns: this.inModeSyns,
      quotaSyns: this.quotaSyns,
      inModeAnswers: this.inModeAnswers,
      graceOverflows: this.grace.overflows,
      aggregateEvictions: this.aggs.agg.t.evictions,
      aggregateEvidenceEvictions: this.aggs.agg.t.evidenceEvictions,
    };
  }

  // ---------------------------------------------------------------- protected set

  private protectedDst(p: DecodedPacket): boolean {
    const m = this.prot;
    if (m === null) return true;
    return p.family === 4 ? netMatch(m, p.dst) : netMatch6(m, p.dst6);
  }

  private protectedSrc(p: DecodedPacket): boolean {
    const m = this.prot;
    if (m === null) return true;
    return p.family === 4 ? netMatch(m, p.src) : netMatch6(m, p.src6);
  }

  // ---------------------------------------------------------------- keys

  /** contact key of packet p: forward (originator = p's source, port = dport) or reverse */
  private contactKey(p: DecodedPacket, forward: boolean, proto: number, port: number): void {
    const k = this.contacts.k;
    if (p.family === 4) {
      k[0] = forward ? p.src : p.dst;
      k[1] = k[2] = k[3] = 0;
      k[4] = forward ? p.dst : p.src;
      k[5] = k[6] = k[7] = 0;
    } else {
      const a = forward ? p.src6 : p.dst6;
      const b = forward ? p.dst6 : p.src6;
      k[0] = a[0]!;
      k[1] = a[1]!;
      k[2] = a[2]!;
      k[3] = a[3]!;
      k[4] = b[0]!;
      k[5] = b[1]!;
      k[6] = b[2]!;
      k[7] = b[3]!;
    }
    k[8] = (p.family << 24) | (proto << 16) | port;
  }

  /** the source slot of contact `c`'s originator (created when absent) */
  private sourceOfContact(c: number, now: number): number {
    const ck = this.contacts.keys;
    const o = c * CW;
    const fam = ck[o + 8]! >>> 24;
    return this.source(fam, ck[o]!, ck[o + 1]!, ck[o + 2]!, ck[o + 3]!, TAG_SOURCE, now);
  }

  /** the source slot of p's sender; `create` false: -1 when it has none (a flood of new senders makes no entries) */
  private sourceOfPacket(p: DecodedPacket, now: number, create = true): number {
    if (p.family === 4) return this.source(4, p.src | 0, 0, 0, 0, TAG_SOURCE, now, create);
    const w = p.src6;
    return this.source(6, w[0]! | 0, w[1]! | 0, w[2]! | 0, w[3]! | 0, TAG_SOURCE, now, create);
  }

  /** source slot for an address (IPv6 keyed by its /64; reflectors by /24 and /48) */
  private source(fam: number, w0: number, w1: number, w2: number, w3: number, tag: number, now: number, create = true): number {
    const t = this.sources;
    const k = t.k;
    k[0] = (tag << 8) | fam;
    if (fam === 4) {
      k[1] = tag === TAG_REFLECTOR ? w0 & 0xffffff00 : w0;
      k[2] = k[3] = k[4] = 0;
    } else {
      k[1] = w0;
      k[2] = tag === TAG_REFLECTOR ? w1 & 0xffff0000 : w1;
      k[3] = k[4] = 0;
    }
    let s = t.find();
    if (s < 0) {
      if (!create) return -1;
      s = t.add(t.lastHash);
      this.countPresent(t.keys, s * SW, 1);
      this.initSource(s, fam, k[1]!, fam === 4 ? 0 : k[2]!, tag === TAG_REFLECTOR ? 0 : w2, tag === TAG_REFLECTOR ? 0 : w3, now);
      if (fam === 4) this.sAddr[s * 4] = k[1]!;
      if (tag === TAG_SOURCE) {
        this.flushTier(fam, t.keys[s * SW + 1]!, t.keys[s * SW + 2]!);
        if (this.admit.size > 0) this.replayAdmitted(s, now);
      }
      this.sLast[s] = now;
      return s;
    }
    return this.found(s, tag, fam, w2, w3, now);
  }

  /** source() of a record it found at slot s */
  private found(s: number, tag: number, fam: number, w2: number, w3: number, now: number): number {
    const a = s * 4;
    if (tag === TAG_SOURCE && fam === 6 && (this.sAddr[a + 2] !== w2 || this.sAddr[a + 3] !== w3)) this.sMulti[s] = 1;
    if (now - this.sLast[s]! > TRW_MEMORY_SEC) {
      // forgotten: the outcome counts with the scores they explain (JSON detail)
      this.sTrw[s] = 0;
      this.sTrwU[s] = 0;
      for (let j = s * 8, e = j + 8; j < e; j++) this.sOut[j] = 0;
      this.sThrottled[s] = 0;
    }
    this.sources.touch(s);
    this.sLast[s] = now;
    return s;
  }

  private initSource(s: number, fam: number, w0: number, w1: number, w2: number, w3: number, now: number): void {
    const a = s * 4;
    this.sAddr[a] = w0;
    this.sAddr[a + 1] = w1;
    this.sAddr[a + 2] = w2;
    this.sAddr[a + 3] = w3;
    this.sFam[s] = fam;
    this.sMulti[s] = 0;
    this.sDstFam[s] = 0;
    this.sLast[s] = now;
    this.sTrw[s] = 0;
    this.sTrwU[s] = 0;
    // plain loops, not fill(start, end): a builtin call per range costs more than the stores
    for (let j = s * 8, e = j + 8; j < e; j++) this.sOut[j] = 0;
    this.sSyn[s] = this.sDf[s] = this.sHs[s] = 0;
    this.sEpQueued[s] = 0;
    this.sPending[s] = 0;
    this.sThrottled[s] = 0;
    // the rest is set up on first use (sLazy): under a flood of new sources most records
    // are made for one resolved contact and evicted before a second
    this.sLazy[s] = 0;
    for (let i = s * ND, e = i + ND; i < e; i++) this.dState[i] = D_IDLE;
  }

  /** the fields of source s that the bogus-flags, tiny-fragment and traceroute lines keep, set up on first use */
  private misc(s: number): void {
    const l = this.sLazy[s]!;
    if ((l & LAZY_MISC) !== 0) return;
    this.sLazy[s] = l | LAZY_MISC;
    this.sTiny[s] = -1e9;
    this.sBogus[s] = -1e9;
    this.sTrMask[s] = 0;
    this.sTrStart[s] = -1e9;
    for (let j = s * 3, e = j + 3; j < e; j++) this.sTrLine[j] = -1e9;
    this.sTrUntil[s] = -1e9;
  }

  /** source s's sweep candidates, set up on first use */
  private sweepsOf(s: number): void {
    const l = this.sLazy[s]!;
    if ((l & LAZY_SWEEP) !== 0) return;
    this.sLazy[s] = l | LAZY_SWEEP;
    this.sweeps.reset(s);
  }

  /** sink of warmAdmission()'s loads (kept so that they are not optimised away) */
  warm = 0;

  /**
   * Under a flood each packet's contact evicts one whose originator, new, is admitted
   * (admitOrFind) in the slot of the oldest admission entry: read that slot (its bucket head
   * and links, and its event) early, with the contact table's misses, so that these misses
   * overlap instead of coming one after the other (KeyedTable.headOf). Source records are
   * made only for returning sources now, too rarely to be worth warming.
   */
  private warmAdmission(): void {
    const v = this.admit.warmVictim();
    if (v < 0) return;
    this.warm = this.aEv[v * AEW]! + this.aTime[v]!;
  }

  /** detector d's record of source s, reset if this source has not used it yet */
  private lazyDetector(s: number, d: number): void {
    const bit = 1 << d;
    const l = this.sLazy[s]!;
    if ((l & bit) !== 0) return;
    this.sLazy[s] = l | bit;
    this.resetDetector(s * ND + d);
  }

  private resetDetector(i: number): void {
    this.dState[i] = D_IDLE;
    this.dCount[i] = 0;
    this.dBytes[i] = 0;
    this.dLast[i] = -1e9;
    this.dN[i] = 0;
    this.dNs[i] = 0;
  }

  private setDst(s: number, fam: number, w: ArrayLike<number>, off: number): void {
    const a = s * 4;
    this.sDstFam[s] = fam;
    this.sDst[a] = w[off]!;
    this.sDst[a + 1] = w[off + 1]!;
    this.sDst[a + 2] = w[off + 2]!;
    this.sDst[a + 3] = w[off + 3]!;
  }

  private setDstOfPacket(s: number, p: DecodedPacket): void {
    if (p.family === 4) {
      const a = s * 4;
      this.sDstFam[s] = 4;
      this.sDst[a] = p.dst;
    } else this.setDst(s, 6, p.dst6, 0);
  }

  private evictNow = 0;

  /**
   * A contact evicted while its grace time runs is resolved at once with what is known
   * (our SYN-ACK seen: half-open; else silent) rather than dropped: under a flood that
   * fills the table, a scanner's probes still count (the table's evidence counter says
   * how often it happened).
   */
  private contactEvicted(c: number, pinned: boolean): void {
    this.countOrigin(this.contacts.keys, c * CW, -1);
    this.an.counts[A.modernContactEvicted]++;
    if (pinned) this.an.counts[A.modernContactEvictedEvidence]++;
    if ((this.cFlags[c]! & F_JUDGED) === 0) return;
    const cls = this.cCls[c]!;
    if (cls === C_UDP && this.contacts.pinned[c] === 1) {
      const fl = this.cFlags[c]!;
      this.resolve(c, (fl & F_REPLY) !== 0 ? O_SUCCESS : (fl & F_UNREACH) !== 0 ? O_REJECT : O_SILENT, this.evictNow);
    } else if (cls !== C_UDP && this.cOut[c] === O_PENDING && cls !== C_STEALTH && cls !== C_ICMP) {
      this.resolve(c, cls === C_SYN && (this.cFlags[c]! & F_SYNACK) !== 0 ? O_HALFOPEN : O_SILENT, this.evictNow);
    }
  }

  private sourceEvicted(s: number, pinned: boolean): void {
    this.countPresent(this.sources.keys, s * SW, -1);
    this.an.counts[A.modernSourceEvicted]++;
    if (pinned) this.an.counts[A.modernSourceEvictedEvidence]++;
    // open episodes end at once, as compat's evicted pairs do
    const now = this.sLast[s]!;
    for (let d = 0; d < ND; d++) if (this.dState[s * ND + d] === D_MODE) this.emitEnded(s, d, now);
  }

  private repin(s: number): void {
    let ev = this.sTrw[s]! >= 2 || this.sTrwU[s]! >= 2;
    for (let d = 0; d < ND && !ev; d++) if (this.dState[s * ND + d] !== D_IDLE) ev = true;
    this.sources.setPinned(s, ev);
  }

  // ---------------------------------------------------------------- detector records

  /** count one packet of `len` bytes for detector d of source s; true: the source is in mode (suppress its line) */
  private countPacket(s: number, d: number, len: number, sport: number, now: number): boolean {
    this.lazyDetector(s, d);
    const i = s * ND + d;
    const def = MODERN_DETECTORS[d]!;
    if (this.dState[i] === D_IDLE && now - this.dLast[i]! > def.endSec) this.resetDetector(i);
    this.dCount[i]! += 1;
    this.dBytes[i]! += len;
    this.dLast[i] = now;
    if (sport >= 0) {
      const n = this.dNs[i]!;
      const o = i * SPORTS;
      let seen = false;
      for (let j = 0; j < n; j++) if (this.dSports[o + j] === sport) seen = true;
      if (!seen && n < SPORTS) {
        this.dSports[o + n] = sport;
        this.dNs[i] = n + 1;
      }
    }
    return this.dState[i] !== D_IDLE;
  }

  /** add a destination port to detector d's list (distinct, first 10) */
  private addPort(s: number, d: number, port: number, now: number): void {
    this.lazyDetector(s, d);
    const i = s * ND + d;
    const n = this.dN[i]!;
    const o = i * DPORTS;
    for (let j = 0; j < n; j++) if (this.dPorts[o + j] === port) return;
    if (n < DPORTS) {
      this.dPorts[o + n] = port;
      this.dN[i] = n + 1;
      if (n + 1 === DPORTS && this.dState[i] === D_ARMED) this.fire(s, d, now);
    }
  }

  /** threshold reached: the line now, or after the detector's hold */
  private arm(s: number, d: number, now: number): void {
    const i = s * ND + d;
    if (this.dState[i] !== D_IDLE) return;
    this.lazyDetector(s, d);
    const def = MODERN_DETECTORS[d]!;
    // TCP scan alarms (SYN .. Maimon) feed the decoy groups
    if (d <= M.MAIMON) this.aggs.alarm(s, this.sources.gen[s]!, d, this.sDstFam[s]!, this.sDst, s * 4, this.dPorts, i * DPORTS, this.dN[i]!, now);
    if (def.holdSec === 0 || this.dN[i] === DPORTS) {
      this.fire(s, d, now);
      return;
    }
    this.dState[i] = D_ARMED;
    this.sources.setPinned(s, true);
    if (!this.hold.push(s * 32 + d, this.sources.gen[s]!, now + def.holdSec)) {
      // full: fire the oldest hold early
      this.fireHold(now);
      this.hold.push(s * 32 + d, this.sources.gen[s]!, now + def.holdSec);
    }
  }

  private fire(s: number, d: number, now: number): void {
    const i = s * ND + d;
    if (this.dState[i] === D_MODE) return;
    this.dState[i] = D_MODE;
    this.sources.setPinned(s, true);
    this.emitDetected(s, d, now);
    if (this.sEpQueued[s] === 0) {
      this.sEpQueued[s] = 1;
      this.heapPush(now + MODERN_DETECTORS[d]!.endSec, s, this.sources.gen[s]!);
    }
  }

  private srcAddr(s: number): IpAddr {
    const a = s * 4;
    const w = this.sAddr;
    if (this.sFam[s] === 4) return IpAddr.v4(w[a]! >>> 0);
    return IpAddr.v6(w[a]! >>> 0, w[a + 1]! >>> 0, w[a + 2]! >>> 0, w[a + 3]! >>> 0);
  }

  private dstAddr(s: number): IpAddr | null {
    const a = s * 4;
    const w = this.sDst;
    const f = this.sDstFam[s];
    if (f === 4) return IpAddr.v4(w[a]! >>> 0);
    if (f === 6) return IpAddr.v6(w[a]! >>> 0, w[a + 1]! >>> 0, w[a + 2]! >>> 0, w[a + 3]! >>> 0);
    return null;
  }

  private emitDetected(s: number, d: number, now: number): void {
    const def = MODERN_DETECTORS[d]!;
    const i = s * ND + d;
    const dports: number[] = [];
    for (let j = 0; j < this.dN[i]!; j++) dports.push(this.dPorts[i * DPORTS + j]!);
    const sports: number[] = [];
    for (let j = 0; j < this.dNs[i]!; j++) sports.push(this.dSports[i * SPORTS + j]!);
    let title = def.title;
    let name = def.name;
    const detail: Record<string, DetailValue> = {};
    if (d === M.SYN) {
      // a connect() scan: handshakes completed in the episode, or most SYNs with DF
      if (this.sHs[s]! > 0 || this.sDf[s]! * 2 > this.sSyn[s]!) {
        title = 'TCP: port scan';
        name = 'port-scan';
      }
      const o = s * 8;
      detail.trw_score = this.sTrw[s]!;
      detail.outcome_success = this.sOut[o]!;
      detail.outcome_reject = this.sOut[o + 1]!;
      detail.outcome_halfopen = this.sOut[o + 2]!;
      detail.outcome_silent = this.sOut[o + 3]!;
    } else if (d === M.UDP) {
      const o = s * 8;
      detail.trw_score = this.sTrwU[s]!;
      detail.outcome_success = this.sOut[o + 4]!;
      detail.outcome_reject = this.sOut[o + 5]!;
      detail.outcome_silent = this.sOut[o + 6]!;
      detail.mode = 'scan';
    } else if (d === M.ACK) detail.variant = 'ack-or-window';
    let dst = this.dstAddr(s);
    if (d === M.PSWEEP || d === M.PINGSWEEP || d === M.ARPSWEEP) {
      // the covering prefix of the destinations swept, named always
      const c = this.sSweep[s * 3 + d - M.PSWEEP]!;
      if (d === M.ARPSWEEP && this.sFam[s] === 6) title = 'ICMPv6: neighbour sweep';
      const pr = this.sweeps.prefix(c, this.sFam[s]!, now, def.windowSec);
      dst = pr.net;
      detail.dst_prefix = `${pr.net.toString()}/${pr.len}`;
      detail.dst_prefix_len = pr.len;
      if (d === M.PSWEEP && this.sweeps.protoOf(c) === 17) title = 'UDP: port sweep';
    }
    if (def.windowSec > 0) detail.window_s = def.windowSec;
    let src = this.srcAddr(s);
    // the evidence grade (src/evidence/grade.ts), asked of the handshake tracker once per detection
    const tr = this.ctx.trust;
    const g = gradeOf({ spoofable: def.spoofable, role: def.role, provable: d === M.SYN }, tr !== null && tr.proven(src, now), tr !== null && tr.session(src, now));
    detail.spoofable = g.spoofable;
    detail.proof = g.proof;
    detail.source_role = g.source_role;
    if (d <= M.MAIMON && !g.proof) {
      // one of several sources scanning D alike at once (nmap -D): a decoy, never banned
      const n = this.aggs.group(s, this.sources.gen[s]!, d, now);
      if (n >= MODERN_DETECTORS[M.DECOY]!.threshold) {
        this.aggs.decoy(this.sDstFam[s]!, this.sDst, s * 4, dports, n, this.dCount[i]!, this.dBytes[i]!, now);
        detail.source_role = 'decoy';
        detail.decoy_group = n;
      }
    }
    if (d !== M.SMURF && this.sFam[s] === 6 && this.sMulti[s] === 1) {
      // more than one /128 of the /64 took part: the line names the /64
      const a = s * 4;
      src = IpAddr.v6(this.sAddr[a]! >>> 0, this.sAddr[a + 1]! >>> 0, 0, 0);
      detail.src_prefix_len = 64;
    }
    this.ctx.emit(
      event('scan.detected', now, src, {
        dst,
        detector: name,
        count: this.dCount[i]!,
        bytes: this.dBytes[i]!,
        detail: {
          title,
          dports,
          dports_truncated: dports.length >= DPORTS,
          sports,
          sports_truncated: sports.length >= SPORTS,
          ...detail,
        },
      }),
    );
  }

  private emitEnded(s: number, d: number, now: number): void {
    const def = MODERN_DETECTORS[d]!;
    const i = s * ND + d;
    let title = def.title;
    let name = def.name;
    if (d === M.SYN && (this.sHs[s]! > 0 || this.sDf[s]! * 2 > this.sSyn[s]!)) {
      title = 'TCP: port scan';
      name = 'port-scan';
    } else if (d === M.PSWEEP && this.sweeps.protoOf(this.sSweep[s * 3]!) === 17) title = 'UDP: port sweep';
    else if (d === M.ARPSWEEP && this.sFam[s] === 6) title = 'ICMPv6: neighbour sweep';
    let src = this.srcAddr(s);
    if (d !== M.SMURF && this.sFam[s] === 6 && this.sMulti[s] === 1) {
      const a = s * 4;
      src = IpAddr.v6(this.sAddr[a]! >>> 0, this.sAddr[a + 1]! >>> 0, 0, 0);
    }
    this.ctx.emit(event('scan.expired', now, src, { dst: this.dstAddr(s), detector: name, count: this.dCount[i]!, bytes: this.dBytes[i]!, detail: { title } }));
  }

  // ---------------------------------------------------------------- timers

  due(): number {
    let d = this.tierTimerFirst() ? this.tDue[this.tg]! : this.grace.nextDue();
    const h = this.hold.nextDue();
    if (h < d) d = h;
    if (this.epN > 0 && this.epDue[0]! < d) d = this.epDue[0]!;
    const a = this.aggs.due();
    return a < d ? a : d;
  }

  sweep(t: number): void {
    // the grace timers in the order they were set, as one ring would fire them: the ring's
    // (contacts) and the tier's (first SYNs), each in its own order, merged by when they were set
    for (;;) {
      if (this.tierTimerFirst()) {
        if (this.tDue[this.tg]! > t) break;
        this.fireTierTimer(t);
      } else {
        if (this.grace.nextDue() > t) break;
        this.fireGrace(t);
      }
    }
    while (this.hold.nextDue() <= t) this.fireHold(t);
    while (this.epN > 0 && this.epDue[0]! <= t) this.fireEpisode(t);
    this.aggs.sweep(t);
  }

  /** contact c's (generation g) grace timer, due at `due`, into the ring; a full ring first fires its oldest timer now, before its time (counted) */
  private graceSet(c: number, g: number, due: number, now: number): void {
    if (this.grace.push(c, g, due)) return;
    this.grace.overflows++;
    this.an.counts[A.modernGraceOverflow]++;
    this.fireGrace(now);
    this.grace.push(c, g, due);
  }

  private fireGrace(t: number): void {
    const c = this.grace.headSlot();
    const g = this.grace.headGen();
    this.grace.pop();
    this.graceExpired(c, g, t);
  }

  /** the oldest tier timer is set before the grace ring's head (or the ring is empty) */
  private tierTimerFirst(): boolean {
    return this.tgN > 0 && this.tBefore[this.tg]! <= this.grace.popped;
  }

  /** the tier's oldest grace timer fires: its entry's, or the contact's it was handed to */
  private fireTierTimer(t: number): void {
    const e = this.tg;
    this.tg = e + 1 === this.tier.capacity ? 0 : e + 1;
    this.tgN--;
    const v = this.tW[e * TW + 3]!;
    this.tW[e * TW + 3] = TT_NONE;
    if (v === TT_OWN) {
      if (((this.tW[e * TW]! >>> 8) & 0xff) === O_PENDING) this.resolveTier(e, t);
    } else if (v >= 0) this.graceExpired(v, this.tGen[e]!, t);
  }

  /** contact c's grace timer (generation g) fired: resolved with what is known, if it is still the same contact */
  private graceExpired(c: number, g: number, t: number): void {
    if (!this.contacts.isLive(c, g)) return;
    this.contacts.setPinned(c, false);
    const cls = this.cCls[c]!;
    if (cls === C_UDP) {
      const fl = this.cFlags[c]!;
      this.resolve(c, (fl & F_REPLY) !== 0 ? O_SUCCESS : (fl & F_UNREACH) !== 0 ? O_REJECT : O_SILENT, t);
    } else if (this.cOut[c] === O_PENDING) {
      this.resolve(c, cls === C_SYN && (this.cFlags[c]! & F_SYNACK) !== 0 ? O_HALFOPEN : O_SILENT, t);
    }
  }

  private fireHold(t: number): void {
    const v = this.hold.headSlot();
    const g = this.hold.headGen();
    this.hold.pop();
    const s = v >>> 5;
    const d = v & 31;
    if (!this.sources.isLive(s, g)) return;
    if (this.dState[s * ND + d] === D_ARMED) this.fire(s, d, t);
  }

  private fireEpisode(t: number): void {
    const s = this.epSlot[0]!;
    const g = this.epGen[0]!;
    this.heapPop();
    if (!this.sources.isLive(s, g)) return;
    // the episode ends endSec after the last counted packet of any detector in mode
    let due = -Infinity;
    for (let d = 0; d < ND; d++) {
      const i = s * ND + d;
      if (this.dState[i] === D_MODE) due = Math.max(due, this.dLast[i]! + MODERN_DETECTORS[d]!.endSec);
    }
    if (due > t) {
      this.heapPush(due, s, g);
      return;
    }
    this.sEpQueued[s] = 0;
    for (let d = 0; d < ND; d++) {
      const i = s * ND + d;
      if (this.dState[i] !== D_MODE) continue;
      this.emitEnded(s, d, t);
      this.resetDetector(i);
      if (d === M.SYN) {
        this.sTrw[s] = 0;
        this.sOut.fill(0, s * 8, s * 8 + 4);
        this.sSyn[s] = this.sDf[s] = this.sHs[s] = 0;
        this.sThrottled[s] = 0;
      } else if (d === M.UDP) {
        this.sTrwU[s] = 0;
        this.sOut.fill(0, s * 8 + 4, s * 8 + 8);
      }
    }
    this.repin(s);
  }

  private heapLess(a: number, b: number): boolean {
    return this.epDue[a]! < this.epDue[b]! || (this.epDue[a] === this.epDue[b] && this.epSeq[a]! < this.epSeq[b]!);
  }

  private heapSwap(a: number, b: number): void {
    let x = this.epDue[a]!;
    this.epDue[a] = this.epDue[b]!;
    this.epDue[b] = x;
    x = this.epSeq[a]!;
    this.epSeq[a] = this.epSeq[b]!;
    this.epSeq[b] = x;
    x = this.epSlot[a]!;
    this.epSlot[a] = this.epSlot[b]!;
    this.epSlot[b] = x;
    x = this.epGen[a]!;
    this.epGen[a] = this.epGen[b]!;
    this.epGen[b] = x;
  }

  private heapPush(due: number, s: number, g: number): void {
    if (this.epN === this.epDue.length) return; // cannot happen: one entry per source at most
    let i = this.epN++;
    this.epDue[i] = due;
    this.epSeq[i] = this.epSeqNext++;
    this.epSlot[i] = s;
    this.epGen[i] = g;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.heapLess(i, p)) break;
      this.heapSwap(i, p);
      i = p;
    }
  }

  private heapPop(): void {
    const n = --this.epN;
    if (n === 0) return;
    this.heapSwap(0, n);
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.heapLess(l, m)) m = l;
      if (r < n && this.heapLess(r, m)) m = r;
      if (m === i) break;
      this.heapSwap(i, m);
      i = m;
    }
  }

  // ---------------------------------------------------------------- contacts

  /** a new contact for the key in `contacts.k` */
  private newContact(cls: number, judged: boolean, ttl: number, sport: number, len: number, now: number, prot = judged, h = this.contacts.hash()): number {
    const t = this.contacts;
    this.evictNow = now;
    const c = t.add(h);
    this.countOrigin(t.k, 0, 1);
    this.initContact(c, cls, judged, ttl, sport, len, now, prot);
    return c;
  }

  private initContact(c: number, cls: number, judged: boolean, ttl: number, sport: number, len: number, now: number, prot: boolean): void {
    const t = this.contacts;
    this.cCls[c] = cls;
    this.cOut[c] = O_PENDING;
    this.cFlags[c] = (judged ? F_JUDGED : 0) | (prot ? F_PROT : 0);
    this.cIsn[c] = 0;
    this.cTtl[c] = ttl;
    this.cSport[c] = sport;
    this.cLen[c] = len;
    if (judged && cls !== C_STEALTH) {
      t.setPinned(c, true);
      this.graceSet(c, t.gen[c]!, now + GRACE_SEC, now);
    }
  }

  /**
   * Live on a host (src/live/listeners.ts): the host's listening sockets. A silent first
   * contact to a port with no listener was dropped, not ignored: the kernel would have
   * refused it, so it counts as REJECT. Null in a replay.
   */
  listeners: { listening(proto: number, port: number): boolean } | null = null;

  /** the contact's outcome is known: score its originator */
  private resolve(c: number, out: number, now: number): void {
    const cls = this.cCls[c]!;
    if (cls !== C_UDP && this.cOut[c] !== O_PENDING) return;
    if ((this.cFlags[c]! & F_QUOTA) !== 0) this.release(c);
    if (out === O_SILENT && this.listeners !== null && (cls === C_SYN || cls === C_UDP) && (this.cFlags[c]! & F_JUDGED) !== 0 && !this.listeners.listening(cls === C_SYN ? 6 : 17, this.contacts.keys[c * CW + 8]! & 0xffff)) out = O_REJECT;
    this.cOut[c] = out;
    this.contacts.setPinned(c, false);
    if ((this.cFlags[c]! & F_JUDGED) === 0) return;
    this.judge(cls, this.cFlags[c]!, this.cLen[c]!, this.cSport[c]!, this.contacts.keys, c * CW, out, now);
  }

  /** contact c (F_QUOTA) resolves: its source's pending count goes down (a record made anew since starts at 0) */
  private release(c: number): void {
    this.cFlags[c]! &= ~F_QUOTA;
    const k = this.contacts.keys;
    const o = c * CW;
    const s = this.recordOf(k[o + 8]! >>> 24, k[o]!, k[o + 1]!);
    if (s >= 0 && this.sPending[s]! > 0) this.sPending[s]!--;
  }

  /** whether a judged first contact of class cls with outcome out (contact key at k[o]) counts for its originator */
  private counts(cls: number, out: number, k: Int32Array, o: number): boolean {
    const f = this.ctx.flags;
    if (cls === C_SYN) return f.syn_scan || f.portscan;
    if (cls === C_ACK || cls === C_FINACK) return (out === O_REJECT || out === O_SILENT) && f.portscan;
    if (cls === C_UDP) return f.udp_scan;
    return cls === C_ICMP && (k[o + 8]! & 0xffff) === 8;
  }

  /**
   * Score the originator of a resolved first contact (class cls, contact flags fl, its
   * first packet's length and source port, the contact key at k[o], outcome out, at
   * second `now`). An originator without a source record is first admitted (admitOrFind):
   * its record is made only at its second resolved contact, and this one is replayed into
   * it then; the aggregate evidence (distributed scan) is fed at once either way.
   */
  private judge(cls: number, fl: number, len: number, sport: number, k: Int32Array, o: number, out: number, now: number): void {
    if (!this.counts(cls, out, k, o)) return;
    const s = this.admitOrFind(cls, fl, len, sport, k, o, out, now);
    if (s < 0) return;
    this.score(s, cls, fl, len, sport, k, o, out, now, false);
  }

  /** the per-source part of judge() for source s; `replay`: an admitted contact replayed into a new record (its aggregate evidence was fed when it resolved) */
  private score(s: number, cls: number, fl: number, len: number, sport: number, k: Int32Array, o: number, out: number, now: number, replay: boolean): void {
    const port = k[o + 8]! & 0xffff;
    if (cls === C_SYN) {
      const so = s * 8;
      this.setDst(s, k[o + 8]! >>> 24, k, o + 4);
      this.sSyn[s]!++;
      if ((fl & F_DF) !== 0) this.sDf[s]!++;
      // the contact's SYN, counted now unless it was counted when it came
      if ((fl & F_COUNTED) === 0) this.countPacket(s, M.SYN, len, sport, now);
      let score = this.sTrw[s]!;
      if (out === O_SUCCESS) {
        this.sOut[so]!++;
        score--;
        if (score < TRW.floor) score = TRW.floor;
      } else {
        this.sOut[so + (out === O_REJECT ? 1 : out === O_HALFOPEN ? 2 : 3)]!++;
        if (score < 127) score++;
        // stored before addPort(): a full port list writes the line at once, with this score
        this.sTrw[s] = score;
        this.addPort(s, M.SYN, port, now);
        // a failure of a source not (yet) alarmed: evidence for a distributed scan of D
        if (!replay && this.dState[s * ND + M.SYN] === D_IDLE) this.aggs.failure(k[o + 8]! >>> 24, k, o + 4, port, k[o]!, k[o + 1]!, len, now);
        this.sweepFailure(s, 6, port, k, o, len, sport, now);
      }
      this.sTrw[s] = score;
      if (score >= TRW.alarm) this.arm(s, M.SYN, now);
      else this.repin(s);
    } else if (cls === C_ACK || cls === C_FINACK) {
      const d = cls === C_ACK ? M.ACK : M.MAIMON;
      this.setDst(s, k[o + 8]! >>> 24, k, o + 4);
      this.countPacket(s, d, len, sport, now);
      this.addPort(s, d, port, now);
      if (this.windowHit(s, d, now)) this.arm(s, d, now);
    } else if (cls === C_UDP) {
      this.misc(s);
      if (this.sTrUntil[s]! >= now) return; // a traceroute's probes are not a scan
      const so = s * 8;
      this.setDst(s, k[o + 8]! >>> 24, k, o + 4);
      if ((fl & F_COUNTED) === 0) this.countPacket(s, M.UDP, len, sport, now);
      let score = this.sTrwU[s]!;
      let hit = false;
      if (out === O_SUCCESS) {
        this.sOut[so + 4]!++;
        score--;
        if (score < TRW.floor) score = TRW.floor;
      } else if (out === O_REJECT) {
        this.sOut[so + 5]!++;
        if (score < 127) score++;
        this.sTrwU[s] = score;
        this.addPort(s, M.UDP, port, now);
        this.sweepFailure(s, 17, port, k, o, len, sport, now);
      } else {
        this.sOut[so + 6]!++;
        this.addPort(s, M.UDP, port, now);
        hit = this.windowHit(s, M.UDP, now);
        this.sweepFailure(s, 17, port, k, o, len, sport, now);
      }
      this.sTrwU[s] = score;
      if (score >= TRW.alarm || hit) this.arm(s, M.UDP, now);
      else this.repin(s);
    } else {
      // a first echo request to a protected host, answered or not (on a LAN the dead
      // addresses of a sweep never reach the wire): evidence for a ping sweep
      this.sweepFailure(s, 1, 8, k, o, len, sport, now);
      this.repin(s);
    }
  }

  // ---------------------------------------------------------------- admission

  /**
   * The source slot of the originator of contact key k[o] (found: touched, its scores
   * forgotten after TRW_MEMORY_SEC idle), or -1 when it has none and this contact is its
   * first: the contact is kept in the admission table instead (as 2Q admits a page only on
   * its second reference). A second resolved contact while the first is still there makes
   * the record, into which the first is replayed (source()). So a flood of spoofed
   * sources that each come back less often than the admission table holds makes one small
   * entry per contact, not a source record; a source that returns is judged exactly as if
   * it had had its record from the start (the source table's eviction order apart).
   */
  private admitOrFind(cls: number, fl: number, len: number, sport: number, k: Int32Array, o: number, out: number, now: number): number {
    const fam = k[o + 8]! >>> 24;
    const s = this.source(fam, k[o]!, k[o + 1]!, k[o + 2]!, k[o + 3]!, TAG_SOURCE, now, false);
    if (s >= 0) return s;
    const a = this.admit;
    // the source table's key (source()): the admission table has the same key width
    const sk = this.sources.k;
    const ak = a.k;
    // a first contact waiting in the tier as this source's admission entry is one now
    this.flushTier(fam, sk[1]!, sk[2]!);
    for (let i = 0; i < SW; i++) ak[i] = sk[i]!;
    if (a.find() >= 0) return this.source(fam, k[o]!, k[o + 1]!, k[o + 2]!, k[o + 3]!, TAG_SOURCE, now); // replays the first
    this.admitAdd(a.lastHash, cls, fl, len, sport, k, o, out, now);
    // the aggregate evidence of a failed SYN, as score() feeds it for a source not alarmed
    if (cls === C_SYN && out !== O_SUCCESS) {
      const port = k[o + 8]! & 0xffff;
      this.aggs.failure(fam, k, o + 4, port, k[o]!, k[o + 1]!, len, now);
    }
    return -1;
  }

  /** an admission entry (key in admit.k, hash h) for a resolved first contact (class, flags, length, source port, key at k[o], outcome, time) */
  private admitAdd(h: number, cls: number, fl: number, len: number, sport: number, k: Int32Array, o: number, out: number, t: number): void {
    const a = this.admit;
    const e = a.add(h);
    this.countPresent(a.keys, e * SW, 1);
    const b = e * AEW;
    const ev = this.aEv;
    ev[b] = cls | (fl << 8) | (out << 16);
    ev[b + 1] = len;
    ev[b + 2] = sport;
    for (let i = 0; i < CW; i++) ev[b + 3 + i] = k[o + i]!;
    this.aTime[e] = t;
  }

  /** a new record s (key in sources.k) whose source has an admitted contact: replay it, then drop it */
  private replayAdmitted(s: number, now: number): void {
    const a = this.admit;
    const ak = a.k;
    const sk = this.sources.k;
    for (let i = 0; i < SW; i++) ak[i] = sk[i]!;
    const e = a.find();
    if (e < 0) return;
    const b = e * AEW;
    const ev = this.aEv;
    const t = this.aTime[e]!;
    const w = ev[b]!;
    if (ev[b + 3 + 8]! >>> 24 === 6) {
      // the record keeps the first /128 seen of its /64, and whether another came
      const a4 = s * 4;
      if (this.sAddr[a4 + 2] !== ev[b + 5] || this.sAddr[a4 + 3] !== ev[b + 6]) {
        this.sAddr[a4 + 2] = ev[b + 5]!;
        this.sAddr[a4 + 3] = ev[b + 6]!;
        this.sMulti[s] = 1;
      }
    }
    this.score(s, w & 0xff, (w >>> 8) & 0xff, ev[b + 1]!, ev[b + 2]!, ev, b + 3, w >>> 16, t, true);
    this.countPresent(a.keys, e * SW, -1);
    a.remove(e);
    // as source() would have found the record at `now`: scores forgotten after a long idle
    if (now - t > TRW_MEMORY_SEC) {
      this.sTrw[s] = 0;
      this.sTrwU[s] = 0;
      for (let j = s * 8, e2 = j + 8; j < e2; j++) this.sOut[j] = 0;
    }
  }

  /** source s failed a first contact c on (proto, port): the port sweep (TCP, UDP) or ping sweep (ICMP echo) */
  private sweepFailure(s: number, proto: number, port: number, k: Int32Array, o: number, len: number, sport: number, now: number): void {
    const d = proto === 1 ? M.PINGSWEEP : M.PSWEEP;
    if (proto === 1 ? !this.ctx.flags.ping_flood : !this.ctx.flags.portscan) return;
    const def = MODERN_DETECTORS[d]!;
    this.sweepsOf(s);
    const n = this.sweeps.hit(s, proto, port, k, o + 4, now, def.windowSec);
    this.countPacket(s, d, len, proto === 1 ? -1 : sport, now);
    if (n < def.threshold) return;
    if (this.dState[s * ND + d] === D_IDLE) this.sSweep[s * 3 + d - M.PSWEEP] = this.sweeps.cand;
    if (proto !== 1) this.addPort(s, d, port, now);
    this.arm(s, d, now);
  }

  /** record one counted event of windowed detector d at `now`; true when its threshold is reached within the window */
  private windowHit(s: number, d: number, now: number): boolean {
    const n = d === M.UDP ? UDP_SILENT : MODERN_DETECTORS[d]!.threshold;
    if ((this.sLazy[s]! & LAZY_WIN) === 0) {
      this.sLazy[s]! |= LAZY_WIN;
      for (let j = s * WIN_TOTAL, e = j + WIN_TOTAL; j < e; j++) this.sWin[j] = -1e9;
    }
    const base = s * WIN_TOTAL + WIN_OFF[d]!;
    // the ring holds the last n times, oldest first
    for (let j = 0; j < n - 1; j++) this.sWin[base + j] = this.sWin[base + j + 1]!;
    this.sWin[base + n - 1] = now;
    return now - this.sWin[base]! <= MODERN_DETECTORS[d]!.windowSec;
  }

  /** per-second ring of source s: add one at `now`, return the sum over the last RING seconds */
  private rate(s: number, now: number): number {
    const b = s * RING;
    if ((this.sLazy[s]! & LAZY_RING) === 0) {
      this.sLazy[s]! |= LAZY_RING;
      for (let k = b; k < b + RING; k++) {
        this.sRing[k] = 0;
        this.sRingSec[k] = -1;
      }
    }
    const j = b + (now % RING);
    if (this.sRingSec[j] !== now) {
      this.sRingSec[j] = now;
      this.sRing[j] = 0;
    }
    if (this.sRing[j]! < 65535) this.sRing[j]!++;
    let sum = 0;
    for (let k = b; k < b + RING; k++) if (this.sRingSec[k]! > now - RING) sum += this.sRing[k]!;
    return sum;
  }

  /** traceroute pattern of a source's originator packets; true while it is tracing */
  private trace(s: number, p: DecodedPacket, protoIdx: number, sport: number, dport: number, now: number): boolean {
    this.misc(s);
    const ttl = p.ttl;
    if (ttl >= 1 && ttl <= 32) {
      if (now - this.sTrStart[s]! > TRACE_WINDOW) {
        this.sTrStart[s] = now;
        this.sTrMask[s] = 0;
      }
      const m = this.sTrMask[s]! | (1 << (ttl - 1));
      this.sTrMask[s] = m;
      if ((m & 1) !== 0 && popcount(m) >= TRACE_TTLS) {
        this.sTrUntil[s] = now + TRACE_WINDOW;
        const li = s * 3 + protoIdx;
        if (this.ctx.flags.traceroute && now - this.sTrLine[li]! >= TRACE_LINE_EVERY) {
          this.sTrLine[li] = now;
          const kind = protoIdx === 0 ? 'udp.traceroute' : protoIdx === 1 ? 'icmp.traceroute' : 'tcp.traceroute';
          const src = p.family === 4 ? IpAddr.v4(p.src) : IpAddr.v6FromWords(p.src6);
          const dst = p.family === 4 ? IpAddr.v4(p.dst) : IpAddr.v6FromWords(p.dst6);
          this.ctx.emit(
            event(kind, now, src, {
              dst,
              sport: protoIdx === 1 ? -1 : sport,
              dport: protoIdx === 1 ? -1 : dport,
              bytes: protoIdx === 1 ? p.l4Len : -1,
              detail:
                protoIdx === 1
                  ? { icmp_type: p.family === 4 ? 8 : 128, icmp_code: 0, ttl, ttls: popcount(m), spoofable: 3, proof: false, source_role: 'attacker' }
                  : { ttl, ttls: popcount(m), spoofable: 3, proof: false, source_role: 'attacker' },
            }),
          );
        }
      }
    }
    return this.sTrUntil[s]! >= now;
  }

  // ---------------------------------------------------------------- TCP

  /**
   * The common packet of a SYN flood, ahead of tcp() (the pipeline offers it every TCP
   * packet first): a plain SYN (TTL above 32) to the destination in SYN-flood mode, from a
   * source with no record nor admission entry (present), no contact in either direction
   * (origins), flags not bogus, that the flood sieve sheds. Done here exactly as tcp() does
   * it (the handshake tracker, the filter rules, the sieve, the flood's count), in a
   * function small enough to stay compiled through an attack: tcp() is large, and each
   * first event of an attack after it was compiled (the first source the sieve passes, the
   * first source in mode, the first answer) sends it back to V8's compiler, a cost a flood
   * then paid on every packet until it was compiled again. False: nothing was done (no
   * state touched), tcp() takes the packet; that includes a SYN the sieve would pass.
   */
  floodSyn(p: DecodedPacket, now: number): boolean {
    if (p.l4Avail < 14 || p.ttl <= 32) return false;
    const b = p.buf;
    const o = p.l4Off;
    const raw = b[o + 13]!;
    if ((raw & (SYN | ACK | FIN | RST)) !== SYN) return false;
    const v4 = p.family === 4;
    if (!this.floodedAt(p, true)) return false;
    const w0 = v4 ? p.src | 0 : p.src6[0]! | 0;
    const w1 = v4 ? 0 : p.src6[1]! | 0;
    // no record (inModeSyn and floodSieve pass on one), no admission entry (floodSieve leaves the SYN to tcp())
    if (this.maybePresent(w0, w1)) return false;
    // no contact to look up (tcp()'s lookF and lookR)
    if (this.originates(w0, w1) || this.originates(v4 ? p.dst | 0 : p.dst6[0]! | 0, v4 ? 0 : p.dst6[1]! | 0)) return false;
    if (!this.sievable(p, raw, b[o + 12]! & 0x0f)) return false;
    const q = this.sieve;
    const e = q.find(p.family, w0, w1);
    const h = q.lastHash;
    const n = e >= 0 ? q.count[e]! : 0;
    if (e >= 0 && n + 1 >= SIEVE_K) return false;
    // handled: what tcp() does with it, in its order
    const sport = be16(b, o);
    const dport = be16(b, o + 2);
    this.trackHandshake(p, now);
    const rules = this.ctx.rules;
    if (v4 && rules !== null && rules.tcp(p.src, p.dst, sport, dport)) return true;
    this.sieveAgain(h, e, n, p.family, w0, w1);
    this.aggs.floodedSyn(p.l4Len, now);
    this.an.counts[A.modernFloodShed]++;
    return true;
  }

  /** proof is not logging: the handshake tracker sees every TCP packet, before the filter rules */
  private trackHandshake(p: DecodedPacket, now: number): void {
    const t = this.ctx.trust;
    if (t === null) return;
    if (p.family === 4) t.packet(p, 0, 0, 0xffff, p.src | 0, 0, 0, 0xffff, p.dst | 0, now);
    else t.packet(p, p.src6[0]! | 0, p.src6[1]! | 0, p.src6[2]! | 0, p.src6[3]! | 0, p.dst6[0]! | 0, p.dst6[1]! | 0, p.dst6[2]! | 0, p.dst6[3]! | 0, now);
  }

  tcp(p: DecodedPacket, now: number): void {
    if (p.l4Avail < 14) {
      this.an.counts[A.tcpTruncated]++;
      return;
    }
    const b = p.buf;
    const o = p.l4Off;
    const sport = be16(b, o);
    const dport = be16(b, o + 2);
    const raw = b[o + 13]!;
    const res = b[o + 12]! & 0x0f;
    const e = this.ctx;
    this.trackHandshake(p, now);
    if (p.family === 4 && e.rules !== null && e.rules.tcp(p.src, p.dst, sport, dport)) return;
    const t = this.contacts;
    // a plain SYN of a source in SYN-scan mode, or at its quota, to the host it scans: counted, no contact (inModeSyn)
    const plain = (raw & (SYN | ACK | FIN | RST)) === SYN && p.ttl > 32;
    this.synSlot = -1;
    if (plain && this.inModeSyn(p, raw, res, sport, dport, now)) return;
    // a direction whose originator has no contact at all is not looked up (origins); the
    // others' bucket heads (and the next victim's) are loaded together, so that their cache
    // misses overlap (KeyedTable.headOf)
    const v4 = p.family === 4;
    const lookF = this.originates(v4 ? p.src | 0 : p.src6[0]! | 0, v4 ? 0 : p.src6[1]! | 0);
    const lookR = this.originates(v4 ? p.dst | 0 : p.dst6[0]! | 0, v4 ? 0 : p.dst6[1]! | 0);
    // a plain SYN to the destination in SYN-flood mode, of no contact (either way): the flood
    // sieve (floodSieve) decides whether its source is tracked at all; asked here, before the
    // keys are made, when the origins say there is no contact to look up, and below otherwise
    const sieved = plain && this.floodedAt(p, true);
    let direct = false;
    if (sieved && !lookF && !lookR) {
      const r = this.floodSieve(p, raw, res, now);
      if (r === SIEVE_SHED) return;
      direct = r === SIEVE_PASS;
    }
    let hr = 0;
    let firstR = -1;
    if (lookR) {
      this.contactKey(p, false, 6, sport);
      hr = t.hash();
      firstR = t.headOf(hr);
    }
    this.contactKey(p, true, 6, dport);
    // the forward key's hash, for a new contact: computed here only when it is looked up (fwdHash)
    let hf = NO_HASH;
    let c = -1;
    if (lookF) {
      hf = t.hash();
      const firstF = t.headOf(hf);
      t.warmVictim();
      this.warmAdmission();
      c = t.findFrom(hf, firstF);
      if (c >= 0) {
        t.touch(c);
        this.tcpOriginator(c, p, raw, res, sport, dport, false, now);
        return;
      }
    }
    if (lookR) {
      this.contactKey(p, false, 6, sport);
      c = t.findFrom(hr, firstR);
      if (c >= 0) {
        t.touch(c);
        this.tcpResponder(c, p, raw, now);
        return;
      }
      this.contactKey(p, true, 6, dport);
    }
    this.tierSrc = NOT_LOOKED;
    if (sieved && (lookF || lookR)) {
      const r = this.floodSieve(p, raw, res, now);
      if (r === SIEVE_SHED) return;
      direct = r === SIEVE_PASS;
    }
    if (this.tier.size > 0 && this.tierPacket(p, raw, res, sport, dport, now)) return;
    // reply-typed without a contact: backscatter, never a subject; its contact (unjudged)
    // makes any answer to it an answer, not a probe
    if (((raw & RST) !== 0 && (raw & SYN) === 0) || (raw & (SYN | ACK | FIN | RST)) === (SYN | ACK)) {
      // the flooded destination's answer to a SYN the sieve shed: shed too
      if (this.floodedAt(p, false)) {
        this.an.counts[A.modernFloodShed]++;
        return;
      }
      if (this.answerInMode(p, raw, sport, dport, now)) return;
      this.unsolicited++;
      this.newContact(C_UNSOL, false, p.ttl, sport, p.l4Len, now, this.protectedDst(p), this.fwdHash(hf));
      return;
    }
    let judged = this.protectedDst(p);
    if (!judged && !this.protectedSrc(p)) return;
    if (e.hooks.foolNmap !== null && p.family === 4) e.hooks.foolNmap.probe(p, raw, now);
    if (judged && this.bogus(p, raw, res, sport, dport, now)) {
      this.newContact(C_STEALTH, true, p.ttl, sport, p.l4Len, now, true, this.fwdHash(hf));
      return;
    }
    const cls = (raw & SYN) !== 0 ? C_SYN : (raw & ACK) === 0 ? C_STEALTH : (raw & FIN) !== 0 ? C_FINACK : C_ACK;
    // an ACK-bearing segment of a session the sensor did not see start: carrying data, or
    // sent from a service port (< 1024) to an ephemeral one (Zeek's role flip) — a session's
    // packet, not a probe
    const prot = judged;
    if ((cls === C_ACK || cls === C_FINACK) && (p.l4Len > (b[o + 12]! >> 4) * 4 || (sport < 1024 && dport >= 1024))) judged = false;
    if (cls === C_SYN && judged && p.ttl > 32 && !direct && this.tierAdmits(p, raw, sport, dport, now)) return;
    c = this.newContact(cls, judged, p.ttl, sport, p.l4Len, now, prot, this.fwdHash(hf));
    if (cls === C_SYN && judged && this.synSlot >= 0 && this.sources.isLive(this.synSlot, this.synGen)) {
      // a first SYN of a source with a record: counted against its quota (inModeSyn)
      this.cFlags[c]! |= F_QUOTA;
      this.sPending[this.synSlot]!++;
    }
    this.tcpOriginator(c, p, raw, res, sport, dport, true, now);
  }

  /** the forward contact key's hash (in contacts.k): `hf` from tcp(), computed now if it was not */
  private fwdHash(hf: number): number {
    return hf === NO_HASH ? this.contacts.hash() : hf;
  }

  /**
   * Bogus flags (RFC 9293, RFC 3168, AccECN): SYN+FIN, SYN+RST, a reserved bit, or ECN
   * misuse on a SYN (exactly one of ECE/CWR, or AE without both). ECN setup (ECE+CWR on a
   * SYN) and any ECN bits on ACK-bearing segments are valid. One line per source per 60 s.
   */
  private bogus(p: DecodedPacket, raw: number, res: number, sport: number, dport: number, now: number): boolean {
    const reason = bogusReason(raw, res);
    if (reason === null) return false;
    if (!this.ctx.flags.bogus) return true;
    const s = this.sourceOfPacket(p, now);
    this.misc(s);
    if (now - this.sBogus[s]! >= BOGUS_LINE_EVERY) {
      this.sBogus[s] = now;
      const src = p.family === 4 ? IpAddr.v4(p.src) : IpAddr.v6FromWords(p.src6);
      const dst = p.family === 4 ? IpAddr.v4(p.dst) : IpAddr.v6FromWords(p.dst6);
      this.ctx.emit(
        event('tcp.bogus_flags', now, src, {
          dst,
          sport,
          dport,
          detail: { tcp_flags: raw, reason, spoofable: 3, proof: false, source_role: 'attacker' },
        }),
      );
    }
    return true;
  }

  private tcpOriginator(c: number, p: DecodedPacket, raw: number, res: number, sport: number, dport: number, fresh: boolean, now: number): void {
    const fl = this.cFlags[c]!;
    if ((fl & F_PROT) === 0) return;
    if (!fresh && this.bogus(p, raw, res, sport, dport, now)) return;
    if ((raw & (SYN | ACK | RST)) === SYN && this.cCls[c] !== C_SYN) {
      // a connection attempt on a contact opened otherwise (a stray segment before it): a new contact
      this.contacts.setPinned(c, false);
      this.initContact(c, C_SYN, true, p.ttl, sport, p.l4Len, now, true);
      fresh = true;
    }
    if ((this.cFlags[c]! & F_JUDGED) === 0 && (raw & (SYN | ACK | RST)) !== 0) {
      // a session's packet (or our own outbound traffic): only the handshake bookkeeping
      if ((raw & (SYN | ACK)) === ACK && (fl & F_SYNACK) !== 0 && this.cOut[c] === O_PENDING && be32(p.buf, p.l4Off + 8) === (this.cIsn[c]! + 1) >>> 0) {
        this.cOut[c] = O_SUCCESS;
        this.contacts.setPinned(c, false);
      }
      return;
    }
    const f = this.ctx.flags;
    const len = p.l4Len;
    if ((raw & (SYN | ACK | RST)) === 0) {
      // NULL, FIN, Xmas family: evidence on their own
      const f6 = raw & 0x3f;
      const d = f6 === 0 ? M.NULL : f6 === FIN ? M.FIN : (f6 & ~(FIN | PSH | URG)) === 0 ? M.XMAS : -1;
      if (d < 0) return;
      if (d === M.NULL ? !f.null_scan : d === M.FIN ? !f.fin_scan : !f.xmas_scan) return;
      const s = this.sourceOfPacket(p, now);
      this.setDstOfPacket(s, p);
      this.countPacket(s, d, len, sport, now);
      this.addPort(s, d, dport, now);
      this.arm(s, d, now);
      return;
    }
    const cls = this.cCls[c]!;
    if ((raw & (SYN | ACK)) === SYN) {
      if (fresh && (p.family === 4 ? (p.frag & Ip.DF) !== 0 : b12Options(p) > 6)) this.cFlags[c]! |= F_DF;
      this.synPacket(c, p, raw, sport, dport, fresh, now);
      return;
    }
    if (cls === C_SYN && this.cOut[c] === O_PENDING && (this.cFlags[c]! & F_SYNACK) !== 0) {
      if ((raw & RST) !== 0) this.resolve(c, O_HALFOPEN, now);
      else if ((raw & ACK) !== 0 && be32(p.buf, p.l4Off + 8) === (this.cIsn[c]! + 1) >>> 0) {
        const s = this.sourceOfContact(c, now);
        this.sHs[s]!++;
        if (p.family === 4) this.aggs.handshake(4, p.dst | 0, 0, 0, 0, dport, now);
        else this.aggs.handshake(6, p.dst6[0]! | 0, p.dst6[1]! | 0, p.dst6[2]! | 0, p.dst6[3]! | 0, dport, now);
        this.resolve(c, O_SUCCESS, now);
      }
    } else if (cls === C_SYN && (raw & (SYN | ACK | RST)) === ACK && (this.cFlags[c]! & F_SYNACK) !== 0 && be32(p.buf, p.l4Off + 8) === (this.cIsn[c]! + 1) >>> 0) {
      // a later connection of the contact completed (a NAT, a busy client): the SYN flood's completion count
      this.cFlags[c]! &= ~F_SYNACK;
      if (p.family === 4) this.aggs.handshake(4, p.dst | 0, 0, 0, 0, dport, now);
      else this.aggs.handshake(6, p.dst6[0]! | 0, p.dst6[1]! | 0, p.dst6[2]! | 0, p.dst6[3]! | 0, dport, now);
    }
  }

  /**
   * The originator's side of a connection attempt (a SYN without ACK) of contact c, or of a
   * SYN waiting in the tier (c = -1): the SYN-flood aggregate, the sender's traceroute and
   * in-mode count, and the packet's line. `fresh`: the contact's first SYN.
   */
  private synPacket(c: number, p: DecodedPacket, raw: number, sport: number, dport: number, fresh: boolean, now: number): void {
    const f = this.ctx.flags;
    const len = p.l4Len;
    // a source entry exists once one of its contacts resolved (or for a low TTL: traceroute);
    // a source that present says has none is not looked up
    const v4 = p.family === 4;
    let s: number;
    if (this.synSlot >= 0 && this.sources.isLive(this.synSlot, this.synGen)) {
      // tierAdmits found the sender's record for this packet: the same slot a lookup would find now
      s = v4 ? this.found(this.synSlot, TAG_SOURCE, 4, 0, 0, now) : this.found(this.synSlot, TAG_SOURCE, 6, p.src6[2]! | 0, p.src6[3]! | 0, now);
    } else s = p.ttl <= 32 || this.maybePresent(v4 ? p.src | 0 : p.src6[0]! | 0, v4 ? 0 : p.src6[1]! | 0) ? this.sourceOfPacket(p, now, p.ttl <= 32) : -1;
    this.synSlot = -1;
    let quiet =
      p.family === 4
        ? this.aggs.syn(4, p.dst | 0, 0, 0, 0, dport, p.src | 0, 0, sport, len, now)
        : this.aggs.syn(6, p.dst6[0]! | 0, p.dst6[1]! | 0, p.dst6[2]! | 0, p.dst6[3]! | 0, dport, p.src6[0]! | 0, p.src6[1]! | 0, sport, len, now);
    if (s >= 0) {
      this.setDstOfPacket(s, p);
      if (this.trace(s, p, 2, sport, dport, now)) quiet = true;
      if ((f.syn_scan || f.portscan) && this.dState[s * ND + M.SYN] !== D_IDLE) {
        // in mode: counted now (an idle source's SYNs are counted when their contact resolves)
        this.countPacket(s, M.SYN, len, sport, now);
        if (fresh && c >= 0) this.cFlags[c]! |= F_COUNTED;
        quiet = true;
      }
    }
    if (quiet || f.scans_only) return;
    if (p.family === 4) {
      // -e, as in compat (src/detect/tcp.ts): a SYN to a listening port is logged when its ident lookup ends
      const ident = this.ctx.hooks.ident;
      if (ident !== null && ident.listens(dport, p.dst) && ident.lookup(p.src, p.dst, sport, dport, raw)) return;
      logConnection(this.ctx, p.src, p.dst, sport, dport, raw, now, undefined);
    } else this.ctx.emit(event('tcp.connection_attempt', now, IpAddr.v6FromWords(p.src6), { dst: IpAddr.v6FromWords(p.dst6), sport, dport, detail: { service: serviceName(dport, 'tcp'), tcp_flags: raw } }));
  }

  // ---------------------------------------------------------------- originators

  /** whether an originator (its first 64 bits; IPv4: w1 = 0) may have contacts: origins' counter is not 0 */
  private originates(w0: number, w1: number): boolean {
    return this.origins[this.originOf(w0, w1)] !== 0;
  }

  /** whether the packet's destination (dst), or its source, is the destination in SYN-flood mode the aggregates remember */
  private floodedAt(p: DecodedPacket, dst: boolean): boolean {
    if (p.family === 4) return this.aggs.flooded(4, (dst ? p.dst : p.src) | 0, 0, 0, 0);
    const a = dst ? p.dst6 : p.src6;
    return this.aggs.flooded(6, a[0]! | 0, a[1]! | 0, a[2]! | 0, a[3]! | 0);
  }

  /** the counter of origins for an originator's first 64 bits (IPv4: w1 = 0) */
  private originOf(w0: number, w1: number): number {
    return this.filterSlot(this.originSeed, w0, w1);
  }

  /** a filter's counter (origins, present) for an address's first 64 bits, under the filter's seed */
  private filterSlot(seed: number, w0: number, w1: number): number {
    let h = Math.imul(w0 ^ seed, 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 15) ^ w1, 0x85ebca77);
    return (h ^ (h >>> 13)) >>> this.filterShift;
  }

  /** counter i of a filter, one up or down (d); a counter that reached 255 stays there */
  private static bump(f: Uint8Array, i: number, d: number): void {
    const n = f[i]!;
    if (n !== 255) f[i] = n + d;
  }

  /** a contact with key k at o was added (+1) or evicted (-1): its originator's counter */
  private countOrigin(k: Int32Array, o: number, d: number): void {
    ModernDetect.bump(this.origins, this.originOf(k[o]!, k[o + 8]! >>> 24 === 4 ? 0 : k[o + 1]!), d);
  }

  // ---------------------------------------------------------------- sources present

  /**
   * How many source records and admission entries (both keyed by the source: its address,
   * IPv6 by its /64) each seeded hash of a source has, in as many counters as origins
   * (several sources share one; a counter that reaches 255 stays there): a counter at 0 means the source has
   * neither, so the SYN path does not look it up in the source table. Under a flood of
   * one-off sources that saves a cache miss per SYN, and lets a tier entry stand for its
   * admission entry (resolveTier).
   */
  private readonly present: Uint8Array;
  /** 32 minus the filters' bits: a hash's top bits index them */
  private readonly filterShift: number;

  /** the present counter of a source's first 64 bits (IPv4: w1 = 0) */
  private presentOf(w0: number, w1: number): number {
    return this.filterSlot(this.presentSeed, w0, w1);
  }

  /** a source record or admission entry with key k[o..] (sources' key) was made (+1) or went (-1) */
  private countPresent(k: Int32Array, o: number, d: number): void {
    if (k[o]! >>> 8 !== TAG_SOURCE) return;
    ModernDetect.bump(this.present, this.presentOf(k[o + 1]!, k[o + 2]!), d);
  }

  /** the source table's key of a source (family, its key's words: the address, IPv6 by its /64) into k (sources.k or admit.k) */
  private static sourceKey(k: Int32Array, fam: number, w0: number, w1: number): void {
    k[0] = (TAG_SOURCE << 8) | fam;
    k[1] = w0;
    k[2] = w1;
    k[3] = k[4] = 0;
  }

  /** whether the source (fam, w0, w1 as in its key) may have a record or an admission entry */
  private maybePresent(w0: number, w1: number): boolean {
    return this.present[this.presentOf(w0, w1)] !== 0;
  }

  // ---------------------------------------------------------------- sources in SYN-scan mode

  /**
   * A plain SYN (TTL above 32, flags not bogus) to a protected destination from a source in
   * SYN-scan mode (its line written, D_MODE) against that same destination: counted on the
   * episode (synPacket: the SYN-flood aggregate, traceroute, the episode's count, sport and
   * end time) and nothing more. No contact is made, none is looked up: the decision is made,
   * and a contact per SYN would only add to outcome counts that no line shows (they are
   * written with the detection, and reset when the episode ends). The destination's answer
   * to it is taken by answerInMode. Not taken (false): a source not in mode, or only armed
   * (its line still to come, with the outcomes); a SYN to another destination (a sweep goes
   * on being judged contact by contact). The sender's record is left in synSlot either way.
   */
  private inModeSyn(p: DecodedPacket, raw: number, res: number, sport: number, dport: number, now: number): boolean {
    const v4 = p.family === 4;
    if (!this.hasRecord(p.family, v4 ? p.src | 0 : p.src6[0]! | 0, v4 ? 0 : p.src6[1]! | 0)) return false;
    const s = this.synSlot;
    const mode = this.dState[s * ND + M.SYN] === D_MODE;
    if ((!mode && this.sPending[s]! < PENDING_QUOTA) || !this.scanning(s, p.family, p.dst, p.dst6) || bogusReason(raw, res) !== null || !this.protectedDst(p)) return false;
    const hook = this.ctx.hooks.foolNmap;
    if (hook !== null && v4) hook.probe(p, raw, now);
    this.synPacket(-1, p, raw, sport, dport, false, now);
    if (mode) this.inModeSyns++;
    else {
      // at its quota: counted on its episode now (synPacket counted it if the source is armed)
      this.quotaSyns++;
      this.sThrottled[s] = 1;
      const f = this.ctx.flags;
      if ((f.syn_scan || f.portscan) && this.dState[s * ND + M.SYN] === D_IDLE) this.countPacket(s, M.SYN, p.l4Len, sport, now);
    }
    return true;
  }

  /** whether source s's scan is of destination (fam, a4: the IPv4 address, a6: the IPv6 one's words) */
  private scanning(s: number, fam: number, a4: number, a6: Uint32Array): boolean {
    const o = s * 4;
    const d = this.sDst;
    if (this.sDstFam[s] !== fam) return false;
    if (fam === 4) return d[o] === (a4 | 0);
    return d[o] === (a6[0]! | 0) && d[o + 1] === (a6[1]! | 0) && d[o + 2] === (a6[2]! | 0) && d[o + 3] === (a6[3]! | 0);
  }

  /**
   * An answer (RST, or SYN-ACK) of no contact from the destination of a source in SYN-scan
   * mode to that source: the answer to a SYN that inModeSyn counted without a contact. A
   * RST (a closed port) ends there. A SYN-ACK (an open port) makes the contact the SYN
   * would have made, judged and its SYN counted, so that the rest of the handshake (the
   * scanner's RST, or its ACK: a connect scan) resolves it as before and is not taken for
   * a probe of its own. Both count in inModeAnswers.
   */
  private answerInMode(p: DecodedPacket, raw: number, sport: number, dport: number, now: number): boolean {
    const v4 = p.family === 4;
    const w0 = v4 ? p.dst | 0 : p.dst6[0]! | 0;
    const w1 = v4 ? 0 : p.dst6[1]! | 0;
    const s = this.maybePresent(w0, w1) ? this.recordOf(p.family, w0, w1) : -1;
    if (s < 0 || (this.dState[s * ND + M.SYN] !== D_MODE && this.sThrottled[s] === 0) || !this.scanning(s, p.family, p.src, p.src6) || !this.protectedSrc(p)) return false;
    this.inModeAnswers++;
    if ((raw & SYN) === 0) return true;
    this.contactKey(p, false, 6, sport);
    // the SYN's TTL and length are not known here (0): its packet was counted when it came
    const c = this.newContact(C_SYN, true, 0, dport, 0, now, true);
    this.cFlags[c]! |= F_COUNTED;
    this.tcpResponder(c, p, raw, now);
    return true;
  }

  // ---------------------------------------------------------------- the SYN tier

  /**
   * A first SYN (contact key in contacts.k) to a protected address from a source without a
   * record waits in the SYN tier, keyed by its source, instead of becoming a contact: the
   * two-stage admission of admitOrFind applied when the contact is made rather than when it
   * resolves. It becomes a contact (materialize) as soon as any other packet of it comes
   * (a reply, the handshake, an ICMP error quoting it: tierPacket, quotedContact) or its
   * source makes a second contact (here); a repeat of the SYN leaves it waiting. Until then
   * it is resolved and judged as a contact would be: SILENT at its grace time or when the
   * tier evicts it, first in, first out. Its grace timer is kept by the tier, in arrival
   * order, with its place among the grace ring's timers (sweep() fires both in the order
   * they were set, as one ring would); it becomes the contact's when the entry does, and
   * moves to the ring if the tier evicts the entry before it fires. So a flood of one-off
   * SYNs does not fill the ring with dead timers, which would pop live contacts' timers
   * early.
   * Resolved, it stays in the tier as its source's admission entry (resolveTier). So a
   * flood of one-off spoofed sources costs a tier entry per SYN in a small table whose
   * lookups mostly hit the cache, not a contact and an admission entry in tables that do
   * not fit it. True when the SYN was taken.
   */
  private tierAdmits(p: DecodedPacket, raw: number, sport: number, dport: number, now: number): boolean {
    const fam = p.family;
    const w0 = fam === 4 ? p.src | 0 : p.src6[0]! | 0;
    const w1 = fam === 4 ? 0 : p.src6[1]! | 0;
    // synPacket takes the sender's record from here rather than looking it up again
    if (this.hasRecord(fam, w0, w1)) return false;
    const q = this.tier;
    // tierPacket looked the sender up (unless the tier was empty)
    let e0 = this.tierSrc;
    let h = this.tierSrcHash;
    if (e0 === NOT_LOOKED) {
      e0 = q.find(fam, w0, w1);
      h = q.lastHash;
    }
    if (e0 >= 0) {
      // the source's second contact: its first becomes a contact (unless it is one already), and this one is made as usual
      if ((this.tW[e0 * TW]! & T_MARK) === 0) {
        this.materialize(e0, now);
        this.contactKey(p, true, 6, dport);
      }
      return false;
    }
    this.evictNow = now;
    // the slot about to be taken is the oldest: when its timer has not fired, it goes with it (tierEvicted)
    if (this.tgN === q.capacity) {
      this.tg = this.tg + 1 === q.capacity ? 0 : this.tg + 1;
      this.tgN--;
    }
    const e = q.add(h, fam, w0, w1);
    const k = this.contacts.k;
    for (let i = 0, o = e * CW; i < CW; i++) this.tKey[o + i] = k[i]!;
    const df = p.family === 4 ? (p.frag & Ip.DF) !== 0 : b12Options(p) > 6;
    const w = e * TW;
    this.tW[w] = F_JUDGED | F_PROT | (df ? F_DF : 0) | (O_PENDING << 8) | (p.ttl << 16);
    this.tW[w + 1] = sport;
    this.tW[w + 2] = p.l4Len;
    // its grace timer, kept by the tier in arrival order (fireTierTimer), with its place among the ring's
    this.tW[w + 3] = TT_OWN;
    this.tDue[e] = now + GRACE_SEC;
    this.tBefore[e] = this.grace.popped + this.grace.length;
    if (this.tgN === 0) this.tg = e;
    this.tgN++;
    this.synPacket(-1, p, raw, sport, dport, true, now);
    return true;
  }

  // ---------------------------------------------------------------- the flood sieve

  /**
   * While a destination is in SYN-flood mode (all its ports: AggregateDetect.flooded), a
   * plain SYN to it (TTL above 32) of no contact either way, from a source with no record or
   * admission entry, is counted on the flood's entry and goes no further, unless its source
   * came back within the sieve's span: the last `sieve.capacity` such sources, first in,
   * first out (a FifoSet: what passes depends on the order of arrival and the exact keys,
   * never on the seed). A source found there is put back as the newest, its count one up; at
   * SIEVE_K it passes: it gets its record, and its SYN becomes a contact at once (not a tier
   * entry: a source that keeps coming back under a flood is not a one-off). So a flood of spoofed sources, each
   * seen once or once in a long while, costs a lookup in a table the cache mostly holds per
   * SYN, and a scanner among them (its SYNs much closer together than the flood's sources
   * come back) is tracked and judged as usual. The destination's answers (SYN-ACK, RST) to
   * shed SYNs are shed too. Each shed packet counts in modern.flood_shed. Returns SIEVE_*.
   */
  readonly sieve: FifoSet;

  private floodSieve(p: DecodedPacket, raw: number, res: number, now: number): number {
    if (!this.sievable(p, raw, res)) return SIEVE_NONE;
    const v4 = p.family === 4;
    const w0 = v4 ? p.src | 0 : p.src6[0]! | 0;
    const w1 = v4 ? 0 : p.src6[1]! | 0;
    // present only spares the lookups: whether the source is known is decided by what the tables hold
    if (this.hasRecord(p.family, w0, w1)) return SIEVE_PASS; // its SYN is a contact at once, as tierAdmits would make it
    if (this.maybePresent(w0, w1)) {
      ModernDetect.sourceKey(this.admit.k, p.family, w0, w1);
      if (this.admit.find() >= 0) return SIEVE_NONE;
    }
    const q = this.sieve;
    const e = q.find(p.family, w0, w1);
    const n = e >= 0 ? q.count[e]! : 0;
    this.sieveAgain(q.lastHash, e, n, p.family, w0, w1);
    if (e >= 0 && n + 1 >= SIEVE_K) {
      // a source that keeps coming back under the flood has its record from now on: its next
      // SYNs pass on it (hasRecord) without the sieve, and count against its quota (inModeSyn)
      const r = this.sourceOfPacket(p, now);
      this.synSlot = r;
      this.synGen = this.sources.gen[r]!;
      return SIEVE_PASS;
    }
    this.aggs.floodedSyn(p.l4Len, now);
    this.an.counts[A.modernFloodShed]++;
    return SIEVE_SHED;
  }

  /** whether the sieve judges a plain SYN with these flags to the packet's destination (floodSieve, floodSyn) */
  private sievable(p: DecodedPacket, raw: number, res: number): boolean {
    return bogusReason(raw, res) === null && this.ctx.hooks.foolNmap === null && this.protectedDst(p);
  }

  /**
   * The sender (fam, w0, w1; the sieve's find() gave slot e, -1 if absent, count n, and hash h)
   * put in the sieve as its newest arrival, its count one up
   */
  private sieveAgain(h: number, e: number, n: number, fam: number, w0: number, w1: number): void {
    const q = this.sieve;
    if (e >= 0) q.kill(e);
    q.count[q.add(h, fam, w0, w1)] = n < 255 ? n + 1 : n;
  }

  /** the sender's record (slot and generation) as inModeSyn, tierAdmits or floodSieve found (or floodSieve made) it for the packet in hand, or -1 */
  private synSlot = -1;
  private synGen = 0;

  /** whether the packet's sender (fam, w0, w1 as in its key) has a record: the one inModeSyn took (still live), or else looked up (takeRecord) */
  private hasRecord(fam: number, w0: number, w1: number): boolean {
    if (this.synSlot >= 0 && this.sources.isLive(this.synSlot, this.synGen)) return true;
    return this.maybePresent(w0, w1) && this.takeRecord(fam, w0, w1);
  }

  /** whether the source (fam, w0, w1 as in its key) has a record: if so it is the packet's sender's (synSlot), for synPacket */
  private takeRecord(fam: number, w0: number, w1: number): boolean {
    const s = this.recordOf(fam, w0, w1);
    if (s < 0) return false;
    this.synSlot = s;
    this.synGen = this.sources.gen[s]!;
    return true;
  }

  /** the sender's tier entry as tierPacket found it for the packet in hand (-1: none), or NOT_LOOKED; and its key's hash */
  private tierSrc = NOT_LOOKED;
  private tierSrcHash = 0;

  /** whether tier entry e waits for the contact whose key is in contacts.k */
  private tierHolds(e: number): boolean {
    if ((this.tW[e * TW]! & T_MARK) !== 0) return false;
    const k = this.contacts.k;
    for (let i = 0, o = e * CW; i < CW; i++) if (this.tKey[o + i] !== k[i]) return false;
    return true;
  }

  /**
   * A packet without a contact (forward key in contacts.k): when it belongs to a contact
   * waiting in the tier, a repeat of its SYN is handled there, and anything else makes the
   * contact and goes on as the packet of an existing contact would. True when handled.
   */
  private tierPacket(p: DecodedPacket, raw: number, res: number, sport: number, dport: number, now: number): boolean {
    const q = this.tier;
    const v4 = p.family === 4;
    const r = q.find(p.family, v4 ? p.dst | 0 : p.dst6[0]! | 0, v4 ? 0 : p.dst6[1]! | 0);
    const e = q.find(p.family, v4 ? p.src | 0 : p.src6[0]! | 0, v4 ? 0 : p.src6[1]! | 0);
    this.tierSrc = e;
    this.tierSrcHash = q.lastHash;
    if (e >= 0 && this.tierHolds(e)) {
      if ((raw & (SYN | ACK | RST)) === SYN && bogusReason(raw, res) === null) {
        this.synPacket(-1, p, raw, sport, dport, false, now);
        return true;
      }
      const c = this.materialize(e, now);
      this.contacts.touch(c);
      this.tcpOriginator(c, p, raw, res, sport, dport, false, now);
      return true;
    }
    // a reply to the originator of a waiting contact (reverse key)
    if (r < 0) return false;
    this.contactKey(p, false, 6, sport);
    if (this.tierHolds(r)) {
      const c = this.materialize(r, now);
      this.contacts.touch(c);
      this.tcpResponder(c, p, raw, now);
      return true;
    }
    this.contactKey(p, true, 6, dport);
    return false;
  }

  /** the contact of the quoted packet (key in contacts.k) waits in the tier: made now; its slot, or -1 */
  private tierQuoted(now: number): number {
    const k = this.contacts.k;
    const fam = k[8]! >>> 24;
    const e = this.tier.find(fam, k[0]!, fam === 4 ? 0 : k[1]!);
    return e >= 0 && this.tierHolds(e) ? this.materialize(e, now) : -1;
  }

  /** tier entry e becomes a contact, with what it holds (its outcome and grace timer too); its slot */
  private materialize(e: number, now: number): number {
    // its admission entry first, as it was made when it resolved
    if ((this.tW[e * TW]! & T_ADMIT) !== 0) this.admitTier(e);
    const t = this.contacts;
    const k = t.k;
    for (let i = 0, o = e * CW; i < CW; i++) k[i] = this.tKey[o + i]!;
    this.evictNow = now;
    const c = t.add(t.hash());
    this.countOrigin(k, 0, 1);
    const w = this.tW[e * TW]!;
    const out = (w >>> 8) & 0xff;
    this.cCls[c] = C_SYN;
    this.cOut[c] = out;
    this.cFlags[c] = w & 0xff;
    this.cIsn[c] = 0;
    this.cTtl[c] = (w >>> 16) & 0xff;
    this.cSport[c] = this.tW[e * TW + 1]!;
    this.cLen[c] = this.tW[e * TW + 2]!;
    if (out === O_PENDING) {
      t.setPinned(c, true);
      // its grace timer is the contact's from now on; its due and place stay
      this.tW[e * TW + 3] = c;
      this.tGen[e] = t.gen[c]!;
    }
    // no timer names the entry any more: it stays as its source's mark
    this.tW[e * TW] = T_MARK | (O_SILENT << 8);
    return c;
  }

  /**
   * Tier entry e's contact resolves SILENT (REJECT when live and no socket listens on its
   * port), and is judged as resolve() would judge it. Its source has no record and no
   * admission entry (most often: present says so), so judging would make it one: the entry
   * stays in the tier instead, marked T_ADMIT, and the distributed-scan evidence is fed as
   * admitOrFind feeds it. The admission entry is made only if the source comes back while
   * the entry is still there (admitTier, from materialize and flushTier); a tier entry
   * evicted first is an admission entry evicted.
   */
  private resolveTier(e: number, now: number): void {
    const w = this.tW[e * TW]!;
    const k = this.tKey;
    const o = e * CW;
    let out = O_SILENT;
    if (this.listeners !== null && !this.listeners.listening(6, k[o + 8]! & 0xffff)) out = O_REJECT;
    this.tW[e * TW] = (w & ~0xff00) | (out << 8);
    if (!this.counts(C_SYN, out, k, o)) return;
    const fam = k[o + 8]! >>> 24;
    const w1 = fam === 4 ? 0 : k[o + 1]!;
    // present only spares the lookups: whether the entry waits is decided by what the tables hold
    if (this.maybePresent(k[o]!, w1) && this.recordOrAdmitted(fam, k[o]!, w1)) {
      this.judge(C_SYN, w & 0xff, this.tW[e * TW + 2]!, this.tW[e * TW + 1]!, k, o, out, now);
      return;
    }
    this.tW[e * TW]! |= T_ADMIT;
    this.tTime[e] = now;
    this.aggs.failure(fam, k, o + 4, k[o + 8]! & 0xffff, k[o]!, k[o + 1]!, this.tW[e * TW + 2]!, now);
  }

  /** the record of the source (fam, w0, w1 as in its key), or -1 (looked up, nothing touched) */
  private recordOf(fam: number, w0: number, w1: number): number {
    ModernDetect.sourceKey(this.sources.k, fam, w0, w1);
    return this.sources.find();
  }

  /** whether the source (fam, w0, w1 as in its key) has a record or an admission entry (looked up, nothing touched) */
  private recordOrAdmitted(fam: number, w0: number, w1: number): boolean {
    if (this.recordOf(fam, w0, w1) >= 0) return true;
    ModernDetect.sourceKey(this.admit.k, fam, w0, w1);
    return this.admit.find() >= 0;
  }

  /** resolution time of a T_ADMIT tier entry (its admission entry's time) */
  private readonly tTime: Float64Array;
  /** per tier entry, its grace timer: due second, the grace ring's pushes before it, the generation of the contact it was handed to */
  private readonly tDue: Float64Array;
  private readonly tBefore: Float64Array;
  private readonly tGen: Int32Array;
  /** the tier's timers not fired yet: the slots from tg on (arrival order), tgN of them */
  private tg = 0;
  private tgN = 0;

  /** the admission entry tier entry e stands for (T_ADMIT) is made now, with its resolution time */
  private admitTier(e: number): void {
    const k = this.tKey;
    const o = e * CW;
    const fam = k[o + 8]! >>> 24;
    const w = this.tW[e * TW]!;
    this.tW[e * TW] = w & ~T_ADMIT;
    ModernDetect.sourceKey(this.admit.k, fam, k[o]!, fam === 4 ? 0 : k[o + 1]!);
    this.admitAdd(this.admit.hash(), C_SYN, w & 0xff, this.tW[e * TW + 2]!, this.tW[e * TW + 1]!, k, o, (w >>> 8) & 0xff, this.tTime[e]!);
  }

  /** before the admission table is searched for a source (fam, w0, w1 as in its key): the entry its tier entry stands for, made */
  private flushTier(fam: number, w0: number, w1: number): void {
    if (this.tier.size === 0) return;
    const e = this.tier.find(fam, w0, w1);
    if (e >= 0 && (this.tW[e * TW]! & T_ADMIT) !== 0) this.admitTier(e);
  }

  private tierEvicted(e: number): void {
    this.an.counts[A.modernSynTierEvicted]++;
    const v = this.tW[e * TW + 3]!;
    this.tW[e * TW + 3] = TT_NONE;
    if (((this.tW[e * TW]! >>> 8) & 0xff) === O_PENDING) this.resolveTier(e, this.evictNow);
    else if (v >= 0) {
      // a mark whose contact's grace timer has not fired: the timer moves to the grace ring, with its due
      // (behind the ring's later timers, so it fires at most the tier's span late: only when the tier fills within the grace time)
      this.graceSet(v, this.tGen[e]!, this.tDue[e]!, this.evictNow);
    }
  }

  private tcpResponder(c: number, p: DecodedPacket, raw: number, now: number): void {
    const cls = this.cCls[c]!;
    if (this.cOut[c] !== O_PENDING) {
      // a later connection of a resolved contact: its ISN, for the SYN flood's completion count
      if (cls === C_SYN && (raw & (SYN | ACK | RST)) === (SYN | ACK)) {
        this.cFlags[c]! |= F_SYNACK;
        this.cIsn[c] = be32(p.buf, p.l4Off + 4) | 0;
      }
      return;
    }
    if (cls === C_SYN) {
      if ((raw & RST) !== 0) {
        if ((this.cFlags[c]! & F_SYNACK) === 0) this.resolve(c, O_REJECT, now);
      } else if ((raw & (SYN | ACK)) === (SYN | ACK)) {
        this.cFlags[c]! |= F_SYNACK;
        this.cIsn[c] = be32(p.buf, p.l4Off + 4) | 0;
      }
    } else if (cls === C_ACK || cls === C_FINACK) {
      this.resolve(c, (raw & RST) !== 0 ? O_REJECT : O_SUCCESS, now);
    }
  }

  // ---------------------------------------------------------------- ARP / ND sweeps

  private readonly target = new Int32Array(4);
  private readonly target6 = new Uint32Array(4);

  /** an ARP packet (Ethernet payload at `o`, `len` bytes): who-has requests feed the host sweep */
  arp(b: Buffer, o: number, len: number, now: number): void {
    if (!this.ctx.flags.ping_flood || len < 28) return;
    // Ethernet (1), IPv4 (0x0800), 6- and 4-byte addresses, request (1)
    if (be16(b, o) !== 1 || be16(b, o + 2) !== 0x0800 || b[o + 4] !== 6 || b[o + 5] !== 4 || be16(b, o + 6) !== 1) return;
    const spa = be32(b, o + 14);
    const tpa = be32(b, o + 24);
    if (spa === 0 || spa === tpa) return;
    if (this.prot !== null && !netMatch(this.prot, tpa)) return;
    const t = this.target;
    t[0] = tpa | 0;
    t[1] = t[2] = t[3] = 0;
    this.hostSweep(this.source(4, spa | 0, 0, 0, 0, TAG_SOURCE, now), 28, now);
  }

  /** a neighbour solicitation from p's source for the target at l4Off + 8 */
  private neighbourSolicitation(p: DecodedPacket, now: number): void {
    if (!this.ctx.flags.ping_flood || p.l4Avail < 24) return;
    const w = p.src6;
    if ((w[0]! | w[1]! | w[2]! | w[3]!) === 0) return; // duplicate-address detection
    const t = this.target;
    const u = this.target6;
    for (let i = 0; i < 4; i++) {
      u[i] = be32(p.buf, p.l4Off + 8 + i * 4);
      t[i] = u[i]! | 0;
    }
    if (this.prot !== null && !netMatch6(this.prot, u)) return;
    if (t[0] === (w[0]! | 0) && t[1] === (w[1]! | 0) && t[2] === (w[2]! | 0) && t[3] === (w[3]! | 0)) return;
    this.hostSweep(this.sourceOfPacket(p, now), p.l4Len, now);
  }

  private hostSweep(s: number, len: number, now: number): void {
    const def = MODERN_DETECTORS[M.ARPSWEEP]!;
    this.sweepsOf(s);
    const n = this.sweeps.hit(s, 254, 0, this.target, 0, now, def.windowSec);
    this.countPacket(s, M.ARPSWEEP, len, -1, now);
    if (n < def.threshold) return;
    if (this.dState[s * ND + M.ARPSWEEP] === D_IDLE) this.sSweep[s * 3 + 2] = this.sweeps.cand;
    this.arm(s, M.ARPSWEEP, now);
  }

  // ---------------------------------------------------------------- fragments

  /**
   * A fragment before reassembly (the pipeline calls this in the modern profile): tiny
   * fragments (tiny-fragment.ts) are evidence on their own; one line per source per 60 s.
   */
  fragment(p: DecodedPacket, now: number): void {
    if (!this.ctx.flags.frag) return;
    let reason: string | null = null;
    let off: number;
    let bytes: number;
    if (p.family === 4) {
      off = (p.frag & 0x1fff) * 8;
      bytes = p.totalLen - p.hlen;
      if ((p.frag & Ip.MF) === 0) return;
      const need = p.proto === 6 ? 20 : p.proto === 17 || p.proto === 1 ? 8 : 0;
      if (off === 0 && bytes < need) reason = 'short-first';
      else if (bytes < 48) reason = 'small-nonfinal';
    } else {
      off = (p.frag & 0x1fff) * 8;
      bytes = p.l4Len;
      if ((p.frag & Ip.MF) !== 0 && p.totalLen < 1280) reason = 'small-nonfinal';
    }
    if (reason === null || !this.protectedDst(p)) return;
    const s = this.sourceOfPacket(p, now);
    this.misc(s);
    if (now - this.sTiny[s]! < MODERN_DETECTORS[M.TINYFRAG]!.endSec) return;
    this.sTiny[s] = now;
    const src = p.family === 4 ? IpAddr.v4(p.src) : IpAddr.v6FromWords(p.src6);
    const dst = p.family === 4 ? IpAddr.v4(p.dst) : IpAddr.v6FromWords(p.dst6);
    this.ctx.emit(event('frag.tiny', now, src, { dst, detail: { reason, fragment_offset: off, fragment_bytes: bytes, spoofable: 3, proof: false, source_role: 'attacker' } }));
  }

  // ---------------------------------------------------------------- UDP

  udp(p: DecodedPacket, now: number): void {
    if (p.l4Avail < 8) {
      this.an.counts[A.udpTruncated]++;
      return;
    }
    const b = p.buf;
    const o = p.l4Off;
    const sport = be16(b, o);
    const dport = be16(b, o + 2);
    const e = this.ctx;
    const f = e.flags;
    if (p.family === 4 && e.rules !== null && e.rules.udp(p.src, p.dst, sport, dport)) return;
    const t = this.contacts;
    const len = p.l4Len;
    this.contactKey(p, true, 17, dport);
    let c = t.find();
    if (c < 0) {
      this.contactKey(p, false, 17, sport);
      const r = t.find();
      if (r >= 0) {
        // a reply: evidence about the originator's contact
        t.touch(r);
        this.cFlags[r]! |= F_REPLY;
        return;
      }
      // echo (7) and chargen (19) answers nobody asked for: reflected at us (fraggle)
      if (sport === 7 || sport === 19) {
        this.unsolicited++;
        if (this.reflected(p, len, now) || f.scans_only) return;
        this.datagramLine(p, sport, dport, now);
        return;
      }
      let judged = this.protectedDst(p);
      if (!judged && !this.protectedSrc(p)) return;
      // from a service port to an ephemeral one: the answer to a request the sensor did not see
      if (sport < 1024 && dport >= 1024) {
        this.unsolicited++;
        judged = false;
      }
      this.contactKey(p, true, 17, dport);
      c = this.newContact(C_UDP, judged, p.ttl, sport, len, now);
    } else t.touch(c);
    if ((this.cFlags[c]! & F_JUDGED) === 0) {
      if (!f.scans_only) this.datagramLine(p, sport, dport, now);
      return;
    }
    const s = this.sourceOfPacket(p, now, p.ttl <= 32);
    let quiet =
      p.family === 4
        ? this.aggs.udp(4, p.dst | 0, 0, 0, 0, dport, p.src | 0, 0, sport, len, now)
        : this.aggs.udp(6, p.dst6[0]! | 0, p.dst6[1]! | 0, p.dst6[2]! | 0, p.dst6[3]! | 0, dport, p.src6[0]! | 0, p.src6[1]! | 0, sport, len, now);
    if (s >= 0) {
      this.setDstOfPacket(s, p);
      if (this.trace(s, p, 0, sport, dport, now)) quiet = true;
      if (f.udp_scan && this.dState[s * ND + M.UDP] !== D_IDLE) {
        this.countPacket(s, M.UDP, len, sport, now);
        this.cFlags[c]! |= F_COUNTED;
        quiet = true;
      }
    }
    if (quiet || f.scans_only) return;
    this.datagramLine(p, sport, dport, now);
  }

  private datagramLine(p: DecodedPacket, sport: number, dport: number, now: number): void {
    // per-packet lines only for what reaches a protected address (as compat's dst filter):
    // a protected host's own outbound traffic, captured for its answers, writes none
    if (!this.protectedDst(p)) return;
    const ulen = be16(p.buf, p.l4Off + 4);
    if (ulen < 8) this.an.counts[A.udpLenSmall]++;
    const src = p.family === 4 ? IpAddr.v4(p.src) : IpAddr.v6FromWords(p.src6);
    const dst = p.family === 4 ? IpAddr.v4(p.dst) : IpAddr.v6FromWords(p.dst6);
    this.ctx.emit(event('udp.datagram', now, src, { dst, sport, dport, bytes: ulen >= 8 ? ulen - 8 : -1, detail: { service: serviceName(dport, 'udp'), udp_length: ulen } }));
  }

  /** an unsolicited reply (echo reply, UDP from 7/19): the smurf detector, keyed by the reflectors' network; true: in mode */
  private reflected(p: DecodedPacket, len: number, now: number): boolean {
    if (!this.ctx.flags.smurf) return false;
    const s =
      p.family === 4
        ? this.source(4, p.src | 0, 0, 0, 0, TAG_REFLECTOR, now)
        : this.source(6, p.src6[0]! | 0, p.src6[1]! | 0, 0, 0, TAG_REFLECTOR, now);
    this.setDstOfPacket(s, p);
    const inMode = this.countPacket(s, M.SMURF, len, -1, now);
    if (this.rate(s, now) >= MODERN_DETECTORS[M.SMURF]!.threshold) this.arm(s, M.SMURF, now);
    return inMode;
  }

  // ---------------------------------------------------------------- ICMP

  icmp(p: DecodedPacket, now: number): void {
    if (p.l4Avail < 2) {
      this.an.counts[A.icmpTruncated]++;
      return;
    }
    const b = p.buf;
    const o = p.l4Off;
    const end = o + p.l4Avail;
    const v6 = p.family === 6;
    const raw = b[o]!;
    // ICMPv6 types mapped onto ICMP's for the roles
    const type = v6 ? (raw === 128 ? 8 : raw === 129 ? 0 : raw === 1 ? 3 : raw === 3 ? 11 : raw === 2 ? 4 : raw === 4 ? 12 : 256 + raw) : raw;
    const e = this.ctx;
    const f = e.flags;
    if (!v6 && e.rules !== null && e.rules.icmp(p.src, p.dst, raw)) return;
    if (v6 && isLinkBackground(raw)) {
      if (raw === 135) this.neighbourSolicitation(p, now);
      this.icmpLine(p, now);
      return;
    }
    const t = this.contacts;
    const len = p.l4Len;
    const req = type === 8 || type === 13 || type === 15 || type === 17 || type === 10;
    const reply = type === 0 || type === 14 || type === 16 || type === 18;
    if (req) {
      this.contactKey(p, true, 1, type);
      let c = t.find();
      const judged = c >= 0 ? (this.cFlags[c]! & F_JUDGED) !== 0 : this.protectedDst(p);
      if (c < 0) {
        if (!judged && !this.protectedSrc(p)) return;
        c = this.newContact(C_ICMP, judged, p.ttl, 0, len, now);
      } else t.touch(c);
      if (!judged) {
        if (!f.scans_only) this.icmpLine(p, now);
        return;
      }
      const s = this.sourceOfPacket(p, now);
      this.setDstOfPacket(s, p);
      let inMode = false;
      if (type === 8) {
        this.trace(s, p, 1, -1, -1, now);
        if (f.ping_flood) {
          inMode = this.countPacket(s, M.PING, len, -1, now);
          if (this.rate(s, now) >= MODERN_DETECTORS[M.PING]!.threshold) {
            this.arm(s, M.PING, now);
            inMode = true;
          }
        }
      }
      if (inMode || f.scans_only) return;
      this.icmpLine(p, now);
      return;
    }
    if (reply) {
      const rq = type === 0 ? 8 : type - 1;
      this.contactKey(p, false, 1, rq);
      const c = t.find();
      if (c >= 0) {
        t.touch(c);
        this.cFlags[c]! |= F_REPLY;
        if (this.cOut[c] === O_PENDING) this.resolve(c, O_SUCCESS, now);
        return;
      }
      this.unsolicited++;
      if (type === 0 && this.reflected(p, len, now)) return;
      if (!f.scans_only) this.icmpLine(p, now);
      return;
    }
    if (type === 3 || type === 11 || type === 4 || type === 12) {
      // an error quoting a packet: evidence about the quoted packet's contact
      const qc = this.quotedContact(p, b, o + 8, end, now);
      // our port unreachable for a datagram: the port is closed (UDP flood to closed ports)
      const qk = this.contacts.k;
      if (type === 3 && b[o + 1] === (v6 ? 4 : 3) && this.quotedProto === 17 && (v6 ? qk[4] === (p.src6[0]! | 0) && qk[5] === (p.src6[1]! | 0) && qk[6] === (p.src6[2]! | 0) && qk[7] === (p.src6[3]! | 0) : qk[4] === (p.src | 0))) {
        this.aggs.closed(p.family, qk, 4, qk[8]! & 0xffff, now);
      }
      if (qc >= 0) {
        const c = this.quotedSlot;
        t.touch(c);
        if (type === 3) {
          this.cFlags[c]! |= F_UNREACH;
          if (this.cCls[c] !== C_UDP && this.cOut[c] === O_PENDING) this.resolve(c, O_REJECT, now);
        }
        return;
      }
      this.unsolicited++;
    }
    if (!f.scans_only) this.icmpLine(p, now);
  }

  private quotedSlot = -1;
  /** the protocol of the packet the last ICMP error quoted (-1: none parsed) */
  private quotedProto = -1;

  /** find the contact of the packet an ICMP error quotes (at `q`); its slot in quotedSlot */
  private quotedContact(p: DecodedPacket, b: Buffer, q: number, end: number, now: number): number {
    const k = this.contacts.k;
    let proto: number;
    let l4: number;
    this.quotedProto = -1;
    if (p.family === 4) {
      if (q + 20 > end) return -1;
      const ihl = (b[q]! & 0x0f) * 4;
      proto = b[q + 9]!;
      k[0] = be32(b, q + 12) | 0;
      k[4] = be32(b, q + 16) | 0;
      k[1] = k[2] = k[3] = k[5] = k[6] = k[7] = 0;
      l4 = q + ihl;
    } else {
      if (q + 40 > end) return -1;
      proto = b[q + 6]!;
      for (let i = 0; i < 4; i++) {
        k[i] = be32(b, q + 8 + i * 4) | 0;
        k[4 + i] = be32(b, q + 24 + i * 4) | 0;
      }
      l4 = q + 40;
      if (proto === 58) proto = 1;
    }
    let port: number;
    if (proto === 6 || proto === 17) {
      if (l4 + 4 > end) return -1;
      port = be16(b, l4 + 2);
    } else if (proto === 1) {
      if (l4 + 1 > end) return -1;
      const qt = b[l4]!;
      port = p.family === 6 ? (qt === 128 ? 8 : 256 + qt) : qt;
    } else return -1;
    k[8] = (p.family << 24) | (proto << 16) | port;
    this.quotedProto = proto;
    this.quotedSlot = this.contacts.find();
    if (this.quotedSlot < 0 && proto === 6 && this.tier.size > 0) this.quotedSlot = this.tierQuoted(now);
    return this.quotedSlot;
  }

  private icmpLine(p: DecodedPacket, now: number): void {
    if (!this.protectedDst(p)) return;
    if (p.family === 4) handleIcmp(this.lineCtx, p, now);
    else handleIcmp6(this.lineCtx, p, now);
  }
}

/** the TCP data offset (32-bit words) of p's header */
/** why flags `raw` with reserved bits `res` are bogus (see ModernDetect.bogus), or null */
function bogusReason(raw: number, res: number): string | null {
  if ((raw & (SYN | FIN)) === (SYN | FIN)) return 'syn+fin';
  if ((raw & (SYN | RST)) === (SYN | RST)) return 'syn+rst';
  if ((res & 0x0e) !== 0) return 'reserved-bits';
  if ((raw & (SYN | ACK)) === SYN) {
    const ecn = raw & (ECE | CWR);
    if (ecn === ECE || ecn === CWR || ((res & 1) !== 0 && ecn !== (ECE | CWR))) return 'ecn-misuse';
  }
  return null;
}

function b12Options(p: DecodedPacket): number {
  return p.buf[p.l4Off + 12]! >> 4;
}

function compileProtected(home: string[], promisc: string[], promiscOrigin?: string): NetMatcher {
  // --home entries may be hosts or networks with host bits (parseCidr truncates); -a entries are
  // BPF nets, checked as strictly as the compat profile's destination filter and the live BPF
  // filter check them (an invalid one is refused at start, naming its iplog.conf line)
  const cidrs: Cidr[] = [];
  const v4: string[] = [];
  for (const t of home) {
    const c = parseCidr(t.trim());
    if (c !== undefined) {
      if (c.family === 6) cidrs.push(c);
      else v4.push(`${c.network.toString()}/${c.len}`);
    } else v4.push(t);
  }
  const h = compileNets(v4);
  const a = compileNets(promisc, promiscOrigin);
  return { bases: Uint32Array.from([...h.bases, ...a.bases]), masks: Uint32Array.from([...h.masks, ...a.masks]), v6: [...h.v6, ...cidrs, ...a.v6] };
}

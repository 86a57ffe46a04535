/**
 * The ban manager: one score per source address across every detector (log2table's
 * consolidation; fail2ban's per-jail model is what makes jails unban each other,
 * peers.md §3.9), fed by the event stream, deciding on the network clock.
 *
 * Scoring. Each event has a weight (config.ts DEFAULT_WEIGHTS, `--ban-weight`): by
 * detector name for `scan.detected`, else by event kind. A source's score is the sum of
 * the weights of its events within the last `windowSec` seconds of packet time (a true
 * sliding window). Reaching `threshold` is a crossing: the source is banned unless the
 * allowlist, the budget or the ban table's bound says no, and its score starts again.
 * Events from a source that is banned now are counted and otherwise ignored.
 *
 * Duration. Offence n (n = 1 for a first ban) lasts min(timeSec × factor^(n-1),
 * maxTimeSec). Offences are remembered until `maxTimeSec` after the end of the last ban
 * (then a new ban is a first one again).
 *
 * Safety (peers.md §4.8). The allowlist (allowlist.ts) is checked with cached facts
 * about the host, read again before a ban when a watcher saw a change or they are older
 * than FACTS_MAX_AGE_MS (system.ts), never per event, and only once the budget allows
 * the ban (a flood of refusals reads nothing); a ban budget allows at most `budget` new bans in
 * any 60 s of packet time, and the refusals beyond it produce one line per exhausted
 * period, not one per refusal; the same goes for a full ban table.
 *
 * Bounds (STYLE habit 7), each with a counter in `stats`:
 * - scores: at most `maxSources` sources (default 65536); a new one evicts the source
 *   scored least recently (`scoreEvictions`); at most HITS_PER_SOURCE events are kept
 *   per source, oldest dropped (it is the first to leave the window anyway);
 * - bans: at most `maxBans` (default 65536); when full a new ban is refused
 *   (`refusedTableFull`), never an existing one lifted early;
 * - offenders: at most `maxOffenders` (default 65536); the least recently banned is
 *   forgotten first (`offenderEvictions`);
 * - allowlist notices: one `not banning` line per address per window (at most
 *   MAX_NOTICES addresses remembered).
 *
 * Expiry runs on the network clock: `due()`/`sweep(t)` are hooked into the engine's
 * clock (pipeline.ts addClockListener). Backends with kernel expiry (nftables, ipset)
 * lift the ban themselves at the same moment, so no command runs then; the others get
 * their `unban`. Every decision is a BAN line (emitted through the engine, so it reaches
 * every sink in order) and an "explain" record in the operational log.
 */
import type { Logger } from '../log';
import { event, type IplogEvent } from '../output/event';
import { DETECTORS } from '../detect/index';
import { covers, dotted, formatV6, fromIp, parseNet, parseTarget, prefixAddr, toIp, type BanAddr, type Family } from './addr';
import { Lru } from './lru';
import type { AllowList } from './allowlist';
import type { ActualBan, ReconcilePlan } from './backend';
import type { Firewall } from './firewall';
import { loadState, STATE_VERSION, type BanState, type StateLifted, type StateWriter } from './state';
import { FACTS_MAX_AGE_MS, POLL_SEC, type SystemProbe } from './system';
import { ERR } from '../errors';
import type { Clientele } from '../evidence/clientele';
import { ClienteleWriter, CLIENTELE_SAVE_SEC, loadClientele } from '../evidence/persist';
import { crossingGrade, DecoyGroups, DECOY_HOLD_SEC, hitGrade, MAX_HELD, PROTECTED_SEC, provable, type EvidenceMode, type HitGrade } from './evidence';
import type { TrustView } from '../detect/context';

export interface BanPolicy {
  readonly weights: ReadonlyMap<string, number>;
  readonly threshold: number;
  readonly windowSec: number;
  readonly timeSec: number;
  readonly maxTimeSec: number;
  readonly factor: number;
  /** new bans per 60 s */
  readonly budget: number;
  /** new bans per 60 s in one /24 (IPv4) or /48 (IPv6) */
  readonly prefixBudget: number;
  /** seconds between firewall resyncs (0 = never; only with persistence) */
  readonly resyncSec: number;
  /**
   * what spoofable evidence may do (src/ban/evidence.ts): `protected` (the command
   * line's default), `proven` (only proof bans) or `any` (the default of this API when
   * unset: every crossing bans, as before evidence grades)
   */
  readonly evidence?: EvidenceMode;
  /** duration of a protected ban (spoofable evidence), capped at timeSec (default 600) */
  readonly protectedSec?: number;
  /**
   * adaptive prefixes (IPv6): this many offenders of one /64 banned within `windowSec`
   * ban the /64 instead, and as many /64s of one /48 the /48; 0 or unset = never
   */
  readonly prefixOffenders?: number;
}

export interface ManagerLimits {
  maxSources: number;
  maxBans: number;
  maxOffenders: number;
  /** refused crossings waiting for the budget */
  maxPending: number;
  /** prefixes whose recent bans are remembered for the prefix budget */
  maxPrefixes: number;
}

export const DEFAULT_LIMITS: ManagerLimits = { maxSources: 65536, maxBans: 65536, maxOffenders: 65536, maxPending: 4096, maxPrefixes: 4096 };
/** the prefix lengths of adaptive prefixes: offenders of a /64 make the /64, /64s of a /48 the /48 */
export const PREFIX_STEPS: readonly (readonly [number | undefined, number])[] = [
  [undefined, 64],
  [64, 48],
];
/** at most this many members are named in a prefix ban's line (the JSON and the trail have all) */
const NAMED_MEMBERS = 8;
export const HITS_PER_SOURCE = 32;
export const MAX_NOTICES = 4096;
/** budget window */
export const BUDGET_SEC = 60;
/** a kernel element with less time left than this is left to lapse, not deleted */
const LAPSE_SEC = 5;

export interface ManagerDeps {
  /** replaced by a reload (reconfigure()) */
  policy: BanPolicy;
  firewall: Firewall;
  allow: AllowList;
  probe: SystemProbe;
  /** write a line (and its event) to every sink, in order */
  emit: (ev: IplogEvent, text: string) => void;
  log: Logger;
  /** persistence (null: none, e.g. dry-run) */
  state: { path: string; writer: StateWriter } | null;
  /** fire pending expiries at the end of a replay */
  drains: boolean;
  /** monotonic milliseconds, for the age of the host facts (default performance.now) */
  clockMs?: () => number;
  limits?: Partial<ManagerLimits>;
  /** addresses that completed a handshake with the host (src/evidence/clientele.ts): never banned on spoofable evidence */
  clientele?: Clientele | null;
  /** where the clientele is kept across restarts (with persistence: the state file + `.clientele`) */
  clienteleFile?: string;
}

interface Hit {
  t: number;
  w: number;
  title: string;
  kind: string;
  detector: string | null;
  /** evidence grade fields of the event, when it has them (spoofable, proof, source_role) */
  grade?: Record<string, string | number | boolean>;
  /** a log rule's own first-ban duration (`log.match` detail.ban_time), else 0 */
  banSec?: number;
  /** the evidence grade the policy uses (the event's own, or by kind: evidence.ts hitGrade) */
  g: HitGrade;
}

/** A protected crossing held for the decoy check (evidence.ts). */
interface Held {
  addr: BanAddr;
  hits: readonly Hit[];
  score: number;
  t: number;
  due: number;
}

interface Score {
  addr: BanAddr;
  hits: Hit[];
}

interface Pending {
  addr: BanAddr;
  hits: Hit[];
  /** first refusal */
  since: number;
}

function compareText(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The prefix a budget counts per: the /24 of an IPv4 address, the /48 of an IPv6 one. */
export function prefixOf(a: BanAddr): string {
  if (a.family === 4) {
    const n = a.v4 & 0xffffff00;
    return `${dotted(n >>> 0)}/24`;
  }
  return `${formatV6((a.v6 >> 80n) << 80n)}/48`;
}

export interface Ban {
  readonly addr: BanAddr;
  readonly since: number;
  readonly until: number;
  readonly offence: number;
  readonly reason: string;
  /** a protected ban (spoofable evidence): short, and not an offence that escalates */
  readonly protected?: boolean;
  /** the explain record of the decision (events, weights, rule, duration...), for `iplog bans show` */
  trail?: Readonly<Record<string, unknown>>;
}

/** At most this many lifted marks (`iplog bans del`) are remembered; the oldest goes first. */
export const MAX_LIFTED = 4096;
/** At most this many networks allowed by hand (`iplog bans allow`). */
export const MAX_MANUAL_ALLOW = 1024;

/** A ban lifted by hand: evidence up to `at` never bans the address again (`iplog bans del`). */
interface Lifted {
  addr: BanAddr;
  at: number;
}

interface Offender {
  addr: BanAddr;
  offences: number;
  last: number;
}

export interface ManagerStats {
  /** events with a weight */
  events: number;
  eventsWhileBanned: number;
  crossings: number;
  bans: number;
  unbans: number;
  refusedAllow: number;
  refusedBudget: number;
  refusedTableFull: number;
  /** refused because the address's /24 or /48 used its budget */
  refusedPrefix: number;
  /** refused crossings decided again once the budget allowed (banned or not) */
  reconsidered: number;
  /** refused crossings whose evidence left the window before the budget allowed */
  pendingExpired: number;
  /** refused crossings forgotten because the pending table was full */
  pendingEvictions: number;
  scoreEvictions: number;
  offenderEvictions: number;
  resyncs: number;
  resyncRepairs: number;
  /** times the host facts were read (start, every POLL_SEC, before a ban when stale) */
  factsReads: number;
  /** bans lifted because the allowlist forbids them (restored, adopted, or the host changed) */
  liftedAllow: number;
  /** decisions of the fleet (CrowdSec decision stream) applied, and lifted */
  fleetBans: number;
  fleetLifts: number;
  /** `iplog bans add` / `del` / `allow` through the control socket */
  manualBans: number;
  manualLifts: number;
  manualAllows: number;
  /** events and firewall elements ignored because the address was lifted by hand */
  liftedIgnored: number;
  /** lifted marks forgotten because the table was full */
  liftedEvictions: number;
  /** bans on proven evidence, and protected bans on spoofable evidence */
  provenBans: number;
  protectedBans: number;
  /** crossings refused by the evidence policy: spoofable under --ban-evidence proven, a clientele member, a decoy group member */
  refusedSpoofable: number;
  refusedClientele: number;
  refusedDecoy: number;
  /** weighted events of reflector or aggregate sources (never scored) */
  refusedRole: number;
  /** protected crossings held for the decoy check, and those decided early because the hold table was full */
  held: number;
  heldEvictions: number;
  /** adaptive prefixes: prefix bans made (a /64 of offenders, a /48 of /64s), escalations refused (protected address inside, budget), host or /64 bans replaced by a prefix */
  prefixBans: number;
  refusedPrefixBan: number;
  replacedByPrefix: number;
  /** prefixes whose recent offenders were forgotten because the table was full */
  prefixEvictions: number;
}

/** Text of the events that are not detections, for the reason of a ban. */
const TITLES: Record<string, string> = {
  'tcp.bogus_flags': 'TCP: Bogus TCP flags',
  'udp.traceroute': 'UDP: traceroute',
  'frag.oversized': 'Oversized IP fragment',
  'frag.duplicate': 'Duplicate IP fragments',
  'frag.overlap': 'Overlapping IP fragments',
  'frag.tiny': 'Tiny IP fragment',
  'tcp.connection_attempt': 'TCP: connection attempt',
  'udp.datagram': 'UDP: datagram',
};

function titleOf(ev: IplogEvent): string {
  if (ev.kind === 'log.match') return `log: ${String(ev.detail?.rule)}`;
  if (ev.kind === 'scan.detected') {
    const t = ev.detail?.title;
    if (typeof t === 'string') return t;
    return DETECTORS.find((d) => d.name === ev.detector)?.title ?? String(ev.detector);
  }
  return TITLES[ev.kind] ?? ev.kind;
}

/** The source an event accuses: its `src` address (IPv4 or IPv6; an IPv4-mapped one is the IPv4 host). */
export function sourceOf(ev: IplogEvent): BanAddr | undefined {
  return ev.src === null ? undefined : fromIp(ev.src);
}

/** The evidence grade fields an event carries (MODERN.md §3.3), if any. */
function gradeOf(ev: IplogEvent): Hit['grade'] {
  const d = ev.detail;
  if (d === null) return undefined;
  let g: Record<string, string | number | boolean> | undefined;
  for (const k of ['spoofable', 'proof', 'source_role']) {
    const v = d[k];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') (g ??= {})[k] = v;
  }
  return g;
}

export class BanManager {
  private readonly scores: Lru<Score>;
  /** crossings refused for the budget, decided again when it allows (bounded, oldest out) */
  private readonly pending: Lru<Pending>;
  /** times of the recent bans per /24 (IPv4) or /48 (IPv6), for the prefix budget */
  private readonly prefixBans: Lru<number[]>;
  private nextReconsider = -Infinity;
  /** adaptive prefixes: per /64 (and /48), its offenders banned recently (member text -> ban time, proven) */
  private readonly prefixOffenders: Lru<Map<string, { t: number; proven: boolean }>>;
  /** prefix bans in force, by length (a host is checked against these lengths only) */
  private readonly netLens = new Map<number, number>();
  private netBans = 0;
  private readonly bans = new Map<string, Ban>();
  private readonly offenders = new Map<string, Offender>();
  private readonly notices = new Lru<number>(MAX_NOTICES);
  /** addresses lifted by hand (`iplog bans del`), persisted: their old evidence never bans again */
  private readonly lifted = new Lru<Lifted>(MAX_LIFTED);
  /** networks allowed by hand (`iplog bans allow`), persisted */
  private readonly manualAllows = new Map<string, { net: string; at: number }>();
  /** times of the recent bans, for the budget (at most `budget` entries) */
  private readonly recent: number[] = [];
  private budgetRefused = -1; // refusals in the current exhausted period; -1 = not exhausted
  private fullRefused = -1;
  private nextDue = Infinity;
  /** when the host facts were read (clockMs), and whether a watcher said they changed */
  private factsAt = -Infinity;
  private factsStale = true;
  private nextPoll = -Infinity;
  private nextResync = Infinity;
  private resyncing = false;
  private now = 0;
  private readonly limits: ManagerLimits;
  readonly drains: boolean;
  readonly stats: ManagerStats = {
    events: 0,
    eventsWhileBanned: 0,
    crossings: 0,
    bans: 0,
    unbans: 0,
    refusedAllow: 0,
    refusedBudget: 0,
    refusedTableFull: 0,
    refusedPrefix: 0,
    reconsidered: 0,
    pendingExpired: 0,
    pendingEvictions: 0,
    scoreEvictions: 0,
    offenderEvictions: 0,
    resyncs: 0,
    resyncRepairs: 0,
    factsReads: 0,
    liftedAllow: 0,
    fleetBans: 0,
    fleetLifts: 0,
    manualBans: 0,
    manualLifts: 0,
    manualAllows: 0,
    liftedIgnored: 0,
    liftedEvictions: 0,
    provenBans: 0,
    protectedBans: 0,
    refusedSpoofable: 0,
    refusedClientele: 0,
    refusedDecoy: 0,
    refusedRole: 0,
    held: 0,
    heldEvictions: 0,
    prefixBans: 0,
    refusedPrefixBan: 0,
    replacedByPrefix: 0,
    prefixEvictions: 0,
  };
  /** protected crossings waiting for the decoy check, and the scan alarms it looks at */
  private readonly holds = new Lru<Held>(MAX_HELD);
  private readonly decoys = new DecoyGroups();
  private nextHeld = Infinity;
  private clienteleWriter: ClienteleWriter | null = null;
  private nextClienteleSave = -Infinity;

  constructor(private readonly d: ManagerDeps) {
    this.limits = { ...DEFAULT_LIMITS, ...(d.limits ?? {}) };
    this.scores = new Lru<Score>(this.limits.maxSources);
    this.pending = new Lru<Pending>(this.limits.maxPending);
    this.prefixBans = new Lru<number[]>(this.limits.maxPrefixes);
    this.prefixOffenders = new Lru<Map<string, { t: number; proven: boolean }>>(this.limits.maxPrefixes);
    this.drains = d.drains;
    this.refreshFacts(true);
  }

  /** the clientele the policy consults (the ban session hands it to each engine's handshake tracker) */
  get clientele(): Clientele | null {
    return this.d.clientele ?? null;
  }

  get policy(): BanPolicy {
    return this.d.policy;
  }

  // ---------------------------------------------------------------- events

  /** Weight of an event: detector name for detections, else kind; 0 = ignored. */
  weightOf(ev: IplogEvent): number {
    const w = this.d.policy.weights;
    if (ev.kind === 'scan.detected') return (ev.detector !== null ? w.get(ev.detector) : undefined) ?? w.get('scan.detected') ?? 0;
    // a log rule's match (src/logs/feed.ts) carries the rule's weight
    if (ev.kind === 'log.match') return typeof ev.detail?.weight === 'number' ? ev.detail.weight : 0;
    return w.get(ev.kind) ?? 0;
  }

  /**
   * The kinds onEvent() acts on (Emitter.subscribe): detections (weighted or not, for the
   * decoy groups), log matches, and the kinds the policy weighs now. The others are not
   * handed to it, and a line no one else needs is written without its event (issue 10).
   */
  readonly wants = (kind: string): boolean => {
    if (kind === 'scan.detected' || kind === 'log.match') return true;
    return (this.d.policy.weights.get(kind) ?? 0) > 0;
  };

  /** The engine's event listener. */
  readonly onEvent = (ev: IplogEvent): void => {
    if (ev.kind.startsWith('ban.')) return;
    // every scan alarm, weighted or not, for the decoy groups (protected mode only)
    if (ev.kind === 'scan.detected' && ev.src !== null && ev.dst !== null && this.mode === 'protected' && ev.detail?.source_role === 'attacker') {
      const ports = ev.detail.dports;
      this.decoys.record(ev.src.toString(), ev.dst.toString(), Array.isArray(ports) ? (ports as number[]) : [], ev.time);
    }
    const w = this.weightOf(ev);
    if (!(w > 0)) return;
    const a = sourceOf(ev);
    if (a === undefined) return;
    const banSec = ev.kind === 'log.match' && typeof ev.detail?.ban_time === 'number' ? ev.detail.ban_time : 0;
    this.observe(a, ev.time, w, titleOf(ev), ev.kind, ev.detector, gradeOf(ev), banSec);
  };

  /** Score one weighted event from `a` at time `t`. */
  observe(a: BanAddr, t: number, w: number, title: string, kind: string, detector: string | null, grade?: Hit['grade'], banSec = 0): void {
    if (t > this.now) this.now = t;
    this.stats.events++;
    if (this.bans.has(a.text) || (this.netBans > 0 && this.coveredBy(a) !== undefined)) {
      this.stats.eventsWhileBanned++;
      return;
    }
    // lifted by hand: only evidence newer than the lift counts (a late event of before does not)
    const lift = this.lifted.size > 0 ? this.lifted.peek(a.text) : undefined;
    if (lift !== undefined && t <= lift.at) {
      this.stats.liftedIgnored++;
      return;
    }
    // reflector and aggregate evidence never bans: the source is not the attacker
    const g = hitGrade(kind, detector, grade);
    if (g.source_role !== 'attacker') {
      this.stats.refusedRole++;
      this.notice(a, t, `${g.source_role} evidence never bans`, [], 0, 'role', { source_role: g.source_role }, { spoofable: g.spoofable, proof: g.proof, source_role: g.source_role });
      return;
    }
    // the least recently scored source goes when the table is full (O(1), lru.ts)
    let s = this.scores.get(a.text);
    if (s === undefined) {
      // under churn (a spoofed flood: every source new, none crossing) the evicted record
      // and its array take the new source: nothing else holds them, and fewer objects
      // promoted and dropped keep the old generation (RSS) smaller
      s = this.scores.nextEvicted();
      if (s !== undefined) {
        s.addr = a;
        s.hits.length = 0;
      } else s = { addr: a, hits: [] };
      if (this.scores.set(a.text, s) !== undefined) this.stats.scoreEvictions++;
    }
    const hits = s.hits;
    const hit: Hit = grade === undefined ? { t, w, title, kind, detector, g } : { t, w, title, kind, detector, grade, g };
    if (banSec > 0) hit.banSec = banSec;
    hits.push(hit);
    if (hits.length > HITS_PER_SOURCE) hits.shift();
    const from = t - this.d.policy.windowSec;
    let old = 0;
    while (old < hits.length && hits[old]!.t <= from) old++;
    if (old > 0) hits.splice(0, old);
    let score = 0;
    for (const h of hits) score += h.w;
    if (score < this.d.policy.threshold) return;
    this.scores.delete(a.text);
    this.stats.crossings++;
    this.decide(a, t, hits, score);
  }

  private line(kind: 'ban.added' | 'ban.removed' | 'ban.refused', t: number, a: BanAddr, text: string, detail: Record<string, string | number | boolean>): void {
    const ev = event(kind, t, toIp(a), { detail: { addr: a.text, family: a.family, ...detail } });
    this.d.emit(ev, text);
  }

  private explain(decision: string, a: BanAddr, hits: readonly Hit[], score: number, extra: Record<string, unknown>): Record<string, unknown> {
    const p = this.d.policy;
    const explain: Record<string, unknown> = {
      decision,
      addr: a.text,
      events: hits.map((h) => ({ time: h.t, kind: h.kind, detector: h.detector, title: h.title, weight: h.w, ...h.grade, spoofable: h.g.spoofable, proof: h.g.proof })),
      score,
      rule: `score ${score} >= threshold ${p.threshold} within ${p.windowSec} s`,
      ...extra,
    };
    this.d.log.info({ explain }, decision === 'ban' ? `banned ${a.text}` : `not banning ${a.text}`);
    return explain;
  }

  private budgetLeft(t: number): boolean {
    const from = t - BUDGET_SEC;
    while (this.recent.length > 0 && this.recent[0]! <= from) this.recent.shift();
    return this.recent.length < this.d.policy.budget;
  }

  /** Room in the budget of the /24 or /48 of `a`. */
  private prefixLeft(a: BanAddr, t: number): boolean {
    const times = this.prefixBans.peek(prefixOf(a));
    if (times === undefined) return true;
    const from = t - BUDGET_SEC;
    while (times.length > 0 && times[0]! <= from) times.shift();
    return times.length < this.d.policy.prefixBudget;
  }

  private spendPrefix(a: BanAddr, t: number): void {
    const k = prefixOf(a);
    const times = this.prefixBans.get(k);
    if (times !== undefined) times.push(t);
    else this.prefixBans.set(k, [t]);
  }

  /** A refusal line for `a`, at most once per address per window. */
  private notice(a: BanAddr, t: number, why: string, hits: readonly Hit[], score: number, decision: string, extra: Record<string, unknown>, grade?: Record<string, string | number | boolean>): void {
    const last = this.notices.get(a.text);
    if (last !== undefined && t - last < this.d.policy.windowSec) return;
    this.notices.set(a.text, t);
    this.line('ban.refused', t, a, `BAN: not banning ${a.text} (${why})`, grade === undefined ? { reason: why } : { reason: why, ...grade });
    this.explain(decision, a, hits, score, extra);
  }

  /** Keep a crossing refused for the budget, to be decided again when it allows. */
  private defer(a: BanAddr, t: number, hits: readonly Hit[]): void {
    const p = this.pending.get(a.text);
    if (p !== undefined) {
      for (const h of hits) if (!p.hits.includes(h)) p.hits.push(h);
      if (p.hits.length > HITS_PER_SOURCE) p.hits.splice(0, p.hits.length - HITS_PER_SOURCE);
      return;
    }
    if (this.pending.set(a.text, { addr: a, hits: [...hits], since: t }) !== undefined) this.stats.pendingEvictions++;
  }

  /**
   * Decide again the crossings the budget refused, oldest first, while the budget allows
   * and their evidence is still within the window (issue 11: ten decoys must not blind
   * the sensor to the real scanner for good).
   */
  private reconsider(t: number): void {
    if (this.pending.size === 0) return;
    const from = t - this.d.policy.windowSec;
    const done: Pending[] = [];
    if (!this.budgetLeft(t)) return;
    let slots = this.d.policy.budget - this.recent.length;
    for (const p of this.pending.valuesOldestFirst()) {
      if (slots <= 0) break;
      let score = 0;
      for (const h of p.hits) if (h.t > from) score += h.w;
      if (score < this.d.policy.threshold) {
        this.stats.pendingExpired++;
        done.push(p);
        continue;
      }
      if (!this.prefixLeft(p.addr, t)) continue;
      done.push(p);
      slots--;
    }
    for (const p of done) {
      this.pending.delete(p.addr.text);
      const hits = p.hits.filter((h) => h.t > from);
      let score = 0;
      for (const h of hits) score += h.w;
      if (score < this.d.policy.threshold || this.isBanned(p.addr)) continue;
      this.stats.reconsidered++;
      this.decide(p.addr, t, hits, score, true);
    }
  }

  /** the engine's handshake tracker (the ban session sets it): proof that completes after a detection */
  trust: TrustView | null = null;

  /** The evidence mode in force (evidence.ts). */
  get mode(): EvidenceMode {
    return this.d.policy.evidence ?? 'any';
  }

  /**
   * The evidence gate of a crossing (evidence.ts): proven evidence passes; spoofable
   * evidence is refused (mode proven, a clientele member, a decoy group member) or held
   * for the decoy check first (`released` once held, or when reconsidered). Returns
   * whether the crossing goes on, and if so whether it is protected.
   */
  private gate(a: BanAddr, t: number, hits: readonly Hit[], score: number, released: boolean): { go: boolean; protect: boolean; proven: boolean } {
    const cg = crossingGrade(hits.map((h) => h.g));
    if (cg.proven || this.mode === 'any') return { go: true, protect: false, proven: cg.proven };
    // spoofable: held a moment first (decoy groups form, a connect-probe may complete)
    if (!released) {
      this.hold(a, t, hits, score);
      return { go: false, protect: false, proven: false };
    }
    // proof that came after the detection: a connect-probe of this source within the episode
    if (this.trust !== null && hits.some((h) => provable(h.detector)) && this.trust.proven(toIp(a), t)) return { go: true, protect: false, proven: true };
    const grade = { spoofable: cg.spoofable, proof: cg.proof, source_role: 'attacker' };
    if (this.mode === 'proven') {
      this.stats.refusedSpoofable++;
      this.pending.delete(a.text);
      this.notice(a, t, 'spoofable evidence: only proven evidence bans (--ban-evidence proven)', hits, score, 'spoofable', { evidence: 'proven' }, grade);
      return { go: false, protect: false, proven: false };
    }
    const seen = this.d.clientele?.lastSeen(toIp(a), t);
    if (seen !== undefined) {
      this.stats.refusedClientele++;
      this.pending.delete(a.text);
      this.notice(a, t, `spoofable evidence: ${a.text} is a recent peer`, hits, score, 'clientele', { evidence: 'protected', clienteleLastSeen: seen }, grade);
      return { go: false, protect: false, proven: false };
    }
    const group = this.decoys.group(a.text, t);
    if (group !== null) {
      this.stats.refusedDecoy++;
      this.pending.delete(a.text);
      this.notice(a, t, `decoy evidence: one of ${group.sources} sources scanning ${group.dst} alike`, hits, score, 'decoy', { evidence: 'protected', decoyGroup: group }, { ...grade, source_role: 'decoy' });
      return { go: false, protect: false, proven: false };
    }
    return { go: true, protect: true, proven: false };
  }

  /** Hold a protected crossing DECOY_HOLD_SEC for the decoy check (bounded: when full, the oldest is decided now). */
  private hold(a: BanAddr, t: number, hits: readonly Hit[], score: number): void {
    if (this.holds.peek(a.text) !== undefined) return;
    this.stats.held++;
    const h: Held = { addr: a, hits, score, t, due: t + DECOY_HOLD_SEC };
    const out = this.holds.set(a.text, h);
    if (h.due < this.nextHeld) this.nextHeld = h.due;
    if (out !== undefined) {
      this.stats.heldEvictions++;
      this.decide(out.addr, t, out.hits, out.score, true);
    }
  }

  /** Decide the held crossings whose hold ended at or before `t`, oldest first. */
  private release(t: number): void {
    if (this.nextHeld > t) return;
    const done: Held[] = [];
    let next = Infinity;
    for (const h of this.holds.valuesOldestFirst()) {
      if (h.due <= t) done.push(h);
      else if (h.due < next) next = h.due;
    }
    this.nextHeld = next;
    for (const h of done) {
      this.holds.delete(h.addr.text);
      if (!this.isBanned(h.addr)) this.decide(h.addr, h.due, h.hits, h.score, true);
    }
  }

  private decide(a: BanAddr, t: number, hits: readonly Hit[], score: number, released = false): void {
    const p = this.d.policy;
    // cached host facts (cheap); they are refreshed below only if a ban is really coming
    let why = this.d.allow.match(a);
    if (why === undefined && this.budgetLeft(t) && this.prefixLeft(a, t) && this.bans.size < this.limits.maxBans && this.factsOld()) {
      // never the wrong address: facts about the host as they are now
      this.refreshFacts(false);
      why = this.d.allow.match(a);
    }
    if (why !== undefined) {
      this.stats.refusedAllow++;
      this.pending.delete(a.text);
      this.notice(a, t, why, hits, score, 'allowlisted', { allowlist: why });
      return;
    }
    // the evidence policy (evidence.ts): proven bans; spoofable is refused, held, or protected
    const gate = this.gate(a, t, hits, score, released);
    if (!gate.go) return;
    const protect = gate.protect;
    if (!this.budgetLeft(t)) {
      this.stats.refusedBudget++;
      this.defer(a, t, hits);
      if (this.budgetRefused < 0) {
        this.budgetRefused = 0;
        const reason = `ban budget of ${p.budget} per minute exhausted`;
        this.line('ban.refused', t, a, `BAN: not banning ${a.text} (${reason})`, { reason });
        // the refused wait in `pending` and are decided again when it recovers, while their evidence is in the window
        this.d.log.warn({ budget: p.budget, addr: a.text, reconsidered: 'when the budget allows, while the evidence is in the window' }, 'ban budget exhausted: refusing new bans until it recovers (one line only)');
      }
      this.budgetRefused++;
      return;
    }
    if (!this.prefixLeft(a, t)) {
      this.stats.refusedPrefix++;
      this.defer(a, t, hits);
      const net = prefixOf(a);
      this.notice(a, t, `ban budget of ${p.prefixBudget} per minute for ${net} exhausted`, hits, score, 'prefix budget', { prefix: net, prefixBudget: p.prefixBudget });
      return;
    }
    if (this.budgetRefused >= 0) {
      this.d.log.warn({ refused: this.budgetRefused }, 'ban budget available again');
      this.budgetRefused = -1;
    }
    if (this.bans.size >= this.limits.maxBans) {
      this.stats.refusedTableFull++;
      if (this.fullRefused < 0) {
        this.fullRefused = 0;
        const reason = `ban table full: ${this.limits.maxBans} bans`;
        this.line('ban.refused', t, a, `BAN: not banning ${a.text} (${reason})`, { reason });
        this.d.log.warn({ maxBans: this.limits.maxBans }, 'ban table full: refusing new bans until some expire (one line only)');
      }
      this.fullRefused++;
      return;
    }
    this.fullRefused = -1;
    this.pending.delete(a.text);

    const o = this.offenders.get(a.text);
    const prior = o !== undefined && t - o.last < p.maxTimeSec ? o.offences : 0;
    // a protected ban is short and does not escalate: it is offence 1 and not counted
    const offence = protect ? 1 : prior + 1;
    // a log rule with its own ban_time among the evidence: the longest such base time
    let base = 0;
    for (const h of hits) if ((h.banSec ?? 0) > base) base = h.banSec!;
    const protectedSec = Math.min(p.protectedSec ?? PROTECTED_SEC, p.timeSec);
    const seconds = protect ? protectedSec : this.durationOf(offence, base > 0 ? base : undefined);
    const titles = [...new Set(hits.map((h) => h.title))];
    const cg = crossingGrade(hits.map((h) => h.g));
    if (gate.proven) {
      cg.proven = true;
      cg.proof = true;
      cg.spoofable = 0;
    }
    const evidence = cg.proven ? 'proven' : protect ? 'protected' : 'spoofable';
    const reason = protect
      ? `${titles.join(', ')}; score ${score}; spoofable evidence, protected`
      : `${titles.join(', ')}; score ${score}; offence ${offence}; ${cg.proven ? 'evidence proven' : 'spoofable evidence'}`;
    const ban: Ban = protect ? { addr: a, since: t, until: t + seconds, offence, reason, protected: true } : { addr: a, since: t, until: t + seconds, offence, reason };
    if (cg.proven) this.stats.provenBans++;
    if (protect) this.stats.protectedBans++;
    this.addBan(ban);
    this.recent.push(t);
    this.spendPrefix(a, t);
    this.stats.bans++;
    this.d.firewall.now = t;
    this.line('ban.added', t, a, `BAN: banned ${a.text} for ${seconds} seconds (${reason})`, {
      seconds,
      until: ban.until,
      offence,
      score,
      reason,
      evidence,
      spoofable: cg.spoofable,
      proof: cg.proof,
      source_role: 'attacker',
    });
    ban.trail = this.explain('ban', a, hits, score, {
      offence,
      seconds,
      until: ban.until,
      evidence,
      duration: protect
        ? `protected (spoofable evidence): min(${p.protectedSec ?? PROTECTED_SEC}, ${p.timeSec}) = ${seconds} s, no escalation`
        : `min(${base > 0 ? base : p.timeSec} × ${p.factor}^${offence - 1}, ${p.maxTimeSec}) = ${seconds} s`,
      backend: this.d.firewall.def.name,
    });
    this.d.firewall.ban(a, seconds, {
      reason,
      score,
      offence,
      events: hits.map((h) => ({ time: h.t, kind: h.kind, detector: h.detector, title: h.title, weight: h.w, ...h.grade })),
    });
    this.persist();
    // adaptive prefixes: only from bans the evidence policy allowed in full (never a protected one)
    if (!protect && a.family === 6) this.escalate(a, t, cg.proven);
  }

  // ---------------------------------------------------------------- adaptive prefixes (IPv6)

  private setBan(b: Ban): void {
    const old = this.bans.get(b.addr.text);
    if (old === undefined && b.addr.len !== undefined) {
      this.netBans++;
      this.netLens.set(b.addr.len, (this.netLens.get(b.addr.len) ?? 0) + 1);
    }
    this.bans.set(b.addr.text, b);
  }

  private unsetBan(key: string): void {
    const b = this.bans.get(key);
    if (b === undefined) return;
    this.bans.delete(key);
    const len = b.addr.len;
    if (len !== undefined) {
      this.netBans--;
      const n = (this.netLens.get(len) ?? 1) - 1;
      if (n > 0) this.netLens.set(len, n);
      else this.netLens.delete(len);
    }
  }

  /** The prefix ban in force that covers `a` (an IPv6 host or a longer prefix), if any. */
  private coveredBy(a: BanAddr): Ban | undefined {
    if (a.family !== 6 || this.netBans === 0) return undefined;
    for (const len of this.netLens.keys()) {
      if (len >= (a.len ?? 128)) continue;
      const b = this.bans.get(prefixAddr(a, len).text);
      if (b !== undefined) return b;
    }
    return undefined;
  }

  /** Banned now, itself or inside a prefix ban. */
  private isBanned(a: BanAddr): boolean {
    return this.bans.has(a.text) || (this.netBans > 0 && this.coveredBy(a) !== undefined);
  }

  /**
   * Adaptive prefixes: `a` (an IPv6 host, or a /64 prefix) was just banned on evidence the
   * policy allowed in full. When `prefixOffenders` members of its /64 (of its /48 for a
   * /64) have been banned within the window, the prefix is banned instead of them: their
   * bans are replaced (lifted, `BAN: unbanned A (replaced by NET)`), unless the prefix
   * holds a protected address or the budgets say no (`BAN: not banning NET (...)`); then
   * the members' own bans stay. A prefix ban is an offence of the prefix (it escalates
   * like an address's) and lasts at least as long as the longest ban it replaces.
   */
  private escalate(a: BanAddr, t: number, proven: boolean): void {
    const n = this.d.policy.prefixOffenders ?? 0;
    if (!(n >= 2) || a.family !== 6) return;
    const step = PREFIX_STEPS.find(([from]) => from === a.len);
    if (step === undefined) return;
    const net = prefixAddr(a, step[1]);
    if (this.isBanned(net)) return;
    let rec = this.prefixOffenders.get(net.text);
    if (rec === undefined) {
      rec = new Map();
      if (this.prefixOffenders.set(net.text, rec) !== undefined) this.stats.prefixEvictions++;
    }
    const from = t - this.d.policy.windowSec;
    for (const [k, m] of rec) if (m.t <= from) rec.delete(k);
    rec.delete(a.text);
    rec.set(a.text, { t, proven });
    // bounded: more members than needed add nothing
    while (rec.size > Math.max(n, NAMED_MEMBERS)) rec.delete(rec.keys().next().value as string);
    if (rec.size < n) return;
    this.banPrefix(net, t, rec);
  }

  private banPrefix(net: BanAddr, t: number, rec: Map<string, { t: number; proven: boolean }>): void {
    const p = this.d.policy;
    const members = [...rec.keys()].sort(compareText);
    const named = members.length > NAMED_MEMBERS ? `${members.slice(0, NAMED_MEMBERS).join(', ')}, ...` : members.join(', ');
    const what = `${members.length} offenders in ${net.text} within ${p.windowSec} s`;
    const proven = [...rec.values()].every((m) => m.proven);
    const grade = { spoofable: proven ? 0 : 3, proof: proven, source_role: 'attacker' };
    if (this.factsOld()) this.refreshFacts(false);
    const why = this.d.allow.match(net);
    const refuse = (reason: string, decision: string, extra: Record<string, unknown>): void => {
      this.stats.refusedPrefixBan++;
      this.notice(net, t, `${what}; ${reason}`, [], 0, decision, { prefix: net.text, members, ...extra }, grade);
    };
    if (why !== undefined) return refuse(`${why}: the offenders stay banned one by one`, 'prefix protected', { allowlist: why });
    if (!this.budgetLeft(t)) return refuse(`ban budget of ${p.budget} per minute exhausted`, 'prefix budget', {});
    if (!this.prefixLeft(net, t)) return refuse(`ban budget of ${p.prefixBudget} per minute for ${prefixOf(net)} exhausted`, 'prefix budget', { prefixBudget: p.prefixBudget });
    // what the prefix replaces: the bans in force inside it (hosts; /64s for a /48)
    const covered = [...this.bans.values()].filter((b) => covers(net, b.addr) && b.addr.text !== net.text).sort((x, y) => compareText(x.addr.text, y.addr.text));
    const o = this.offenders.get(net.text);
    const offence = (o !== undefined && t - o.last < p.maxTimeSec ? o.offences : 0) + 1;
    let longest = 0;
    for (const b of covered) if (b.until - t > longest) longest = Math.ceil(b.until - t);
    const seconds = Math.max(this.durationOf(offence), longest);
    const reason = `${what}: ${named}; offence ${offence}; ${proven ? 'evidence proven' : 'spoofable evidence'}`;
    const ban: Ban = { addr: net, since: t, until: t + seconds, offence, reason };
    this.prefixOffenders.delete(net.text);
    this.addBan(ban);
    this.recent.push(t);
    this.spendPrefix(net, t);
    this.stats.bans++;
    this.stats.prefixBans++;
    if (proven) this.stats.provenBans++;
    this.d.firewall.now = t;
    this.line('ban.added', t, net, `BAN: banned ${net.text} for ${seconds} seconds (${reason})`, {
      seconds,
      until: ban.until,
      offence,
      score: 0,
      reason,
      evidence: proven ? 'proven' : 'spoofable',
      ...grade,
      prefix: net.len!,
      members: members.join(','),
      replaced: covered.map((b) => b.addr.text).join(','),
    });
    ban.trail = {
      decision: 'ban',
      addr: net.text,
      prefix: net.len,
      rule: `${members.length} offenders >= ${p.prefixOffenders} in ${net.text} within ${p.windowSec} s (adaptive prefixes)`,
      members: [...rec].map(([k, m]) => ({ addr: k, time: m.t, evidence: m.proven ? 'proven' : 'spoofable' })),
      replaced: covered.map((b) => ({ addr: b.addr.text, until: b.until, reason: b.reason })),
      events: [],
      offence,
      seconds,
      until: ban.until,
      evidence: proven ? 'proven' : 'spoofable',
      duration: `max(min(${p.timeSec} × ${p.factor}^${offence - 1}, ${p.maxTimeSec}), longest replaced ${longest} s) = ${seconds} s`,
      backend: this.d.firewall.def.name,
    };
    this.d.log.info({ explain: ban.trail }, `banned ${net.text}`);
    // the firewall: prefixes it replaces go first (one interval set holds /64s and /48s,
    // and an overlapping element is refused), then the prefix, then the hosts (no gap for them)
    const coveredNets = covered.filter((b) => b.addr.len !== undefined);
    const coveredHosts = covered.filter((b) => b.addr.len === undefined);
    for (const b of [...coveredNets, ...coveredHosts]) {
      this.unsetBan(b.addr.text);
      this.stats.unbans++;
      this.stats.replacedByPrefix++;
      this.line('ban.removed', t, b.addr, `BAN: unbanned ${b.addr.text} (replaced by ${net.text})`, { reason: `replaced by ${net.text}`, prefix: net.text });
    }
    for (const b of coveredNets) this.d.firewall.unban(b.addr);
    this.d.firewall.ban(net, seconds, { reason, score: 0, offence, events: [], grade });
    for (const b of coveredHosts) this.d.firewall.unban(b.addr);
    this.persist();
    // a /64 may in turn make its /48
    this.escalate(net, t, proven);
  }

  durationOf(offence: number, baseSec?: number): number {
    const p = this.d.policy;
    return Math.min(Math.round((baseSec ?? p.timeSec) * p.factor ** (offence - 1)), p.maxTimeSec);
  }

  private addBan(b: Ban): void {
    this.setBan(b);
    // a new ban (new evidence, or by hand) ends a lift
    if (this.lifted.size > 0) this.lifted.delete(b.addr.text);
    if (b.until < this.nextDue) this.nextDue = b.until;
    if (b.protected === true) return;
    const key = b.addr.text;
    const o = this.offenders.get(key);
    this.offenders.delete(key);
    if (o === undefined && this.offenders.size >= this.limits.maxOffenders) {
      this.offenders.delete(this.offenders.keys().next().value as string);
      this.stats.offenderEvictions++;
    }
    this.offenders.set(key, { addr: b.addr, offences: Math.max(b.offence, o?.offences ?? 0), last: b.until });
  }

  // ---------------------------------------------------------------- clock

  due(): number {
    return Math.min(this.nextDue, this.nextHeld);
  }

  /** Lift the bans whose time has come (at or before `t`), in order. */
  sweep(t: number): void {
    if (t > this.now) this.now = t;
    this.release(t);
    if (this.nextDue > t) return;
    const done = [...this.bans.values()].filter((b) => b.until <= t).sort((x, y) => x.until - y.until || (x.addr.text < y.addr.text ? -1 : 1));
    this.d.firewall.now = t;
    for (const b of done) {
      this.unsetBan(b.addr.text);
      this.stats.unbans++;
      this.line('ban.removed', t, b.addr, `BAN: unbanned ${b.addr.text} (expired)`, { reason: 'expired' });
      this.d.log.info({ addr: b.addr.text, since: b.since, until: b.until, offence: b.offence }, `unbanned ${b.addr.text}`);
      // nftables and ipset drop the element themselves at this moment
      if (!this.d.firewall.kernelExpiry) this.d.firewall.unban(b.addr);
    }
    let next = Infinity;
    for (const b of this.bans.values()) if (b.until < next) next = b.until;
    this.nextDue = next;
    if (done.length > 0) this.persist();
  }

  /** The network clock moved to `now`: re-read the host's facts, forget old offences, resync. */
  tick(now: number): void {
    if (now > this.now) this.now = now;
    if (now >= this.nextPoll) {
      this.nextPoll = now + POLL_SEC;
      this.refreshFacts(false);
      const horizon = now - this.d.policy.maxTimeSec;
      for (const [k, o] of this.offenders) if (o.last < horizon && !this.bans.has(k)) this.offenders.delete(k);
      if (this.lifted.size > 0) {
        const old = [...this.lifted.valuesOldestFirst()].filter((l) => l.at < horizon);
        for (const l of old) this.lifted.delete(l.addr.text);
        if (old.length > 0) this.persist();
      }
    }
    if (now >= this.nextClienteleSave && this.clienteleWriter !== null) {
      // the first tick only sets the schedule; later ones save what changed
      if (this.nextClienteleSave !== -Infinity) this.clienteleWriter.schedule();
      this.nextClienteleSave = now + CLIENTELE_SAVE_SEC;
    }
    if (now >= this.nextReconsider && this.pending.size > 0) {
      this.nextReconsider = now + 1;
      this.reconsider(now);
    }
    if (now >= this.nextResync) {
      this.nextResync = now + this.d.policy.resyncSec;
      void this.resync(now);
    }
  }

  /**
   * Lift every ban in force that the allowlist now forbids (the host gained an address,
   * a reload added a network): the same check as a new ban, applied to the held ones.
   */
  enforceAllow(t: number): number {
    const out: Ban[] = [];
    for (const b of this.bans.values()) if (this.d.allow.match(b.addr) !== undefined) out.push(b);
    out.sort((x, y) => (x.addr.text < y.addr.text ? -1 : 1));
    if (out.length === 0) return 0;
    this.d.firewall.now = t;
    for (const b of out) {
      this.unsetBan(b.addr.text);
      this.liftedLine(t, b.addr, this.d.allow.match(b.addr)!, 'running');
      this.d.firewall.unban(b.addr);
    }
    this.persist();
    return out.length;
  }

  /** A watcher saw the host's addresses, routes or resolvers change. */
  factsChanged(): void {
    this.factsStale = true;
  }

  private factsOld(): boolean {
    return this.factsStale || this.clockMs() - this.factsAt > FACTS_MAX_AGE_MS;
  }

  private clockMs(): number {
    return this.d.clockMs ? this.d.clockMs() : performance.now();
  }

  private refreshFacts(first: boolean): void {
    this.stats.factsReads++;
    this.factsStale = false;
    this.factsAt = this.clockMs();
    const f = this.d.probe();
    if (this.d.allow.update(f) && !first) {
      this.d.log.info({ allowlist: this.d.allow.describe() }, 'host addresses changed: allowlist updated');
      this.enforceAllow(this.now);
    }
    if (first) {
      this.d.log.info({ allowlist: this.d.allow.describe() }, 'ban allowlist');
      if (f.problems.length) this.d.log.warn({ code: ERR.BAN_SYSTEM, problems: f.problems }, 'could not read every host address source for the ban allowlist');
    }
  }

  // ---------------------------------------------------------------- persistence

  snapshot(): BanState {
    const bans = [...this.bans.values()].map((b) => ({
      addr: b.addr.text,
      family: b.addr.family,
      since: b.since,
      until: b.until,
      offence: b.offence,
      reason: b.reason,
      ...(b.trail !== undefined ? { trail: b.trail } : {}),
    }));
    const offenders = [...this.offenders.values()].map((o) => ({ addr: o.addr.text, family: o.addr.family, offences: o.offences, last: o.last }));
    const lifted: StateLifted[] = [...this.lifted.valuesOldestFirst()].map((l) => ({ addr: l.addr.text, family: l.addr.family, at: l.at }));
    const allows = [...this.manualAllows.values()].map((x) => ({ net: x.net, at: x.at }));
    return { version: STATE_VERSION, backend: this.d.firewall.def.name, saved: this.now, bans, offenders, lifted, allows };
  }

  private persist(): void {
    this.d.state?.writer.schedule();
  }

  /** The bans in force, oldest first (tests, stats). */
  list(): Ban[] {
    return [...this.bans.values()].sort((x, y) => x.since - y.since);
  }

  /**
   * Start-up (with persistence): load the table, compare it with what the firewall holds,
   * and repair the difference in one transaction (start included), so that a restart
   * neither re-bans what is banned nor unbans anything:
   * - a ban of the table the firewall lacks is added with the time it has left;
   * - a ban of the table that expired while iplog was stopped is reported (and deleted
   *   from the firewall if it is still there with more than a moment left);
   * - a ban the firewall holds that the table does not know (a lost state file) is
   *   adopted with the time the firewall gives it (or the base ban time);
   * - everything else is left alone: not removed, not re-added, not duplicated.
   * `now` is the wall clock (seconds): the network clock has not started yet.
   */
  async start(now: number): Promise<void> {
    this.now = Math.max(this.now, now);
    this.d.firewall.now = now;
    const st = this.d.state ? loadState(this.d.state.path, this.d.log, { maxBans: this.limits.maxBans, maxOffenders: this.limits.maxOffenders }) : null;
    const cf = this.d.clienteleFile;
    if (this.d.state !== null && cf !== undefined && this.d.clientele) {
      loadClientele(cf, this.d.clientele, now, this.d.log);
      this.clienteleWriter = new ClienteleWriter(cf, this.d.clientele, () => this.now, this.d.log);
    }
    const p = this.d.policy;
    const desired: Ban[] = [];
    const expired: Ban[] = [];
    // restored entries pass the same never-ban list, host facts and allowlist as a new ban
    const lifted = new Map<string, { addr: BanAddr; why: string }>();
    // what was done by hand (`iplog bans allow`, `del`) holds across restarts
    for (const x of st?.allows ?? []) this.addManualAllow(x.net, x.at);
    for (const l of st?.lifted ?? []) {
      const a = parseTarget(l.addr);
      if (a && now - l.at < p.maxTimeSec) this.lifted.set(a.text, { addr: a, at: l.at });
    }
    for (const b of st?.bans ?? []) {
      const a = parseTarget(b.addr);
      if (!a || this.bans.has(a.text)) continue;
      const ban: Ban = { addr: a, since: b.since, until: b.until, offence: b.offence, reason: b.reason };
      if (b.trail !== undefined) ban.trail = b.trail;
      if (b.until > now) {
        const why = this.d.allow.match(a);
        if (why !== undefined) lifted.set(a.text, { addr: a, why });
        else desired.push(ban);
      } else expired.push(ban);
    }
    for (const o of st?.offenders ?? []) {
      const a = parseTarget(o.addr);
      if (a && now - o.last < p.maxTimeSec && this.offenders.size < this.limits.maxOffenders) this.offenders.set(a.text, { addr: a, offences: o.offences, last: o.last });
    }

    let actual = await this.d.firewall.list();
    let attempt = 0;
    let adopted: Ban[] = [];
    let plan: ReconcilePlan = { add: [], remove: [] };
    for (;;) {
      ({ plan, adopted } = this.plan(desired, expired, actual, now, lifted));
      const anything = plan.add.length + plan.remove.length > 0 || desired.length > 0 || (actual?.length ?? 0) > 0;
      if (!anything) break;
      if (await this.d.firewall.reconcile(plan)) break;
      if (++attempt >= 2) {
        this.d.log.error({ code: ERR.BAN_RECONCILE, plan }, 'could not bring the firewall in line with the ban table');
        break;
      }
      // something lapsed or changed between the listing and the transaction: look again
      actual = await this.d.firewall.list();
    }
    for (const b of [...desired, ...adopted]) this.addBan(b);
    for (const b of expired) {
      this.stats.unbans++;
      this.line('ban.removed', now, b.addr, `BAN: unbanned ${b.addr.text} (expired while iplog was stopped)`, { reason: 'expired while iplog was stopped' });
    }
    for (const { addr, why } of [...lifted.values()].sort((x, y) => (x.addr.text < y.addr.text ? -1 : 1))) this.liftedLine(now, addr, why, 'restore');
    if (this.d.firewall.def.expire) this.d.firewall.expire(p.maxTimeSec);
    if (p.resyncSec > 0 && this.d.state !== null) this.nextResync = now + p.resyncSec;
    this.d.log.info(
      {
        stateFile: this.d.state?.path,
        restored: desired.length,
        expiredWhileStopped: expired.length,
        adopted: adopted.map((b) => b.addr.text),
        added: plan.add.length,
        removed: plan.remove.length,
        listed: actual === null ? null : actual.length,
      },
      'ban table reconciled with the firewall',
    );
    if (st !== null || adopted.length > 0) this.persist();
  }

  /** `BAN: unbanned A (allowlisted: WHY)`: a restored, adopted or held ban the allowlist forbids. */
  private liftedLine(t: number, a: BanAddr, why: string, when: string): void {
    this.stats.unbans++;
    this.stats.liftedAllow++;
    const reason = why.startsWith('allowlisted') ? why : `allowlisted: ${why}`;
    this.line('ban.removed', t, a, `BAN: unbanned ${a.text} (${reason})`, { reason });
    this.d.log.warn({ addr: a.text, allowlist: why, when }, `unbanned ${a.text}: the allowlist forbids this ban`);
  }

  private plan(
    desired: readonly Ban[],
    expired: readonly Ban[],
    actual: readonly ActualBan[] | null,
    now: number,
    lifted: Map<string, { addr: BanAddr; why: string }>,
  ): { plan: ReconcilePlan; adopted: Ban[] } {
    const kernel = this.d.firewall.kernelExpiry;
    const held = new Map((actual ?? []).map((x) => [x.addr, x]));
    const want = new Set(desired.map((b) => b.addr.text));
    const add: { addr: string; family: Family; seconds: number }[] = [];
    const remove: { addr: string; family: Family }[] = [];
    for (const b of desired) {
      const h = held.get(b.addr.text);
      const left = Math.max(1, Math.ceil(b.until - now));
      if (h === undefined) add.push({ addr: b.addr.text, family: b.addr.family, seconds: left });
      else if (kernel && h.seconds === null) {
        // a timeout set holding a permanent element: make it expire
        remove.push({ addr: b.addr.text, family: b.addr.family });
        add.push({ addr: b.addr.text, family: b.addr.family, seconds: left });
      }
    }
    const gone = new Set(expired.map((b) => b.addr.text));
    const adopted: Ban[] = [];
    for (const h of actual ?? []) {
      if (want.has(h.addr)) continue;
      if (gone.has(h.addr)) {
        if (!kernel || h.seconds === null || h.seconds > LAPSE_SEC) remove.push({ addr: h.addr, family: h.family });
        continue;
      }
      const a = parseTarget(h.addr)!;
      // lifted by hand (`iplog bans del`) while its firewall element stayed: it goes, not adopted
      if (this.lifted.peek(a.text) !== undefined) {
        this.stats.liftedIgnored++;
        remove.push({ addr: h.addr, family: h.family });
        continue;
      }
      // the firewall's entries too: never keep the host, loopback or an allowlisted peer locked out
      const why = this.d.allow.match(a);
      if (why !== undefined) {
        remove.push({ addr: h.addr, family: h.family });
        if (!lifted.has(a.text)) lifted.set(a.text, { addr: a, why });
        continue;
      }
      const seconds = h.seconds ?? this.d.policy.timeSec;
      const o = this.offenders.get(a.text);
      adopted.push({ addr: a, since: now, until: now + seconds, offence: o?.offences ?? 1, reason: 'found in the firewall at start' });
      if (kernel && h.seconds === null) {
        remove.push({ addr: h.addr, family: h.family });
        add.push({ addr: h.addr, family: h.family, seconds });
      }
    }
    return { plan: { add, remove }, adopted };
  }

  /**
   * Periodic repair: bans of the table the firewall no longer holds (a restarted firewall
   * service wiped the sets, an ipset timeout capped at 24.8 days ran out) are added again
   * with the time they have left. Nothing is removed here.
   */
  async resync(now: number): Promise<void> {
    if (this.resyncing || this.d.firewall.dryRun) return;
    this.resyncing = true;
    try {
      // pf: whatever is older than the longest ban goes (a safety net for crashes)
      if (this.d.firewall.def.expire) this.d.firewall.expire(this.d.policy.maxTimeSec);
      const snapshot = [...this.bans.values()];
      const actual = await this.d.firewall.list();
      if (actual === null) return;
      this.stats.resyncs++;
      const held = new Set(actual.map((x) => x.addr));
      const t = Math.max(now, this.now);
      const add = snapshot
        .filter((b) => this.bans.get(b.addr.text) === b && !held.has(b.addr.text) && b.until - t > LAPSE_SEC)
        .map((b) => ({ addr: b.addr.text, family: b.addr.family, seconds: Math.ceil(b.until - t) }));
      if (add.length === 0) return;
      this.stats.resyncRepairs += add.length;
      this.d.log.warn({ missing: add.map((x) => x.addr) }, 'bans missing from the firewall: adding them again');
      await this.d.firewall.reconcile({ add, remove: [] });
    } finally {
      this.resyncing = false;
    }
  }

  // ---------------------------------------------------------------- fleet decisions

  /**
   * A ban decided elsewhere in the fleet (CrowdSec decision stream, decision-stream.ts),
   * applied through the normal path: the allowlist (re-read host facts included) and the
   * table bound may refuse it (`BAN: not banning A (why)`, once per address per window,
   * counted), else it is a ban of this table with its BAN line, firewall command and
   * state entry. It is not scored, not an offence here, and not held to the local budget
   * (the sensor that decided it had its own). An address banned already stays as it is.
   * Returns whether the address is banned now.
   */
  fleetBan(a: BanAddr, seconds: number, why: string): boolean {
    const t = this.now;
    if (this.factsOld()) this.refreshFacts(false);
    const lift = this.lifted.peek(a.text);
    const allow = this.d.allow.match(a) ?? (lift !== undefined ? 'lifted by hand (iplog bans del)' : undefined);
    if (allow !== undefined) {
      this.stats.refusedAllow++;
      const last = this.notices.get(a.text);
      if (last === undefined || t - last >= this.d.policy.windowSec) {
        this.notices.set(a.text, t);
        this.line('ban.refused', t, a, `BAN: not banning ${a.text} (${allow})`, { reason: allow, fleet: why });
        this.d.log.info({ explain: { decision: 'allowlisted', addr: a.text, fleet: why, allowlist: allow } }, `not banning ${a.text}`);
      }
      return false;
    }
    if (this.bans.has(a.text)) return true;
    if (this.bans.size >= this.limits.maxBans) {
      this.stats.refusedTableFull++;
      this.d.log.warn({ addr: a.text, fleet: why, maxBans: this.limits.maxBans }, 'ban table full: fleet decision not applied');
      return false;
    }
    const reason = `fleet: ${why}`;
    const ban: Ban = { addr: a, since: t, until: t + seconds, offence: 0, reason };
    this.setBan(ban);
    if (ban.until < this.nextDue) this.nextDue = ban.until;
    this.stats.bans++;
    this.stats.fleetBans++;
    this.d.firewall.now = t;
    this.line('ban.added', t, a, `BAN: banned ${a.text} for ${seconds} seconds (${reason})`, { seconds, until: ban.until, reason, fleet: why });
    this.d.log.info({ explain: { decision: 'ban', addr: a.text, fleet: why, seconds, until: ban.until, backend: this.d.firewall.def.name } }, `banned ${a.text}`);
    this.d.firewall.ban(a, seconds);
    this.persist();
    return true;
  }

  /** The fleet deleted its decision: lift the ban if it came from the fleet (a local one stays). */
  fleetLift(a: BanAddr, why: string): boolean {
    const b = this.bans.get(a.text);
    if (b === undefined || !b.reason.startsWith('fleet: ')) return false;
    const t = this.now;
    this.unsetBan(a.text);
    this.stats.unbans++;
    this.stats.fleetLifts++;
    this.d.firewall.now = t;
    this.line('ban.removed', t, a, `BAN: unbanned ${a.text} (fleet: ${why})`, { reason: `fleet: ${why}` });
    this.d.log.info({ addr: a.text, fleet: why }, `unbanned ${a.text}`);
    this.d.firewall.unban(a);
    this.persist();
    return true;
  }

  // ---------------------------------------------------------------- by hand (iplog bans, control.ts)

  /** The network time of an operator's action: wall time `wall`, never before the clock. */
  private manualTime(wall: number): number {
    const t = Math.max(this.now, wall);
    this.now = t;
    this.d.firewall.now = t;
    return t;
  }

  /**
   * `iplog bans add ADDR [--for DUR]`: a ban by hand. It passes the never-ban list, the
   * host's addresses and the allowlist like any ban (a refusal is returned, nothing is
   * banned), not the budget (the operator decided); it is an offence like another, lasts
   * `seconds` or the duration of that offence, and persists in the state file. An address
   * banned already is banned again for the new duration. Returns the ban or the refusal.
   */
  manualBan(a: BanAddr, seconds: number | undefined, wall: number): { ban: Ban } | { refused: string } {
    const t = this.manualTime(wall);
    if (this.factsOld()) this.refreshFacts(false);
    const why = this.d.allow.match(a);
    if (why !== undefined) {
      this.stats.refusedAllow++;
      this.d.log.warn({ addr: a.text, allowlist: why }, `not banning ${a.text} by hand: ${why}`);
      return { refused: why };
    }
    const old = this.bans.get(a.text);
    if (old === undefined && this.bans.size >= this.limits.maxBans) {
      this.stats.refusedTableFull++;
      return { refused: `ban table full: ${this.limits.maxBans} bans` };
    }
    const o = this.offenders.get(a.text);
    const prior = old !== undefined ? old.offence - 1 : o !== undefined && t - o.last < this.d.policy.maxTimeSec ? o.offences : 0;
    const offence = prior + 1;
    const secs = Math.max(1, Math.round(seconds ?? this.durationOf(offence)));
    const reason = `by hand; offence ${offence}`;
    const ban: Ban = { addr: a, since: t, until: t + secs, offence, reason };
    ban.trail = { decision: 'ban', addr: a.text, manual: true, events: [], rule: 'iplog bans add (control socket)', offence, seconds: secs, until: ban.until, duration: seconds !== undefined ? `--for ${secs} s` : `min(${this.d.policy.timeSec} × ${this.d.policy.factor}^${offence - 1}, ${this.d.policy.maxTimeSec}) = ${secs} s`, backend: this.d.firewall.def.name };
    this.scores.delete(a.text);
    this.pending.delete(a.text);
    if (old !== undefined) {
      this.unsetBan(a.text);
      // a kernel element keeps its first timeout: replace it
      this.d.firewall.unban(a);
    }
    this.addBan(ban);
    this.stats.bans++;
    this.stats.manualBans++;
    this.line('ban.added', t, a, `BAN: banned ${a.text} for ${secs} seconds (${reason})`, { seconds: secs, until: ban.until, offence, reason, manual: 1 });
    this.d.log.info({ explain: ban.trail }, `banned ${a.text} by hand`);
    this.d.firewall.ban(a, secs, { reason, score: 0, offence, events: [] });
    this.persist();
    return { ban };
  }

  /**
   * `iplog bans del ADDR`: lift a ban by hand, and make it stick. The ban leaves the table
   * (so the resync does not put it back), its firewall element is deleted (the kernel's
   * too), the evidence gathered so far is forgotten, and a persistent "lifted" mark says
   * that events up to now, a firewall element found at the next start and the fleet's
   * decisions do not ban it again; only new evidence does (the mark is then dropped) or
   * `iplog bans add`. An address that is not banned is marked and deleted from the
   * firewall all the same (an element iplog did not know). Returns the ban lifted, if any.
   */
  manualLift(a: BanAddr, wall: number): Ban | undefined {
    const t = this.manualTime(wall);
    const b = this.bans.get(a.text);
    this.scores.delete(a.text);
    this.pending.delete(a.text);
    // a prefix lifted by hand: its offenders so far do not make it again (new bans do)
    this.prefixOffenders.delete(a.text);
    if (this.lifted.set(a.text, { addr: a, at: t }) !== undefined) this.stats.liftedEvictions++;
    this.stats.manualLifts++;
    if (b !== undefined) {
      this.unsetBan(a.text);
      this.stats.unbans++;
      this.line('ban.removed', t, a, `BAN: unbanned ${a.text} (lifted by hand)`, { reason: 'lifted by hand' });
    }
    this.d.log.info({ addr: a.text, wasBanned: b !== undefined }, `unbanned ${a.text} by hand`);
    // whether iplog knew it or not: the firewall must not hold it
    this.d.firewall.unban(a);
    this.persist();
    return b;
  }

  /**
   * `iplog bans allow NET`: never ban NET from now on (persistent, like `--ban-allow`);
   * bans in force inside it are lifted (`BAN: unbanned A (allowlisted by NET (by hand))`).
   * Returns the addresses lifted, or an error text.
   */
  manualAllow(text: string, wall: number): { lifted: string[] } | { error: string } {
    const t = this.manualTime(wall);
    const r = parseNet(text);
    if (r === undefined) return { error: `invalid address or network: "${text}"` };
    if (!this.manualAllows.has(r.text) && this.manualAllows.size >= MAX_MANUAL_ALLOW) return { error: `too many networks allowed by hand (${MAX_MANUAL_ALLOW})` };
    this.addManualAllow(r.text, t);
    this.stats.manualAllows++;
    const before = new Set(this.bans.keys());
    this.enforceAllow(t);
    this.persist();
    return { lifted: [...before].filter((k) => !this.bans.has(k)).sort() };
  }

  /** `iplog bans allow --del NET`: forget a network allowed by hand; false if it was not. */
  manualDisallow(text: string): boolean {
    const r = parseNet(text);
    if (r === undefined || !this.manualAllows.delete(r.text)) return false;
    this.d.allow.removeManual(r.text);
    this.persist();
    return true;
  }

  private addManualAllow(net: string, at: number): void {
    const r = parseNet(net);
    if (r === undefined) return;
    if (!this.manualAllows.has(r.text) && this.manualAllows.size >= MAX_MANUAL_ALLOW) return;
    this.manualAllows.set(r.text, { net: r.text, at });
    this.d.allow.addManual(r.text);
  }

  /** Addresses lifted by hand and still marked, oldest first. */
  liftedList(): { addr: string; at: number }[] {
    return [...this.lifted.valuesOldestFirst()].map((l) => ({ addr: l.addr.text, at: l.at }));
  }

  /** The network clock (seconds). */
  get networkTime(): number {
    return this.now;
  }

  get backendName(): string {
    return this.d.firewall.def.name;
  }

  /** The networks allowed by hand, oldest first. */
  manualAllowList(): { net: string; at: number }[] {
    return [...this.manualAllows.values()];
  }

  /**
   * What the manager knows about `a` (`iplog bans show`): its ban and the explain trail
   * of the decision, the evidence scored so far, its offences, a lift by hand, and what
   * the allowlist says.
   */
  explainAddr(a: BanAddr): Record<string, unknown> {
    const b = this.bans.get(a.text);
    const s = this.scores.peek(a.text);
    const from = this.now - this.d.policy.windowSec;
    const hits = (s?.hits ?? []).filter((h) => h.t > from);
    const o = this.offenders.get(a.text);
    const l = this.lifted.peek(a.text);
    const p = this.pending.peek(a.text);
    return {
      addr: a.text,
      family: a.family,
      now: this.now,
      banned: b !== undefined,
      ban: b === undefined ? null : { since: b.since, until: b.until, left: Math.max(0, Math.ceil(b.until - this.now)), offence: b.offence, reason: b.reason },
      trail: b?.trail ?? null,
      score: {
        value: hits.reduce((x, h) => x + h.w, 0),
        threshold: this.d.policy.threshold,
        windowSec: this.d.policy.windowSec,
        events: hits.map((h) => ({ time: h.t, kind: h.kind, detector: h.detector, title: h.title, weight: h.w, ...h.grade })),
      },
      waitingForBudget: p !== undefined ? { since: p.since, events: p.hits.length } : null,
      offences: o === undefined ? 0 : o.offences,
      lastBanEnd: o?.last ?? null,
      lifted: l === undefined ? null : { at: l.at },
      allowlisted: this.d.allow.match(a) ?? null,
      ...(a.len !== undefined ? { prefix: a.len } : {}),
      coveredBy: this.coveredBy(a)?.addr.text ?? null,
      prefixOffenders: (() => {
        const r = a.family === 6 ? this.prefixOffenders.peek(a.len === undefined ? prefixAddr(a, 64).text : a.text) : undefined;
        return r === undefined ? null : [...r].map(([k, m]) => ({ addr: k, time: m.t }));
      })(),
    };
  }

  /**
   * A reload (SIGHUP) with new ban settings: the policy (weights, threshold, window,
   * durations, budgets, resync) applies from now on; bans in force keep their end. The
   * caller has configured the allowlist anew: bans it now forbids are lifted here.
   */
  reconfigure(policy: BanPolicy, allow: { configured: readonly string[]; home: readonly string[] }, wall: number): number {
    // throws on an invalid network, changing nothing
    this.d.allow.configure(allow.configured, allow.home);
    const old = this.d.policy;
    this.d.policy = policy;
    if (policy.resyncSec !== old.resyncSec) this.nextResync = policy.resyncSec > 0 && this.d.state !== null ? Math.max(this.now, wall) + policy.resyncSec : Infinity;
    return this.enforceAllow(this.manualTime(wall));
  }

  private readonly closers: (() => void)[] = [];

  /** Run `f` when the manager closes (watchers). */
  onClose(f: () => void): void {
    this.closers.push(f);
  }

  /** Wait for the firewall commands and the state file. Bans stay in the firewall. */
  async close(): Promise<void> {
    for (const f of this.closers.splice(0)) f();
    await this.d.firewall.idle();
    await this.d.state?.writer.flush();
    if (this.clienteleWriter !== null) {
      this.clienteleWriter.schedule();
      await this.clienteleWriter.flush();
    }
    this.d.log.info({ stats: this.stats, clientele: this.d.clientele?.stats, bans: this.bans.size, firewall: this.d.firewall.def.name }, 'ban manager stopped');
  }
}

/**
 * The evidence policy of the ban manager (MODERN.md §3.3 and §5.7, issue 13): what a
 * crossing of the ban threshold may do, by the grade of the evidence behind it
 * (src/evidence/grade.ts):
 *
 *  - proven evidence (a connect-probe handshake, log evidence: spoofable 0 or proof)
 *    bans normally: full duration, escalation;
 *  - spoofable evidence bans only **with protection** (`--ban-evidence protected`, the
 *    default): never a member of the clientele (src/evidence/clientele.ts), never a
 *    member of a decoy group (below), a short duration (`--ban-protected-time`, default
 *    10 min, never longer than `--ban-time`) without escalation, and within the global
 *    and per-/24 / per-/48 budgets like every ban. `--ban-evidence proven` refuses it;
 *    `--ban-evidence any` bans it like proven evidence (the behaviour before grades);
 *  - reflector, aggregate and decoy evidence never bans, whatever the mode.
 *
 * A crossing on spoofable evidence is held DECOY_HOLD_SEC of packet time before it is
 * decided: a connect-probe that completes meanwhile proves a port-scan (nmap -sT's
 * handshakes may finish after its SYNs crossed the detector's threshold), and decoy
 * groups form. Decoy groups (nmap -D): at least DECOY_MIN sources alarmed for scans of the same
 * destination within DECOY_WINDOW_SEC with destination-port sets alike (Jaccard >=
 * DECOY_JACCARD) make every unproven member a decoy: none of them is banned (a proven
 * member bans at once, unheld). Both tables are bounded (MAX_ALARMS alarms in a ring,
 * MAX_HELD crossings held; the oldest held is decided early when full, `heldEvictions`).
 */
import type { SourceRole } from '../evidence/grade';
import { isProven } from '../evidence/grade';
import { DETECTORS } from '../detect/index';

export type EvidenceMode = 'proven' | 'protected' | 'any';
export const EVIDENCE_MODES: readonly EvidenceMode[] = ['proven', 'protected', 'any'];
export const PROTECTED_SEC = 600;
export const DECOY_HOLD_SEC = 2;
export const DECOY_WINDOW_SEC = 10;
export const DECOY_MIN = 3;
export const DECOY_JACCARD = 0.8;
export const MAX_ALARMS = 1024;
export const MAX_HELD = 4096;

export type GradeFields = Record<string, string | number | boolean>;

export interface HitGrade {
  spoofable: number;
  proof: boolean;
  source_role: SourceRole;
}

const ROLE = new Set<string>(['attacker', 'reflector', 'aggregate', 'decoy']);

/**
 * The grade of one scored event: its own fields when it carries them, else by kind
 * (log evidence is proven; a detector's declaration; any other packet evidence is
 * spoofable 3).
 */
export function hitGrade(kind: string, detector: string | null, g: GradeFields | undefined): HitGrade {
  if (g !== undefined && typeof g.spoofable === 'number') {
    const role = typeof g.source_role === 'string' && ROLE.has(g.source_role) ? (g.source_role as SourceRole) : 'attacker';
    return { spoofable: g.spoofable, proof: g.proof === true, source_role: role };
  }
  if (kind === 'log.match') return { spoofable: 0, proof: true, source_role: 'attacker' };
  if (kind === 'scan.detected' && detector !== null) {
    const ev = DETECTORS.find((d) => d.name === detector)?.evidence;
    if (ev !== undefined) return { spoofable: ev.spoofable, proof: false, source_role: ev.role };
  }
  return { spoofable: 3, proof: false, source_role: 'attacker' };
}

/** Can a connect-probe prove this detector's evidence (port-scan: connect() scans)? */
export function provable(detector: string | null): boolean {
  return detector !== null && DETECTORS.find((d) => d.name === detector)?.evidence?.provable === true;
}

/** The grade of a crossing: proven if any of its events is; else the least spoofable. */
export function crossingGrade(grades: readonly HitGrade[]): { proven: boolean; spoofable: number; proof: boolean } {
  let spoofable = 3;
  let proof = false;
  let proven = false;
  for (const g of grades) {
    if (isProven(g)) proven = true;
    if (g.proof) proof = true;
    if (g.spoofable < spoofable) spoofable = g.spoofable;
  }
  return { proven, spoofable, proof };
}

interface Alarm {
  src: string;
  dst: string;
  ports: readonly number[];
  t: number;
}

function jaccard(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 && b.length === 0) return 1;
  let inter = 0;
  for (const x of a) if (b.includes(x)) inter++;
  return inter / (a.length + b.length - inter);
}

/** The recent scan alarms per destination, for decoy groups (a bounded ring). */
export class DecoyGroups {
  private readonly ring: (Alarm | undefined)[] = new Array<Alarm | undefined>(MAX_ALARMS);
  private n = 0;

  record(src: string, dst: string, ports: readonly number[], t: number): void {
    this.ring[this.n++ % MAX_ALARMS] = { src, dst, ports, t };
  }

  /** The alarm of `src` closest to `t`, if any. */
  private own(src: string, t: number): Alarm | undefined {
    let best: Alarm | undefined;
    for (const a of this.ring) if (a !== undefined && a.src === src && Math.abs(a.t - t) <= DECOY_WINDOW_SEC && (best === undefined || Math.abs(a.t - t) < Math.abs(best.t - t))) best = a;
    return best;
  }

  /**
   * The decoy group `src` belongs to at `t`: the destination and the number of distinct
   * sources (itself included) alarmed for it within the window with alike ports; null
   * when it is no group of DECOY_MIN or more.
   */
  group(src: string, t: number): { dst: string; sources: number } | null {
    const me = this.own(src, t);
    if (me === undefined) return null;
    const seen = new Set<string>([src]);
    for (const a of this.ring) {
      if (a === undefined || a.dst !== me.dst || seen.has(a.src) || Math.abs(a.t - me.t) > DECOY_WINDOW_SEC) continue;
      if (jaccard(a.ports, me.ports) >= DECOY_JACCARD) seen.add(a.src);
    }
    return seen.size >= DECOY_MIN ? { dst: me.dst, sources: seen.size } : null;
  }
}

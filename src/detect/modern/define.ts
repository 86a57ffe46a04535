/**
 * The modern profile's detector contract. Each detector is one file in this directory with
 * a declarative definition — what it counts, its key and unit, window, threshold, hold,
 * the line title, how far its evidence can be trusted (CrowdSec's `spoofable` 0-3 scale and
 * the source's role) and its known false positives — registered with one line in
 * `index.ts`. The per-packet code that feeds them is `engine.ts` (roles, contacts and
 * outcomes); the registry is what docs/detectors.md is rendered from.
 */
import type { ResolveKind } from '../define';

export type SourceRole = 'attacker' | 'reflector' | 'aggregate' | 'decoy';

export interface ModernDetectorDef {
  /** slot in the per-source detector records (scope `source`), and output order */
  readonly index: number;
  /**
   * what the detector is keyed by: `source` (a record per source, src/detect/modern/engine.ts),
   * `aggregate` (per destination, many sources: src/detect/modern/aggregates.ts; its lines say
   * `from many sources` and carry no source address), `packet` (judged packet by packet,
   * e.g. tiny fragments). Default `source`; the registry lists `source` detectors first.
   */
  readonly scope?: 'source' | 'aggregate' | 'packet';
  /** JSON `kind` when not `scan.detected` (e.g. `frag.tiny`) */
  readonly kind?: string;
  /** JSON `detector`, e.g. `ack-scan` */
  readonly name: string;
  /** the line's title, iplog's grammar: `<title> detected[ to D][ ports] from S[ ports]` */
  readonly title: string;
  /** the iplog.conf `set` keyword / flag that enables it (shared with compat where the detector exists there) */
  readonly flag: 'portscan' | 'null_scan' | 'fin_scan' | 'syn_scan' | 'xmas_scan' | 'udp_scan' | 'smurf' | 'ping_flood' | 'syn_flood' | 'frag';
  /** what is keyed and counted */
  readonly key: string;
  readonly unit: string;
  /** how it decides */
  readonly algorithm: string;
  /** the number that puts a source in mode (its unit is `unit`) */
  readonly threshold: number;
  /** seconds of packet time the threshold must be reached within (0: no window, TRW) */
  readonly windowSec: number;
  /** seconds the line waits after the threshold so that its port list means something (0: at once) */
  readonly holdSec: number;
  /** seconds without a counted packet after which an episode ends ("mode expired") */
  readonly endSec: number;
  readonly spoofable: 0 | 1 | 2 | 3;
  readonly role: SourceRole;
  readonly resolve: ResolveKind;
  readonly falsePositives: string;
  /** the state it keeps and its bound (docs/detectors.md) */
  readonly bounds?: string;
}

export function defineModern(d: ModernDetectorDef): ModernDetectorDef {
  return Object.freeze(d);
}

/** TRW (Jung, Paxson, Berger, Balakrishnan 2004) with theta0 0.8, theta1 0.2, alpha 0.01, beta 0.99. */
export const TRW = Object.freeze({
  theta0: 0.8,
  theta1: 0.2,
  alpha: 0.01,
  beta: 0.99,
  /** ln eta1 / ln 4 = ln 99 / ln 4 = 3.31: the alarm at F - S >= 4 */
  alarm: Math.ceil(Math.log(0.99 / 0.01) / Math.log((1 - 0.2) / (1 - 0.8))),
  /** the reflecting floor (ln eta0 / ln 4, rounded away from zero): S - F never below -4 */
  floor: -Math.ceil(-Math.log((1 - 0.99) / (1 - 0.01)) / Math.log(0.8 / 0.2)),
});

/** seconds a contact waits for an answer before it is SILENT (packet clock) */
export const GRACE_SEC = 3;
/** seconds of idleness after which a source's TRW scores are forgotten (trw.bro's 30 min) */
export const TRW_MEMORY_SEC = 1800;

/**
 * Pending first contacts (judged SYNs not yet resolved) a source with a record may hold to
 * the destination it scans; its further SYNs to it are counted on its episode without a
 * contact until some resolve (engine.ts inModeSyn). At least the port list's 10 and TRW's 4,
 * so the decision is the same; far above what a client holds (one contact per port, however
 * many connections it makes to it).
 */
export const PENDING_QUOTA = 64;

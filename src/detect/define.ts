/**
 * The detector contract. In iplog 2.2.3 every scan/flood detector is the same counting
 * machine (detect/scan-table.ts) with its own threshold, timeout, wording and resolver
 * choice; what selects a packet for a detector lives in the protocol handlers
 * (detect/tcp.ts, udp.ts, icmp.ts), in the original's exact order. A detector file
 * therefore declares its parameters and documents its algorithm, bounds and false
 * positives; `index.ts` registers it with one line.
 */
import type { DetectorEvidence } from '../evidence/grade';

export type ResolveKind = 'tcp' | 'udp' | 'icmp' | 'never';

export interface DetectorDef {
  /** slot in the scan table's sub-records, and output order (iplog's scan[] index) */
  readonly index: number;
  /** config/anomaly name, e.g. `xmas-scan` */
  readonly name: string;
  /** the iplog wording, e.g. `TCP: Xmas scan` */
  readonly title: string;
  /** the flag (iplog.conf `set` keyword) that enables it */
  readonly flag: 'portscan' | 'null_scan' | 'fin_scan' | 'syn_scan' | 'xmas_scan' | 'udp_scan' | 'smurf' | 'ping_flood';
  /** packets per (source, destination) pair that put the pair "in mode" */
  readonly threshold: number;
  /** seconds of packet time after the last counted packet before the episode ends */
  readonly timeoutSec: number;
  /** which resolve flag governs host names in its lines */
  readonly resolve: ResolveKind;
  /** one-line description of what is counted, for docs/detectors.md */
  readonly counts: string;
  /**
   * How forgeable its evidence is (MODERN.md §3.3; JSON detail.spoofable / proof /
   * source_role, src/evidence/grade.ts). Default: spoofable 3, source_role attacker.
   */
  readonly evidence?: DetectorEvidence;
}

export function defineDetector(d: DetectorDef): DetectorDef {
  return Object.freeze(d);
}

/** Port lists in detection lines hold at most this many distinct ports (iplog_scan.h). */
export const SCAN_SRC_PORTS = 5;
export const SCAN_DST_PORTS = 10;

/**
 * At most this many detectors: the scan table keeps one bit per detector per pair in a
 * 32-bit mask (detect/scan-table.ts); registering more fails at load time.
 */
export const MAX_DETECTORS = 32;

/**
 * The scan table's reports as events: `scan.detected` when a pair reaches a detector's
 * threshold (with the ports it has seen), `scan.expired` when an episode ends. The
 * wording is the line catalogue's (output/lines.ts). A detection carries its evidence
 * grade (detail.spoofable, proof, source_role: src/evidence/grade.ts), asked of `trust`
 * (the handshake tracker, src/evidence/handshake.ts) once per detection, never per packet.
 */
import { DETECTORS } from './index';
import { SCAN_DST_PORTS, SCAN_SRC_PORTS } from './define';
import type { ScanReporter } from './scan-table';
import type { ScanReporter6 } from './scan-table6';
import { IpAddr } from '../net/addr';
import { event, type IplogEvent } from '../output/event';
import { gradeOf, SPOOFABLE_ATTACKER } from '../evidence/grade';
import type { TrustView } from './context';

export function scanReporter(emit: (ev: IplogEvent) => void, trust: () => TrustView | null = () => null): ScanReporter {
  const r = scanReporter6(emit, trust);
  return {
    detected: (type, src, dst, dports, sports, count, bytes, now) => r.detected(type, IpAddr.v4(src), IpAddr.v4(dst), dports, sports, count, bytes, now),
    ended: (type, src, dst, count, bytes, now) => r.ended(type, IpAddr.v4(src), IpAddr.v4(dst), count, bytes, now),
  };
}

/** The same for tables that hold address values (the IPv6 table). */
export function scanReporter6(emit: (ev: IplogEvent) => void, trust: () => TrustView | null = () => null): ScanReporter6 {
  return {
    detected: (type, src, dst, dports, sports, count, bytes, now) => {
      const d = DETECTORS[type]!;
      const t = trust();
      const g = gradeOf(d.evidence ?? SPOOFABLE_ATTACKER, t !== null && t.proven(src, now), t !== null && t.session(src, now));
      emit(
        event('scan.detected', now, src, {
          dst,
          detector: d.name,
          count,
          bytes,
          detail: {
            title: d.title,
            dports,
            dports_truncated: dports.length >= SCAN_DST_PORTS,
            sports,
            sports_truncated: sports.length >= SCAN_SRC_PORTS,
            spoofable: g.spoofable,
            proof: g.proof,
            source_role: g.source_role,
          },
        }),
      );
    },
    ended: (type, src, dst, count, bytes, now) => {
      const d = DETECTORS[type]!;
      emit(event('scan.expired', now, src, { dst, detector: d.name, count, bytes, detail: { title: d.title } }));
    },
  };
}

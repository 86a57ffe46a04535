/**
 * Evidence grades (MODERN.md §3.3, issue 13): how far an event's source address can be
 * trusted, carried additively in the JSON `detail` of every detection and used by the
 * ban manager's policy (src/ban/manager.ts).
 *
 *   spoofable    0..3, CrowdSec's scale: 0 = cannot be forged by spoofing, 3 = easily
 *   proof        the source completed a handshake to our ISN within the episode (a
 *                connect-probe, src/evidence/handshake.ts): it can receive what we send
 *   source_role  attacker | reflector (smurf: the "source" is the reflectors' network)
 *                | aggregate (from many sources: no one address is the attacker)
 *                | decoy (one of several sources scanning alike, without proof)
 *
 * The three fields are always present together, with these types, on the kinds that
 * carry them: scan.detected, tcp.bogus_flags, udp.traceroute, frag.*, log.match (and
 * the ban manager's ban.added / ban.refused). Per-packet lines (connection attempts,
 * datagrams, ICMP) do not carry them; the manager grades those kinds as spoofable 3.
 */
import type { DetailValue } from '../output/event';

export type SourceRole = 'attacker' | 'reflector' | 'aggregate' | 'decoy';
export type Spoofable = 0 | 1 | 2 | 3;

export interface Grade {
  readonly spoofable: Spoofable;
  readonly proof: boolean;
  readonly source_role: SourceRole;
}

/** What a detector's evidence is by itself (before any proof): see DetectorDef.evidence. */
export interface DetectorEvidence {
  readonly spoofable: Spoofable;
  readonly role: SourceRole;
  /** a completed handshake in the episode (a connect() scan) can prove it: spoofable 0 */
  readonly provable?: boolean;
}

/** The default for a detector that declares nothing: packet evidence, easily forged. */
export const SPOOFABLE_ATTACKER: DetectorEvidence = Object.freeze({ spoofable: 3, role: 'attacker' });

/** Shared, frozen detail fragments (no allocation on the emit path). */
export const GRADE_SPOOFABLE: Grade = Object.freeze({ spoofable: 3, proof: false, source_role: 'attacker' });
export const GRADE_PROVEN: Grade = Object.freeze({ spoofable: 0, proof: true, source_role: 'attacker' });
/** a detection from a source that also completed a handshake with us: the address exists, the probes may still be forged */
export const GRADE_SESSION: Grade = Object.freeze({ spoofable: 2, proof: false, source_role: 'attacker' });
export const GRADE_REFLECTOR: Grade = Object.freeze({ spoofable: 3, proof: false, source_role: 'reflector' });
export const GRADE_AGGREGATE: Grade = Object.freeze({ spoofable: 3, proof: false, source_role: 'aggregate' });

/** A detail object holding only the grade (frag.oversized, frag.duplicate). */
export const SPOOFABLE_DETAIL: Readonly<Record<string, DetailValue>> = Object.freeze({ spoofable: 3, proof: false, source_role: 'attacker' });

/**
 * The grade of a detection: `proven` (the source made a connect-probe within the
 * episode) makes provable evidence spoofable 0; for other evidence it only says the
 * address exists (spoofable 2, proof false: the session proves the address, not the probes).
 */
export function gradeOf(ev: DetectorEvidence, proven: boolean, session: boolean): Grade {
  if (ev.role === 'reflector') return GRADE_REFLECTOR;
  if (ev.role === 'aggregate') return GRADE_AGGREGATE;
  if (proven && ev.provable === true) return GRADE_PROVEN;
  if (ev.spoofable === 0) return GRADE_PROVEN;
  if (proven || session) return ev.spoofable > 2 ? GRADE_SESSION : { spoofable: ev.spoofable, proof: false, source_role: ev.role };
  return ev.spoofable === 3 && ev.role === 'attacker' ? GRADE_SPOOFABLE : { spoofable: ev.spoofable, proof: false, source_role: ev.role };
}

/** Is this grade proof enough for a normal ban? (spoofable 0: a handshake or log evidence) */
export function isProven(g: { spoofable?: unknown; proof?: unknown }): boolean {
  return g.proof === true || g.spoofable === 0;
}

export const ROLES: readonly SourceRole[] = ['attacker', 'reflector', 'aggregate', 'decoy'];

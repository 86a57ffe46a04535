/**
 * The event behind every iplog line: the same facts as the text, typed. Detectors and
 * handlers create one per line they emit (never per packet); the emitter hands it,
 * synchronously and before any name is resolved, to subscribers (the ban manager, which
 * acts on addresses, never on names), and, with the finished text, to the sinks (the
 * JSON sink writes both). The wording of each kind's line is in one place: the line
 * catalogue (output/lines.ts).
 *
 * Addresses are named by their role in the line, never by position:
 *   src      the source (for the smurf detector the source network, /24 or /64, as the
 *            line shows it; for ban.* the address acted on)
 *   dst      the destination (null for ban.* and life-cycle kinds)
 *   gateway  the gateway of an ICMP redirect
 *   quoted   the destination quoted in an ICMP error (an unreachable's, a redirect's target)
 *   mask     the address mask of an ICMP mask reply (iplog renders it as a host)
 * Each is an address value of src/net/addr.ts (`IpAddr`: its text is the dotted quad or
 * the RFC 5952 form) or null when the kind has no such role. `family` is src's family.
 *
 * One fixed shape for every kind and the whole run (issue 10: V8 keeps one map, no
 * migration of events that escape to the ban manager or the JSON sink): every field is
 * always present, addresses are always IpAddr or null, numbers are always numbers (-1
 * where the line has none), `detail` is always an object or null.
 */
import type { Family, IpAddr } from '../net/addr';

export type { Family };

export type DetailValue = string | number | boolean | number[] | string[] | null;

export interface IplogEvent {
  /** stable kind, e.g. `tcp.connection_attempt`, `scan.detected` (docs/json-events.md) */
  readonly kind: string;
  /** packet time, whole seconds since the epoch */
  readonly time: number;
  /** address family of the event's addresses */
  readonly family: Family;
  /** null only for an aggregate ("from many sources": no one address is the source) */
  readonly src: IpAddr | null;
  readonly dst: IpAddr | null;
  readonly gateway: IpAddr | null;
  readonly quoted: IpAddr | null;
  readonly mask: IpAddr | null;
  readonly sport: number;
  readonly dport: number;
  /** detector name (`syn-scan`, ...) for scan.* events, else null */
  readonly detector: string | null;
  /** packets (scan.*), -1 if not applicable */
  readonly count: number;
  /** bytes: scan.* byte total, udp.datagram data bytes, icmp/echo length; -1 if not applicable */
  readonly bytes: number;
  /** kind-specific facts (ICMP type/code, port lists, ...), or null */
  readonly detail: Readonly<Record<string, DetailValue>> | null;
}

/** The optional parts of an event, by name (absent: null / -1). */
export interface EventFacts {
  dst?: IpAddr | null;
  gateway?: IpAddr | null;
  quoted?: IpAddr | null;
  mask?: IpAddr | null;
  sport?: number;
  dport?: number;
  detector?: string | null;
  count?: number;
  bytes?: number;
  detail?: IplogEvent['detail'];
}

/**
 * Every event is made by this one object literal, so all have one map. Its first object
 * (made below, at load) holds null in every field: V8 then gives every field the
 * general representation when the first real event stores a number there (a change in
 * place), so a count that is a double in one event and a small integer in the next, a
 * time past 2038, a detail object where another had null, never make a new map and never
 * deprecate the events made before (test/output/event-shape.test.ts checks with
 * %HaveSameMap over a run that makes every kind).
 */
function make(
  kind: string, time: number, family: Family, src: IpAddr | null, dst: IpAddr | null, gateway: IpAddr | null, quoted: IpAddr | null, mask: IpAddr | null,
  sport: number, dport: number, detector: string | null, count: number, bytes: number, detail: IplogEvent['detail'],
): IplogEvent {
  return { kind, time, family, src, dst, gateway, quoted, mask, sport, dport, detector, count, bytes, detail };
}
{
  const n = null as unknown as number;
  make(null as unknown as string, n, n as Family, null as unknown as IpAddr, null, null, null, null, n, n, null, n, n, null);
}

/** An event of `kind` at `time` from `src`; every other fact by name. */
export function event(kind: string, time: number, src: IpAddr, f: EventFacts = {}): IplogEvent {
  return make(kind, time, src.family, src, f.dst ?? null, f.gateway ?? null, f.quoted ?? null, f.mask ?? null, f.sport ?? -1, f.dport ?? -1, f.detector ?? null, f.count ?? -1, f.bytes ?? -1, f.detail ?? null);
}

/**
 * An aggregate detection's event (modern profile: `... detected to D ... from many
 * sources`): no source address (`src` null, JSON `src: null`), the family of `dst`.
 */
export function aggregateEvent(kind: string, time: number, dst: IpAddr, f: EventFacts = {}): IplogEvent {
  return make(kind, time, dst.family, null, dst, f.gateway ?? null, f.quoted ?? null, f.mask ?? null, f.sport ?? -1, f.dport ?? -1, f.detector ?? null, f.count ?? -1, f.bytes ?? -1, f.detail ?? null);
}

export type EventListener = (ev: IplogEvent) => void;

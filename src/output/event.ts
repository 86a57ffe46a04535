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
  readonly src: IpAddr;
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
 * The one class of every event. Its fields are declared (ES2022 class fields: each is
 * defined before the constructor assigns it), so V8 gives every field the general
 * tagged representation from the first event on: a count that is a double in one event
 * and a small integer in the next, a detail object where another had null, never change
 * the map and never deprecate the events already made (test/output/event-shape.test.ts
 * checks with %HaveSameMap over a run that makes every kind).
 */
class Event implements IplogEvent {
  readonly kind: string;
  readonly time: number;
  readonly family: Family;
  readonly src: IpAddr;
  readonly dst: IpAddr | null;
  readonly gateway: IpAddr | null;
  readonly quoted: IpAddr | null;
  readonly mask: IpAddr | null;
  readonly sport: number;
  readonly dport: number;
  readonly detector: string | null;
  readonly count: number;
  readonly bytes: number;
  readonly detail: Readonly<Record<string, DetailValue>> | null;

  constructor(kind: string, time: number, src: IpAddr, f: EventFacts) {
    this.kind = kind;
    this.time = time;
    this.family = src.family;
    this.src = src;
    this.dst = f.dst ?? null;
    this.gateway = f.gateway ?? null;
    this.quoted = f.quoted ?? null;
    this.mask = f.mask ?? null;
    this.sport = f.sport ?? -1;
    this.dport = f.dport ?? -1;
    this.detector = f.detector ?? null;
    this.count = f.count ?? -1;
    this.bytes = f.bytes ?? -1;
    this.detail = f.detail ?? null;
  }
}

const NO_FACTS: EventFacts = Object.freeze({});

/** An event of `kind` at `time` from `src`; every other fact by name. */
export function event(kind: string, time: number, src: IpAddr, f: EventFacts = NO_FACTS): IplogEvent {
  return new Event(kind, time, src, f);
}

export type EventListener = (ev: IplogEvent) => void;

/**
 * The event behind every iplog line: the same facts as the text, typed. Detectors and
 * handlers create one per line they emit (never per packet); the emitter hands it,
 * synchronously and before any name is resolved, to subscribers (the ban manager, which
 * acts on addresses, never on names), and, with the finished text, to the sinks (the
 * JSON sink writes both). One fixed shape for every kind.
 *
 * Addresses are host-order uint32; for the smurf detector `src` is the source /24
 * network (as the line shows it). Ports are -1 where the line has none.
 */
export interface IplogEvent {
  /** stable kind, e.g. `tcp.connection_attempt`, `scan.detected` (docs/json-events.md) */
  readonly kind: string;
  /** packet time, whole seconds since the epoch */
  readonly time: number;
  readonly src: number;
  readonly dst: number;
  readonly sport: number;
  readonly dport: number;
  /** detector name (`syn-scan`, ...) for scan.* events, else null */
  readonly detector: string | null;
  /** packets (scan.*), -1 if not applicable */
  readonly count: number;
  /** bytes: scan.* byte total, udp.datagram data bytes, icmp/echo length; -1 if not applicable */
  readonly bytes: number;
  /** kind-specific facts (ICMP type/code, port lists, ...), or null */
  readonly detail: Readonly<Record<string, string | number | boolean | number[] | null>> | null;
}

export function event(
  kind: string,
  time: number,
  src: number,
  dst: number,
  sport = -1,
  dport = -1,
  detector: string | null = null,
  count = -1,
  bytes = -1,
  detail: IplogEvent['detail'] = null,
): IplogEvent {
  return { kind, time, src: src >>> 0, dst: dst >>> 0, sport, dport, detector, count, bytes, detail };
}

export type EventListener = (ev: IplogEvent) => void;

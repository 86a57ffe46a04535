/**
 * Where finished iplog lines go. `now` is the network time (whole seconds) at which the
 * line was produced; a sink adds its own framing (timestamp, syslog header).
 */
import type { IplogEvent } from '../event';
import type { RoleHosts } from '../lines';

/**
 * The host texts a line was built from, by role, exactly as rendered in it ('' for a role
 * the line does not show): see output/lines.ts.
 */
export type LineHosts = RoleHosts;

export interface LineSink {
  /**
   * `ev` is the event the line tells (absent for lines that are no event, e.g. life cycle);
   * `hosts` the rendered host texts of the line, when it came from the emitter.
   */
  write(now: number, text: string, ev?: IplogEvent, hosts?: LineHosts): void;
  /**
   * Optional: the line of `ev` by its event and host texts, written by the sink itself
   * with the line catalogue's byte writer (lines.ts writeLine()) instead of being given
   * the text: the same line as `write(now, lineText(ev, hosts, logDest), ev, hosts)`.
   */
  line?(now: number, ev: IplogEvent, hosts: LineHosts, logDest: boolean): void;
  /**
   * Optional, the direct path (issue 10): the line of a `tcp.connection_attempt` from its
   * raw facts (IPv4 addresses in host order, shown as addresses, no ident user), written
   * without an event by the line catalogue (lines.ts writeConnectionV4()): the same output
   * as `line()` of the event detect/tcp.ts makes of those facts. The emitter uses it only
   * when nothing else needs the event (no subscriber wants the kind, no name to resolve).
   */
  connectionV4?(now: number, src: number, sport: number, dst: number, dport: number, rawFlags: number, logDest: boolean): void;
  /** push buffered bytes out (end of a chunk, idle link) */
  flush(): void;
  /** end of run: pending repeat counts are written (stamped `now`), then flushed */
  close(now: number): void;
  /**
   * Optional backpressure: a promise while the sink holds more than it wants to (a
   * syslog peer that is slow or away); the replay reader waits on it between chunks.
   */
  ready?(): Promise<void> | undefined;
}

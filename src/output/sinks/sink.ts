/**
 * Where finished iplog lines go. `now` is the network time (whole seconds) at which the
 * line was produced; a sink adds its own framing (timestamp, syslog header).
 */
import type { IplogEvent } from '../event';

/**
 * The host texts a line was built from, exactly as rendered in it (the emitter's three
 * slots): [0] the source; [1] the destination when the line shows it, else '' (for
 * `icmp.redirect` this slot is the gateway); [2] a third host or '' (the quoted
 * destination of an unreachable, a redirect's target, a mask reply's mask).
 */
export type LineHosts = readonly [string, string, string];

export interface LineSink {
  /**
   * `ev` is the event the line tells (absent for lines that are no event, e.g. life cycle);
   * `hosts` the rendered host texts of the line, when it came from the emitter.
   */
  write(now: number, text: string, ev?: IplogEvent, hosts?: LineHosts): void;
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

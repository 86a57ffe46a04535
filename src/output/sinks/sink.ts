/**
 * Where finished iplog lines go. `now` is the network time (whole seconds) at which the
 * line was produced; a sink adds its own framing (timestamp, syslog header).
 */
import type { IplogEvent } from '../event';

export interface LineSink {
  /** `ev` is the event the line tells (absent for lines that are no event, e.g. life cycle) */
  write(now: number, text: string, ev?: IplogEvent): void;
  /** push buffered bytes out (end of a chunk, idle link) */
  flush(): void;
  /** end of run: pending repeat counts are written (stamped `now`), then flushed */
  close(now: number): void;
}

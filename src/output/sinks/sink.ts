/**
 * Where finished iplog lines go. `now` is the network time (whole seconds) at which the
 * line was produced; a sink adds its own framing (timestamp, syslog header).
 */
export interface LineSink {
  write(now: number, text: string): void;
  /** push buffered bytes out (end of a chunk, idle link) */
  flush(): void;
  /** end of run: pending repeat counts are written (stamped `now`), then flushed */
  close(now: number): void;
}

/**
 * Contract between the output stage and the reverse-DNS service (output/resolve.ts).
 * Addresses are host-order uint32 numbers (a.b.c.d = a<<24|b<<16|c<<8|d, `>>> 0`).
 * `now` is network time in whole seconds (packet time), never the wall clock.
 */
export interface HostRenderer {
  /**
   * The text iplog would print for `addr` with resolution on (spec §3.2: the name,
   * `name (a.b.c.d)` with log_ip, or the dotted quad), if it is known without I/O
   * (cache hit, /etc/hosts hit, loopback miss); otherwise undefined.
   */
  renderSync(addr: number, now: number): string | undefined;
  /** The same text, after a lookup if needed. Never rejects; a failure renders the dotted quad. */
  render(addr: number, now: number): Promise<string>;
}

/** Dotted quad of a host-order uint32. */
export function dottedQuad(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

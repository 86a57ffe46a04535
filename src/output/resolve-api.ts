/**
 * Contract between the output stage and the reverse-DNS service (output/resolve.ts).
 * An address is an IPv4 host-order uint32 number (a.b.c.d = a<<24|b<<16|c<<8|d, `>>> 0`)
 * or an IPv6 address as its RFC 5952 text (`2001:db8::1`).
 * `now` is network time in whole seconds (packet time), never the wall clock.
 */
export type HostAddr = number | string;

export interface HostRenderer {
  /**
   * The text iplog would print for `addr` with resolution on (spec §3.2: the name,
   * `name (address)` with log_ip, or the address), if it is known without I/O
   * (cache hit, /etc/hosts hit, loopback miss); otherwise undefined.
   */
  renderSync(addr: HostAddr, now: number): string | undefined;
  /** The same text, after a lookup if needed. Never rejects; a failure renders the address. */
  render(addr: HostAddr, now: number): Promise<string>;
}

/** Dotted quad of a host-order uint32. */
export function dottedQuad(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

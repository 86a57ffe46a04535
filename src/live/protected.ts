/**
 * The live sensor's protected set in the modern profile (issue 9 point 1): the host's own
 * addresses, beside the `-a` and `--home` networks. Read from the interfaces at each
 * (re)start of the engine (src/daemon.ts), so an address added later counts after a SIGHUP.
 * Loopback and link-local addresses are the host's too; IPv6 zone ids are dropped.
 */
import { networkInterfaces } from 'node:os';

export function hostAddresses(list: ReturnType<typeof networkInterfaces> = networkInterfaces()): string[] {
  const out = new Set<string>();
  for (const addrs of Object.values(list)) {
    for (const a of addrs ?? []) out.add(a.address.replace(/%.*$/, ''));
  }
  return [...out];
}

/**
 * Option normalisation after the config file and the command line: iplog 2.2.3's
 * check_options() (spec §1.3, iplog_options.c), the ten steps in their order.
 *
 * Profiles: compat keeps the quirk of step 7 (`--tcp=false` leaves SYN-scan detection
 * on; the engine must cope with SYN-scan as the only scan detector, which crashed the
 * original). modern also turns SYN-scan detection off with TCP.
 */
import type { Settings } from './settings';

export interface CheckDeps {
  /**
   * Step 10: can a raw IP socket be opened (fool_nmap needs one)? Without a probe the
   * step is left to whoever opens the socket (the capture layer), and fool_nmap stays as set.
   */
  canOpenRawSocket?: () => boolean;
}

/** A fatal conflict: the message (without "Fatal: ") and its stable code. */
export interface CheckFailure {
  message: string;
  code: 'IPLOG_ERR_NOTHING_TO_LOG' | 'IPLOG_ERR_PROMISC_IDENT' | 'IPLOG_ERR_BAN_CONFIG';
}

/**
 * Normalise `settings.flags` in place. Returns the fatal conflict, or undefined when the
 * settings are usable.
 */
export function checkOptions(settings: Settings, deps: CheckDeps = {}): CheckFailure | undefined {
  const f = settings.flags;

  // 1. Nothing to capture.
  if (!f.tcp && !f.udp && !f.icmp) return { message: 'Told not to log anything.  Exiting.', code: 'IPLOG_ERR_NOTHING_TO_LOG' };

  // 2. Ident lookups need the local listening sockets, which promisc traffic is not for.
  if (f.promisc && f.get_ident) {
    return { message: 'The promisc and get_ident flags are not compatible.', code: 'IPLOG_ERR_PROMISC_IDENT' };
  }

  // 3. -N clears the three resolve flags; three cleared resolve flags mean -N.
  if (f.disable_resolver) {
    f.tcp_resolve = f.udp_resolve = f.icmp_resolve = false;
  } else if (!f.tcp_resolve && !f.udp_resolve && !f.icmp_resolve) {
    f.disable_resolver = true;
  }

  // 4. SYN-flood handling only stops TCP resolution, so it needs TCP resolution (compat; in
  //    the modern profile the flag is the SYN-flood detector, whose line needs no resolver).
  if (!f.tcp_resolve && settings.profile !== 'modern') f.syn_flood = false;

  // 5. No resolver, no cache.
  if (f.disable_resolver) f.dns_cache = false;

  // 6. Smurf replies are ICMP echo replies or UDP.
  if (!f.icmp && !f.udp) f.smurf = false;

  // 7. TCP detectors need TCP (compat: SYN scan is forgotten, as in 2.2.3).
  if (!f.tcp) {
    f.portscan = f.null_scan = f.fin_scan = f.xmas_scan = false;
    if (settings.profile === 'modern') f.syn_scan = false;
  }

  // 8. Ping floods need ICMP.
  if (!f.icmp) f.ping_flood = false;

  // 9. UDP detectors and the nameserver rules need UDP.
  if (!f.udp) f.udp_scan = f.ignore_dns = false;

  // 10. fool_nmap needs a raw socket; silently off without one.
  if (f.fool_nmap && deps.canOpenRawSocket !== undefined && !deps.canOpenRawSocket()) f.fool_nmap = false;

  // Not in 2.2.3: an invalid ban allowlist entry of iplog.conf is fatal, as on the command line.
  const bad = settings.ban?.invalidAllow;
  if (bad !== undefined && bad.length > 0) return { message: bad.join('\n'), code: 'IPLOG_ERR_BAN_CONFIG' };

  return undefined;
}

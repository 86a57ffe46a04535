/**
 * TCP SYN ("half-open") scan (scan[3]): SYN without ACK and without the IP DF bit, as
 * raw-socket scanners such as nmap -sS send them; kernels set DF on their own SYNs.
 * Bound: the shared scan table. False positives: stacks that do not set DF.
 * IPv6 has no DF bit: there a SYN with at most 4 bytes of TCP options (none, or a lone
 * MSS) counts, kernel connect() SYNs carry more (detect/tcp.ts handleTcp6()).
 */
import { defineDetector } from './define';

export default defineDetector({
  index: 3,
  name: 'syn-scan',
  title: 'TCP: SYN scan',
  flag: 'syn_scan',
  threshold: 10,
  timeoutSec: 50,
  resolve: 'tcp',
  counts: 'SYN without ACK, DF clear',
});

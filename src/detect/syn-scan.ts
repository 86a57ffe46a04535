/**
 * TCP SYN ("half-open") scan (scan[3]): SYN without ACK and without the IP DF bit, as
 * raw-socket scanners such as nmap -sS send them; kernels set DF on their own SYNs.
 * Bound: the shared scan table. False positives: stacks that do not set DF.
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

/**
 * TCP Xmas scan (scan[4]): flags (ECE/CWR cleared) equal to one of FIN+URG+PSH, URG,
 * PSH, FIN+URG, FIN+PSH or URG+PSH. Bound: the shared scan table. False positives: none
 * known in normal traffic.
 */
import { defineDetector } from './define';

export default defineDetector({
  index: 4,
  name: 'xmas-scan',
  title: 'TCP: Xmas scan',
  flag: 'xmas_scan',
  threshold: 10,
  timeoutSec: 50,
  resolve: 'tcp',
  counts: 'TCP flags in {FUP, U, P, FU, FP, UP}',
});

/**
 * TCP null scan (scan[1]): TCP packets whose flags, ECE/CWR cleared, are all zero.
 * Below the threshold such packets are silent (nothing else logs them). Bound: the
 * shared scan table. False positives: none in normal traffic.
 */
import { defineDetector } from './define';

export default defineDetector({
  index: 1,
  name: 'null-scan',
  title: 'TCP: null scan',
  flag: 'null_scan',
  threshold: 10,
  timeoutSec: 50,
  resolve: 'tcp',
  counts: 'TCP flags (ECE/CWR cleared) = 0',
});

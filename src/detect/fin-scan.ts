/**
 * TCP FIN scan (scan[2]): TCP packets whose flags, ECE/CWR cleared, are exactly FIN.
 * Bound: the shared scan table. False positives: a host tearing down many half-dead
 * connections to one peer (bare FINs are rare; FIN+ACK is not counted).
 */
import { defineDetector } from './define';

export default defineDetector({
  index: 2,
  name: 'fin-scan',
  title: 'TCP: FIN scan',
  flag: 'fin_scan',
  threshold: 10,
  timeoutSec: 50,
  resolve: 'tcp',
  counts: 'TCP flags (ECE/CWR cleared) = FIN',
});

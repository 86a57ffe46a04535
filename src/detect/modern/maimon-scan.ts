/** TCP: Maimon scan (modern): distinct (destination, port) FIN+ACK probes with no known flow answered by our RST or by silence. Sliding window over the failing probes. */
import { defineModern } from './define';

export default defineModern({
  index: 5,
  name: 'maimon-scan',
  title: 'TCP: Maimon scan',
  flag: 'portscan',
  key: 'source',
  unit: 'distinct (destination, port) FIN+ACK probes with no known flow answered by our RST or by silence',
  algorithm: 'Sliding window over the failing probes.',
  threshold: 5,
  windowSec: 60,
  holdSec: 2,
  endSec: 60,
  spoofable: 3,
  role: 'attacker',
  resolve: 'tcp',
  falsePositives: 'As ACK scan: late FIN+ACKs of unseen sessions hit one port.',
});

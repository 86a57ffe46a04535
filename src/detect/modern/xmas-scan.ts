/** TCP: Xmas scan (modern): distinct (destination, port) probes with a non-empty set of FIN, PSH, URG other than FIN alone, and no SYN, ACK or RST. Evidence on its own. */
import { defineModern } from './define';

export default defineModern({
  index: 3,
  name: 'xmas-scan',
  title: 'TCP: Xmas scan',
  flag: 'xmas_scan',
  key: 'source',
  unit: 'distinct (destination, port) probes with a non-empty set of FIN, PSH, URG other than FIN alone, and no SYN, ACK or RST',
  algorithm: 'Evidence on its own.',
  threshold: 1,
  windowSec: 0,
  holdSec: 2,
  endSec: 60,
  spoofable: 3,
  role: 'attacker',
  resolve: 'tcp',
  falsePositives: 'None known from conforming stacks.',
});

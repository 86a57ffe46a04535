/** TCP: FIN scan (modern): distinct (destination, port) probes with FIN alone. Evidence on its own (no ACK on a FIN: no conforming stack). */
import { defineModern } from './define';

export default defineModern({
  index: 2,
  name: 'fin-scan',
  title: 'TCP: FIN scan',
  flag: 'fin_scan',
  key: 'source',
  unit: 'distinct (destination, port) probes with FIN alone',
  algorithm: 'Evidence on its own (no ACK on a FIN: no conforming stack).',
  threshold: 1,
  windowSec: 0,
  holdSec: 2,
  endSec: 60,
  spoofable: 3,
  role: 'attacker',
  resolve: 'tcp',
  falsePositives: 'None known from conforming stacks.',
});

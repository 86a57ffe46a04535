/** TCP: ACK scan (modern): distinct (destination, port) ACK probes (ACK, optionally PSH, no known flow) answered by our RST or by silence. Sliding window over the failing probes (ACK and Window scans are the same on the wire). */
import { defineModern } from './define';

export default defineModern({
  index: 4,
  name: 'ack-scan',
  title: 'TCP: ACK scan',
  flag: 'portscan',
  key: 'source',
  unit: 'distinct (destination, port) ACK probes (ACK, optionally PSH, no known flow) answered by our RST or by silence',
  algorithm: 'Sliding window over the failing probes (ACK and Window scans are the same on the wire).',
  threshold: 5,
  windowSec: 60,
  holdSec: 2,
  endSec: 60,
  spoofable: 3,
  role: 'attacker',
  resolve: 'tcp',
  falsePositives: 'Late ACKs of sessions the sensor never saw start reach one service port, never five.',
});

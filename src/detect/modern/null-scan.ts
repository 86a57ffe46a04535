/** TCP: null scan (modern): distinct (destination, port) probes with no flag set. Evidence on its own: no conforming stack sends a segment without flags (RFC 9293: after the SYN every segment carries ACK). */
import { defineModern } from './define';

export default defineModern({
  index: 1,
  name: 'null-scan',
  title: 'TCP: null scan',
  flag: 'null_scan',
  key: 'source',
  unit: 'distinct (destination, port) probes with no flag set',
  algorithm: 'Evidence on its own: no conforming stack sends a segment without flags (RFC 9293: after the SYN every segment carries ACK).',
  threshold: 1,
  windowSec: 0,
  holdSec: 2,
  endSec: 60,
  spoofable: 3,
  role: 'attacker',
  resolve: 'tcp',
  falsePositives: 'None known from conforming stacks; a spoofer can make any address appear.',
});

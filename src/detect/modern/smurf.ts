/** ICMP/UDP: smurf attack (modern): unsolicited echo replies and UDP from port 7 or 19 (no request of ours seen). Per-second ring: a true sliding 10-s window. The source named is the reflectors' network; the victim is us. */
import { defineModern } from './define';

export default defineModern({
  index: 8,
  name: 'smurf',
  title: 'ICMP/UDP: smurf attack',
  flag: 'smurf',
  key: 'reflector network (IPv4 /24, IPv6 /48)',
  unit: 'unsolicited echo replies and UDP from port 7 or 19 (no request of ours seen)',
  algorithm: 'Per-second ring: a true sliding 10-s window. The source named is the reflectors\' network; the victim is us.',
  threshold: 50,
  windowSec: 10,
  holdSec: 0,
  endSec: 60,
  spoofable: 3,
  role: 'reflector',
  resolve: 'never',
  falsePositives: 'Replies to our own echo requests sent before the capture started.',
});

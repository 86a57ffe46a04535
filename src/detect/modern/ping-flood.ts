/** ICMP: ping flood (modern): echo requests. Per-second ring: a true sliding 10-s window. */
import { defineModern } from './define';

export default defineModern({
  index: 7,
  name: 'ping-flood',
  title: 'ICMP: ping flood',
  flag: 'ping_flood',
  key: 'source',
  unit: 'echo requests',
  algorithm: 'Per-second ring: a true sliding 10-s window.',
  threshold: 100,
  windowSec: 10,
  holdSec: 0,
  endSec: 60,
  spoofable: 3,
  role: 'attacker',
  resolve: 'icmp',
  falsePositives: 'Monitoring with very fast pings (e.g. ping -f, or smokeping bursts above 10/s for 10 s).',
});

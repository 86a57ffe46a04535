/** UDP: scan/flood (modern): distinct UDP first contacts (destination, port). (a) Threshold Random Walk over UDP first contacts: +1 for an ICMP unreachable quoting the datagram, -1 for a UDP reply, silence neutral; (b) 20 distinct silent contacts within 60 s. Traceroute probes are left out. */
import { defineModern } from './define';

export default defineModern({
  index: 6,
  name: 'udp-scan',
  title: 'UDP: scan/flood',
  flag: 'udp_scan',
  key: 'source',
  unit: 'distinct UDP first contacts (destination, port)',
  algorithm: '(a) Threshold Random Walk over UDP first contacts: +1 for an ICMP unreachable quoting the datagram, -1 for a UDP reply, silence neutral; (b) 20 distinct silent contacts within 60 s. Traceroute probes are left out.',
  threshold: 4,
  windowSec: 60,
  holdSec: 2,
  endSec: 60,
  spoofable: 3,
  role: 'attacker',
  resolve: 'udp',
  falsePositives: 'A client of many UDP services behind a firewall that answers unreachable (e.g. a misconfigured NTP or DNS client trying every server).',
});

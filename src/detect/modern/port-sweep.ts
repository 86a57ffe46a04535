/** TCP/UDP: port sweep (modern): one source, one port, many protected hosts. */
import { defineModern } from './define';

export default defineModern({
  index: 9,
  name: 'port-sweep',
  title: 'TCP: port sweep',
  flag: 'portscan',
  key: 'source (IPv4 address, IPv6 /64)',
  unit: 'distinct protected destinations whose first contact on one (protocol, port) failed: REJECT or SILENT (TCP: also HALF-OPEN; UDP: an ICMP unreachable or silence)',
  algorithm: 'Sliding window over the failed first contacts of the two (protocol, port) pairs the source fails on most recently; the line names the covering prefix of the destinations hit (`to 198.51.100.0/28`), always, and is written `UDP: port sweep` for UDP. Needs a protected set of more than one address (`--home`, `-a`).',
  threshold: 8,
  windowSec: 60,
  holdSec: 2,
  endSec: 60,
  spoofable: 3,
  role: 'attacker',
  resolve: 'never',
  falsePositives: 'A client whose one service is down on many hosts at once (a monitoring probe of a dead service across a farm); a NAT of many users each failing on the same port.',
  bounds: 'per source: 2 (protocol, port) candidates of 8 destinations each (a 32-byte address and a second), in the source table',
});

/** TCP: decoy scan (modern): several sources scanning one destination alike at once (nmap -D). */
import { defineModern } from './define';

export default defineModern({
  index: 14,
  scope: 'aggregate',
  name: 'decoy-scan',
  title: 'TCP: decoy scan',
  flag: 'portscan',
  key: 'destination (address)',
  unit: 'TCP scan alarms (SYN, null, FIN, Xmas, ACK, Maimon) of one detector against one destination',
  algorithm: 'When a scan line is due, the alarms of the last 10 s against the same destination by the same detector whose failed-port lists are alike (Jaccard >= 0.8) form a group; at 3 sources or more the group is a decoy scan: one `TCP: decoy scan detected to D [ports ...] from many sources` line per episode, and each member keeps its own scan line with `detail.source_role: "decoy"` and `detail.decoy_group` (the group\'s size) unless the member is proven (a completed connect-probe), so the ban manager refuses them all.',
  threshold: 3,
  windowSec: 10,
  holdSec: 0,
  endSec: 60,
  spoofable: 3,
  role: 'aggregate',
  resolve: 'never',
  falsePositives: 'Three unrelated scanners of the same ports of one host within 10 s (internet-wide scanners probing a popular port list): they lose their bans, not their lines.',
  bounds: 'a ring of the last 256 alarms (source slot, detector, destination, second)',
});

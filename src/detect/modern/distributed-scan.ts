/** TCP: distributed scan (modern): many sources, each below the SYN-scan alarm, scanning one destination. */
import { defineModern } from './define';

export default defineModern({
  index: 13,
  scope: 'aggregate',
  name: 'distributed-scan',
  title: 'TCP: distributed scan',
  flag: 'portscan',
  key: 'destination (address)',
  unit: 'failed TCP first contacts (REJECT, HALF-OPEN, SILENT) from sources not individually alarmed for a SYN scan',
  algorithm: 'Sliding 60-s window (6-s buckets): at least the threshold of failed first contacts from at least 10 distinct sources over at least 10 distinct ports (Snort 3\'s distributed portscan, with its port condition; a flood of one port is a SYN flood, not a scan). `TCP: distributed scan detected to D [ports ...] from many sources`, `source_role: "aggregate"`.',
  threshold: 50,
  windowSec: 60,
  holdSec: 0,
  endSec: 60,
  spoofable: 3,
  role: 'aggregate',
  resolve: 'never',
  falsePositives: 'Many clients failing at once on many ports of one host (a host that went down behind a load balancer serving many services).',
  bounds: 'the aggregate table (as syn-flood), 16 distinct ports per entry',
});

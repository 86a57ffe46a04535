/** UDP: flood to closed ports (modern): many datagrams to a port our ICMP port unreachables show closed. */
import { defineModern } from './define';

export default defineModern({
  index: 15,
  scope: 'aggregate',
  name: 'udp-flood',
  title: 'UDP: scan/flood',
  flag: 'udp_scan',
  key: 'destination (address, port) shown closed',
  unit: 'UDP datagrams from originators to a (destination, port) for which the destination answered ICMP port unreachable within the window',
  algorithm: 'Per-second ring, a true sliding 10-s window, kept only for ports shown closed (an entry is made by the first port unreachable quoting a datagram to it). When one source sent at least 90 % of the window\'s datagrams the line is the udp-scan detector\'s (`UDP: scan/flood detected to D [port N] from S [port p]`, `detail.mode: "flood"`), otherwise `UDP: scan/flood detected to D [port N] from many sources` (detector `udp-flood`, `source_role: "aggregate"`). A flood to an open port is never counted: syslog, NetFlow, statsd and RTP senders cannot trip it.',
  threshold: 500,
  windowSec: 10,
  holdSec: 0,
  endSec: 60,
  spoofable: 3,
  role: 'aggregate',
  resolve: 'never',
  falsePositives: 'A sender that keeps streaming to a service that was stopped (a syslog or NetFlow exporter towards a collector that is down): it is reported, and it is not spoofed.',
  bounds: 'the aggregate table (as syn-flood)',
});

/**
 * UDP scan/flood (scan[5]): every UDP datagram with TTL != 1 that the smurf detector did
 * not take. Bound: the shared scan table. False positives: any busy UDP conversation
 * (25 datagrams within 50 s of each other): DNS resolvers, NTP, media streams.
 */
import { defineDetector } from './define';

export default defineDetector({
  index: 5,
  name: 'udp-scan',
  title: 'UDP: scan/flood',
  flag: 'udp_scan',
  threshold: 25,
  timeoutSec: 50,
  resolve: 'udp',
  counts: 'UDP datagrams with TTL other than 1',
});

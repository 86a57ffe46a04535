/**
 * ICMP ping flood (scan[7]): ICMP echo requests per (source, destination). No fixed
 * window: every request extends the 60 s deadline, so one ping every few seconds also
 * reaches 70. Bound: the shared scan table. False positives: long-running monitoring
 * pings (e.g. one per second from a monitoring host).
 */
import { defineDetector } from './define';

export default defineDetector({
  index: 7,
  name: 'ping-flood',
  title: 'ICMP: ping flood',
  flag: 'ping_flood',
  threshold: 70,
  timeoutSec: 60,
  resolve: 'icmp',
  counts: 'ICMP echo requests',
});

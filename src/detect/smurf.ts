/**
 * Smurf attack (scan[6]): ICMP echo replies and UDP datagrams from port 7, counted per
 * (source /24, destination) so that a broadcast amplifier network shares one counter.
 * The source is shown as the /24 network address and never resolved. Bound: the shared
 * scan table. False positives: the replies to a local ping flood (as iplog itself
 * shows on loopback).
 * Evidence: the "source" is the reflectors' network (source_role reflector): never banned.
 */
import { defineDetector } from './define';

export default defineDetector({
  index: 6,
  name: 'smurf',
  title: 'ICMP/UDP: smurf attack',
  flag: 'smurf',
  threshold: 90,
  timeoutSec: 30,
  resolve: 'never',
  counts: 'ICMP echo replies and UDP from port 7, keyed by source /24',
  evidence: { spoofable: 3, role: 'reflector' },
});

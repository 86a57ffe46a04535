/** Tiny IP fragment (modern): a fragment no conforming stack sends (RFC 1858, RFC 791 minimum MTU, RFC 8200/7112). */
import { defineModern } from './define';

export default defineModern({
  index: 16,
  scope: 'packet',
  kind: 'frag.tiny',
  name: 'tiny-fragment',
  title: 'Tiny IP fragment',
  flag: 'frag',
  key: 'source (for the rate of its lines)',
  unit: 'IPv4: a first fragment too short to hold its transport header (TCP < 20 bytes, UDP and ICMP < 8: RFC 1858, the filter-evasion fragment of nmap -f), or a non-final fragment of fewer than 48 data bytes (below what the RFC 791 minimum MTU of 68 requires); IPv6: a non-final fragment in a packet shorter than the 1280-byte minimum MTU (RFC 8200)',
  algorithm: 'Evidence on its own, judged before reassembly (the reassembly still reports overlaps, duplicates and oversized datagrams); at most one line per source per 60 s. `Tiny IP fragment from S` (with -D `Tiny IP fragment to D from S`), JSON kind `frag.tiny`, `detail.reason` `short-first` or `small-nonfinal`, `detail.fragment_offset`, `detail.fragment_bytes`. An IPv6 first fragment without the whole header chain (RFC 7112) is dropped by the decoder and counted (`ipv6.frag_first_incomplete`).',
  threshold: 1,
  windowSec: 0,
  holdSec: 0,
  endSec: 60,
  spoofable: 3,
  role: 'attacker',
  resolve: 'never',
  falsePositives: 'None from conforming stacks (Linux, BSD and Windows fragment at the path MTU, never below 68 bytes for IPv4 or 1280 for IPv6).',
  bounds: 'one second per source, in the source table',
});

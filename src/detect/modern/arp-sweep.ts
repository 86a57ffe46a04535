/** ARP / neighbour-discovery host sweep (modern): one sender asking for many protected addresses on the local link. */
import { defineModern } from './define';

export default defineModern({
  index: 11,
  name: 'arp-sweep',
  title: 'ARP: host sweep',
  flag: 'ping_flood',
  key: 'ARP sender address (IPv4); neighbour-solicitation source /64 (IPv6)',
  unit: 'distinct protected target addresses of ARP who-has requests (Ethernet or Linux cooked frames) or ICMPv6 neighbour solicitations',
  algorithm: 'Sliding 10-s window over distinct targets asked for (the sweep candidates of sweeps.ts). ARP probes (sender 0.0.0.0, RFC 5227), gratuitous ARP and duplicate-address detection (source ::) are not counted. `ARP: host sweep detected to P from S` (IPv6: `ICMPv6: neighbour sweep detected to P from S`), P the covering prefix of the targets. ARP is read from Ethernet and Linux cooked (any device) frames; live, the modern capture filter passes ARP requests for a protected address and every neighbour solicitation.',
  threshold: 8,
  windowSec: 10,
  holdSec: 2,
  endSec: 60,
  spoofable: 3,
  role: 'attacker',
  resolve: 'never',
  falsePositives: 'A router or gateway resolving many neighbours at once (after its cache expired, or when traffic for many hosts arrives); it is not yet excluded automatically.',
  bounds: 'the sweep candidates of the source table (as port-sweep)',
});

/** ICMP: ping sweep (modern): echo requests to many protected hosts, mostly unanswered. */
import { defineModern } from './define';

export default defineModern({
  index: 10,
  name: 'ping-sweep',
  title: 'ICMP: ping sweep',
  flag: 'ping_flood',
  key: 'source (IPv4 address, IPv6 /64)',
  unit: 'distinct protected destinations of first echo contacts (a request to a host the source never pinged before), answered or not, counted when the contact resolves',
  algorithm: 'Sliding window over first echo contacts: repeated pings of the same hosts (monitoring) are known contacts and add nothing. Answers count too: on a LAN the dead addresses of a sweep never reach the wire (ARP fails), so a sweep is seen as its answered part (nmap -sn). The line names the covering prefix of the destinations (`to 198.51.100.0/28`).',
  threshold: 8,
  windowSec: 60,
  holdSec: 2,
  endSec: 60,
  spoofable: 3,
  role: 'attacker',
  resolve: 'never',
  falsePositives: 'A monitor that starts pinging 8 or more protected hosts (smokeping, Nagios): one line when it starts (or when the sensor starts), none for its later rounds, whose contacts are known. The ping-sweep detector has no ban weight by default.',
  bounds: 'per source: 8 destinations (address and second), in the source table',
});

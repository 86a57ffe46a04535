/**
 * Deterministic generator of the ban captures (pcaps/ban/), replayed by the golden suite
 * with the dry-run backend (test/golden/ban/<name>.args). Addresses are from the
 * documentation ranges (RFC 5737) and stay clear of any address a test machine may have
 * (192.0.2.0/24 is avoided: CI machines have been seen to live in it).
 * Run: `npm run build && node dist/test/tools/make-ban-pcaps.js`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePcap, type Frame } from '../helpers/pcap-writer';
import { ipv4, tcp, udp, icmp, ether, SYN } from '../helpers/packets';

const root = join(__dirname, '..', '..', '..', 'pcaps');
const T0 = 1700000000;

/** `n` SYNs without DF (a raw-socket scanner) from `src` to `n` ports of `dst`, 10 ms apart. */
export function synScan(src: string, dst: string, t: number, n = 12, sport = 40000): Frame[] {
  const out: Frame[] = [];
  for (let i = 0; i < n; i++) out.push({ ts: t + i * 0.01, data: ether(ipv4({ src, dst, proto: 6, id: 100 + i }, tcp(sport, 20 + i, SYN))) });
  return out;
}

function ban(): Buffer {
  const frames: Frame[] = [
    // an attacker scans, is banned for 60 s, comes back after the ban: second offence, 120 s
    ...synScan('203.0.113.5', '198.51.100.10', T0),
    ...synScan('203.0.113.5', '198.51.100.10', T0 + 130, 12, 40001),
    // an allowlisted network (--ban-allow 198.51.100.0/24) scans: refused, once
    ...synScan('198.51.100.77', '198.51.100.10', T0 + 2),
    // smurf replies from a /24 of reflectors and a traceroute: logged, never banned
    ...Array.from({ length: 95 }, (_, i) => ({ ts: T0 + 3 + i * 0.01, data: ether(ipv4({ src: `203.0.113.${100 + (i % 20)}`, dst: '198.51.100.10', proto: 1 }, icmp(0, 0, 60))) })),
    { ts: T0 + 5, data: ether(ipv4({ src: '203.0.113.9', dst: '198.51.100.10', proto: 17, ttl: 1 }, udp(40100, 33434, 12))) },
    // loopback never: a scan from 127.0.0.1 (as in the recorded nmap corpus)
    ...synScan('127.0.0.1', '127.0.0.1', T0 + 6),
  ];
  frames.sort((a, b) => a.ts - b.ts);
  return writePcap(frames);
}

function put(rel: string, data: Buffer): void {
  const p = join(root, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, data);
}

if (require.main === module) {
  put('ban/dry-run-repeat-offender.pcap', ban());
  console.log('wrote pcaps/ban/dry-run-repeat-offender.pcap');
}

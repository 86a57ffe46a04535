#!/usr/bin/env node
// `npm run demo`: replays the bundled nmap and hping3 captures (pcaps/conformance/, made
// against 127.0.0.1 in a private namespace, and pcaps/modern/, both directions of a victim
// in namespaces) through iplog in its default (modern) profile and prints what it detects,
// and iplog's summary of each replay. The setup step
// (predemo: scripts/setup.mjs --for demo) has installed libpcap and the build toolchain
// if they were missing, saying so first, and built everything.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const captures = [
  ...readdirSync(join(root, 'pcaps', 'conformance')).filter((f) => /^(nmap_|ping_flood|hping_)/.test(f)).sort().map((f) => join('conformance', f)),
  // the modern corpus: attacks the compat profile does not see, and a busy client it bans
  ...['nmap-sA.pcap', 'nmap-decoy.pcap', 'hping3-syn-flood.pcap', 'traceroute-icmp.pcap', 'benign-many-connections.pcap'].map((f) => join('modern', f)),
].filter((rel) => existsSync(join(root, 'pcaps', rel)));
for (const rel of captures) {
  const args = ['-r', join(root, 'pcaps', rel), '--scans-only'];
  process.stdout.write(`\n$ iplog ${args.map((a) => (a.startsWith('/') ? 'pcaps/' + rel : a)).join(' ')}\n`);
  const r = spawnSync(process.execPath, [join(root, 'bin', 'iplog'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TZ: process.env.TZ ?? 'UTC' },
  });
  process.stdout.write(r.stdout);
  // the end-of-run summary (and any error) iplog writes on standard error
  process.stderr.write(r.stderr);
  if (r.status !== 0) process.exit(r.status ?? 1);
}
process.stdout.write('\nEach capture above was replayed by packet time in the modern profile (the last one, a busy web client, is rightly silent); `--profile compat` replays them as iplog 2.2.3 would, and `iplog -r FILE` without --scans-only also prints every connection attempt, datagram and ICMP message.\n');

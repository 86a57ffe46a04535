#!/usr/bin/env node
// `npm run demo`: replays the bundled nmap captures (pcaps/conformance/nmap_*.pcap, made
// with nmap against 127.0.0.1 in a private namespace) through iplog in the compat
// profile and prints what it detects, and iplog's summary of each replay. The setup step
// (predemo: scripts/setup.mjs --for demo) has installed libpcap and the build toolchain
// if they were missing, saying so first, and built everything.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'pcaps', 'conformance');
const captures = readdirSync(dir).filter((f) => /^(nmap_|ping_flood|hping_)/.test(f)).sort();
for (const name of captures) {
  const args = ['-r', join(dir, name), '--profile', 'compat', '--scans-only'];
  process.stdout.write(`\n$ iplog ${args.map((a) => (a.startsWith('/') ? 'pcaps/conformance/' + name : a)).join(' ')}\n`);
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
process.stdout.write('\nEach capture above was replayed by packet time; `iplog -r FILE` without --scans-only also prints every connection attempt, datagram and ICMP message.\n');

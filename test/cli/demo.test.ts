/**
 * `npm run demo` installs only what the demo needs (scripts/debian-packages.mjs
 * DEMO_DEBIAN: libpcap and the toolchain npm ci builds the native addons with), says
 * so before installing, and works; `npm test` keeps installing the tools the tests drive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

function lists(): { DEMO_DEBIAN: string[]; TEST_DEBIAN: string[] } {
  const mod = join(root, 'scripts', 'debian-packages.mjs');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import * as m from ${JSON.stringify(mod)}; console.log(JSON.stringify(m))`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('the demo installs libpcap and the addon toolchain, nothing the tests drive', () => {
  const { DEMO_DEBIAN, TEST_DEBIAN } = lists();
  assert.deepEqual([...DEMO_DEBIAN].sort(), ['g++', 'libpcap-dev', 'make', 'python3']);
  for (const tool of ['fail2ban', 'rsyslog', 'nmap', 'hping3', 'nftables', 'ipset', 'iptables', 'tcpdump', 'tcpreplay', 'logrotate']) {
    assert.ok(!DEMO_DEBIAN.includes(tool), `${tool} is not the demo's`);
    assert.ok(TEST_DEBIAN.includes(tool), `${tool} is still installed for the tests`);
  }
  for (const p of DEMO_DEBIAN) assert.ok(TEST_DEBIAN.includes(p), `${p}: the tests build the addons too`);
});

test('npm scripts: predemo sets up for the demo, pretest and prebench for the tests', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.predemo, 'node scripts/setup.mjs --for demo');
  assert.equal(pkg.scripts.pretest, 'node scripts/setup.mjs --for test');
  assert.equal(pkg.scripts.prebench, 'node scripts/setup.mjs --for test');
  // the demo's setup never unpacks CrowdSec (a test-only step)
  const setup = readFileSync(join(root, 'scripts', 'setup.mjs'), 'utf8');
  assert.match(setup, /if \(mode === 'test' && process\.platform === 'linux'[^\n]*\n/);
});

test('the demo runs and shows detections', () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'demo.mjs')], { encoding: 'utf8', cwd: root, timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /TCP: SYN scan detected/);
  assert.match(r.stdout, /\$ iplog -r pcaps\/conformance\/nmap_sS\.pcap --scans-only/);
  // the default (modern) profile: attacks 2.2.3 did not see, and no line for a busy client
  assert.match(r.stdout, /TCP: ACK scan detected/);
  assert.match(r.stdout, /TCP: SYN flood detected to 192\.0\.2\.5 \[port 80\] from many sources/);
  const benign = r.stdout.split('$ iplog -r pcaps/modern/benign-many-connections.pcap --scans-only\n')[1];
  assert.ok(benign !== undefined, 'the busy client was replayed');
  assert.doesNotMatch(benign, /detected/, 'a busy client of an open port is no scanner');
});

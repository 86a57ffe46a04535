#!/usr/bin/env node
// Makes a checkout ready to run: Debian packages the tests and the demo need (when
// running as root on Debian and they are missing), npm dependencies (npm ci when
// node_modules is missing or stale), and the TypeScript build. Idempotent and quiet
// when there is nothing to do, so `npm test` and `npm run demo` can call it every time.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (m) => process.stderr.write(`setup: ${m}\n`);

// Debian packages: what the test suite uses when present (capture tools for the
// cross-checks against libpcap; the live-sensor tests will add to this list; firewall
// tools, ping, nmap and hping3 for the ban tests in network namespaces).
const DEBIAN = ['tcpdump', 'libpcap-dev', 'gcc', 'rsyslog', 'nftables', 'ipset', 'iptables', 'nmap', 'hping3', 'iputils-ping',
  // the real consumers the HIDS integrations are tested against (test/integrations/)
  'fail2ban', 'pcre2-utils',
  // the live-capture tests and benchmark: network namespaces, veth pairs, traffic replay
  'iproute2', 'tcpreplay',
  // the daemon tests: config/iplog.logrotate is checked with logrotate -d
  'logrotate',
  // test/install/deb.test.ts: a fresh Debian 12 root to dpkg -i the package into
  'debootstrap'];
function missingDebian() {
  return DEBIAN.filter((p) => spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' }).stdout?.includes('install ok installed') !== true);
}
if (process.platform === 'linux' && existsSync('/usr/bin/apt-get') && process.getuid?.() === 0) {
  const missing = missingDebian();
  if (missing.length > 0) {
    say(`installing Debian packages: ${missing.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  }
}

// npm dependencies
const lock = join(root, 'package-lock.json');
const stamp = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(stamp) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(stamp).mtimeMs + 1000)) {
  say('installing npm dependencies (npm ci)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

// CrowdSec for test/integrations/crowdsec.test.ts: Debian's package unpacked (dpkg-deb -x)
// into node_modules/.cache/iplog-crowdsec, never installed, because its postinst registers
// with CrowdSec's Central API over the internet. Without it that test is skipped.
const csRoot = join(root, 'node_modules', '.cache', 'iplog-crowdsec');
if (process.platform === 'linux' && existsSync('/usr/bin/apt-get') && existsSync('/usr/bin/dpkg-deb') && !existsSync(join(csRoot, 'usr', 'bin', 'crowdsec'))) {
  const tmp = mkdtempSync(join(tmpdir(), 'iplog-crowdsec-deb-'));
  try {
    say('unpacking Debian\'s crowdsec package for the integration tests');
    const download = () => spawnSync('apt-get', ['download', '-qq', 'crowdsec'], { cwd: tmp, stdio: 'ignore' }).status === 0;
    if (!download() && process.getuid?.() === 0) execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    const deb = readdirSync(tmp).find((f) => f.endsWith('.deb')) ?? (download() ? readdirSync(tmp).find((f) => f.endsWith('.deb')) : undefined);
    if (deb === undefined) throw new Error('apt-get download crowdsec failed');
    mkdirSync(csRoot, { recursive: true });
    execFileSync('dpkg-deb', ['-x', join(tmp, deb), csRoot]);
  } catch (e) {
    say(`crowdsec not unpacked (${e.message}); test/integrations/crowdsec.test.ts will be skipped`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// A fresh Debian 12 root for test/install/deb.test.ts (dpkg -i of `npm run deb`'s package):
// debootstrap --variant=minbase plus the package's Depends that minbase lacks (scripts/deb.mjs
// DEPENDS), kept as a tarball in node_modules/.cache (the test unpacks a copy each run).
// Measured: 18 min on a machine shared by seven busy sessions (75 s of CPU; the rest is
// waiting for the mirror and the CPU). IPLOG_NO_DEBOOTSTRAP=1 skips it (the test then skips).
const DEB_ROOT_INCLUDE = 'libpcap0.8,netbase';
const debRootDir = join(root, 'node_modules', '.cache', 'iplog-debootstrap');
const debRootTar = join(debRootDir, `bookworm-minbase+${DEB_ROOT_INCLUDE}.tar`);
if (process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/usr/sbin/debootstrap') && !existsSync(debRootTar) && !process.env.IPLOG_NO_DEBOOTSTRAP) {
  const tmp = mkdtempSync(join(tmpdir(), 'iplog-debootstrap-'));
  const t0 = Date.now();
  try {
    say(`making a Debian 12 root for the package test (debootstrap --variant=minbase --include=${DEB_ROOT_INCLUDE} bookworm)`);
    execFileSync('debootstrap', ['--variant=minbase', `--include=${DEB_ROOT_INCLUDE}`, 'bookworm', tmp], { stdio: ['ignore', 'ignore', 'inherit'] });
    mkdirSync(debRootDir, { recursive: true });
    execFileSync('tar', ['-C', tmp, '-cf', `${debRootTar}.part`, '.']);
    renameSync(`${debRootTar}.part`, debRootTar);
    say(`Debian 12 root ready in ${Math.round((Date.now() - t0) / 1000)} s`);
  } catch (e) {
    say(`no Debian 12 root (${e.message}); test/install/deb.test.ts will skip its dpkg -i part`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// the live-capture addon (native/): built by npm ci's install script; rebuilt here when a
// checkout predates it or its build was removed
if (!existsSync(join(root, 'native', 'build', 'Release', 'iplog_capture.node'))) {
  say('building the live-capture addon (npm run build:native)');
  execFileSync('npm', ['run', 'build:native'], { cwd: root, stdio: 'inherit' });
}

// build
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], {
  cwd: root,
  stdio: 'inherit',
});

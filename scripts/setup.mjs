#!/usr/bin/env node
// Makes a checkout ready to run: Debian packages the tests and the demo need (when
// running as root on Debian and they are missing), npm dependencies (npm ci when
// node_modules is missing or stale), and the TypeScript build. Idempotent and quiet
// when there is nothing to do, so `npm test` and `npm run demo` can call it every time.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
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
  'logrotate'];
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

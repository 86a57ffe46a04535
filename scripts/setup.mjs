#!/usr/bin/env node
// Makes a checkout ready to run: Debian packages (when running as root on Debian and they
// are missing), npm dependencies (npm ci when node_modules is missing or stale), and the
// TypeScript build. Idempotent and quiet when there is nothing to do, so `npm test` and
// `npm run demo` can call it every time.
//
//   node scripts/setup.mjs --for test   (pretest, prebench; the default) the Debian
//        packages the test suite drives: capture and firewall tools, rsyslog, fail2ban,
//        nmap, hping3, ..., and Debian's crowdsec package unpacked for one test;
//   node scripts/setup.mjs --for demo   (predemo) only what `npm run demo` needs: libpcap
//        and the compiler toolchain that `npm ci` uses to build the two native addons
//        (the live-capture addon, unix-dgram). It says what it will install, then does.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_DEBIAN, TEST_DEBIAN } from './debian-packages.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (m) => process.stderr.write(`setup: ${m}\n`);
const forArg = process.argv.indexOf('--for');
const mode = forArg >= 0 ? process.argv[forArg + 1] : 'test';
if (mode !== 'test' && mode !== 'demo') {
  say(`unknown --for ${mode} (test or demo)`);
  process.exit(2);
}

const DEBIAN = mode === 'demo' ? DEMO_DEBIAN : TEST_DEBIAN;
function missingDebian() {
  return DEBIAN.filter((p) => spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' }).stdout?.includes('install ok installed') !== true);
}
if (process.platform === 'linux' && existsSync('/usr/bin/apt-get')) {
  const missing = missingDebian();
  if (missing.length > 0 && process.getuid?.() !== 0) {
    say(`missing Debian packages for ${mode === 'demo' ? 'the demo' : 'the tests'}: ${missing.join(' ')} (as root: apt-get install --no-install-recommends ${missing.join(' ')})`);
  } else if (missing.length > 0) {
    say(`${mode === 'demo' ? '`npm run demo`' : '`npm test`'} needs these Debian packages, which are missing; installing them (apt-get install --no-install-recommends) with what they depend on: ${missing.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    // daemons in these packages (sshd, rsyslogd) must not start listening on the host: the
    // tests run their own in namespaces. policy-rc.d (exit 101) keeps the maintainer
    // scripts from starting them; one that exists already is left as it is.
    const policy = '/usr/sbin/policy-rc.d';
    const ownPolicy = !existsSync(policy);
    if (ownPolicy) writeFileSync(policy, '#!/bin/sh\n# iplog scripts/setup.mjs: no service starts during the install\nexit 101\n', { mode: 0o755 });
    try {
      execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
    } finally {
      if (ownPolicy) rmSync(policy, { force: true });
    }
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
if (mode === 'test' && process.platform === 'linux' && existsSync('/usr/bin/apt-get') && existsSync('/usr/bin/dpkg-deb') && !existsSync(join(csRoot, 'usr', 'bin', 'crowdsec'))) {
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
if (mode === 'test' && process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/usr/sbin/debootstrap') && !existsSync(debRootTar) && !process.env.IPLOG_NO_DEBOOTSTRAP) {
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
// the start-up bundle of dist/src and its code cache (scripts/bundle.mjs; bin/iplog falls
// back to dist/src without it)
execFileSync(process.execPath, [join(root, 'scripts', 'bundle.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });

#!/usr/bin/env node
// `npm run deb`: builds a Debian package of iplog with dpkg-deb, from this checkout.
//
//   node scripts/deb.mjs [--out DIR] [--compress xz|gzip]
//
// Output: DIR/iplog_<version>_<arch>.deb (default DIR: dist/deb). The repository's own
// dist/ is not touched: the TypeScript is compiled straight into the package tree.
//
// Layout (docs/operations.md "Debian package"):
//   /usr/lib/iplog/            the program: package.json, bin/iplog, dist/src, the capture
//                              addon (native/build/Release/iplog_capture.node), the
//                              production node_modules, and `node`, the Node.js runtime
//   /usr/bin/iplog             runs /usr/lib/iplog/node /usr/lib/iplog/bin/iplog
//   /lib/systemd/system/iplog.service   config/iplog.service with a static system user
//   /etc/iplog/iplog.conf      config/iplog.conf (conffile)
//   /etc/logrotate.d/iplog     config/iplog.logrotate (conffile)
//   /usr/share/man/man8/iplog.8.gz, man5/iplog.conf.5.gz, /usr/share/doc/iplog/
//   postinst creates the system user `iplog` (no login, home /var/lib/iplog).
//
// The Node.js runtime is bundled because Debian 12's own nodejs is 18 and iplog needs
// Node >= 20 (package.json engines; `Depends: nodejs (>= 20)` cannot be satisfied from
// Debian 12's archive). The runtime is the one that runs this script, which is also the
// one the addon was built for (same ABI). It needs only libc, libstdc++ and libgcc.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** the package's Depends (test/install/deb.test.ts installs them in its Debian 12 root) */
const DEPENDS = ['libc6 (>= 2.28)', 'libgcc-s1', 'libstdc++6 (>= 12)', 'libpcap0.8 (>= 1.10)', 'netbase', 'passwd'];
const say = (m) => process.stderr.write(`deb: ${m}\n`);
const die = (m) => {
  process.stderr.write(`deb: ${m}\n`);
  process.exit(1);
};

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const outDir = opt('--out', join(root, 'dist', 'deb'));
const compress = opt('--compress', 'xz');
if (!['xz', 'gzip'].includes(compress)) die(`--compress must be xz or gzip, not ${compress}`);

if (process.platform !== 'linux') die('building a .deb needs Linux and dpkg-deb');
if (spawnSync('sh', ['-c', 'command -v dpkg-deb']).status !== 0) die('dpkg-deb is missing (Debian package dpkg)');

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
// 3.0.0-dev → 3.0.0~dev: a pre-release sorts before the release in Debian's order
const version = pkg.version.replace(/-/g, '~');
const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
const addon = join(root, 'native', 'build', 'Release', 'iplog_capture.node');
if (!existsSync(addon)) die(`the capture addon is not built (${addon}): run npm ci (or npm run build:native) first; it needs libpcap-dev`);
if (!existsSync(join(root, 'node_modules', 'typescript'))) die('npm dependencies are missing: run npm ci first');

const stage = mkdtempSync(join(tmpdir(), 'iplog-deb-'));
const t = (...p) => join(stage, ...p);
const lib = t('usr', 'lib', 'iplog');
try {
  // the tree's root becomes the package's "./": mkdtemp made it 0700
  chmodSync(stage, 0o755);
  // ---- the program
  mkdirSync(lib, { recursive: true });
  say('compiling src/ into the package tree');
  const tsconfig = t('tsconfig.deb.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(root, 'tsconfig.json'),
      compilerOptions: { outDir: join(lib, 'dist'), rootDir: root, noEmitOnError: true, typeRoots: [join(root, 'node_modules', '@types')] },
      include: [join(root, 'src', '**', '*.ts')],
    }),
  );
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], { cwd: root, stdio: 'inherit' });
  rmSync(tsconfig);
  for (const f of ['package.json', 'README.md']) copyFileSync(join(root, f), join(lib, f));
  mkdirSync(join(lib, 'bin'));
  copyFileSync(join(root, 'bin', 'iplog'), join(lib, 'bin', 'iplog'));
  chmodSync(join(lib, 'bin', 'iplog'), 0o755);
  mkdirSync(join(lib, 'native', 'build', 'Release'), { recursive: true });
  copyFileSync(addon, join(lib, 'native', 'build', 'Release', 'iplog_capture.node'));
  // the event schema (docs/json-events.md) is data a consumer may want
  mkdirSync(join(lib, 'config'));
  copyFileSync(join(root, 'config', 'iplog-event.schema.json'), join(lib, 'config', 'iplog-event.schema.json'));

  // ---- production dependencies, as installed (native ones already built for this Node)
  say('copying the production node_modules');
  const ls = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8' });
  if (ls.status !== 0) die(`npm ls --omit=dev failed: ${ls.stderr}`);
  const deps = ls.stdout.split('\n').filter((p) => p !== '' && p !== root);
  for (const d of deps) {
    const rel = relative(root, d);
    if (!rel.startsWith('node_modules')) die(`unexpected dependency path ${d}`);
    cpSync(d, join(lib, rel), {
      recursive: true,
      // a package's own nested node_modules are listed separately; build intermediates are not needed
      filter: (src) => {
        const r = relative(d, src);
        return !(r === 'node_modules' || r.startsWith(`node_modules/`) || r.includes('obj.target') || r.endsWith('.deps'));
      },
    });
  }

  // ---- the start-up bundle and its code cache (scripts/bundle.mjs), made by this Node,
  // which is the runtime the package carries (below), so V8 accepts the cache
  say('bundling dist/src for start-up');
  execFileSync(process.execPath, [join(root, 'scripts', 'bundle.mjs'), lib], { cwd: root, stdio: 'inherit' });

  // ---- the Node.js runtime
  say(`bundling the Node.js runtime ${process.version} (${process.execPath})`);
  copyFileSync(process.execPath, join(lib, 'node'));
  chmodSync(join(lib, 'node'), 0o755);

  // ---- /usr/bin/iplog
  mkdirSync(t('usr', 'bin'), { recursive: true });
  writeFileSync(t('usr', 'bin', 'iplog'), '#!/bin/sh\n# iplog with the Node.js runtime of the package (Debian 12 ships Node 18; iplog needs 20)\nexec /usr/lib/iplog/node /usr/lib/iplog/bin/iplog "$@"\n', { mode: 0o755 });

  // ---- configuration, unit, logrotate
  mkdirSync(t('etc', 'iplog'), { recursive: true });
  copyFileSync(join(root, 'config', 'iplog.conf'), t('etc', 'iplog', 'iplog.conf'));
  mkdirSync(t('etc', 'logrotate.d'), { recursive: true });
  copyFileSync(join(root, 'config', 'iplog.logrotate'), t('etc', 'logrotate.d', 'iplog'));
  mkdirSync(t('lib', 'systemd', 'system'), { recursive: true });
  writeFileSync(t('lib', 'systemd', 'system', 'iplog.service'), debianUnit(readFileSync(join(root, 'config', 'iplog.service'), 'utf8')));

  // ---- documentation
  for (const [sect, page] of [['man8', 'iplog.8'], ['man5', 'iplog.conf.5']]) {
    mkdirSync(t('usr', 'share', 'man', sect), { recursive: true });
    writeFileSync(t('usr', 'share', 'man', sect, `${page}.gz`), gzipSync(readFileSync(join(root, 'docs', 'man', page)), { level: 9 }));
  }
  const doc = t('usr', 'share', 'doc', 'iplog');
  mkdirSync(doc, { recursive: true });
  for (const f of readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md'))) copyFileSync(join(root, 'docs', f), join(doc, f));
  const nodeLicense = [join(dirname(process.execPath), '..', 'share', 'doc', 'nodejs', 'LICENSE'), join(dirname(process.execPath), '..', 'LICENSE')].find(existsSync);
  writeFileSync(
    join(doc, 'copyright'),
    [
      'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
      'Upstream-Name: iplog',
      '',
      'Files: *',
      `License: ${pkg.license}`,
      '',
      'Files: usr/lib/iplog/node',
      `Comment: the Node.js ${process.version} runtime, bundled (Debian 12's nodejs is 18)`,
      'License: MIT (and the licenses of its bundled components; see node-LICENSE)',
      '',
      'Files: usr/lib/iplog/node_modules/*',
      'License: each package\'s own (see its LICENSE file and package.json)',
      '',
    ].join('\n'),
  );
  if (nodeLicense !== undefined) copyFileSync(nodeLicense, join(doc, 'node-LICENSE'));

  // ---- control files
  const deb = t('DEBIAN');
  mkdirSync(deb);
  const installedKb = Number(execFileSync('du', ['-sk', '--exclude=DEBIAN', stage], { encoding: 'utf8' }).split('\t')[0]);
  writeFileSync(
    join(deb, 'control'),
    [
      'Package: iplog',
      `Version: ${version}`,
      `Architecture: ${arch}`,
      'Maintainer: iplog maintainers <iplog@example.org>',
      `Installed-Size: ${installedKb}`,
      // the addon links libpcap; the bundled node needs libc 2.28+, libstdc++ and libgcc;
      // netbase: /etc/services (port names in the lines) and /etc/protocols; passwd: useradd
      `Depends: ${DEPENDS.join(', ')}`,
      'Recommends: logrotate',
      // conntrack: a ban ends the source's established connections (conntrack -D, docs/ban-backends.md)
      'Suggests: nftables, conntrack',
      'Section: net',
      'Priority: optional',
      `Description: ${pkg.description.split(':')[0]}`,
      ' A TypeScript reimplementation of iplog 2.2.3: logs TCP connection attempts, UDP',
      ' datagrams and ICMP messages, detects port, SYN, FIN, null and Xmas scans, UDP scans,',
      ' floods, smurf attacks, bogus flags, fragment attacks and traceroutes, in iplog\'s',
      ' exact line format, and can ban offenders in the firewall.',
      ' .',
      ` The package bundles the Node.js ${process.version} runtime in /usr/lib/iplog.`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(deb, 'conffiles'), '/etc/iplog/iplog.conf\n/etc/logrotate.d/iplog\n');
  writeFileSync(
    join(deb, 'postinst'),
    `#!/bin/sh
set -e
if [ "$1" = configure ]; then
  # the service's non-root user (the unit grants it CAP_NET_RAW and CAP_NET_ADMIN)
  if ! getent passwd iplog >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/iplog --no-create-home --shell /usr/sbin/nologin --comment "iplog sensor" iplog
  fi
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null || true
  fi
fi
exit 0
`,
    { mode: 0o755 },
  );
  writeFileSync(
    join(deb, 'prerm'),
    `#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
  systemctl stop iplog.service >/dev/null 2>&1 || true
  systemctl disable iplog.service >/dev/null 2>&1 || true
fi
exit 0
`,
    { mode: 0o755 },
  );
  writeFileSync(
    join(deb, 'postrm'),
    `#!/bin/sh
set -e
if [ "$1" = purge ]; then
  # state (ban table) and logs; the system user stays (Debian policy: uids are not recycled)
  rm -rf /var/lib/iplog /var/log/iplog
fi
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
`,
    { mode: 0o755 },
  );

  // ---- build
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, `iplog_${version}_${arch}.deb`);
  say(`dpkg-deb (${compress}) → ${out}`);
  execFileSync('dpkg-deb', ['--root-owner-group', `-Z${compress}`, '--build', stage, out], { stdio: ['ignore', 'ignore', 'inherit'] });
  process.stdout.write(`${out}\n`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}

/**
 * The packaged unit: config/iplog.service with a static system user (created by postinst)
 * instead of DynamicUser=, CAP_NET_ADMIN beside CAP_NET_RAW (firewall bans work without
 * editing the unit), the package's configuration file, and two more sandboxing settings
 * that keep `systemd-analyze security` at least as good as the generic unit's.
 */
function debianUnit(text) {
  const swap = (from, to) => {
    if (!text.includes(from)) die(`config/iplog.service has no "${from.trim()}": update scripts/deb.mjs`);
    text = text.replace(from, to);
  };
  swap('ExecStart=/usr/bin/iplog -o --pid-file /run/iplog/iplog.pid', 'ExecStart=/usr/bin/iplog -o --config /etc/iplog/iplog.conf --pid-file /run/iplog/iplog.pid');
  swap('\nDynamicUser=yes\n', '\n# the system user created by the package (postinst)\nUser=iplog\nGroup=iplog\nRemoveIPC=yes\n');
  swap('\nCapabilityBoundingSet=CAP_NET_RAW\n', '\nCapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN\n');
  swap('\nAmbientCapabilities=CAP_NET_RAW\n', '\n# CAP_NET_ADMIN: the firewall commands of --ban-backend (nft, ipset, iptables)\nAmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN\n# iptables takes this lock file (optional: "-")\nReadWritePaths=-/run/xtables.lock\n');
  swap('\nProtectHome=yes\n', '\nProtectHome=yes\nPrivateMounts=yes\nProtectProc=invisible\n');
  return `# Installed by the iplog Debian package: config/iplog.service as adapted by scripts/deb.mjs\n# (static user iplog, CAP_NET_ADMIN for bans, /etc/iplog/iplog.conf). Local changes: systemctl edit iplog\n${text}`;
}

/**
 * `npm run deb` (scripts/deb.mjs): the package's contents and control files; its systemd
 * unit passes `systemd-analyze verify` and is at least as hardened as config/iplog.service
 * by `systemd-analyze security --offline=true`; and `dpkg -i` installs it on a fresh
 * Debian 12 root (debootstrap --variant=minbase plus the package's Depends, made by
 * scripts/setup.mjs and cached in node_modules/.cache), where the installed iplog replays a
 * capture exactly as the checkout does, `iplog status` works, and `dpkg --purge` removes it.
 * The root is a copy unpacked for this run under /tmp, entered with chroot inside a private
 * mount namespace (unshare -m) so its /proc mount cannot outlive the test; it is deleted
 * at the end. Nothing is installed on this machine itself.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const DEB_ROOT = join(root, 'node_modules', '.cache', 'iplog-debootstrap', 'bookworm-minbase+libpcap0.8,netbase.tar');
const CAPTURE = join(root, 'pcaps', 'scan', 'sweep-many-destinations.pcap');

function skipReason(): string | false {
  if (process.platform !== 'linux') return 'Debian packages need Linux';
  if (process.getuid?.() !== 0) return 'building and installing the package needs root (CI runs as root)';
  if (!has('dpkg-deb')) return 'dpkg-deb is not installed';
  if (!existsSync(join(root, 'native', 'build', 'Release', 'iplog_capture.node'))) return 'the capture addon is not built';
  return false;
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function must(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = run(cmd, args, opts);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** "Overall exposure level for X: 2.2 OK" → 2.2 */
function exposure(unitFile: string): number {
  const out = must('systemd-analyze', ['security', '--offline=true', unitFile], { cwd: tmpdir() });
  const m = /Overall exposure level for \S+: (\d+\.\d+)/.exec(out);
  assert.ok(m, out);
  return Number(m[1]);
}

const skip = skipReason();

describe('npm run deb', { skip }, () => {
  let work = '';
  let deb = '';
  let tree = '';

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'iplog-deb-test-'));
    // gzip: the same contents as the default xz, built in a fraction of the time
    const out = must(process.execPath, [join(root, 'scripts', 'deb.mjs'), '--out', work, '--compress', 'gzip'], { cwd: root });
    deb = out.trim().split('\n').pop()!;
    assert.ok(existsSync(deb), deb);
    tree = join(work, 'tree');
    must('dpkg-deb', ['-x', deb, tree]);
  });

  after(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  test('control: name, version from package.json, Depends, conffiles, maintainer scripts', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const field = (f: string) => must('dpkg-deb', ['--field', deb, f]).trim();
    assert.equal(field('Package'), 'iplog');
    assert.equal(field('Version'), pkg.version.replace(/-/g, '~'));
    assert.equal(field('Architecture'), must('dpkg', ['--print-architecture']).trim());
    assert.match(field('Depends'), /libpcap0\.8/);
    assert.match(field('Depends'), /netbase/);
    assert.doesNotMatch(field('Depends'), /nodejs/, 'the runtime is bundled');
    const ctl = join(work, 'control');
    must('dpkg-deb', ['-e', deb, ctl]);
    assert.equal(readFileSync(join(ctl, 'conffiles'), 'utf8'), '/etc/iplog/iplog.conf\n/etc/logrotate.d/iplog\n');
    for (const s of ['postinst', 'prerm', 'postrm']) {
      assert.ok((statSync(join(ctl, s)).mode & 0o111) !== 0, `${s} executable`);
      must('sh', ['-n', join(ctl, s)]);
    }
    assert.match(readFileSync(join(ctl, 'postinst'), 'utf8'), /useradd --system --user-group .* iplog/);
  });

  test('files: program, runtime, addon, wrapper, unit, conf, logrotate, man pages; no dev dependencies', () => {
    for (const f of [
      'usr/lib/iplog/node',
      'usr/lib/iplog/bin/iplog',
      'usr/lib/iplog/dist/src/main.js',
      'usr/lib/iplog/native/build/Release/iplog_capture.node',
      'usr/lib/iplog/node_modules/prom-client/package.json',
      'usr/lib/iplog/node_modules/unix-dgram/build/Release/unix_dgram.node',
      'usr/bin/iplog',
      'lib/systemd/system/iplog.service',
      'etc/iplog/iplog.conf',
      'etc/logrotate.d/iplog',
      'usr/share/man/man8/iplog.8.gz',
      'usr/share/man/man5/iplog.conf.5.gz',
      'usr/share/doc/iplog/copyright',
    ]) {
      assert.ok(existsSync(join(tree, f)), f);
    }
    for (const dev of ['typescript', 'fast-check', 'ajv', '@types']) assert.ok(!existsSync(join(tree, 'usr/lib/iplog/node_modules', dev)), `no ${dev}`);
    assert.ok(!existsSync(join(tree, 'usr/lib/iplog/dist/test')), 'no compiled tests');
    assert.equal(readFileSync(join(tree, 'etc/iplog/iplog.conf'), 'utf8'), readFileSync(join(root, 'config/iplog.conf'), 'utf8'));
    assert.equal(readFileSync(join(tree, 'etc/logrotate.d/iplog'), 'utf8'), readFileSync(join(root, 'config/iplog.logrotate'), 'utf8'));
    assert.equal(must(join(tree, 'usr/lib/iplog/node'), ['--version']).trim(), process.version);
  });

  test('the unit: static user, CAP_NET_RAW and CAP_NET_ADMIN, the package\'s conf', () => {
    const lines = readFileSync(join(tree, 'lib/systemd/system/iplog.service'), 'utf8').split('\n');
    for (const want of [
      'ExecStart=/usr/bin/iplog -o --config /etc/iplog/iplog.conf --pid-file /run/iplog/iplog.pid',
      'User=iplog',
      'Group=iplog',
      'CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN',
      'AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'RuntimeDirectory=iplog',
      'StateDirectory=iplog',
    ]) {
      assert.ok(lines.includes(want), want);
    }
    assert.ok(!lines.includes('DynamicUser=yes'));
  });

  test('systemd-analyze verify passes on the unit; security exposure no worse than config/iplog.service', { skip: has('systemd-analyze') ? false : 'systemd-analyze is not installed' }, () => {
    // verify needs the executable: the unit with ExecStart pointing into the unpacked package,
    // and man(1) finding the package's pages for Documentation=
    const dir = join(work, 'verify');
    mkdirSync(dir);
    const unit = join(dir, 'iplog.service');
    writeFileSync(unit, readFileSync(join(tree, 'lib/systemd/system/iplog.service'), 'utf8').replaceAll('/usr/bin/iplog', join(tree, 'usr/bin/iplog')));
    const v = run('systemd-analyze', ['verify', unit], { cwd: tmpdir(), env: { ...process.env, MANPATH: join(tree, 'usr/share/man') } });
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stderr.trim(), '');
    const generic = exposure(join(root, 'config', 'iplog.service'));
    const packaged = exposure(join(tree, 'lib/systemd/system/iplog.service'));
    assert.ok(packaged <= generic, `packaged unit ${packaged} > generic unit ${generic}`);
  });

  test('dpkg -i on a fresh Debian 12 root: iplog runs, replays like the checkout, purge removes it', { skip: existsSync(DEB_ROOT) && has('unshare') && has('chroot') ? false : `no Debian 12 root (${DEB_ROOT}; scripts/setup.mjs makes it with debootstrap)` }, () => {
    const r = join(work, 'root');
    mkdirSync(r);
    try {
      must('tar', ['-C', r, '-xf', DEB_ROOT]);
      copyFileSync(deb, join(r, 'tmp', 'iplog.deb'));
      copyFileSync(CAPTURE, join(r, 'tmp', 'capture.pcap'));
      const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', TZ: 'UTC', LC_ALL: 'C', HOME: '/root' };
      // one shell per step, each in its own mount namespace with /proc mounted in the root
      const inRoot = (script: string) => run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `mount -t proc proc "$R/proc" && exec chroot "$R" sh -c "$S"`], { env: { ...env, R: r, S: script } });
      const ok = (script: string) => {
        const x = inRoot(script);
        assert.equal(x.status, 0, `${script}: ${x.status}\n${x.stdout}\n${x.stderr}`);
        return x.stdout;
      };
      assert.notEqual(inRoot('command -v node').status, 0, 'a fresh Debian 12 has no node: the package brings its own');
      ok('dpkg -i /tmp/iplog.deb');
      // the system user
      const pw = ok('getent passwd iplog').trim().split(':');
      assert.equal(pw[0], 'iplog');
      assert.ok(Number(pw[2]) > 0 && Number(pw[2]) < 1000, `system uid ${pw[2]}`);
      assert.equal(pw[6], '/usr/sbin/nologin');
      // the installed program against the checkout
      const installed = ok('iplog -r /tmp/capture.pcap -N -L');
      const checkout = must(process.execPath, [join(root, 'bin', 'iplog'), '-r', CAPTURE, '-N', '-L'], { env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' } });
      assert.ok(installed.split('\n').length > 1);
      assert.equal(installed, checkout);
      assert.match(ok('iplog -r /tmp/capture.pcap -N -L --metrics 127.0.0.1:9'), /connection attempt/);
      const st = inRoot('iplog status --config /etc/iplog/iplog.conf --pid-file /run/iplog/iplog.pid');
      assert.equal(st.status, 3, st.stdout + st.stderr);
      assert.match(st.stdout, /iplog is not running/);
      for (const m of ['usr/share/man/man8/iplog.8.gz', 'usr/share/man/man5/iplog.conf.5.gz', 'etc/iplog/iplog.conf', 'lib/systemd/system/iplog.service']) assert.ok(existsSync(join(r, m)), m);
      assert.match(ok('dpkg-query -W -f=\'${Status}\' iplog'), /install ok installed/);
      // purge: program, conffiles and state go; the user stays (uids are not recycled)
      ok('dpkg --purge iplog');
      for (const gone of ['usr/lib/iplog', 'usr/bin/iplog', 'etc/iplog/iplog.conf', 'etc/logrotate.d/iplog', 'lib/systemd/system/iplog.service']) assert.ok(!existsSync(join(r, gone)), `${gone} removed`);
    } finally {
      rmSync(r, { recursive: true, force: true });
    }
  });
});

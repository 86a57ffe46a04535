/**
 * `npm pack` and `npm install -g`: the tarball is built from a copy of the checkout (its
 * prepack script compiles dist/ there, so the repository's own dist/ is never rewritten
 * under the other tests), then installed into a temporary prefix the way a user installs
 * it globally. The installed `iplog` must replay a capture exactly as the checkout does,
 * its live-capture addon must have been built by the install script, and its man pages
 * must land under the prefix's share/man.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function skipReason(): string | false {
  if (process.platform !== 'linux') return 'the install test needs Linux';
  if (!has('npm')) return 'npm is not on PATH';
  if (!has('git') || spawnSync('git', ['-C', root, 'rev-parse'], { stdio: 'ignore' }).status !== 0) return 'not a git checkout (the tarball is built from git ls-files)';
  if (!existsSync(join(root, 'node_modules', 'typescript'))) return 'npm dependencies are not installed';
  // the addon is compiled at install time against libpcap's headers
  if (!existsSync('/usr/include/pcap.h') && !existsSync('/usr/include/pcap/pcap.h')) return 'libpcap-dev is not installed';
  return false;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const skip = skipReason();

describe('npm pack, then npm install -g into a prefix', { skip }, () => {
  let work = '';
  let prefix = '';
  let tarball = '';
  const capture = join(root, 'pcaps', 'scan', 'sweep-many-destinations.pcap');

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'iplog-pack-'));
    prefix = mkdtempSync(join(tmpdir(), 'iplog-prefix-'));
    // a copy of what git knows about (tracked and new, not ignored): no dist/, no native/build/
    const tree = join(work, 'tree');
    const files = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], root).split('\0').filter((f) => f !== '' && existsSync(join(root, f)));
    run('mkdir', ['-p', tree], work);
    const tar = spawnSync('sh', ['-c', `tar -C "${root}" --null -T - -cf - | tar -C "${tree}" -xf -`], { input: files.join('\0'), encoding: 'utf8' });
    assert.equal(tar.status, 0, tar.stderr);
    assert.ok(!existsSync(join(tree, 'dist')), 'the copy starts without dist/');
    // the dev dependencies (typescript for prepack) come from the checkout
    symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'));
    run('npm', ['pack', '--pack-destination', work, '--silent'], tree);
    const made = readdirSync(work).filter((f) => /^iplog-.*\.tgz$/.test(f));
    assert.equal(made.length, 1, `one tarball: ${made.join(' ')}`);
    tarball = join(work, made[0]);
    run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], work);
  });

  after(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
    if (prefix !== '') rmSync(prefix, { recursive: true, force: true });
  });

  test('the tarball holds the compiled program, the addon sources and the man pages, not the tests or a build', () => {
    const list = run('tar', ['-tzf', tarball], work).split('\n');
    for (const want of ['package/bin/iplog', 'package/dist/src/main.js', 'package/native/binding.gyp', 'package/native/src/capture.cc', 'package/docs/man/iplog.8', 'package/docs/man/iplog.conf.5', 'package/config/iplog.conf', 'package/config/iplog.service']) {
      assert.ok(list.includes(want), want);
    }
    assert.ok(!list.some((f) => f.startsWith('package/dist/test/')), 'no compiled tests');
    assert.ok(!list.some((f) => f.startsWith('package/native/build/')), 'no prebuilt addon');
    assert.ok(!list.some((f) => f.startsWith('package/node_modules/')), 'no node_modules');
  });

  test('iplog is on the prefix PATH and replays a capture exactly as the checkout does', () => {
    const bin = join(prefix, 'bin', 'iplog');
    assert.ok(existsSync(bin), bin);
    const args = ['-r', capture, '-N', '-L'];
    const env = { ...process.env, TZ: 'UTC', LC_ALL: 'C', PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}` };
    const installed = spawnSync('iplog', args, { encoding: 'utf8', env });
    const checkout = spawnSync(process.execPath, [join(root, 'bin', 'iplog'), ...args], { encoding: 'utf8', env });
    assert.equal(installed.status, 0, installed.stderr);
    assert.equal(checkout.status, 0, checkout.stderr);
    assert.ok(installed.stdout.split('\n').length > 1, 'some lines');
    assert.equal(installed.stdout, checkout.stdout);
  });

  test('the install script built the live-capture addon, and it loads', () => {
    const pkgDir = join(prefix, 'lib', 'node_modules', 'iplog');
    assert.ok(existsSync(join(pkgDir, 'native', 'build', 'Release', 'iplog_capture.node')));
    const out = run(process.execPath, ['-e', `process.stdout.write(require(${JSON.stringify(join(pkgDir, 'dist', 'src', 'capture', 'live.js'))}).loadAddon().libVersion())`], work);
    assert.match(out, /libpcap/);
  });

  test('man pages land under the prefix\'s share/man', () => {
    for (const [sect, page] of [['man8', 'iplog.8'], ['man5', 'iplog.conf.5']]) {
      const f = join(prefix, 'share', 'man', sect, page);
      assert.ok(existsSync(f), f);
      assert.equal(readFileSync(realpathSync(f), 'utf8'), readFileSync(join(root, 'docs', 'man', page), 'utf8'));
    }
  });
});

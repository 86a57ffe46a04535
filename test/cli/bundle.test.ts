/**
 * The start-up bundle (scripts/bundle.mjs, bin/iplog; docs/architecture.md "Start-up"):
 * after `npm run build` bin/iplog runs dist/src/bundle/iplog.js, not the module tree; it
 * writes the same bytes as the module tree (IPLOG_NO_BUNDLE=1); and a bundle older than
 * dist/src/main.js (a tsc run without the bundle step) is never used.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const bin = join(root, 'bin', 'iplog');
const bundle = join(root, 'dist', 'src', 'bundle', 'iplog.js');
const esbuild = existsSync(join(root, 'node_modules', 'esbuild'));
const skip = esbuild ? false : 'esbuild (a devDependency) is not installed: no bundle';

function iplog(args: string[], env: Record<string, string> = {}, binPath = bin) {
  return spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', IPLOG_NO_BUNDLE: '', ...env }, timeout: 60_000 });
}

/** The module files a run loaded (NODE_DEBUG=module), relative to `base`. */
function loaded(stderr: string, base: string): string[] {
  return [...stderr.matchAll(/load "([^"]+)" for module/g)].map((m) => m[1]!).filter((f) => f.startsWith(base)).map((f) => f.slice(base.length + 1));
}

test('npm run build made the bundle and its code cache; bin/iplog runs the bundle, not dist/src', { skip }, () => {
  assert.ok(existsSync(bundle), bundle);
  assert.ok(existsSync(`${bundle}.cache`), `${bundle}.cache`);
  const r = iplog(['--profile', 'compat', '-r', join(root, 'pcaps', 'decode', 'raw-ipv4.pcap'), '-N'], { NODE_DEBUG: 'module' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(loaded(r.stderr, root), ['bin/iplog']);
  const d = iplog(['--profile', 'compat', '-r', join(root, 'pcaps', 'decode', 'raw-ipv4.pcap'), '-N'], { NODE_DEBUG: 'module', IPLOG_NO_BUNDLE: '1' });
  assert.ok(loaded(d.stderr, root).includes('dist/src/main.js'));
});

test('the bundle writes what the module tree writes (text, JSON, statistics, errors)', { skip }, () => {
  const runs: string[][] = [
    ['--profile', 'compat', '-r', join(root, 'pcaps', 'flood', 'syn-flood-spoofed.pcap'), '-N', '-w', '-D'],
    ['--profile', 'modern', '-r', join(root, 'pcaps', 'ipv6', 'nmap-sS.pcap'), '-N', '--json', '-'],
    ['--profile', 'compat', '-r', join(root, 'pcaps', 'scan', 'fragment-train-slow.pcap'), '-N', '-m'],
    ['-r', join(root, 'pcaps', 'no-such-file.pcap'), '-N'],
    ['--no-such-option'],
  ];
  for (const args of runs) {
    const a = iplog(args);
    const b = iplog(args, { IPLOG_NO_BUNDLE: '1' });
    assert.equal(a.status, b.status, args.join(' '));
    assert.equal(a.stdout, b.stdout, args.join(' '));
    // the replay's own time (0.02s) differs from run to run
    const norm = (s: string) => s.replace(/; [0-9.]+s\n/g, '; Ts\n');
    assert.equal(norm(a.stderr), norm(b.stderr), args.join(' '));
  }
});

test('a bundle older than dist/src/main.js is not used (a later tsc run)', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'iplog-bundle-'));
  try {
    cpSync(join(root, 'bin'), join(dir, 'bin'), { recursive: true });
    cpSync(join(root, 'dist', 'src'), join(dir, 'dist', 'src'), { recursive: true, preserveTimestamps: true });
    cpSync(join(root, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    const args = ['--profile', 'compat', '-r', join(root, 'pcaps', 'decode', 'raw-ipv4.pcap'), '-N'];
    const fresh = iplog(args, { NODE_DEBUG: 'module' }, join(dir, 'bin', 'iplog'));
    assert.equal(fresh.status, 0, fresh.stderr);
    assert.deepEqual(loaded(fresh.stderr, dir), ['bin/iplog']);
    const later = Date.now() / 1000 + 5;
    utimesSync(join(dir, 'dist', 'src', 'main.js'), later, later);
    const stale = iplog(args, { NODE_DEBUG: 'module' }, join(dir, 'bin', 'iplog'));
    assert.equal(stale.status, 0, stale.stderr);
    assert.ok(loaded(stale.stderr, dir).includes('dist/src/main.js'), 'ran from dist/src');
    assert.equal(stale.stdout, fresh.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * The addon's helpers that need no privileges: the pid-file locks (fcntl F_SETLK/F_GETLK)
 * for the daemon, the interface list and flags, libpcap's version; and the start-up
 * failure of a live run on an interface that does not exist. The addon is built by
 * `npm ci` (native/binding.gyp), so these tests expect it.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAddon, lockFile, lockOwner, IFF_UP, IFF_LOOPBACK, ADDON_PATH } from '../../src/capture/live';
import { BIN } from './netns';

const dir = mkdtempSync(join(tmpdir(), 'iplog-native-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('lockFile / lockOwner: a whole-file write lock, and who holds it', async () => {
  const path = join(dir, 'lock.pid');
  writeFileSync(path, '');
  // another process takes the lock and keeps it until its stdin closes
  const child = spawn(
    process.execPath,
    ['-e', `const a = require(${JSON.stringify(ADDON_PATH)}); const fd = require('fs').openSync(${JSON.stringify(path)}, 'r+'); process.stdout.write(String(a.lockFile(fd))); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const first = await new Promise<string>((r) => child.stdout!.once('data', (d: Buffer) => r(d.toString())));
  assert.equal(first, 'true');
  const fd = openSync(path, 'r+');
  try {
    assert.equal(lockOwner(fd), child.pid);
    assert.equal(lockFile(fd), false);
    child.stdin!.end();
    await new Promise((r) => child.on('exit', r));
    assert.equal(lockOwner(fd), 0);
    assert.equal(lockFile(fd), true);
    // our own lock is no conflict for us (POSIX record locks belong to the process)
    assert.equal(lockOwner(fd), 0);
  } finally {
    closeSync(fd);
  }
  assert.throws(() => lockFile(987654), /fcntl\(F_SETLK\): Bad file descriptor/);
});

test('interfaces(), ifFlags(), libVersion()', () => {
  const a = loadAddon();
  const lo = a.interfaces().find((i) => i.address === '127.0.0.1');
  assert.ok(lo, 'the loopback address is listed');
  assert.equal(lo.flags & (IFF_UP | IFF_LOOPBACK), IFF_UP | IFF_LOOPBACK);
  assert.equal(a.ifFlags(lo.name) & IFF_LOOPBACK, IFF_LOOPBACK);
  assert.equal(a.ifFlags('nosuch0'), -1);
  assert.equal(a.ifFlags('a-name-longer-than-ifnamsiz'), -1);
  assert.match(a.libVersion(), /^libpcap version \d+\.\d+/);
});

test("iplog -o -L -i nosuch0: iplog started., then Fatal: Couldn't initialize interfaces. (status 255)", () => {
  const r = spawnSync(process.execPath, [BIN, '--config', '/dev/null', '--pid-file', join(dir, 'x.pid'), '-o', '-L', '-i', 'nosuch0'], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, TZ: 'UTC', IPLOG_LOG_LEVEL: 'silent' },
  });
  assert.equal(r.status, 255, r.stderr);
  assert.deepEqual(
    r.stdout.split('\n').filter(Boolean).map((l) => l.slice(16)),
    ['iplog started.', "Fatal: Couldn't initialize interfaces."],
  );
});

/**
 * The pid file (src/daemon/pidfile.ts, spec §1.4): created, locked with a real fcntl
 * lock (the capture addon's helpers), "already running (pid: N)" while another process
 * holds it, a stale file replaced, the creation errors and their texts, removal; and the
 * stand-in locks used when the addon has no helpers.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePidFile, probeLocks, PidFileError, type LockOps } from '../../src/daemon/pidfile';
import { loadAddonLocks } from './helpers';

const addon = loadAddonLocks();
const skipNoAddon = addon === null ? 'the capture addon (native/build/Release/iplog_capture.node) is not built: run npm ci' : false;

function withDir(fn: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-pid-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** Another process that creates and locks `path` with the addon, like a running iplog. */
async function holder(path: string): Promise<ChildProcess> {
  const addonPath = join(__dirname, '..', '..', '..', 'native', 'build', 'Release', 'iplog_capture.node');
  const code = `const a=require(${JSON.stringify(addonPath)});const fs=require('fs');const fd=fs.openSync(${JSON.stringify(path)},'w');` +
    `if(!a.lockFile(fd))process.exit(3);fs.writeSync(fd,process.pid+'\\n');process.stdout.write('locked\\n');setInterval(()=>{},1e9);`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`holder exited ${c}`)));
  });
  return child;
}

function fails(fn: () => unknown, message: string, code: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PidFileError);
    assert.equal(e.message, message);
    assert.equal(e.code, code);
    return true;
  });
}

describe('with fcntl locks (the addon)', { skip: skipNoAddon }, () => {
  const locks = addon as LockOps;

  test('written as "<pid>\\n", mode 0644, locked, removed', withDir((dir) => {
    const p = join(dir, 'iplog.pid');
    const f = writePidFile(p, 4242, locks);
    assert.equal(readFileSync(p, 'utf8'), '4242\n');
    assert.equal(locks.lockOwner(f.fd), 0, 'our own lock does not conflict with us');
    assert.equal(f.remove(), undefined);
    assert.equal(existsSync(p), false);
    assert.equal(f.remove(), undefined, 'twice is harmless');
  }));

  test('held by another process: "iplog is already running (pid: N)", the file untouched', withDir(async (dir) => {
    const p = join(dir, 'iplog.pid');
    const other = await holder(p);
    try {
      fails(() => writePidFile(p, process.pid, locks), `iplog is already running (pid: ${other.pid})`, 'IPLOG_ERR_ALREADY_RUNNING');
      assert.equal(readFileSync(p, 'utf8'), `${other.pid}\n`);
    } finally {
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
    }
    // the holder is gone: its file is stale and is replaced
    const f = writePidFile(p, 777, locks);
    assert.equal(readFileSync(p, 'utf8'), '777\n');
    f.remove();
  }));

  test('a stale file (no lock, any content) is replaced', withDir((dir) => {
    const p = join(dir, 'iplog.pid');
    writeFileSync(p, `${process.pid}\n`); // even a live pid: no lock means not running
    const f = writePidFile(p, 99, locks);
    assert.equal(readFileSync(p, 'utf8'), '99\n');
    f.remove();
  }));

  test('creation errors', withDir((dir) => {
    fails(() => writePidFile(join(dir, 'no', 'such', 'dir.pid'), 1, locks), `Cannot open lockfile "${join(dir, 'no', 'such', 'dir.pid')}": No such file or directory`, 'IPLOG_ERR_PIDFILE_CREATE');
    const d = join(dir, 'adir.pid');
    mkdirSync(d);
    // exists, opens read-only, is not locked, but cannot be unlinked (a directory)
    fails(() => writePidFile(d, 1, locks), `Could not remove stale lockfile "${d}"`, 'IPLOG_ERR_PIDFILE_STALE');
  }));

  test('removal failure text (as logged at exit)', withDir((dir) => {
    if (process.getuid?.() === 0) return; // root may unlink anyway
    const sub = join(dir, 'ro');
    mkdirSync(sub);
    const f = writePidFile(join(sub, 'iplog.pid'), 1, locks);
    chmodSync(sub, 0o555);
    assert.equal(f.remove(), `Couldn't unlink "${join(sub, 'iplog.pid')}": Permission denied`);
    chmodSync(sub, 0o755);
  }));

  test('a lock that cannot be taken', withDir((dir) => {
    const p = join(dir, 'iplog.pid');
    const failing: LockOps = { lockFile: () => false, lockOwner: () => 0 };
    fails(() => writePidFile(p, 1, failing), `Lockfile "${p}" could not be locked: Resource temporarily unavailable`, 'IPLOG_ERR_PIDFILE_LOCK');
    const throwing: LockOps = {
      lockFile: () => {
        throw Object.assign(new Error('fcntl'), { code: 'ENOLCK' });
      },
      lockOwner: () => 0,
    };
    fails(() => writePidFile(join(dir, 'b.pid'), 1, throwing), `Lockfile "${join(dir, 'b.pid')}" could not be locked: ENOLCK`, 'IPLOG_ERR_PIDFILE_LOCK');
  }));
});

describe('stand-in locks (no addon helpers)', () => {
  test('a live pid in the file means running; a dead one is stale', withDir(async (dir) => {
    const p = join(dir, 'iplog.pid');
    const child = spawn(process.execPath, ['-e', 'setInterval(()=>{},1e9)']);
    try {
      writeFileSync(p, `${child.pid}\n`);
      fails(() => writePidFile(p, process.pid, probeLocks), `iplog is already running (pid: ${child.pid})`, 'IPLOG_ERR_ALREADY_RUNNING');
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    const f = writePidFile(p, process.pid, probeLocks);
    assert.equal(readFileSync(p, 'utf8'), `${process.pid}\n`);
    f.remove();
  }));
});

/**
 * -k / -R (cli/kill.ts): the pid-file errors of spec §1.4, the pid check that replaces
 * strtoul() (deviation: no kill(0) / kill(-1)), and one real signal to a child process.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killIplog, SIGHUP, SIGTERM, strerror, systemPidFileDeps, type PidFileDeps } from '../../src/cli/kill';
import { parseCommandLine } from '../../src/cli/program';

function withDir(fn: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-kill-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** Real file reads, recorded signals. */
function recordSignals(): { deps: PidFileDeps; sent: Array<[number, number]> } {
  const sent: Array<[number, number]> = [];
  return {
    sent,
    deps: {
      readPidFile: (p, max) => systemPidFileDeps.readPidFile(p, max),
      sendSignal: (pid, sig) => {
        sent.push([pid, sig]);
      },
    },
  };
}

describe('pid file', () => {
  test('missing file: strerror of open()', withDir((dir) => {
    assert.deepEqual(killIplog(SIGTERM, join(dir, 'none.pid')), {
      status: 255,
      message: "Can't open pid file: No such file or directory",
      code: 'IPLOG_ERR_PIDFILE_OPEN',
    });
  }));

  test('unreadable (a directory) or empty: "Error reading pid."', withDir((dir) => {
    mkdirSync(join(dir, 'd.pid'));
    writeFileSync(join(dir, 'empty.pid'), '');
    for (const f of ['d.pid', 'empty.pid']) {
      const r = killIplog(SIGTERM, join(dir, f));
      assert.equal(r.status, 255);
      assert.equal((r as { message: string }).message, 'Error reading pid.', f);
    }
  }));

  test('bad pids, including the ones strtoul() turned into kill(0) / kill(-1)', withDir((dir) => {
    const { deps, sent } = recordSignals();
    for (const [content, shown] of [
      ['abc\n', 'abc'],
      ['\n', ''],
      ['0\n', '0'],
      ['-1\n', '-1'],
      ['12 34\n', '12 34'],
      ['99999999999\n', '99999999999'],
    ]) {
      const f = join(dir, 'p.pid');
      writeFileSync(f, content);
      assert.deepEqual(killIplog(SIGTERM, f, deps), { status: 255, message: `Bad pid in ${f}: "${shown}"`, code: 'IPLOG_ERR_BAD_PID' });
    }
    assert.deepEqual(sent, []);
  }));

  test('what is accepted: first 15 bytes, cut at newline/NUL, leading blanks and +', withDir((dir) => {
    const { deps, sent } = recordSignals();
    const f = join(dir, 'p.pid');
    for (const content of ['123\n', ' 123', '+123\nrest', '123\0junk', `123\n${'x'.repeat(100)}`]) {
      writeFileSync(f, content);
      assert.deepEqual(killIplog(SIGHUP, f, deps), { status: 0 });
    }
    assert.deepEqual(sent, Array(5).fill([123, SIGHUP]));
    // More than 15 digits are cut: the original read 15 bytes.
    writeFileSync(f, '1234567890123456789\n');
    assert.equal((killIplog(SIGTERM, f, deps) as { message: string }).message, `Bad pid in ${f}: "123456789012345"`);
  }));

  test('kill() failure: strerror', withDir((dir) => {
    const f = join(dir, 'p.pid');
    writeFileSync(f, '4321\n');
    const deps: PidFileDeps = {
      readPidFile: () => Buffer.from('4321\n'),
      sendSignal: () => {
        throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH', syscall: 'kill' });
      },
    };
    assert.deepEqual(killIplog(SIGTERM, f, deps), {
      status: 255,
      message: "Can't send process signal 15: No such process",
      code: 'IPLOG_ERR_SIGNAL',
    });
  }));

  test('strerror texts', () => {
    assert.equal(strerror({ code: 'EACCES' }), 'Permission denied');
    assert.equal(strerror({ code: 'EPERM' }), 'Operation not permitted');
    assert.equal(strerror({ code: 'EWHATEVER' }), 'EWHATEVER');
  });
});

describe('real signals', () => {
  /** A child that reports SIGHUP and then waits to be killed. */
  function child(): Promise<{ pid: number; hup: Promise<void>; exit: Promise<NodeJS.Signals | null> }> {
    const proc = spawn(
      process.execPath,
      ['-e', "process.on('SIGHUP', () => process.stdout.write('hup\\n')); process.stdout.write('ready\\n'); setInterval(() => {}, 1000);"],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exit = new Promise<NodeJS.Signals | null>((res) => proc.on('exit', (_code, sig) => res(sig)));
    let out = '';
    let hupSeen: () => void = () => undefined;
    let readySeen: () => void = () => undefined;
    const hup = new Promise<void>((res) => (hupSeen = res));
    const ready = new Promise<void>((res) => (readySeen = res));
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) readySeen();
      if (out.includes('hup\n')) hupSeen();
    });
    return ready.then(() => ({ pid: proc.pid as number, hup, exit }));
  }

  test('iplog --pid-file F -R sends SIGHUP, -k sends SIGTERM', withDir(async (dir) => {
    const c = await child();
    const f = join(dir, 'iplog.pid');
    writeFileSync(f, `${c.pid}\n`);
    const hup = parseCommandLine(['--pid-file', f, '-R'], { readFile: () => undefined });
    assert.deepEqual(hup, { kind: 'exit', status: 0, stdout: '', stderr: '' });
    await c.hup;
    const term = parseCommandLine(['--pid-file', f, '-k'], { readFile: () => undefined });
    assert.deepEqual(term, { kind: 'exit', status: 0, stdout: '', stderr: '' });
    assert.equal(await c.exit, 'SIGTERM');
  }));
});

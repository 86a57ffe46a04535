/**
 * The journal follower (`journalctl -f -o json` as a child): what it is started with, the
 * cursor it keeps, a restart after journalctl exits, and no entry taken after stop() (the
 * session flushes the cursor at stop: an entry handed on later would be acted on without
 * its cursor being kept, and read again at the next start). journalctl is played by a
 * small shell script written here; test/logs/journal-live.test.ts runs the real one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalFollower, type JournalEntry } from '../../src/logs/journal';
import { createLogger } from '../../src/log';

const log = createLogger('silent');

function entry(msg: string, cursor: string): string {
  return JSON.stringify({ MESSAGE: msg, SYSLOG_IDENTIFIER: 'sshd', _SYSTEMD_UNIT: 'ssh.service', __REALTIME_TIMESTAMP: '1765000000000000', __CURSOR: cursor });
}

/** A fake journalctl: records its arguments, prints `first`, and on SIGTERM prints `onTerm` before it exits. */
function fake(dir: string, first: string, onTerm: string): { prog: string; argsFile: string } {
  const prog = join(dir, 'journalctl');
  const argsFile = join(dir, 'args');
  writeFileSync(
    prog,
    `#!/bin/sh\necho "$@" >> '${argsFile}'\ntrap 'printf "%s\\n" '"'"'${onTerm}'"'"'; exit 0' TERM\nprintf '%s\\n' '${first}'\nwhile :; do sleep 0.05; done\n`,
    { mode: 0o755 },
  );
  return { prog, argsFile };
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('from now the first time (-n 0), after the kept cursor otherwise', () => {
  const f = new JournalFollower({ units: ['ssh.service'], idents: ['sshd'], log, onEntry: () => undefined });
  assert.deepEqual(f.args(), ['-f', '-o', 'json', '--no-pager', '-u', 'ssh.service', '-t', 'sshd', '-n', '0']);
  const g = new JournalFollower({ units: ['ssh.service'], idents: [], cursor: 's=abc;i=2', log, onEntry: () => undefined });
  assert.deepEqual(g.args(), ['-f', '-o', 'json', '--no-pager', '-u', 'ssh.service', '--after-cursor=s=abc;i=2']);
});

test('an entry journalctl writes after stop() is not taken, and the cursor stays at the last entry taken', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iplog-journal-'));
  const { prog, argsFile } = fake(dir, entry('Failed password for root from 192.0.2.1 port 1 ssh2', 's=1'), entry('Failed password for root from 192.0.2.2 port 2 ssh2', 's=2'));
  const got: JournalEntry[] = [];
  const f = new JournalFollower({ units: ['ssh.service'], idents: [], journalctl: prog, log, onEntry: (e) => got.push(e) });
  f.start();
  await until(() => got.length === 1, 5000, 'the first entry');
  assert.equal(got[0]!.cursor, 's=1');
  assert.equal(got[0]!.unit, 'ssh.service');
  assert.equal(f.cursor, 's=1');
  f.stop();
  // the fake prints its second entry as it exits; give the pipe time to deliver it
  await until(() => readFileSync(argsFile, 'utf8').length > 0, 5000, 'the arguments');
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(
    got.map((e) => e.msg),
    ['Failed password for root from 192.0.2.1 port 1 ssh2'],
    'nothing after stop',
  );
  assert.equal(f.cursor, 's=1');
  assert.equal(f.entries, 1);
  assert.equal(f.restarts, 0, 'a stopped follower is not restarted');
});

test('journalctl exiting is restarted after the last cursor taken', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iplog-journal-'));
  const prog = join(dir, 'journalctl');
  const argsFile = join(dir, 'args');
  // prints one entry and exits at once, every time it is started
  writeFileSync(prog, `#!/bin/sh\necho "$@" >> '${argsFile}'\nprintf '%s\\n' '${entry('Invalid user admin from 192.0.2.3 port 3', 's=3')}'\n`, { mode: 0o755 });
  const got: JournalEntry[] = [];
  const f = new JournalFollower({ units: [], idents: ['sshd'], journalctl: prog, log, onEntry: (e) => got.push(e) });
  f.start();
  await until(() => existsSync(argsFile) && readFileSync(argsFile, 'utf8').trim().split('\n').length >= 2, 5000, 'the restart (after 1 s)');
  f.stop();
  const runs = readFileSync(argsFile, 'utf8').trim().split('\n');
  assert.equal(runs[0], '-f -o json --no-pager -t sshd -n 0');
  assert.equal(runs[1], '-f -o json --no-pager -t sshd --after-cursor=s=3');
  assert.ok(f.restarts >= 1);
});

/**
 * -u / -g (src/daemon/privileges.ts, spec §1.5): the order of the calls and the fatal
 * texts with recorded calls, then for real (root only) in a child process.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { dropPrivileges, PrivilegeError, type PrivilegeOps } from '../../src/daemon/privileges';

const USERS: Record<string, number> = { nobody: 65534, daemon: 1 };
const GROUPS: Record<string, number> = { nogroup: 65534, daemon: 1 };

function unknown(): Error {
  return Object.assign(new Error('unknown'), { code: 'ERR_UNKNOWN_CREDENTIAL' });
}

/** Recorded calls; names resolve from the tables above, `deny` makes set* fail with EPERM. */
function fake(deny = false): { ops: PrivilegeOps; calls: string[] } {
  const calls: string[] = [];
  const eperm = () => Object.assign(new Error('EPERM'), { code: 'EPERM' });
  const ops: PrivilegeOps = {
    setgid(id) {
      const n = typeof id === 'number' ? id : GROUPS[id];
      if (n === undefined) throw unknown();
      if (deny) throw eperm();
      calls.push(`setgid(${n})`);
    },
    setuid(id) {
      const n = typeof id === 'number' ? id : USERS[id];
      if (n === undefined) throw unknown();
      if (deny) throw eperm();
      calls.push(`setuid(${n})`);
    },
    setgroups(g) {
      if (deny) throw eperm();
      calls.push(`setgroups([${g.join(',')}])`);
    },
    primaryGid: (u) => (u === 'nobody' || u === 65534 ? 65534 : undefined),
  };
  return { ops, calls };
}

function fails(fn: () => void, message: string, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof PrivilegeError && e.message === message && e.code === code);
}

describe('drop_privs()', () => {
  test('group first (setgid, setgroups), then the user', () => {
    const { ops, calls } = fake();
    dropPrivileges('nobody', 'daemon', ops);
    assert.deepEqual(calls, ['setgid(1)', 'setgroups([])', 'setuid(65534)']);
  });

  test('numbers when no name matches', () => {
    const { ops, calls } = fake();
    dropPrivileges('1234', '4321', ops);
    assert.deepEqual(calls, ['setgid(4321)', 'setgroups([])', 'setuid(1234)']);
  });

  test('-u alone also takes the user\'s group and drops the supplementary groups (deviation)', () => {
    const { ops, calls } = fake();
    dropPrivileges('nobody', undefined, ops);
    assert.deepEqual(calls, ['setgid(65534)', 'setgroups([])', 'setuid(65534)']);
  });

  test('nothing given: nothing done', () => {
    const { ops, calls } = fake();
    dropPrivileges(undefined, undefined, ops);
    assert.deepEqual(calls, []);
  });

  test('fatal texts', () => {
    fails(() => dropPrivileges('nosuchuser', undefined, fake().ops), 'Unknown user: "nosuchuser"', 'IPLOG_ERR_UNKNOWN_USER');
    fails(() => dropPrivileges(undefined, 'nosuchgroup', fake().ops), 'Unknown group: "nosuchgroup"', 'IPLOG_ERR_UNKNOWN_GROUP');
    // a name shows its number (getent), as 2.2.3 printed the id it had looked up
    fails(() => dropPrivileges(undefined, 'daemon', fake(true).ops), 'setgid(1): Operation not permitted', 'IPLOG_ERR_SETID');
    fails(() => dropPrivileges(undefined, '7', fake(true).ops), 'setgid(7): Operation not permitted', 'IPLOG_ERR_SETID');
    fails(() => dropPrivileges('1000', undefined, fake(true).ops), 'setuid(1000): Operation not permitted', 'IPLOG_ERR_SETID');
  });
});

describe('for real', { skip: process.getuid?.() === 0 ? false : 'needs root (runs as root in CI)' }, () => {
  const script = (user: string | undefined, group: string | undefined) =>
    `const {dropPrivileges}=require(${JSON.stringify(join(__dirname, '..', '..', 'src', 'daemon', 'privileges.js'))});` +
    `try{dropPrivileges(${JSON.stringify(user)},${JSON.stringify(group)});}catch(e){console.log('ERR '+e.message);process.exit(0)}` +
    `console.log(JSON.stringify({uid:process.getuid(),euid:process.geteuid(),gid:process.getgid(),groups:process.getgroups()}))`;
  const run = (user?: string, group?: string) => spawnSync(process.execPath, ['-e', script(user, group)], { encoding: 'utf8' }).stdout.trim();

  test('-u nobody: uid, gid and groups of nobody, no way back', () => {
    const r = JSON.parse(run('nobody'));
    assert.equal(r.uid, 65534);
    assert.equal(r.euid, 65534);
    assert.equal(r.gid, 65534);
    assert.ok(r.groups.every((g: number) => g === 65534), `groups ${r.groups}`);
  });

  test('-u nobody -g daemon', () => {
    const r = JSON.parse(run('nobody', 'daemon'));
    assert.equal(r.uid, 65534);
    assert.equal(r.gid, 1);
  });

  test('the messages of 2.2.3', () => {
    assert.equal(run('nosuchuser'), 'ERR Unknown user: "nosuchuser"');
    assert.equal(run(undefined, 'nosuchgroup'), 'ERR Unknown group: "nosuchgroup"');
  });
});

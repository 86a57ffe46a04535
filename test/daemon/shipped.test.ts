/**
 * Shipped files: the man pages are the rendering of the option table (run `npm run docs`
 * after changing an option) and are listed in package.json; the systemd unit and the
 * logrotate file say what docs and code promise, and pass `systemd-analyze verify` and
 * `logrotate -d` where those tools exist.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderIplog8, renderIplogConf5 } from '../../src/config/man';
import { OPTIONS } from '../../src/config/options';
import { root } from './helpers';

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; man?: string[] };
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

describe('man pages', () => {
  test('docs/man/iplog.8 and iplog.conf.5 are current (npm run docs)', () => {
    assert.equal(readFileSync(join(root, 'docs', 'man', 'iplog.8'), 'utf8'), renderIplog8(pkg.version));
    assert.equal(readFileSync(join(root, 'docs', 'man', 'iplog.conf.5'), 'utf8'), renderIplogConf5(pkg.version));
  });

  test('every option is in iplog(8), every statement and set keyword in iplog.conf(5)', () => {
    const eight = renderIplog8(pkg.version);
    const five = renderIplogConf5(pkg.version);
    for (const o of OPTIONS) {
      for (const name of o.long) assert.ok(eight.includes(`\\-\\-${name.replace(/-/g, '\\-')}`), `--${name}`);
      if (o.setKeyword !== undefined) assert.ok(five.includes(`set ${o.setKeyword.replace(/-/g, '\\-')}`), o.setKeyword);
      if (o.statement !== undefined) assert.ok(five.includes(`\\fB${o.statement.replace(/-/g, '\\-')}\\fR`), o.statement);
    }
  });

  test('package.json lists them', () => {
    assert.deepEqual(pkg.man, ['./docs/man/iplog.8', './docs/man/iplog.conf.5']);
  });

  test('man renders them without warnings', { skip: has('man') ? false : 'man is not installed' }, () => {
    for (const page of ['iplog.8', 'iplog.conf.5']) {
      const r = spawnSync('man', ['--warnings', '-l', '-E', 'UTF-8', join(root, 'docs', 'man', page)], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '80' } });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '', page);
    }
  });
});

describe('config/iplog.service', () => {
  const unit = readFileSync(join(root, 'config', 'iplog.service'), 'utf8');
  const lines = unit.split('\n').filter((l) => !l.startsWith('#'));

  test('foreground under Type=simple, hardened, only CAP_NET_RAW', () => {
    for (const want of [
      'Type=simple',
      'ExecStart=/usr/bin/iplog -o --pid-file /run/iplog/iplog.pid',
      'ExecReload=/bin/kill -HUP $MAINPID',
      'CapabilityBoundingSet=CAP_NET_RAW',
      'AmbientCapabilities=CAP_NET_RAW',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET',
      'RuntimeDirectory=iplog',
      'StateDirectory=iplog',
      'RestartPreventExitStatus=255',
    ]) {
      assert.ok(lines.includes(want), want);
    }
  });

  test('systemd-analyze verify', { skip: has('systemd-analyze') ? false : 'systemd-analyze is not installed' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-unit-'));
    try {
      // verify wants the executable to exist: point it at one that does
      const f = join(dir, 'iplog.service');
      writeFileSync(f, unit.replace('ExecStart=/usr/bin/iplog', 'ExecStart=/bin/true').replace(/^Documentation=.*$/m, ''));
      const r = spawnSync('systemd-analyze', ['verify', f], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr.trim(), '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('config/iplog.logrotate', () => {
  const text = readFileSync(join(root, 'config', 'iplog.logrotate'), 'utf8');

  test('copytruncate (iplog appends; a SIGHUP would reset the detectors)', () => {
    assert.match(text, /^\/var\/log\/iplog\/\*\.log \{$/m);
    assert.match(text, /^\s+copytruncate$/m);
  });

  test('logrotate -d accepts it', { skip: has('logrotate') ? false : 'logrotate is not installed' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-rot-'));
    try {
      const r = spawnSync('logrotate', ['-d', '-s', join(dir, 'state'), join(root, 'config', 'iplog.logrotate')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stderr + r.stdout, /error/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

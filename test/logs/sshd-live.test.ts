/**
 * Live, end to end: a real sshd (namespace `srv`, logging through a real rsyslogd to an
 * auth.log), a real ssh client (namespace `cli`) failing passwords with sshpass, and the
 * live sensor in `srv` following that auth.log with the shipped rules and banning
 * through nftables (inside `srv` only). The guesser is banned and its packets dropped;
 * a successful login from another address bans nothing. test/logs/daemon-lab.ts.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ATTACKER4, DaemonLab, GOOD4, SRV4, TEST_PASSWORD, TEST_USER, labSkipReason, sleep } from './daemon-lab';
import { opLogRecords } from '../helpers/oplog';

const root = join(__dirname, '..', '..', '..');
const BIN = join(root, 'bin', 'iplog');
const RULES = join(root, 'config', 'log-rules.conf');

function liveSkip(): string | null {
  const s = labSkipReason(['sshd', 'sshpass', 'ssh', 'rsyslogd', 'nft', 'openssl', 'ss']);
  if (s !== null) return s;
  const ns = `iplog-lliveprobe-${process.pid}`;
  spawnSync('ip', ['netns', 'add', ns]);
  try {
    spawnSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, BIN, '--config', '/dev/null', '--pid-file', join(tmpdir(), `iplog-lliveprobe-${process.pid}.pid`), '-o', '-L', '-N', '-i', 'lo'], { encoding: 'utf8', timeout: 3000, killSignal: 'SIGKILL' });
    const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    if (/live capture is not available/.test(text)) return 'the live sensor is not available in this build';
    return null;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

const skip = liveSkip();

function elements(lab: DaemonLab): string[] {
  const r = lab.run(lab.srv, ['nft', '-j', 'list', 'set', 'inet', 'iplog', 'ban4']);
  if (r.status !== 0) return [];
  const doc = JSON.parse(r.stdout) as { nftables: { set?: { elem?: unknown[] } }[] };
  const out: string[] = [];
  for (const it of doc.nftables) for (const e of it.set?.elem ?? []) out.push(typeof e === 'string' ? e : (e as { elem: { val: string } }).elem.val);
  return out.sort();
}

describe('live: sshd password failures → auth.log → iplog → nftables', { skip: skip ?? undefined }, () => {
  let lab: DaemonLab;
  let dir: string;
  before(async () => {
    lab = new DaemonLab('sshlive', { logger: 'rsyslog' });
    await lab.up();
    dir = mkdtempSync(join(tmpdir(), 'iplog-sshlive-'));
  });
  after(async () => {
    await lab?.down();
  });

  test('the password guesser is banned and dropped; the user who logs in is not', async () => {
    const conf = join(dir, 'iplog.conf');
    writeFileSync(conf, `log_rules ${RULES}\nlog_file ${lab.path('auth.log')} rules sshd-*\nlog_state ${join(dir, 'logpos.json')}\n`);
    const pid = join(dir, 'iplog.pid');
    const child = spawn('ip', ['netns', 'exec', lab.srv, process.execPath, BIN, '--config', conf, '-o', '-L', '-N', '-i', 'vsrv', '--pid-file', pid, '--ban-backend', 'nftables', '--ban-time', '120', '--ban-state', join(dir, 'bans.json')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TZ: 'UTC', LC_ALL: 'C', IPLOG_LOG_LEVEL: 'info' },
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    const until = async (pred: () => boolean, ms: number, what: string) => {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}\nstdout:\n${out}\nstderr:\n${err.slice(-3000)}\nauth.log:\n${lab.read('auth.log')}`);
        await sleep(100);
      }
    };
    try {
      await until(() => opLogRecords(err).some((r) => r.msg === 'following logs') && opLogRecords(err).some((r) => r.msg === 'iplog started'), 15_000, 'the sensor to start');
      await sleep(500);
      // the user logs in (and out) with the right password
      assert.equal(lab.sshPassword(GOOD4, TEST_USER, TEST_PASSWORD), 0, 'the successful login');
      await until(() => /Accepted password for iplogtest from 203\.0\.113\.6/.test(lab.read('auth.log')), 10_000, 'the Accepted line');
      // the guesser: wrong passwords, one connection each (sshpass)
      for (let i = 0; i < 4 && !out.includes(`BAN: banned ${ATTACKER4}`); i++) {
        assert.notEqual(lab.sshPassword(ATTACKER4, 'root', `guess-${i}`), 0);
        await sleep(300);
      }
      await until(() => out.includes(`BAN: banned ${ATTACKER4}`), 10_000, 'the BAN line');
      await until(() => elements(lab).includes(ATTACKER4), 5000, 'the nftables element');
      const ban = out.split('\n').find((l) => l.includes(`BAN: banned ${ATTACKER4}`))!;
      assert.match(ban, /\(log: sshd-failed-password(, log: sshd-preauth-disconnect)?; score \d+; offence 1; evidence proven\)$/);
      assert.match(out, new RegExp(`log: sshd-failed-password from ${ATTACKER4.replace(/\./g, '\\.')} \\(`));
      // dropped now: the next attempt cannot even connect
      const blocked = lab.client(['ssh', '-n', '-b', ATTACKER4, '-o', 'ConnectTimeout=2', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', `root@${SRV4}`, 'true']);
      assert.match(blocked.stderr, /timed out/i);
      // the user's address: no match, no ban, no element; and it can still log in
      // (its connection is an iplog line like any other: no log match, no ban)
      assert.equal(out.split('\n').some((l) => l.includes(GOOD4) && /log:|BAN/.test(l)), false, `no match nor ban for ${GOOD4}:\n${out}`);
      assert.deepEqual(elements(lab), [ATTACKER4]);
      assert.equal(lab.sshPassword(GOOD4, TEST_USER, TEST_PASSWORD), 0);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
      lab.run(lab.srv, ['nft', 'delete', 'table', 'inet', 'iplog']);
    }
    // the position of auth.log was kept for a restart
    // (sshd may still write session lines after iplog stopped: those are for the next start)
    const st = JSON.parse(readFileSync(join(dir, 'logpos.json'), 'utf8')) as { files: Record<string, { pos: number }> };
    const text = readFileSync(lab.path('auth.log'));
    const pos = st.files[lab.path('auth.log')]!.pos;
    assert.ok(pos <= text.length && text[pos - 1] === 10, `position ${pos} at the end of a line`);
    const lastFailure = text.lastIndexOf(`Failed password for root from ${ATTACKER4}`);
    assert.ok(lastFailure > 0 && pos > lastFailure, 'every line the sensor acted on is behind the kept position');
  });
});

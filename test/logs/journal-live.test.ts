/**
 * Live, end to end, through the systemd journal: a real systemd-journald (started by the
 * lab in the server's own mount namespace: this machine's journal, if it has one, is not
 * touched), a real sshd logging to it from a cgroup named like a systemd unit (journald
 * gives its entries _SYSTEMD_UNIT, as on a systemd machine), a real ssh client failing
 * passwords, and the live sensor following the journal with `log_journal unit UNIT` (a
 * `journalctl -f -o json -u UNIT` child, run where that journald is) and banning through
 * nftables inside the server namespace. Then the cursor: iplog is stopped, another
 * address fails once while it is down, and the restarted iplog reads that entry (once) and
 * no entry twice (no ban again for the guesser). An entry the guesser's last connection
 * wrote as the first run stopped is read by the second run: it was new to iplog, so that
 * is not a repeat; the check is per kind, the two runs together against what the journal
 * holds. test/logs/daemon-lab.ts.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ATTACKER4, DaemonLab, GOOD4, OTHER4, TEST_PASSWORD, TEST_USER, labSkipReason, sleep } from './daemon-lab';
import { opLogRecords } from '../helpers/oplog';

const root = join(__dirname, '..', '..', '..');
const BIN = join(root, 'bin', 'iplog');
const RULES = join(root, 'config', 'log-rules.conf');
/** sshd's unit (a cgroup of that name in the lab: unique per run) */
const UNIT = `iplog-jlive-${process.pid}-ssh.service`;

function liveSkip(): string | null {
  const s = labSkipReason(['sshd', 'sshpass', 'ssh', 'nft', 'openssl', 'ss', 'nsenter', 'journalctl', '/lib/systemd/systemd-journald']);
  if (s !== null) return s;
  const ns = `iplog-jliveprobe-${process.pid}`;
  spawnSync('ip', ['netns', 'add', ns]);
  try {
    spawnSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, BIN, '--config', '/dev/null', '--pid-file', join(tmpdir(), `iplog-jliveprobe-${process.pid}.pid`), '-o', '-L', '-N', '-i', 'lo'], { encoding: 'utf8', timeout: 3000, killSignal: 'SIGKILL' });
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

interface Sensor {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  stop: () => Promise<void>;
}

describe('live: sshd → systemd-journald → iplog (log_journal unit) → nftables; the cursor across a restart', { skip: skip ?? undefined }, () => {
  let lab: DaemonLab;
  let dir: string;
  before(async () => {
    lab = new DaemonLab('jlive', { logger: 'journald', sshdUnit: UNIT });
    await lab.up();
    dir = mkdtempSync(join(tmpdir(), 'iplog-jlive-'));
  });
  after(async () => {
    await lab?.down();
  });

  const journal = (): string => spawnSync(lab.inServer()[0]!, [...lab.inServer().slice(1), 'journalctl', '--no-pager', '-u', UNIT, '-o', 'short-iso'], { encoding: 'utf8' }).stdout ?? '';

  function start(conf: string): Sensor {
    const child = spawn(lab.inServer()[0]!, [...lab.inServer().slice(1), process.execPath, BIN, '--config', conf, '-o', '-L', '-N', '-i', 'vsrv', '--pid-file', join(dir, 'iplog.pid'), '--ban-backend', 'nftables', '--ban-time', '120', '--ban-state', join(dir, 'bans.json')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TZ: 'UTC', LC_ALL: 'C', IPLOG_LOG_LEVEL: 'info' },
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    return {
      child,
      out: () => out,
      err: () => err,
      stop: async () => {
        if (child.exitCode !== null) return;
        child.kill('SIGTERM');
        await new Promise((r) => child.on('exit', r));
      },
    };
  }

  async function until(s: Sensor, pred: () => boolean, ms: number, what: string): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}\nstdout:\n${s.out()}\nstderr:\n${s.err().slice(-3000)}\njournal (sshd):\n${journal()}`);
      await sleep(100);
    }
  }

  const started = (s: Sensor) => () => opLogRecords(s.err()).some((r) => r.msg === 'following logs') && opLogRecords(s.err()).some((r) => r.msg === 'iplog started');

  test('the guesser is banned from journal entries; after a restart only the entry written meanwhile is read', async () => {
    const conf = join(dir, 'iplog.conf');
    const state = join(dir, 'logpos.json');
    writeFileSync(conf, `log_rules ${RULES}\nlog_journal unit ${UNIT} rules sshd-*\nlog_state ${state}\n`);
    const esc = (a: string) => a.replace(/\./g, '\\.');
    let s = start(conf);
    try {
      await until(s, started(s), 30_000, 'the sensor to start');
      // journalctl -f -n 0 starts "from now": give it the moment to open the journal
      await sleep(1000);
      assert.equal(lab.sshPassword(GOOD4, TEST_USER, TEST_PASSWORD), 0, 'the successful login');
      await until(s, () => /Accepted password for iplogtest from 203\.0\.113\.6/.test(journal()), 10_000, 'the Accepted entry in the journal');
      for (let i = 0; i < 4 && !s.out().includes(`BAN: banned ${ATTACKER4}`); i++) {
        assert.notEqual(lab.sshPassword(ATTACKER4, 'root', `guess-${i}`), 0);
        await sleep(300);
      }
      await until(s, () => s.out().includes(`BAN: banned ${ATTACKER4}`), 10_000, 'the BAN line');
      await until(s, () => elements(lab).includes(ATTACKER4), 5000, 'the nftables element');
      const ban = s.out().split('\n').find((l) => l.includes(`BAN: banned ${ATTACKER4}`))!;
      assert.match(ban, /\(log: sshd-failed-password(, log: sshd-preauth-disconnect)?; score \d+; offence 1; evidence proven\)$/);
      // the source is named by the journal match
      assert.match(s.out(), new RegExp(`log: sshd-failed-password from ${esc(ATTACKER4)} \\(journal:${esc(UNIT)}\\)`));
      assert.equal(s.out().split('\n').some((l) => l.includes(GOOD4) && /log:|BAN/.test(l)), false, `no match nor ban for ${GOOD4}:\n${s.out()}`);
      assert.deepEqual(elements(lab), [ATTACKER4]);
    } finally {
      await s.stop();
    }
    const firstRun = s.out();
    const cursor = (JSON.parse(readFileSync(state, 'utf8')) as { journal: Record<string, string> }).journal[`unit:${UNIT}`];
    assert.ok(typeof cursor === 'string' && cursor.startsWith('s='), `a journal cursor was kept: ${cursor}`);

    // while iplog is down: one wrong password from another address
    assert.notEqual(lab.sshPassword(OTHER4, 'root', 'while-down'), 0);
    await until(s, () => new RegExp(`Failed password for root from ${esc(OTHER4)}`).test(journal()), 10_000, 'the entry written while iplog was down');

    s = start(conf);
    try {
      await until(s, started(s), 30_000, 'the restarted sensor');
      await until(s, () => new RegExp(`log: sshd-failed-password from ${esc(OTHER4)} `).test(s.out()), 10_000, 'the entry written while iplog was down');
      await sleep(1500);
    } finally {
      await s.stop();
      lab.run(lab.srv, ['nft', 'delete', 'table', 'inet', 'iplog']);
    }
    const second = s.out();
    const count = (text: string, re: RegExp) => text.split('\n').filter((l) => re.test(l)).length;
    assert.equal(count(second, new RegExp(`log: sshd-failed-password from ${esc(OTHER4)} `)), 1, `read once:\n${second}`);
    // no entry read twice: the guesser's last "Connection closed" can reach the journal as
    // the first run stops, and the second run then reads it, once (nothing is lost); so per
    // kind, what the two runs read together is at most what the journal holds
    const jtext = journal();
    const kinds: [string, RegExp][] = [
      ['sshd-failed-password', new RegExp(`Failed password for .* from ${esc(ATTACKER4)} port \\d+`)],
      ['sshd-preauth-disconnect', new RegExp(`(?:Connection closed by|Disconnected from|Connection reset by) .*${esc(ATTACKER4)} port \\d+ \\[preauth\\]`)],
    ];
    for (const [rule, inJournal] of kinds) {
      const read = new RegExp(`log: ${rule} from ${esc(ATTACKER4)} `);
      assert.ok(count(firstRun, read) + count(second, read) <= count(jtext, inJournal), `${rule}: no entry read twice:\nfirst run:\n${firstRun}\nsecond run:\n${second}\njournal:\n${jtext}`);
    }
    assert.equal(count(second, new RegExp(`BAN: banned ${esc(ATTACKER4)} `)), 0, `no second ban:\n${second}`);
    assert.ok(count(firstRun, new RegExp(`log: \\S+ from ${esc(ATTACKER4)} `)) >= 2);
  });
});

/**
 * Ban control by hand (issue 13 item 3) without a kernel: `iplog bans add|del|allow|show|
 * list` requests on a live-mode manager with a fake nftables and a state file; `del`
 * sticks across the resync and a restart, and the evidence gathered before it does not
 * ban again; manual bans and allows persist and pass the never-ban list; the control
 * socket's mode and protocol; a reload with new ban settings (SIGHUP) applies them and
 * lifts what a new ban_allow covers; conntrack -D after each ban, failures counted.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Harness } from '../helpers/engine';
import { memLogger, facts, FakeNft } from './helpers';
import { BanSession } from '../../src/ban/attach';
import { defaultBanSettings } from '../../src/ban/config';
import { handleRequest, ControlServer, controlPathFor, MAX_REQUEST } from '../../src/ban/control';
import { ask, parseBansArgs, renderReply } from '../../src/cli/bans';
import { reloadConfiguration, parseCommandLine } from '../../src/cli/program';
import { event, type IplogEvent } from '../../src/output/event';
import type { BanSettings, Settings } from '../../src/config/settings';
import type { BanManager } from '../../src/ban/manager';
import type { Runner } from '../../src/ban/exec';
import { IpAddr } from '../../src/net/addr';
import { parseAddr } from '../../src/ban/addr';
import { Engine } from '../../src/pipeline';

const ip = (t: string): IpAddr => IpAddr.parse(t)!;
const T0 = 1_700_000_000;
const VICTIM = '198.51.100.10';

function scan(t: number, src: string): IplogEvent {
  return event('scan.detected', t, ip(src), { dst: ip(VICTIM), detector: 'syn-scan', count: 12, bytes: 240, detail: { title: 'TCP: SYN scan', spoofable: 0, proof: true } });
}

interface Live {
  h: Harness;
  session: BanSession;
  m: BanManager;
  lines: () => string[];
  records: () => Record<string, unknown>[];
}

async function live(dir: string, runner: Runner, wall: number, ban: Partial<BanSettings> = {}, settings: Partial<Settings> = {}): Promise<Live> {
  const h = new Harness({}, { replayFile: undefined, ban: { ...defaultBanSettings(), backend: 'nftables', prefixBudget: 100_000, stateFile: join(dir, 'bans.json'), ...ban }, ...settings });
  const { log, records } = memLogger();
  const session = new BanSession(h.engine.settings, { mode: 'live', log, probe: () => facts(), runner, queue: { sleep: async () => undefined }, wallNow: () => wall });
  await session.onEngine(h.engine);
  assert.ok(session.manager);
  return { h, session, m: session.manager, lines: () => h.lines(), records };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'iplog-ctl-'));
}

describe('bans by hand (control requests)', () => {
  test('add: a ban by hand, in the firewall and the state file; the never-ban list refuses', async () => {
    const dir = tmp();
    try {
      const nft = new FakeNft(() => T0);
      const a = await live(dir, nft.runner, T0);
      let r = handleRequest(a.m, { cmd: 'add', addr: '203.0.113.7', seconds: 120 }, T0);
      assert.equal(r.ok, true);
      assert.deepEqual(a.lines(), ['BAN: banned 203.0.113.7 for 120 seconds (by hand; offence 1)']);
      // own address, gateway, loopback: refused, nothing banned
      for (const bad of ['203.0.113.242', '203.0.113.241', '127.0.0.1']) {
        r = handleRequest(a.m, { cmd: 'add', addr: bad }, T0);
        assert.equal(r.ok, false, bad);
        assert.match((r as { error: string }).error, /^not banning /);
      }
      r = handleRequest(a.m, { cmd: 'add', addr: 'not-an-address' }, T0);
      assert.deepEqual(r, { ok: false, error: 'invalid address: "not-an-address"' });
      r = handleRequest(a.m, { cmd: 'add', addr: '203.0.113.8' }, T0);
      assert.equal((r as unknown as { seconds: number }).seconds, 3600, 'without --for: the ban time of the offence');
      await a.session.close();
      assert.deepEqual(nft.elements('ban4'), ['203.0.113.7', '203.0.113.8']);
      const st = JSON.parse(readFileSync(join(dir, 'bans.json'), 'utf8'));
      assert.deepEqual(st.bans.map((b: { addr: string; reason: string }) => [b.addr, b.reason]), [
        ['203.0.113.7', 'by hand; offence 1'],
        ['203.0.113.8', 'by hand; offence 1'],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('del sticks: not put back by the resync nor by a restart; old evidence does not ban again, new evidence does', async () => {
    const dir = tmp();
    try {
      let clock = T0;
      const nft = new FakeNft(() => clock);
      const a = await live(dir, nft.runner, clock, { resyncSec: 60 });
      a.h.engine.advance(clock);
      a.m.onEvent(scan(clock, '203.0.113.5'));
      assert.deepEqual(a.lines(), ['BAN: banned 203.0.113.5 for 3600 seconds (TCP: SYN scan; score 10; offence 1; evidence proven)']);
      clock += 5;
      const r = handleRequest(a.m, { cmd: 'del', addr: '203.0.113.5' }, clock);
      assert.deepEqual(r, { ok: true, addr: '203.0.113.5', wasBanned: true });
      assert.equal(a.lines()[1], 'BAN: unbanned 203.0.113.5 (lifted by hand)');
      await a.session.close();
      assert.deepEqual(nft.elements('ban4'), [], 'deleted from the kernel set too (not left to its timeout)');
      // the resync: nothing to put back
      clock += 60;
      await a.m.resync(clock);
      assert.deepEqual(nft.elements('ban4'), []);
      // an event of before the lift (a late one) does not count
      a.m.onEvent(scan(clock - 65, '203.0.113.5'));
      assert.equal(a.m.list().length, 0);
      assert.equal(a.m.stats.liftedIgnored, 1);

      // someone (or a failed unban) leaves the element in the firewall; the process restarts
      nft.sets.get('ban4')!.set('203.0.113.5', clock + 1000);
      clock += 10;
      nft.calls.length = 0;
      const b = await live(dir, nft.runner, clock, { resyncSec: 60 });
      await b.session.close();
      assert.deepEqual(b.m.list(), [], 'a restart does not adopt what was lifted by hand');
      assert.deepEqual(nft.elements('ban4'), [], 'and deletes it in the start-up transaction');
      assert.match(nft.calls[1]!.stdin!, /delete element inet iplog ban4 \{ 203\.0\.113\.5 \}/);
      const show = handleRequest(b.m, { cmd: 'show', addr: '203.0.113.5' }, clock) as Record<string, unknown>;
      assert.deepEqual(show.lifted, { at: T0 + 5 });
      // new evidence: banned again, and the mark is gone
      b.h.engine.advance(clock + 1);
      b.m.onEvent(scan(clock + 1, '203.0.113.5'));
      assert.equal(b.lines().at(-1), 'BAN: banned 203.0.113.5 for 7200 seconds (TCP: SYN scan; score 10; offence 2; evidence proven)');
      assert.equal((handleRequest(b.m, { cmd: 'show', addr: '203.0.113.5' }, clock + 1) as Record<string, unknown>).lifted, null);
      await b.session.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a fleet decision does not re-ban an address lifted by hand; iplog bans add does, and ends the lift', async () => {
    const dir = tmp();
    try {
      const nft = new FakeNft(() => T0);
      const a = await live(dir, nft.runner, T0);
      handleRequest(a.m, { cmd: 'del', addr: '203.0.113.5' }, T0);
      assert.equal(a.m.fleetBan(parseAddr('203.0.113.5')!, 600, 'crowdsec/ssh-bf'), false);
      assert.equal(a.lines().at(-1), 'BAN: not banning 203.0.113.5 (lifted by hand (iplog bans del))');
      assert.equal(handleRequest(a.m, { cmd: 'add', addr: '203.0.113.5', seconds: 60 }, T0 + 1).ok, true);
      assert.deepEqual((handleRequest(a.m, { cmd: 'list' }, T0 + 1) as unknown as { lifted: unknown[] }).lifted, []);
      await a.session.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a replay opens no control socket', () => {
    const dir = tmp();
    try {
      const bin = join(__dirname, '..', '..', '..', 'bin', 'iplog');
      const pcap = join(__dirname, '..', '..', '..', 'pcaps', 'scan', 'sweep-many-destinations.pcap');
      const r = spawnSync(process.execPath, [bin, '-r', pcap, '-N', '--quiet', '--config', '/dev/null', '--pid-file', join(dir, 'iplog.pid'), '--ban-backend', 'dry-run'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(existsSync(join(dir, 'iplog.sock')), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a manual `nft delete element` alone is put back by the resync (iplog bans del is the way)', async () => {
    const dir = tmp();
    try {
      let clock = T0;
      const nft = new FakeNft(() => clock);
      const a = await live(dir, nft.runner, clock);
      a.h.engine.advance(clock);
      a.m.onEvent(scan(clock, '203.0.113.5'));
      await a.session.close();
      nft.sets.get('ban4')!.delete('203.0.113.5');
      clock += 30;
      await a.m.resync(clock);
      await a.session.close();
      assert.deepEqual(nft.elements('ban4'), ['203.0.113.5']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('allow NET: persistent, lifts the bans inside it, refuses new ones; allow --del forgets it', async () => {
    const dir = tmp();
    try {
      let clock = T0;
      const nft = new FakeNft(() => clock);
      const a = await live(dir, nft.runner, clock);
      a.h.engine.advance(clock);
      a.m.onEvent(scan(clock, '203.0.113.5'));
      a.m.onEvent(scan(clock, '198.51.100.77'));
      const r = handleRequest(a.m, { cmd: 'allow', net: '203.0.113.0/24' }, clock);
      assert.deepEqual(r, { ok: true, net: '203.0.113.0/24', lifted: ['203.0.113.5'] });
      assert.equal(a.lines().at(-1), 'BAN: unbanned 203.0.113.5 (allowlisted by 203.0.113.0/24 (iplog bans allow))');
      assert.deepEqual(handleRequest(a.m, { cmd: 'allow', net: '203.0.113.300/24' }, clock).ok, false);
      await a.session.close();
      // a restart keeps the allow
      clock += 10;
      const b = await live(dir, nft.runner, clock);
      assert.equal((handleRequest(b.m, { cmd: 'add', addr: '203.0.113.9' }, clock) as { error: string }).error, 'not banning 203.0.113.9 (allowlisted by 203.0.113.0/24 (iplog bans allow))');
      const list = handleRequest(b.m, { cmd: 'list' }, clock) as Record<string, unknown>;
      assert.deepEqual((list.allowed as { net: string }[]).map((x) => x.net), ['203.0.113.0/24']);
      assert.deepEqual((list.bans as { addr: string }[]).map((x) => x.addr), ['198.51.100.77']);
      assert.deepEqual(handleRequest(b.m, { cmd: 'allow', net: '203.0.113.0/24', remove: true }, clock), { ok: true, net: '203.0.113.0/24', removed: true });
      assert.equal(handleRequest(b.m, { cmd: 'add', addr: '203.0.113.9' }, clock).ok, true);
      await b.session.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('show: the explain trail of the decision (events, weights, grade fields, rule, duration), kept across a restart', async () => {
    const dir = tmp();
    try {
      const nft = new FakeNft(() => T0);
      const a = await live(dir, nft.runner, T0);
      a.h.engine.advance(T0);
      a.m.onEvent(scan(T0, '203.0.113.5'));
      await a.session.close();
      const b = await live(dir, nft.runner, T0 + 5);
      const r = handleRequest(b.m, { cmd: 'show', addr: '203.0.113.5' }, T0 + 5) as Record<string, unknown>;
      assert.equal(r.banned, true);
      const trail = r.trail as Record<string, unknown>;
      assert.equal(trail.rule, 'score 10 >= threshold 10 within 600 s');
      assert.equal(trail.duration, 'min(3600 × 2^0, 604800) = 3600 s');
      assert.deepEqual(trail.events, [{ time: T0, kind: 'scan.detected', detector: 'syn-scan', title: 'TCP: SYN scan', weight: 10, spoofable: 0, proof: true }]);
      const text = renderReply({ cmd: 'show', addr: '203.0.113.5' }, r as { ok: true });
      assert.match(text, /^203\.0\.113\.5: banned since 2023-11-14T22:13:20Z until 2023-11-14T23:13:20Z \(59m55s left; offence 1\)\n/);
      assert.match(text, /rule +score 10 >= threshold 10 within 600 s/);
      assert.match(text, /TCP: SYN scan {2}weight 10 {2}spoofable=0 proof=true/);
      await b.session.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('reload (SIGHUP) applies the ban settings', () => {
  test('a new ban_allow lifts a ban it covers; a new threshold and ban time apply; bans that still hold keep their end', async () => {
    const dir = tmp();
    try {
      let clock = T0;
      const nft = new FakeNft(() => clock);
      const a = await live(dir, nft.runner, clock);
      a.h.engine.advance(clock);
      a.m.onEvent(scan(clock, '203.0.113.5'));
      a.m.onEvent(scan(clock, '198.51.100.77'));
      const s = a.h.engine.settings;
      s.ban!.allow = ['203.0.113.0/28'];
      s.ban!.threshold = 20;
      s.ban!.timeSec = 600;
      // the daemon's restart: a new engine, the same session
      const e2 = new Engine(s, a.h.engine.out.sink, null);
      await a.session.onEngine(e2);
      assert.deepEqual(a.lines().slice(2), ['BAN: unbanned 203.0.113.5 (allowlisted by 203.0.113.0/28)']);
      assert.deepEqual(a.m.list().map((b) => [b.addr.text, b.until]), [['198.51.100.77', T0 + 3600]]);
      assert.equal(a.m.policy.threshold, 20);
      clock += 1;
      a.m.onEvent(scan(clock, '198.51.100.88'));
      assert.equal(a.m.list().length, 1, 'one scan (10) is below the new threshold (20)');
      a.m.onEvent(scan(clock, '198.51.100.88'));
      assert.match(a.lines().at(-1)!, /^BAN: banned 198\.51\.100\.88 for 600 seconds/);
      assert.ok(a.records().some((r) => r.msg === 'ban settings reloaded'));
      await a.session.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('reloadConfiguration reads the ban settings anew: the file, then the command line\'s ban options', () => {
    const dir = tmp();
    try {
      const conf = join(dir, 'iplog.conf');
      writeFileSync(conf, 'ban_allow 192.0.2.0/24\nban_threshold 30\n');
      const cli = parseCommandLine(['--config', conf, '--ban-backend', 'nftables', '--ban-allow', '198.51.100.0/24']);
      assert.equal(cli.kind, 'run');
      const s = (cli as { settings: Settings }).settings;
      assert.deepEqual(s.ban!.allow, ['192.0.2.0/24', '198.51.100.0/24']);
      writeFileSync(conf, 'ban_allow 203.0.113.0/24\n');
      const r = reloadConfiguration(s);
      assert.equal(r.fatal, undefined);
      assert.deepEqual(s.ban!.allow, ['203.0.113.0/24', '198.51.100.0/24'], 'the removed line is gone, not accumulated');
      assert.equal(s.ban!.threshold, 10, 'back to the default when the file no longer sets it');
      assert.equal(s.ban!.backend, 'nftables');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('conntrack after a ban', () => {
  test('conntrack -D -s ADDR after each ban (IPv4 and IPv6); "0 flow entries" is success; a failure is counted, never fatal', async () => {
    const dir = tmp();
    try {
      const nft = new FakeNft(() => T0);
      const calls: string[] = [];
      let fail = false;
      const runner: Runner = async (argv, stdin) => {
        if (argv[0] !== 'conntrack') return nft.runner(argv, stdin);
        calls.push(argv.join(' '));
        if (fail) return { ok: false, status: 1, stdout: '', stderr: 'conntrack v1.4.7 (conntrack-tools): Operation failed: invalid parameters' };
        return { ok: false, status: 1, stdout: '', stderr: 'conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.' };
      };
      const a = await live(dir, runner, T0);
      a.h.engine.advance(T0);
      a.m.onEvent(scan(T0, '203.0.113.5'));
      a.m.onEvent(scan(T0, '2001:db8::5'));
      await a.session.close();
      assert.deepEqual(calls, ['conntrack -D -s 203.0.113.5', 'conntrack -D -f ipv6 -s 2001:db8::5']);
      assert.equal(a.session.commands!.failed, 0);
      fail = true;
      handleRequest(a.m, { cmd: 'add', addr: '203.0.113.6' }, T0);
      await a.session.close();
      assert.equal(calls.length, 3 + 3, 'retried like any command');
      assert.equal(a.session.commands!.failed, 1);
      assert.deepEqual(nft.elements('ban4'), ['203.0.113.5', '203.0.113.6'], 'the ban itself stands');
      // off: --ban-conntrack no
      calls.length = 0;
      const b = await live(dir, runner, T0, { conntrack: false });
      handleRequest(b.m, { cmd: 'add', addr: '203.0.113.7' }, T0);
      await b.session.close();
      assert.deepEqual(calls, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the control socket', () => {
  test('0600, one JSON request and reply; a bad request is answered, not fatal', async () => {
    const dir = tmp();
    try {
      const nft = new FakeNft(() => T0);
      const a = await live(dir, nft.runner, T0);
      const path = controlPathFor(join(dir, 'iplog.pid'));
      assert.equal(path, join(dir, 'iplog.sock'));
      const { log } = memLogger();
      const c = new ControlServer(a.m, { path, log, wallNow: () => T0 });
      assert.equal(await c.listen(), undefined);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      let r = await ask(path, { cmd: 'add', addr: '203.0.113.7', seconds: 60 });
      assert.equal(r.ok, true);
      r = await ask(path, { cmd: 'list' });
      assert.deepEqual((r as unknown as { bans: { addr: string }[] }).bans.map((b) => b.addr), ['203.0.113.7']);
      r = await ask(path, { cmd: 'nonsense' } as never);
      assert.deepEqual(r, { ok: false, error: 'unknown command: "nonsense"' });
      r = await ask(path, { cmd: 'show', addr: 'x'.repeat(MAX_REQUEST * 2) });
      assert.equal(r.ok, false);
      c.close();
      await a.session.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('permission denied for a user other than root and the control group', { skip: process.getuid?.() !== 0 ? 'needs root (to run a client as nobody)' : undefined }, async () => {
    const dir = tmp();
    try {
      const nft = new FakeNft(() => T0);
      const a = await live(dir, nft.runner, T0);
      const { log } = memLogger();
      spawnSync('chmod', ['755', dir]);
      const path = join(dir, 'iplog.sock');
      const client = (extra: string[]) =>
        spawnSync('setpriv', [...extra, process.execPath, '-e', `require('net').connect(${JSON.stringify(path)}).on('connect',()=>{console.log('connected');process.exit(0)}).on('error',(e)=>{console.log(e.code);process.exit(1)})`], { encoding: 'utf8' });
      let c = new ControlServer(a.m, { path, log });
      assert.equal(await c.listen(), undefined);
      assert.equal(client(['--reuid=65534', '--regid=65534', '--clear-groups']).stdout.trim(), 'EACCES');
      assert.equal(client([]).stdout.trim(), 'connected', 'root may');
      c.close();
      // --control-group: that group may, others may not
      c = new ControlServer(a.m, { path, log, group: '65533' });
      assert.equal(await c.listen(), undefined);
      assert.equal(statSync(path).mode & 0o777, 0o660);
      assert.equal(statSync(path).gid, 65533);
      assert.equal(client(['--reuid=65534', '--regid=65534', '--groups=65533']).stdout.trim(), 'connected');
      assert.equal(client(['--reuid=65534', '--regid=65534', '--clear-groups']).stdout.trim(), 'EACCES');
      c.close();
      await a.session.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('iplog bans: the arguments', () => {
    assert.deepEqual(parseBansArgs(['add', '203.0.113.5', '--for', '10m', '--json']).req, { cmd: 'add', addr: '203.0.113.5', seconds: 600 });
    assert.deepEqual(parseBansArgs(['allow', '--del', '192.0.2.0/24']).req, { cmd: 'allow', net: '192.0.2.0/24', remove: true });
    assert.match(parseBansArgs(['del']).error!, /needs an address/);
    assert.match(parseBansArgs(['list', '--for', '1h']).error!, /--for goes with add/);
    assert.match(parseBansArgs(['add', '203.0.113.5', '--for', 'soon']).error!, /invalid duration/);
    assert.match(parseBansArgs(['frobnicate']).error!, /unknown command/);
  });
});

/**
 * Fleet bans end to end against the real CrowdSec Local API (Debian's crowdsec 1.4.6,
 * unpacked by scripts/setup.mjs; test/integrations/lapi.ts), in two network namespaces
 * this test creates and deletes:
 *
 *   hub  198.51.100.1  the LAPI, cscli, and sensor A: `iplog -r -` fed a pcap stream
 *                      stamped now (a live stream, so a real backend is allowed) with
 *                      --ban-backend crowdsec, logged in as machine sensor-a;
 *   b    198.51.100.2  host B: the live sensor `iplog -o -L -i vb` with --ban-backend
 *                      nftables (its own table, inside b) and the decision stream
 *                      (bouncer key host-b, polled every second);
 *   x    203.0.113.7   the scanners' addresses, on a second link to b (203.0.113.1), so
 *        203.0.113.20  that B's drops can be seen with ping.
 *
 * 1. A scan seen by A is pushed as an alert with its decision and evidence, and B bans
 *    the source in its nft set within seconds; packets from it are dropped on B.
 * 2. `cscli decisions delete` lifts it on B; so does iplog's own unban request (the
 *    crowdsec backend's unban, run from a script in the hub namespace).
 * 3. Fleet decisions against B's own address and an allowlisted network are refused on B
 *    with `BAN: not banning ...` lines; a cscli decision for a stranger is applied.
 * 4. The LAPI stopped while A bans three more sources (queue bound 2): A logs the outage,
 *    drops the oldest queued push and says so; once the LAPI is back the two queued
 *    pushes arrive, B applies them, and A's counters (pushed 3, dropped 1, outages 1)
 *    and B's say so.
 * Only documentation addresses (198.51.100.0/24, 203.0.113.0/24, 192.0.2.0/24).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lapi, findCrowdsecBin } from './lapi';
import { Proc, synScanPcap, sleep, waitFor } from '../ban/lab';

const root = join(__dirname, '..', '..', '..');
const BIN = join(root, 'bin', 'iplog');
const csBin = findCrowdsecBin();

function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

function skipReason(): string | false {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root (ip netns, nft); CI runs it as root';
  if (csBin === null) return "CrowdSec not found (npm run setup unpacks Debian's package into node_modules/.cache/iplog-crowdsec)";
  for (const t of ['ip', 'nft', 'ping']) if (!has(t)) return `needs ${t} (scripts/setup.mjs installs it)`;
  const probe = `iplog-fleetprobe-${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.status !== 0) return `ip netns does not work here: ${r.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return false;
}

const skip = skipReason();
const HUB = `iplog-fleet-${process.pid}-hub`;
const B = `iplog-fleet-${process.pid}-b`;
const X = `iplog-fleet-${process.pid}-x`;
const HUB_ADDR = '198.51.100.1';
const B_ADDR = '198.51.100.2';
const namespaces = new Set<string>();
process.on('exit', () => {
  for (const ns of namespaces) spawnSync('ip', ['netns', 'del', ns]);
});

function sh(ns: string, argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function must(ns: string, argv: string[]): string {
  const r = sh(ns, argv);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} in ${ns}: ${r.stderr}`);
  return r.stdout;
}

function netUp(): void {
  for (const ns of [HUB, B, X]) {
    const r = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip netns add ${ns}: ${r.stderr}`);
    namespaces.add(ns);
    must(ns, ['ip', 'link', 'set', 'lo', 'up']);
  }
  must(HUB, ['ip', 'link', 'add', 'vh', 'type', 'veth', 'peer', 'name', 'vb']);
  must(HUB, ['ip', 'link', 'set', 'vb', 'netns', B]);
  must(HUB, ['ip', 'addr', 'add', `${HUB_ADDR}/24`, 'dev', 'vh']);
  must(HUB, ['ip', 'link', 'set', 'vh', 'up']);
  must(B, ['ip', 'addr', 'add', `${B_ADDR}/24`, 'dev', 'vb']);
  must(B, ['ip', 'link', 'set', 'vb', 'up']);
  // the scanners' addresses, on a link of their own to B, so that B's drops show with ping
  must(B, ['ip', 'link', 'add', 'vbx', 'type', 'veth', 'peer', 'name', 'vx']);
  must(B, ['ip', 'link', 'set', 'vx', 'netns', X]);
  must(B, ['ip', 'addr', 'add', '203.0.113.1/24', 'dev', 'vbx']);
  must(B, ['ip', 'link', 'set', 'vbx', 'up']);
  for (const a of ['203.0.113.7', '203.0.113.20']) must(X, ['ip', 'addr', 'add', `${a}/24`, 'dev', 'vx']);
  must(X, ['ip', 'link', 'set', 'vx', 'up']);
}

function netDown(): void {
  for (const ns of [HUB, B, X]) {
    spawnSync('ip', ['netns', 'del', ns]);
    namespaces.delete(ns);
  }
}

/** Addresses in B's nft set ban4. */
function bannedOnB(): string[] {
  const r = sh(B, ['nft', '-j', 'list', 'set', 'inet', 'iplog', 'ban4']);
  if (r.status !== 0) return [];
  const doc = JSON.parse(r.stdout) as { nftables: { set?: { elem?: unknown[] } }[] };
  const out: string[] = [];
  for (const it of doc.nftables) for (const e of it.set?.elem ?? []) out.push(typeof e === 'string' ? e : (e as { elem: { val: string } }).elem.val);
  return out.sort();
}

/** One ping from `from` (a scanner address in x) to B within a second. */
function pingB(from: string): boolean {
  return sh(X, ['ping', '-n', '-c', '1', '-W', '1', '-I', from, '203.0.113.1']).status === 0;
}

interface Decision {
  id: number;
  origin: string;
  scenario: string;
  scope: string;
  value: string;
  type: string;
  duration: string;
}

interface Alert {
  id: number;
  scenario: string;
  machine_id?: string;
  source: { ip?: string; scope: string; value: string };
  decisions?: Decision[] | null;
  events?: { meta?: { key: string; value: string }[] }[];
  meta?: { key: string; value: string }[];
}

function alerts(lapi: Lapi): Alert[] {
  return (JSON.parse(lapi.mustCscli(['alerts', 'list', '-a', '-o', 'json', '--limit', '0'])) ?? []) as Alert[];
}

test('fleet bans through the real CrowdSec LAPI: sensor A pushes, host B applies, unbans propagate, an outage is survived', { skip, timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iplog-fleet-'));
  netUp();
  const port = 20000 + (process.pid % 20000);
  const lapi = new Lapi(csBin!, HUB_ADDR, port, HUB);
  const procs: Proc[] = [];
  try {
    lapi.setUpCscli();
    lapi.addMachine('sensor-a', 'sensor-a-password-0123');
    const key = lapi.addBouncer('host-b');
    const pwFile = join(dir, 'sensor-a.password');
    const keyFile = join(dir, 'host-b.key');
    writeFileSync(pwFile, 'sensor-a-password-0123\n', { mode: 0o600 });
    writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
    await lapi.start();

    // host B: live sensor with nftables and the decision stream
    const b = new Proc(
      spawnIn(B, [process.execPath, BIN, '-o', '-L', '-N', '-i', 'vb', '--config', '/dev/null', '--pid-file', join(dir, 'b.pid'),
        '--ban-backend', 'nftables', '--ban-state', join(dir, 'b.json'), '--ban-allow', '192.0.2.0/24',
        '--crowdsec-url', lapi.url, '--crowdsec-bouncer-key-file', keyFile, '--crowdsec-poll', '1s']),
    );
    procs.push(b);
    await b.until(() => b.records().some((r) => r.msg === 'crowdsec: decision stream on') && b.records().some((r) => r.msg === 'iplog started'), 20_000, 'host B to start');
    // the key never shows on the command line
    assert.ok(!spawnSync('ps', ['axww', '-o', 'args'], { encoding: 'utf8' }).stdout.includes(key), 'the bouncer key is not in ps output');
    assert.ok(pingB('203.0.113.7'), 'before any ban, 203.0.113.7 reaches B');

    // sensor A: a live stream on standard input, crowdsec backend. --ban-evidence any: this test is
    // about the fleet machinery; under the default policy a spoofable SYN scan is held 2 s of packet
    // time, and this stream's clock stands still once the scan is written (the evidence policy under
    // attack is test/ban/evidence-netns.test.ts). --profile compat: its SYN scan is written at the
    // 10th SYN; the modern profile waits for the probes' outcomes, on a clock that stands still here
    const a = new Proc(
      spawnIn(HUB, [process.execPath, BIN, '-r', '-', '-N', '--config', '/dev/null', '--profile', 'compat', '--ban-evidence', 'any', '--ban-backend', 'crowdsec', '--ban-state', join(dir, 'a.json'), '--ban-param', 'queue=2',
        '--crowdsec-url', lapi.url, '--crowdsec-machine', 'sensor-a', '--crowdsec-password-file', pwFile]),
    );
    procs.push(a);
    a.child.stdin!.on('error', () => undefined);
    a.child.stdin!.write(synScanPcap('203.0.113.7', HUB_ADDR));

    // 1. A bans and pushes; the LAPI holds the alert with its decision and evidence
    await a.until(() => /BAN: banned 203\.0\.113\.7 for \d+ seconds/.test(a.stdout), 15_000, 'A to ban 203.0.113.7');
    await a.until(() => a.records().some((r) => r.msg === 'crowdsec: ban of 203.0.113.7 pushed'), 15_000, 'the push');
    assert.ok(!spawnSync('ps', ['axww', '-o', 'args'], { encoding: 'utf8' }).stdout.includes('sensor-a-password-0123'), 'the machine password is not in ps output');
    const al = alerts(lapi).find((x) => x.source.ip === '203.0.113.7');
    assert.ok(al, 'the LAPI has an alert for 203.0.113.7');
    assert.equal(al.scenario, 'iplog/syn-scan');
    assert.equal(al.machine_id, 'sensor-a');
    const d = al.decisions?.[0];
    assert.ok(d, 'the alert carries its decision');
    assert.deepEqual([d.type, d.scope, d.value, d.origin, d.scenario], ['ban', 'Ip', '203.0.113.7', 'iplog', 'iplog/syn-scan']);
    const inspect = JSON.parse(lapi.mustCscli(['alerts', 'inspect', String(al.id), '-d', '-o', 'json'])) as Alert;
    const meta = Object.fromEntries((inspect.meta ?? []).map((m) => [m.key, m.value]));
    assert.equal(meta.detector, 'syn-scan');
    assert.equal(meta.sensor, 'sensor-a');
    assert.match(meta.counts ?? '', /^syn-scan=\d+$/);
    assert.match(meta.reason ?? '', /TCP: SYN scan; score \d+; offence 1/);
    const evMeta = (inspect.events ?? []).flatMap((e) => e.meta ?? []);
    assert.ok(evMeta.some((m) => m.key === 'detector' && m.value === 'syn-scan'), 'the events carry the detector');
    t.diagnostic(`alert ${al.id}: decision ${d.id} ${d.duration}; meta ${JSON.stringify(meta)}`);

    // ... and B enforces it
    const took = await waitFor(() => bannedOnB().includes('203.0.113.7'), 10_000, 'B to ban 203.0.113.7');
    t.diagnostic(`B's nft set held 203.0.113.7 ${took} ms after the alert was checked in the LAPI (poll every 1 s)`);
    await b.until(() => new RegExp(`BAN: banned 203\\.0\\.113\\.7 for \\d+ seconds \\(fleet: iplog/syn-scan from iplog, decision ${d.id}\\)`).test(b.stdout), 5000, 'the BAN line on B');
    assert.equal(pingB('203.0.113.7'), false, 'B drops 203.0.113.7');
    assert.ok(pingB('203.0.113.20'), 'B still answers another address');

    // 2. cscli decisions delete propagates
    lapi.mustCscli(['decisions', 'delete', '--ip', '203.0.113.7']);
    await waitFor(() => !bannedOnB().includes('203.0.113.7'), 10_000, 'B to lift 203.0.113.7');
    await b.until(() => /BAN: unbanned 203\.0\.113\.7 \(fleet: decision \d+ deleted or expired\)/.test(b.stdout), 5000, 'the unban line on B');
    assert.ok(pingB('203.0.113.7'), 'packets from 203.0.113.7 pass again');

    // 3. the allowlist on B: its own address and a configured network are refused; a stranger is banned
    for (const ip of [B_ADDR, '192.0.2.50', '203.0.113.20']) lapi.mustCscli(['decisions', 'add', '--ip', ip, '--duration', '1h', '--reason', 'fleet test']);
    await waitFor(() => bannedOnB().includes('203.0.113.20'), 10_000, 'B to ban the stranger 203.0.113.20');
    await b.until(() => b.stdout.includes(`BAN: not banning ${B_ADDR} (`) && b.stdout.includes('BAN: not banning 192.0.2.50 ('), 5000, 'the refusals on B');
    assert.deepEqual(bannedOnB(), ['203.0.113.20']);
    t.diagnostic(b.stdout.split('\n').filter((l) => l.includes('not banning')).join(' | '));

    // iplog's own unban: the crowdsec backend's unban request (from the hub, as sensor-a) lifts a ban it pushed
    const push = spawnSync('ip', ['netns', 'exec', HUB, process.execPath, '-e', PUSH_SCRIPT, lapi.url, pwFile, '203.0.113.21'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(push.status, 0, push.stderr);
    assert.match(push.stdout, /pushed 1, unbans 0/);
    await waitFor(() => bannedOnB().includes('203.0.113.21'), 10_000, 'B to ban 203.0.113.21');
    const unban = spawnSync('ip', ['netns', 'exec', HUB, process.execPath, '-e', PUSH_SCRIPT, lapi.url, pwFile, '203.0.113.21', 'unban'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(unban.status, 0, unban.stderr);
    assert.match(unban.stdout, /pushed 0, unbans 1, deleted 1/);
    await waitFor(() => !bannedOnB().includes('203.0.113.21'), 10_000, 'B to lift 203.0.113.21 after iplog\'s unban');

    // 4. the LAPI goes down while A bans three more sources; the queue holds two
    await lapi.stop();
    for (const ip of ['203.0.113.8', '203.0.113.9', '203.0.113.10']) {
      a.child.stdin!.write(synScanPcap(ip, HUB_ADDR, false));
      await a.until(() => a.stdout.includes(`BAN: banned ${ip} for`), 10_000, `A to ban ${ip} while the LAPI is down`);
    }
    await a.until(() => a.records().some((r) => r.msg === 'crowdsec: LAPI unreachable: pushes are queued and retried'), 15_000, 'the outage in A\'s log');
    await a.until(() => a.records().some((r) => r.msg === 'crowdsec: push queue full: the oldest entry was dropped' && r.dropped === 'ban 203.0.113.8'), 15_000, 'the drop in A\'s log');
    await sleep(1000);
    await lapi.start();
    await a.until(() => a.records().some((r) => r.msg === 'crowdsec: LAPI reachable again: sending the queued pushes'), 60_000, 'A to see the LAPI again');
    await a.until(() => ['203.0.113.9', '203.0.113.10'].every((ip) => a.records().some((r) => r.msg === `crowdsec: ban of ${ip} pushed`)), 20_000, 'the queued pushes');
    await waitFor(() => bannedOnB().includes('203.0.113.9') && bannedOnB().includes('203.0.113.10'), 60_000, 'B to apply the queued bans');
    assert.ok(!bannedOnB().includes('203.0.113.8'), 'the dropped push never reached the fleet');
    assert.ok(!alerts(lapi).some((x) => x.source.ip === '203.0.113.8'));

    // A's counters at exit say what happened
    a.child.stdin!.end();
    await a.exited;
    const stopped = a.records().find((r) => r.msg === 'crowdsec: pushes stopped') as { stats: Record<string, number> } | undefined;
    assert.ok(stopped, 'A reports its pushes at exit');
    assert.equal(stopped.stats.pushed, 3);
    assert.equal(stopped.stats.dropped, 1);
    assert.equal(stopped.stats.outages, 1);
    assert.ok(stopped.stats.failures >= 1);
    assert.equal(stopped.stats.queued, 0);
    t.diagnostic(`A: ${JSON.stringify(stopped.stats)}`);

    // B survived the outage of its stream too
    b.child.kill('SIGTERM');
    await b.exited;
    assert.ok(b.records().some((r) => r.msg === 'crowdsec: decision stream reachable again'), 'B logged the recovery of its stream');
    const bs = b.records().find((r) => r.msg === 'crowdsec: decision stream stopped') as { stats: Record<string, number> } | undefined;
    assert.ok(bs);
    assert.ok(bs.stats.outages >= 1 && bs.stats.applied >= 5 && bs.stats.refused === 2 && bs.stats.lifted >= 2, JSON.stringify(bs.stats));
    t.diagnostic(`B: ${JSON.stringify(bs.stats)}`);
  } finally {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) await p.kill9();
    await lapi.destroy();
    sh(B, ['nft', 'delete', 'table', 'inet', 'iplog']);
    netDown();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A child in namespace `ns` whose output Proc collects. */
function spawnIn(ns: string, argv: string[]) {
  return spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC', LC_ALL: 'C', IPLOG_LOG_LEVEL: 'info' } });
}

/** The crowdsec backend's pusher alone: `URL PWFILE ADDR [unban]` (ban for 600 s, or unban). */
const PUSH_SCRIPT = `
const { CrowdsecPusher } = require(${JSON.stringify(join(root, 'dist', 'src', 'ban', 'crowdsec.js'))});
const pino = require(${JSON.stringify(join(root, 'node_modules', 'pino'))});
const [url, pw, addr, verb] = process.argv.slice(1);
const password = require('fs').readFileSync(pw, 'utf8').trim();
const p = new CrowdsecPusher({ url, machineId: 'sensor-a', password, origin: 'iplog', scenarioPrefix: 'iplog/', maxQueue: 10, timeoutMs: 5000 }, pino({ level: 'warn' }));
if (verb === 'unban') p.unban(addr, 4); else p.ban(addr, 4, 600, { reason: 'manual', score: 10, offence: 1, events: [] });
p.idle().then(async () => { const s = p.stats; await p.close(0); console.log('pushed ' + s.pushed + ', unbans ' + s.unbans + ', deleted ' + s.deletedDecisions); });
`;

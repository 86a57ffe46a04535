/**
 * End to end with real attack tools (the issue "Active response: consolidated, safe
 * firewall bans"): a sensor on the firewall namespace's veth, nmap and hping3 in the
 * attacker's namespace (test/ban/lab.ts; no other address is ever a target, and nft
 * runs only inside the namespace). Each scenario runs against two sensors:
 *
 * - `live`: the live sensor, `iplog -o -L -i vfw` (libpcap addon). Skipped, naming the
 *   missing piece, while `iplog -o -L -i lo` says live capture is not available;
 * - `pipe`: `tcpdump -U -w - | iplog -r -`, the stream form of the same pipeline (runs
 *   wherever tcpdump does).
 *
 * Scenarios:
 * 1. an nmap SYN scan gets the attacker banned within 2 s of the detection line, and its
 *    packets are dropped (pings fail, the drop rule counts packets);
 * 2. after SIGKILL of the sensor the ban lapses by itself after the ban time;
 * 3. a restarted sensor reconciles (one listing, one transaction, nothing re-added);
 * 4. the host's own address (a scan spoofing it) and its gateway are never banned;
 * 5. an hping3 flood from 12 spoofed sources, with every SYN weighted to ban, never produces more
 *    bans than the budget, and says so in one line;
 * 6. an `nmap -6` SYN scan gets the attacker's IPv6 address banned in the ip6 set, its
 *    IPv6 packets dropped (IPv4 still passes).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, Proc, skipReason, sleep, waitFor } from './lab';

const root = join(__dirname, '..', '..', '..');
const BIN = join(root, 'bin', 'iplog');
const labSkip = skipReason(['nft', 'nmap', 'hping3', 'ping']);

/** Why the live sensor cannot run: `iplog -o -L -i lo` in a scratch namespace. */
function liveSkip(): string | null {
  if (labSkip) return labSkip;
  const ns = `iplog-liveprobe-${process.pid}`;
  spawnSync('ip', ['netns', 'add', ns]);
  try {
    spawnSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    const pidFile = join(tmpdir(), `iplog-liveprobe-${process.pid}.pid`);
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, BIN, '--config', '/dev/null', '--pid-file', pidFile, '-o', '-L', '-N', '-i', 'lo'], {
      encoding: 'utf8',
      timeout: 3000,
      killSignal: 'SIGKILL',
    });
    const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    if (/live capture is not available/.test(text)) return 'the live sensor (src/capture/live.ts + native addon, `iplog -o -L -i IF`) is not available in this build yet';
    if (r.status !== null && r.status !== 0) return `the live sensor does not start here: ${text.trim().split('\n').slice(-1)[0]}`;
    return null;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

const SENSORS: { kind: 'live' | 'pipe'; skip: string | null }[] = [
  { kind: 'live', skip: liveSkip() },
  { kind: 'pipe', skip: labSkip ?? (spawnSync('sh', ['-c', 'command -v tcpdump']).status === 0 ? null : 'needs tcpdump') },
];

/** A running sensor in the firewall namespace. */
interface Sensor {
  proc: Proc;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** Every sensor process started, killed at the end whatever happened. */
const running = new Set<Proc>();
let pidFiles = 0;

async function started(proc: Proc, ready: () => Promise<void>): Promise<void> {
  running.add(proc);
  try {
    await ready();
  } catch (e) {
    await proc.kill9();
    throw e;
  }
}

async function startSensor(lab: Lab, kind: 'live' | 'pipe', args: string[], dir: string): Promise<Sensor> {
  const env = { IPLOG_LOG_LEVEL: 'debug' };
  // the machinery end to end: every crossing bans at once (--ban-evidence any; the pipe's clock
  // moves only with packets, so a spoofable-evidence hold would wait for the next one); the
  // default evidence policy under attack is test/ban/evidence-netns.test.ts
  // the compat profile's detections (one scan line per (source, destination) pair, the spoofed ones too)
  const common = ['--config', '/dev/null', '--profile', 'compat', '-N', '--ban-evidence', 'any', ...args];
  if (kind === 'live') {
    const pid = join(dir, `sensor-${pidFiles++}.pid`);
    const proc = new Proc(lab.spawnIn(lab.fw, [process.execPath, BIN, '-o', '-L', '-i', 'vfw', '--pid-file', pid, ...common], env));
    await started(proc, async () => {
      await proc.until(() => proc.records().some((r) => r.msg === 'iplog started'), 15_000, 'the sensor to start');
      await sleep(300);
    });
    return {
      proc,
      kill9: async () => void (await proc.kill9()),
      stop: async () => {
        proc.child.kill('SIGTERM');
        await proc.exited;
      },
    };
  }
  const dump = spawn('ip', ['netns', 'exec', lab.fw, 'tcpdump', '-i', 'vfw', '-U', '-w', '-', '-s', '256', '-n', 'ip or ip6'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let dumpErr = '';
  dump.stderr!.on('data', (d: Buffer) => (dumpErr += d.toString()));
  const proc = new Proc(lab.spawnIn(lab.fw, [process.execPath, BIN, '-r', '-', ...common], env));
  dump.stdout!.pipe(proc.child.stdin!);
  proc.child.stdin!.on('error', () => undefined);
  const dumpExit = new Promise<void>((r) => dump.on('exit', () => r()));
  await started(proc, async () => {
    try {
      await waitFor(() => /listening on/.test(dumpErr), 10_000, 'tcpdump to listen');
      await proc.until(() => proc.records().some((r) => r.msg === 'banning on'), 15_000, 'the sensor to start');
      await sleep(300);
    } catch (e) {
      dump.kill('SIGKILL');
      throw e;
    }
  });
  return {
    proc,
    kill9: async () => {
      await proc.kill9();
      dump.kill('SIGKILL');
      await dumpExit;
    },
    stop: async () => {
      dump.kill('SIGTERM');
      await dumpExit;
      await proc.exited;
    },
  };
}

function elements(lab: Lab, set = 'ban4'): string[] {
  const r = lab.run(lab.fw, ['nft', '-j', 'list', 'set', 'inet', 'iplog', set]);
  if (r.status !== 0) return [];
  const doc = JSON.parse(r.stdout) as { nftables: { set?: { elem?: unknown[] } }[] };
  const out: string[] = [];
  for (const it of doc.nftables) for (const e of it.set?.elem ?? []) out.push(typeof e === 'string' ? e : (e as { elem: { val: string } }).elem.val);
  return out.sort();
}

function dropCounter(lab: Lab): number {
  const t = lab.run(lab.fw, ['nft', 'list', 'chain', 'inet', 'iplog', 'input']).stdout;
  const m = /ip saddr @ban4 counter packets (\d+)/.exec(t);
  return m ? Number(m[1]) : 0;
}

function dropCounter6(lab: Lab): number {
  const t = lab.run(lab.fw, ['nft', 'list', 'chain', 'inet', 'iplog', 'input']).stdout;
  const m = /ip6 saddr @ban6 counter packets (\d+)/.exec(t);
  return m ? Number(m[1]) : 0;
}

function nmapSyn(lab: Lab, from: 'at' | 'fw', target: string): void {
  // -Pn: no host discovery; -T4 and a port range keep it to a second or two
  lab.run(from === 'at' ? lab.at : lab.fw, ['nmap', '-sS', '-Pn', '-n', '-T4', '--max-retries', '0', '-p', '1-200', target]);
}

for (const sensor of SENSORS) {
  describe(`${sensor.kind} sensor: bans end to end`, { skip: sensor.skip ?? undefined }, () => {
    let lab: Lab;
    let dir: string;
    before(() => {
      lab = new Lab(`e2e${sensor.kind[0]}`);
      lab.up();
      dir = mkdtempSync(join(tmpdir(), 'iplog-e2e-'));
    });
    after(async () => {
      for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) await p.kill9();
      running.clear();
      lab?.down();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });
    const resetFirewall = () => lab.run(lab.fw, ['nft', 'delete', 'table', 'inet', 'iplog']);

    test('nmap -sS: banned within 2 s of the detection line, packets dropped; the ban lapses after SIGKILL', async () => {
      resetFirewall();
      assert.ok(lab.reachable());
      const s = await startSensor(lab, sensor.kind, ['-m', '--ban-backend', 'nftables', '--ban-time', '8', '--ban-state', join(dir, 'a.json')], dir);
      let killedAt = 0;
      try {
        const detection = new RegExp(`TCP: SYN scan detected .* from ${lab.atAddr.replace(/\./g, '\\.')} `);
        const scan = new Promise<void>((r) => setImmediate(() => r(nmapSyn(lab, 'at', lab.fwAddr))));
        await s.proc.until(() => detection.test(s.proc.stdout), 20_000, 'the detection line');
        const seen = Date.now();
        await waitFor(() => elements(lab).includes(lab.atAddr), 2000, 'the ban within 2 s of the detection line');
        assert.ok(Date.now() - seen <= 2000);
        await scan;
        await s.proc.until(() => s.proc.stdout.includes(`BAN: banned ${lab.atAddr} for 8 seconds`), 5000, 'the BAN line');
        assert.equal(lab.pingFromAttacker(), false, 'pings are dropped');
        assert.ok(dropCounter(lab) > 0, 'the drop rule counted the attacker\'s packets');
        assert.equal(s.proc.stdout.split('\n').filter((l) => l.includes('BAN: banned')).length, 1, 'one ban, one line');
      } finally {
        await s.kill9();
        killedAt = Date.now();
      }
      await waitFor(() => !elements(lab).includes(lab.atAddr), 12_000, 'the kernel to lift the ban after SIGKILL');
      assert.ok(Date.now() - killedAt < 10_000);
      assert.ok(lab.reachable(), 'pings pass again');
    });

    test('nmap -6 -sS: the IPv6 source is banned in the ip6 set, its IPv6 packets dropped', async () => {
      resetFirewall();
      assert.ok(lab.reachable(true), 'IPv6 works between the namespaces');
      const s = await startSensor(lab, sensor.kind, ['-m', '--ban-backend', 'nftables', '--ban-time', '60', '--ban-state', join(dir, 'six.json')], dir);
      try {
        lab.run(lab.at, ['nmap', '-6', '-sS', '-Pn', '-n', '-T4', '--max-retries', '0', '-p', '1-200', lab.fwAddr6]);
        await s.proc.until(() => s.proc.stdout.includes(`TCP: SYN scan detected`) && s.proc.stdout.includes(`from ${lab.atAddr6} [port `), 20_000, 'the IPv6 detection line');
        await s.proc.until(() => s.proc.stdout.includes(`BAN: banned ${lab.atAddr6} for 60 seconds`), 5000, 'the BAN line naming the IPv6 source');
        await waitFor(() => elements(lab, 'ban6').includes(lab.atAddr6), 5000, 'the IPv6 element in the ban6 set');
        assert.deepEqual(elements(lab, 'ban4'), [], 'nothing in the IPv4 set');
        assert.equal(lab.pingFromAttacker(true), false, 'IPv6 pings are dropped');
        assert.ok(dropCounter6(lab) > 0, "the ip6 drop rule counted the attacker's packets");
        assert.ok(lab.reachable(false), 'IPv4 from the same host still passes');
      } finally {
        await s.stop();
      }
    });

    test('a restarted sensor reconciles: one listing, one transaction, nothing re-added', async () => {
      resetFirewall();
      const state = join(dir, 'restart.json');
      const a = await startSensor(lab, sensor.kind, ['-m', '--ban-backend', 'nftables', '--ban-time', '300', '--ban-state', state], dir);
      try {
        nmapSyn(lab, 'at', lab.fwAddr);
        await waitFor(() => elements(lab).includes(lab.atAddr), 10_000, 'the ban');
        // the state file holds the ban (written after the firewall command): wait for it, not a fixed time
        await waitFor(() => existsSync(state) && readFileSync(state, 'utf8').includes(lab.atAddr), 10_000, 'the state file');
      } finally {
        await a.kill9();
      }
      const b = await startSensor(lab, sensor.kind, ['-m', '--ban-backend', 'nftables', '--ban-time', '300', '--ban-state', state], dir);
      try {
        await b.proc.until(() => b.proc.records().some((r) => r.msg === 'ban table reconciled with the firewall'), 10_000, 'the reconciliation');
        const cmds = b.proc.records().filter((r) => r.msg === 'ban command') as unknown as { argv: string[]; stdin?: string }[];
        assert.deepEqual(cmds.map((c) => c.argv.join(' ')), ['nft -j list table inet iplog', 'nft -f -']);
        assert.doesNotMatch(cmds[1]!.stdin ?? '', /element/);
        assert.deepEqual(elements(lab), [lab.atAddr]);
        assert.equal(lab.pingFromAttacker(), false, 'still banned');
        assert.doesNotMatch(b.proc.stdout, /BAN:/);
      } finally {
        await b.stop();
      }
    });

    test('the host\'s own address and its gateway are never banned', async () => {
      resetFirewall();
      lab.run(lab.fw, ['ip', 'route', 'replace', 'default', 'via', lab.atAddr]);
      const s = await startSensor(lab, sensor.kind, ['-m', '--ban-backend', 'nftables', '--ban-state', join(dir, 'self.json')], dir);
      try {
        nmapSyn(lab, 'at', lab.fwAddr); // from the gateway
        // a scan spoofing our own address, the classic way to make a sensor ban itself
        lab.run(lab.at, ['hping3', '-q', '-S', '-a', lab.fwAddr, '-p', '++20', '-i', 'u10000', '-c', '15', lab.fwAddr]);
        await s.proc.until(() => s.proc.stdout.includes(`BAN: not banning ${lab.atAddr} (gateway)`), 15_000, 'the gateway refusal');
        await s.proc.until(() => s.proc.stdout.includes(`BAN: not banning ${lab.fwAddr} (own address)`), 15_000, 'the own-address refusal');
        assert.deepEqual(elements(lab), []);
        assert.doesNotMatch(s.proc.stdout, /BAN: banned/);
      } finally {
        await s.stop();
        lab.run(lab.fw, ['ip', 'route', 'del', 'default']);
      }
    });

    // issue 11 item 6, with real traffic: spoofed decoy scans spend the whole budget first; the real
    // scanner's detection is refused among them and banned once the budget recovers (a minute later)
    // while its evidence is still in the window. Live only: the pipe's clock stands still without packets.
    test('budget blinding: 6 spoofed decoy scans spend the budget; the real nmap scanner is banned when it recovers', { skip: sensor.kind === 'live' ? undefined : 'the pipe sensor\'s clock moves only with packets' }, async () => {
      resetFirewall();
      const s = await startSensor(lab, sensor.kind, [
        '-m', '--ban-backend', 'nftables', '--ban-state', join(dir, 'blind.json'), '--ban-budget', '6',
      ], dir);
      try {
        // three decoys in each of two documentation /24s other than the scanner's (the per-/24 budget is 3)
        const decoys = ['192.0.2.61', '192.0.2.62', '192.0.2.63', '203.0.113.61', '203.0.113.62', '203.0.113.63'];
        lab.run(lab.at, ['sh', '-c', `for a in ${decoys.join(' ')}; do hping3 -q -S -a $a -p ++20 -i u5000 -c 15 ${lab.fwAddr} & done; wait`]);
        await s.proc.until(() => decoys.every((a) => s.proc.stdout.includes(`BAN: banned ${a} `)), 20_000, 'the six decoy bans');
        const t0 = Date.now();
        nmapSyn(lab, 'at', lab.fwAddr);
        await s.proc.until(() => new RegExp(`TCP: SYN scan detected .* from ${lab.atAddr.replace(/\./g, '\\.')} `).test(s.proc.stdout), 15_000, 'the real scan detected');
        await s.proc.until(() => s.proc.stdout.includes('ban budget of 6 per minute exhausted'), 15_000, 'the budget line');
        assert.ok(!elements(lab).includes(lab.atAddr), 'refused while the budget is spent');
        // no more packets from the scanner: the budget recovers a minute after the decoy bans
        await s.proc.until(() => s.proc.stdout.includes(`BAN: banned ${lab.atAddr} `), 90_000, 'the real scanner banned when the budget allows');
        await waitFor(() => elements(lab).includes(lab.atAddr), 10_000, 'its element in the set');
        assert.ok(Date.now() - t0 > 20_000, 'banned after the budget recovered, not at once');
        assert.ok(!lab.pingFromAttacker(), 'its packets are dropped');
      } finally {
        await s.stop();
      }
    });

    test('hping3 flood from 12 spoofed sources: never more bans than the budget, one line about it', async () => {
      resetFirewall();
      const s = await startSensor(lab, sensor.kind, [
        '--ban-backend', 'nftables', '--ban-state', join(dir, 'flood.json'),
        '--ban-weight', 'tcp.connection_attempt=10', '--ban-budget', '5',
      ], dir);
      try {
        // twelve spoofed sources, four in each IPv4 documentation /24 (hping3 --rand-source would
        // send from addresses outside them): each SYN crosses the threshold, so only the global
        // budget of 5 (and the per-/24 budget of 3) stands between the flood and the firewall
        const spoofed = [192, 198, 203].flatMap((n) => [100, 101, 102, 103].map((h) =>
          n === 192 ? `192.0.2.${h}` : n === 198 ? `198.51.100.${h}` : `203.0.113.${h}`));
        lab.run(lab.at, ['sh', '-c', `for a in ${spoofed.join(' ')}; do hping3 -q -S -a $a -p 80 -i u2000 -c 20 ${lab.fwAddr} & done; wait`]);
        await s.proc.until(() => s.proc.stdout.includes('per minute exhausted'), 15_000, 'the budget line');
        await sleep(1500);
        const out = s.proc.stdout.split('\n');
        const bans = out.filter((l) => l.includes('BAN: banned'));
        assert.equal(bans.length, 5, 'exactly the budget');
        assert.equal(out.filter((l) => l.includes('ban budget of 5 per minute exhausted')).length, 1, 'one line, not one per refusal');
        // the firewall commands run after the lines; on a loaded machine they take a moment
        await waitFor(() => elements(lab).length >= 5, 10_000, 'the five elements');
        assert.equal(elements(lab).length, 5);
        const st = s.proc.records().find((r) => r.msg === 'ban budget exhausted: refusing new bans until it recovers (one line only)');
        assert.ok(st);
      } finally {
        await s.stop();
      }
    });
  });
}

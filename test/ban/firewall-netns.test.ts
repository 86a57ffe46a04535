/**
 * The firewall backends for real, inside network namespaces (test/ban/lab.ts): nothing
 * touches the host's ruleset, traffic only between the two namespaces. Skipped, with the
 * reason, unless root with `ip netns`, nft, ipset and iptables (CI runs them as root).
 *
 * iplog runs inside the firewall namespace as `iplog -r -` on a pcap stream written to
 * its standard input (a live stream, as from `tcpdump -U -w -`, so real backends are
 * allowed) with packets stamped now. IPv6 and the iptables backend (expiry by iplog, which
 * needs a ticking clock) go through test/ban/driver.ts, the same engine and manager fed
 * detections. Checked:
 * - a ban adds an element with a timeout, and pings from the banned address are dropped;
 * - the element lapses by itself after the ban time although iplog was SIGKILLed;
 * - a restarted iplog reconciles: the commands it runs are counted, nothing is re-added,
 *   no element or rule is duplicated, and the element keeps its original expiry.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, Proc, skipReason, synScanPcap, pcapHeaderOnly, waitFor } from './lab';

const root = join(__dirname, '..', '..', '..');
const BIN = join(root, 'bin', 'iplog');
const DRIVER = join(root, 'dist', 'test', 'ban', 'driver.js');
const skip = skipReason(['nft', 'ipset', 'iptables', 'ip6tables', 'ping']);
if (skip) console.log(`# firewall namespace tests skipped: ${skip}`);

/**
 * iplog on a pcap stream written by the test: the backends' machinery, so every crossing
 * bans at once (--ban-evidence any: a stream that stops has no packet to end the 2-s hold of
 * spoofable evidence; the policy is test/ban/evidence*.test.ts's).
 */
function iplog(lab: Lab, args: string[]): Proc {
  return new Proc(lab.spawnIn(lab.fw, [process.execPath, BIN, '--config', '/dev/null', '--profile', 'compat', '-r', '-', '-N', '-m', '--ban-evidence', 'any', ...args], { IPLOG_LOG_LEVEL: 'debug' }));
}

function driver(lab: Lab, args: string[]): Proc {
  return new Proc(lab.spawnIn(lab.fw, [process.execPath, DRIVER, ...args], { IPLOG_LOG_LEVEL: 'debug' }));
}

/** nft set elements: address → seconds left (null: no timeout). */
function nftElements(lab: Lab, set: string): Map<string, number | null> {
  const r = lab.run(lab.fw, ['nft', '-j', 'list', 'set', 'inet', 'iplog', set]);
  const m = new Map<string, number | null>();
  if (r.status !== 0) return m;
  const doc = JSON.parse(r.stdout) as { nftables: { set?: { elem?: unknown[] } }[] };
  for (const it of doc.nftables) {
    for (const e of it.set?.elem ?? []) {
      if (typeof e === 'string') m.set(e, null);
      else {
        const el = (e as { elem: { val: string; expires?: number } }).elem;
        m.set(el.val, el.expires ?? null);
      }
    }
  }
  return m;
}

/** ipset members: address → seconds left. */
function ipsetMembers(lab: Lab, set: string): Map<string, number | null> {
  const r = lab.run(lab.fw, ['ipset', 'save', set]);
  const m = new Map<string, number | null>();
  for (const line of r.stdout.split('\n')) {
    const x = /^add \S+ (\S+)(?: timeout (\d+))?/.exec(line);
    if (x) m.set(x[1]!, x[2] === undefined ? null : Number(x[2]));
  }
  return m;
}

function commands(p: Proc): { argv: string[]; stdin?: string }[] {
  return p.records().filter((r) => r.msg === 'ban command') as unknown as { argv: string[]; stdin?: string }[];
}

describe('nftables backend in a network namespace', { skip: skip ?? undefined }, () => {
  let lab: Lab;
  let dir: string;
  before(() => {
    lab = new Lab('nft');
    lab.up();
    dir = mkdtempSync(join(tmpdir(), 'iplog-nft-'));
  });
  after(() => {
    lab?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a ban drops the source; the element lapses by itself after SIGKILL', async () => {
    assert.ok(lab.reachable(), 'the lab works before any ban');
    const p = iplog(lab, ['--ban-backend', 'nftables', '--ban-time', '5', '--ban-state', join(dir, 'lapse.json')]);
    try {
      p.child.stdin!.write(synScanPcap(lab.atAddr, lab.fwAddr));
      await p.until(() => p.stdout.includes(`BAN: banned ${lab.atAddr} for 5 seconds (TCP: SYN scan; score 10; offence 1; spoofable evidence)`), 15_000, 'the BAN line');
      await waitFor(() => nftElements(lab, 'ban4').has(lab.atAddr), 5000, 'the element');
      const left = nftElements(lab, 'ban4').get(lab.atAddr);
      assert.ok(left !== null && left !== undefined && left <= 5, `the element carries its timeout (${left})`);
      assert.equal(lab.pingFromAttacker(), false, 'pings from the banned address are dropped');
      assert.ok(lab.reachable(true), 'IPv6 from the same host is another address: not banned');
    } finally {
      await p.kill9();
    }
    const t = Date.now();
    await waitFor(() => !nftElements(lab, 'ban4').has(lab.atAddr), 10_000, 'the kernel to lift the ban');
    assert.ok(Date.now() - t < 8000);
    assert.ok(lab.reachable(), 'pings pass again');
  });

  test('IPv6: a ban of the attacker\'s IPv6 address drops it and lapses after SIGKILL', async () => {
    assert.ok(lab.reachable(true));
    const d = driver(lab, ['--ban-backend', 'nftables', '--ban-time', '4', '--ban-state', join(dir, 'v6.json')]);
    try {
      d.child.stdin!.write(`scan ${lab.atAddr6}\n`);
      await d.until(() => d.stdout.includes(`BAN: banned ${lab.atAddr6} for 4 seconds`), 15_000, 'the BAN line');
      await waitFor(() => nftElements(lab, 'ban6').has(lab.atAddr6), 5000, 'the IPv6 element');
      assert.equal(lab.pingFromAttacker(true), false);
      assert.ok(lab.reachable(false), 'its IPv4 address is not banned');
    } finally {
      await d.kill9();
    }
    await waitFor(() => !nftElements(lab, 'ban6').has(lab.atAddr6), 10_000, 'the kernel to lift the IPv6 ban');
    assert.ok(lab.reachable(true));
  });

  test('a restarted iplog reconciles in one transaction: nothing re-added, nothing duplicated', async () => {
    const state = join(dir, 'restart.json');
    const a = iplog(lab, ['--ban-backend', 'nftables', '--ban-time', '120', '--ban-state', state]);
    try {
      a.child.stdin!.write(synScanPcap(lab.atAddr, lab.fwAddr));
      await a.until(() => a.stdout.includes(`BAN: banned ${lab.atAddr} for 120 seconds`), 15_000, 'the BAN line');
      await waitFor(() => nftElements(lab, 'ban4').has(lab.atAddr), 5000, 'the element');
      await a.until(() => JSON.parse(readFileSync(state, 'utf8')).bans.length === 1, 5000, 'the state file');
    } finally {
      await a.kill9();
    }
    const leftBefore = nftElements(lab, 'ban4').get(lab.atAddr)!;
    const rulesBefore = lab.must(lab.fw, ['nft', 'list', 'table', 'inet', 'iplog']).split('\n').filter((l) => /saddr @ban[46] counter packets \d+ bytes \d+ drop/.test(l)).length;
    assert.equal(rulesBefore, 4, 'input and forward, IPv4 and IPv6');

    const b = iplog(lab, ['--ban-backend', 'nftables', '--ban-time', '120', '--ban-state', state]);
    try {
      b.child.stdin!.write(pcapHeaderOnly());
      await b.until(() => b.records().some((r) => r.msg === 'ban table reconciled with the firewall'), 15_000, 'the reconciliation');
      const cmds = commands(b);
      assert.deepEqual(
        cmds.map((c) => c.argv.join(' ')),
        ['nft -j list table inet iplog', 'nft -f -'],
        'one listing, one transaction',
      );
      assert.doesNotMatch(cmds[1]!.stdin ?? '', /element/, 'no element removed or re-added');
      const els = nftElements(lab, 'ban4');
      assert.deepEqual([...els.keys()], [lab.atAddr], 'exactly one element');
      assert.ok(els.get(lab.atAddr)! <= leftBefore, 'its expiry is the original one, not renewed');
      const rules = lab.must(lab.fw, ['nft', 'list', 'table', 'inet', 'iplog']).split('\n').filter((l) => /saddr @ban[46] counter packets \d+ bytes \d+ drop/.test(l)).length;
      assert.equal(rules, 4, 'no rule duplicated');
      assert.doesNotMatch(b.stdout, /BAN:/, 'a restart is neither a ban nor an unban');
      assert.equal(lab.pingFromAttacker(), false, 'still banned');
      b.child.stdin!.end();
      assert.equal(await b.exited, 0);
      assert.deepEqual(JSON.parse(readFileSync(state, 'utf8')).bans.map((x: { addr: string }) => x.addr), [lab.atAddr]);
    } finally {
      b.child.kill('SIGKILL');
    }
    // end of the test: lift it (the next test starts clean)
    lab.must(lab.fw, ['nft', 'delete', 'table', 'inet', 'iplog']);
  });

  test('a restart never restores a ban of the host, loopback, 0.0.0.0, broadcast or an allowlisted network', async () => {
    const state = join(dir, 'unsafe.json');
    const a = iplog(lab, ['--ban-backend', 'nftables', '--ban-time', '120', '--ban-state', state]);
    try {
      a.child.stdin!.write(synScanPcap(lab.atAddr, lab.fwAddr));
      await a.until(() => a.stdout.includes(`BAN: banned ${lab.atAddr} for 120 seconds`), 15_000, 'the BAN line');
      await waitFor(() => nftElements(lab, 'ban4').has(lab.atAddr), 5000, 'the element');
      await a.until(() => JSON.parse(readFileSync(state, 'utf8')).bans.length === 1, 5000, 'the state file');
    } finally {
      await a.kill9();
    }
    assert.equal(lab.pingFromAttacker(), false, 'banned before the restart');
    // a state file (and a ruleset) holding what must never be banned, as an older version left them
    const doc = JSON.parse(readFileSync(state, 'utf8'));
    const now = Math.floor(Date.now() / 1000);
    for (const addr of ['127.0.0.1', '0.0.0.0', '255.255.255.255', lab.fwAddr]) doc.bans.push({ addr, family: 4, since: now, until: now + 600, offence: 1, reason: 'TCP: SYN scan' });
    writeFileSync(state, JSON.stringify(doc));
    lab.must(lab.fw, ['nft', 'add', 'element', 'inet', 'iplog', 'ban4', `{ 127.0.0.1 timeout 600s, ${lab.fwAddr} timeout 600s }`]);
    assert.notEqual(lab.run(lab.fw, ['ping', '-n', '-c', '1', '-W', '1', '127.0.0.1']).status, 0, 'loopback is cut by the stale elements');

    const net = lab.atAddr.replace(/\.\d+$/, '.0/24');
    const b = iplog(lab, ['--ban-backend', 'nftables', '--ban-time', '120', '--ban-state', state, '--ban-allow', net]);
    try {
      b.child.stdin!.write(pcapHeaderOnly());
      await b.until(() => b.records().some((r) => r.msg === 'ban table reconciled with the firewall'), 15_000, 'the reconciliation');
      b.child.stdin!.end();
      assert.equal(await b.exited, 0);
      const lines = b.stdout.split('\n').filter((l) => l.includes('BAN:')).map((l) => l.replace(/^\w{3} [ \d]\d \d\d:\d\d:\d\d /, ''));
      assert.deepEqual(lines.sort(), [
        'BAN: unbanned 0.0.0.0 (allowlisted: unspecified address)',
        'BAN: unbanned 127.0.0.1 (allowlisted: loopback)',
        `BAN: unbanned ${lab.atAddr} (allowlisted by ${net})`,
        `BAN: unbanned ${lab.fwAddr} (allowlisted: own address)`,
        'BAN: unbanned 255.255.255.255 (allowlisted: broadcast)',
      ].sort());
      assert.deepEqual([...nftElements(lab, 'ban4').keys()], [], 'nothing of it is in the firewall');
      assert.equal(lab.run(lab.fw, ['ping', '-n', '-c', '1', '-W', '1', '127.0.0.1']).status, 0, 'loopback works');
      assert.ok(lab.reachable(), 'the allowlisted peer is no longer locked out');
      assert.deepEqual(JSON.parse(readFileSync(state, 'utf8')).bans, [], 'and the state file forgets them');
    } finally {
      b.child.kill('SIGKILL');
    }
    lab.must(lab.fw, ['nft', 'delete', 'table', 'inet', 'iplog']);
  });
});

describe('ipset backend in a network namespace', { skip: skip ?? undefined }, () => {
  let lab: Lab;
  let dir: string;
  before(() => {
    lab = new Lab('ipset');
    lab.up();
    dir = mkdtempSync(join(tmpdir(), 'iplog-ipset-'));
  });
  after(() => {
    lab?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a ban drops the source; the entry lapses by itself after SIGKILL', async () => {
    assert.ok(lab.reachable());
    const p = iplog(lab, ['--ban-backend', 'ipset', '--ban-time', '5', '--ban-state', join(dir, 'lapse.json')]);
    try {
      p.child.stdin!.write(synScanPcap(lab.atAddr, lab.fwAddr));
      await p.until(() => p.stdout.includes(`BAN: banned ${lab.atAddr} for 5 seconds`), 15_000, 'the BAN line');
      await waitFor(() => ipsetMembers(lab, 'iplog4').has(lab.atAddr), 5000, 'the entry');
      const left = ipsetMembers(lab, 'iplog4').get(lab.atAddr);
      assert.ok(left !== null && left !== undefined && left <= 5, `the entry carries its timeout (${left})`);
      assert.equal(lab.pingFromAttacker(), false);
    } finally {
      await p.kill9();
    }
    const t = Date.now();
    await waitFor(() => !ipsetMembers(lab, 'iplog4').has(lab.atAddr), 10_000, 'the kernel to lift the ban');
    assert.ok(Date.now() - t < 8000);
    assert.ok(lab.reachable());
  });

  test('IPv6 through ip6tables and the inet6 set', async () => {
    const d = driver(lab, ['--ban-backend', 'ipset', '--ban-time', '4', '--ban-state', join(dir, 'v6.json')]);
    try {
      d.child.stdin!.write(`scan ${lab.atAddr6}\n`);
      await d.until(() => d.stdout.includes(`BAN: banned ${lab.atAddr6} for 4 seconds`), 15_000, 'the BAN line');
      await waitFor(() => ipsetMembers(lab, 'iplog6').has(lab.atAddr6), 5000, 'the IPv6 entry');
      assert.equal(lab.pingFromAttacker(true), false);
    } finally {
      await d.kill9();
    }
    await waitFor(() => !ipsetMembers(lab, 'iplog6').has(lab.atAddr6), 10_000, 'the kernel to lift the IPv6 ban');
    assert.ok(lab.reachable(true));
  });

  test('a restarted iplog reconciles: nothing re-added, no rule duplicated', async () => {
    const state = join(dir, 'restart.json');
    const a = iplog(lab, ['--ban-backend', 'ipset', '--ban-time', '120', '--ban-state', state]);
    try {
      a.child.stdin!.write(synScanPcap(lab.atAddr, lab.fwAddr));
      await a.until(() => a.stdout.includes(`BAN: banned ${lab.atAddr} for 120 seconds`), 15_000, 'the BAN line');
      await waitFor(() => ipsetMembers(lab, 'iplog4').has(lab.atAddr), 5000, 'the entry');
      await a.until(() => JSON.parse(readFileSync(state, 'utf8')).bans.length === 1, 5000, 'the state file');
    } finally {
      await a.kill9();
    }
    const leftBefore = ipsetMembers(lab, 'iplog4').get(lab.atAddr)!;
    const b = iplog(lab, ['--ban-backend', 'ipset', '--ban-time', '120', '--ban-state', state]);
    try {
      b.child.stdin!.write(pcapHeaderOnly());
      await b.until(() => b.records().some((r) => r.msg === 'ban table reconciled with the firewall'), 15_000, 'the reconciliation');
      await b.until(() => b.records().filter((r) => r.msg === 'ban command').length >= 8, 5000, 'the start-up commands');
      const cmds = commands(b).map((c) => c.argv.join(' '));
      assert.deepEqual(cmds.slice(0, 2), ['ipset save iplog4', 'ipset save iplog6']);
      assert.ok(!cmds.some((c) => / add | restore|-I /.test(` ${c} `)), `nothing added, no rule inserted:\n${cmds.join('\n')}`);
      assert.deepEqual([...ipsetMembers(lab, 'iplog4').keys()], [lab.atAddr]);
      assert.ok(ipsetMembers(lab, 'iplog4').get(lab.atAddr)! <= leftBefore);
      for (const [tool, set] of [['iptables', 'iplog4'], ['ip6tables', 'iplog6']] as const) {
        for (const chain of ['INPUT', 'FORWARD']) {
          const n = lab.must(lab.fw, [tool, '-w', '-S', chain]).split('\n').filter((l) => l.includes(`--match-set ${set} src`)).length;
          assert.equal(n, 1, `${tool} ${chain}: one rule`);
        }
      }
      assert.equal(lab.pingFromAttacker(), false);
      b.child.stdin!.end();
      assert.equal(await b.exited, 0);
    } finally {
      b.child.kill('SIGKILL');
    }
  });
});

describe('iptables backend in a network namespace (expiry by iplog)', { skip: skip ?? undefined }, () => {
  let lab: Lab;
  let dir: string;
  before(() => {
    lab = new Lab('ipt');
    lab.up();
    dir = mkdtempSync(join(tmpdir(), 'iplog-ipt-'));
  });
  after(() => {
    lab?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a ban is a DROP rule in the iplog chain; iplog removes it when it expires', async () => {
    // 8 s: long enough for the checks below on a loaded machine, short enough to wait for
    const d = driver(lab, ['--ban-backend', 'iptables', '--ban-time', '8', '--ban-state', join(dir, 'bans.json')]);
    try {
      d.child.stdin!.write(`scan ${lab.atAddr}\nscan ${lab.atAddr6}\n`);
      await d.until(() => d.stdout.includes(`BAN: banned ${lab.atAddr6} for 8 seconds`), 15_000, 'the BAN lines');
      await waitFor(() => lab.run(lab.fw, ['iptables', '-w', '-S', 'iplog']).stdout.includes(`-A iplog -s ${lab.atAddr}/32 -j DROP`), 5000, 'the rule');
      await waitFor(() => lab.run(lab.fw, ['ip6tables', '-w', '-S', 'iplog']).stdout.includes(`-A iplog -s ${lab.atAddr6}/128 -j DROP`), 5000, 'the IPv6 rule');
      assert.equal(lab.pingFromAttacker(), false);
      assert.equal(lab.pingFromAttacker(true), false);
      await d.until(() => d.stdout.includes(`BAN: unbanned ${lab.atAddr} (expired)`), 15_000, 'the expiry');
      await waitFor(() => !lab.run(lab.fw, ['iptables', '-w', '-S', 'iplog']).stdout.includes(lab.atAddr), 5000, 'the rule to go');
      await waitFor(() => !lab.run(lab.fw, ['ip6tables', '-w', '-S', 'iplog']).stdout.includes(lab.atAddr6), 5000, 'the IPv6 rule to go');
      assert.ok(lab.reachable());
      assert.ok(lab.reachable(true));
      const jumps = lab.must(lab.fw, ['iptables', '-w', '-S', 'INPUT']).split('\n').filter((l) => l === '-A INPUT -j iplog').length;
      assert.equal(jumps, 1);
    } finally {
      await d.kill9();
    }
  });
});

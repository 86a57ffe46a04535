/**
 * Adaptive IPv6 prefixes for real (issue 8 B.8): the iplog binary in a firewall namespace
 * (test/ban/lab.ts) reads a pcap stream of IPv6 SYN scans (`iplog -r -`, a live stream:
 * real backends allowed) with the nftables backend. Three offenders of the attacker's
 * second /64 (2001:db8:202::/64, routed through the attacker namespace) make iplog ban
 * the /64: the test sees the /64 element in the kernel's interval set `ban6net`, the /128
 * elements gone from `ban6`, and pings from a fourth address of that /64, never seen by
 * iplog, dropped, while the attacker's address in another /64 still gets through.
 * Three offenders of the lab's own /64 (which holds fw's address) are banned one by one
 * and the /64 is refused. Documentation addresses only (2001:db8::/32); skipped with the
 * reason unless root with ip netns and nft.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, Proc, skipReason, waitFor } from './lab';
import { writePcap, type Frame } from '../helpers/pcap-writer';
import { ipv6, tcp, SYN } from '../helpers/packets';

const root = join(__dirname, '..', '..', '..');
const BIN = join(root, 'bin', 'iplog');
const skip = skipReason(['nft', 'ping']);
if (skip) console.log(`# adaptive prefix namespace test skipped: ${skip}`);

const NET = '2001:db8:202::';
const OFFENDERS = [`${NET}a`, `${NET}b`, `${NET}c`];
/** in the banned /64, never seen by iplog */
const FOURTH = `${NET}d`;

/** A pcap stream (raw link type) of SYN scans of 12 ports from each of `srcs`, stamped now. */
function scans6(srcs: string[], dst: string, withHeader: boolean): Buffer {
  const t = Date.now() / 1000;
  const frames: Frame[] = [];
  srcs.forEach((src, k) => {
    for (let i = 0; i < 12; i++) frames.push({ ts: t + k * 0.05 + i * 0.001, data: ipv6({ src, dst, nh: 6 }, tcp(41000 + k, 20 + i, SYN)) });
  });
  const b = writePcap(frames, { linktype: 101 });
  return withHeader ? b : b.subarray(24);
}

/** The elements of an nft set of the iplog table: `ADDR` or `NET/LEN` -> seconds left. */
function elements(lab: Lab, set: string): Map<string, number | null> {
  const r = lab.run(lab.fw, ['nft', '-j', 'list', 'set', 'inet', 'iplog', set]);
  const m = new Map<string, number | null>();
  if (r.status !== 0) return m;
  const text = (v: unknown): string => (typeof v === 'string' ? v : `${(v as { prefix: { addr: string; len: number } }).prefix.addr}/${(v as { prefix: { len: number } }).prefix.len}`);
  for (const it of (JSON.parse(r.stdout) as { nftables: { set?: { elem?: unknown[] } }[] }).nftables) {
    for (const e of it.set?.elem ?? []) {
      const el = typeof e === 'object' && e !== null && 'elem' in e ? (e as { elem: { val: unknown; expires?: number } }).elem : { val: e };
      m.set(text(el.val), (el as { expires?: number }).expires ?? null);
    }
  }
  return m;
}

function ping6From(lab: Lab, src: string): boolean {
  return lab.run(lab.at, ['ping', '-6', '-n', '-c', '1', '-W', '1', '-I', src, lab.fwAddr6]).status === 0;
}

describe('adaptive prefixes with nftables in a network namespace', { skip: skip ?? undefined }, () => {
  let lab: Lab;
  let dir: string;
  before(() => {
    lab = new Lab('pfx');
    lab.up();
    // a second /64 on the attacker, routed to it from fw
    for (const a of [...OFFENDERS, FOURTH]) lab.must(lab.at, ['ip', '-6', 'addr', 'add', `${a}/64`, 'dev', 'vat', 'nodad']);
    lab.must(lab.fw, ['ip', '-6', 'route', 'add', `${NET}/64`, 'via', lab.atAddr6, 'dev', 'vfw']);
    dir = mkdtempSync(join(tmpdir(), 'iplog-pfx-'));
  });
  after(() => {
    lab?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('three offenders of one /64: the /64 in the interval set, another address of it dropped', async () => {
    assert.ok(ping6From(lab, FOURTH), 'the lab works before any ban: the fourth address reaches fw');
    // the machinery, so every crossing bans at once (a stream that stops has no packet to end the hold of spoofable evidence)
    const p = new Proc(lab.spawnIn(lab.fw, [process.execPath, BIN, '--config', '/dev/null', '--profile', 'compat', '-r', '-', '-N', '-m', '--ban-evidence', 'any', '--ban-backend', 'nftables', '--ban-time', '60', '--ban-state', join(dir, 'bans.json')], { IPLOG_LOG_LEVEL: 'info' }));
    try {
      p.child.stdin!.write(scans6(OFFENDERS, lab.fwAddr6, true));
      await p.until(() => p.stdout.includes(`BAN: banned ${NET}/64 for 60 seconds (3 offenders in ${NET}/64 within 600 s: ${OFFENDERS.join(', ')}; offence 1; spoofable evidence)`), 20_000, 'the prefix BAN line');
      for (const a of OFFENDERS) assert.ok(p.stdout.includes(`BAN: unbanned ${a} (replaced by ${NET}/64)`), a);
      await waitFor(() => elements(lab, 'ban6net').has(`${NET}/64`) && elements(lab, 'ban6').size === 0, 10_000, 'the /64 element and the /128s gone');
      const left = elements(lab, 'ban6net').get(`${NET}/64`);
      assert.ok(left !== null && left !== undefined && left <= 60, `the /64 carries its timeout (${left})`);
      assert.equal(ping6From(lab, FOURTH), false, 'another /128 of the banned /64 is dropped');
      assert.ok(ping6From(lab, lab.atAddr6), 'the attacker\'s address in another /64 is not banned');
      const drops = /ip6 saddr @ban6net counter packets (\d+)/.exec(lab.must(lab.fw, ['nft', 'list', 'chain', 'inet', 'iplog', 'input']));
      assert.ok(Number(drops?.[1]) >= 1, `the prefix rule counted the dropped ping (${drops?.[0]})`);

      // the lab's own /64 holds fw's address: its offenders stay banned one by one
      const own = ['2001:db8:201::a', '2001:db8:201::b', '2001:db8:201::c'];
      p.child.stdin!.write(scans6(own, lab.fwAddr6, false));
      await p.until(() => p.stdout.includes('BAN: not banning 2001:db8:201::/64 ('), 20_000, 'the refusal of the prefix');
      assert.match(p.stdout, /BAN: not banning 2001:db8:201::\/64 \(3 offenders in 2001:db8:201::\/64 within 600 s; it holds 2001:db8:201::1 \(own address\): the offenders stay banned one by one\)/);
      await waitFor(() => own.every((a) => elements(lab, 'ban6').has(a)), 10_000, 'the three /128 elements');
      assert.ok(!elements(lab, 'ban6net').has('2001:db8:201::/64'));
      assert.ok(ping6From(lab, lab.atAddr6), 'fw\'s own /64 is not banned');
    } finally {
      await p.kill9();
    }
  });
});

/**
 * Ban control and connection cutting with a live sensor in a namespace (issue 13 items 3
 * and 5): `iplog -o -L -i vfw --ban-backend nftables` in the firewall namespace of
 * test/ban/lab.ts, and `iplog bans ...` (bin/iplog) talking to it through the control
 * socket beside its pid file. Only documentation addresses; nft and conntrack run only
 * inside the namespace.
 *
 * 1. list/add/del/allow; `del` survives the resync (which does put back an element
 *    deleted with `nft delete element` alone) and a restart; a client that is not root
 *    (nor in --control-group) is refused; SIGHUP with a new ban_allow in iplog.conf lifts
 *    the ban it covers;
 * 2. an established TCP connection from the attacker is cut by a ban: the test's own
 *    input chain accepts established traffic first and drops iplog's set after it (a
 *    stateful firewall where bans only meet new packets). With conntrack cutting on, the
 *    connection's entry is deleted, its next packet is "new" and is dropped: the server
 *    never receives it. With `--ban-conntrack no` the same packet passes.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, Proc, skipReason, sleep, waitFor } from './lab';

const root = join(__dirname, '..', '..', '..');
const BIN = join(root, 'bin', 'iplog');
const labSkip = skipReason(['nft', 'conntrack', 'setpriv', 'ping']);

function liveSkip(): string | null {
  if (labSkip) return labSkip;
  const ns = `iplog-ctlprobe-${process.pid}`;
  spawnSync('ip', ['netns', 'add', ns]);
  try {
    spawnSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, BIN, '--config', '/dev/null', '--pid-file', join(tmpdir(), `iplog-ctlprobe-${process.pid}.pid`), '-o', '-L', '-N', '-i', 'lo'], {
      encoding: 'utf8',
      timeout: 3000,
      killSignal: 'SIGKILL',
    });
    const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    if (/live capture is not available/.test(text)) return 'the live sensor is not available in this build';
    if (r.status !== null && r.status !== 0) return `the live sensor does not start here: ${text.trim().split('\n').slice(-1)[0]}`;
    return null;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}
const skip = liveSkip();

const running = new Set<Proc>();

describe('iplog bans with a live sensor (namespace, nftables)', { skip: skip ?? undefined }, () => {
  let lab: Lab;
  let dir: string;
  before(() => {
    lab = new Lab('ctl');
    lab.up();
    dir = mkdtempSync(join(tmpdir(), 'iplog-ctl-live-'));
    // a client that is not root must reach the socket's own permission check
    chmodSync(dir, 0o755);
  });
  after(async () => {
    for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) await p.kill9();
    running.clear();
    lab?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const pidFile = (): string => join(dir, 'iplog.pid');
  const conf = (): string => join(dir, 'iplog.conf');

  async function sensor(args: string[]): Promise<Proc> {
    const p = new Proc(lab.spawnIn(lab.fw, [process.execPath, BIN, '-o', '-L', '-N', '-i', 'vfw', '--pid-file', pidFile(), '--config', conf(), '--ban-backend', 'nftables', ...args], { IPLOG_LOG_LEVEL: 'debug' }));
    running.add(p);
    try {
      await p.until(() => p.records().some((r) => r.msg === 'ban control socket open'), 15_000, 'the control socket');
      await p.until(() => p.records().some((r) => r.msg === 'iplog started'), 15_000, 'the sensor to start');
    } catch (e) {
      await p.kill9();
      throw e;
    }
    return p;
  }

  async function stop(p: Proc): Promise<void> {
    p.child.kill('SIGTERM');
    await p.exited;
  }

  /** `iplog bans ARGS --pid-file ...` from the host (a UNIX socket is a path: no namespace needed). */
  function bans(args: string[], asNobody = false): { status: number | null; stdout: string; stderr: string } {
    const argv = [process.execPath, BIN, 'bans', ...args, '--pid-file', pidFile()];
    const r = asNobody ? spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...argv], { encoding: 'utf8' }) : spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  function elements(): string[] {
    const r = lab.run(lab.fw, ['nft', '-j', 'list', 'set', 'inet', 'iplog', 'ban4']);
    if (r.status !== 0) return [];
    const doc = JSON.parse(r.stdout) as { nftables: { set?: { elem?: unknown[] } }[] };
    const out: string[] = [];
    for (const it of doc.nftables) for (const e of it.set?.elem ?? []) out.push(typeof e === 'string' ? e : (e as { elem: { val: string } }).elem.val);
    return out.sort();
  }

  test('list/add/del/allow; del survives the resync and a restart; not root: permission denied; SIGHUP with a new ban_allow lifts the ban', async () => {
    lab.run(lab.fw, ['nft', 'delete', 'table', 'inet', 'iplog']);
    writeFileSync(conf(), '');
    const state = join(dir, 'ctl.json');
    const A = '203.0.113.5';
    const B = '203.0.113.6';
    let s = await sensor(['--ban-state', state, '--ban-resync', '10']);
    try {
      // the control is a UNIX socket: the sensor listens on no TCP or UDP port
      const listening = lab.run(lab.fw, ['ss', '-H', '-l', '-t', '-u', '-n', '-p']).stdout;
      assert.doesNotMatch(listening, /node|iplog/, listening);
      let r = bans(['add', lab.atAddr, '--for', '10m']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^banned ${lab.atAddr.replace(/\./g, '\\.')} for 600 seconds`));
      assert.equal(bans(['add', A]).status, 0);
      assert.equal(bans(['add', B]).status, 0);
      await waitFor(() => elements().length === 3, 5000, 'three elements');
      assert.equal(lab.pingFromAttacker(), false, 'the attacker is dropped');
      // the never-ban list: the sensor's own address
      r = bans(['add', lab.fwAddr]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /not banning 198\.51\.100\.1 \(own address\)/);
      r = bans(['list', '--json']);
      assert.equal(r.status, 0);
      const doc = JSON.parse(r.stdout) as { bans: { addr: string; reason: string }[] };
      assert.deepEqual(doc.bans.map((b) => b.addr).sort(), [lab.atAddr, A, B].sort());
      // not root, not the control group
      r = bans(['list'], true);
      assert.equal(r.status, 4, r.stderr);
      assert.match(r.stderr, /permission denied/);

      // del: gone from the firewall at once
      r = bans(['del', lab.atAddr]);
      assert.equal(r.status, 0, r.stderr);
      await waitFor(() => !elements().includes(lab.atAddr), 5000, 'the element deleted');
      assert.ok(lab.reachable(), 'pings pass again');
      await s.until(() => s.stdout.includes(`BAN: unbanned ${lab.atAddr} (lifted by hand)`), 2000, 'the unban line');
      // `nft delete element` alone: the resync puts A back; the one lifted with del stays out
      lab.must(lab.fw, ['nft', 'delete', 'element', 'inet', 'iplog', 'ban4', `{ ${A} }`]);
      await waitFor(() => elements().includes(A), 15_000, 'the resync to put A back');
      assert.ok(!elements().includes(lab.atAddr), 'del survives the resync');
      assert.ok(lab.reachable());
    } finally {
      await stop(s);
    }
    // a restart: the lifted address stays lifted, the others stay banned
    s = await sensor(['--ban-state', state, '--ban-resync', '10']);
    try {
      await s.until(() => s.records().some((r) => r.msg === 'ban table reconciled with the firewall'), 10_000, 'the reconciliation');
      assert.deepEqual(elements(), [A, B]);
      const show = JSON.parse(bans(['show', lab.atAddr, '--json']).stdout) as { banned: boolean; lifted: { at: number } | null };
      assert.equal(show.banned, false);
      assert.ok(show.lifted !== null, 'the lift is remembered');
      assert.doesNotMatch(s.stdout, /BAN: banned/);
      // SIGHUP with a new ban_allow: the ban it covers is lifted, the other holds
      writeFileSync(conf(), `ban_allow ${A}\n`);
      s.child.kill('SIGHUP');
      await s.until(() => s.stdout.includes(`BAN: unbanned ${A} (allowlisted by ${A})`), 10_000, 'the unban line of the reload');
      await waitFor(() => !elements().includes(A), 5000, 'A deleted from the firewall');
      assert.deepEqual(elements(), [B]);
      // allow NET by hand: lifts B, persists
      const r = bans(['allow', '203.0.113.0/24']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /unbanned 203\.0\.113\.6/);
      await waitFor(() => elements().length === 0, 5000, 'B deleted');
      assert.equal(bans(['add', '203.0.113.77']).status, 1, 'refused: allowed by hand');
    } finally {
      await stop(s);
    }
    // no sensor: exit status 3
    assert.equal(bans(['list']).status, 3);
  });

  /** A TCP server in fw that prints what it receives, a client in at that sends its stdin. */
  async function connection(port: number): Promise<{ server: Proc; client: Proc; send: (line: string) => void }> {
    const server = new Proc(lab.spawnIn(lab.fw, [process.execPath, '-e', `require('net').createServer((c)=>{c.setEncoding('utf8');c.on('data',(d)=>process.stdout.write(d));c.on('error',()=>{})}).listen(${port},'${lab.fwAddr}',()=>console.log('listening'))`]));
    running.add(server);
    await server.until(() => server.stdout.includes('listening'), 20_000, 'the server');
    const client = new Proc(lab.spawnIn(lab.at, [process.execPath, '-e', `const c=require('net').connect(${port},'${lab.fwAddr}',()=>console.log('connected'));c.on('error',(e)=>console.log('error '+e.code));process.stdin.on('data',(d)=>c.write(d))`]));
    running.add(client);
    await client.until(() => client.stdout.includes('connected'), 20_000, 'the client');
    return { server, client, send: (line) => client.child.stdin!.write(`${line}\n`) };
  }

  const entries = (): string => lab.run(lab.fw, ['conntrack', '-L', '-p', 'tcp', '--orig-src', lab.atAddr]).stdout;

  for (const cut of [true, false]) {
    test(`an established connection ${cut ? 'is cut by a ban (conntrack entry deleted)' : 'goes on through an established-accept rule with --ban-conntrack no'}`, async (t) => {
      lab.run(lab.fw, ['nft', 'delete', 'table', 'inet', 'iplog']);
      writeFileSync(conf(), '');
      // iplog's own drop chains only on forward; the host's stateful input chain uses iplog's set after its established-accept
      const s = await sensor(['--ban-state', join(dir, `ct-${cut}.json`), '--ban-param', 'hooks=forward', ...(cut ? [] : ['--ban-conntrack', 'no'])]);
      const port = cut ? 7101 : 7102;
      let conn: Awaited<ReturnType<typeof connection>> | null = null;
      try {
        assert.equal(bans(['add', '203.0.113.1', '--for', '1m']).status, 0); // creates table and sets
        await waitFor(() => elements().includes('203.0.113.1'), 5000, 'the table');
        lab.must(lab.fw, ['nft', '-f', '-'], 'add chain inet iplog guard { type filter hook input priority 0; policy accept; }\nadd rule inet iplog guard ct state established,related accept\nadd rule inet iplog guard ip saddr @ban4 counter drop\n');
        conn = await connection(port);
        conn.send('before');
        await conn.server.until(() => conn!.server.stdout.includes('before'), 5000, 'the first message');
        assert.match(entries(), /ESTABLISHED/);
        const asked = Date.now();
        const r = bans(['add', lab.atAddr, '--for', '5m']);
        assert.equal(r.status, 0, r.stderr);
        // how long the command took (node's start-up included), and the entry's end after it (polled every 100 ms)
        const took = Date.now() - asked;
        if (cut) t.diagnostic(`iplog bans add took ${took} ms; the conntrack entry was gone ${await waitFor(() => !/ESTABLISHED/.test(entries()), 5000, 'the entry deleted')} ms after it returned`);
        await waitFor(() => elements().includes(lab.atAddr), 5000, 'the ban');
        await s.until(() => s.records().some((x) => x.msg === 'ban command' && (x.argv as string[] | undefined)?.[0] === 'conntrack') || !cut, 5000, 'conntrack -D');
        await sleep(300);
        if (cut) assert.doesNotMatch(entries(), /ESTABLISHED/, 'the conntrack entry is gone');
        else assert.match(entries(), /ESTABLISHED/, 'the conntrack entry stays');
        conn.send('after');
        await sleep(1500);
        if (cut) assert.ok(!conn.server.stdout.includes('after'), 'the established connection is cut: its packet is new and dropped');
        else assert.ok(conn.server.stdout.includes('after'), 'without cutting, established-accept lets it through');
        // a new connection is refused either way
        const fresh = lab.run(lab.at, [process.execPath, '-e', `const c=require('net').connect(${port},'${lab.fwAddr}',()=>{console.log('connected');process.exit(0)});setTimeout(()=>{console.log('timeout');process.exit(1)},1500)`]);
        assert.match(fresh.stdout, /timeout/);
      } finally {
        conn?.client.child.kill('SIGKILL');
        conn?.server.child.kill('SIGKILL');
        await stop(s);
      }
    });
  }
});

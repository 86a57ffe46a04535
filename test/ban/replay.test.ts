/**
 * `iplog -r FILE --ban-backend dry-run`: what would have been banned, and when, in the
 * iplog output itself (BAN lines stamped with packet time), through the real CLI; and
 * the ban options on the command line and in iplog.conf.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseCommandLine } from '../../src/cli/program';
import { parseConfig } from '../../src/config/conf-parser';
import { defaultSettings } from '../../src/config/options';

const root = join(__dirname, '..', '..', '..');
const BIN = join(root, 'bin', 'iplog');

function iplog(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [BIN, '--config', '/dev/null', ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', LC_ALL: 'C', ...env }, timeout: 60_000 });
}

test('nmap -sS replayed with the dry-run backend: the BAN line at the detection\'s packet time', () => {
  const pcap = join(root, 'pcaps', 'conformance', 'nmap_sS.pcap');
  const plain = iplog(['-r', pcap, '--profile', 'compat', '-N']);
  const r = iplog(['-r', pcap, '--profile', 'compat', '-N', '--ban-backend', 'dry-run']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  const ban = lines.filter((l) => l.includes('BAN:'));
  // the scan came from 127.0.0.1 (recorded on loopback): loopback is never banned, and says so
  assert.deepEqual(ban, ['Nov 22 21:27:59 BAN: not banning 127.0.0.1 (loopback)']);
  const i = lines.indexOf(ban[0]!);
  assert.match(lines[i - 1]!, /^Nov 22 21:27:59 TCP: SYN scan detected \[ports .*\] from 127\.0\.0\.1 \[port 54221\]$/, 'right after its detection');
  // apart from it, the output is exactly the output without banning
  assert.equal(lines.filter((l) => !l.includes('BAN:')).join('\n'), plain.stdout);
});

test('a replayed scan from a routable address: banned, unbanned at expiry, at packet time', () => {
  const pcap = join(root, 'pcaps', 'ban', 'dry-run-repeat-offender.pcap');
  // escalation is for evidence that bans normally: every crossing here (--ban-evidence any)
  const r = iplog(['-r', pcap, '--profile', 'compat', '-N', '-m', '--ban-backend', 'dry-run', '--ban-time', '1m', '--ban-factor', '3', '--ban-evidence', 'any'], { IPLOG_LOG_LEVEL: 'info' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    r.stdout.split('\n').filter((l) => l.includes('203.0.113.5') && l.includes('BAN')),
    [
      'Nov 14 22:13:20 BAN: banned 203.0.113.5 for 60 seconds (TCP: SYN scan; score 10; offence 1; spoofable evidence)',
      'Nov 14 22:14:20 BAN: unbanned 203.0.113.5 (expired)',
      'Nov 14 22:15:30 BAN: banned 203.0.113.5 for 180 seconds (TCP: SYN scan; score 10; offence 2; spoofable evidence)',
      'Nov 14 22:18:30 BAN: unbanned 203.0.113.5 (expired)',
    ],
  );
  // the dry-run backend's argv and the explain trail are in the operational log
  const recs = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const actions = recs.filter((x) => x.msg === 'ban action').map((x) => (x.argv as string[]).join(' '));
  assert.deepEqual(actions, ['nft -f -', 'nft add element inet iplog ban4 { 203.0.113.5 timeout 60s }', 'nft add element inet iplog ban4 { 198.51.100.77 timeout 60s }', 'nft add element inet iplog ban4 { 203.0.113.5 timeout 180s }']);
  const explain = recs.find((x) => x.msg === 'banned 203.0.113.5')?.explain as Record<string, unknown>;
  assert.deepEqual((explain.events as { detector: string; weight: number }[]).map((e) => [e.detector, e.weight]), [['syn-scan', 10]]);
});

test('connection attempts reach the ban manager when a weight asks for them, and are written without their event otherwise (issue 10)', () => {
  const pcap = join(root, 'pcaps', 'conformance', 'crafted_tcp_flags.pcap');
  const plain = iplog(['--profile', 'compat', '-r', pcap, '-N', '--ban-backend', 'dry-run', '--ban-evidence', 'any']);
  assert.equal(plain.status, 0, plain.stderr);
  assert.ok(!plain.stdout.includes('BAN:'), plain.stdout);
  const weighted = iplog(['--profile', 'compat', '-r', pcap, '-N', '--ban-backend', 'dry-run', '--ban-evidence', 'any', '--ban-weight', 'tcp.connection_attempt=10']);
  assert.equal(weighted.status, 0, weighted.stderr);
  const lines = weighted.stdout.split('\n');
  const i = lines.indexOf('Nov 14 22:13:20 BAN: not banning 127.0.0.3 (loopback)');
  assert.ok(i > 0, weighted.stdout);
  assert.equal(lines[i - 1], 'Nov 14 22:13:20 TCP: ssh connection attempt from 127.0.0.3:1234');
  assert.equal(lines.filter((l) => !l.includes('BAN:')).join('\n'), plain.stdout);
});

test('a replay of a file with a real backend is refused (IPLOG_ERR_BAN_REPLAY)', () => {
  const r = iplog(['-r', join(root, 'pcaps', 'conformance', 'nmap_sS.pcap'), '-N', '--ban-backend', 'nftables']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^iplog: a replay of a capture file cannot change the firewall: use --ban-backend dry-run/);
  assert.equal(r.stdout, '');
});

test('bad ban values are fatal on the command line, diagnostics in iplog.conf', () => {
  const cases: [string[], RegExp][] = [
    [['--ban-backend', 'ufw'], /^Fatal: Invalid ban backend: "ufw" \(one of none, nftables, ipset, iptables, pf, ipfw, command, dry-run, crowdsec\)$/m],
    [['--ban-time', '1y'], /^Fatal: Invalid ban time: "1y"/m],
    [['--ban-weight', 'syn-scan'], /^Fatal: Invalid ban weight: "syn-scan" \(KIND=N/m],
    [['--ban-weight', 'nosuch=3'], /unknown kind "nosuch"/],
    [['--ban-allow', '10.0.0.0/33'], /^Fatal: Invalid ban allowlist entry: "10\.0\.0\.0\/33"/m],
    [['--ban-budget', '0'], /^Fatal: Invalid ban budget: "0"/m],
    [['--ban-param', '=x'], /^Fatal: Invalid ban backend parameter/m],
  ];
  for (const [args, re] of cases) {
    const r = parseCommandLine(['--config', '/dev/null', ...args], { readFile: () => '' });
    assert.equal(r.kind, 'exit', args.join(' '));
    if (r.kind === 'exit') {
      assert.equal(r.status, 255);
      assert.equal(r.code, 'IPLOG_ERR_BAN_CONFIG');
      // the default command line: every diagnostic on stderr, `iplog: ` first
      assert.equal(r.stdout, '');
      assert.match(r.stderr.replace(/^iplog: /gm, ''), re);
    }
  }
  const s = defaultSettings();
  const diags: string[] = [];
  parseConfig('ban_backend nftables\nban_time 2h\nban_weight tcp.bogus_flags=2,frag.overlap=5\nban_weight syn-scan=4\nban_allow 10.0.0.0/8\nban_allow 2001:db8::/32\nban_param hooks=input\nban_param set4=x\nban_budget 3\nban_time never\n', 'iplog.conf', s, (m) => diags.push(m));
  assert.deepEqual(diags, ['[line 10] Invalid ban time: "never" (a duration N[s|m|h|d|w], at most 365d)']);
  assert.equal(s.ban?.backend, 'nftables');
  assert.equal(s.ban?.timeSec, 7200);
  assert.deepEqual(s.ban?.weights, { 'tcp.bogus_flags': 2, 'frag.overlap': 5, 'syn-scan': 4 });
  assert.deepEqual(s.ban?.allow, ['10.0.0.0/8', '2001:db8::/32']);
  assert.deepEqual(s.ban?.params, { hooks: 'input', set4: 'x' });
  assert.equal(s.ban?.budget, 3);
  // the command line adds to the file (allowlist) and overrides by name (weights, params)
  const r = parseCommandLine(['--config', 'x.conf', '--ban-allow', '192.0.2.0/24', '--ban-weight', 'syn-scan=10', '--ban-param', 'ban_command=/bin/true {ip}'], {
    readFile: () => 'ban_allow 10.0.0.0/8\nban_weight syn-scan=4\n',
  });
  assert.equal(r.kind, 'run');
  if (r.kind === 'run') {
    assert.deepEqual(r.settings.ban?.allow, ['10.0.0.0/8', '192.0.2.0/24']);
    assert.deepEqual(r.settings.ban?.weights, { 'syn-scan': 10 });
    assert.deepEqual(r.settings.ban?.params, { ban_command: '/bin/true {ip}' });
  }
});

test('an invalid ban_allow entry in iplog.conf is fatal, as on the command line, before anything is banned', () => {
  const conf = 'ban_backend dry-run\nban_allow 198.51.100.0/24\nban_allow 198.51.100.0/33\n';
  const r = parseCommandLine(['--config', 'iplog.conf'], { readFile: () => conf });
  assert.equal(r.kind, 'exit');
  if (r.kind === 'exit') {
    assert.equal(r.status, 255);
    assert.equal(r.code, 'IPLOG_ERR_BAN_CONFIG');
    // every diagnostic goes to standard error outside the explicit compat profile
    assert.match(r.stderr, /^iplog: Fatal: iplog\.conf: \[line 3\] Invalid ban allowlist entry: "198\.51\.100\.0\/33"/m);
  }
  // through the real CLI: the replay of a scan from that network stops before the first packet
  const pcap = join(root, 'pcaps', 'ban', 'dry-run-repeat-offender.pcap');
  const dir = mkdtempSync(join(tmpdir(), 'iplog-conf-'));
  try {
    writeFileSync(join(dir, 'iplog.conf'), 'ban_allow 203.0.113.0/33\n');
    const x = spawnSync(process.execPath, [BIN, '--config', join(dir, 'iplog.conf'), '-r', pcap, '-N', '--ban-backend', 'dry-run'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' }, timeout: 60_000 });
    assert.equal(x.status, 255, x.stdout + x.stderr);
    assert.doesNotMatch(x.stdout, /BAN: banned/);
    assert.match(x.stdout + x.stderr, /Invalid ban allowlist entry: "203\.0\.113\.0\/33"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a replay reads nothing of the replaying machine: the same BAN lines where the sources are its address and gateway', (t) => {
  const pcap = join(root, 'pcaps', 'ban', 'dry-run-repeat-offender.pcap');
  const args = ['-r', pcap, '--profile', 'compat', '-N', '-m', '--ban-backend', 'dry-run', '--ban-time', '1m'];
  const here = iplog(args);
  assert.equal(here.status, 0, here.stderr);
  assert.match(here.stdout, /BAN: banned 203\.0\.113\.5 /);
  assert.match(here.stdout, /BAN: banned 198\.51\.100\.77 /);
  // --home: the protected networks are never banned, and say so
  const home = iplog([...args, '--home', '203.0.113.0/24']);
  assert.match(home.stdout, /BAN: not banning 203\.0\.113\.5 \(home network 203\.0\.113\.0\/24\)/);
  assert.doesNotMatch(home.stdout, /BAN: banned 203\.0\.113\.5/);
  assert.match(home.stdout, /BAN: banned 198\.51\.100\.77 /);

  const skip = process.platform !== 'linux' || process.getuid?.() !== 0 ? 'needs root and Linux network namespaces' : null;
  if (skip) return t.skip(skip);
  // a machine whose own address is the scanner and whose gateway and resolver is the other source
  const ns = `iplog-replay-${process.pid}`;
  const etc = join('/etc/netns', ns);
  const sh = (argv: string[]) => spawnSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8' });
  assert.equal(spawnSync('ip', ['netns', 'add', ns]).status, 0);
  try {
    mkdirSync(etc, { recursive: true });
    writeFileSync(join(etc, 'resolv.conf'), 'nameserver 198.51.100.77\n');
    for (const c of [['ip', 'link', 'set', 'lo', 'up'], ['ip', 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1'], ['ip', 'link', 'set', 'd0', 'up'], ['ip', 'link', 'set', 'd1', 'up'],
      ['ip', 'addr', 'add', '203.0.113.5/24', 'dev', 'd0'], ['ip', 'addr', 'add', '198.51.100.1/24', 'dev', 'd0'], ['ip', 'route', 'add', 'default', 'via', '198.51.100.77']]) {
      const r = sh(c);
      assert.equal(r.status, 0, `${c.join(' ')}: ${r.stderr}`);
    }
    const there = sh([process.execPath, BIN, '--config', '/dev/null', ...args]);
    assert.equal(there.status, 0, there.stderr);
    assert.equal(there.stdout, here.stdout, 'the same lines on a machine that is the scanner and routes through the other');
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
    rmSync(etc, { recursive: true, force: true });
  }
});

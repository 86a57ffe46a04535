/**
 * config/integrations/crowdsec/ (parser and scenarios) against the real CrowdSec 1.4.6 of
 * Debian 12, offline. The package is unpacked by scripts/setup.mjs into
 * node_modules/.cache/iplog-crowdsec (never installed: its postinst registers with
 * CrowdSec's Central API on the internet). The test builds a private configuration in a
 * temporary directory: Debian's own crowdsecurity/syslog-logs (s00) and dateparse-enrich
 * (s02) from the package's offline hub, our parser and scenarios, an empty hub index, a
 * SQLite database, no Central API; it starts a Local API on a free port of 127.0.0.1
 * (the agent needs one to push alerts, and `cscli explain` runs the agent).
 *
 * 1. `cscli explain -v` over the corpus in syslog form: each detection, "mode expired",
 *    bogus-flag, traceroute, fragment and BAN line that states a source address is parsed
 *    with evt.Meta.source_ip = that address and the right log_type, and poured into the
 *    right scenarios; every other line (name-only sources included) is not parsed.
 * 2. Time-machine replay (`crowdsec -dsn file://... -type syslog -no-api`): the alerts in
 *    the Local API name exactly the expected addresses for iplog/iplog-scan.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, fullCorpus, syslogLine, type Entry } from './corpus';

/** Where the crowdsec and cscli binaries and the offline hub are. */
function findCrowdsec(): { bin: string; hub: string; patterns: string } | null {
  for (const base of [process.env.IPLOG_CROWDSEC_ROOT, join(ROOT, 'node_modules', '.cache', 'iplog-crowdsec'), '/']) {
    if (base === undefined) continue;
    const bin = join(base, 'usr', 'bin');
    const hub = join(base, 'usr', 'share', 'crowdsec', 'hub');
    const patterns = join(base, 'etc', 'crowdsec', 'patterns');
    if (existsSync(join(bin, 'crowdsec')) && existsSync(join(bin, 'cscli')) && existsSync(join(hub, 'parsers', 's00-raw', 'crowdsecurity', 'syslog-logs.yaml')) && existsSync(patterns)) {
      return { bin, hub, patterns };
    }
  }
  return null;
}

const cs = findCrowdsec();
const skip = cs === null ? 'CrowdSec not found (npm run setup unpacks Debian\'s package into node_modules/.cache/iplog-crowdsec)' : false;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

interface Setup {
  dir: string;
  config: string;
  env: NodeJS.ProcessEnv;
  lapi: ChildProcess;
}

async function setUp(): Promise<Setup> {
  const c = cs!;
  const dir = mkdtempSync(join(tmpdir(), 'iplog-crowdsec-'));
  for (const d of ['data', 'hub', 'parsers/s00-raw', 'parsers/s01-parse', 'parsers/s02-enrich', 'scenarios']) mkdirSync(join(dir, d), { recursive: true });
  // the consumer's own items, as local files (symlinks would be taken for hub items)
  copyFileSync(join(c.hub, 'parsers', 's00-raw', 'crowdsecurity', 'syslog-logs.yaml'), join(dir, 'parsers', 's00-raw', 'syslog-logs.yaml'));
  copyFileSync(join(c.hub, 'parsers', 's02-enrich', 'crowdsecurity', 'dateparse-enrich.yaml'), join(dir, 'parsers', 's02-enrich', 'dateparse-enrich.yaml'));
  // ours
  const ours = join(ROOT, 'config', 'integrations', 'crowdsec');
  copyFileSync(join(ours, 'parsers', 's01-parse', 'iplog-logs.yaml'), join(dir, 'parsers', 's01-parse', 'iplog-logs.yaml'));
  copyFileSync(join(ours, 'scenarios', 'iplog-scan.yaml'), join(dir, 'scenarios', 'iplog-scan.yaml'));
  symlinkSync(c.patterns, join(dir, 'patterns'));
  writeFileSync(join(dir, 'hub', '.index.json'), JSON.stringify({ parsers: {}, scenarios: {}, postoverflows: {}, collections: {} }));
  writeFileSync(join(dir, 'simulation.yaml'), 'simulation: off\n');
  writeFileSync(join(dir, 'acquis.yaml'), '');
  writeFileSync(
    join(dir, 'profiles.yaml'),
    ['name: default_ip_remediation', 'filters:', ' - Alert.Remediation == true && Alert.GetScope() == "Ip"', 'decisions:', ' - type: ban', '   duration: 4h', 'on_success: break', ''].join('\n'),
  );
  const port = await freePort();
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      'common:',
      '  daemonize: false',
      '  log_media: stdout',
      '  log_level: warning',
      'config_paths:',
      `  config_dir: ${dir}/`,
      `  data_dir: ${dir}/data/`,
      `  simulation_path: ${dir}/simulation.yaml`,
      `  hub_dir: ${dir}/hub/`,
      `  index_path: ${dir}/hub/.index.json`,
      `  notification_dir: ${dir}/notifications/`,
      `  plugin_dir: ${dir}/plugins/`,
      'crowdsec_service:',
      `  acquisition_path: ${dir}/acquis.yaml`,
      '  parser_routines: 1',
      'cscli:',
      '  output: human',
      '  color: no',
      'db_config:',
      '  type: sqlite',
      `  db_path: ${dir}/data/crowdsec.db`,
      '  use_wal: false',
      'prometheus:',
      '  enabled: false',
      'api:',
      '  client:',
      '    insecure_skip_verify: false',
      `    credentials_path: ${dir}/local_api_credentials.yaml`,
      '  server:',
      '    log_level: warning',
      `    listen_uri: 127.0.0.1:${port}`,
      `    profiles_path: ${dir}/profiles.yaml`,
      '    trusted_ips:',
      '      - 127.0.0.1',
      '',
    ].join('\n'),
  );
  const env = { ...process.env, PATH: `${c.bin}:${process.env.PATH ?? ''}`, TZ: 'UTC' };
  const add = spawnSync(join(c.bin, 'cscli'), ['-c', config, 'machines', 'add', 'iplog-test', '--password', 'iplog-test-password', '-f', join(dir, 'local_api_credentials.yaml'), '--force'], { env, encoding: 'utf8' });
  assert.equal(add.status, 0, add.stderr);
  const lapi = spawn(join(c.bin, 'crowdsec'), ['-c', config, '-no-cs'], { env, stdio: 'ignore' });
  // never leave the Local API behind, even if this process is ended early
  process.once('exit', () => {
    if (lapi.exitCode === null) lapi.kill('SIGTERM');
  });
  // wait for the Local API (loopback only)
  for (let i = 0; i < 100; i++) {
    const probe = spawnSync(join(c.bin, 'cscli'), ['-c', config, 'lapi', 'status'], { env, encoding: 'utf8' });
    if (probe.status === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { dir, config, env, lapi };
}

function tearDown(s: Setup): void {
  if (s.lapi.pid !== undefined && s.lapi.exitCode === null) s.lapi.kill('SIGTERM');
}

const PARSED_KINDS: Record<string, string> = {
  'scan.detected': 'iplog_detection',
  'scan.expired': 'iplog_expired',
  'tcp.bogus_flags': 'iplog_bogus_flags',
  'udp.traceroute': 'iplog_traceroute',
  'icmp.traceroute': 'iplog_traceroute',
  'tcp.traceroute': 'iplog_traceroute',
  'frag.oversized': 'iplog_fragment',
  'frag.tiny': 'iplog_fragment',
  'frag.duplicate': 'iplog_fragment',
  'frag.overlap': 'iplog_fragment',
  'ban.added': 'iplog_ban',
  'ban.removed': 'iplog_ban',
  'ban.refused': 'iplog_ban',
};

/** What CrowdSec must make of a line: null = not parsed; else log_type, source_ip, scenarios. */
export function csExpected(e: Entry): { logType: string; ip: string; scenarios: string[] } | null {
  const kind = e.parsed?.kind;
  if (kind === undefined || !(kind in PARSED_KINDS) || e.addr === null) return null;
  const logType = PARSED_KINDS[kind]!;
  const title = e.parsed!.title ?? '';
  const scenarios: string[] = [];
  if ((kind === 'scan.detected' && title !== 'ICMP/UDP: smurf attack') || kind === 'tcp.bogus_flags' || kind.startsWith('frag.')) scenarios.push('iplog/iplog-repeated');
  if ((kind === 'scan.detected' && title.startsWith('TCP: ')) || kind.startsWith('frag.')) scenarios.push('iplog/iplog-scan');
  if (kind === 'ban.added') scenarios.push('iplog/iplog-ban');
  scenarios.sort();
  return { logType, ip: e.addr, scenarios };
}

interface Explained {
  parsed: boolean;
  ip?: string;
  logType?: string;
  scenarios: string[];
}

/** `cscli explain -v` human output, per raw line. */
function parseExplain(out: string): Map<string, Explained> {
  const res = new Map<string, Explained>();
  let cur: Explained | null = null;
  let inScenarios = false;
  for (const l of out.split('\n')) {
    if (l.startsWith('line: ')) {
      cur = { parsed: false, scenarios: [] };
      res.set(l.slice(6), cur);
      inScenarios = false;
      continue;
    }
    if (cur === null) continue;
    if (/🟢 iplog\/iplog-logs/.test(l)) cur.parsed = true;
    let m = /create evt\.Meta\.source_ip : (.*)$/.exec(l);
    if (m) cur.ip = m[1]!;
    m = /create evt\.Meta\.log_type : (.*)$/.exec(l);
    if (m) cur.logType = m[1]!;
    if (/├ Scenarios/.test(l)) inScenarios = true;
    else if (inScenarios) {
      m = /🟢 (\S+)/.exec(l);
      if (m) cur.scenarios.push(m[1]!);
    }
  }
  return res;
}

test('CrowdSec (real, offline): parser and scenarios on every golden, hostile and BAN line', { skip, timeout: 300_000 }, async (t) => {
  const entries = await fullCorpus();
  const s = await setUp();
  try {
    const lines = entries.map((e, i) => syslogLine(e.text, i));
    const file = join(s.dir, 'iplog.log');
    writeFileSync(file, lines.join('\n') + '\n');

    // 1. every line, explained
    const r = spawnSync(join(cs!.bin, 'cscli'), ['-c', s.config, 'explain', '--file', file, '--type', 'syslog', '-v'], { env: s.env, encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    const got = parseExplain(r.stdout);
    assert.equal(got.size, lines.length, 'cscli explain reported every line');
    const wrong: string[] = [];
    let parsed = 0;
    entries.forEach((e, i) => {
      const want = csExpected(e);
      const g = got.get(lines[i]!);
      if (g === undefined) return void wrong.push(`not explained: ${lines[i]}`);
      if (want === null) {
        if (g.parsed) wrong.push(`parsed (source_ip ${g.ip}) but must not be: ${e.text} (${e.origin})`);
        return;
      }
      parsed++;
      if (!g.parsed || g.ip !== want.ip || g.logType !== want.logType) wrong.push(`want ${want.logType} ${want.ip}, got ${g.parsed ? `${g.logType} ${g.ip}` : 'no parse'}: ${e.text} (${e.origin})`);
      else if (g.scenarios.slice().sort().join(',') !== want.scenarios.join(',')) wrong.push(`scenarios [${g.scenarios}], want [${want.scenarios}]: ${e.text}`);
    });
    assert.deepEqual(wrong, []);
    assert.ok(parsed >= 300, `only ${parsed} lines parsed`);
    t.diagnostic(`${entries.length} lines; ${parsed} parsed with the right source_ip, log_type and scenarios; the rest not parsed`);

    // 2. time-machine replay: the alerts in the Local API
    const tm = spawnSync(join(cs!.bin, 'crowdsec'), ['-c', s.config, '-dsn', `file://${file}`, '-type', 'syslog', '-no-api'], { env: s.env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(tm.status, 0, tm.stdout.slice(-2000) + tm.stderr.slice(-2000));
    const list = spawnSync(join(cs!.bin, 'cscli'), ['-c', s.config, 'alerts', 'list', '-o', 'json', '--limit', '0'], { env: s.env, encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.equal(list.status, 0, list.stderr);
    const alerts = (JSON.parse(list.stdout) ?? []) as { scenario: string; source: { ip: string } }[];
    const alerted = (sc: string) => new Set(alerts.filter((a) => a.scenario === sc).map((a) => a.source.ip));
    const expectScan = new Set(entries.filter((e) => csExpected(e)?.scenarios.includes('iplog/iplog-scan')).map((e) => e.addr!));
    assert.deepEqual([...alerted('iplog/iplog-scan')].sort(), [...expectScan].sort());
    // iplog's own bans (the evidence policy applied): exactly the banned addresses, never "many"
    const expectBan = new Set(entries.filter((e) => csExpected(e)?.scenarios.includes('iplog/iplog-ban')).map((e) => e.addr!));
    assert.ok(expectBan.size >= 2);
    assert.deepEqual([...alerted('iplog/iplog-ban')].sort(), [...expectBan].sort());
    assert.ok(!alerts.some((a) => /many/i.test(a.source.ip)), 'no alert names "many"');
    // the leaky bucket: only addresses with at least three qualifying lines
    const counts = new Map<string, number>();
    for (const e of entries) if (csExpected(e)?.scenarios.includes('iplog/iplog-repeated')) counts.set(e.addr!, (counts.get(e.addr!) ?? 0) + 1);
    const repeated = alerted('iplog/iplog-repeated');
    assert.ok(repeated.size > 0, 'iplog/iplog-repeated overflowed for some address');
    for (const ip of repeated) assert.ok((counts.get(ip) ?? 0) >= 3, `${ip} overflowed with ${counts.get(ip)} lines`);
    t.diagnostic(`time machine: ${alerts.length} alerts; iplog-scan for ${expectScan.size} addresses, iplog-repeated for ${repeated.size}`);
  } finally {
    tearDown(s);
  }
});

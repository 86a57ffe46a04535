/**
 * The option table against iplog 2.2.3's own tables (iplog_options.c opts[]/longopts[],
 * iplog_config.c `set` keywords), check_options(), and the generated docs/configuration.md.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkOptions } from '../../src/config/check';
import {
  DOC_MARKER,
  OPTIONS,
  SET_KEYWORDS,
  STATEMENTS,
  defaultSettings,
  isValidDnsServer,
  longOptionOrder,
  parseDnsTimeout,
  parseFacility,
  parsePriority,
  renderConfigurationDoc,
  renderExampleConf,
  shortOptionString,
} from '../../src/config/options';
import { parseConfig } from '../../src/config/conf-parser';
import { defaultFlags, type FlagName } from '../../src/config/settings';
import { ROOT } from './fixtures';

/** iplog_options.c: `static const char opts[]` */
const C_OPTS = 'DFILNPRSTUVa:bcdefg:hi:kl:mnopstu:vwxyz';

/** iplog_options.c: `longopts[]`, in order */
const C_LONGOPTS = [
  'tcp', 'udp', 'icmp', 'facility', 'priority', 'pid-file', 'kill', 'user', 'group', 'ignore', 'restart',
  'no-fork', 'stdout', 'promisc', 'logfile', 'verbose', 'log-ip', 'log-dest', 'fool-nmap', 'dns-cache',
  'interface', 'get-ident', 'scans-only', 'tcp-resolve', 'udp-resolve', 'icmp-resolve', 'disable-resolver',
  'detect-syn-flood', 'detect-frag', 'detect-smurf', 'detect-bogus', 'detect-portscan', 'detect-udp-scan',
  'detect-ping-flood', 'detect-fin-scan', 'detect-syn-scan', 'detect-xmas-scan', 'detect-null-scan',
  'detect-traceroute', 'log-frag', 'log-smurf', 'log-bogus', 'log-portscan', 'log-udp-scan', 'log-ping-flood',
  'log-fin-scan', 'log-syn-scan', 'log-xmas-scan', 'log-null-scan', 'log-traceroute', 'version', 'help',
];

/** iplog_config.c: the `set` keywords */
const C_SET = [
  'tcp', 'udp', 'icmp', 'frag', 'smurf', 'bogus', 'log_ip', 'log_dest', 'stdout', 'no_fork', 'verbose',
  'fin_scan', 'syn_scan', 'udp_scan', 'portscan', 'fool_nmap', 'xmas_scan', 'null_scan', 'get_ident',
  'dns_cache', 'syn_flood', 'ignore_dns', 'ping_flood', 'scans_only', 'traceroute', 'udp_resolve',
  'tcp_resolve', 'icmp_resolve', 'disable_resolver',
];

describe('option table', () => {
  test("short options: 2.2.3's string, plus r: (and q in modern)", () => {
    const orig = OPTIONS.filter((s) => s.origin === '2.2.3' && s.short !== undefined && s.shortOnlyIn === undefined);
    assert.equal(orig.length, C_OPTS.replace(/:/g, '').length);
    assert.equal(shortOptionString('compat'), 'DFILNPRSTUVa:bcdefg:hi:kl:mnopr:stu:vwxyz');
    assert.equal(shortOptionString('compat').replace('r:', ''), C_OPTS);
    assert.equal(shortOptionString('modern'), 'DFILNPRSTUVa:bcdefg:hi:kl:mnopqr:stu:vwxyz');
  });

  test("long options in 2.2.3's order, new ones after", () => {
    const names = longOptionOrder().map((o) => o.name);
    assert.deepEqual(names.slice(0, C_LONGOPTS.length), C_LONGOPTS);
    const BAN = ['ban-backend', 'ban-time', 'ban-max-time', 'ban-factor', 'ban-threshold', 'ban-window', 'ban-weight', 'ban-allow', 'ban-budget', 'ban-prefix-budget', 'ban-state', 'ban-param', 'ban-resync', 'ban-conntrack', 'control-group', 'ban-evidence', 'ban-protected-time', 'ban-prefix-offenders'];
    const CROWDSEC = ['crowdsec-url', 'crowdsec-machine', 'crowdsec-password-file', 'crowdsec-bouncer-key-file', 'crowdsec-poll', 'crowdsec-origins'];
    assert.deepEqual(names.slice(C_LONGOPTS.length), ['read', 'test-config', 'quiet', 'resolve', 'config', 'profile', 'dns-server', 'dns-timeout', 'syslog-socket', 'syslog-server', 'syslog-format', 'json', 'op-log', 'metrics', 'state-memory', 'hash-seed', 'threads', 'home', ...BAN, ...CROWDSEC, 'log-replay', 'log-year']);
    assert.equal(new Set(names).size, names.length, 'no duplicate long names');
  });

  test('set keywords: exactly 2.2.3\'s, each on the flag of its option', () => {
    assert.deepEqual([...SET_KEYWORDS.keys()].sort(), [...C_SET].sort());
    // Flags are named after their keywords (settings.ts).
    for (const [kw, flag] of SET_KEYWORDS) assert.equal(flag, kw);
    // every flag but promisc (set only by the promisc statement) has a keyword
    const flags = Object.keys(defaultFlags()) as FlagName[];
    assert.deepEqual(flags.filter((f) => ![...SET_KEYWORDS.values()].includes(f)), ['promisc']);
  });

  test('statements', () => {
    assert.deepEqual(
      STATEMENTS.map((s) => s.statement),
      ['facility', 'priority', 'pid-file', 'user', 'group', 'promisc', 'logfile', 'interface', 'profile', 'dns_server', 'dns_timeout',
        'syslog_socket', 'syslog_server', 'syslog_format', 'json', 'op_log', 'metrics', 'state_memory', 'hash_seed', 'threads', 'home_net',
        'ban_backend', 'ban_time', 'ban_max_time', 'ban_factor', 'ban_threshold', 'ban_window', 'ban_weight', 'ban_allow', 'ban_budget', 'ban_prefix_budget',
        'ban_state', 'ban_param', 'ban_resync', 'ban_conntrack', 'control_group', 'ban_evidence', 'ban_protected_time', 'ban_prefix_offenders',
        'crowdsec_url', 'crowdsec_machine', 'crowdsec_password_file', 'crowdsec_bouncer_key_file', 'crowdsec_poll', 'crowdsec_origins'],
    );
  });

  test('every bool/switch has a flag, every string a setting, every action an action', () => {
    for (const s of OPTIONS) {
      // the 2.2.3 flag word, or (options added here) a Settings field
      if (s.kind === 'bool' || s.kind === 'switch') assert.ok(s.flag !== undefined || (s.origin === '3' && s.boolSetting !== undefined), s.long[0]);
      if (s.kind === 'string') assert.ok(s.setting, s.long[0]);
      if (s.kind === 'action') assert.ok(s.action, s.long[0]);
      if (s.statement !== undefined) assert.ok(s.missing, s.long[0]);
    }
  });

  test('defaults', () => {
    const d = defaultSettings();
    assert.equal(d.pidFile, '/var/run/iplog.pid');
    assert.equal(d.configFile, '/etc/iplog.conf');
    assert.equal(d.facility, 3);
    assert.equal(d.priority, 5);
    assert.equal(d.dnsTimeoutMs, 1000);
    assert.equal(d.profile, 'modern');
  });
});

describe('value parsers', () => {
  test('facilities and priorities', () => {
    const msgs: string[] = [];
    const diag = (m: string): number => msgs.push(m);
    assert.equal(parseFacility('LOG_LOCAL3', diag), 19);
    assert.equal(parseFacility('security', diag), 4);
    assert.equal(parseFacility('Kern', diag), 0);
    assert.equal(parseFacility('log_', diag), 3);
    assert.equal(parsePriority('panic', diag), 0);
    assert.equal(parsePriority('log_Error', diag), 3);
    assert.equal(parsePriority('warn', diag), 4);
    assert.equal(parsePriority('debug', diag), 7);
    assert.deepEqual(msgs, ['Invalid facility: "" - falling back to default.']);
  });

  test('DNS servers and timeouts', () => {
    for (const ok of ['1.1.1.1', '127.0.0.53:53', '::1', '2001:db8::53', '[2001:db8::53]:5353']) assert.ok(isValidDnsServer(ok), ok);
    for (const bad of ['', '1.2.3', 'dns.example', '1.1.1.1:0', '1.1.1.1:70000', '[1.1.1.1]:53', '::g']) assert.ok(!isValidDnsServer(bad), bad);
    assert.equal(parseDnsTimeout('1'), 1);
    assert.equal(parseDnsTimeout('600000'), 600000);
    for (const bad of ['0', '-1', '1.5', '600001', '', '1e3']) assert.equal(parseDnsTimeout(bad), undefined, bad);
  });
});

describe('check_options (spec §1.3)', () => {
  test('step 1 and 2: fatal messages', () => {
    const a = defaultSettings();
    a.flags.tcp = a.flags.udp = a.flags.icmp = false;
    assert.deepEqual(checkOptions(a), { message: 'Told not to log anything.  Exiting.', code: 'IPLOG_ERR_NOTHING_TO_LOG' });
    const b = defaultSettings();
    b.flags.promisc = b.flags.get_ident = true;
    assert.deepEqual(checkOptions(b), { message: 'The promisc and get_ident flags are not compatible.', code: 'IPLOG_ERR_PROMISC_IDENT' });
  });

  test('steps 3–5: resolver flags', () => {
    const a = defaultSettings();
    a.profile = 'compat';
    a.flags.disable_resolver = true;
    assert.equal(checkOptions(a), undefined);
    assert.deepEqual([a.flags.tcp_resolve, a.flags.udp_resolve, a.flags.icmp_resolve, a.flags.syn_flood, a.flags.dns_cache], [false, false, false, false, false]);
    const b = defaultSettings();
    b.flags.tcp_resolve = b.flags.udp_resolve = b.flags.icmp_resolve = false;
    checkOptions(b);
    assert.equal(b.flags.disable_resolver, true);
    assert.equal(b.flags.dns_cache, false);
    const c = defaultSettings();
    c.profile = 'compat';
    c.flags.tcp_resolve = false;
    checkOptions(c);
    assert.deepEqual([c.flags.syn_flood, c.flags.disable_resolver, c.flags.dns_cache], [false, false, true]);
    // modern: syn_flood is the SYN-flood detector; no resolver does not turn it off
    const m = defaultSettings();
    m.profile = 'modern';
    m.flags.disable_resolver = true;
    checkOptions(m);
    assert.deepEqual([m.flags.tcp_resolve, m.flags.syn_flood], [false, true]);
  });

  test('steps 6–9: protocols off turn their detectors off; SYN scan survives --tcp=false in compat', () => {
    const a = defaultSettings();
    a.profile = 'compat';
    a.flags.tcp = false;
    a.flags.ignore_dns = true;
    checkOptions(a);
    assert.deepEqual([a.flags.portscan, a.flags.null_scan, a.flags.fin_scan, a.flags.xmas_scan], [false, false, false, false]);
    assert.equal(a.flags.syn_scan, true, 'quirk 25 kept in compat');
    assert.equal(a.flags.ignore_dns, true);
    const m = defaultSettings();
    m.profile = 'modern';
    m.flags.tcp = false;
    checkOptions(m);
    assert.equal(m.flags.syn_scan, false, 'modern turns it off too');
    const b = defaultSettings();
    b.flags.udp = b.flags.icmp = false;
    b.flags.ignore_dns = true;
    checkOptions(b);
    assert.deepEqual([b.flags.smurf, b.flags.ping_flood, b.flags.udp_scan, b.flags.ignore_dns], [false, false, false, false]);
    const c = defaultSettings();
    c.flags.icmp = false;
    checkOptions(c);
    assert.deepEqual([c.flags.smurf, c.flags.ping_flood, c.flags.udp_scan], [true, false, true]);
  });

  test('step 10: fool_nmap off without a raw socket; untouched without a probe', () => {
    const a = defaultSettings();
    a.flags.fool_nmap = true;
    checkOptions(a, { canOpenRawSocket: () => false });
    assert.equal(a.flags.fool_nmap, false);
    const b = defaultSettings();
    b.flags.fool_nmap = true;
    checkOptions(b, { canOpenRawSocket: () => true });
    assert.equal(b.flags.fool_nmap, true);
    const c = defaultSettings();
    c.flags.fool_nmap = true;
    checkOptions(c);
    assert.equal(c.flags.fool_nmap, true);
  });
});

test('docs/configuration.md is the generator output (npm run docs)', () => {
  const committed = readFileSync(resolve(ROOT, 'docs/configuration.md'), 'utf8');
  assert.ok(committed.includes(DOC_MARKER));
  assert.equal(committed, renderConfigurationDoc());
});

test('config/iplog.conf is the generator output, and every statement in it is valid', () => {
  const committed = readFileSync(resolve(ROOT, 'config/iplog.conf'), 'utf8');
  assert.equal(committed, renderExampleConf());
  // as shipped: nothing set, no diagnostics
  const asShipped = defaultSettings();
  const diags: string[] = [];
  parseConfig(committed, 'iplog.conf', asShipped, (m) => diags.push(m));
  assert.equal(diags.length, 0, diags.join('\n'));
  assert.deepEqual(asShipped, defaultSettings());
  // uncommented: every documented statement and example parses without a diagnostic
  const enabled = committed.replace(/^#(set |log |ignore |[a-z-]+ )/gm, '$1');
  const s = defaultSettings();
  parseConfig(enabled, 'iplog.conf', s, (m) => diags.push(m));
  assert.equal(diags.length, 0, diags.join('\n'));
  assert.ok(s.rules.tcp.length >= 2 && s.rules.udp.length >= 1 && s.rules.icmp.length >= 1);
});

test('--detect-syn-flood (-s, set syn_flood): the option table, configuration doc and man page say what it does in each profile', () => {
  const o = OPTIONS.find((x) => x.long[0] === 'detect-syn-flood')!;
  // compat: 2.2.3's meaning (no line, TCP names not resolved during a flood); modern: the syn-flood detector's line
  assert.match(o.doc, /^compat: stop resolving TCP hosts while a SYN flood goes on .*; modern: report SYN floods per destination \(all its ports\), then per destination and port, `TCP: SYN flood detected to D \[port N\] from many sources` or `\[ports a,b,\.\.\.\]`/);
  const row = readFileSync(resolve(ROOT, 'docs/configuration.md'), 'utf8').split('\n').find((l) => l.startsWith('| `--detect-syn-flood'))!;
  assert.ok(row.includes('compat: stop resolving') && row.includes('modern: report SYN floods'), row);
  const man = readFileSync(resolve(ROOT, 'docs/man/iplog.8'), 'utf8');
  const at = man.indexOf('detect\\-syn\\-flood');
  assert.ok(at > 0, 'the man page lists --detect-syn-flood');
  const entry = man.slice(at, man.indexOf('.TP', at));
  assert.ok(/compat: stop resolving/.test(entry) && /modern: report SYN floods/.test(entry), entry);
});

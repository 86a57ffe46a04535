/**
 * iplog.conf parser: the conformance configs (conformance/conf/*.conf, copied to
 * fixtures/) with the diagnostics the original printed (the untimestamped lines of
 * out/crafted_filters.conf_errors.log), modulo our deviations, and the grammar of spec §2
 * case by case.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { inetAton, parseConfig, parseIcmpType, resolveRuleHost, type ConfigEnv } from '../../src/config/conf-parser';
import { DEFAULT_PROFILE, OPTIONS, defaultSettings, renderExampleConf } from '../../src/config/options';
import type { Rule, Settings } from '../../src/config/settings';
import { fixture, ip, oracleEnv, splitOracleLog } from './fixtures';

const MASK32 = 0xffffffff;

function parse(text: string, env: ConfigEnv = oracleEnv(), path = '/etc/iplog.conf'): { settings: Settings; diags: string[] } {
  const settings = defaultSettings();
  const diags: string[] = [];
  parseConfig(text, path, settings, (m) => diags.push(m), env);
  return { settings, diags };
}

/** A rule in a compact, readable form. */
function show(r: Rule): string {
  const addr = (t: Rule['from']): string => {
    if (t.any && t.addr === 0) return `${t.negate ? '!' : ''}*`;
    const a = `${t.addr >>> 24}.${(t.addr >>> 16) & 255}.${(t.addr >>> 8) & 255}.${t.addr & 255}`;
    const m = t.mask >>> 0;
    let bits = 0;
    while (bits < 32 && ((m << bits) & 0x80000000) !== 0) bits++;
    return `${t.negate ? '!' : ''}${a}${m === MASK32 ? '' : `/${bits}`}`;
  };
  const port = (p: Rule['sport']): string => `${p.negate ? '!' : ''}${p.lo}:${p.hi}`;
  const tail = r.proto === 'icmp' ? `type ${r.icmpNegate ? '!' : ''}${r.icmpType}` : `sport ${port(r.sport)} dport ${port(r.dport)}`;
  return `${r.action} ${r.proto} from ${addr(r.from)} to ${addr(r.to)} ${tail} @${r.line}`;
}

function rules(s: Settings, proto: 'tcp' | 'udp' | 'icmp'): string[] {
  return s.rules[proto].map(show);
}

describe('conformance configs', () => {
  test('errors.conf: the recorded diagnostics, with the stale ICMP text replaced (deviation c)', () => {
    const { settings, diags } = parse(fixture('config', 'errors.conf'));
    const recorded = splitOracleLog(fixture('config', 'crafted_filters.conf_errors.log')).plain;
    const expected = recorded.map((l) =>
      // 2.2.3 repeated line 6's text on line 7 (quirk 21).
      l.startsWith('[line 7] ') ? '[line 7] Invalid ICMP type: 99 (must be 0 - 18)' : l,
    );
    assert.deepEqual(diags, expected);
    assert.equal(recorded[5], '[line 7] Error: Minimum port (100) is greater than the maximum port (50)');
    // `set log_dest` without a value is true; `ignore udp` turns UDP off; `interfaces lo` works.
    assert.equal(settings.flags.log_dest, true);
    assert.equal(settings.flags.udp, false);
    assert.deepEqual(settings.interfaces, ['lo']);
    assert.deepEqual(settings.rules, { tcp: [], udp: [], icmp: [] });
  });

  test('filters.conf: comments, ordering and every clause', () => {
    const { settings, diags } = parse(fixture('config', 'filters.conf'));
    assert.deepEqual(diags, []);
    assert.equal(settings.flags.log_dest, false);
    assert.deepEqual(rules(settings, 'tcp'), [
      'log tcp from 127.0.7.1 to * sport 0:65535 dport 80:80 @6',
      'ignore tcp from * to * sport 0:65535 dport 80:80 @5',
      'ignore tcp from * to * sport 0:65535 dport !22:22 @7',
      'ignore tcp from 127.0.7.5 to * sport 0:65535 dport 443:443 @11',
    ]);
    assert.deepEqual(rules(settings, 'udp'), [
      'ignore udp from 127.0.7.0/24 to * sport 53:53 dport 0:65535 @8',
      'ignore udp from 127.0.8.0/24 to * sport 0:65535 dport 0:65535 @9',
    ]);
    assert.deepEqual(rules(settings, 'icmp'), ['ignore icmp from * to * type !8 @10']);
  });

  test('badhost.conf: an unknown host is an error and drops the rule (deviation a)', () => {
    const { settings, diags } = parse(fixture('config', 'badhost.conf'));
    assert.deepEqual(diags, ['[line 2] Unknown host: "no-such-host.invalid"']);
    assert.deepEqual(settings.rules.tcp, []);
    // 2.2.3 printed nothing and ignored https from everyone (out/crafted_filters.conf_badhost.log).
    assert.deepEqual(splitOracleLog(fixture('config', 'crafted_filters.conf_badhost.log')).plain, []);
  });

  test('icmpnames.conf: tstampreply is 13, EC is echo', () => {
    const { settings, diags } = parse(fixture('config', 'icmpnames.conf'));
    assert.deepEqual(diags, []);
    assert.deepEqual(rules(settings, 'icmp'), ['ignore icmp from * to * type 13 @2', 'ignore icmp from * to * type 8 @3']);
  });
});

describe('lexical rules', () => {
  test('# comments: whole line, trailing, and ending a rule', () => {
    const { settings, diags } = parse('# set tcp false\nset udp false # set icmp false\nignore tcp dport 80 # sport 5\n  #x\n');
    assert.deepEqual(diags, []);
    assert.equal(settings.flags.tcp, true);
    assert.equal(settings.flags.udp, false);
    assert.equal(settings.flags.icmp, true);
    assert.deepEqual(rules(settings, 'tcp'), ['ignore tcp from * to * sport 0:65535 dport 80:80 @3']);
  });

  test('# inside a statement ends it like the end of the line', () => {
    const { settings, diags } = parse('set udp # x\nuser # x\nignore tcp from # x\n');
    assert.equal(settings.flags.udp, true);
    assert.deepEqual(diags, ['[line 2] Missing user parameter', '[line 3] Missing address parameter']);
  });

  test('# in the middle of a token is literal', () => {
    const { settings } = parse('user a#b\n');
    assert.equal(settings.user, 'a#b');
  });

  test('/* */ comments: same line, multi-line, inside rules, glued to tokens', () => {
    const text = [
      '/* one */ set tcp false',
      '/*',
      'set udp false',
      '*/set icmp false',
      'ignore tcp /* a',
      'b */ dport 80',
      'ignore udp /**/ sport 7',
      'user /*x*/bob',
    ].join('\n');
    const { settings, diags } = parse(text);
    assert.deepEqual(diags, []);
    assert.equal(settings.flags.tcp, false);
    assert.equal(settings.flags.udp, true);
    assert.equal(settings.flags.icmp, false);
    assert.deepEqual(rules(settings, 'tcp'), ['ignore tcp from * to * sport 0:65535 dport 80:80 @6']);
    assert.deepEqual(rules(settings, 'udp'), ['ignore udp from * to * sport 7:7 dport 0:65535 @7']);
    assert.equal(settings.user, 'bob');
  });

  test('a rule interrupted by a comment that ends at the end of a line is finished there', () => {
    const { settings, diags } = parse('ignore tcp dport 80 /*\n*/\n');
    assert.deepEqual(diags, []);
    assert.deepEqual(rules(settings, 'tcp'), ['ignore tcp from * to * sport 0:65535 dport 80:80 @2']);
  });

  test('/* only opens a comment at the start of a token; */ only closes inside one', () => {
    const { settings, diags } = parse('user a/*b\n*/\n');
    assert.equal(settings.user, 'a/*b');
    assert.deepEqual(diags, ['[line 2] Invalid rule: */']);
  });

  test('comments nest, as the original state stack does', () => {
    const { diags } = parse('/* a /* b */\nstill comment\n');
    assert.deepEqual(diags, ['/etc/iplog.conf: Parse Error: Unterminated comment.']);
  });

  test('unterminated comment names the file; the open rule is lost', () => {
    const { settings, diags } = parse('ignore tcp dport 80 /* open\n', oracleEnv(), '/tmp/x.conf');
    assert.deepEqual(diags, ['/tmp/x.conf: Parse Error: Unterminated comment.']);
    assert.deepEqual(settings.rules.tcp, []);
  });

  test('keywords are case-insensitive; names are not', () => {
    const { settings, diags } = parse('SET TCP FALSE\nIgnore UDP From 127.0.0.1 SPort Domain\nLOG icmp TYPE Echo\nUser Bob\n');
    assert.equal(settings.flags.tcp, false);
    assert.deepEqual(diags, ['[line 2] Invalid port: "Domain"']);
    assert.deepEqual(rules(settings, 'icmp'), ['log icmp from * to * type 8 @3']);
    assert.equal(settings.user, 'Bob');
  });

  test('a CR (DOS line ending) stays in the last token (shown escaped, as every control byte)', () => {
    const { settings, diags } = parse('set tcp false\r\nset udp\r\nignore tcp dport 80\r\nuser bob\r\n');
    assert.deepEqual(diags, [
      '[line 1] Invalid boolean token: false\\x0d',
      '[line 2] Invalid "set" target: udp\\x0d',
      '[line 3] Invalid port: "80\\x0d"',
    ]);
    assert.equal(settings.flags.tcp, true);
    assert.equal(settings.user, 'bob\r');
  });

  test('leading blanks, tabs, blank lines; lines of 8191+ characters read as empty', () => {
    const long = `user ${'x'.repeat(8191 - 5)}`;
    const { settings, diags } = parse(`\t  user\talice\n\n   \n${long}\nfrobnicate\n`);
    assert.equal(settings.user, 'alice');
    assert.deepEqual(diags, ['[line 5] Invalid rule: frobnicate']);
  });

  test('several statements on one line; an unknown token skips the rest of the line', () => {
    const { settings, diags } = parse('user a group b\nuser c bogus group d\n');
    assert.equal(settings.user, 'c');
    assert.equal(settings.group, 'b');
    assert.deepEqual(diags, ['[line 2] Invalid rule: bogus']);
  });
});

describe('set statements', () => {
  test('true/false case-insensitive; missing value = true; every keyword of the table', () => {
    const { settings } = parse('set verbose\nset dns_cache FALSE\nset log_ip True\nset syn_scan false\nset disable_resolver\n');
    assert.equal(settings.flags.verbose, true);
    assert.equal(settings.flags.dns_cache, false);
    assert.equal(settings.flags.log_ip, true);
    assert.equal(settings.flags.syn_scan, false);
    assert.equal(settings.flags.disable_resolver, true);
  });

  test('yes/no/toggle are not booleans here', () => {
    const { settings, diags } = parse('set tcp no\nset udp toggle\n');
    assert.deepEqual(diags, ['[line 1] Invalid boolean token: no', '[line 2] Invalid boolean token: toggle']);
    assert.equal(settings.flags.tcp, true);
  });

  test('unknown target, missing target', () => {
    const { settings, diags } = parse('set bogus_typo false\nset\nset promisc\n');
    assert.deepEqual(diags, [
      '[line 1] Invalid "set" target: bogus_typo',
      '[line 2] Missing set target',
      '[line 3] Invalid "set" target: promisc',
    ]);
    assert.equal(settings.flags.promisc, false);
  });

  test('set keywords on one line accumulate (set tcp false set udp → both on)', () => {
    const { settings, diags } = parse('set tcp false set udp\n');
    assert.deepEqual(diags, []);
    assert.equal(settings.flags.tcp, true);
    assert.equal(settings.flags.udp, true);
  });
});

describe('simple statements', () => {
  test('each statement sets its setting', () => {
    const { settings, diags } = parse(
      [
        'user nobody',
        'group nogroup',
        'logfile /var/log/iplog',
        'pid-file /run/iplog.pid',
        'facility LOG_LOCAL3',
        'priority warning',
        'interface eth0,,eth1',
        'promisc 10.0.0.0/8,192.168.0.0/16',
        'profile modern',
        'dns_server 127.0.0.53,[::1]:5353',
        'dns_server 9.9.9.9:53',
        'dns_timeout 250',
      ].join('\n'),
    );
    assert.deepEqual(diags, []);
    assert.equal(settings.user, 'nobody');
    assert.equal(settings.group, 'nogroup');
    assert.equal(settings.logfile, '/var/log/iplog');
    assert.equal(settings.pidFile, '/run/iplog.pid');
    assert.equal(settings.facility, 19);
    assert.equal(settings.priority, 4);
    assert.deepEqual(settings.interfaces, ['eth0', 'eth1']);
    assert.deepEqual(settings.promiscNets, ['10.0.0.0/8', '192.168.0.0/16']);
    assert.equal(settings.flags.promisc, true);
    assert.equal(settings.flags.log_dest, true);
    assert.equal(settings.profile, 'modern');
    assert.deepEqual(settings.dnsServers, ['127.0.0.53', '[::1]:5353', '9.9.9.9:53']);
    assert.equal(settings.dnsTimeoutMs, 250);
  });

  test('interface keyword is a prefix', () => {
    for (const kw of ['interface', 'interfaces', 'INTERFACE_x', 'interfacelo']) {
      assert.deepEqual(parse(`${kw} lo\n`).settings.interfaces, ['lo'], kw);
    }
    assert.deepEqual(parse('interf lo\n').diags, ['[line 1] Invalid rule: interf']);
  });

  test('missing parameters (and the pid-file fix, deviation b)', () => {
    const text = 'user\ngroup\nlogfile\npriority\nfacility\ninterface\npromisc\npid-file\n/tmp/next\nprofile\ndns_server\ndns_timeout\n';
    const { settings, diags } = parse(text);
    assert.deepEqual(diags, [
      '[line 1] Missing user parameter',
      '[line 2] Missing group parameter',
      '[line 3] Missing log file parameter',
      '[line 4] Missing syslog priority parameter',
      '[line 5] Missing syslog facility parameter',
      '[line 6] Missing interface parameter',
      '[line 7] Missing network parameter',
      '[line 8] Missing pid file parameter',
      '[line 9] Invalid rule: /tmp/next',
      '[line 10] Missing profile parameter',
      '[line 11] Missing DNS server parameter',
      '[line 12] Missing DNS timeout parameter',
    ]);
    assert.equal(settings.pidFile, '/var/run/iplog.pid');
    assert.equal(settings.flags.promisc, false);
  });

  test('invalid facility/priority fall back to the default, without a line number', () => {
    const { settings, diags } = parse('facility local3\nfacility log_bogus\npriority nope\n');
    assert.deepEqual(diags, [
      'Invalid facility: "bogus" - falling back to default.',
      'Invalid priority: "nope" - falling back to default.',
    ]);
    assert.equal(settings.facility, 3);
    assert.equal(settings.priority, 5);
  });

  test('invalid values of the new statements', () => {
    const { settings, diags } = parse('profile fancy\ndns_server 1.2.3\ndns_timeout 0\ndns_timeout 1s\n');
    assert.deepEqual(diags, [
      '[line 1] Invalid profile: fancy',
      '[line 2] Invalid DNS server: 1.2.3',
      '[line 3] Invalid DNS timeout: 0',
      '[line 4] Invalid DNS timeout: 1s',
    ]);
    assert.equal(settings.profile, DEFAULT_PROFILE, 'an invalid profile keeps the default');
    assert.equal(settings.dnsServers, undefined);
    assert.equal(settings.dnsTimeoutMs, 1000);
  });

  test('config-only options cannot be set from the file', () => {
    assert.deepEqual(parse('config /x\nread /y\n').diags, ['[line 1] Invalid rule: config', '[line 2] Invalid rule: read']);
  });
});

describe('filter rules', () => {
  test('log rules are prepended (reverse file order), ignore rules appended', () => {
    const { settings } = parse('ignore tcp dport 1\nlog tcp dport 2\nignore tcp dport 3\nlog tcp dport 4\n');
    assert.deepEqual(
      settings.rules.tcp.map((r) => `${r.action} ${r.dport.lo}`),
      ['log 4', 'log 2', 'ignore 1', 'ignore 3'],
    );
  });

  test('a rule without clauses switches its protocol', () => {
    const { settings } = parse('ignore tcp\nignore icmp\nlog icmp\nignore udp\n');
    assert.equal(settings.flags.tcp, false);
    assert.equal(settings.flags.icmp, true);
    assert.equal(settings.flags.udp, false);
    assert.deepEqual(settings.rules, { tcp: [], udp: [], icmp: [] });
  });

  test('clause errors drop the whole rule', () => {
    const { settings, diags } = parse(
      [
        'ignore',
        'ignore sctp dport 1',
        'ignore tcp type 3',
        'ignore icmp sport 3',
        'ignore tcp to 1.2.3.4 to 1.2.3.5',
        'ignore tcp dport 1 dport 2',
        'ignore tcp sport 1 sport 2',
        'ignore icmp type 1 type 2',
        'ignore tcp from',
        'ignore tcp dport',
        'ignore icmp type',
        'ignore tcp frm 1.2.3.4',
      ].join('\n'),
    );
    assert.deepEqual(diags, [
      '[line 1] Missing protocol parameter',
      '[line 2] Invalid protocol: sctp',
      '[line 3] Invalid filter keyword: type',
      '[line 4] Invalid filter keyword: sport',
      '[line 5] "to" already set.',
      '[line 6] "dport" already set.',
      '[line 7] "sport" already set.',
      '[line 8] "type" already set.',
      '[line 9] Missing address parameter',
      '[line 10] Missing port parameter',
      '[line 11] Missing ICMP type',
      '[line 12] Invalid filter keyword: frm',
    ]);
    assert.deepEqual(settings.rules, { tcp: [], udp: [], icmp: [] });
    assert.equal(settings.flags.tcp, true);
  });

  test('addresses: *, !, short forms padded, CIDR 1–32, dotted masks, /* = any (deviation d)', () => {
    const { settings, diags } = parse(
      [
        'ignore tcp from * to !127.0.0.1',
        'ignore tcp from 10 to 127.1',
        'ignore tcp from 10.1.2/24',
        'ignore tcp from 10.0.0.0/8 to 192.168.1.0/255.255.255.0',
        'ignore tcp from 10.0.0.0/255.255',
        'ignore tcp from 1.2.3.4/32 to 1.2.3.4/1',
        'ignore tcp from 1.2.3.4/*',
        'ignore tcp from 1.2.3.4/nosuchmask',
        'ignore tcp from localhost',
        'ignore tcp from 0x7f.1',
        'ignore tcp from */8',
      ].join('\n'),
    );
    assert.deepEqual(diags, []);
    assert.deepEqual(rules(settings, 'tcp'), [
      'ignore tcp from * to !127.0.0.1 sport 0:65535 dport 0:65535 @1',
      'ignore tcp from 10.0.0.0 to 127.1.0.0 sport 0:65535 dport 0:65535 @2',
      'ignore tcp from 10.1.2.0/24 to * sport 0:65535 dport 0:65535 @3',
      'ignore tcp from 10.0.0.0/8 to 192.168.1.0/24 sport 0:65535 dport 0:65535 @4',
      'ignore tcp from 10.0.0.0/16 to * sport 0:65535 dport 0:65535 @5',
      'ignore tcp from 1.2.3.4 to 1.2.3.4/1 sport 0:65535 dport 0:65535 @6',
      'ignore tcp from 1.2.3.4/0 to * sport 0:65535 dport 0:65535 @7',
      'ignore tcp from 1.2.3.4 to * sport 0:65535 dport 0:65535 @8',
      'ignore tcp from 127.0.0.1 to * sport 0:65535 dport 0:65535 @9',
      // ends in a digit with one dot: padded first, so 0x7f.1 is 127.1.0.0 (inet_aton alone says 127.0.0.1)
      'ignore tcp from 127.1.0.0 to * sport 0:65535 dport 0:65535 @10',
      'ignore tcp from * to * sport 0:65535 dport 0:65535 @11',
    ]);
    assert.equal(settings.rules.tcp[6].from.any, true, '/* is any');
  });

  test('mask errors', () => {
    const { diags } = parse('ignore tcp from 10.0.0.0/0\nignore tcp from 10.0.0.0/33\nignore tcp from 10.0.0.0/\n');
    assert.deepEqual(diags, [
      '[line 1] Invalid mask: must be in range 1 - 32',
      '[line 2] Invalid mask: must be in range 1 - 32',
      '[line 3] Invalid mask: must be in range 1 - 32',
    ]);
  });

  test('unresolvable hosts are errors in every form (deviation a)', () => {
    const { settings, diags } = parse('ignore tcp from 300\nignore udp to nohost\nignore icmp from !\nignore tcp from 1.2.3.999\nignore tcp from /8\n');
    assert.deepEqual(diags, [
      '[line 1] Unknown host: "300"',
      '[line 2] Unknown host: "nohost"',
      '[line 3] Unknown host: ""',
      '[line 4] Unknown host: "1.2.3.999"',
      '[line 5] Unknown host: ""',
    ]);
    assert.deepEqual(settings.rules, { tcp: [], udp: [], icmp: [] });
  });

  test('a name with several addresses expands into one rule per address (cross product)', () => {
    const env = oracleEnv('10.0.0.1 multi\n10.0.0.2 multi\n10.0.1.1 other other2\n10.0.1.2 other\n10.0.1.3 other\n');
    const { settings, diags } = parse('ignore udp from multi to other\nlog tcp from multi\nignore icmp from web1\n', env);
    assert.deepEqual(diags, ['[line 3] Unknown host: "web1"']);
    // `to` has more addresses, so it is the outer loop.
    assert.deepEqual(
      settings.rules.udp.map((r) => `${r.from.addr & 255}->${r.to.addr & 255}`),
      ['1->1', '2->1', '1->2', '2->2', '1->3', '2->3'],
    );
    // log rules are prepended one by one: reversed.
    assert.deepEqual(settings.rules.tcp.map((r) => r.from.addr & 255), [2, 1]);
  });

  test('a name ending in a digit is looked up in /etc/hosts (part of deviation a)', () => {
    const { settings, diags } = parse('ignore tcp from web1\n', oracleEnv('192.0.2.7 web1\n'));
    assert.deepEqual(diags, []);
    assert.equal(settings.rules.tcp[0].from.addr, ip('192.0.2.7'));
  });

  test('ports: numbers, services by protocol, *, open ranges, !', () => {
    const { settings, diags } = parse(
      [
        'ignore tcp sport 6000: dport ssh',
        'ignore tcp dport *',
        'ignore tcp dport *:1023',
        'ignore tcp dport 1024:*',
        'ignore tcp dport :80',
        'ignore tcp dport !http:https',
        'ignore udp dport domain sport +7',
        'ignore udp dport http-alt',
        'ignore tcp dport http-alt',
      ].join('\n'),
    );
    assert.deepEqual(diags, ['[line 8] Invalid port: "http-alt"']);
    assert.deepEqual(rules(settings, 'tcp'), [
      'ignore tcp from * to * sport 6000:65535 dport 22:22 @1',
      'ignore tcp from * to * sport 0:65535 dport 0:0 @2',
      'ignore tcp from * to * sport 0:65535 dport 0:1023 @3',
      'ignore tcp from * to * sport 0:65535 dport 1024:65535 @4',
      'ignore tcp from * to * sport 0:65535 dport 0:80 @5',
      'ignore tcp from * to * sport 0:65535 dport !80:443 @6',
      'ignore tcp from * to * sport 0:65535 dport 8080:8080 @9',
    ]);
    assert.deepEqual(rules(settings, 'udp'), ['ignore udp from * to * sport 7:7 dport 53:53 @7']);
  });

  test('port errors', () => {
    const { diags } = parse('ignore tcp dport 70000\nignore tcp dport -1\nignore tcp dport 100:50\nignore tcp dport 1:2:3\nignore tcp dport 10:nope\n');
    assert.deepEqual(diags, [
      '[line 1] Error: Ports must be between 1 and 65535',
      '[line 2] Error: Ports must be between 1 and 65535',
      '[line 3] Error: Minimum port (100) is greater than the maximum port (50)',
      '[line 4] Invalid port: "2:3"',
      '[line 5] Invalid port: "nope"',
    ]);
  });

  test('ICMP types: numbers, names with the original prefix rules, errors', () => {
    const cases: Array<[string, number]> = [
      ['0', 0], ['18', 18], ['+8', 8], ['echo', 8], ['EC', 8], ['echoreply', 0], ['ECHOR', 0], ['ECHOX', 8],
      ['icmp_echo', 8], ['ICMP_UNREACH', 3], ['unre', 3], ['redirect', 5], ['red', 5], ['routeradvert', 9],
      ['routersolicit', 10], ['timxceed', 11], ['timestamp_reply', 14], ['tstampreply', 13], ['tstamp', 13],
      ['ireqreply', 16], ['ireqr', 16], ['ireq', 15], ['ir', 15], ['maskreply', 18], ['mask', 17], ['ma', 17],
      // MASKREPLY is tried first with 5 characters: the documented "maskreq" is the *reply* (18).
      ['maskreq', 18],
      ['paramprob', 12], ['sourcequench', 4], ['sou', 4], ['', 0],
    ];
    for (const [text, type] of cases) {
      const r = parseIcmpType(text);
      assert.ok(r.ok, text);
      assert.equal(r.value.type, type, text);
    }
    const neg = parseIcmpType('!echo');
    assert.ok(neg.ok && neg.value.negate && neg.value.type === 8);
    const bad: Array<[string, string]> = [
      ['19', 'Invalid ICMP type: 19 (must be 0 - 18)'],
      ['-1', 'Invalid ICMP type: -1 (must be 0 - 18)'],
      ['!99', 'Invalid ICMP type: 99 (must be 0 - 18)'],
      ['timestamp', 'Unknown ICMP type: timestamp'],
      ['E', 'Unknown ICMP type: E'],
      ['ICMP_FOO', 'Unknown ICMP type: FOO'],
      ['icmp_8', 'Unknown ICMP type: 8'],
      ['8x', 'Unknown ICMP type: 8x'],
    ];
    for (const [text, msg] of bad) {
      const r = parseIcmpType(text);
      assert.ok(!r.ok, text);
      assert.equal(r.error, msg, text);
    }
  });
});

describe('name and number helpers', () => {
  test('inet_aton forms', () => {
    assert.equal(inetAton('127.0.0.1'), ip('127.0.0.1'));
    assert.equal(inetAton('127.1'), ip('127.0.0.1'));
    assert.equal(inetAton('10.1.2'), ip('10.1.0.2'));
    assert.equal(inetAton('0x7f000001'), ip('127.0.0.1'));
    assert.equal(inetAton('010.0.0.1'), ip('8.0.0.1'));
    assert.equal(inetAton('1.2.3.4\r'), ip('1.2.3.4'));
    assert.equal(inetAton('4294967295'), 0xffffffff);
    for (const bad of ['', 'x', '1.2.3.4.5', '256.0.0.1', '1..2', '09', '4294967296', '1.2.3.4x', '1.16777216']) {
      assert.equal(inetAton(bad), undefined, bad);
    }
  });

  test('rule host resolution', () => {
    const env = oracleEnv('::1 ip6-localhost\n::ffff:192.0.2.9 mapped\nfe80::1 v6only\n');
    assert.deepEqual(resolveRuleHost('10', env), [ip('10.0.0.0')]);
    assert.deepEqual(resolveRuleHost('127.0.8', env), [ip('127.0.8.0')]);
    assert.deepEqual(resolveRuleHost('LocalHost', env), [ip('127.0.0.1')]);
    assert.deepEqual(resolveRuleHost('ip6-localhost', env), [ip('127.0.0.1')]);
    assert.deepEqual(resolveRuleHost('mapped', env), [ip('192.0.2.9')]);
    assert.equal(resolveRuleHost('v6only', env), undefined);
    assert.equal(resolveRuleHost('1.2.3.4.5', env), undefined);
  });
});

describe('ICMP type names with a hyphen (iptables/nft spelling)', () => {
  test('echo-reply is the echo reply (2.2.3 read it as echo, the request, by prefix)', () => {
    assert.deepEqual(parseIcmpType('echo-reply'), { ok: true, value: { type: 0, negate: false } });
    assert.deepEqual(parseIcmpType('!ECHO-REPLY'), { ok: true, value: { type: 0, negate: true } });
    assert.deepEqual(parseIcmpType('icmp_echo-request'), { ok: true, value: { type: 8, negate: false } });
    assert.deepEqual(parseIcmpType('time-exceeded'), { ok: true, value: { type: 11, negate: false } });
    assert.deepEqual(parseIcmpType('destination-unreachable'), { ok: true, value: { type: 3, negate: false } });
    assert.deepEqual(parseIcmpType('echo-bogus'), { ok: false, error: 'Unknown ICMP type: echo-bogus' });
  });

  test("2.2.3's prefix rule stays for names without a hyphen (recorded: conf icmpnames)", () => {
    assert.deepEqual(parseIcmpType('EC'), { ok: true, value: { type: 8, negate: false } });
    assert.deepEqual(parseIcmpType('tstampreply'), { ok: true, value: { type: 13, negate: false } });
    assert.deepEqual(parseIcmpType('echoreply'), { ok: true, value: { type: 0, negate: false } });
  });

  test('the shipped example, uncommented, ignores echo replies and not echo requests', () => {
    const line = renderExampleConf().split('\n').find((l) => /^#ignore icmp type /.test(l))!;
    assert.equal(line, '#ignore icmp type echo-reply');
    const s = defaultSettings();
    const diags: string[] = [];
    parseConfig(line.slice(1) + '\n', 'iplog.conf', s, (m) => diags.push(m));
    assert.deepEqual(diags, []);
    assert.equal(s.rules.icmp.length, 1);
    assert.equal(s.rules.icmp[0]!.action, 'ignore');
    assert.equal(s.rules.icmp[0]!.icmpType, 0);
  });
});

test('threads: `set threads N` and the statement `threads N` (1 or 2); a bad or missing value is reported', () => {
  assert.equal(parse('set threads 2\n').settings.threads, 2);
  assert.equal(parse('threads 1\n').settings.threads, 1);
  assert.equal(parse('SET Threads 2\n').settings.threads, 2);
  assert.equal(parse('set udp false\n').settings.threads, undefined);
  const bad = parse('set threads 3\n');
  assert.equal(bad.settings.threads, undefined);
  assert.ok(bad.diags.some((d) => /Invalid threads: "3"/.test(d)), bad.diags.join('|'));
  const missing = parse('set threads\n');
  assert.ok(missing.diags.some((d) => /Missing threads parameter/.test(d)), missing.diags.join('|'));
});

test('every option of the modern profile has a `set` form in iplog.conf and a `--` form (issue 9 item 8)', () => {
  // the options added for the modern profile (MODERN.md 5.9) and its evidence policy
  const modern = ['profile', 'home', 'state-memory', 'hash-seed', 'ban-evidence', 'ban-protected-time'];
  for (const name of modern) {
    const spec = OPTIONS.find((o) => o.long[0] === name);
    assert.ok(spec, `--${name} is an option`);
    assert.ok(spec.setKeyword !== undefined && spec.statement !== undefined, `--${name} has a set keyword and a statement`);
  }
  // every option documented as the modern profile's is among them
  for (const o of OPTIONS) if (/^Modern profile/.test(o.doc)) assert.ok(modern.includes(o.long[0]!), `${o.long[0]} is listed above`);
  // `set KEYWORD VALUE` is its statement, value for value; a bad value is reported the same way
  const cases: [string, string, (s: Settings) => unknown, unknown][] = [
    ['profile', 'modern', (s) => s.profile, 'modern'],
    ['home_net', '192.0.2.0/24', (s) => s.home, ['192.0.2.0/24']],
    ['state_memory', '64M', (s) => s.stateMemory, 64 * 1024 * 1024],
    ['hash_seed', '7', (s) => s.hashSeed, 7],
    ['ban_evidence', 'proven', (s) => s.ban?.evidence, 'proven'],
    ['ban_protected_time', '5m', (s) => s.ban?.protectedSec, 300],
  ];
  for (const [kw, value, get, want] of cases) {
    const viaSet = parse(`set ${kw} ${value}\n`);
    const viaStatement = parse(`${kw} ${value}\n`);
    assert.deepEqual(viaSet.diags, [], kw);
    assert.deepEqual(get(viaSet.settings), want, `set ${kw} ${value}`);
    assert.deepEqual(get(viaStatement.settings), want, `${kw} ${value}`);
    assert.deepEqual(parse(`set ${kw} no-such-value\n`).diags, parse(`${kw} no-such-value\n`).diags, `a bad value of ${kw}`);
    assert.ok(parse(`set ${kw} no-such-value\n`).diags.length > 0, `a bad value of ${kw} is reported`);
  }
  assert.equal(parse('set profile modern\nset hash_seed 9\n').settings.profileGiven, true);
});

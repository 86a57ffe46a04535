/**
 * The command line (cli/program.ts): every recorded transcript of conformance/out/
 * cli_messages.txt and nmap_sS.no_syn_scan.log byte for byte, GNU getopt_long semantics,
 * option application order, the config file interplay and the new options. argv arrays
 * only; no process is spawned (see kill.test.ts for the one that is).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildProgram, getopt, parseCommandLine, reloadConfiguration, type CliDeps, type CliResult } from '../../src/cli/program';
import { usageText, VERSION_TEXT } from '../../src/cli/help';
import { OPTIONS } from '../../src/config/options';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PidFileDeps } from '../../src/cli/kill';
import type { OptionSpec } from '../../src/config/options';
import { defaultFlags, type Settings } from '../../src/config/settings';
import { fixture, memoryFs } from '../config/fixtures';

function enoent(syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOENT: ${syscall}`), { code: 'ENOENT', syscall });
}

/** No pid file anywhere; kill() must not be reached. */
const noPidFiles: PidFileDeps = {
  readPidFile: () => {
    throw enoent('open');
  },
  sendSignal: () => assert.fail('no signal expected'),
};

function deps(files: Record<string, string> = {}, extra: Partial<CliDeps> = {}): CliDeps {
  return { readFile: memoryFs(files), platform: 'linux', pidFile: noPidFiles, ...extra };
}

/** The command line as given (the default profile: this project's -h, -v, -t, stderr). */
function runAsGiven(argv: string[], files: Record<string, string> = {}, extra: Partial<CliDeps> = {}): CliResult {
  return parseCommandLine(argv, deps(files, extra));
}

/**
 * 2.2.3's command line: `--profile compat` first, unless the test chooses a profile
 * itself (settings.ts originalCommandLine()). Most of this file is about that command
 * line; 'the default command line' below is about the other.
 */
function run(argv: string[], files: Record<string, string> = {}, extra: Partial<CliDeps> = {}): CliResult {
  const chooses = argv.some((a) => a.startsWith('--prof')) || Object.values(files).some((t) => /^\s*profile\b/im.test(t));
  return runAsGiven(chooses ? argv : ['--profile', 'compat', ...argv], files, extra);
}

function settingsOf(r: CliResult): Settings {
  assert.equal(r.kind, 'run', JSON.stringify(r));
  return (r as Extract<CliResult, { kind: 'run' }>).settings;
}

function exitOf(r: CliResult): Extract<CliResult, { kind: 'exit' }> {
  assert.equal(r.kind, 'exit', JSON.stringify(r));
  return r as Extract<CliResult, { kind: 'exit' }>;
}

const DEFAULT_USAGE = `${usageText(defaultFlags())}\n`;

/** The `$ iplog ...` cases of a transcript: argv, expected output, exit status. */
function transcript(text: string): Array<{ cmd: string; argv: string[]; output: string; status: number }> {
  const cases: Array<{ cmd: string; argv: string[]; output: string; status: number }> = [];
  let cur: { cmd: string; lines: string[] } | null = null;
  for (const line of text.split('\n')) {
    if (cur === null) {
      if (line.startsWith('$ ')) cur = { cmd: line.slice(2), lines: [] };
      continue;
    }
    const end = /^\[exit status (\d+)\]$/.exec(line);
    if (end) {
      const argv = cur.cmd.split(' ').slice(1);
      cases.push({ cmd: cur.cmd, argv, output: cur.lines.map((l) => `${l}\n`).join(''), status: Number(end[1]) });
      cur = null;
    } else {
      cur.lines.push(line);
    }
  }
  return cases;
}

describe('conformance transcripts', () => {
  const cases = transcript(fixture('cli', 'cli_messages.txt'));

  test('the transcript has the 13 recorded commands', () => {
    assert.equal(cases.length, 13);
  });

  for (const c of cases) {
    // Lines with a timestamp come from the running daemon (log sink open): the two such
    // cases (-i nosuchif0, -u nosuchuser) run for real, as root in a network namespace,
    // against this same transcript in test/daemon/live.test.ts ("live, the oracle's
    // start-up fatals"), and with the stand-in capture in test/daemon/process.test.ts.
    if (/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d /m.test(c.output)) continue;
    test(`$ ${c.cmd}`, () => {
      const r = exitOf(run(c.argv));
      assert.equal(r.stderr + r.stdout, c.output);
      assert.equal(r.status, c.status);
    });
  }

  test('the two out-of-scope cases still parse to a run', () => {
    const runtime = cases.filter((c) => /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d /m.test(c.output));
    assert.deepEqual(runtime.map((c) => c.cmd), [
      'iplog -o -L -i nosuchif0 --pid-file /run/iplog-test/cli.pid',
      'iplog -o -L -i lo -u nosuchuser --pid-file /run/iplog-test/cli.pid',
    ]);
    const s = settingsOf(run(runtime[1].argv));
    assert.deepEqual([s.flags.no_fork, s.flags.stdout, s.interfaces, s.user, s.pidFile], [true, true, ['lo'], 'nosuchuser', '/run/iplog-test/cli.pid']);
  });

  test('nmap_sS.no_syn_scan: `-q false` is an invalid option in compat (stderr, then usage, exit 0)', () => {
    const r = exitOf(run(['-o', '-L', '-i', 'lo', '--pid-file', '/tmp/x.pid', '-q', 'false']));
    const [first, ...rest] = fixture('cli', 'nmap_sS.no_syn_scan.log').split('\n');
    assert.equal(r.stderr, `${first}\n`);
    assert.equal(r.stdout, rest.join('\n'));
    assert.equal(r.stdout, DEFAULT_USAGE);
    assert.equal(r.status, 0);
  });
});

describe('getopt_long semantics', () => {
  test('bundled short flags; short bools never take an argument', () => {
    const s = settingsOf(run(['-wDo', '-Nm']));
    assert.deepEqual([s.flags.log_ip, s.flags.log_dest, s.flags.no_fork, s.flags.disable_resolver, s.flags.scans_only], [true, true, true, true, true]);
    const e = exitOf(run(['-w=no']));
    assert.equal(e.stderr, "iplog: invalid option -- '='\n");
  });

  test('short options with an argument: rest of the cluster or the next word', () => {
    assert.equal(settingsOf(run(['-ol/var/log/x'])).logfile, '/var/log/x');
    assert.equal(settingsOf(run(['-l', '-w'])).logfile, '-w');
    assert.deepEqual(settingsOf(run(['-wi', 'eth0,eth1'])).interfaces, ['eth0', 'eth1']);
    assert.equal(exitOf(run(['-ou'])).stderr, "iplog: option requires an argument -- 'u'\n");
  });

  test('long options: =value or next word for required values', () => {
    assert.equal(settingsOf(run(['--logfile=/a'])).logfile, '/a');
    assert.equal(settingsOf(run(['--logfile', '/b'])).logfile, '/b');
    assert.equal(settingsOf(run(['--user='])).user, '');
    assert.equal(exitOf(run(['--user'])).stderr, "iplog: option '--user' requires an argument\n");
  });

  test('optional values only with =', () => {
    const s = settingsOf(run(['--log-ip', 'no', '--dns-cache=no', '--udp=FALSE']));
    assert.equal(s.flags.log_ip, true);
    assert.equal(s.flags.dns_cache, false);
    assert.equal(s.flags.udp, false);
    assert.equal(settingsOf(run(['--verbose=yes', '--verbose=toggle', '--verbose=toggle'])).flags.verbose, true);
    assert.equal(settingsOf(run(['-w', '--log-ip=toggle'])).flags.log_ip, false);
  });

  test('enable() rejects anything else, including an empty value', () => {
    const e = exitOf(run(['--tcp=']));
    assert.equal(e.stdout, 'Fatal: Arguments must be either "yes", "true", "no", "false" or "toggle".\nYou gave ""\n');
    assert.equal(e.status, 255);
  });

  test('unambiguous prefixes; aliases of one option are not ambiguous', () => {
    const s = settingsOf(run(['--log-i', '--log-d=yes', '--detect-fr=no', '--log-tr=no', '--fool', '--scans']));
    assert.deepEqual(
      [s.flags.log_ip, s.flags.log_dest, s.flags.frag, s.flags.traceroute, s.flags.fool_nmap, s.flags.scans_only],
      [true, true, false, false, true, true],
    );
  });

  test('ambiguous prefixes list the candidates in longopts order', () => {
    assert.equal(exitOf(run(['--log-f'])).stderr, "iplog: option '--log-f' is ambiguous; possibilities: '--log-frag' '--log-fin-scan'\n");
    assert.equal(
      exitOf(run(['--d=1'])).stderr,
      "iplog: option '--d=1' is ambiguous; possibilities: '--dns-cache' '--disable-resolver' '--detect-syn-flood' '--detect-frag'" +
        " '--detect-smurf' '--detect-bogus' '--detect-portscan' '--detect-udp-scan' '--detect-ping-flood' '--detect-fin-scan'" +
        " '--detect-syn-scan' '--detect-xmas-scan' '--detect-null-scan' '--detect-traceroute'\n",
    );
    assert.equal(settingsOf(run(['--tcp-=no'])).flags.tcp_resolve, false, '--tcp- is --tcp-resolve');
  });

  test("2.2.3's options win prefix matches over the added ones", () => {
    assert.equal(exitOf(run(['--re'])).stdout, "Fatal: Can't open pid file: No such file or directory\n", '--re = --restart');
    assert.equal(settingsOf(run(['--rea', 'x.pcap'])).replayFile, 'x.pcap');
    assert.equal(settingsOf(run(['--dns=no'])).flags.dns_cache, false, '--dns = --dns-cache');
    assert.equal(settingsOf(run(['--dns-t', '50'])).dnsTimeoutMs, 50);
    assert.deepEqual(settingsOf(run(['--pro', '10.0.0.0/8'])).promiscNets, ['10.0.0.0/8'], '--pro = --promisc');
    assert.equal(settingsOf(run(['--prof', 'modern'])).profile, 'modern');
    assert.equal(settingsOf(run(['--dns-=no'])).flags.dns_cache, false, '--dns- = --dns-cache');
    assert.deepEqual(settingsOf(run(['--dns-s', '::1'])).dnsServers, ['::1']);
  });

  test('unknown options, arguments where none are allowed, names are case-sensitive', () => {
    for (const [argv, msg] of [
      [['--bogus'], "iplog: unrecognized option '--bogus'"],
      [['--bogus=1'], "iplog: unrecognized option '--bogus=1'"],
      [['--TCP'], "iplog: unrecognized option '--TCP'"],
      [['--kill=3'], "iplog: option '--kill' doesn't allow an argument"],
      [['--no-f=1'], "iplog: option '--no-fork' doesn't allow an argument"],
      [['-X'], "iplog: invalid option -- 'X'"],
      [['-j'], "iplog: invalid option -- 'j'"],
    ] as Array<[string[], string]>) {
      const e = exitOf(run(argv));
      assert.equal(e.stderr, `${msg}\n`, argv.join(' '));
      assert.equal(e.stdout, DEFAULT_USAGE);
      assert.equal(e.status, 0);
    }
  });

  test('non-options are ignored wherever they are; -- ends the options', () => {
    const s = settingsOf(run(['foo', '-w', 'bar', '-', '--', '-D', '--bogus']));
    assert.equal(s.flags.log_ip, true);
    assert.equal(s.flags.log_dest, false);
  });

  test('the first error wins, after the options before it were applied', () => {
    const e = exitOf(run(['--facility=nope', '--tcp=no', '-Z', '--tcp=maybe']));
    assert.equal(e.stderr, "iplog: invalid option -- 'Z'\n");
    assert.ok(e.stdout.startsWith('Invalid facility: "nope" - falling back to default.\nUsage: '));
    assert.ok(e.stdout.includes('--tcp[=true|false|toggle]                       Log TCP traffic.'));
  });

  test('getopt() and commander see the options in order', () => {
    const g = getopt(['-wl', 'x', '--tcp=no', '--detect-frag', 'junk', '--log-frag=no'], 'compat');
    assert.deepEqual(g.items.map((i) => `${i.spec.long[0]}=${i.value}`), ['log-ip=undefined', 'logfile=x', 'tcp=no', 'detect-frag=undefined', 'detect-frag=no']);
    const seen: string[] = [];
    buildProgram((spec: OptionSpec, value) => seen.push(`${spec.long[0]}:${value}`)).parse(
      ['--tcp', '--tcp=no', '--user=', '--no-fork', '--log-ip', '--dns-server=::1'],
      { from: 'user' },
    );
    assert.deepEqual(seen, ['tcp:undefined', 'tcp:no', 'user:', 'no-fork:undefined', 'log-ip:undefined', 'dns-server:::1']);
  });
});

test('early ends carry stable IPLOG_ERR_* codes (the printed text stays 2.2.3\'s)', () => {
  const code = (argv: string[], extra: Partial<CliDeps> = {}): string | undefined => exitOf(run(argv, {}, extra)).code;
  assert.equal(code(['--bogus']), 'IPLOG_ERR_USAGE');
  assert.equal(code(['--tcp=maybe']), 'IPLOG_ERR_BAD_BOOL');
  assert.equal(code(['--tcp=no', '--udp=no', '--icmp=no']), 'IPLOG_ERR_NOTHING_TO_LOG');
  assert.equal(code(['-a', 'x', '-e']), 'IPLOG_ERR_PROMISC_IDENT');
  assert.equal(code(['-k']), 'IPLOG_ERR_PIDFILE_OPEN');
  assert.equal(code(['--config', '/nope']), 'IPLOG_ERR_CONFIG_OPEN');
  assert.equal(code(['--profile', 'x']), 'IPLOG_ERR_BAD_PROFILE');
  assert.equal(code(['--dns-server', 'x']), 'IPLOG_ERR_BAD_DNS_SERVER');
  assert.equal(code(['--dns-timeout', 'x']), 'IPLOG_ERR_BAD_DNS_TIMEOUT');
  assert.equal(code(['-v']), undefined);
  assert.equal(code(['-h']), undefined);
});

describe('options and their effects', () => {
  test('-h marks what is on at that moment (config file and earlier options)', () => {
    const e = exitOf(run(['--tcp=false', '-w', '-N', '-h', '--udp=false'], { '/etc/iplog.conf': 'set verbose\n' }));
    const flags = defaultFlags();
    flags.tcp = false;
    flags.log_ip = true;
    flags.disable_resolver = true;
    flags.verbose = true;
    assert.equal(e.stdout, `${usageText(flags)}\n`);
    assert.ok(e.stdout.includes('--disable-resolver                      or -N  *Do not resolve any IPs.'));
    assert.ok(e.stdout.includes('--tcp-resolve[=true|false|toggle]       or -T  *Resolve'), 'before check_options');
  });

  test('string settings', () => {
    const s = settingsOf(run(['-u', 'nobody', '-g', '65534', '--pid-file', '/run/p', '--facility', 'local7', '--priority=LOG_ERR', '-a', '10.0.0.0/8,,192.168.0.0/16', '-i', 'eth0', '-r', '-']));
    assert.deepEqual(
      [s.user, s.group, s.pidFile, s.facility, s.priority, s.promiscNets, s.interfaces, s.replayFile],
      ['nobody', '65534', '/run/p', 23, 3, ['10.0.0.0/8', '192.168.0.0/16'], ['eth0'], '-'],
    );
    assert.equal(s.flags.promisc, true);
    assert.equal(s.flags.log_dest, true);
  });

  test('invalid facility falls back to the default, not to the previous value', () => {
    const r = run(['--facility=local3', '--facility=bogus']);
    assert.equal(settingsOf(r).facility, 3);
    assert.deepEqual((r as { messages: string[] }).messages, ['Invalid facility: "bogus" - falling back to default.']);
  });

  test('-e is Linux only', () => {
    const r = run(['-e', '--get-ident=maybe'], {}, { platform: 'freebsd' });
    assert.equal(settingsOf(r).flags.get_ident, false);
    assert.deepEqual((r as { messages: string[] }).messages, ['Ident lookups are only supported on Linux.', 'Ident lookups are only supported on Linux.']);
    assert.equal(settingsOf(run(['-e'])).flags.get_ident, true);
  });

  test('check_options runs last', () => {
    const s = settingsOf(run(['--udp=false', '-d', '-N', '--tcp=false']));
    assert.equal(s.flags.ignore_dns, false);
    assert.equal(s.flags.dns_cache, false);
    assert.equal(s.flags.syn_scan, true, 'compat keeps SYN scan with --tcp=false');
    assert.equal(s.flags.portscan, false);
    const m = settingsOf(run(['--profile=modern', '--tcp=false']));
    assert.equal(m.flags.syn_scan, false);
    const z = settingsOf(run(['-z'], {}, { canOpenRawSocket: () => false }));
    assert.equal(z.flags.fool_nmap, false);
  });

  test('-L and -l override each other, also against the config file', () => {
    const a = run(['-L'], { '/etc/iplog.conf': 'logfile /var/log/iplog\n' });
    assert.deepEqual((a as { messages: string[] }).messages, ['Warning: Overriding --logfile']);
    assert.equal(settingsOf(a).logfile, undefined);
    const b = run(['-l', '/x'], { '/etc/iplog.conf': 'set stdout\n' });
    assert.deepEqual((b as { messages: string[] }).messages, ['Warning: Overriding --stdout']);
    assert.equal(settingsOf(b).flags.stdout, false);
  });
});

describe('profiles', () => {
  test('-q is an option in the modern profile, from the command line or the file', () => {
    assert.equal(settingsOf(run(['--profile', 'modern', '--detect-syn-scan=no', '-q'])).flags.syn_scan, true);
    assert.equal(settingsOf(run(['-q', '--profile=modern'])).profile, 'modern');
    assert.equal(settingsOf(run(['-q'], { '/etc/iplog.conf': 'profile modern\n' })).flags.syn_scan, true);
    assert.equal(exitOf(run(['--profile=modern', '--profile=compat', '-q'])).stderr, "iplog: invalid option -- 'q'\n");
  });

  test('the command line profile overrides the file', () => {
    assert.equal(settingsOf(run(['--profile', 'compat'], { '/etc/iplog.conf': 'profile modern\n' })).profile, 'compat');
  });

  test('modern: unknown options exit 2 with a hint on stderr; -h lists the added options', () => {
    const e = exitOf(run(['--profile=modern', '--bogus']));
    assert.equal(e.status, 2);
    assert.equal(e.stdout, '');
    assert.equal(e.stderr, "iplog: unrecognized option '--bogus'\nTry 'iplog --help' for more information.\n");
    const h = exitOf(run(['--profile=modern', '-h']));
    assert.match(h.stdout, /^ {2}-r, --read FILE +Replay/m);
    assert.match(h.stdout, /^ {2}-q, --detect-syn-scan\[=BOOL\]/m);
    assert.ok(h.stdout.includes('--dns-timeout MS'));
  });

  test('invalid profile is fatal', () => {
    const e = exitOf(run(['--profile=fast']));
    // no valid profile chosen: the default command line, so stderr
    assert.equal(e.stderr, 'iplog: Fatal: Profile must be either "compat" or "modern".\nYou gave "fast"\n');
    assert.equal(e.stdout, '');
    assert.equal(e.status, 255);
    const c = exitOf(run(['--profile=compat', '--profile=fast']));
    assert.equal(c.stdout, 'Fatal: Profile must be either "compat" or "modern".\nYou gave "fast"\n');
  });
});

describe('configuration file', () => {
  test('read before the command line; its diagnostics come first, untimestamped', () => {
    const r = run(['--facility=nope', '--udp'], { '/etc/iplog.conf': 'set udp false\nfrobnicate\nignore tcp dport 80\n' });
    const s = settingsOf(r);
    assert.deepEqual((r as { messages: string[] }).messages, [
      '[line 2] Invalid rule: frobnicate',
      'Invalid facility: "nope" - falling back to default.',
    ]);
    assert.equal(s.flags.udp, true, 'the command line wins');
    assert.equal(s.rules.tcp.length, 1);
    assert.equal(s.configFile, '/etc/iplog.conf');
  });

  test('--config picks another file (found before any option is applied)', () => {
    const files = { '/etc/iplog.conf': 'user fromdefault\n', '/srv/my.conf': 'user frommine\n' };
    const s = settingsOf(run(['-w', '--config', '/srv/my.conf'], files));
    assert.equal(s.user, 'frommine');
    assert.equal(s.configFile, '/srv/my.conf');
    assert.equal(settingsOf(run(['--config=/srv/my.conf', '-u', 'cli'], files)).user, 'cli');
  });

  test('a missing default file is silently skipped; a missing --config file is an error', () => {
    assert.deepEqual((run([]) as { messages: string[] }).messages, []);
    const e = exitOf(run(['--config', '/nope.conf']));
    assert.equal(e.stdout, 'Unable to open /nope.conf: No such file or directory\n\n');
    assert.equal(e.status, 255);
  });

  test('another open error of the default file is reported (with its blank line) and the run goes on', () => {
    const readFile = (p: string): string | undefined => {
      if (p === '/etc/iplog.conf') throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      return undefined;
    };
    const r = parseCommandLine(['--profile', 'compat', '-w'], { readFile, platform: 'linux', pidFile: noPidFiles });
    assert.deepEqual((r as { messages: string[] }).messages, ['Unable to open /etc/iplog.conf: Permission denied\n']);
    assert.equal(settingsOf(r).flags.log_ip, true);
    const d = parseCommandLine(['-w'], { readFile, platform: 'linux', pidFile: noPidFiles });
    assert.deepEqual((d as { messages: string[] }).messages, ['iplog: Unable to open /etc/iplog.conf: Permission denied']);
  });

  test('the pid file for -k may come from the config file', () => {
    const seen: string[] = [];
    const pidFile: PidFileDeps = {
      readPidFile: (p) => {
        seen.push(p);
        return Buffer.from('4242\n');
      },
      sendSignal: (pid, sig) => seen.push(`${pid}/${sig}`),
    };
    const e = exitOf(run(['-k'], { '/etc/iplog.conf': 'pid-file /run/from-conf.pid\n' }, { pidFile }));
    assert.deepEqual(seen, ['/run/from-conf.pid', '4242/15']);
    assert.deepEqual([e.status, e.stdout, e.stderr], [0, '', '']);
  });
});

describe('-k / -R act when reached', () => {
  function recorder(): { deps: PidFileDeps; seen: string[] } {
    const seen: string[] = [];
    return {
      seen,
      deps: {
        readPidFile: (p) => {
          seen.push(p);
          return Buffer.from('1234\n');
        },
        sendSignal: (pid, sig) => seen.push(`${pid}/${sig}`),
      },
    };
  }

  test('-R sends SIGHUP; later options, even invalid ones, are never looked at', () => {
    const r = recorder();
    const e = exitOf(run(['--pid-file=/a', '-R', '--pid-file=/b', '--tcp=maybe', '--bogus'], {}, { pidFile: r.deps }));
    assert.deepEqual(r.seen, ['/a', '1234/1']);
    assert.deepEqual([e.status, e.stdout, e.stderr], [0, '', '']);
  });

  test('messages printed before -k are kept', () => {
    const r = recorder();
    const e = exitOf(run(['--priority=x', '-k'], {}, { pidFile: r.deps }));
    assert.equal(e.stdout, 'Invalid priority: "x" - falling back to default.\n');
    assert.deepEqual(r.seen, ['/var/run/iplog.pid', '1234/15']);
  });
});

describe('new options', () => {
  test('--dns-server: repeatable and comma lists; replaces the file list; validated', () => {
    const s = settingsOf(run(['--dns-server', '1.1.1.1', '--dns-server=9.9.9.9,[::1]:53'], { '/etc/iplog.conf': 'dns_server 8.8.8.8\n' }));
    assert.deepEqual(s.dnsServers, ['1.1.1.1', '9.9.9.9', '[::1]:53']);
    assert.deepEqual(settingsOf(run([], { '/etc/iplog.conf': 'dns_server 8.8.8.8\n' })).dnsServers, ['8.8.8.8']);
    const e = exitOf(run(['--dns-server=1.1.1.1,nohost']));
    assert.deepEqual([e.stdout, e.status], ['Fatal: Invalid DNS server: "nohost"\n', 255]);
  });

  test('--dns-timeout', () => {
    assert.equal(settingsOf(run([])).dnsTimeoutMs, 1000);
    assert.equal(settingsOf(run(['--dns-timeout=2500'])).dnsTimeoutMs, 2500);
    const e = exitOf(run(['--dns-timeout', '2s']));
    assert.deepEqual([e.stdout, e.status], ['Fatal: Invalid DNS timeout: "2s" (milliseconds, 1 - 600000)\n', 255]);
  });

  test('-r / --read', () => {
    assert.equal(settingsOf(run(['-rcapture.pcap'])).replayFile, 'capture.pcap');
    assert.equal(settingsOf(run(['--read=-'])).replayFile, '-');
    assert.equal(exitOf(run(['-r'])).stderr, "iplog: option requires an argument -- 'r'\n");
  });
});

describe('reloadConfiguration (SIGHUP)', () => {
  test('re-reads the file on top of the current settings, with fresh rules', () => {
    const files: Record<string, string> = { '/etc/iplog.conf': 'ignore tcp dport 80\n' };
    const s = settingsOf(run(['-w', '--udp=false'], files));
    assert.equal(s.rules.tcp.length, 1);
    files['/etc/iplog.conf'] = 'set verbose\nignore udp dport 53\nbogus\n';
    const r = reloadConfiguration(s, { readFile: memoryFs(files) });
    assert.deepEqual(r, { messages: ['[line 3] Invalid rule: bogus'] });
    assert.equal(s.rules.tcp.length, 0);
    assert.equal(s.rules.udp.length, 1);
    assert.equal(s.flags.verbose, true);
    assert.equal(s.flags.log_ip, true, 'command-line flags stay');
    assert.equal(s.flags.udp, false, 'not reset to the default either');
  });

  test('a conflict after the reload is fatal', () => {
    const files: Record<string, string> = {};
    const s = settingsOf(run(['--tcp=no', '--udp=no'], files));
    files['/etc/iplog.conf'] = 'ignore icmp\n';
    assert.deepEqual(reloadConfiguration(s, { readFile: memoryFs(files) }), {
      messages: [],
      fatal: { line: 'Fatal: Told not to log anything.  Exiting.', code: 'IPLOG_ERR_NOTHING_TO_LOG' },
    });
  });
});

describe('the default command line (no profile chosen, or modern)', () => {
  const pkgVersion = (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

  test('-h lists every option of the table, by group, on stdout; --profile compat -h is 2.2.3\'s text', () => {
    const h = exitOf(runAsGiven(['-h']));
    assert.equal(h.status, 0);
    assert.equal(h.stderr, '');
    for (const spec of OPTIONS) {
      assert.ok(h.stdout.includes(`--${spec.long[0]}`), `--${spec.long[0]} listed`);
      for (const alias of spec.long.slice(1)) assert.ok(h.stdout.includes(`--${alias}`), `alias --${alias}`);
    }
    const titles = ['General:', 'Capture', 'Output', 'Detection:', 'Bans', 'Daemon:'].map((t) => h.stdout.indexOf(`\n${t}`));
    assert.ok(titles.every((i, k) => i > 0 && (k === 0 || i > titles[k - 1]!)), `groups in order: ${titles}`);
    // each option under its own group
    const section = (title: string) => h.stdout.slice(h.stdout.indexOf(`\n${title}`)).split('\n\n')[0]!;
    assert.match(section('Bans'), /--ban-backend NAME/);
    assert.match(section('Daemon:'), /-o, --no-fork/);
    assert.match(section('General:'), /-t, --test-config/);
    assert.match(section('Detection:'), /--detect-traceroute\[=BOOL\]\s+Log UDP traceroutes\.\s+Also --log-traceroute\.\s+\[on\]/);
    assert.doesNotMatch(h.stdout, /-t, --detect-traceroute/, '-t is --test-config here');
    const w = exitOf(runAsGiven(['--tcp=false', '-h']));
    assert.match(w.stdout, /--tcp\[=BOOL\] +Log TCP traffic\..*\[off\]/s);
    assert.equal(exitOf(runAsGiven(['--profile', 'compat', '-h'])).stdout, DEFAULT_USAGE);
  });

  test('-v and --version print this project\'s version; --profile compat -v the original\'s text', () => {
    for (const v of ['-v', '--version']) {
      const r = exitOf(runAsGiven([v]));
      assert.equal(r.status, 0);
      assert.match(r.stdout, new RegExp(`^iplog ${pkgVersion.replace(/[.]/g, '\\.')} \\(`));
      assert.equal(r.stderr, '');
    }
    assert.equal(exitOf(runAsGiven(['--profile', 'compat', '-v'])).stdout, `${VERSION_TEXT}\n`);
    assert.equal(exitOf(runAsGiven(['-v'], { '/etc/iplog.conf': 'profile compat\n' })).stdout, `${VERSION_TEXT}\n`, 'chosen in the file');
  });

  test('every diagnostic goes to stderr, config lines as FILE:LINE', () => {
    const r = runAsGiven(['--facility=nope'], { '/etc/iplog.conf': 'set udp false\nfrobnicate\nfacility bogus\n' });
    assert.deepEqual((r as { messages: string[] }).messages, [
      'iplog: /etc/iplog.conf:2: Invalid rule: frobnicate',
      'iplog: /etc/iplog.conf:3: Invalid facility: "bogus" - falling back to default.',
      'iplog: Invalid facility: "nope" - falling back to default.',
    ]);
    const f = exitOf(runAsGiven(['--tcp=false', '--udp=false', '--icmp=false', '-o', '-L']));
    assert.equal(f.stdout, '');
    assert.equal(f.stderr, 'iplog: Fatal: Told not to log anything.  Exiting.\n');
    const k = exitOf(runAsGiven(['-l', '/tmp/x', '-L', '--pid-file', '/nonexistent/x.pid', '-k']));
    assert.equal(k.stdout, '');
    assert.equal(k.stderr, 'iplog: Warning: Overriding --logfile\niplog: Fatal: Can\'t open pid file: No such file or directory\n');
    const u = exitOf(runAsGiven(['-Q']));
    assert.equal(u.status, 2);
    assert.equal(u.stdout, '');
    assert.equal(u.stderr, "iplog: invalid option -- 'Q'\nTry 'iplog --help' for more information.\n");
    const c = exitOf(runAsGiven(['--config', '/nonexistent.conf']));
    assert.equal(c.stdout, '');
    assert.equal(c.stderr, 'iplog: Unable to open /nonexistent.conf: No such file or directory\n');
  });

  test('-t / --test-config: every problem with file and line on stderr, status 1; else one OK line, 0', () => {
    const bad = { '/etc/iplog.conf': 'set udp false\nfrobnicate\n/* fine */ ignore tcp dport 80\nignore icmp type echo-bogus\nban_time 5x\n' };
    for (const t of ['-t', '--test-config']) {
      const r = exitOf(runAsGiven([t], bad));
      assert.equal(r.status, 1, t);
      assert.equal(r.stdout, '');
      assert.equal(
        r.stderr,
        'iplog: /etc/iplog.conf:2: Invalid rule: frobnicate\n' +
          'iplog: /etc/iplog.conf:4: Unknown ICMP type: echo-bogus\n' +
          `iplog: /etc/iplog.conf:5: ${(exitOf(runAsGiven(['--ban-time', '5x'])).stderr.match(/Fatal: (.*)/) ?? [])[1]}\n` +
          'iplog: /etc/iplog.conf: 3 problems found\n',
      );
    }
    // check_options() and the start-up checks count too
    const opt = exitOf(runAsGiven(['-t', '--tcp=false', '--udp=false', '--icmp=false']));
    assert.equal(opt.status, 1);
    assert.match(opt.stderr, /^iplog: Told not to log anything\.  Exiting\.$/m);
    const nets = exitOf(runAsGiven(['-t', '-a', '10.0.0.1/8', '--ban-backend', 'dry-run', '--ban-time', '60', '--ban-max-time', '30']));
    assert.equal(nets.status, 1);
    assert.match(nets.stderr, /invalid network "10\.0\.0\.1\/8"/);
    assert.match(nets.stderr, /--ban-max-time \(30\) is shorter than --ban-time \(60\)/);
    const ok = exitOf(runAsGiven(['-t'], { '/etc/iplog.conf': 'set udp false\nignore icmp type echo-reply\n' }));
    assert.equal(ok.status, 0);
    assert.equal(ok.stdout, '');
    assert.equal(ok.stderr, 'iplog: /etc/iplog.conf: configuration OK (profile modern)\n');
    // with 2.2.3's command line, -t is --detect-traceroute (and --test-config still works)
    const s = settingsOf(runAsGiven(['--profile', 'compat', '--log-traceroute=no', '-t']));
    assert.equal(s.flags.traceroute, true);
    assert.equal(exitOf(runAsGiven(['--profile', 'compat', '--test-config'])).status, 0);
  });
});

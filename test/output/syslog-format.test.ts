/**
 * Syslog message bytes: the datagrams iplog 2.2.3 sent through glibc's syslog() (recorded
 * by the oracle: test/output/fixtures/crafted_tcp_flags.syslog_*.datagrams.txt, copied
 * from conformance/out/) rebuilt byte for byte; PRI for every facility and priority; the
 * remote formats and TCP framing; the syslog options on the command line and in iplog.conf.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  droppedText,
  formatLocal,
  formatRfc3164,
  formatRfc5424,
  frameTcp,
  isoSecond,
  syslogHostname,
  syslogPri,
} from '../../src/output/sinks/syslog-format';
import { FACILITIES, PRIORITIES, parseFacility, parsePriority, parseSyslogServer, defaultSettings } from '../../src/config/options';
import { parseCommandLine, type CliResult } from '../../src/cli/program';
import { parseConfig } from '../../src/config/conf-parser';
import type { Settings } from '../../src/config/settings';
import { readDatagrams } from './syslog-helpers';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const HEADER = /^<(\d+)>([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d) iplog\[(\d+)\]: (.*)$/s;

/** Unix time of `Mmm dd HH:MM:SS` in the local time zone (any year). */
function localSec(mon: string, day: string, h: string, m: string, s: string): number {
  return new Date(2024, MONTHS.indexOf(mon), Number(day), Number(h), Number(m), Number(s)).getTime() / 1000;
}

describe('local datagrams (glibc syslog() form)', () => {
  for (const [file, fac, pri, code] of [
    ['crafted_tcp_flags.syslog_default.datagrams.txt', 'daemon', 'notice', 29],
    ['crafted_tcp_flags.syslog_local3_warning.datagrams.txt', 'local3', 'warning', 156],
  ] as const) {
    test(`${file}: every datagram rebuilt byte for byte`, () => {
      const datagrams = readDatagrams(file);
      assert.equal(datagrams.length, 10);
      const p = syslogPri(parseFacility(fac, assert.fail), parsePriority(pri, assert.fail));
      assert.equal(p, code);
      for (const d of datagrams) {
        const m = HEADER.exec(d);
        assert.ok(m, d);
        assert.equal(Number(m[1]), code);
        const sec = localSec(m[2]!, m[3]!, m[4]!, m[5]!, m[6]!);
        const ours = formatLocal(p, sec, Number(m[7]), m[8]!);
        assert.ok(Buffer.from(ours, 'utf8').equals(Buffer.from(d, 'latin1')), `${JSON.stringify(ours)} != ${JSON.stringify(d)}`);
      }
    });
  }

  test('the day of the month is padded with a space, the hour with a zero', () => {
    const sec = new Date(2024, 0, 3, 4, 5, 6).getTime() / 1000;
    assert.equal(formatLocal(29, sec, 7, 'x'), '<29>Jan  3 04:05:06 iplog[7]: x');
  });

  test('PRI = facility * 8 + priority, for every facility and priority name', () => {
    for (const [fname, f] of FACILITIES) {
      for (const [pname, p] of PRIORITIES) {
        assert.equal(syslogPri(parseFacility(fname, assert.fail), parsePriority(pname, assert.fail)), f * 8 + p, `${fname}.${pname}`);
      }
    }
    const named: Array<[string, string, number]> = [
      ['kern', 'emerg', 0], ['user', 'info', 14], ['mail', 'err', 19], ['daemon', 'notice', 29],
      ['auth', 'alert', 33], ['security', 'crit', 34], ['syslog', 'crit', 42], ['lpr', 'debug', 55],
      ['news', 'notice', 61], ['uucp', 'warning', 68], ['cron', 'info', 78], ['authpriv', 'notice', 85],
      ['ftp', 'err', 91], ['local0', 'panic', 128], ['LOG_LOCAL3', 'LOG_WARN', 156], ['local7', 'debug', 191],
    ];
    for (const [f, p, want] of named) assert.equal(syslogPri(parseFacility(f, assert.fail), parsePriority(p, assert.fail)), want, `${f}.${p}`);
  });
});

describe('remote formats', () => {
  const sec = Date.UTC(2024, 10, 22, 21, 45, 22) / 1000;

  test('RFC 3164 with HOSTNAME, RFC 5424 with an ISO time in UTC', () => {
    const local = formatLocal(29, sec, 42, 'TCP: ssh connection attempt from 127.0.0.3:1234');
    assert.equal(
      formatRfc3164(29, sec, 'sensor', 42, 'TCP: ssh connection attempt from 127.0.0.3:1234'),
      local.replace(' iplog[42]', ' sensor iplog[42]'),
    );
    assert.equal(
      formatRfc5424(156, sec, 'sensor.example.org', 42, 'TCP: ssh connection attempt from 127.0.0.3:1234'),
      '<156>1 2024-11-22T21:45:22Z sensor.example.org iplog 42 - - TCP: ssh connection attempt from 127.0.0.3:1234',
    );
    assert.equal(isoSecond(0), '1970-01-01T00:00:00Z');
  });

  test('TCP framing: octet counting for RFC 5424 (bytes, not characters), LF for RFC 3164', () => {
    assert.equal(frameTcp('rfc5424', '<29>1 x é'), '10 <29>1 x é');
    assert.equal(frameTcp('rfc3164', '<29>a'), '<29>a\n');
    assert.equal(frameTcp('rfc3164', 'a\nb'), 'a b\n');
  });

  test('HOSTNAME: short name for RFC 3164, FQDN for RFC 5424, addresses kept, "-" if empty', () => {
    assert.equal(syslogHostname('rfc3164', 'sensor.example.org'), 'sensor');
    assert.equal(syslogHostname('rfc5424', 'sensor.example.org'), 'sensor.example.org');
    assert.equal(syslogHostname('rfc3164', '192.0.2.7'), '192.0.2.7');
    assert.equal(syslogHostname('rfc3164', 'a b'), 'ab');
    assert.equal(syslogHostname('rfc5424', ''), '-');
  });

  test('the dropped-lines report', () => {
    assert.equal(droppedText(1), '1 message dropped while syslog was unavailable.');
    assert.equal(droppedText(7), '7 messages dropped while syslog was unavailable.');
  });
});

describe('syslog options', () => {
  const run = (argv: string[], conf?: string): CliResult =>
    parseCommandLine(argv, { readFile: (p) => (p === '/etc/iplog.conf' ? conf : undefined), platform: 'linux' });
  const settingsOf = (r: CliResult): Settings => {
    assert.equal(r.kind, 'run', JSON.stringify(r));
    return (r as Extract<CliResult, { kind: 'run' }>).settings;
  };

  test('parseSyslogServer', () => {
    assert.deepEqual(parseSyslogServer('udp://127.0.0.1:5514'), { proto: 'udp', host: '127.0.0.1', port: 5514 });
    assert.deepEqual(parseSyslogServer('TCP://loghost.example.org'), { proto: 'tcp', host: 'loghost.example.org', port: 514 });
    assert.deepEqual(parseSyslogServer('tcp://[2001:db8::1]:6514'), { proto: 'tcp', host: '2001:db8::1', port: 6514 });
    for (const bad of ['127.0.0.1:514', 'http://h:1', 'udp://', 'udp://h:0', 'udp://h:65536', 'udp://300.1.1.1', 'udp://[zz]:1', 'udp://a b', 'udp://-h']) {
      assert.equal(parseSyslogServer(bad), undefined, bad);
    }
  });

  test('defaults: no socket, no server, rfc3164', () => {
    const s = defaultSettings();
    assert.equal(s.syslogSocket, undefined);
    assert.equal(s.syslogServer, undefined);
    assert.equal(s.syslogFormat, 'rfc3164');
  });

  test('command line', () => {
    const s = settingsOf(run(['--syslog-socket', '/tmp/x.sock', '--syslog-server=tcp://127.0.0.1:1514', '--syslog-format', 'RFC5424']));
    assert.equal(s.syslogSocket, '/tmp/x.sock');
    assert.deepEqual(s.syslogServer, { proto: 'tcp', host: '127.0.0.1', port: 1514 });
    assert.equal(s.syslogFormat, 'rfc5424');
  });

  test('invalid values are fatal on the command line, with stable codes', () => {
    const code = (argv: string[]): string | undefined => {
      const r = run(argv);
      assert.equal(r.kind, 'exit');
      return (r as Extract<CliResult, { kind: 'exit' }>).code;
    };
    assert.equal(code(['--syslog-server', 'localhost:514']), 'IPLOG_ERR_BAD_SYSLOG_SERVER');
    assert.equal(code(['--syslog-format', 'json']), 'IPLOG_ERR_BAD_SYSLOG_FORMAT');
    assert.equal(code(['--syslog-socket', 'x'.repeat(108)]), 'IPLOG_ERR_BAD_SYSLOG_SOCKET');
    const r = run(['--syslog-format', 'json']) as Extract<CliResult, { kind: 'exit' }>;
    // the default command line: on stderr (with --profile compat: on stdout, as 2.2.3's fatal())
    assert.equal(r.stderr, 'iplog: Fatal: Syslog format must be either "rfc3164" or "rfc5424".\nYou gave "json"\n');
    assert.equal(r.stdout, '');
    assert.equal(r.status, 255);
    const c = run(['--profile', 'compat', '--syslog-format', 'json']) as Extract<CliResult, { kind: 'exit' }>;
    assert.equal(c.stdout, 'Fatal: Syslog format must be either "rfc3164" or "rfc5424".\nYou gave "json"\n');
  });

  test('iplog.conf statements, and their diagnostics', () => {
    const s = defaultSettings();
    const diags: string[] = [];
    parseConfig('syslog_socket /run/log.sock\nsyslog_server udp://127.0.0.1\nsyslog_format rfc5424\n', 'iplog.conf', s, (m) => diags.push(m));
    assert.equal(diags.length, 0, diags.join('\n'));
    assert.equal(s.syslogSocket, '/run/log.sock');
    assert.deepEqual(s.syslogServer, { proto: 'udp', host: '127.0.0.1', port: 514 });
    assert.equal(s.syslogFormat, 'rfc5424');
    const t = defaultSettings();
    parseConfig('syslog_server nowhere\nsyslog_format xml\nsyslog_server\n', 'iplog.conf', t, (m) => diags.push(m));
    assert.deepEqual(diags, ['[line 1] Invalid syslog server: nowhere', '[line 2] Invalid syslog format: xml', '[line 3] Missing syslog server parameter']);
    assert.equal(t.syslogServer, undefined);
  });

  test('the command line overrides iplog.conf', () => {
    const s = settingsOf(run(['--syslog-server', 'udp://127.0.0.1:9'], 'syslog_server tcp://127.0.0.1:10\n'));
    assert.deepEqual(s.syslogServer, { proto: 'udp', host: '127.0.0.1', port: 9 });
  });
});

/**
 * Service and protocol names (src/output/services.ts): getservbyport / getservbyname /
 * getprotobynumber semantics. The system tests expect Debian's netbase files (as on the oracle
 * machine, Debian 12); they are skipped when /etc/services or /etc/protocols is absent.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  MAX_PROTO_NAME,
  MAX_SERVICE_NAME,
  createServiceDb,
  protoName,
  serviceName,
  servicePort,
  systemServiceDb,
} from '../../src/output/services';

const haveFiles = existsSync('/etc/services') && existsSync('/etc/protocols');

describe('system databases (Debian netbase)', { skip: haveFiles ? false : 'no /etc/services or /etc/protocols' }, () => {
  it('names ports like getservbyport', () => {
    assert.equal(serviceName(22, 'tcp'), 'ssh');
    assert.equal(serviceName(23, 'tcp'), 'telnet');
    assert.equal(serviceName(80, 'tcp'), 'http');
    assert.equal(serviceName(9, 'udp'), 'discard');
    assert.equal(serviceName(53, 'udp'), 'domain');
    assert.equal(serviceName(111, 'udp'), 'sunrpc');
    assert.equal(serviceName(123, 'udp'), 'ntp');
    assert.equal(serviceName(1, 'tcp'), 'tcpmux');
  });

  it('falls back to `port N`', () => {
    assert.equal(serviceName(40, 'tcp'), 'port 40');
    assert.equal(serviceName(31337, 'tcp'), 'port 31337');
    assert.equal(serviceName(0, 'udp'), 'port 0');
    assert.equal(serviceName(22, 'udp'), 'port 22'); // ssh is tcp only in netbase
    assert.equal(serviceName(1, 'udp'), 'port 1'); // 1/ddp is another protocol
    assert.equal(serviceName(65535, 'udp'), 'port 65535');
    assert.equal(serviceName(40, 'tcp'), 'port 40'); // memoised, same text
  });

  it('finds ports by name or alias, case-sensitively', () => {
    assert.equal(servicePort('ssh', 'tcp'), 22);
    assert.equal(servicePort('www', 'tcp'), 80);
    assert.equal(servicePort('portmapper', 'udp'), 111);
    assert.equal(servicePort('SSH', 'tcp'), -1);
    assert.equal(servicePort('ssh', 'udp'), -1);
    assert.equal(servicePort('no-such-service', 'tcp'), -1);
  });

  it('names protocols like getprotobynumber', () => {
    assert.equal(protoName(6), 'tcp');
    assert.equal(protoName(17), 'udp');
    assert.equal(protoName(1), 'icmp');
    assert.equal(protoName(0), 'ip'); // first line wins over hopopt
    assert.equal(protoName(255), 'proto 255');
    assert.equal(protoName(253), 'proto 253');
  });

  it('reports no missing files', () => {
    assert.deepEqual(systemServiceDb().missing, []);
  });
});

describe('createServiceDb', () => {
  const services = [
    '# comment line',
    'first\t\t7/tcp\t\talias1 alias2\t# trailing comment',
    'second\t\t7/tcp\t\talias3',
    'udponly\t\t7/udp',
    'hexport\t\t0x16/tcp',
    'octport\t\t026/udp',
    'badport\t\t08/tcp',
    'noslash\t\t99 tcp',
    'other\t\t100/sctp',
    'later\t\t200/tcp\t\tfirst',
    '  indented\t300/tcp',
    'wrapped\t\t65561/tcp',
    `${'l'.repeat(200)}\t400/tcp`,
    'glued\t\t500/tcp#comment',
  ].join('\n');
  const protocols = ['ip\t0\tIP', 'hopopt\t0\tHOPOPT', 'tcp\t6\tTCP\t# comment', 'bad\tx6', 'junk\t7x', `${'p'.repeat(40)}\t50`].join('\n');
  const db = createServiceDb(services, protocols);

  it('first line per (port, protocol) wins', () => {
    assert.equal(db.serviceName(7, 'tcp'), 'first');
    assert.equal(db.serviceName(7, 'udp'), 'udponly');
  });

  it('reads ports as strtoul(…, 0) truncated to 16 bits', () => {
    assert.equal(db.serviceName(22, 'tcp'), 'hexport');
    assert.equal(db.serviceName(22, 'udp'), 'octport');
    assert.equal(db.serviceName(8, 'tcp'), 'port 8');
    assert.equal(db.serviceName(0, 'tcp'), 'port 0');
    assert.equal(db.serviceName(99, 'tcp'), 'port 99');
    assert.equal(db.serviceName(25, 'tcp'), 'wrapped');
    assert.equal(db.serviceName(300, 'tcp'), 'indented');
    assert.equal(db.serviceName(500, 'tcp'), 'glued');
    assert.equal(db.serviceName(100, 'tcp'), 'port 100');
  });

  it('masks the port to 16 bits and cuts long names like iplog', () => {
    assert.equal(db.serviceName(7 + 65536, 'tcp'), 'first');
    assert.equal(db.serviceName(400, 'tcp'), 'l'.repeat(MAX_SERVICE_NAME));
    assert.equal(db.protoName(50), 'p'.repeat(MAX_PROTO_NAME));
  });

  it('resolves names and aliases to the first line carrying them', () => {
    assert.equal(db.servicePort('first', 'tcp'), 7);
    assert.equal(db.servicePort('alias2', 'tcp'), 7);
    assert.equal(db.servicePort('second', 'tcp'), 7);
    assert.equal(db.servicePort('later', 'tcp'), 200);
    assert.equal(db.servicePort('udponly', 'tcp'), -1);
    assert.equal(db.servicePort('other', 'tcp'), -1);
  });

  it('protocol numbers: first line wins, malformed lines ignored', () => {
    assert.equal(db.protoName(0), 'ip');
    assert.equal(db.protoName(6), 'tcp');
    assert.equal(db.protoName(7), 'proto 7');
    assert.equal(db.protoName(300), 'proto 300');
  });

  it('reads every spelling of the port the same on the fast and the strtoul path', () => {
    // the port index is built by a character scan with a fast path for plain decimal ports;
    // the other spellings go through parsePortProto(): both must agree with strtoul(…, 0)
    const odd = createServiceDb(
      ['plus\t+9/tcp', 'minus\t-1/tcp', 'six\t131082/tcp', 'crlf\t11/tcp\r', 'tcpx\t12/tcpx', 'nameonly', 'x7\t7x/tcp', '\t\t13/udp  # no name', 'cr\t14/tcp\rhidden\t15/tcp'].join('\n'),
      undefined,
    );
    assert.equal(odd.serviceName(9, 'tcp'), 'plus');
    assert.equal(odd.serviceName(65535, 'tcp'), 'minus');
    assert.equal(odd.serviceName(10, 'tcp'), 'six');
    assert.equal(odd.serviceName(11, 'tcp'), 'crlf');
    assert.equal(odd.serviceName(12, 'tcp'), 'port 12');
    assert.equal(odd.serviceName(7, 'tcp'), 'port 7');
    assert.equal(odd.serviceName(13, 'udp'), 'port 13');
    assert.equal(odd.servicePort('crlf', 'tcp'), 11);
    assert.equal(odd.servicePort('six', 'tcp'), 10);
    // a carriage return is a blank inside the line, not a line break (glibc reads lines to \n)
    assert.equal(odd.serviceName(14, 'tcp'), 'cr');
    assert.equal(odd.serviceName(15, 'tcp'), 'port 15');
    assert.equal(odd.servicePort('hidden', 'tcp'), 14);
  });

  it('the port index agrees with a field-splitting reference on random lines', () => {
    // reference: glibc's reading, spelled out (lines to \n, text before '#', fields split
    // on C isspace, port by strtoul(…, 0) then '/', protocol exactly tcp or udp)
    const isBlank = (c: string): boolean => c === ' ' || (c >= '\t' && c <= '\r');
    const reference = (text: string): Map<string, string> => {
      const first = new Map<string, string>();
      for (const raw of text.split('\n')) {
        const line = raw.split('#')[0]!;
        const f: string[] = [];
        let cur = '';
        for (const c of line + ' ') {
          if (isBlank(c)) {
            if (cur !== '') f.push(cur);
            cur = '';
          } else cur += c;
        }
        if (f.length < 2) continue;
        const m = /^([+-]?)(0[xX][0-9A-Fa-f]+|0[0-7]*|[1-9][0-9]*)\/(.*)$/.exec(f[1]!);
        if (m === null || (m[3] !== 'tcp' && m[3] !== 'udp')) continue;
        const max = (1n << 64n) - 1n;
        let v = BigInt(/^0[xX]/.test(m[2]!) ? m[2]! : m[2]!.length > 1 && m[2]![0] === '0' ? '0o' + m[2]!.slice(1) : m[2]!);
        if (v > max) v = max;
        else if (m[1] === '-') v = (max + 1n - v) & max;
        const key = `${Number(v & 0xffffn)}/${m[3]}`;
        if (!first.has(key)) first.set(key, f[0]!.slice(0, MAX_SERVICE_NAME));
      }
      return first;
    };
    // a small PRNG (a fixed sequence: the test is the same on every run)
    let x = 0x2545f491;
    const rnd = (n: number): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
    const blanks = [' ', '\t', ' \t', '\v', '\f', '\r', '  '];
    const names = ['a', 'bb', 'x#', '#c', 'n\u00a0m', '7', 'tcp', '22/tcp'];
    const ports = ['22/tcp', '99999/tcp', '65561/udp', '0x1f/udp', '0X1F/tcp', '017/tcp', '08/tcp', '-1/tcp', '+7/udp', '123456/tcp', '7/tcpx', '1455/udp', '15/tcp', '15/tcp#', '7/', '/tcp', '0/udp', '7x/tcp', 'udp'];
    const tails = ['', '', ' alias', '\talias # c', '#', ' 31/tcp', '\r', '\rb 17/tcp'];
    let entries = 0;
    for (let round = 0; round < 200; round++) {
      let text = '';
      for (let line = 0, n = 2 + rnd(8); line < n; line++) {
        if (rnd(4) === 0) text += pick(blanks);
        text += pick(names) + pick(blanks) + pick(ports) + pick(tails);
        if (line < n - 1 || rnd(2) === 0) text += '\n';
      }
      const want = reference(text);
      entries += want.size;
      const db = createServiceDb(text, undefined);
      for (const [key, name] of want) {
        const [port, proto] = key.split('/') as [string, 'tcp' | 'udp'];
        assert.equal(db.serviceName(Number(port), proto), name, JSON.stringify(text));
      }
      for (const proto of ['tcp', 'udp'] as const) {
        for (const port of [0, 7, 15, 17, 22, 31, 99, 123, 1455, 34463, 65535]) {
          if (!want.has(`${port}/${proto}`)) assert.equal(db.serviceName(port, proto), `port ${port}`, JSON.stringify(text));
        }
      }
    }
    assert.ok(entries > 300, `the random lines named ${entries} ports`);
  });

  it('without the files everything is numeric', () => {
    const empty = createServiceDb(undefined, undefined, ['/etc/services', '/etc/protocols']);
    assert.equal(empty.serviceName(22, 'tcp'), 'port 22');
    assert.equal(empty.servicePort('ssh', 'tcp'), -1);
    assert.equal(empty.protoName(6), 'proto 6');
    assert.deepEqual(empty.missing, ['/etc/services', '/etc/protocols']);
  });
});

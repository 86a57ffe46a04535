/**
 * -e ident lookups (src/live/ident.ts): the /proc/net/tcp{,6} reading (any LISTEN socket
 * counts, not the first with the port), the RFC 1413 reply parser, and real lookups
 * against a small identd on 127.0.0.1 (an ephemeral port stands in for 113): the
 * `user@host` line, failures, the deadline, the concurrency bound, and the engine hook
 * logging the line when the lookup ends, after lines of later packets.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentHookImpl, IdentService, isListening, parseIdentReply, parseProcNetTcp, type ListeningSet } from '../../src/live/ident';
import { Harness } from '../helpers/engine';
import { SYN, ip4, ipv4, tcp } from '../helpers/packets';

const HEAD4 = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const row = (n: number, local: string, remote: string, st: string) =>
  `  ${n}: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000     0        0 641 1 0000000080ad68ff 100 0 0 10 0\n`;

function parse(text: string, le = true): ListeningSet {
  const set: ListeningSet = { any: new Set(), addr: new Set() };
  parseProcNetTcp(text, set, le);
  return set;
}

describe('/proc/net/tcp and tcp6', { timeout: 30000 }, () => {
  test('a LISTEN socket anywhere in the table counts, whatever comes before it (fixed quirk 37)', () => {
    const text =
      HEAD4 +
      row(0, '0100007F:0016', '0100007F:D431', '06') + // TIME_WAIT on port 22 first
      row(1, '00000000:0016', '00000000:0000', '0A') + // then the listener
      row(2, '0100007F:0019', '00000000:0000', '0A') + // 127.0.0.1:25 only
      row(3, '00000000:0050', '0100007F:1234', '01'); // port 80: established only
    const set = parse(text);
    assert.equal(isListening(set, 22, ip4('192.0.2.1')), true);
    assert.equal(isListening(set, 25, ip4('127.0.0.1')), true);
    assert.equal(isListening(set, 25, ip4('192.0.2.1')), false, 'bound to another address');
    assert.equal(isListening(set, 80, ip4('192.0.2.1')), false);
  });

  test('big-endian hosts print the address the other way round', () => {
    const set = parse(HEAD4 + row(0, '7F000001:0019', '00000000:0000', '0A'), false);
    assert.equal(isListening(set, 25, ip4('127.0.0.1')), true);
  });

  test('tcp6: the wildcard and IPv4-mapped addresses accept IPv4; other IPv6 addresses do not', () => {
    const z = '00000000000000000000000000000000';
    const mapped = '0000000000000000FFFF00000100007F'; // ::ffff:127.0.0.1
    const v6 = '00000000000000000000000001000000'; // ::1
    const text =
      `  sl  local_address                         remote_address                        st\n` +
      row(0, `${z}:0050`, `${z}:0000`, '0A') +
      row(1, `${mapped}:0051`, `${z}:0000`, '0A') +
      row(2, `${v6}:0052`, `${z}:0000`, '0A');
    const set = parse(text);
    assert.equal(isListening(set, 80, ip4('192.0.2.1')), true);
    assert.equal(isListening(set, 81, ip4('127.0.0.1')), true);
    assert.equal(isListening(set, 82, ip4('127.0.0.1')), false);
  });

  test('the service reads the tables it is given, and again in the background', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iplog-ident-'));
    try {
      const f = join(dir, 'tcp');
      writeFileSync(f, HEAD4);
      const svc = new IdentService({ tables: [f, join(dir, 'missing')], refreshMs: 20 });
      assert.equal(svc.listens(2222, 1), false);
      writeFileSync(f, HEAD4 + row(0, '00000000:08AE', '00000000:0000', '0A'));
      // the refresh runs every 20 ms in the background; a loaded machine may take longer to schedule it
      const deadline = Date.now() + 10_000;
      while (!svc.listens(2222, 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(svc.listens(2222, 1), true, 'the table read again in the background');
      svc.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('RFC 1413 replies', { timeout: 30000 }, () => {
  test('the user is the first word after the third colon, at most 64 characters', () => {
    assert.equal(parseIdentReply('6193, 23 : USERID : UNIX : stjohns\r\n'), 'stjohns');
    assert.equal(parseIdentReply('6193,23:USERID:UNIX,US-ASCII:joe bloggs'), 'joe');
    assert.equal(parseIdentReply(`1 , 2 : USERID : UNIX : ${'x'.repeat(100)}`), 'x'.repeat(64));
    assert.equal(parseIdentReply('1 , 2 : USERID : UNIX : a\x1bb'), 'a?b');
    assert.equal(parseIdentReply('6195, 23 : ERROR : NO-USER'), undefined);
    assert.equal(parseIdentReply('garbage'), undefined);
    assert.equal(parseIdentReply('1 , 2 : USERID :: user'), undefined, 'the OS field is not empty');
  });
});

/** A tiny identd: `answer(request)` gives the reply text, or null to stay silent. */
async function identd(answer: (req: string) => string | null): Promise<{ server: Server; port: number; requests: string[] }> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (!buf.includes('\n')) return;
      requests.push(buf);
      const a = answer(buf);
      if (a !== null) sock.end(a);
    });
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { server, port, requests };
}

function lookup(svc: IdentService, sport: number, dport: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    assert.equal(svc.lookup(ip4('127.0.0.1'), sport, dport, resolve), true);
  });
}

describe('lookups', { timeout: 30000 }, () => {
  test('the request and a good answer', async () => {
    const d = await identd((req) => `${req.trim()} : USERID : UNIX : alice\r\n`);
    const svc = new IdentService({ port: d.port, tables: [] });
    try {
      assert.equal(await lookup(svc, 40000, 22), 'alice');
      assert.deepEqual(d.requests, ['40000 , 22\r\n']);
      assert.deepEqual(svc.stats, { started: 1, answered: 1, failed: 0, overflow: 0 });
    } finally {
      svc.close();
      d.server.close();
    }
  });

  test('an error reply, a refused connection and a silent identd all fail (the last by the deadline)', async () => {
    const d = await identd((req) => (req.startsWith('1 ') ? `${req.trim()} : ERROR : NO-USER\r\n` : null));
    const svc = new IdentService({ port: d.port, tables: [], timeoutMs: 150 });
    const closed = await identd(() => null);
    closed.server.close();
    const refused = new IdentService({ port: closed.port, tables: [] });
    try {
      assert.equal(await lookup(svc, 1, 22), undefined);
      const t0 = Date.now();
      assert.equal(await lookup(svc, 2, 22), undefined);
      assert.ok(Date.now() - t0 >= 140, 'ended by the deadline');
      assert.equal(await lookup(refused, 3, 22), undefined);
      assert.equal(svc.stats.failed, 2);
    } finally {
      svc.close();
      refused.close();
      d.server.close();
    }
  });

  test('at most maxConcurrent at once; the rest are refused at once', async () => {
    const d = await identd(() => null);
    const svc = new IdentService({ port: d.port, tables: [], timeoutMs: 5000, maxConcurrent: 2 });
    try {
      assert.equal(svc.lookup(1, 1, 22, () => undefined), true);
      assert.equal(svc.lookup(1, 2, 22, () => undefined), true);
      assert.equal(svc.lookup(1, 3, 22, () => undefined), false);
      assert.equal(svc.stats.overflow, 1);
      assert.equal(svc.inFlight(), 2);
    } finally {
      svc.close();
      d.server.close();
    }
  });

  for (const profile of ['compat', 'modern'] as const) {
    test(`the engine hook (${profile} profile): the SYN line comes when the lookup ends, after later lines; other ports log at once`, async () => {
      const d = await identd((req) => `${req.trim()} : USERID : UNIX : bob\r\n`);
      const dir = mkdtempSync(join(tmpdir(), 'iplog-ident-'));
      const table = join(dir, 'tcp');
      writeFileSync(table, HEAD4 + row(0, '00000000:0016', '00000000:0000', '0A'));
      const svc = new IdentService({ port: d.port, tables: [table] });
      const h = new Harness({ get_ident: true }, { profile });
      h.engine.ident = new IdentHookImpl(svc, () => h.engine, () => 0);
      try {
        const syn = (sport: number, dport: number) => ipv4({ src: '127.0.0.1', dst: '127.0.0.1', proto: 6, frag: 0x4000 }, tcp(sport, dport, SYN));
        h.feed(100, syn(40001, 22)); // listening: ident
        h.feed(100, syn(40002, 23)); // not listening: at once
        assert.deepEqual(h.lines(), ['TCP: telnet connection attempt from 127.0.0.1:40002']);
        // poll with a deadline (a loaded machine answers late), not a fixed number of turns
        for (const end = Date.now() + 15_000; h.lines().length < 2 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(h.lines(), ['TCP: telnet connection attempt from 127.0.0.1:40002', 'TCP: ssh connection attempt from bob@127.0.0.1:40001']);
      } finally {
        svc.close();
        d.server.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

/**
 * Reverse DNS (src/output/resolve.ts) and /etc/hosts parsing (src/output/hosts-file.ts).
 * All DNS traffic goes to a fake server on 127.0.0.1 (test/helpers/fake-dns.ts); every resolver
 * built here gets explicit `servers`, so the machine's configured name server is never asked.
 * Addresses are from the documentation ranges 192.0.2.0/24 and 198.51.100.0/24.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  ReverseResolver,
  createRenderer,
  dnsBucket,
  hostText,
  sanitiseHostName,
  type ReverseResolverOptions,
} from '../../src/output/resolve';
import { hostsLookup, parseDottedQuad, parseHosts } from '../../src/output/hosts-file';
import { defaultFlags, type Settings } from '../../src/config/settings';
import { startFakeDns, type FakeDns, type FakeDnsHandler, type FakeDnsReply } from '../helpers/fake-dns';

function ip(text: string): number {
  const n = parseDottedQuad(text);
  assert.ok(n >= 0, `bad test address ${text}`);
  return n;
}

const HOSTS = [
  '# test hosts file',
  '127.0.0.1 localhost',
  '127.0.0.1 runsc',
  '127.0.0.1\tvm   # comment',
  '192.0.2.200 gateway gw.example',
  '',
].join('\n');

/** A handler from a table of address → reply; unknown addresses get NXDOMAIN. */
function table(replies: Record<string, FakeDnsReply>): FakeDnsHandler {
  return (addr) => (addr !== undefined && replies[addr] !== undefined ? replies[addr] : { kind: 'nxdomain' });
}

async function withDns(
  handler: FakeDnsHandler,
  opts: Partial<ReverseResolverOptions>,
  fn: (r: ReverseResolver, dns: FakeDns) => Promise<void>,
): Promise<void> {
  const dns = await startFakeDns(handler);
  const r = new ReverseResolver({
    logIp: false,
    cache: false,
    hostsText: HOSTS,
    timeoutMs: 1000,
    ...opts,
    servers: [dns.server],
  });
  // Guard: only the fake server on loopback may ever be asked.
  assert.deepEqual(r.servers(), [dns.server]);
  try {
    await fn(r, dns);
  } finally {
    r.close();
    await dns.close();
  }
}

describe('parseHosts', () => {
  it('keeps the first name of the first line per address', () => {
    const t = parseHosts(HOSTS);
    assert.equal(t.byAddr.get(ip('127.0.0.1')), 'localhost');
    assert.equal(t.byAddr.get(ip('192.0.2.200')), 'gateway');
    assert.equal(t.byAddr.size, 2);
  });

  it('builds a case-insensitive forward map of names and aliases', () => {
    const t = parseHosts('192.0.2.1 a.example A\n198.51.100.1 other a.example\n192.0.2.1 a.example\n');
    assert.deepEqual(hostsLookup(t, 'a.example'), [ip('192.0.2.1'), ip('198.51.100.1')]);
    assert.deepEqual(hostsLookup(t, 'A.EXAMPLE'), [ip('192.0.2.1'), ip('198.51.100.1')]);
    assert.deepEqual(hostsLookup(t, 'a'), [ip('192.0.2.1')]);
    assert.deepEqual(hostsLookup(t, 'nowhere'), []);
  });

  it('skips comments, blank and malformed lines', () => {
    const t = parseHosts(
      [
        '   # indented comment',
        '#192.0.2.1 commented',
        '192.0.2.2',
        '192.0.2.010 leading-zero',
        '192.0.2 short',
        '192.0.2.256 too-big',
        'not-an-address name',
        '  192.0.2.3   spaced  # trailing comment',
        '192.0.2.4#glued comment',
      ].join('\n'),
    );
    assert.deepEqual([...t.byAddr], [[ip('192.0.2.3'), 'spaced']]);
  });

  it('reads ::1 as 127.0.0.1 and v4-mapped IPv6 as IPv4, ignores other IPv6 lines (glibc AF_INET)', () => {
    const t = parseHosts('::1 ip6-localhost ip6-loopback\nfe00::0 ip6-localnet\n::ffff:192.0.2.9 mapped\n2001:db8::1 v6only\nfe80::1%eth0 zoned\n');
    assert.equal(t.byAddr.get(ip('127.0.0.1')), 'ip6-localhost');
    assert.equal(t.byAddr.get(ip('192.0.2.9')), 'mapped');
    assert.equal(t.byAddr.size, 2);
    // With the usual Debian order the IPv4 line comes first and wins.
    const d = parseHosts('127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n');
    assert.equal(d.byAddr.get(ip('127.0.0.1')), 'localhost');
  });
});

describe('sanitiseHostName', () => {
  const a = ip('192.0.2.3');
  it('accepts ordinary host names', () => {
    for (const n of ['host.example', 'host1', 'a', 'x-y.example.org', '_srv.example', 'foo.123', 'A1-b2.C3']) {
      assert.equal(sanitiseHostName(n, a), n, n);
    }
    assert.equal(sanitiseHostName('host.example.', a), 'host.example');
    assert.equal(sanitiseHostName('192.0.2.3', a), '192.0.2.3');
  });

  it('rejects what is not a host name', () => {
    const bad = [
      '',
      '.',
      'evil name',
      'evil\n(1.2.3.4)',
      'evil\\010\\(1.2.3.4\\)',
      'a\\.b.c',
      'tab\there',
      'bell\u0007',
      '-lead.example',
      'trail-.example',
      'double..dot',
      'ünïcode.example',
      '10.0.0.1',
      '1.2.3',
      '2130706433',
      '0x7f.0.0.1',
      `${'a'.repeat(64)}.example`,
      `${'a.'.repeat(126)}ab`, // 254 characters
    ];
    for (const n of bad) assert.equal(sanitiseHostName(n, a), undefined, JSON.stringify(n));
    assert.equal(sanitiseHostName(`${'a.'.repeat(126)}a`, a)?.length, 253);
  });
});

describe('hostText', () => {
  const a = ip('192.0.2.1');
  it('renders the three forms and the digit rule', () => {
    assert.equal(hostText('h.example', a, false, false), 'h.example');
    assert.equal(hostText('h.example', a, true, false), 'h.example (192.0.2.1)');
    assert.equal(hostText('h.example', a, true, true), 'h.example (192.0.2.1)');
    assert.equal(hostText('host1', a, true, false), 'host1');
    assert.equal(hostText('host1', a, true, true), 'host1');
    assert.equal(hostText(undefined, a, true, true), '192.0.2.1');
    assert.equal(hostText(undefined, a, false, false), '192.0.2.1');
  });

  it('applies the 256-byte limits of host_lookup() and add_to_cache()', () => {
    const name = (n: number): string => 'x'.repeat(n);
    assert.equal(hostText(name(255), a, false, false), name(255));
    assert.equal(hostText(name(256), a, false, false), '192.0.2.1');
    assert.equal(hostText(name(235), a, true, false), `${name(235)} (192.0.2.1)`);
    assert.equal(hostText(name(236), a, true, false), '192.0.2.1');
    assert.equal(hostText(name(236), a, true, true), `${name(236)} (192.0.2.1)`);
    assert.equal(hostText(name(237), a, true, true), '192.0.2.1');
  });
});

describe('dnsBucket', () => {
  it('is (3rd octet + 4th octet) & (size - 1)', () => {
    assert.equal(dnsBucket(ip('10.20.2.10'), 128), 12);
    assert.equal(dnsBucket(ip('192.0.2.138'), 128), 12);
    assert.equal(dnsBucket(ip('192.0.2.138'), 256), 140);
    assert.equal(dnsBucket(ip('192.0.255.255'), 256), 254);
  });
});

describe('ReverseResolver', () => {
  it('answers from /etc/hosts with the first name, without DNS', async () => {
    await withDns(table({}), {}, async (r, dns) => {
      assert.equal(r.renderSync(ip('127.0.0.1'), 1), 'localhost');
      assert.equal(await r.render(ip('127.0.0.1'), 1), 'localhost');
      assert.equal(r.renderSync(ip('192.0.2.200'), 1), 'gateway');
      assert.equal(dns.queries.length, 0);
      assert.equal(r.stats.hostsHits, 3);
    });
    await withDns(table({}), { logIp: true, cache: true }, async (r, dns) => {
      assert.equal(r.renderSync(ip('127.0.0.1'), 1), 'localhost (127.0.0.1)');
      assert.equal(dns.queries.length, 0);
    });
  });

  it('reads /etc/hosts by default', async () => {
    let text = '';
    try {
      text = readFileSync('/etc/hosts', 'latin1');
    } catch {
      /* no hosts file: everything is a miss */
    }
    const expected = parseHosts(text).byAddr.get(ip('127.0.0.1')) ?? '127.0.0.1';
    const r = new ReverseResolver({ logIp: false, cache: false, servers: [], timeoutMs: 100 });
    assert.equal(r.renderSync(ip('127.0.0.1'), 1), expected);
    r.close();
  });

  it('answers loopback misses locally as the dotted quad', async () => {
    await withDns(table({}), { logIp: true, cache: true }, async (r, dns) => {
      assert.equal(r.renderSync(ip('127.0.0.3'), 1), '127.0.0.3');
      assert.equal(await r.render(ip('127.1.2.3'), 1), '127.1.2.3');
      assert.equal(dns.queries.length, 0);
      assert.equal(r.stats.loopback, 2);
      assert.equal(r.cacheEntries(), 0);
    });
  });

  it('renders name, name (ip) and the dotted quad', async () => {
    const replies = table({ '192.0.2.1': { kind: 'answer', name: 'host.example' } });
    await withDns(replies, { logIp: false }, async (r) => {
      assert.equal(r.renderSync(ip('192.0.2.1'), 1), undefined);
      assert.equal(await r.render(ip('192.0.2.1'), 1), 'host.example');
      assert.equal(await r.render(ip('192.0.2.4'), 1), '192.0.2.4');
    });
    await withDns(replies, { logIp: true }, async (r) => {
      assert.equal(await r.render(ip('192.0.2.1'), 1), 'host.example (192.0.2.1)');
      assert.equal(await r.render(ip('192.0.2.4'), 1), '192.0.2.4');
      assert.equal(r.stats.failures, 1);
    });
  });

  it('omits the (ip) suffix for names ending in a digit, with and without the cache', async () => {
    const replies = table({ '192.0.2.7': { kind: 'answer', name: 'host1' } });
    for (const cache of [false, true]) {
      await withDns(replies, { logIp: true, cache }, async (r) => {
        assert.equal(await r.render(ip('192.0.2.7'), 1), 'host1');
      });
    }
  });

  it('without the cache, looks up again on every render', async () => {
    const replies = table({ '192.0.2.1': { kind: 'answer', name: 'host.example' } });
    await withDns(replies, { cache: false }, async (r, dns) => {
      assert.equal(await r.render(ip('192.0.2.1'), 1), 'host.example');
      assert.equal(r.renderSync(ip('192.0.2.1'), 1), undefined);
      assert.equal(await r.render(ip('192.0.2.1'), 1), 'host.example');
      assert.equal(dns.queriesFor('192.0.2.1'), 2);
      assert.equal(r.cacheEntries(), 0);
    });
  });

  it('caches for 3600 s of network time from insertion, not refreshed by hits', async () => {
    let name = 'first.example';
    await withDns(
      () => ({ kind: 'answer', name }),
      { cache: true, logIp: true },
      async (r, dns) => {
        const a = ip('198.51.100.1');
        assert.equal(await r.render(a, 1000), 'first.example (198.51.100.1)');
        name = 'second.example';
        assert.equal(r.renderSync(a, 1000), 'first.example (198.51.100.1)');
        assert.equal(r.renderSync(a, 2000), 'first.example (198.51.100.1)');
        assert.equal(await r.render(a, 4599), 'first.example (198.51.100.1)');
        assert.equal(dns.queries.length, 1);
        assert.equal(r.renderSync(a, 4600), undefined);
        assert.equal(await r.render(a, 4600), 'second.example (198.51.100.1)');
        assert.equal(dns.queries.length, 2);
        assert.equal(r.stats.cacheHits, 3);
      },
    );
  });

  it('caches negative answers as the dotted quad', async () => {
    await withDns(table({}), { cache: true, logIp: true }, async (r, dns) => {
      const a = ip('192.0.2.4');
      assert.equal(await r.render(a, 50), '192.0.2.4');
      assert.equal(r.renderSync(a, 60), '192.0.2.4');
      assert.equal(await r.render(a, 3649), '192.0.2.4');
      assert.equal(dns.queries.length, 1);
      assert.equal(r.stats.failures, 1);
    });
  });

  it('evicts the entry with the earliest expiry from a full bucket', async () => {
    // All in bucket 12 of 128: 3rd + 4th octet = 12 or 140.
    const same = ['192.0.2.10', '192.0.3.9', '192.0.4.8', '192.0.5.7', '192.0.2.138'];
    await withDns((addr) => ({ kind: 'answer', name: `h${addr?.split('.').join('-')}.example` }), { cache: true }, async (r, dns) => {
      for (let i = 0; i < 4; i++) await r.render(ip(same[i]), 1000 + i);
      assert.equal(r.cacheEntries(), 4);
      await r.render(ip(same[4]), 1004);
      assert.equal(r.stats.evictions, 1);
      assert.equal(r.cacheEntries(), 4);
      assert.equal(r.renderSync(ip(same[0]), 1005), undefined, 'earliest expiry evicted');
      for (let i = 1; i < 5; i++) assert.notEqual(r.renderSync(ip(same[i]), 1005), undefined, same[i]);
      // Another bucket is unaffected.
      await r.render(ip('198.51.100.77'), 1005);
      assert.equal(r.stats.evictions, 1);
      assert.equal(dns.queries.length, 6);
    });
  });

  it('breaks eviction ties by oldest insertion and drops expired entries first', async () => {
    const same = ['192.0.2.10', '192.0.3.9', '192.0.4.8', '192.0.5.7', '192.0.2.138'];
    await withDns(() => ({ kind: 'answer', name: 'x.example' }), { cache: true }, async (r) => {
      for (let i = 0; i < 4; i++) await r.render(ip(same[i]), 500);
      await r.render(ip(same[4]), 500);
      assert.equal(r.renderSync(ip(same[0]), 500), undefined);
      assert.equal(r.renderSync(ip(same[1]), 500), 'x.example');
      // At 4100 the 500-entries have expired: inserting does not count as an eviction.
      await r.render(ip(same[0]), 4100);
      assert.equal(r.stats.evictions, 1);
      assert.equal(r.cacheEntries(), 1);
    });
  });

  it('uses 256 buckets in promiscuous mode', async () => {
    const same = ['192.0.2.10', '192.0.3.9', '192.0.4.8', '192.0.5.7', '192.0.2.138'];
    await withDns(() => ({ kind: 'answer', name: 'x.example' }), { cache: true, promisc: true }, async (r) => {
      for (let i = 0; i < 5; i++) await r.render(ip(same[i]), 1000 + i);
      assert.equal(r.stats.evictions, 0);
      assert.equal(r.cacheEntries(), 5);
    });
  });

  it('gives up on a silent server after the timeout and caches the failure', async () => {
    await withDns(() => ({ kind: 'drop' }), { cache: true, timeoutMs: 200 }, async (r, dns) => {
      const t0 = performance.now();
      const text = await r.render(ip('192.0.2.5'), 10);
      const elapsed = performance.now() - t0;
      assert.equal(text, '192.0.2.5');
      assert.ok(elapsed < 1000, `took ${elapsed.toFixed(0)} ms`);
      assert.equal(r.stats.timeouts, 1);
      assert.equal(dns.queries.length, 1);
      assert.equal(r.renderSync(ip('192.0.2.5'), 11), '192.0.2.5');
    });
  });

  it('coalesces concurrent lookups of one address into one query', async () => {
    const replies = table({ '192.0.2.8': { kind: 'answer', name: 'busy.example', delayMs: 100 } });
    await withDns(replies, { logIp: true }, async (r, dns) => {
      const texts = await Promise.all(Array.from({ length: 10 }, () => r.render(ip('192.0.2.8'), 1)));
      assert.deepEqual(texts, new Array(10).fill('busy.example (192.0.2.8)'));
      assert.equal(dns.queriesFor('192.0.2.8'), 1);
      assert.equal(r.stats.lookups, 1);
      assert.equal(r.stats.coalesced, 9);
      assert.equal(r.pendingLookups(), 0);
    });
  });

  it('shows invalid PTR names as the dotted quad', async () => {
    const replies = table({
      '192.0.2.2': { kind: 'answer', name: 'evil name\n(1.2.3.4)' },
      '192.0.2.3': { kind: 'answer', name: '10.0.0.1' },
      '192.0.2.6': { kind: 'answer', labels: ['a.b', 'example'] },
      '192.0.2.9': { kind: 'answer', name: `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.e` },
    });
    await withDns(replies, { logIp: true, cache: true }, async (r) => {
      assert.equal(await r.render(ip('192.0.2.2'), 1), '192.0.2.2');
      assert.equal(await r.render(ip('192.0.2.3'), 1), '192.0.2.3');
      assert.equal(await r.render(ip('192.0.2.6'), 1), '192.0.2.6');
      // 245 characters: valid, but too long for the (ip) suffix in iplog's buffer.
      assert.equal(await r.render(ip('192.0.2.9'), 1), '192.0.2.9');
      assert.equal(r.stats.sanitised, 3);
      assert.equal(r.renderSync(ip('192.0.2.2'), 2), '192.0.2.2');
    });
  });

  it('bounds the queue: a lookup that does not fit answers the dotted quad and is not cached', async () => {
    await withDns(
      (addr) => ({ kind: 'answer', name: `n${addr?.split('.')[3]}.example`, delayMs: 100 }),
      { cache: true, maxInflight: 1, maxQueue: 2 },
      async (r, dns) => {
        const addrs = ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4'].map(ip);
        const ps = addrs.map((a) => r.render(a, 1));
        assert.equal(await ps[3], '198.51.100.4');
        assert.equal(r.stats.dropped, 1);
        assert.equal(r.pendingLookups(), 3);
        assert.deepEqual(await Promise.all(ps.slice(0, 3)), ['n1.example', 'n2.example', 'n3.example']);
        assert.equal(dns.queries.length, 3);
        assert.equal(r.renderSync(addrs[3], 2), undefined);
        assert.equal(await r.render(addrs[3], 2), 'n4.example');
        assert.equal(dns.queries.length, 4);
      },
    );
  });

  it('queues FIFO beyond maxInflight', async () => {
    const order: string[] = [];
    await withDns(
      (addr) => {
        order.push(addr ?? '?');
        return { kind: 'answer', name: 'q.example', delayMs: 20 };
      },
      { maxInflight: 2 },
      async (r) => {
        const addrs = ['198.51.100.11', '198.51.100.12', '198.51.100.13', '198.51.100.14', '198.51.100.15'];
        await Promise.all(addrs.map((a) => r.render(ip(a), 1)));
        assert.deepEqual(order.slice(2), addrs.slice(2));
        assert.equal(r.stats.lookups, 5);
      },
    );
  });

  it('sends nothing when no server is configured', async () => {
    const r = new ReverseResolver({ logIp: true, cache: true, hostsText: HOSTS, servers: [], timeoutMs: 100 });
    assert.equal(await r.render(ip('192.0.2.1'), 1), '192.0.2.1');
    assert.equal(r.stats.lookups, 0);
    assert.equal(r.stats.failures, 1);
    assert.deepEqual(r.servers(), []);
    assert.equal(r.renderSync(ip('192.0.2.1'), 2), '192.0.2.1');
    r.close();
  });

  it('close() answers pending renders with the dotted quad', async () => {
    await withDns(() => ({ kind: 'drop' }), { maxInflight: 1, timeoutMs: 5000, cache: true }, async (r) => {
      const p1 = r.render(ip('192.0.2.21'), 1);
      const p2 = r.render(ip('192.0.2.22'), 1);
      r.close();
      assert.deepEqual(await Promise.all([p1, p2]), ['192.0.2.21', '192.0.2.22']);
      assert.equal(r.cacheEntries(), 0);
      assert.equal(await r.render(ip('192.0.2.23'), 1), '192.0.2.23');
    });
  });

  it('createRenderer: --dns-server replaces the system name servers; special ranges stay local', async () => {
    const base: Settings = {
      profile: 'compat',
      flags: { ...defaultFlags(), log_ip: true },
      pidFile: '/run/iplog.pid',
      facility: 3,
      priority: 5,
      configFile: '/etc/iplog.conf',
      rules: { tcp: [], udp: [], icmp: [] },
      replayFile: 'x.pcap',
      dnsTimeoutMs: 200,
    };
    const dns = await startFakeDns(table({ '192.0.2.1': { kind: 'answer', name: 'named.example' } }));
    const r2 = createRenderer({ ...base, dnsServers: [dns.server] });
    assert.deepEqual(r2.servers(), [dns.server]);
    assert.equal(await r2.render(ip('192.0.2.1'), 1), 'named.example (192.0.2.1)');
    // 0/8 (the byte-swapped mask of an ICMP mask reply), multicast and reserved: no query
    for (const a of ['0.255.255.255', '224.0.0.1', '255.255.255.255']) assert.equal(r2.renderSync(ip(a), 1), a);
    assert.equal(r2.stats.lookups, 1);
    r2.close();
    await dns.close();
  });
});

describe('IPv6 reverse DNS (ip6.arpa)', () => {
  const ARPA = '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa';

  it('asks the PTR of the ip6.arpa name (32 nibbles, least significant first) and prints the name or name (address)', async () => {
    const handler: FakeDnsHandler = (_a, qname) => (qname.toLowerCase() === ARPA ? { kind: 'answer', name: 'six.example' } : { kind: 'nxdomain' });
    await withDns(handler, {}, async (r, dns) => {
      assert.equal(await r.render('2001:db8::1', 10), 'six.example');
      assert.deepEqual(dns.queries.map((q) => q.qname.toLowerCase()), [ARPA]);
      assert.equal(await r.render('2001:db8::2', 10), '2001:db8::2', 'a failure prints the address');
    });
    await withDns(handler, { logIp: true, cache: true }, async (r, dns) => {
      assert.equal(await r.render('2001:db8::1', 10), 'six.example (2001:db8::1)');
      assert.equal(r.renderSync('2001:db8::1', 11), 'six.example (2001:db8::1)', 'cached like IPv4');
      assert.equal(r.renderSync('2001:db8::1', 10 + 3600), undefined, 'for 3600 s of packet time');
      assert.equal(dns.queries.length, 1);
    });
  });

  it('sanitises IPv6 answers like IPv4 ones; a numeric name is never accepted', async () => {
    const answers: Record<string, string> = { [ARPA]: 'evil name (1.2.3.4)' };
    const handler: FakeDnsHandler = (_a, qname) => (answers[qname.toLowerCase()] !== undefined ? { kind: 'answer', name: answers[qname.toLowerCase()] } : { kind: 'nxdomain' });
    await withDns(handler, {}, async (r) => {
      assert.equal(await r.render('2001:db8::1', 1), '2001:db8::1');
      assert.equal(r.stats.sanitised, 1);
      answers[ARPA] = '10.1.2.3';
      assert.equal(await r.render('2001:db8::1', 2), '2001:db8::1');
      assert.equal(r.stats.sanitised, 2);
    });
  });

  it('never asks DNS about ::1, link-local, multicast or IPv4-mapped addresses; /etc/hosts IPv6 lines answer first', async () => {
    await withDns(() => ({ kind: 'answer', name: 'leak.example' }), { hostsText: '::1 localhost ip6-localhost\n2001:db8::53 ns.example\n' }, async (r, dns) => {
      assert.equal(r.renderSync('::1', 1), 'localhost');
      assert.equal(r.renderSync('2001:db8::53', 1), 'ns.example');
      for (const a of ['fe80::1', 'ff02::1', '::ffff:192.0.2.1', '::']) assert.equal(await r.render(a, 1), a);
      assert.equal(dns.queries.length, 0);
    });
  });
});

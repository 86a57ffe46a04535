/**
 * Reverse DNS during a replay, end to end, against a fake name server on 127.0.0.1 (the
 * only server any test ever talks to): names appear in packet order; a server that
 * never answers costs at most about the timeout, and the lines show dotted quads; a
 * malicious PTR answer is shown as the address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeDns } from '../helpers/fake-dns';
import { writePcap } from '../helpers/pcap-writer';
import { ipv4, tcp, ether, SYN, DF } from '../helpers/packets';
import { makeSettings } from '../helpers/engine';
import { replay } from '../../src/pipeline';
import { TextSink } from '../../src/output/sinks/text';
import { createRenderer } from '../../src/output/resolve';

const dir = mkdtempSync(join(tmpdir(), 'iplog-dns-'));
const pcap = join(dir, 'syns.pcap');
writePcapFile();

function writePcapFile(): void {
  const srcs = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.1'];
  writeFileSync(
    pcap,
    writePcap(srcs.map((s, i) => ({ ts: 1_700_000_000 + i, data: ether(ipv4({ src: s, dst: '127.0.0.1', proto: 6, frag: DF }, tcp(1000 + i, 22, SYN))) }))),
  );
}

async function run(server: string, timeoutMs: number, logIp = false): Promise<{ lines: string[]; ms: number }> {
  const s = makeSettings({ disable_resolver: false, tcp_resolve: true, udp_resolve: true, icmp_resolve: true, dns_cache: true, log_ip: logIp }, { dnsServers: [server], dnsTimeoutMs: timeoutMs, replayFile: pcap });
  const mem = TextSink.memory();
  const renderer = createRenderer(s);
  const t0 = Date.now();
  const r = await replay(s, pcap, mem.sink, renderer);
  const ms = Date.now() - t0;
  renderer.close();
  assert.equal(r.error, null);
  return { lines: mem.text().split('\n').filter(Boolean).map((l) => l.slice(16)), ms };
}

test('names from the server, in packet order, cached', async () => {
  const dns = await startFakeDns((addr) => (addr === '192.0.2.2' ? { kind: 'answer', name: 'two.example', delayMs: 50 } : { kind: 'answer', name: `h${addr!.split('.')[3]}.example` }));
  const { lines } = await run(dns.server, 500);
  assert.deepEqual(lines, [
    'TCP: ssh connection attempt from h1.example:1000',
    'TCP: ssh connection attempt from two.example:1001',
    'TCP: ssh connection attempt from h3.example:1002',
    'TCP: ssh connection attempt from h1.example:1003',
  ]);
  assert.equal(dns.queriesFor('192.0.2.1'), 1, 'the second packet from 192.0.2.1 used the cache');
  await dns.close();
});

test('a dead server stalls the replay by about the timeout, not more; addresses are shown', async () => {
  const dns = await startFakeDns(() => ({ kind: 'drop' }));
  const { lines, ms } = await run(dns.server, 200);
  assert.deepEqual(lines.map((l) => l.replace(/:\d+$/, '')), Array(4).fill(0).map((_, i) => `TCP: ssh connection attempt from 192.0.2.${[1, 2, 3, 1][i]}`));
  // three distinct lookups run concurrently; c-ares gives up after about 2 x timeout
  assert.ok(ms < 2000, `took ${ms} ms`);
  await dns.close();
});

test('an attacker-controlled PTR that is not a host name is shown as the address', async () => {
  const dns = await startFakeDns((addr) => (addr === '192.0.2.1' ? { kind: 'answer', labels: ['evil name (10', '0', '0', '1)'] } : { kind: 'nxdomain' }));
  const { lines } = await run(dns.server, 500, true);
  assert.equal(lines[0], 'TCP: ssh connection attempt from 192.0.2.1:1000');
  await dns.close();
});

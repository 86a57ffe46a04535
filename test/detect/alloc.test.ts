/**
 * The per-packet path allocates nothing (DESIGN.md): a spoofed SYN flood, IPv4 and IPv6,
 * through Engine.onFrame in compat with -m -N (every packet a new pair for the scan
 * table, which evicts another), counted by the young-generation collections it causes
 * once the code is warm. A number of 2^31 or more passed between functions is boxed, so
 * the sources have such words (203.0.113.0/24; 2001:db8:f100::/112, word 1 0xf1000000).
 * The IPv4 handler once passed the addresses to the handshake tracker boxed, 2 heap
 * numbers a packet: 8 collections per 1,000,000 packets here (the IPv6 handler did the
 * same, which inlining hides in this small process but not in the benchmark's).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { Harness } from '../helpers/engine';
import { ipv4, ipv6, tcp, SYN } from '../helpers/packets';

const K = 4096;

/** K raw packets of `size` bytes back to back: SYNs from K sources. */
function flood(family: 4 | 6): { buf: Buffer; size: number } {
  const pkts: Buffer[] = [];
  for (let i = 0; i < K; i++) {
    const seg = tcp(1024 + i, 1 + (i % 1000), SYN);
    pkts.push(
      family === 4
        ? ipv4({ src: `203.0.113.${i & 255}`, dst: `198.51.100.${i >> 8}`, proto: 6 }, seg)
        : ipv6({ src: `2001:db8:f100::${i.toString(16)}`, dst: '2001:db8::1', nh: 6 }, seg),
    );
  }
  return { buf: Buffer.concat(pkts), size: pkts[0]!.length };
}

function minorCollections(): { count(): number; stop(): Promise<void> } {
  let n = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) n++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return {
    count: () => n,
    stop: async () => {
      // entries are delivered asynchronously
      await new Promise((r) => setTimeout(r, 50));
      obs.disconnect();
    },
  };
}

for (const family of [4, 6] as const) {
  test(`IPv${family} SYN flood, compat -m -N: no young-generation collection in 1,000,000 packets once warm (no allocation per packet)`, async () => {
    const h = new Harness({ scans_only: true, disable_resolver: true });
    const { buf, size } = flood(family);
    let i = 0;
    const run = (n: number): void => {
      for (let k = 0; k < n; k++, i++) {
        const off = (i % K) * size;
        // 200,000 packets a second of packet time: the once-per-second sweeps run too
        h.engine.onFrame(buf, off, size, size, 1704067200 + Math.floor(i / 200_000), (i % 200_000) * 5000, 101);
      }
    };
    run(200_000);
    const gc = minorCollections();
    await new Promise((r) => setTimeout(r, 50));
    const before = gc.count();
    run(1_000_000);
    await gc.stop();
    const collections = gc.count() - before;
    assert.equal(family === 4 ? h.engine.ipv4Packets : h.engine.ipv6Packets, 1_200_000);
    assert.ok(h.engine.an.counts.reduce((a, b) => a + b, 0) >= 1_190_000, 'every flood packet evicts a pair (scan.evicted)');
    assert.ok(collections <= 1, `${collections} young-generation collections in 1,000,000 packets`);
    await h.finish();
  });
}

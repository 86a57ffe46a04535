/**
 * The modern tables are sized at start from --state-memory (issue 9 item 5) and nothing
 * grows after start: a flood of new sources leaves the arrays as they were; what they allocate
 * stays within the budget.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness } from '../helpers/engine';
import { ipv4, tcp, SYN } from '../helpers/packets';
import { modernTableBytes } from '../bench/spoof-rss';

test('the modern tables do not grow: the same arrays after 50,000 spoofed sources', async () => {
  const h = new Harness({}, { profile: 'modern', hashSeed: 1, replayFile: 'synthetic', stateMemory: 2 * 1024 * 1024 });
  const m = h.engine.modern!;
  const arrays = (): ArrayBufferView[] => {
    const out: ArrayBufferView[] = [];
    for (const o of [m, m.contacts, m.sources] as object[]) for (const v of Object.values(o)) if (ArrayBuffer.isView(v)) out.push(v);
    return out;
  };
  const before = arrays();
  for (let i = 0; i < 50_000; i++) {
    const src = `${i & 256 ? '203.0.113' : '192.0.2'}.${i & 255}`;
    h.feed(1000 + i * 0.001, ipv4({ src, dst: '198.51.100.1', proto: 6, ttl: 64 }, tcp(1024 + (i % 50000), 1 + (i % 60000), SYN)));
  }
  await h.finish();
  const after = arrays();
  assert.equal(after.length, before.length);
  after.forEach((a, i) => assert.equal(a, before[i], 'the same array object'));
  assert.ok(m.counters().contactEvictions > 0);
});

test('--state-memory is the bound: the modern tables allocate at most the budget, and use at least 90 % of it', () => {
  for (const mib of [1, 4, 16, 48, 100, 256]) {
    const budget = mib * 1024 * 1024;
    // every typed array reachable from a ModernDetect built for the budget, counted once per buffer
    const { bytes } = modernTableBytes(budget);
    assert.ok(bytes <= budget, `${mib} MiB: the tables allocate ${bytes} bytes`);
    assert.ok(bytes >= budget * 0.9, `${mib} MiB: only ${bytes} bytes used`);
  }
});

/**
 * Property test: the whole engine (link, IPv4, fragments, handlers, detectors, output)
 * never throws on any frame, whatever its bytes, link type or timestamp order, with every
 * flag combination that changes code paths; and its tables stay within their bounds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Harness } from '../helpers/engine';
import { ipv4 } from '../helpers/packets';

const LINKTYPES = [0, 1, 12, 101, 108, 113, 228, 276];

// a plausible IPv4 packet with random header fields and payload, to get past the checksum
const plausible = fc
  .record({
    proto: fc.constantFrom(1, 6, 17, 1, 6, 17, 47),
    frag: fc.oneof(fc.constant(0), fc.constant(0x4000), fc.integer({ min: 0, max: 0xffff })),
    ttl: fc.integer({ min: 0, max: 255 }),
    id: fc.integer({ min: 0, max: 3 }),
    src: fc.constantFrom('192.0.2.1', '192.0.2.2', '198.51.100.9', '0.0.0.0'),
    dst: fc.constantFrom('10.0.0.1', '10.0.0.2'),
    hlen: fc.constantFrom(20, 20, 24, 60),
    payload: fc.uint8Array({ minLength: 0, maxLength: 80 }),
    totalDelta: fc.integer({ min: -30, max: 30 }),
  })
  .map((r) => {
    const p = ipv4({ src: r.src, dst: r.dst, proto: r.proto, frag: r.frag, ttl: r.ttl, id: r.id, hlen: r.hlen }, r.payload);
    return { bytes: p, total: Math.max(0, Math.min(0xffff, p.length + r.totalDelta)) };
  });

const frame = fc.oneof(
  fc.record({ linktype: fc.constantFrom(...LINKTYPES), data: fc.uint8Array({ maxLength: 120 }) }),
  plausible.map(({ bytes, total }) => {
    bytes.writeUInt16BE(total, 2);
    return { linktype: 101, data: new Uint8Array(bytes) };
  }),
  plausible.map(({ bytes }) => ({ linktype: 101, data: new Uint8Array(bytes) })),
);

test('the engine never throws, and its tables stay bounded', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ f: frame, dt: fc.integer({ min: -2, max: 40 }) }), { maxLength: 200 }),
      fc.record({ log_dest: fc.boolean(), verbose: fc.boolean(), scans_only: fc.boolean(), bogus: fc.boolean(), syn_scan: fc.boolean(), promisc: fc.boolean() }),
      async (frames, flags) => {
        const h = new Harness(flags, flags.promisc ? { promiscNets: ['10.0.0.0/8'] } : {});
        let t = 1_700_000_000;
        for (const { f, dt } of frames) {
          t += dt;
          const buf = Buffer.from(f.data);
          h.engine.onFrame(buf, 0, buf.length, buf.length, t, 0, f.linktype);
        }
        await h.finish();
        assert.ok(h.engine.scans.size() <= h.engine.scans.buckets * 4);
        assert.ok(h.engine.frags.size() <= 32 * 5);
        assert.equal(h.engine.frags.size(), 0, 'every fragment train drained at the end');
      },
    ),
    { numRuns: 300 },
  );
});

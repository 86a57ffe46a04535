/**
 * Property test, IPv6 (issue 8 B.10): the whole engine never throws on hostile IPv6 frames
 * (random extension-header chains, fragments with random offsets, flags and ids,
 * truncated and lying length fields, ICMPv6 of every type including neighbour discovery,
 * TCP/UDP with random flags and ports), on every link type that carries IPv6, with the
 * flag combinations that change code paths; the IPv6 tables stay within their bounds,
 * every fragment train is drained at the end, and every line is written for an IPv6 source
 * in RFC 5952 text (nothing of the bytes leaks into the text unescaped).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Harness } from '../helpers/engine';
import { cat, ether, ext6, frag6, icmp6, ipv6, tcp, udp } from '../helpers/packets';
import { FRAG6_MAX_DGRAMS } from '../../src/decode/fragments6';
import { IpAddr } from '../../src/net/addr';
import { A } from '../../src/decode/anomalies';

const SRC = ['2001:db8::1', '2001:db8::2', '2001:db8:1::99', 'fe80::1', 'ff02::1', '::', '::ffff:192.0.2.1'];
const DST = ['2001:db8:ffff::1', '2001:db8:ffff::2', 'ff02::1:ff00:1'];

// an upper-layer header: TCP, UDP, ICMPv6 (ND, MLD, errors quoting a packet), or bytes
const upper = fc.oneof(
  fc.record({ s: fc.integer({ min: 0, max: 65535 }), d: fc.integer({ min: 0, max: 1100 }), f: fc.integer({ min: 0, max: 255 }) }).map((r) => ({ nh: 6, b: tcp(r.s, r.d, r.f) as Uint8Array })),
  fc.record({ s: fc.integer({ min: 0, max: 65535 }), d: fc.integer({ min: 0, max: 65535 }), n: fc.integer({ min: 0, max: 40 }) }).map((r) => ({ nh: 17, b: udp(r.s, r.d, r.n) as Uint8Array })),
  fc
    .record({ t: fc.oneof(fc.constantFrom(1, 2, 3, 4, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 143), fc.integer({ min: 0, max: 255 })), c: fc.integer({ min: 0, max: 7 }), rest: fc.uint8Array({ maxLength: 72 }) })
    .map((r) => ({ nh: 58, b: icmp6(r.t, r.c, r.rest) as Uint8Array })),
  fc.record({ nh: fc.integer({ min: 0, max: 255 }), b: fc.uint8Array({ maxLength: 40 }) }),
);

// an extension header in the chain: hop-by-hop, routing (type 0 too), destination options,
// AH, a fragment header, or raw bytes with a random length byte
const ext = fc.oneof(
  fc.record({ t: fc.constantFrom(0, 43, 60, 135, 139, 140, 253), body: fc.uint8Array({ maxLength: 30 }) }).map((r) => ({ t: r.t, mk: (next: number) => ext6(next, r.body, r.t) })),
  fc.record({ off: fc.integer({ min: 0, max: 8191 }).map((x) => x * 8), m: fc.boolean(), id: fc.integer({ min: 0, max: 3 }) }).map((r) => ({ t: 44, mk: (next: number) => frag6(next, r.off, r.m, r.id) })),
  fc.record({ len: fc.integer({ min: 0, max: 255 }) }).map((r) => ({ t: 51, mk: (next: number) => { const b = Buffer.alloc(12); b[0] = next; b[1] = r.len; return b; } })),
  fc.record({ t: fc.integer({ min: 0, max: 255 }), raw: fc.uint8Array({ minLength: 1, maxLength: 24 }) }).map((r) => ({ t: r.t, mk: (next: number) => { const b = Buffer.from(r.raw); b[0] = next; return b; } })),
);

// a fragment of a small datagram (to reach reassembly, overlaps and duplicates often)
const fragment = fc
  .record({ id: fc.integer({ min: 0, max: 2 }), k: fc.integer({ min: 0, max: 5 }), m: fc.boolean(), len: fc.constantFrom(8, 16, 24, 7, 0), u: upper })
  .map((r) => ({ nh: 44, b: cat(frag6(r.u.nh, r.k * 8, r.m, r.id), r.k === 0 ? cat(r.u.b, new Uint8Array(Math.max(0, r.len - r.u.b.length))) : new Uint8Array(r.len)) as Uint8Array }));

const packet = fc
  .record({
    src: fc.constantFrom(...SRC),
    dst: fc.constantFrom(...DST),
    hlim: fc.constantFrom(0, 1, 64, 255),
    chain: fc.oneof(
      fc.array(ext, { maxLength: 10 }),
      // a long chain of well-formed headers: the bound on their number
      fc.integer({ min: 6, max: 12 }).map((n) => Array.from({ length: n }, (_, i) => ({ t: i % 2 ? 43 : 60, mk: (next: number) => ext6(next, new Uint8Array(4), i % 2 ? 43 : 60) }))),
    ),
    body: fc.oneof(upper, upper, fragment),
    plenDelta: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: -60, max: 60 })),
    cut: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 60 })),
    version: fc.oneof(fc.constant(6), fc.constant(6), fc.constant(6), fc.integer({ min: 0, max: 15 })),
  })
  .map((r) => {
    // build the chain back to front: each header names the next
    let next = r.body.nh;
    let rest: Uint8Array = r.body.b;
    for (let i = r.chain.length - 1; i >= 0; i--) {
      const e = r.chain[i]!;
      rest = cat(e.mk(next), rest);
      next = e.t;
    }
    const p = ipv6({ src: r.src, dst: r.dst, nh: next, hlim: r.hlim }, rest);
    p.writeUInt16BE(Math.max(0, Math.min(0xffff, rest.length + r.plenDelta)), 4);
    p[0] = (r.version << 4) | (p[0]! & 0x0f);
    return p.subarray(0, Math.max(0, p.length - r.cut));
  });

function onLink(ip: Buffer, link: number): { linktype: number; data: Uint8Array } {
  switch (link) {
    case 1:
      return { linktype: 1, data: ether(ip, 0x86dd) };
    case 0: {
      const h = Buffer.alloc(4);
      h.writeUInt32LE(28, 0); // AF_INET6 of FreeBSD, host order
      return { linktype: 0, data: cat(h, ip) };
    }
    case 108: {
      const h = Buffer.alloc(4);
      h.writeUInt32BE(24, 0);
      return { linktype: 108, data: cat(h, ip) };
    }
    default:
      return { linktype: link, data: ip };
  }
}

// a whole datagram cut in 8-byte-aligned pieces, sent in any order, a piece maybe twice
// or moved: reassembly, duplicates and overlaps
const train = fc
  .record({ src: fc.constantFrom(...SRC.slice(0, 3)), id: fc.integer({ min: 0, max: 2 }), u: upper, pad: fc.integer({ min: 0, max: 40 }), piece: fc.constantFrom(8, 16, 24), order: fc.array(fc.nat(), { maxLength: 8 }), dup: fc.option(fc.nat()), shift: fc.option(fc.integer({ min: 1, max: 3 })) })
  .map((r) => {
    const data = cat(r.u.b, new Uint8Array(r.pad));
    const frames: Buffer[] = [];
    for (let off = 0; off < data.length; off += r.piece) {
      const end = Math.min(data.length, off + r.piece);
      const at = r.shift !== null && off > 0 && frames.length === 1 ? off - 8 * r.shift : off;
      frames.push(ipv6({ src: r.src, dst: DST[0]!, nh: 44 }, cat(frag6(r.u.nh, Math.max(0, at), end < data.length, r.id), data.subarray(off, end))));
    }
    if (r.dup !== null && frames.length > 0) frames.push(frames[r.dup % frames.length]!);
    for (let i = 0; i < r.order.length && frames.length > 1; i++) {
      const j = r.order[i]! % frames.length;
      [frames[0], frames[j]] = [frames[j]!, frames[0]!];
    }
    return frames.map((f) => ({ linktype: 229, data: new Uint8Array(f) }));
  });

const frame = fc.oneof(
  fc.record({ p: packet, link: fc.constantFrom(229, 101, 1, 0, 108) }).map((r) => [onLink(r.p, r.link)]),
  fc.record({ linktype: fc.constantFrom(229, 101), data: fc.uint8Array({ maxLength: 120 }).map((b) => { if (b.length > 0) b[0] = 0x60 | (b[0]! & 0x0f); return b; }) }).map((f) => [f]),
  train,
);

test('IPv6: the engine never throws on hostile frames, and its IPv6 tables stay bounded', async () => {
  // the generators reach the paths that matter (summed over the runs)
  const seen = { reassembled: 0, overlap: 0, duplicate: 0, tooMany: 0, lines: 0 };
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ f: frame, dt: fc.integer({ min: -2, max: 40 }) }), { maxLength: 120 }),
      fc.record({ log_dest: fc.boolean(), verbose: fc.boolean(), scans_only: fc.boolean(), bogus: fc.boolean(), syn_scan: fc.boolean(), promisc: fc.boolean() }),
      async (frames, flags) => {
        const h = new Harness(flags, flags.promisc ? { promiscNets: ['2001:db8:ffff::/48'] } : {});
        let t = 1_700_000_000;
        for (const { f, dt } of frames) {
          t += dt;
          for (const one of f) {
            const buf = Buffer.from(one.data);
            h.engine.onFrame(buf, 0, buf.length, buf.length, t, 0, one.linktype);
          }
        }
        await h.finish();
        assert.ok(h.engine.scans6.size() <= h.engine.scans6.capacity, `${h.engine.scans6.size()} IPv6 pairs`);
        assert.ok(h.engine.frags6.size() <= FRAG6_MAX_DGRAMS);
        assert.equal(h.engine.frags6.size(), 0, 'every IPv6 fragment train drained at the end');
        const c = h.engine.an.counts;
        seen.reassembled += c[A.fragReassembled]!;
        seen.overlap += c[A.fragOverlap]!;
        seen.duplicate += c[A.fragDuplicate]!;
        seen.tooMany += c[A.ip6ExtTooMany]!;
        seen.lines += h.lines().length;
        // every address-looking token in a line is canonical RFC 5952 text
        for (const line of h.lines()) {
          assert.doesNotMatch(line, /[\x00-\x1f\x7f]/, 'a control character in a line');
          for (const m of line.matchAll(/\[?([0-9a-f]*:[0-9a-f:.]*:[0-9a-f.]*)\]?/g)) {
            const a = IpAddr.parse(m[1]!);
            if (a) assert.equal(a.toString(), m[1], `not RFC 5952: ${m[1]} in ${line}`);
          }
        }
      },
    ),
    { numRuns: 300 },
  );
  for (const [k, v] of Object.entries(seen)) assert.ok(v > 0, `no run reached ${k}: the generators need work`);
});

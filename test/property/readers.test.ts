/**
 * Property tests (fast-check) for the capture readers and the link decoder:
 *  - any byte string, and any mutation of a valid capture, read through either path and
 *    any chunk size, either completes or throws a CaptureError — nothing else;
 *  - every delivered frame lies inside the buffer, with a normalised timestamp;
 *  - ipv4Offset never throws and returns -1 or an offset inside the frame;
 *  - a valid capture round-trips through the writer and the reader, whatever the chunking.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { readCaptureStream, readCapture } from '../../src/capture/read';
import { CaptureError } from '../../src/capture/source';
import { Anomalies } from '../../src/decode/anomalies';
import { ipv4Offset } from '../../src/decode/link';
import { Frame, writePcap, writePcapng } from '../helpers/pcap-writer';
import { tempCapture } from '../helpers/capture-collect';

const LINKTYPES = [0, 1, 12, 14, 101, 108, 113, 127, 228, 276];

interface Got {
  sec: number;
  nsec: number;
  data: Buffer;
  wirelen: number;
  linktype: number;
}

/** Read `bytes`; check every frame's bounds and its link decoding; return frames and error. */
async function readChecked(bytes: Uint8Array, chunkSize: number, piece: number, viaFile: boolean): Promise<{ frames: Got[]; error: unknown }> {
  const frames: Got[] = [];
  const an = new Anomalies();
  const onFrame = (buf: Buffer, off: number, caplen: number, wirelen: number, sec: number, nsec: number, lt: number) => {
    assert.ok(Number.isInteger(off) && Number.isInteger(caplen) && off >= 0 && caplen >= 0 && off + caplen <= buf.length);
    assert.ok(Number.isInteger(nsec) && nsec >= 0 && nsec < 1e9, `nsec ${nsec}`);
    assert.ok(Number.isFinite(sec) && Number.isInteger(wirelen));
    for (const t of [lt, ...LINKTYPES]) {
      const r = ipv4Offset(buf, off, caplen, t, an);
      assert.ok(r === -1 || (r >= off && r <= off + caplen), `ipv4Offset ${r} for frame [${off}, ${off + caplen})`);
    }
    frames.push({ sec, nsec, wirelen, linktype: lt, data: Buffer.from(buf.subarray(off, off + caplen)) });
  };
  let error: unknown = null;
  try {
    if (viaFile) {
      await readCapture(tempCapture(bytes), onFrame, an, { chunkSize });
    } else {
      const pieces: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += piece) pieces.push(Buffer.from(bytes.subarray(i, i + piece)));
      await readCaptureStream(Readable.from(pieces), 'prop', onFrame, an, { chunkSize });
    }
  } catch (e) {
    error = e;
  }
  if (error !== null && !(error instanceof CaptureError)) throw error;
  return { frames, error };
}

const frameArb = fc.record({
  ts: fc.integer({ min: 0, max: 0xffffffff }),
  nsec: fc.integer({ min: 0, max: 999999 }).map((us) => us * 1000),
  data: fc.uint8Array({ maxLength: 120 }),
  extra: fc.integer({ min: 0, max: 3000 }),
  iface: fc.nat(2),
  block: fc.constantFrom<'epb' | 'spb' | 'opb'>('epb', 'epb', 'opb', 'spb'),
});

const captureArb = fc
  .record({
    ng: fc.boolean(),
    bigEndian: fc.boolean(),
    nano: fc.boolean(),
    linktypes: fc.array(fc.constantFrom(...LINKTYPES), { minLength: 3, maxLength: 3 }),
    frames: fc.array(frameArb, { maxLength: 12 }),
  })
  .map((c) => {
    const frames: Frame[] = c.frames.map((f) => ({
      ts: f.ts,
      nsec: f.nsec,
      data: f.data,
      // an SPB's caplen is min(origlen, snaplen): with snaplen 0 its data must be whole
      wirelen: f.data.length + (c.ng && f.block === 'spb' ? 0 : f.extra),
      iface: f.iface,
      block: f.block,
    }));
    const bytes = c.ng
      ? writePcapng(frames, {
          bigEndian: c.bigEndian,
          interfaces: c.linktypes.map((linktype, i) => ({ linktype, snaplen: 0, tsresol: [6, 9, 0x80 | 20][i] })),
        })
      : writePcap(frames, { bigEndian: c.bigEndian, nano: c.nano, linktype: c.linktypes[0], snaplen: 0 });
    return { ...c, frames, bytes };
  });

const chunkArb = fc.constantFrom(1, 7, 16, 64, 1000, 1 << 20);
const pieceArb = fc.integer({ min: 1, max: 300 });

test('property: random bytes never throw anything but CaptureError', async () => {
  const magics = [
    [],
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0x34, 0xcd, 0xb2, 0xa1],
    [0x0a, 0x0d, 0x0d, 0x0a],
  ];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...magics), fc.uint8Array({ maxLength: 600 }), chunkArb, pieceArb, fc.boolean(), async (m, rest, chunk, piece, viaFile) => {
      await readChecked(Buffer.concat([Buffer.from(m), rest]), chunk, piece, viaFile);
    }),
    { numRuns: 400 },
  );
});

test('property: pcapng headers with random blocks after them', async () => {
  const shbLe = writePcapng([], { interfaces: [{ linktype: 1 }, { linktype: 101, tsresol: 0x80 | 63 }] });
  const blockArb = fc
    .record({
      type: fc.constantFrom(1, 2, 3, 5, 6, 0x0a0d0d0a, 99),
      len: fc.oneof(fc.integer({ min: 0, max: 80 }), fc.constantFrom(0xffffffff, 0x7ffffffc, 16777220, 400000)),
      body: fc.uint8Array({ maxLength: 80 }),
    })
    .map(({ type, len, body }) => {
      const b = Buffer.alloc(8 + body.length + 4);
      b.writeUInt32LE(type >>> 0, 0);
      b.writeUInt32LE(len >>> 0, 4);
      Buffer.from(body).copy(b, 8);
      b.writeUInt32LE(len >>> 0, 8 + body.length);
      return b;
    });
  await fc.assert(
    fc.asyncProperty(fc.array(blockArb, { maxLength: 6 }), chunkArb, async (blocks, chunk) => {
      await readChecked(Buffer.concat([shbLe, ...blocks]), chunk, 50, false);
    }),
    { numRuns: 300 },
  );
});

test('property: mutated valid captures never throw anything but CaptureError', async () => {
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
    fc.record({
      kind: fc.constant('u32' as const),
      at: fc.nat(),
      v: fc.constantFrom(0, 1, 11, 12, 13, 16, 28, 32, 0x7fffffff, 0xffffffff, 262145, 16777217, 0x1a2b3c4d),
    }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), v: fc.constant(0) }),
  );
  await fc.assert(
    fc.asyncProperty(captureArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), chunkArb, pieceArb, fc.boolean(), async (c, muts, chunk, piece, viaFile) => {
      let b = Buffer.from(c.bytes);
      for (const m of muts) {
        if (b.length === 0) break;
        const at = m.at % b.length;
        if (m.kind === 'byte') b[at] = m.v;
        else if (m.kind === 'u32' && at + 4 <= b.length) b.writeUInt32LE(m.v >>> 0, at);
        else if (m.kind === 'cut') b = b.subarray(0, at);
      }
      await readChecked(b, chunk, piece, viaFile);
    }),
    { numRuns: 400 },
  );
});

test('property: valid captures round-trip through writer and reader at any chunking', async () => {
  await fc.assert(
    fc.asyncProperty(captureArb, chunkArb, pieceArb, fc.boolean(), async (c, chunk, piece, viaFile) => {
      const { frames, error } = await readChecked(c.bytes, chunk, piece, viaFile);
      assert.equal(error, null);
      // pcapng SPBs take interface 0 and the previous timestamp; the writer's ts for them is ignored
      let lastSec = 0;
      let lastNsec = 0;
      const want = c.frames.map((f) => {
        const spb = c.ng && f.block === 'spb';
        const iface = c.ng && !spb ? f.iface! : 0;
        const lt = c.ng ? c.linktypes[iface]! : c.linktypes[0]!;
        let sec = f.ts;
        let nsec = f.nsec!;
        if (c.ng && iface === 2 && !spb) nsec = Math.floor(Math.floor((nsec * 2 ** 20) / 1e9) * (1e9 / 2 ** 20));
        if (spb) {
          sec = lastSec;
          nsec = lastNsec;
        } else {
          lastSec = sec;
          lastNsec = nsec;
        }
        return { sec, nsec, wirelen: f.wirelen!, linktype: lt, data: Buffer.from(f.data) };
      });
      assert.deepEqual(frames, want);
    }),
    { numRuns: 300 },
  );
});

test('property: ipv4Offset on random frames stays inside the frame and never throws', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(20), fc.nat(80), fc.oneof(fc.constantFrom(...LINKTYPES), fc.integer()), (bytes, off0, cap0, lt) => {
      const buf = Buffer.from(bytes);
      const off = Math.min(off0, buf.length);
      const caplen = Math.min(cap0, buf.length - off);
      const an = new Anomalies();
      const r = ipv4Offset(buf, off, caplen, lt, an);
      if (r === -1) {
        assert.equal(an.nonZero().reduce((s, [, n]) => s + n, 0), 1);
      } else {
        assert.ok(r >= off && r <= off + caplen);
        assert.deepEqual(an.nonZero(), []);
      }
    }),
    { numRuns: 5000 },
  );
});

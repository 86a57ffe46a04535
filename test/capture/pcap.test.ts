/** Classic pcap reading on synthetic files from test/helpers/pcap-writer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writePcap, Frame, ethernetFrame } from '../helpers/pcap-writer';
import { collectBytes, collectStream } from '../helpers/capture-collect';

function frames(n: number, size = 60): Frame[] {
  const out: Frame[] = [];
  for (let i = 0; i < n; i++) {
    const data = Buffer.alloc(size + (i % 7));
    data.writeUInt32BE(i, 0);
    out.push({ ts: 1700000000 + i, nsec: (i * 7919123) % 1e9, data, wirelen: data.length + (i % 3) });
  }
  return out;
}

for (const bigEndian of [false, true]) {
  for (const nano of [false, true]) {
    test(`pcap ${bigEndian ? 'BE' : 'LE'} ${nano ? 'ns' : 'µs'}: frames, lengths, timestamps`, async () => {
      const fs = frames(50);
      const r = await collectBytes(writePcap(fs, { bigEndian, nano, linktype: 113 }));
      assert.equal(r.error, null);
      assert.deepEqual(r.summary, {
        frames: 50,
        bytes: fs.reduce((s, f) => s + f.data.length, 0),
        format: 'pcap',
        maxBufferBytes: 1024 * 1024,
      });
      r.frames.forEach((got, i) => {
        const f = fs[i]!;
        assert.deepEqual(got.data, Buffer.from(f.data));
        assert.equal(got.caplen, f.data.length);
        assert.equal(got.wirelen, f.wirelen);
        assert.equal(got.linktype, 113);
        assert.equal(got.sec, 1700000000 + i);
        const want = nano ? f.nsec! : Math.floor(f.nsec! / 1000) * 1000;
        assert.equal(got.nsec, want);
      });
      assert.deepEqual(r.anomalies.nonZero(), []);
    });
  }
}

test('pcap: float ts in the writer rounds to the microsecond', async () => {
  const r = await collectBytes(writePcap([{ ts: 1700000000.05, data: Buffer.alloc(20) }]));
  assert.equal(r.frames[0]!.sec, 1700000000);
  assert.equal(r.frames[0]!.nsec, 50000000);
});

test('pcap: any chunk size and any stream piece size give the same frames', async () => {
  const bytes = writePcap(frames(40, 100));
  const want = (await collectBytes(bytes)).frames;
  for (const chunkSize of [1, 16, 17, 64, 115, 116, 117, 4096]) {
    const r = await collectBytes(bytes, { chunkSize });
    assert.equal(r.error, null, `chunk ${chunkSize}`);
    assert.deepEqual(r.frames, want, `chunk ${chunkSize}`);
  }
  for (const piece of [1, 3, 24, 25, 1000]) {
    const r = await collectStream(bytes, piece, { chunkSize: 256 });
    assert.equal(r.error, null, `piece ${piece}`);
    assert.deepEqual(r.frames, want, `piece ${piece}`);
  }
});

test('pcap: between() is awaited between chunks, and frames wait for it', async () => {
  const bytes = writePcap(frames(100, 60));
  const log: string[] = [];
  let n = 0;
  const { readCapture } = await import('../../src/capture/read');
  const { Anomalies } = await import('../../src/decode/anomalies');
  const { tempCapture } = await import('../helpers/capture-collect');
  await readCapture(tempCapture(bytes), () => void n++, new Anomalies(), {
    chunkSize: 1000,
    between: async () => {
      log.push(`b${n}`);
      await new Promise((r) => setImmediate(r));
    },
  });
  assert.equal(n, 100);
  assert.ok(log.length >= 6, `between called ${log.length} times`);
  // frame counts seen at each call only grow
  const seen = log.map((s) => Number(s.slice(1)));
  assert.deepEqual([...seen].sort((a, b) => a - b), seen);
});

test('pcap: caplen > snaplen and caplen > wirelen are delivered and counted', async () => {
  const data = Buffer.alloc(100);
  const r = await collectBytes(
    writePcap(
      [
        { ts: 1, data, wirelen: 100 }, // fine
        { ts: 2, data, wirelen: 60 }, // caplen > len
        { ts: 3, data: Buffer.alloc(64), wirelen: 1500 }, // snapped: fine
      ],
      { snaplen: 80 },
    ),
  );
  assert.equal(r.error, null);
  assert.equal(r.frames.length, 3);
  assert.equal(r.anomalies.get('capture.caplen_exceeds_snaplen'), 2);
  assert.equal(r.anomalies.get('capture.caplen_exceeds_len'), 1);
});

test('pcap: snaplen 0 in the header means no limit', async () => {
  const r = await collectBytes(writePcap([{ ts: 1, data: Buffer.alloc(100) }], { snaplen: 0 }));
  assert.equal(r.anomalies.get('capture.caplen_exceeds_snaplen'), 0);
});

test('pcap: linktype upper bits (FCS information) are ignored', async () => {
  const bytes = writePcap([{ ts: 1, data: Buffer.alloc(20) }]);
  bytes.writeUInt32LE(0x14000001, 20); // FCS len 1, F bit, link type 1
  const r = await collectBytes(bytes);
  assert.equal(r.frames[0]!.linktype, 1);
});

test('pcap: a usec of a million or more is carried into the seconds', async () => {
  const bytes = writePcap([{ ts: 10, data: Buffer.alloc(4) }]);
  bytes.writeUInt32LE(2500000, 24 + 4);
  const r = await collectBytes(bytes);
  assert.equal(r.frames[0]!.sec, 12);
  assert.equal(r.frames[0]!.nsec, 500000000);
});

test('pcap: modified (Kuznetzov) format with 24-byte record headers', async () => {
  // magic a1b2cd34; each record header has 8 extra bytes (ifindex, protocol, pkt_type, pad)
  for (const be of [false, true]) {
    const hdr = Buffer.alloc(24);
    const w32 = (b: Buffer, v: number, o: number) => (be ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o));
    const w16 = (b: Buffer, v: number, o: number) => (be ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o));
    w32(hdr, 0xa1b2cd34, 0);
    w16(hdr, 2, 4);
    w16(hdr, 4, 6);
    w32(hdr, 65535, 16);
    w32(hdr, 1, 20);
    const recs: Buffer[] = [hdr];
    for (let i = 0; i < 3; i++) {
      const rh = Buffer.alloc(24);
      w32(rh, 100 + i, 0);
      w32(rh, 250000, 4);
      w32(rh, 30, 8);
      w32(rh, 30, 12);
      recs.push(rh, Buffer.alloc(30, i + 1));
    }
    const r = await collectBytes(Buffer.concat(recs));
    assert.equal(r.error, null);
    assert.deepEqual(
      r.frames.map((f) => [f.sec, f.nsec, f.caplen, f.data[0]]),
      [
        [100, 250000000, 30, 1],
        [101, 250000000, 30, 2],
        [102, 250000000, 30, 3],
      ],
    );
  }
});

test('pcap: a record above MAX_CAPLEN but below the claim limit is skipped and counted', async () => {
  const big = Buffer.alloc(300000, 0xee);
  const small = ethernetFrame(Buffer.alloc(20));
  const bytes = writePcap([
    { ts: 1, data: small },
    { ts: 2, data: big },
    { ts: 3, data: small },
  ]);
  for (const chunkSize of [undefined, 4096]) {
    const r = await collectBytes(bytes, { chunkSize });
    assert.equal(r.error, null);
    assert.deepEqual(r.frames.map((f) => f.sec), [1, 3]);
    assert.equal(r.anomalies.get('capture.packet_too_large'), 1);
    if (chunkSize) assert.ok(r.summary!.maxBufferBytes <= 4096 + 0, `buffer ${r.summary!.maxBufferBytes}`);
  }
  const s = await collectStream(bytes, 1000, { chunkSize: 512 });
  assert.deepEqual(s.frames.map((f) => f.sec), [1, 3]);
});

test('pcap: zero frames is fine', async () => {
  const r = await collectBytes(writePcap([]));
  assert.equal(r.error, null);
  assert.equal(r.summary!.frames, 0);
});

test('pcap: strictLinktype and onLinktype at header time', async () => {
  const seen: [number, number][] = [];
  const ok = await collectBytes(writePcap([{ ts: 1, data: Buffer.alloc(4) }], { linktype: 276 }), {
    strictLinktype: true,
    onLinktype: (lt, i) => seen.push([lt, i]),
  });
  assert.equal(ok.error, null);
  assert.deepEqual(seen, [[276, 0]]);
  const bad = await collectBytes(writePcap([{ ts: 1, data: Buffer.alloc(4) }], { linktype: 127 }), { strictLinktype: true });
  assert.equal(bad.frames.length, 0);
  assert.equal((bad.error as { code: string }).code, 'IPLOG_ERR_CAPTURE_LINKTYPE');
  assert.match((bad.error as Error).message, /^iplog: .*capture-\d+\.pcap: unsupported link type 127 \(IEEE802_11_RADIOTAP\)$/);
  // not strict: frames are delivered, the link decoder will count them
  const lax = await collectBytes(writePcap([{ ts: 1, data: Buffer.alloc(4) }], { linktype: 127 }));
  assert.equal(lax.frames.length, 1);
});

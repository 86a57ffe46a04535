/** pcapng reading on synthetic files from test/helpers/pcap-writer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Frame, pcapngBlock, pcapngInterface, pcapngSectionHeader, writePcapng } from '../helpers/pcap-writer';
import { collectBytes, collectStream } from '../helpers/capture-collect';

const d = (n: number, fill = 0xab) => Buffer.alloc(n, fill);

for (const bigEndian of [false, true]) {
  test(`pcapng ${bigEndian ? 'BE' : 'LE'}: interfaces with their own link type and resolution`, async () => {
    const interfaces = [
      { linktype: 1 }, // default 10^-6
      { linktype: 101, tsresol: 9 }, // ns
      { linktype: 113, tsresol: 3 }, // ms
      { linktype: 276, tsresol: 0x80 | 20, snaplen: 0 }, // 2^-20
      { linktype: 0, tsresol: 0 }, // seconds
      { linktype: 228, tsresol: 12, tsoffset: 1700000000 }, // ps (2^64 ps is 213 days: needs the offset)
      { linktype: 108, tsresol: 0x80 | 10 }, // 2^-10
    ];
    const frames: Frame[] = [
      { ts: 1700000000, nsec: 123456000, data: d(60), iface: 0 },
      { ts: 1700000001, nsec: 123456789, data: d(40), iface: 1 },
      { ts: 1700000002, nsec: 5000000, data: d(44), iface: 2 },
      { ts: 1700000003, nsec: 500000000, data: d(41), iface: 3 }, // exactly representable in 2^-20
      { ts: 1700000004, nsec: 0, data: d(42), iface: 4 },
      { ts: 1700000005, nsec: 999999999, data: d(43), iface: 5 },
      { ts: 1700000006, nsec: 250000000, data: d(45), iface: 6 },
      { ts: 1700000007, nsec: 1000, data: d(46), iface: 1, block: 'opb' },
    ];
    const r = await collectBytes(writePcapng(frames, { bigEndian, interfaces }));
    assert.equal(r.error, null);
    assert.equal(r.summary!.format, 'pcapng');
    assert.deepEqual(
      r.frames.map((f) => [f.linktype, f.sec, f.nsec, f.caplen]),
      [
        [1, 1700000000, 123456000, 60],
        [101, 1700000001, 123456789, 40],
        [113, 1700000002, 5000000, 44],
        [276, 1700000003, 500000000, 41],
        [0, 1700000004, 0, 42],
        [228, 1700000005, 999999999, 43],
        [108, 1700000006, 250000000, 45],
        [101, 1700000007, 1000, 46],
      ],
    );
  });
}

test('pcapng: binary resolution rounds down to the nanosecond', async () => {
  // 2^-30 s ticks: 1 tick = 0.931 ns; the writer floors ns→ticks, the reader floors ticks→ns
  const r = await collectBytes(
    writePcapng([{ ts: 5, nsec: 123456789, data: d(10) }], { interfaces: [{ tsresol: 0x80 | 30 }] }),
  );
  const got = r.frames[0]!.nsec;
  assert.equal(r.frames[0]!.sec, 5);
  assert.ok(got <= 123456789 && got >= 123456787, String(got));
});

test('pcapng: nanosecond timestamps far beyond 2^53 ticks stay exact', async () => {
  // 4102444800 s (2100-01-01) in ns is 4.1e18 ticks
  const r = await collectBytes(
    writePcapng([{ ts: 4102444800, nsec: 987654321, data: d(10) }], { interfaces: [{ tsresol: 9 }] }),
  );
  assert.deepEqual([r.frames[0]!.sec, r.frames[0]!.nsec], [4102444800, 987654321]);
  // femtoseconds (10^-15; 2^64 fs is 5.1 hours): two-stage division
  const f = await collectBytes(
    writePcapng([{ ts: 18000, nsec: 987654321, data: d(10) }], { interfaces: [{ tsresol: 15 }] }),
  );
  assert.deepEqual([f.frames[0]!.sec, f.frames[0]!.nsec], [18000, 987654321]);
});

test('pcapng: if_tsoffset is added to every timestamp', async () => {
  const r = await collectBytes(
    writePcapng([{ ts: 1700000100, nsec: 1000, data: d(10) }], { interfaces: [{ tsoffset: 1700000000 }] }),
  );
  assert.deepEqual([r.frames[0]!.sec, r.frames[0]!.nsec], [1700000100, 1000]);
  for (const bigEndian of [false, true]) {
    const neg = await collectBytes(
      writePcapng([{ ts: 100, nsec: 0, data: d(10) }], { bigEndian, interfaces: [{ tsoffset: -5 }] }),
    );
    assert.equal(neg.frames[0]!.sec, 100);
  }
});

test('pcapng: simple packet blocks use interface 0 and the last timestamp seen', async () => {
  const frames: Frame[] = [
    { ts: 0, data: d(30), block: 'spb' }, // before any timestamp: 0
    { ts: 1700000000, nsec: 7000, data: d(30), iface: 1 },
    { ts: 0, data: d(33), wirelen: 1500, block: 'spb' }, // snapped by IDB 0's snaplen
  ];
  const r = await collectBytes(
    writePcapng(frames, { interfaces: [{ linktype: 1, snaplen: 32 }, { linktype: 101 }] }),
  );
  assert.equal(r.error, null);
  assert.deepEqual(
    r.frames.map((f) => [f.linktype, f.sec, f.nsec, f.caplen, f.wirelen]),
    [
      [1, 0, 0, 30, 30],
      [101, 1700000000, 7000, 30, 30],
      [1, 1700000000, 7000, 32, 1500],
    ],
  );
  // the SPB padding is not data: wirelen 30 in a 32-byte padded body gives 30 bytes
  assert.equal(r.frames[0]!.data.length, 30);
});

test('pcapng: unknown, NRB, ISB and custom blocks are skipped', async () => {
  const parts = [
    pcapngSectionHeader(),
    pcapngBlock(4, d(16)), // NRB
    pcapngInterface({ linktype: 1 }),
    pcapngBlock(0x40000bad, d(100)), // custom
    pcapngBlock(5, d(20)), // ISB
    writePcapng([{ ts: 9, data: d(20) }]).subarray(pcapngSectionHeader().length + pcapngInterface({}).length),
    pcapngBlock(0x12345678, Buffer.alloc(0)), // empty unknown block of 12 bytes
  ];
  const r = await collectBytes(Buffer.concat(parts));
  assert.equal(r.error, null);
  assert.deepEqual(r.frames.map((f) => f.sec), [9]);
});

test('pcapng: a new section (other byte order) resets the interfaces', async () => {
  const a = writePcapng([{ ts: 1, data: d(10), iface: 1 }], { interfaces: [{ linktype: 1 }, { linktype: 113 }] });
  const b = writePcapng([{ ts: 2, nsec: 5, data: d(11) }], { bigEndian: true, interfaces: [{ linktype: 101, tsresol: 9 }] });
  const r = await collectBytes(Buffer.concat([a, b]));
  assert.equal(r.error, null);
  assert.deepEqual(
    r.frames.map((f) => [f.linktype, f.sec, f.nsec]),
    [
      [113, 1, 0],
      [101, 2, 5],
    ],
  );
  // ...so interface 1 of the first section is unknown in the second
  const c = writePcapng([{ ts: 3, data: d(10), iface: 1 }], { interfaces: [{ linktype: 1 }, { linktype: 1 }] });
  const only = writePcapng([], { interfaces: [{ linktype: 1 }] });
  const epb = c.subarray(pcapngSectionHeader().length + 2 * pcapngInterface({}).length);
  const bad = await collectBytes(Buffer.concat([c, only, epb]));
  assert.equal(bad.frames.length, 1);
  assert.equal((bad.error as { code: string }).code, 'IPLOG_ERR_CAPTURE_PCAPNG_BLOCK');
  assert.match((bad.error as Error).message, /packet on interface 1, but the section describes 1 interface/);
});

test('pcapng: caplen anomalies use the interface snaplen (0 = no limit)', async () => {
  const r = await collectBytes(
    writePcapng(
      [
        { ts: 1, data: d(100), iface: 0 },
        { ts: 2, data: d(100), iface: 1 },
        { ts: 3, data: d(100), wirelen: 50, iface: 1 },
      ],
      { interfaces: [{ snaplen: 64 }, { snaplen: 0 }] },
    ),
  );
  assert.equal(r.frames.length, 3);
  assert.equal(r.anomalies.get('capture.caplen_exceeds_snaplen'), 1);
  assert.equal(r.anomalies.get('capture.caplen_exceeds_len'), 1);
});

test('pcapng: any chunk size and stream piece size give the same frames', async () => {
  const frames: Frame[] = [];
  for (let i = 0; i < 30; i++) {
    frames.push({ ts: 100 + i, nsec: i * 1000, data: d(50 + i, i), iface: i % 2, block: i % 5 === 0 ? 'opb' : 'epb' });
  }
  const bytes = writePcapng(frames, { interfaces: [{ linktype: 1 }, { linktype: 101, tsresol: 9 }] });
  const want = (await collectBytes(bytes)).frames;
  assert.equal(want.length, 30);
  for (const chunkSize of [1, 12, 13, 100, 4096]) {
    assert.deepEqual((await collectBytes(bytes, { chunkSize })).frames, want, `chunk ${chunkSize}`);
  }
  for (const piece of [1, 7, 500]) {
    assert.deepEqual((await collectStream(bytes, piece, { chunkSize: 64 })).frames, want, `piece ${piece}`);
  }
});

test('pcapng: a packet block larger than the buffer bound is skipped and counted', async () => {
  const bytes = writePcapng([
    { ts: 1, data: d(20) },
    { ts: 2, data: d(400000) },
    { ts: 3, data: d(20) },
  ]);
  for (const chunkSize of [undefined, 1000]) {
    const r = await collectBytes(bytes, { chunkSize });
    assert.equal(r.error, null);
    assert.deepEqual(r.frames.map((f) => f.sec), [1, 3]);
    assert.equal(r.anomalies.get('capture.packet_too_large'), 1);
  }
  // in the buffer but above MAX_CAPLEN (262144): also skipped and counted
  const mid = await collectBytes(writePcapng([{ ts: 1, data: d(270000) }, { ts: 2, data: d(1) }]));
  assert.deepEqual(mid.frames.map((f) => f.sec), [2]);
  assert.equal(mid.anomalies.get('capture.packet_too_large'), 1);
});

test('pcapng: strictLinktype fails at IDB time, naming the interface', async () => {
  const bytes = writePcapng([{ ts: 1, data: d(10) }], { interfaces: [{ linktype: 1 }, { linktype: 127 }] });
  const seen: number[] = [];
  const r = await collectBytes(bytes, { strictLinktype: true, onLinktype: (lt) => seen.push(lt) });
  assert.deepEqual(seen, [1]);
  assert.equal(r.frames.length, 0);
  assert.equal((r.error as { code: string }).code, 'IPLOG_ERR_CAPTURE_LINKTYPE');
  assert.match((r.error as Error).message, /unsupported link type 127 \(IEEE802_11_RADIOTAP\) on interface 1$/);
});

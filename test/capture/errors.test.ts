/**
 * Every reader error path: a CaptureError with a stable code and a one-line message
 * naming the file (and the offset where it helps), after every complete frame before it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CaptureError } from '../../src/capture/source';
import { Frame, pcapngBlock, pcapngInterface, pcapngSectionHeader, writePcap, writePcapng } from '../helpers/pcap-writer';
import { Collected, collectBytes, collectFile, collectStream, tempCapture } from '../helpers/capture-collect';

function expectError(r: Collected, code: string, message: RegExp): CaptureError {
  assert.ok(r.error instanceof CaptureError, `expected a CaptureError, got ${String(r.error)}`);
  assert.equal(r.error.code, code);
  assert.match(r.error.message, message);
  assert.ok(!r.error.message.includes('\n'), 'one line');
  assert.ok(r.error.message.startsWith('iplog: '));
  return r.error;
}

const frames = (n: number): Frame[] =>
  Array.from({ length: n }, (_, i) => ({ ts: 1000 + i, data: Buffer.alloc(40 + i, i) }));

test('open: a missing file names the file and says why', async () => {
  const r = await collectFile('/nonexistent/dir/x.pcap');
  expectError(r, 'IPLOG_ERR_CAPTURE_OPEN', /^iplog: \/nonexistent\/dir\/x\.pcap: cannot open: No such file or directory$/);
});

test('open: a directory', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iplog-dir-'));
  try {
    expectError(await collectFile(dir), 'IPLOG_ERR_CAPTURE_OPEN', /: cannot open: Is a directory$/);
  } finally {
    fs.rmdirSync(dir);
  }
});

test('empty file', async () => {
  const p = tempCapture(Buffer.alloc(0), 'empty.pcap');
  expectError(await collectFile(p), 'IPLOG_ERR_CAPTURE_EMPTY', /^iplog: .*empty\.pcap: empty file$/);
  expectError(await collectStream(Buffer.alloc(0)), 'IPLOG_ERR_CAPTURE_EMPTY', /^iplog: stdin: empty file$/);
});

test('not a capture: short, text, gzip', async () => {
  expectError(await collectBytes(Buffer.from([0xd4, 0xc3])), 'IPLOG_ERR_CAPTURE_MAGIC', /not a pcap or pcapng file \(only 2 bytes\)$/);
  expectError(await collectBytes(Buffer.from('hello world\n')), 'IPLOG_ERR_CAPTURE_MAGIC', /: not a pcap or pcapng file \(magic 0x68656c6c\)$/);
  expectError(
    await collectBytes(Buffer.from([0x12, 0x34, 0x56, 0x78])),
    'IPLOG_ERR_CAPTURE_MAGIC',
    /: not a pcap or pcapng file \(magic 0x12345678\)$/,
  );
  expectError(
    await collectBytes(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0])),
    'IPLOG_ERR_CAPTURE_MAGIC',
    /magic 0x1f8b0800; it looks gzip-compressed\)$/,
  );
});

test('pcap: truncated file header', async () => {
  const r = await collectBytes(writePcap([]).subarray(0, 10));
  expectError(r, 'IPLOG_ERR_CAPTURE_TRUNCATED', /: truncated pcap file header \(file ends after 10 of 24 bytes\)$/);
});

test('pcap: unsupported version', async () => {
  const r = await collectBytes(writePcap(frames(1), { version: [3, 1] }));
  expectError(r, 'IPLOG_ERR_CAPTURE_VERSION', /: unsupported pcap version 3\.1$/);
});

test('pcap: cut in the middle: complete frames first, then the error with the offset', async () => {
  const whole = writePcap(frames(5), { bigEndian: true });
  // record k starts at 24 + sum(16 + 40 + i, i < k)
  const starts = [24];
  for (let i = 0; i < 5; i++) starts.push(starts[i]! + 16 + 40 + i);
  for (const cut of [starts[3]! + 5, starts[3]! + 16, starts[3]! + 30, starts[4]! - 1]) {
    for (const chunkSize of [undefined, 16, 100]) {
      const r = await collectBytes(whole.subarray(0, cut), { chunkSize });
      assert.deepEqual(r.frames.map((f) => f.sec), [1000, 1001, 1002], `cut ${cut} chunk ${chunkSize}`);
      expectError(r, 'IPLOG_ERR_CAPTURE_TRUNCATED', new RegExp(`: truncated record at offset ${starts[3]} \\(file ends inside it\\)$`));
    }
    const s = await collectStream(whole.subarray(0, cut), 7);
    assert.equal(s.frames.length, 3);
    expectError(s, 'IPLOG_ERR_CAPTURE_TRUNCATED', new RegExp(`^iplog: stdin: truncated record at offset ${starts[3]} `));
  }
  // a cut exactly at a record boundary is a complete file
  const ok = await collectBytes(whole.subarray(0, starts[3]!));
  assert.equal(ok.error, null);
  assert.equal(ok.frames.length, 3);
});

test('pcap: a record claiming gigabytes is an error, not an allocation', async () => {
  const bytes = writePcap(frames(3));
  const at = 24 + (16 + 40) + (16 + 41); // third record
  bytes.writeUInt32LE(3000000000, at + 8);
  const r = await collectBytes(bytes);
  assert.equal(r.frames.length, 2);
  expectError(r, 'IPLOG_ERR_CAPTURE_RECORD_SIZE', new RegExp(`: record at offset ${at} claims 3000000000 bytes \\(limit 16777216\\)$`));
});

test('pcap: a too-large record cut by the end of the file', async () => {
  const bytes = writePcap([{ ts: 1, data: Buffer.alloc(10) }, { ts: 2, data: Buffer.alloc(300000) }]);
  const r = await collectBytes(bytes.subarray(0, 200000), { chunkSize: 4096 });
  assert.equal(r.frames.length, 1);
  expectError(r, 'IPLOG_ERR_CAPTURE_TRUNCATED', /: truncated record at offset 50 \(file ends inside it\)$/);
});

// ---- pcapng ----

const SHB = pcapngSectionHeader();
const IDB = pcapngInterface({ linktype: 1 });
const HEAD = SHB.length + IDB.length;

function epbFile(n: number, bigEndian = false): Buffer {
  return writePcapng(frames(n), { bigEndian });
}

test('pcapng: cut in the middle of a block', async () => {
  const whole = epbFile(4);
  const epbLen = (i: number) => 32 + ((40 + i + 3) & ~3);
  const third = HEAD + epbLen(0) + epbLen(1);
  for (const cut of [third + 3, third + 12, third + epbLen(2) - 1]) {
    const r = await collectBytes(whole.subarray(0, cut), { chunkSize: 50 });
    assert.deepEqual(r.frames.map((f) => f.sec), [1000, 1001]);
    expectError(r, 'IPLOG_ERR_CAPTURE_TRUNCATED', new RegExp(`: truncated block at offset ${third} \\(file ends inside it\\)$`));
  }
  // inside the SHB itself
  expectError(await collectBytes(whole.subarray(0, 20)), 'IPLOG_ERR_CAPTURE_TRUNCATED', /truncated block at offset 0 /);
});

test('pcapng: block total length not a multiple of 4, less than 12, trailer mismatch', async () => {
  for (const be of [false, true]) {
    const w = (b: Buffer, v: number, o: number) => (be ? b.writeUInt32BE(v, o) : b.writeUInt32LE(v, o));
    const base = epbFile(2, be);
    const second = HEAD + 32 + 40; // first EPB: 32 + 40 bytes
    let b = Buffer.from(base);
    w(b, 74, second + 4);
    let r = await collectBytes(b);
    assert.equal(r.frames.length, 1);
    expectError(r, 'IPLOG_ERR_CAPTURE_PCAPNG_BLOCK', new RegExp(`: broken pcapng block at offset ${second}: total length 74 is not a multiple of 4$`));
    b = Buffer.from(base);
    w(b, 8, second + 4);
    r = await collectBytes(b);
    expectError(r, 'IPLOG_ERR_CAPTURE_PCAPNG_BLOCK', new RegExp(`at offset ${second}: total length 8 is less than 12$`));
    b = Buffer.from(base);
    w(b, 80, b.length - 4); // last block's trailer (its total length is 76)
    r = await collectBytes(b);
    assert.equal(r.frames.length, 1);
    expectError(r, 'IPLOG_ERR_CAPTURE_PCAPNG_BLOCK', new RegExp(`at offset ${second}: trailing length 80 does not match total length 76$`));
  }
});

test('pcapng: a block claiming gigabytes', async () => {
  const b = epbFile(2);
  const second = HEAD + 72;
  b.writeUInt32LE(0xfffffff0, second + 4);
  const r = await collectBytes(b);
  assert.equal(r.frames.length, 1);
  expectError(r, 'IPLOG_ERR_CAPTURE_RECORD_SIZE', new RegExp(`: block at offset ${second} claims 4294967280 bytes \\(limit 16777216\\)$`));
});

test('pcapng: bad byte-order magic and unsupported version', async () => {
  const b = epbFile(1);
  b.writeUInt32LE(0x11223344, 8);
  expectError(await collectBytes(b), 'IPLOG_ERR_CAPTURE_PCAPNG_BLOCK', /at offset 0: bad byte-order magic 0x44332211 in section header$/);
  const v = epbFile(1);
  v.writeUInt16LE(2, 12);
  expectError(await collectBytes(v), 'IPLOG_ERR_CAPTURE_VERSION', /: unsupported pcapng version 2\.0 in section at offset 0$/);
  // a second section that is broken, after a good one
  const two = Buffer.concat([epbFile(1), b]);
  const r = await collectBytes(two);
  assert.equal(r.frames.length, 1);
  expectError(r, 'IPLOG_ERR_CAPTURE_PCAPNG_BLOCK', new RegExp(`at offset ${epbFile(1).length}: bad byte-order magic`));
});

test('pcapng: blocks too short for their type', async () => {
  const cases: [number, number, RegExp][] = [
    [0x0a0d0d0a, 12, /section header block of 24 bytes is shorter than 28$/],
    [1, 4, /interface description block of 16 bytes is shorter than 20$/],
    [6, 16, /packet block of 28 bytes is shorter than 32$/],
    [2, 8, /packet block of 20 bytes is shorter than 32$/],
    [3, 0, /simple packet block of 12 bytes is shorter than 16$/],
  ];
  for (const [type, bodyLen, msg] of cases) {
    const body = Buffer.alloc(bodyLen);
    if (type === 0x0a0d0d0a) body.writeUInt32LE(0x1a2b3c4d, 0);
    const b = Buffer.concat([SHB, IDB, pcapngBlock(type, body)]);
    expectError(await collectBytes(b), 'IPLOG_ERR_CAPTURE_PCAPNG_BLOCK', new RegExp(`at offset ${HEAD}: ${msg.source}`));
  }
});

test('pcapng: packet data overrunning its block', async () => {
  const b = epbFile(1);
  b.writeUInt32LE(41, HEAD + 20); // caplen 41 in a block with room for 40
  expectError(await collectBytes(b), 'IPLOG_ERR_CAPTURE_PCAPNG_BLOCK', /captured length 41 overruns the block of 72 bytes$/);
  b.writeUInt32LE(0xffffffff, HEAD + 20);
  expectError(await collectBytes(b), 'IPLOG_ERR_CAPTURE_PCAPNG_BLOCK', /captured length 4294967295 overruns/);
});

test('pcapng: packets without interfaces', async () => {
  const spb = pcapngBlock(3, Buffer.from([10, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
  expectError(
    await collectBytes(Buffer.concat([SHB, spb])),
    'IPLOG_ERR_CAPTURE_PCAPNG_BLOCK',
    /simple packet block, but the section describes no interface$/,
  );
  const epb = epbFile(1).subarray(HEAD);
  expectError(
    await collectBytes(Buffer.concat([SHB, epb])),
    'IPLOG_ERR_CAPTURE_PCAPNG_BLOCK',
    /packet on interface 0, but the section describes 0 interface\(s\)$/,
  );
});

test('pcapng: broken interface options', async () => {
  const idb = (opts: number[]) => {
    const body = Buffer.alloc(8 + opts.length);
    body.writeUInt16LE(1, 0);
    body.writeUInt32LE(65535, 4);
    Buffer.from(opts).copy(body, 8);
    return pcapngBlock(1, body);
  };
  const cases: [number[], RegExp][] = [
    [[9, 0, 2, 0, 6, 6, 0, 0], /if_tsresol option has length 2, expected 1$/],
    [[9, 0, 1, 0, 19, 0, 0, 0], /if_tsresol 10\^-19 is not supported$/],
    [[14, 0, 4, 0, 1, 2, 3, 4], /if_tsoffset option has length 4, expected 8$/],
    [[2, 0, 200, 0, 65, 66, 67, 68], /option 2 at offset \d+ overruns the block$/],
  ];
  for (const [opts, msg] of cases) {
    expectError(await collectBytes(Buffer.concat([SHB, idb(opts)])), 'IPLOG_ERR_CAPTURE_PCAPNG_BLOCK', msg);
  }
  // a comment option, then end-of-options, then junk after it: fine
  const ok = await collectBytes(Buffer.concat([SHB, idb([1, 0, 3, 0, 104, 105, 33, 0, 0, 0, 0, 0, 9, 9, 9, 9])]));
  assert.equal(ok.error, null);
});

test('pcapng: interface description block above the buffer bound', async () => {
  const body = Buffer.alloc(400000);
  body.writeUInt16LE(1, 0);
  const r = await collectBytes(Buffer.concat([SHB, pcapngBlock(1, body)]));
  expectError(r, 'IPLOG_ERR_CAPTURE_PCAPNG_BLOCK', /interface description block of 400012 bytes exceeds the limit of 327680$/);
});

test('errors are CaptureError whatever the chunk size (stream and file)', async () => {
  const b = epbFile(3);
  b.writeUInt32LE(13, HEAD + 72 + 4);
  for (const chunkSize of [1, 5, 64]) {
    expectError(await collectBytes(b, { chunkSize }), 'IPLOG_ERR_CAPTURE_PCAPNG_BLOCK', /not a multiple of 4/);
    expectError(await collectStream(b, 3, { chunkSize }), 'IPLOG_ERR_CAPTURE_PCAPNG_BLOCK', /^iplog: stdin: broken pcapng block/);
  }
});

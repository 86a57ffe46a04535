/**
 * `-` reads standard input (checked in a child process), and the reader's memory is
 * bounded by its chunk size and MAX_BUFFER, not by the file: a file of many records read
 * with 4 KiB chunks never makes the reader hold a larger buffer than one record needs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { MAX_BUFFER } from '../../src/capture/read';
import { Frame, writePcap, writePcapng } from '../helpers/pcap-writer';
import { collectBytes } from '../helpers/capture-collect';

const READ_JS = path.resolve(__dirname, '../../src/capture/read.js');
const ANOM_JS = path.resolve(__dirname, '../../src/decode/anomalies.js');

function runStdin(input: Buffer): { status: number | null; stdout: string; stderr: string } {
  const script = `
    const { readCapture } = require(${JSON.stringify(READ_JS)});
    const { Anomalies } = require(${JSON.stringify(ANOM_JS)});
    let n = 0, last = '';
    readCapture('-', (b, o, c, w, s, ns) => { n++; last = s + '.' + ns; }, new Anomalies(), { chunkSize: 100 })
      .then((r) => { console.log(r.format, r.frames, n, last); })
      .catch((e) => { console.log('frames', n); console.error(e.code + ' ' + e.message); process.exitCode = 2; });
  `;
  const r = spawnSync(process.execPath, ['-e', script], { input, encoding: 'utf8', timeout: 20000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const frames = (n: number, size: number): Frame[] =>
  Array.from({ length: n }, (_, i) => ({ ts: 500 + i, nsec: 1000 * i, data: Buffer.alloc(size, i & 0xff) }));

test('stdin: pcap and pcapng through `-`', () => {
  const a = runStdin(writePcap(frames(20, 70)));
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.stdout.trim(), 'pcap 20 20 519.19000');
  const b = runStdin(writePcapng(frames(20, 70), { bigEndian: true }));
  assert.equal(b.status, 0, b.stderr);
  assert.equal(b.stdout.trim(), 'pcapng 20 20 519.19000');
});

test('stdin: a truncated capture names stdin and the offset, after the complete frames', () => {
  const whole = writePcap(frames(3, 70));
  const r = runStdin(whole.subarray(0, whole.length - 1));
  assert.equal(r.status, 2);
  assert.equal(r.stdout.trim(), 'frames 2');
  assert.equal(r.stderr.trim(), `IPLOG_ERR_CAPTURE_TRUNCATED iplog: stdin: truncated record at offset ${24 + 2 * 86} (file ends inside it)`);
  const e = runStdin(Buffer.alloc(0));
  assert.equal(e.stderr.trim(), 'IPLOG_ERR_CAPTURE_EMPTY iplog: stdin: empty file');
});

test('memory: 4 KiB chunks over many records keep the buffer at the chunk size', async () => {
  const many = frames(20000, 1500); // 30 MB
  for (const bytes of [writePcap(many), writePcapng(many)]) {
    const r = await collectBytes(bytes, { chunkSize: 4096 });
    assert.equal(r.error, null);
    assert.equal(r.frames.length, 20000);
    assert.equal(r.summary!.maxBufferBytes, 4096);
    assert.equal(r.maxBufSeen, 4096);
  }
});

test('memory: records larger than the chunk grow the buffer once, only to fit them', async () => {
  const big = frames(50, 200000);
  const r = await collectBytes(writePcap(big), { chunkSize: 4096 });
  assert.equal(r.error, null);
  assert.equal(r.frames.length, 50);
  assert.equal(r.summary!.maxBufferBytes, 16 + 200000);
  const max = await collectBytes(writePcapng(frames(3, 262144)), { chunkSize: 4096 });
  assert.equal(max.error, null);
  assert.equal(max.frames.length, 3);
  assert.ok(max.summary!.maxBufferBytes <= MAX_BUFFER, String(max.summary!.maxBufferBytes));
});

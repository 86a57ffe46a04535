/**
 * Hostile capture files through the real command: one clear line on standard error
 * naming the file (and the offset where it helps), a non-zero exit status, never a stack
 * trace; a file cut inside a record has every complete record processed first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const bin = join(root, 'bin', 'iplog');
const dir = mkdtempSync(join(tmpdir(), 'iplog-hostile-'));
const sample = readFileSync(join(root, 'pcaps', 'conformance', 'crafted_tcp_flags.pcap'));

/** --quiet: no end-of-run summary, so standard error holds the error alone */
function iplog(args: string[], input?: Buffer) {
  return spawnSync(process.execPath, [bin, '--quiet', ...args], { encoding: 'utf8', input, env: { ...process.env, TZ: 'UTC' }, timeout: 30_000 });
}
function file(name: string, data: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}
function oneCleanError(r: ReturnType<typeof iplog>, re: RegExp): void {
  assert.notEqual(r.status, 0);
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `stderr: ${r.stderr}`);
  assert.match(lines[0]!, re);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

test('not a capture', () => oneCleanError(iplog(['-r', file('text.pcap', Buffer.from('hello, world\n'))]), /^iplog: .*text\.pcap: not a pcap or pcapng file/));
test('empty file', () => oneCleanError(iplog(['-r', file('empty.pcap', new Uint8Array(0))]), /^iplog: .*empty\.pcap: empty file/));
test('missing file', () => oneCleanError(iplog(['-r', join(dir, 'nope.pcap')]), /^iplog: .*nope\.pcap: cannot open: No such file or directory/));

test('a record claiming gigabytes', () => {
  const b = Buffer.from(sample.subarray(0, 24 + 16));
  b.writeUInt32LE(0xf0000000, 24 + 8);
  b.writeUInt32LE(0xf0000000, 24 + 12);
  oneCleanError(iplog(['-r', file('huge.pcap', b)]), /^iplog: .*huge\.pcap: record at offset 24 claims \d+ bytes/);
});

test('a broken pcapng block', () => {
  const b = Buffer.alloc(28);
  b.writeUInt32LE(0x0a0d0d0a, 0);
  b.writeUInt32LE(27, 4); // not a multiple of 4
  b.writeUInt32LE(0x1a2b3c4d, 8);
  oneCleanError(iplog(['-r', file('broken.pcapng', b)]), /^iplog: .*broken\.pcapng: .*offset 0/);
});

test('cut inside a record: complete records are processed, then the error', () => {
  // compat: one line per packet, so the lost last record is the line naming pop3
  const whole = iplog(['-r', file('whole.pcap', sample), '-N', '--profile', 'compat']);
  assert.equal(whole.status, 0);
  const wantLines = whole.stdout.split('\n').filter(Boolean);
  // the last record's header is at a known offset: cut 10 bytes into the last record
  const cut = sample.subarray(0, sample.length - 10);
  const r = iplog(['-r', file('cut.pcap', cut), '-N', '--profile', 'compat']);
  oneCleanError(r, /^iplog: .*cut\.pcap: truncated record at offset \d+/);
  const got = r.stdout.split('\n').filter(Boolean);
  // everything but the final SYN to pop3 (the last record)
  assert.deepEqual(got, wantLines.filter((l) => !l.includes('pop3')));
  assert.ok(got.length >= 5);
});

test('corrupted packet bytes inside a well-formed file are processed, exit 0', () => {
  const b = Buffer.from(sample);
  // flip bytes inside every record's packet (IP header and payload), not the record headers
  for (let off = 24; off + 16 <= b.length; off += 16 + b.readUInt32LE(off + 8)) {
    const end = off + 16 + b.readUInt32LE(off + 8);
    for (let i = off + 16 + 14 + (off % 5); i < end; i += 7) b[i] ^= 0xa5;
  }
  const r = iplog(['-r', file('corrupt.pcap', b), '-N']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
});

test('standard input', () => {
  const r = iplog(['-r', '-', '-N'], sample);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /TCP: ssh connection attempt from 127\.0\.0\.3:1234/);
});

test('an unsupported link type is named', () => {
  const b = Buffer.from(sample.subarray(0, 24));
  b.writeUInt32LE(127, 20);
  oneCleanError(iplog(['-r', file('radiotap.pcap', b)]), /^iplog: .*radiotap\.pcap: .*link type 127 \(IEEE802_11_RADIOTAP\)/);
});

/**
 * The two-stage reader (src/capture/threaded.ts, `--threads 2`): for every capture of the
 * repository, the frames it hands over (bytes, lengths, times, link types, order), the
 * summary, the reader's anomaly counts and the error at the end are those of readCapture();
 * a small ring makes records wrap around; and the command writes the same bytes with
 * --threads 1 and 2 on a file large enough for the worker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Anomalies } from '../../src/decode/anomalies';
import { readCapture } from '../../src/capture/read';
import { readCaptureThreaded } from '../../src/capture/threaded';
import { THREADED_MIN_BYTES } from '../../src/cli/replay';

const root = join(__dirname, '..', '..', '..');

function captures(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) {
      if (n !== 'bench') out.push(...captures(p));
    } else if (/\.pcap(ng)?$/.test(n)) out.push(p);
  }
  return out;
}

interface Seen {
  frames: string[];
  digest: string;
  summary: unknown;
  error: string | null;
  anomalies: [string, number][];
}

async function read(path: string, threaded: boolean, chunkSize?: number): Promise<Seen> {
  const an = new Anomalies();
  const frames: string[] = [];
  const h = createHash('sha1');
  let summary: unknown = null;
  let error: string | null = null;
  const opts = { strictLinktype: true, chunkSize };
  const onFrame = (buf: Buffer, off: number, caplen: number, wirelen: number, sec: number, nsec: number, linktype: number): void => {
    frames.push(`${sec}.${nsec} ${caplen}/${wirelen} lt${linktype}`);
    h.update(buf.subarray(off, off + caplen));
  };
  try {
    const s = threaded ? await readCaptureThreaded(path, onFrame, an, opts) : await readCapture(path, onFrame, an, opts);
    summary = { frames: s.frames, bytes: s.bytes, format: s.format };
  } catch (e) {
    error = `${(e as Error).name} ${(e as { code?: string }).code} ${(e as Error).message}`;
  }
  return { frames, digest: h.digest('hex'), summary, error, anomalies: an.nonZero() };
}

test('every capture of the repository: the same frames, summary, anomalies and error through the ring', async () => {
  const files = [...captures(join(root, 'pcaps')), ...captures(join(root, 'test', 'capture', 'fixtures'))];
  assert.ok(files.length > 30, `${files.length} captures`);
  for (const f of files) {
    const one = await read(f, false);
    // 16 KiB chunks give a 256 KiB ring: larger captures wrap around it many times
    const two = await read(f, true, 16 * 1024);
    assert.deepEqual(two, one, f);
  }
});

test('a file cut inside a record: every complete frame first, then the same truncation error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iplog-threaded-'));
  try {
    const whole = readFileSync(join(root, 'pcaps', 'ipv6', 'thc-fragmentation6.pcap'));
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, whole.length - 7));
    const one = await read(cut, false);
    const two = await read(cut, true, 16 * 1024);
    assert.match(one.error ?? '', /truncated/i);
    assert.ok(one.frames.length > 100);
    assert.deepEqual(two, one);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('iplog --threads 2 writes what --threads 1 writes (a capture above the worker threshold)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iplog-threaded-'));
  try {
    // nmap's IPv6 SYN scan and the IPv4 raw capture, their records repeated with times
    // moved on, until the file is above THREADED_MIN_BYTES
    const src = readFileSync(join(root, 'pcaps', 'scan', 'sweep-many-destinations.pcap'));
    const head = src.subarray(0, 24);
    const recs: Buffer[] = [];
    for (let o = 24; o + 16 <= src.length; ) {
      const len = src.readUInt32LE(o + 8);
      recs.push(src.subarray(o, o + 16 + len));
      o += 16 + len;
    }
    const parts: Buffer[] = [head];
    let size = head.length;
    for (let round = 0; size < THREADED_MIN_BYTES + 65536; round++) {
      for (const r of recs) {
        const c = Buffer.from(r);
        c.writeUInt32LE(c.readUInt32LE(0) + round * 600, 0);
        parts.push(c);
        size += c.length;
      }
    }
    const big = join(dir, 'big.pcap');
    writeFileSync(big, Buffer.concat(parts));
    const run = (t: string) =>
      spawnSync(process.execPath, [join(root, 'bin', 'iplog'), '--profile', 'compat', '-r', big, '-N', '-w', '--threads', t], {
        encoding: 'utf8',
        env: { ...process.env, TZ: 'UTC' },
        maxBuffer: 1 << 28,
        timeout: 120_000,
      });
    const a = run('1');
    const b = run('2');
    assert.equal(a.status, 0, a.stderr);
    assert.equal(b.status, 0, b.stderr);
    assert.ok(a.stdout.split('\n').length > 1000, 'many lines');
    assert.equal(b.stdout, a.stdout);
    const norm = (s: string) => s.replace(/; [0-9.]+s\n/g, '; Ts\n');
    assert.equal(norm(b.stderr), norm(a.stderr));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

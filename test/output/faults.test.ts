/**
 * Output faults in a replay and in the live rules (src/output/sinks/faults.ts,
 * docs/operations.md "Faults"): a full or failing log file, a standard output whose
 * reader goes away, a syslog socket that is not there. The live sensor itself is tested
 * under the same faults in test/daemon/faults.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutputFaults, type FaultLog } from '../../src/output/sinks/faults';
import { fdWriter } from '../../src/output/sinks/text';
import { openSync, closeSync } from 'node:fs';

const root = join(__dirname, '..', '..', '..');
const bin = join(root, 'bin', 'iplog');
const flood = join(root, 'pcaps', 'flood', 'syn-flood-spoofed.pcap');
const BASE = ['--config', '/dev/null', '-N', '--quiet'];
/**
 * The flood replayed 20 times (2.7 MB of lines): more than a pipe and the reader's first
 * piece hold, so the replay cannot finish before its reader goes away however fast it writes.
 */
const FLOODS = Array.from({ length: 20 }, () => ['-r', flood]).flat();
const env = { ...process.env, TZ: 'UTC', LC_ALL: 'C' };

/** Runs iplog with stdout a pipe whose reader goes away after the first piece. */
function closeAfterFirst(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...BASE, ...args], { env });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

test('replay: -l FILE --json - into a pipe closed after one piece keeps every line in the file, exit 1 and a line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iplog-faults-'));
  try {
    const ref = join(dir, 'ref.log');
    assert.equal(spawnSync(process.execPath, [bin, ...BASE, ...FLOODS, '-l', ref], { env }).status, 0);
    const want = readFileSync(ref, 'utf8');
    const file = join(dir, 'out.log');
    const r = await closeAfterFirst([...FLOODS, '-l', file, '--json', '-']);
    assert.equal(readFileSync(file, 'utf8'), want, 'the log file lost lines');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^iplog: standard output closed by its reader: \d+ lines not written there \(IPLOG_ERR_OUTPUT_CLOSED\)\n$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('replay: stdout alone, closed early: the replay stops with exit 1 and one line', async () => {
  const r = await closeAfterFirst(FLOODS);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'iplog: standard output closed by its reader; the replay stopped (IPLOG_ERR_OUTPUT_CLOSED)\n');
});

test('replay: a full log file (/dev/full) is one clear error, exit 1, not an internal error', () => {
  for (const args of [['-l', '/dev/full'], ['--json', '/dev/full'], ['-l', '/dev/full', '--json', '-']]) {
    const r = spawnSync(process.execPath, [bin, ...BASE, '-r', flood, ...args], { env, encoding: 'utf8' });
    assert.equal(r.status, 1, `${args}: ${r.stderr}`);
    assert.equal(r.stderr, 'iplog: cannot write to "/dev/full": No space left on device.\n');
  }
});

test('replay: a syslog socket that is not there is reported, exit 1', () => {
  const r = spawnSync(process.execPath, [bin, ...BASE, '-r', join(root, 'pcaps', 'conformance', 'nmap_sT_small.pcap'), '--syslog-socket', '/nonexistent/iplog-test/log'], {
    env: { ...env, IPLOG_LOG_LEVEL: 'silent' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^iplog: syslog unix:\/nonexistent\/iplog-test\/log: \d+ lines? not delivered \(1 outage\) \(IPLOG_ERR_OUTPUT_WRITE\)\n$/);
});

/** An operational log that keeps its records. */
function memLog(): FaultLog & { records: { level: string; msg: string; obj: Record<string, unknown> }[] } {
  const records: { level: string; msg: string; obj: Record<string, unknown> }[] = [];
  const rec = (level: string) => (obj: object, msg: string) => void records.push({ level, msg, obj: obj as Record<string, unknown> });
  return { records, warn: rec('warn'), error: rec('error'), info: rec('info') };
}

test('live rules: ENOSPC and EIO on a file are reported once, counted, and the recovery is a line', () => {
  const log = memLog();
  const faults = new OutputFaults('live', log);
  const st = faults.output('/var/log/iplog/x.log');
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  const eio = Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
  st.failed(enospc, 'a\nb\nc\n', 0);
  st.failed(eio, 'd\ne\n', 0);
  assert.equal(st.linesLost, 5);
  assert.equal(st.failing, true);
  assert.deepEqual(log.records.map((r) => [r.level, r.msg, r.obj.code, r.obj.err]), [
    ['error', 'output write failed: lines are counted and dropped until it works again', 'IPLOG_ERR_OUTPUT_WRITE', 'No space left on device'],
  ]);
  st.succeeded();
  assert.equal(st.failing, false);
  assert.deepEqual([log.records[1]!.msg, log.records[1]!.obj.linesLost, log.records[1]!.obj.err], ['output recovered', 5, 'Input/output error']);
  assert.deepEqual(faults.losses().map((l) => [l.output, l.linesLost, l.failures]), [['/var/log/iplog/x.log', 5, 2]]);
});

test('live rules: a write to /dev/full does not throw; a later good write recovers and ends the cut line', () => {
  const log = memLog();
  const faults = new OutputFaults('live', log);
  const full = openSync('/dev/full', 'w');
  try {
    const st = faults.output('/dev/full');
    const w = fdWriter(full, st);
    w('line 1\nline 2\n'); // no throw
    assert.equal(st.linesLost, 2);
    assert.equal(log.records[0]!.obj.err, 'No space left on device');
    // the same state, now writing somewhere that works (a file descriptor that succeeds)
    st.cutLine = true; // as after a write that stopped inside a line
    const dir = mkdtempSync(join(tmpdir(), 'iplog-faults-'));
    const f = join(dir, 'ok.log');
    const fd = openSync(f, 'w');
    fdWriter(fd, st)('line 3\n');
    closeSync(fd);
    assert.equal(readFileSync(f, 'utf8'), '\nline 3\n');
    assert.equal(log.records.at(-1)!.msg, 'output recovered');
    rmSync(dir, { recursive: true, force: true });
  } finally {
    closeSync(full);
  }
});

test('live rules: standard output closed is given up once and counted, never thrown', () => {
  const log = memLog();
  const faults = new OutputFaults('live', log);
  const st = faults.output('stdout');
  st.failed(Object.assign(new Error('EPIPE'), { code: 'EPIPE' }), 'x\n', 0);
  assert.equal(st.closed, true);
  st.dropped('y\nz\n');
  assert.equal(st.linesLost, 3);
  assert.equal(log.records.length, 1);
  assert.equal(log.records[0]!.obj.code, 'IPLOG_ERR_OUTPUT_CLOSED');
});

/**
 * Replay output through the real command: -l FILE appends to a file, -L and the default
 * write to standard output, timestamps are the packet's in the local time zone (TZ), -a
 * selects by destination network, and a reader that goes away (| head) ends the run
 * quietly with status 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const bin = join(root, 'bin', 'iplog');
const pcap = (n: string) => join(root, 'pcaps', n);
const dir = mkdtempSync(join(tmpdir(), 'iplog-out-'));

function iplog(args: string[], tz = 'UTC') {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, TZ: tz }, timeout: 30_000 });
}

test('-l FILE appends the lines to the file (mode 0644), nothing on stdout', () => {
  const log = join(dir, 'iplog.log');
  for (let i = 0; i < 2; i++) {
    const r = iplog(['-r', pcap('decode/raw-ipv4.pcap'), '-N', '-l', log]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
  }
  const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  assert.equal(lines.length, 6);
  assert.equal(lines[0], 'Nov 14 22:13:20 TCP: ssh connection attempt from 192.0.2.10:40000');
  assert.deepEqual(lines.slice(3), lines.slice(0, 3));
});

test('-l then -L: stdout wins with the original warning (stdout with --profile compat, else stderr)', () => {
  const r = iplog(['-r', pcap('decode/raw-ipv4.pcap'), '--profile', 'compat', '-N', '-l', join(dir, 'unused.log'), '-L']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^Warning: Overriding --logfile\nNov 14 22:13:20 TCP: ssh/);
  const d = iplog(['-r', pcap('decode/raw-ipv4.pcap'), '-N', '-l', join(dir, 'unused.log'), '-L']);
  assert.match(d.stdout, /^Nov 14 22:13:20 TCP: ssh/);
  assert.match(d.stderr, /^iplog: Warning: Overriding --logfile\n/);
});

test('timestamps are packet time in the local time zone', () => {
  const r = iplog(['-r', pcap('decode/raw-ipv4.pcap'), '-N'], 'Asia/Tokyo');
  assert.match(r.stdout, /^Nov 15 07:13:20 TCP: ssh connection attempt/);
});

test('-a NETS: only packets to those networks, destinations shown', () => {
  // compat: -a is a destination filter (the modern profile judges both directions by role)
  const r = iplog(['-r', pcap('scan/sweep-many-destinations.pcap'), '--profile', 'compat', '-N', '-a', '198.51.100.3/32,198.51.100.20']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n').filter(Boolean).map((l) => l.slice(16)), [
    'TCP: microsoft-ds connection attempt to 198.51.100.3 from 192.0.2.40:50000',
    'TCP: microsoft-ds connection attempt to 198.51.100.20 from 192.0.2.40:50000',
  ]);
  for (const profile of ['compat', 'modern']) {
    // modern: -a names protected networks, checked as strictly
    const bad = iplog(['-r', pcap('scan/sweep-many-destinations.pcap'), '--profile', profile, '-N', '-a', '10.0.0.1/8']);
    assert.notEqual(bad.status, 0, profile);
    assert.match(bad.stderr, /^iplog: invalid network "10\.0\.0\.1\/8": non-network bits set/, profile);
  }
});

test('a reader that closes the pipe early ends the run: exit 1 and one line (more in test/output/faults.test.ts)', async () => {
  // the flood 20 times, 40,000 lines (2.7 MB): far more than a pipe and the reader's first
  // read hold, so some are certainly lost when the reader goes (one flood's 2,000 lines
  // could all be written before the reader closed once the output path got faster);
  // --quiet: no end-of-run summary, so the only text on standard error is the complaint
  const floods = Array.from({ length: 20 }, () => ['-r', pcap('flood/syn-flood-spoofed.pcap')]).flat();
  const child = spawn(process.execPath, [bin, ...floods, '-N', '--quiet'], { env: { ...process.env, TZ: 'UTC' } });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(code, 1);
  assert.equal(stderr, 'iplog: standard output closed by its reader; the replay stopped (IPLOG_ERR_OUTPUT_CLOSED)\n');
});

test('`ignore icmp type echo-reply` drops the echo replies and keeps the echo requests', () => {
  const conf = join(mkdtempSync(join(tmpdir(), 'iplog-echo-')), 'iplog.conf');
  writeFileSync(conf, 'ignore icmp type echo-reply\n');
  const p = pcap('conformance/crafted_icmp_types.pcap');
  const all = iplog(['-r', p, '-N', '--quiet', '--config', '/dev/null']).stdout;
  const got = iplog(['-r', p, '-N', '--quiet', '--config', conf]).stdout;
  assert.match(all, /ICMP: echo reply from/);
  assert.match(all, /ICMP: echo from/);
  assert.doesNotMatch(got, /ICMP: echo reply from/);
  assert.match(got, /ICMP: echo from/);
  assert.equal(got.split('\n').length, all.split('\n').length - 1);
});

test('every operational-log record has one `time` key (the ban action record had two)', () => {
  const r = spawnSync(process.execPath, [bin, '-r', pcap('ban/dry-run-repeat-offender.pcap'), '--profile', 'compat', '-N', '-m', '--ban-backend', 'dry-run', '--ban-time', '60', '--ban-evidence', 'any', '--quiet'], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC', IPLOG_LOG_LEVEL: 'info' },
  });
  assert.equal(r.status, 0, r.stderr);
  const records = r.stderr.split('\n').filter((l) => l.startsWith('{'));
  const actions = records.filter((l) => l.includes('"msg":"ban action"'));
  assert.ok(actions.length > 0);
  for (const l of records) assert.deepEqual(topLevelKeys(l).filter((k) => k === 'time'), ['time'], l.slice(0, 200));
  const a = JSON.parse(actions[0]!) as { time: number; packet_time: number };
  assert.equal(a.packet_time, 1700000000, 'network time, seconds');
  assert.ok(a.time > 1.7e12, 'the wall-clock stamp, ms');
});

/** The keys of a JSON object text at its top level, duplicates kept (JSON.parse drops them). */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(i, j + 1)) as string);
      expectKey = false;
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = c === '{' && depth === 1;
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return keys;
}

/**
 * Packet times outside 1970..2106 (reader-core.ts MIN_TIME_SEC..MAX_TIME_SEC): crafted
 * pcapng timestamps past 2^53 s, huge or negative if_tsoffset, resolutions whose count
 * overflows. Each such packet is skipped and counted (`capture.timestamp_out_of_range`);
 * the packets around it are read; a replay neither hangs (the network clock used to stop
 * at 2^53 s and Engine.advance() spun) nor prints `undefined NaN` nor fails with
 * `Invalid time value`, and every JSON time stays inside the schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { writePcap, writePcapng, type Frame } from '../helpers/pcap-writer';
import { collectBytes, collectFile, tempCapture } from '../helpers/capture-collect';
import { ether, ipv4, tcp } from '../helpers/packets';
import { MAX_TIME_SEC } from '../../src/capture/reader-core';

const root = join(__dirname, '..', '..', '..');
const d = (n: number) => Buffer.alloc(n, 0xab);

test('pcapng: times outside 1970..2106 are skipped and counted, the others read', async () => {
  for (const bigEndian of [false, true]) {
    const frames: Frame[] = [
      { ts: 1700000000, nsec: 0, data: d(60), iface: 0 },
      { ts: 2 ** 53 + 2, nsec: 0, data: d(60), iface: 1 }, // seconds units: past exact doubles
      { ts: MAX_TIME_SEC, nsec: 0, data: d(60), iface: 1 }, // the last second in range
      { ts: MAX_TIME_SEC + 1, nsec: 0, data: d(60), iface: 1 }, // 2^32 s
      { ts: -5, nsec: 0, data: d(60), iface: 2 }, // 2^40 - 5 units + offset -2^40: before 1970
      { ts: 2 ** 62, nsec: 0, data: d(60), iface: 3 }, // 0 units + offset 2^62
      { ts: 1700000001, nsec: 0, data: d(60), iface: 0, block: 'spb' }, // gets the last good time
    ];
    const r = await collectBytes(
      writePcapng(frames, {
        bigEndian,
        interfaces: [{}, { tsresol: 0 }, { tsoffset: -(2 ** 40) }, { tsoffset: 2 ** 62 }],
      }),
    );
    assert.equal(r.error, null);
    assert.deepEqual(
      r.frames.map((f) => f.sec),
      [1700000000, MAX_TIME_SEC, MAX_TIME_SEC],
    );
    assert.equal(r.anomalies.get('capture.timestamp_out_of_range'), 4);
  }
});

test('pcapng: a count of 2^64 picoseconds or 2^-1 s ticks past the range is counted too', async () => {
  // binary resolution 2^-1: 2^63 ticks is 2^62 s; decimal 10^-12 with the top bit set
  const raw = writePcapng([{ ts: 2 ** 62, nsec: 0, data: d(60) }], { interfaces: [{ tsresol: 0x81 }] });
  const r = await collectBytes(raw);
  assert.equal(r.frames.length, 0);
  assert.equal(r.anomalies.get('capture.timestamp_out_of_range'), 1);
});

/** SYNs from one source to 40 ports, one a second, stamped from `t0` on (seconds units). */
function scanAt(t0: number): Frame[] {
  const out: Frame[] = [];
  for (let i = 0; i < 40; i++) {
    out.push({ ts: t0 + i * 2, nsec: 0, data: ether(ipv4({ src: '192.0.2.7', dst: '198.51.100.1', proto: 6 }, tcp(40000, 1000 + i, 0x02))) });
  }
  return out;
}

function replayCli(file: string, extra: string[]): { status: number | null; stdout: string; stderr: string; timedOut: boolean } {
  const r = spawnSync(process.execPath, [join(root, 'dist', 'src', 'main.js'), '--config', '/dev/null', '-N', '-r', file, ...extra], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, timedOut: r.error !== undefined };
}

test('replay: fragments and a scan stamped past 2^53 s end (no spin), in text and JSON, inside the schema', async () => {
  // a scan in range, then the fragment trains of a recorded capture moved past 2^53 s
  // (2 s apart, seconds units): the old reader delivered them, the clock stopped at
  // 2^53 (t + 1 === t) and Engine.advance() spun for ever on the fragment sweep
  const frag = await collectFile(join(root, 'pcaps', 'conformance', 'crafted_frag.pcap'));
  const t0 = frag.frames[0]!.sec;
  const late: Frame[] = frag.frames.map((f) => ({ ts: 2 ** 53 + 2 + (f.sec - t0) * 2, nsec: 0, data: f.data }));
  const frames = [...scanAt(1700000000), ...late, ...scanAt(2 ** 53 - 40)];
  const file = tempCapture(writePcapng(frames, { interfaces: [{ tsresol: 0 }] }), 'ts-2p53.pcapng');
  const text = replayCli(file, []);
  assert.equal(text.timedOut, false, 'the replay did not finish within 20 s');
  assert.equal(text.status, 0, text.stderr);
  assert.doesNotMatch(text.stdout, /NaN|undefined|Invalid/);
  assert.match(text.stdout, /SYN scan detected/);
  const json = replayCli(file, ['--json', '-', '--profile', 'modern']);
  assert.equal(json.timedOut, false);
  assert.equal(json.status, 0, json.stderr);
  const ajv = new Ajv2020({ strict: true });
  const validate = ajv.compile(JSON.parse(readFileSync(join(root, 'config', 'iplog-event.schema.json'), 'utf8')));
  const lines = json.stdout.split('\n').filter((l) => l !== '');
  assert.ok(lines.length > 0);
  for (const l of lines) assert.ok(validate(JSON.parse(l)), `${ajv.errorsText(validate.errors)}: ${l}`);
});

test('replay: an if_tsoffset that puts packets past 2106 gives no NaN time and no internal error', () => {
  for (const tsoffset of [2 ** 31, 253402300799, 2 ** 62, -(2 ** 62)]) {
    const file = tempCapture(writePcapng(scanAt(1700000000), { interfaces: [{ tsoffset }] }), 'ts-offset.pcapng');
    for (const extra of [[], ['--json', '-']]) {
      const r = replayCli(file, extra);
      assert.equal(r.status, 0, `offset ${tsoffset} ${extra}: ${r.stderr}`);
      assert.doesNotMatch(r.stdout + r.stderr, /NaN|undefined|Invalid time|internal error/);
    }
  }
});

test('pcap: the time range is the same contract (a corrupt fraction carried past it is counted)', async () => {
  const ok = await collectBytes(writePcap([{ ts: 2 ** 32 - 1, nsec: 999999999, data: d(60) }], { nano: true }));
  assert.deepEqual(ok.frames.map((f) => f.sec), [2 ** 32 - 1]);
  // microseconds field 0xffffffff: 4294 s carried into the seconds, past 2^32 - 1
  const raw = writePcap([{ ts: 2 ** 32 - 2, nsec: 0, data: d(60) }, { ts: 1700000000, nsec: 0, data: d(60) }]);
  raw.writeUInt32LE(0xffffffff, 24 + 4);
  const r = await collectBytes(raw);
  assert.deepEqual(r.frames.map((f) => f.sec), [1700000000]);
  assert.equal(r.anomalies.get('capture.timestamp_out_of_range'), 1);
});

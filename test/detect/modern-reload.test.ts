/**
 * A SIGHUP restart's new engine (src/daemon.ts restart() -> newEngine(previous)) in the
 * modern profile takes over the previous engine's modern tables and handshake tracker
 * (src/pipeline.ts Engine constructor, ModernDetect.rebind): a scan begun before a reload
 * is detected after it, the lines go to the new engine's output, and 200 reloads allocate
 * no new tables (ArrayBuffers flat). The compat profile starts afresh, as 2.2.3 did
 * (spec §2.7). The live daemon is tested with real SIGHUPs in test/daemon/faults.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/pipeline';
import { TextSink } from '../../src/output/sinks/text';
import { Anomalies } from '../../src/decode/anomalies';
import { makeSettings } from '../helpers/engine';
import { ACK, DF, RST, SYN, ipv4, tcp } from '../helpers/packets';

/** a refused connect(): SYN with DF to a closed port, the kernel's RST back */
function refused(e: Engine, t: number, port: number): void {
  const syn = ipv4({ src: '203.0.113.7', dst: '192.0.2.1', proto: 6, frag: DF }, tcp(40000 + port, port, SYN));
  const rst = ipv4({ src: '192.0.2.1', dst: '203.0.113.7', proto: 6, frag: DF }, tcp(port, 40000 + port, RST | ACK));
  e.onFrame(syn, 0, syn.length, syn.length, t, 0, 101);
  e.onFrame(rst, 0, rst.length, rst.length, t, 0, 101);
}

function texts(mem: ReturnType<typeof TextSink.memory>): string[] {
  mem.sink.flush();
  return mem.text().split('\n').filter(Boolean).map((l) => l.slice(16));
}

for (const profile of ['modern', 'compat'] as const) {
  test(`${profile}: a scan begun before a reload ${profile === 'modern' ? 'is detected after it (the modern tables are handed over)' : 'starts afresh after it (spec §2.7)'}`, async () => {
    const s = makeSettings({}, { profile, home: ['192.0.2.0/24'] });
    const an = new Anomalies();
    const m1 = TextSink.memory();
    const e1 = new Engine(s, m1.sink, null, an);
    refused(e1, 100, 1001);
    refused(e1, 101, 1002);
    // the restart: a new sink, a new engine, the old one released
    const m2 = TextSink.memory();
    const e2 = new Engine(s, m2.sink, null, an, e1);
    e1.release();
    refused(e2, 102, 1003);
    refused(e2, 103, 1004);
    await e2.finish();
    const detected = texts(m2).filter((l) => l.includes(' detected '));
    if (profile === 'modern') {
      assert.equal(e2.modern, e1.modern, 'the same tables');
      assert.deepEqual(detected, ['TCP: port scan detected [ports 1001,1002,1003,1004] from 203.0.113.7 [ports 41001,41002,41003,41004]']);
      assert.deepEqual(texts(m1).filter((l) => l.includes(' detected ')), [], 'nothing goes to the old engine\'s output');
    } else {
      // compat counts packets per pair (threshold 15 for a port scan): four never reach it either way
      assert.equal(e2.modern, null);
      assert.deepEqual(detected, []);
    }
  });
}

test('modern: 200 reloads allocate no new tables (ArrayBuffers flat); a changed --state-memory makes new ones', () => {
  const s = makeSettings({}, { profile: 'modern', home: ['192.0.2.0/24'] });
  const an = new Anomalies();
  let e = new Engine(s, TextSink.memory().sink, null, an);
  const first = e.modern;
  const arrayBuffers = (): number => process.memoryUsage().arrayBuffers;
  const reload = (): void => {
    const next = new Engine(s, TextSink.memory().sink, null, an, e);
    e.release();
    e = next;
  };
  reload();
  const before = arrayBuffers();
  const MiB = 1 << 20;
  let most = before;
  for (let i = 0; i < 200; i++) {
    reload();
    // without the handover each engine made its own tables: 48 MiB of typed arrays (the
    // default --state-memory), freed only when the garbage collector got to them
    const now = process.memoryUsage().arrayBuffers;
    if (now > most) most = now;
  }
  assert.equal(e.modern, first, 'the same tables after 200 reloads');
  // what is left is each reload's small garbage (~25 KiB an engine: fragment tables,
  // buffers), freed when the garbage collector runs, in either profile
  assert.ok(most - before < 24 * MiB, `ArrayBuffers ${(before / MiB).toFixed(1)} MiB after one reload, up to ${(most / MiB).toFixed(1)} MiB over 200`);
  // another size: new tables (the old ones are dropped)
  s.stateMemory = 8 * MiB;
  reload();
  assert.notEqual(e.modern, first);
});

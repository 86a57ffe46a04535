/**
 * ModernDetect.floodSyn, the pipeline's fast path for the common packet of a SYN flood, does
 * exactly what tcp() does with the packets it takes, and takes most of a flood. The same
 * traffic goes through two engines: one as the pipeline runs it (floodSyn first), one with
 * floodSyn refusing every packet (tcp() alone); lines, modern counters and anomaly counters
 * must be equal. The traffic (traffic() below): an IPv4 and an IPv6 flood from spoofed pools
 * small enough that sources come back (the sieve finds them, and passes some), a SYN scanner
 * in each, answers from the victim, and a filter rule that drops one port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness } from '../helpers/engine';
import { seg } from '../helpers/flows';
import { SYN, ACK, RST, ECE, CWR } from '../helpers/packets';
import { parseConfig } from '../../src/config/conf-parser';
import { defaultSettings } from '../../src/config/options';

const V4 = '198.51.100.1';
const V6 = '2001:db8:1::1';
const S4 = '203.0.113.9';
const S6 = '2001:db8:9::9';

/** source a of the spoofed IPv4 pool (198.18.0.0/15, the benchmark range, as the bench flood) */
const src4 = (a: number): string => `198.18.${a >>> 8}.${a & 255}`;

/**
 * One flood, then the other (one destination in SYN-flood mode at a time: the sieve serves
 * the destination the last SYN-flood check named), each half from sources seen once and
 * half from a pool of 700 that come back within the sieve's span (2,048 at this budget):
 * the sieve finds them, and passes each at its third SYN (then tcp() has it), with a scanner
 * among them whose probes the victim refuses; in the IPv4 flood also ECN SYNs (not bogus),
 * SYNs at a low TTL, bogus ECN setups, SYNs to a port the rules drop, and the victim's
 * SYN-ACKs to some of the flood's sources once it is in SYN-flood mode (shed as its SYNs
 * are; before, each would be an unsolicited contact of the victim's, and the flood's SYNs
 * would then have a contact to look up: tcp()'s work, not floodSyn's)
 */
function traffic(h: Harness): void {
  let t = 1000;
  for (const v6 of [false, true]) {
    const V = v6 ? V6 : V4;
    const S = v6 ? S6 : S4;
    for (let i = 0; i < 50_000; i++) {
      t += 0.0001;
      // even: a source never seen again; odd: one of a pool of 700, back every 1,400 SYNs
      const u = i >>> 1;
      const a = (i & 1) === 0 ? 1000 + u : u % 700;
      const src = v6 ? `2001:db8:5:${a.toString(16)}::1` : src4(a);
      h.feed(t, seg(src, V, 1024 + (i & 1023), 80 + (i & 7), SYN));
      if (i % 250 === 0) {
        const port = 1000 + i / 250;
        h.feed(t, seg(S, V, 40000, port, SYN));
        h.feed(t + 0.00001, seg(V, S, port, 40000, RST | ACK, 0, 1001));
      }
      if (v6) continue;
      if (i % 997 === 0) h.feed(t, seg(src, V, 2000, 80, SYN | ECE | CWR));
      if (i % 991 === 0) h.feed(t, seg(src, V, 2001, 80, SYN, 1000, 0, { ttl: 20 }));
      if (i % 983 === 0) h.feed(t, seg(src, V, 2002, 80, SYN | ECE));
      if (i > 2000 && i % 101 === 0) h.feed(t, seg(V, src, 80, 1024 + (i & 1023), SYN | ACK, 7000, 1001));
    }
    // the first flood's mode ends before the second begins
    t += 120;
  }
}

async function run(fast: boolean): Promise<{ lines: string[]; counters: unknown; anomalies: unknown; taken: number }> {
  const st = defaultSettings();
  const errors: string[] = [];
  // the rules: SYNs to port 85 are dropped before the sieve (floodSyn after the tracker, as tcp())
  parseConfig('ignore tcp dport 85\n', '/etc/iplog.conf', st, (e) => errors.push(e));
  assert.deepEqual(errors, []);
  const h = new Harness({}, { profile: 'modern', hashSeed: 1, replayFile: 'synthetic', stateMemory: 4 * 1024 * 1024, rules: st.rules });
  const m = h.engine.modern!;
  let taken = 0;
  const own = m.floodSyn.bind(m);
  m.floodSyn = fast
    ? (p, now) => {
        const r = own(p, now);
        if (r) taken++;
        return r;
      }
    : () => false;
  traffic(h);
  const lines = await h.finish();
  return { lines, counters: m.counters(), anomalies: h.engine.an.nonZero(), taken };
}

test('floodSyn takes most of a flood and does with each packet what tcp() does: same lines and counters as tcp() alone', async () => {
  const fast = await run(true);
  const slow = await run(false);
  assert.equal(slow.taken, 0);
  // the sources seen once (50,000), and the pool's first two SYNs each
  assert.ok(fast.taken > 50_000, `floodSyn took ${fast.taken} of 100,000 flood packets`);
  assert.ok(fast.lines.some((l) => /SYN flood detected to 198\.51\.100\.1 /.test(l)), fast.lines.join('\n'));
  assert.ok(fast.lines.some((l) => /SYN flood detected to 2001:db8:1::1 /.test(l)), fast.lines.join('\n'));
  assert.ok(fast.lines.some((l) => l.startsWith('TCP: SYN scan detected') && l.includes(`from ${S4} `)), fast.lines.join('\n'));
  assert.deepEqual(fast.lines, slow.lines);
  assert.deepEqual(fast.counters, slow.counters);
  assert.deepEqual(fast.anomalies, slow.anomalies);
});

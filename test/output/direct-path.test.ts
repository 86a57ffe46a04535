/**
 * The direct path of connection-attempt lines (issue 10): when nothing but the sinks needs
 * the event, a SYN's line is written by the line catalogue from the raw facts
 * (lines.ts writeConnectionV4(), LineSink.connectionV4) without an event object. Its
 * output must be exactly the event path's: the same engine, fed the same packets, once
 * with sinks that have the direct path and once with sinks that only take events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/pipeline';
import { TextSink } from '../../src/output/sinks/text';
import { JsonSink } from '../../src/output/sinks/json';
import { TeeSink } from '../../src/output/sinks/tee';
import type { LineSink } from '../../src/output/sinks/sink';
import type { IplogEvent } from '../../src/output/event';
import { event } from '../../src/output/event';
import { lineText, writeConnectionV4, CONN_LINE_MAX, NO_HOSTS } from '../../src/output/lines';
import { serviceName } from '../../src/output/services';
import { IpAddr } from '../../src/net/addr';
import { makeSettings } from '../helpers/engine';
import { ipv4, tcp, udp, SYN, ACK, DF } from '../helpers/packets';
import type { Flags } from '../../src/config/settings';

/** A sink without the direct path: every line reaches it as an event. */
function eventsOnly(s: LineSink): LineSink & { lines: number } {
  const o = {
    lines: 0,
    write: (now: number, text: string, ev?: IplogEvent, hosts?: typeof NO_HOSTS) => s.write(now, text, ev, hosts),
    line: (now: number, ev: IplogEvent, hosts: typeof NO_HOSTS, logDest: boolean) => {
      o.lines++;
      s.line!(now, ev, hosts, logDest);
    },
    flush: () => s.flush(),
    close: (now: number) => s.close(now),
  };
  return o;
}

/** Counts the lines that took the direct path (every call is handed to `s` itself). */
function counting(s: LineSink): LineSink & { direct: number } {
  const o = {
    direct: 0,
    write: (now: number, text: string, ev?: IplogEvent, hosts?: typeof NO_HOSTS) => s.write(now, text, ev, hosts),
    line: (now: number, ev: IplogEvent, hosts: typeof NO_HOSTS, logDest: boolean) => s.line!(now, ev, hosts, logDest),
    connectionV4: (now: number, src: number, sport: number, dst: number, dport: number, flags: number, logDest: boolean) => {
      o.direct++;
      s.connectionV4!(now, src, sport, dst, dport, flags, logDest);
    },
    flush: () => s.flush(),
    close: (now: number) => s.close(now),
  };
  return o;
}

/** A small xorshift generator: the same packets for both engines, and a failure is repeatable. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

/**
 * Random traffic: SYNs (with and without DF: port-scan and SYN-scan counts, so some
 * pairs end in a detection that suppresses their lines) from a few sources to well-known
 * and unknown ports, the same packet again and again (repeat compression), UDP datagrams
 * (lines of the event path between direct ones), a SYN-ACK (no line), time that stands
 * still or jumps past the 60 s of a repeat.
 */
function traffic(seed: number, n: number): { t: number; pkt: Buffer }[] {
  const r = rng(seed);
  const srcs = ['192.0.2.1', '192.0.2.77', '198.51.100.200', '203.0.113.9', '198.51.100.1'];
  const dsts = ['203.0.113.1', '192.0.2.254'];
  const ports = [22, 80, 443, 25, 7, 0, 1, 65535, 31337, 6000];
  const out: { t: number; pkt: Buffer }[] = [];
  let t = 1_000_000_000;
  let prev: Buffer | null = null;
  for (let i = 0; i < n; i++) {
    const x = r();
    if (x < 0.05) t += 61 + Math.floor(r() * 30);
    else if (x < 0.3) t += Math.floor(r() * 20);
    if (prev !== null && r() < 0.35) {
      out.push({ t, pkt: prev });
      continue;
    }
    const src = srcs[Math.floor(r() * srcs.length)]!;
    const dst = dsts[Math.floor(r() * dsts.length)]!;
    const dport = ports[Math.floor(r() * ports.length)]!;
    const sport = r() < 0.5 ? 1024 + Math.floor(r() * 64000) : 40000;
    const k = r();
    let pkt: Buffer;
    if (k < 0.15) pkt = ipv4({ src, dst, proto: 17 }, udp(sport, dport, 4));
    else if (k < 0.2) pkt = ipv4({ src, dst, proto: 6, frag: DF }, tcp(sport, dport, SYN | ACK));
    else pkt = ipv4({ src, dst, proto: 6, frag: r() < 0.8 ? DF : 0 }, tcp(sport, dport, SYN));
    prev = pkt;
    out.push({ t, pkt });
  }
  return out;
}

async function run(sink: LineSink, flags: Partial<Flags>, packets: { t: number; pkt: Buffer }[], subscribe?: (e: Engine) => void): Promise<void> {
  const e = new Engine(makeSettings({ udp: true, ...flags }), sink, null);
  subscribe?.(e);
  // flushes now and then, as the reader does at its chunks: the last line's bytes are then kept aside
  packets.forEach(({ t, pkt }, i) => {
    e.onFrame(pkt, 0, pkt.length, pkt.length, t, 0, 101);
    if (i % 7 === 3) sink.flush();
  });
  await e.finish();
  sink.close(e.now);
}

test('writeConnectionV4() writes the bytes of lineText() of the event tcp.ts makes, for known and unknown services, both log_dest forms', () => {
  const r = rng(7);
  const b = Buffer.alloc(CONN_LINE_MAX);
  const ports = [0, 1, 7, 22, 25, 80, 443, 9, 10, 99, 100, 999, 1000, 9999, 10000, 65535];
  for (let i = 0; i < 3000; i++) {
    const src = i < 4 ? [0, 0xffffffff, 0x01020304, 0x0a00000a][i]! : Math.floor(r() * 0x100000000);
    const dst = Math.floor(r() * 0x100000000);
    const sport = i % 3 === 0 ? ports[i % ports.length]! : Math.floor(r() * 65536);
    const dport = i % 2 === 0 ? ports[(i >> 1) % ports.length]! : Math.floor(r() * 65536);
    const ev = event('tcp.connection_attempt', 1, IpAddr.v4(src), { dst: IpAddr.v4(dst), sport, dport, detail: { service: serviceName(dport, 'tcp'), tcp_flags: 2 } });
    for (const logDest of [false, true]) {
      const n = writeConnectionV4(b, 0, src >>> 0, sport, dst >>> 0, dport, logDest);
      const want = lineText(ev, { ...NO_HOSTS, src: ev.src!.toString(), dst: logDest ? ev.dst!.toString() : '' }, logDest);
      assert.equal(b.toString('utf8', 0, n), want);
    }
  }
});

for (const logDest of [false, true]) {
  test(`text sink: the direct path writes what the event path writes, repeats and their 60 s included (log_dest ${logDest})`, async () => {
    for (const seed of [1, 2, 3, 4]) {
      const packets = traffic(seed, 3000);
      const a = TextSink.memory();
      const direct = counting(a.sink);
      await run(direct, { log_dest: logDest }, packets);
      const b = TextSink.memory();
      const events = eventsOnly(b.sink);
      await run(events, { log_dest: logDest }, packets);
      assert.ok(direct.direct > 500, `direct lines: ${direct.direct}`);
      assert.ok(events.lines > 500);
      assert.ok(/last message repeated \d+ times/.test(b.text()), 'repeats in the traffic');
      assert.equal(a.text(), b.text(), `seed ${seed}`);
    }
  });
}

test('text and JSON (a tee): the direct path writes what the event path writes', async () => {
  const packets = traffic(9, 3000);
  const t1 = TextSink.memory();
  const j1 = JsonSink.memory('compat');
  const direct = counting(new TeeSink([t1.sink, j1.sink]));
  await run(direct, {}, packets);
  const t2 = TextSink.memory();
  const j2 = JsonSink.memory('compat');
  await run(eventsOnly(new TeeSink([t2.sink, j2.sink])), {}, packets);
  assert.equal(t1.text(), t2.text());
  assert.equal(j1.text(), j2.text());
  assert.ok(j1.text().includes('"kind":"tcp.connection_attempt"'));
});

test('a subscriber that wants connection attempts gets their events (no direct path); one that names other kinds does not', async () => {
  const packets = traffic(5, 2000);
  const all: string[] = [];
  const a = TextSink.memory();
  const s1 = counting(a.sink);
  await run(s1, {}, packets, (e) => e.out.subscribe((ev) => all.push(ev.kind)));
  assert.equal(s1.direct, 0);
  assert.ok(all.filter((k) => k === 'tcp.connection_attempt').length > 500);

  const scans: string[] = [];
  const b = TextSink.memory();
  const s2 = counting(b.sink);
  await run(s2, {}, packets, (e) => e.out.subscribe((ev) => scans.push(ev.kind), (k) => k === 'scan.detected'));
  assert.ok(s2.direct > 500);
  assert.ok(scans.length > 0 && scans.every((k) => k === 'scan.detected'), scans.join());
  assert.equal(scans.length, all.filter((k) => k === 'scan.detected').length);
  assert.equal(a.text(), b.text());
});

/**
 * The ban manager under a spoofed flood: N scan detections, each from a new random
 * source (as `hping3 --rand-source` produces), every one a threshold crossing, with the
 * dry-run backend and the real host facts (os.networkInterfaces(), /proc/net/route,
 * ipv6_route, resolv.conf). Reports CPU per detection, bans, refusals and memory.
 *
 *   node [--expose-gc] dist/test/bench/ban-flood.js [N=1000000] [--churn]
 *
 * `--churn`: each detection weighs half the threshold, so no source crosses it and every
 * new source past the score table's bound evicts one (the score-table churn figure).
 *
 * Not part of `npm test` (a figure, not an assertion); docs/ban-backends.md quotes it.
 */
import { Harness } from '../helpers/engine';
import { attachBans } from '../../src/ban/attach';
import { defaultBanSettings } from '../../src/ban/config';
import { event } from '../../src/output/event';
import { IpAddr } from '../../src/net/addr';
import { createLogger } from '../../src/log';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const churn = args.includes('--churn');
  const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
  const weights: Record<string, number> = churn ? { 'syn-scan': 5 } : {};
  const h = new Harness({}, { replayFile: '-', ban: { ...defaultBanSettings(), backend: 'dry-run', weights } });
  const log = createLogger('silent');
  const m = await attachBans(h.engine, h.engine.settings, { mode: 'live', log });
  if (!m) throw new Error('no manager');
  const t0 = 1_700_000_000;
  let x = 0x2545f491;
  const rnd = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const cpu0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const t = t0 + Math.floor(i / 1000); // 1,000 detections per second of packet time
    if (i % 1000 === 0) h.engine.advance(t);
    // documentation ranges only: 203.0.113.0/24 and 198.51.100.0/24 would be too few sources,
    // so the spoofed sources are random 32-bit values; nothing is sent anywhere
    const src = rnd();
    m.onEvent(event('scan.detected', t, IpAddr.v4(src), { dst: IpAddr.v4(0xc6336401), detector: 'syn-scan', count: 12, bytes: 240, detail: { title: 'TCP: SYN scan' } }));
  }
  const cpu = process.cpuUsage(cpu0);
  const wall = Number(process.hrtime.bigint() - w0) / 1e6;
  const us = (cpu.user + cpu.system) / n;
  const st = m.stats as unknown as Record<string, number>;
  console.log(
    JSON.stringify({
      detections: n,
      churn,
      cpuSec: +((cpu.user + cpu.system) / 1e6).toFixed(2),
      wallMs: Math.round(wall),
      usPerDetection: +us.toFixed(3),
      bans: st.bans,
      refusedBudget: st.refusedBudget,
      refusedAllow: st.refusedAllow,
      scoreEvictions: st.scoreEvictions,
      factsReads: st.factsReads,
      rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
      heapUsedMB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
      // with node --expose-gc: what the tables really hold (the rest is garbage V8 has not collected yet)
      liveHeapMB: liveHeapMB(),
    }),
  );
}

function liveHeapMB(): number | null {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return null;
  gc();
  return Math.round(process.memoryUsage().heapUsed / 2 ** 20);
}

void main();

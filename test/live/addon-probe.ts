/**
 * Run inside a test namespace (`ip netns exec NS node addon-probe.js IF0 IF1`) by
 * sensor.test.ts: exercises the addon directly on a veth pair whose two ends are both in
 * that namespace, and prints one JSON object with what it saw.
 *
 *  - Capture() on a missing device fails with its code; setFilter() reports pcap_compile;
 *  - frames injected on IF0 arrive on IF1 in batches laid out as pcap records
 *    (ts sec, ts nsec, caplen, len, bytes), with nanosecond timestamps near now;
 *  - a slot kept by JavaScript is not reused until release(); stats() count the packets;
 *  - `any` gives LINUX_SLL frames; close() joins the thread and may be repeated.
 */
import { loadAddon, type NativeCapture } from '../../src/capture/live';

const a = loadAddon();
const [if0, if1] = process.argv.slice(2) as [string, string];
const out: Record<string, unknown> = {};
const opts = { snaplen: 1500, promisc: false, bufferSize: 1 << 20, timeoutMs: 10 };

function frame(i: number): Buffer {
  const f = Buffer.alloc(60 + i);
  Buffer.from([2, 0x77, 0, 0, 0, 0x0b]).copy(f, 0);
  Buffer.from([2, 0x77, 0, 0, 0, 0x0a]).copy(f, 6);
  f.writeUInt16BE(0x88b5, 12); // local experimental EtherType: nothing answers it
  for (let k = 14; k < f.length; k++) f[k] = (k + i) & 0xff;
  return f;
}

async function main(): Promise<void> {
  try {
    new a.Capture('nosuch0', opts);
    out.missing = 'opened';
  } catch (e) {
    out.missing = (e as { code?: string }).code;
  }
  const bad = new a.Capture(if1, opts);
  try {
    bad.setFilter('ip and (tcp or');
  } catch (e) {
    out.badFilter = [(e as { code?: string }).code, (e as Error).message];
  }
  bad.close();
  bad.close();

  const rx: NativeCapture = new a.Capture(if1, opts);
  const tx: NativeCapture = new a.Capture(if0, opts);
  out.datalink = rx.datalink();
  out.nanosecond = rx.nanosecond();
  const slots = [Buffer.alloc(4096), Buffer.alloc(4096)];
  const records: { sec: number; nsec: number; caplen: number; len: number; ok: boolean; slot: number }[] = [];
  let kept = -1;
  rx.start(slots, 5, (kind, slot, bytes, _n) => {
    if (kind !== 0) {
      out.error = bytes;
      return false;
    }
    const b = slots[slot]!;
    for (let o = 0; o < (bytes as number); ) {
      const caplen = b.readUInt32LE(o + 8);
      const data = b.subarray(o + 16, o + 16 + caplen);
      const i = caplen - 60;
      records.push({ sec: b.readUInt32LE(o), nsec: b.readUInt32LE(o + 4), caplen, len: b.readUInt32LE(o + 12), ok: data.equals(frame(i)), slot });
      o += 16 + caplen;
    }
    // keep the first batch's slot: the next batches must use the other one
    if (kept < 0) {
      kept = slot;
      return true;
    }
    return false;
  });
  try {
    rx.setFilter('ip');
  } catch (e) {
    out.filterAfterStart = (e as Error).message;
  }
  const t0 = Date.now() / 1000;
  tx.inject(frame(0));
  await sleep(60);
  for (let i = 1; i <= 3; i++) tx.inject(frame(i));
  await sleep(60);
  rx.release(kept);
  tx.inject(frame(4));
  await sleep(100);
  out.records = records;
  out.t0 = t0;
  out.pending = rx.pending();
  rx.close();
  rx.close();
  // the capture thread's last pcap_stats() is taken as it ends: exact after close()
  out.stats = rx.stats();
  tx.close();
  const any = new a.Capture('any', opts);
  out.anyDatalink = any.datalink();
  any.close();
  process.stdout.write(JSON.stringify(out));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

void main();

/**
 * The two-stage replay of a capture file (`--threads 2`, issue 10 item 4): a worker
 * thread (src/capture/reader-worker.ts) reads and frames the file with the same parsers
 * as readCapture(), and hands the frames over through a SharedArrayBuffer ring
 * (src/capture/ring.ts); this thread runs `onFrame` (decode, detection, output) on each,
 * in file order, straight from the ring. Same frames, same errors (a CaptureError after
 * every complete frame before it), same summary, so the same output; the reader's
 * anomaly counts are added to `anomalies` when the file ends.
 *
 * `between` is awaited after about every MiB of frames handled and whenever the ring is
 * empty (then this thread waits for the reader, up to 50 ms at a time, with Atomics.wait).
 * No allocation per frame on either side.
 */
import { join } from 'node:path';
import type * as WorkerThreads from 'node:worker_threads';
import type { Anomalies } from '../decode/anomalies';
import { displayName, type CaptureReadOptions, type CaptureSummary } from './read';
import { C_POS, C_STATE, C_USED, CONTROL_BYTES, REC_HEADER, RING_BYTES, ST_RUNNING, WRAP, type ReaderResult } from './ring';
import { CaptureError, type FrameHandler } from './source';

/** dist/src/capture/reader-worker.js, from dist/src/capture/ and from the bundle in dist/src/bundle/ alike */
const WORKER = join(__dirname, '..', 'capture', 'reader-worker.js');
/** `between` at least this often (bytes of frames handled) */
const BETWEEN_BYTES = 1 << 20;

export async function readCaptureThreaded(path: string, onFrame: FrameHandler, anomalies: Anomalies, opts: CaptureReadOptions = {}): Promise<CaptureSummary> {
  if (opts.onLinktype !== undefined) throw new Error('internal: readCaptureThreaded has no onLinktype hook');
  const ring = new SharedArrayBuffer(opts.chunkSize === undefined ? RING_BYTES : Math.max(opts.chunkSize, 1 << 16) * 4);
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  const size = ring.byteLength;
  const buf = Buffer.from(ring);
  const words = new Int32Array(ring);
  const ctl = new Int32Array(control);
  const pos = new Float64Array(control);
  // loaded here, not at start-up: a replay that stays on one thread never needs it (issue 10 item 3)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Worker } = require('node:worker_threads') as typeof WorkerThreads;
  const worker = new Worker(WORKER, { workerData: { path, ring, control, strictLinktype: opts.strictLinktype === true } });
  let ended = false;
  const result = new Promise<ReaderResult>((resolve, reject) => {
    worker.once('message', (m: ReaderResult) => {
      ended = true;
      resolve(m);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`internal: the reader thread of ${displayName(path)} exited (${code}) without a result`)));
  });
  // a failure of the thread itself surfaces through `result` below; never unhandled
  result.catch(() => {});
  const between = opts.between;
  let r = 0;
  let sinceBetween = 0;
  try {
    for (;;) {
      const avail = Atomics.load(ctl, C_USED);
      if (avail === 0) {
        if (between !== undefined && sinceBetween > 0) {
          sinceBetween = 0;
          await between(pos[C_POS >> 1]!);
          continue;
        }
        if (Atomics.load(ctl, C_STATE) !== ST_RUNNING) {
          if (Atomics.load(ctl, C_USED) === 0) break;
          continue;
        }
        if (Atomics.wait(ctl, C_USED, 0, 50) === 'timed-out') {
          // the reader may be slow (a pipe) or gone: let the event loop turn
          await new Promise<void>((res) => setImmediate(res));
          if (ended && Atomics.load(ctl, C_STATE) === ST_RUNNING) break;
        }
        continue;
      }
      let done = 0;
      while (done < avail) {
        const i = r >> 2;
        const n = words[i]!;
        if (n === WRAP) {
          done += size - r;
          r = 0;
          continue;
        }
        onFrame(buf, r + REC_HEADER, words[i + 3]!, words[i + 4]! >>> 0, words[i + 1]! >>> 0, words[i + 2]! >>> 0, words[i + 5]!);
        r += n;
        if (r === size) r = 0;
        done += n;
      }
      Atomics.sub(ctl, C_USED, done);
      Atomics.notify(ctl, C_USED);
      sinceBetween += done;
      if (between !== undefined && sinceBetween >= BETWEEN_BYTES) {
        sinceBetween = 0;
        await between(pos[C_POS >> 1]!);
      }
    }
    const res = await result;
    for (let i = 0; i < res.anomalies.length; i++) anomalies.counts[i] += res.anomalies[i]!;
    if (!res.ok) {
      if (res.capture) throw new CaptureError(res.message, res.code);
      throw new Error(res.message);
    }
    return { frames: res.frames, bytes: res.bytes, format: res.format, maxBufferBytes: res.maxBufferBytes };
  } finally {
    if (!ended) await worker.terminate();
  }
}

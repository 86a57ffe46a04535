/**
 * The reader thread of the two-stage replay (src/capture/threaded.ts): reads one capture
 * file with readCapture() (the same parsers, the same errors) and copies every frame into
 * the shared ring (src/capture/ring.ts) in file order. The main thread does all the rest.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Anomalies } from '../decode/anomalies';
import { readCapture } from './read';
import { CaptureError } from './source';
import { C_POS, C_STATE, C_USED, PUBLISH_BYTES, REC_HEADER, ST_DONE, ST_FAILED, WRAP, recordBytes, type ReaderResult } from './ring';

interface Job {
  path: string;
  ring: SharedArrayBuffer;
  control: SharedArrayBuffer;
  strictLinktype: boolean;
}

async function run(job: Job): Promise<void> {
  const size = job.ring.byteLength;
  const bytes = new Uint8Array(job.ring);
  const words = new Int32Array(job.ring);
  const ctl = new Int32Array(job.control);
  const pos = new Float64Array(job.control);
  const an = new Anomalies();
  let w = 0; // write position
  let pending = 0; // bytes written, not yet published
  let used = 0; // what the producer last knew of USED (grows only through it)

  const publish = (): void => {
    if (pending === 0) return;
    used = Atomics.add(ctl, C_USED, pending) + pending;
    pending = 0;
    Atomics.notify(ctl, C_USED);
  };
  /** wait until `need` bytes are free */
  const room = (need: number): void => {
    while (size - used - pending < need) {
      publish();
      used = Atomics.load(ctl, C_USED);
      if (size - used - pending >= need) break;
      Atomics.wait(ctl, C_USED, used, 1000);
      used = Atomics.load(ctl, C_USED);
    }
  };

  const onFrame = (buf: Buffer, off: number, caplen: number, wirelen: number, sec: number, nsec: number, linktype: number): void => {
    const n = recordBytes(caplen);
    if (w + n > size) {
      // the rest of the ring is skipped: a WRAP word, counted as used
      const rest = size - w;
      room(rest);
      words[w >> 2] = WRAP;
      pending += rest;
      w = 0;
    }
    room(n);
    const i = w >> 2;
    words[i] = n;
    words[i + 1] = sec;
    words[i + 2] = nsec;
    words[i + 3] = caplen;
    words[i + 4] = wirelen;
    words[i + 5] = linktype;
    // a plain loop: subarray() or Buffer.copy() would make an object per frame
    const to = w + REC_HEADER;
    for (let k = 0; k < caplen; k++) bytes[to + k] = buf[off + k]!;
    w += n;
    if (w === size) w = 0;
    pending += n;
    if (pending >= PUBLISH_BYTES) publish();
  };

  let result: ReaderResult;
  try {
    const s = await readCapture(job.path, onFrame, an, {
      strictLinktype: job.strictLinktype,
      between: (consumed) => {
        publish();
        pos[C_POS >> 1] = consumed;
      },
    });
    result = { ok: true, frames: s.frames, bytes: s.bytes, format: s.format, maxBufferBytes: s.maxBufferBytes, anomalies: an.counts };
  } catch (e) {
    const capture = e instanceof CaptureError;
    result = { ok: false, capture, message: (e as Error)?.message ?? String(e), code: capture ? e.code : '', anomalies: an.counts };
  }
  publish();
  parentPort!.postMessage(result);
  Atomics.store(ctl, C_STATE, result.ok ? ST_DONE : ST_FAILED);
  Atomics.notify(ctl, C_USED);
}

void run(workerData as Job);

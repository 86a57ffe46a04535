/**
 * Test helper: run the capture readers over a file or an in-memory capture and collect
 * every frame (copied out of the reader's reused buffer), the summary, the anomaly
 * counters and the error, if any, instead of throwing it — so a test can check which
 * frames came before a failure.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { Anomalies } from '../../src/decode/anomalies';
import { CaptureReadOptions, CaptureSummary, readCapture, readCaptureStream } from '../../src/capture/read';

export interface CollectedFrame {
  data: Buffer;
  caplen: number;
  wirelen: number;
  sec: number;
  nsec: number;
  linktype: number;
}

export interface Collected {
  frames: CollectedFrame[];
  summary: CaptureSummary | null;
  error: unknown;
  anomalies: Anomalies;
  /** Largest `buf.length` the callback ever saw. */
  maxBufSeen: number;
}

async function run(
  go: (onFrame: Parameters<typeof readCapture>[1], an: Anomalies) => Promise<CaptureSummary>,
): Promise<Collected> {
  const frames: CollectedFrame[] = [];
  const anomalies = new Anomalies();
  let maxBufSeen = 0;
  let summary: CaptureSummary | null = null;
  let error: unknown = null;
  try {
    summary = await go((buf, off, caplen, wirelen, sec, nsec, linktype) => {
      if (buf.length > maxBufSeen) maxBufSeen = buf.length;
      frames.push({ data: Buffer.from(buf.subarray(off, off + caplen)), caplen, wirelen, sec, nsec, linktype });
    }, anomalies);
  } catch (e) {
    error = e;
  }
  return { frames, summary, error, anomalies, maxBufSeen };
}

/** Read a file on disk. */
export function collectFile(file: string, opts?: CaptureReadOptions): Promise<Collected> {
  return run((cb, an) => readCapture(file, cb, an, opts));
}

let tmpDir: string | null = null;
let tmpSeq = 0;

/** Write `bytes` to a temporary file (named `name`, default capture-N.pcap) and return its path. */
export function tempCapture(bytes: Uint8Array, name?: string): string {
  if (tmpDir === null) {
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'iplog-capture-'));
    const dir = tmpDir;
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  const p = path.join(tmpDir, name ?? `capture-${tmpSeq++}.pcap`);
  fs.writeFileSync(p, bytes);
  return p;
}

/** Read an in-memory capture through a temporary file (the synchronous file path). */
export function collectBytes(bytes: Uint8Array, opts?: CaptureReadOptions): Promise<Collected> {
  return collectFile(tempCapture(bytes), opts);
}

/** Read an in-memory capture as a stream delivered in pieces of `piece` bytes (the stdin path). */
export function collectStream(bytes: Uint8Array, piece = 65536, opts?: CaptureReadOptions, name = 'stdin'): Promise<Collected> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += piece) pieces.push(Buffer.from(bytes.subarray(i, i + piece)));
  return run((cb, an) => readCaptureStream(Readable.from(pieces), name, cb, an, opts));
}

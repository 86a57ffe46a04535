/**
 * Replay of one or more captures (`-r a.pcap b.pcapng dir/`) through one engine, on one
 * packet clock: the inputs are read in the order given, a directory stands for its
 * capture files sorted by name, and the deadlines still pending at the end are drained
 * once, after the last file. A file that fails (cannot be opened, truncated, unsupported
 * link type) is reported on standard error and the replay goes on with the next one; the
 * run then ends with status 1.
 *
 * Standard input (`-`) and other non-regular files (a fifo, a socket) are read as
 * streams, so the event loop keeps turning while they wait for data; for regular files
 * the reader yields to the event loop every YIELD_MS, so that SIGUSR1 (statistics), the
 * progress display and reverse-DNS replies are served during a long replay.
 */
import { closeSync, createReadStream, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readCapture, readCaptureStream, displayName, type CaptureSummary } from '../capture/read';
import { CaptureError, type FrameHandler } from '../capture/source';
import { readCaptureThreaded } from '../capture/threaded';
import { availableParallelism } from 'node:os';
import { Engine } from '../pipeline';
import type { Settings } from '../config/settings';
import type { LineSink } from '../output/sinks/sink';
import type { HostRenderer } from '../output/resolve-api';

/** How often (ms of wall time) a replay of regular files lets the event loop turn. */
const YIELD_MS = 100;

/** pcap (both byte orders, µs and ns) and pcapng magics, as the first four bytes read big-endian. */
const MAGICS = new Set([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a]);

/** One capture to read: a path (or `-`), and its size when known (regular files). */
export interface ReplayInput {
  readonly path: string;
  readonly size: number | undefined;
}

/**
 * The inputs the command line names, expanded: a directory becomes its capture files
 * (regular files whose first four bytes are a pcap or pcapng magic, names not starting
 * with a dot, sorted by name; not recursive). `note` is told about the files of a
 * directory that were left out. A path that cannot be looked at is kept as is: reading
 * it reports the error.
 */
export function expandInputs(paths: readonly string[], note: (text: string) => void): ReplayInput[] {
  const out: ReplayInput[] = [];
  for (const p of paths) {
    if (p === '-') {
      out.push({ path: p, size: undefined });
      continue;
    }
    let st;
    try {
      st = statSync(p);
    } catch {
      out.push({ path: p, size: undefined });
      continue;
    }
    if (!st.isDirectory()) {
      out.push({ path: p, size: st.isFile() ? st.size : undefined });
      continue;
    }
    const names = readdirSync(p).filter((n) => !n.startsWith('.')).sort();
    let found = 0;
    for (const name of names) {
      const f = join(p, name);
      let fst;
      try {
        fst = statSync(f);
      } catch {
        continue;
      }
      if (!fst.isFile()) continue;
      if (!hasCaptureMagic(f)) {
        note(`iplog: ${f}: not a pcap or pcapng file, skipped\n`);
        continue;
      }
      out.push({ path: f, size: fst.size });
      found++;
    }
    if (found === 0) note(`iplog: ${p}: no capture files in this directory\n`);
  }
  return out;
}

function hasCaptureMagic(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const b = Buffer.alloc(4);
    if (readSync(fd, b, 0, 4, 0) < 4) return false;
    return MAGICS.has(b.readUInt32BE(0));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** What a replay tells its observer (progress display, statistics). */
export interface ReplayObserver {
  /** a file starts (index in the expanded list) */
  fileStarted?(index: number, input: ReplayInput): void;
  /** between chunks: bytes read so far from the current file */
  progress?(fileBytes: number): void;
  /** every frame's timestamp (seconds): the summary's time span */
  frameTime?(sec: number): void;
  /** an input failed (the replay goes on with the next one) */
  fileFailed?(index: number, error: CaptureError): void;
  /** every input has been read; the engine is about to drain and close its sink */
  finishing?(files: readonly FileResult[]): void;
}

export interface FileResult {
  readonly input: ReplayInput;
  readonly summary: CaptureSummary | null;
  readonly error: CaptureError | null;
  /** bytes of the input read (the whole file when it was read to the end) */
  readonly bytesRead: number;
}

export interface MultiReplayResult {
  readonly engine: Engine;
  readonly files: FileResult[];
  /** an error that is not about one input (a bug, a failing sink): ends the replay */
  readonly error: Error | null;
}

/**
 * Replay `inputs` in order through one engine. `prepare` runs once the engine exists and
 * before the first frame (main.ts attaches the ban manager there).
 */
export async function replayInputs(
  settings: Settings,
  inputs: readonly ReplayInput[],
  sink: LineSink,
  renderer: HostRenderer | null,
  prepare?: (engine: Engine) => Promise<void>,
  observer: ReplayObserver = {},
): Promise<MultiReplayResult> {
  const engine = new Engine(settings, sink, renderer);
  if (prepare) await prepare(engine);
  const files: FileResult[] = [];
  let error: Error | null = null;
  let lastYield = Date.now();
  let bytesRead = 0;
  const between = async (consumed?: number): Promise<void> => {
    if (consumed !== undefined) bytesRead = consumed;
    sink.flush();
    if (engine.out.pending() > 0) await engine.out.idle();
    // a replay waits for a slow output rather than dropping lines
    const r = sink.ready?.();
    if (r) await r;
    if (consumed !== undefined) observer.progress?.(consumed);
    const now = Date.now();
    if (now - lastYield >= YIELD_MS) {
      lastYield = now;
      await new Promise<void>((res) => setImmediate(res));
    }
  };
  const frameTime = observer.frameTime;
  const engineFrame = engine.onFrame;
  const onFrame: FrameHandler =
    frameTime === undefined
      ? engineFrame
      : (buf, off, caplen, wirelen, sec, nsec, linktype) => {
          frameTime(sec);
          engineFrame(buf, off, caplen, wirelen, sec, nsec, linktype);
        };
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i]!;
    observer.fileStarted?.(i, input);
    bytesRead = 0;
    try {
      const summary = await readOne(input.path, engine, onFrame, between, input.size);
      files.push({ input, summary, error: null, bytesRead });
    } catch (e) {
      if (e instanceof CaptureError) {
        files.push({ input, summary: null, error: e, bytesRead });
        observer.fileFailed?.(i, e);
        continue;
      }
      error = e as Error;
      break;
    }
  }
  observer.finishing?.(files);
  await engine.finish();
  return { engine, files, error };
}

/**
 * Threads for reading a regular capture file (issue 10 item 4): `--threads N` / `threads N`,
 * else DEFAULT_THREADS; never more than the cores available. 2 = the reader in a worker
 * thread (src/capture/threaded.ts) for files of at least THREADED_MIN_BYTES.
 */
export function replayThreads(settings: Settings): number {
  const want = settings.threads ?? DEFAULT_THREADS;
  return Math.max(1, Math.min(want, 2, availableParallelism()));
}

/**
 * The default: one thread. Measured (docs/benchmarks.md, "Two-stage replay"): the reader
 * thread does not pay for itself on the benchmark machine, so it is used only when asked for.
 */
export const DEFAULT_THREADS = 1;
/** a worker thread's start costs tens of milliseconds: not for a small file */
export const THREADED_MIN_BYTES = 4 * 1024 * 1024;

async function readOne(path: string, engine: Engine, onFrame: FrameHandler, between: (consumed?: number) => Promise<void>, size?: number): Promise<CaptureSummary> {
  const opts = { strictLinktype: true, between };
  if (replayThreads(engine.settings) >= 2 && size !== undefined && size >= THREADED_MIN_BYTES && path !== '-' && isRegularOrMissing(path)) {
    return readCaptureThreaded(path, onFrame, engine.an, opts);
  }
  if (path !== '-' && !isRegularOrMissing(path)) {
    // a fifo or socket: a stream, so that waiting for data does not block the event loop
    const stream = createReadStream(path, { highWaterMark: 1 << 20 });
    const opened = new Promise<void>((res, rej) => {
      stream.once('open', () => res());
      stream.once('error', rej);
    });
    try {
      await opened;
    } catch {
      // let readCapture word the error as it does for every file
      return readCapture(path, onFrame, engine.an, opts);
    }
    return readCaptureStream(stream, displayName(path), onFrame, engine.an, opts);
  }
  return readCapture(path, onFrame, engine.an, opts);
}

function isRegularOrMissing(path: string): boolean {
  try {
    const st = statSync(path);
    return !st.isFIFO() && !st.isSocket() && !st.isCharacterDevice();
  } catch {
    return true;
  }
}

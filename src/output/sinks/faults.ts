/**
 * What happens when an output cannot be written (docs/operations.md "Faults").
 *
 * One OutputFaults per process (a live sensor keeps it across restarts) knows every
 * file-descriptor output by name (`stdout`, or the path of `-l` / `--json FILE`) and how
 * each is doing. A write error never reaches the packet path as an exception in a live
 * sensor:
 *
 *  - a log file that fails (ENOSPC, EIO, EDQUOT, EFBIG, EROFS, ...) loses the chunk being
 *    written and the ones after it while it fails; the first failure is logged
 *    (`output write failed`, IPLOG_ERR_OUTPUT_WRITE) with a reminder every 60 s, the lost
 *    lines are counted, and the first write that succeeds again logs `output recovered`
 *    with the count; a line cut by the failure is ended before the next one;
 *  - standard output whose reader went away (EPIPE) is given up for the life of the
 *    process: `output closed` (IPLOG_ERR_OUTPUT_CLOSED), lines counted from then on.
 *
 * Capture, detection, the other outputs and bans go on. In a replay a failing file ends
 * the run with one clear error (IplogError, status 1); a closed standard output ends it
 * only when nothing else is written (BrokenPipeError), else the run goes on with the
 * other outputs; main() then reports the lost output and exits 1.
 */
import { IplogError, ERR } from '../../errors';
import { strerror } from '../../cli/kill';

/** The operational log, as far as the outputs use it. */
export interface FaultLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export type OutputMode = 'replay' | 'live';

/** How often a live sensor repeats `output write failed` while an output keeps failing. */
export const REMIND_MS = 60_000;

export class OutputState {
  /** lines (and parts of lines) not written, over the life of the process */
  linesLost = 0;
  bytesLost = 0;
  /** failed writes */
  failures = 0;
  /** outages that ended (a write succeeded again) */
  recoveries = 0;
  /** failing now (a file) */
  failing = false;
  /** given up for good (standard output closed by its reader) */
  closed = false;
  lastError = '';
  /** lines lost in the current outage */
  private outageLines = 0;
  private outageStart = 0;
  private lastReminder = 0;
  /** the last write stopped inside a line: end it before the next one */
  cutLine = false;

  constructor(
    readonly name: string,
    private readonly owner: OutputFaults,
  ) {}

  /** A write failed with `e` after `written` bytes of `chunk` went out. */
  failed(e: unknown, chunk: string, written: number): void {
    const code = (e as NodeJS.ErrnoException)?.code ?? '';
    const unwritten = Buffer.from(chunk, 'utf8').subarray(written).toString('utf8');
    const lines = countLines(unwritten);
    this.failures++;
    this.linesLost += lines;
    this.bytesLost += Buffer.byteLength(unwritten);
    this.lastError = writeError(e);
    if (written > 0) this.cutLine = true;
    const log = this.owner.log;
    const mode = this.owner.mode;
    if (code === 'EPIPE' && this.name === 'stdout') {
      this.closed = true;
      // a replay says it once on stderr at its end (main.ts)
      if (mode === 'live') log?.error({ code: ERR.OUTPUT_CLOSED, output: this.name, linesLost: lines }, 'output closed: standard output has no reader; its lines are counted and dropped from now on');
      if (mode === 'replay' && this.owner.outputs <= 1) throw new BrokenPipeError();
      return;
    }
    if (mode === 'replay') {
      this.failing = true; // what the end of the run still writes is dropped
      throw new IplogError(`cannot write to "${this.name}": ${writeError(e)}.`, ERR.OUTPUT_WRITE);
    }
    const now = Date.now();
    if (!this.failing) {
      this.failing = true;
      this.outageLines = 0;
      this.outageStart = now;
      this.lastReminder = now;
      log?.error({ code: ERR.OUTPUT_WRITE, output: this.name, err: this.lastError }, 'output write failed: lines are counted and dropped until it works again');
    } else if (now - this.lastReminder >= REMIND_MS) {
      this.lastReminder = now;
      log?.warn({ code: ERR.OUTPUT_WRITE, output: this.name, err: this.lastError, linesLost: this.outageLines + lines, seconds: Math.round((now - this.outageStart) / 1000) }, 'output still failing');
    }
    this.outageLines += lines;
  }

  /** A write that went out whole. */
  succeeded(): void {
    if (!this.failing) return;
    this.failing = false;
    this.recoveries++;
    this.owner.log?.warn(
      { code: ERR.OUTPUT_WRITE, output: this.name, linesLost: this.outageLines, seconds: Math.round((Date.now() - this.outageStart) / 1000), err: this.lastError },
      'output recovered',
    );
    this.outageLines = 0;
  }

  /** Lines given to an output already given up. */
  dropped(chunk: string): void {
    this.linesLost += countLines(chunk);
    this.bytesLost += Buffer.byteLength(chunk);
  }
}

export class BrokenPipeError extends Error {
  constructor() {
    super('output closed (EPIPE)');
  }
}

/** The outputs of one process. */
export class OutputFaults {
  private readonly states = new Map<string, OutputState>();
  /** outputs the run writes to (syslog included): a replay's closed stdout stops it only if 1 */
  outputs = 1;

  constructor(
    readonly mode: OutputMode,
    public log?: FaultLog,
  ) {}

  /** The state of output `name` (the same one again after a restart reopens it). */
  output(name: string): OutputState {
    let s = this.states.get(name);
    if (s === undefined) this.states.set(name, (s = new OutputState(name, this)));
    return s;
  }

  /** Outputs that lost lines, for statistics and the end of a replay. */
  losses(): { output: string; linesLost: number; bytesLost: number; failures: number; closed: boolean; failing: boolean; error: string }[] {
    const out = [];
    for (const s of this.states.values()) {
      if (s.failures === 0 && s.linesLost === 0) continue;
      out.push({ output: s.name, linesLost: s.linesLost, bytesLost: s.bytesLost, failures: s.failures, closed: s.closed, failing: s.failing, error: s.lastError });
    }
    return out;
  }
}

const MORE: Record<string, string> = { EIO: 'Input/output error', EDQUOT: 'Disk quota exceeded', EPIPE: 'Broken pipe', ENXIO: 'No such device or address' };

/** strerror(3) wording of a write error. */
export function writeError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  return (code !== undefined ? MORE[code] : undefined) ?? strerror(e);
}

function countLines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  // a line without its newline yet (cut) counts as one
  if (s.length > 0 && s[s.length - 1] !== '\n') n++;
  return n;
}

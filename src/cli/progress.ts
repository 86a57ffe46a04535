/**
 * What a replay tells the person running it, on standard error (never on standard output,
 * which carries the iplog lines or the JSON events):
 *
 *  - a progress line while it runs, only when standard error is a terminal and `-q`
 *    (modern profile: --quiet) was not given: file n/N, bytes read of the total, packets
 *    per second, the estimated time left (when every input's size is known), redrawn in
 *    place at most five times a second and erased at the end;
 *  - on SIGUSR1, one statistics line (any mode: a pipe or a file gets it too);
 *  - at the end, a summary: inputs, packets, bytes, the packet-time span, detections by
 *    kind, anomalies, bans; and, in the JSON stream, the same as a final `iplog.summary`
 *    record (docs/json-events.md).
 *
 * The counts come from the engine and from the events the emitter hands its subscribers
 * (one per line written), so they cost nothing per packet.
 */
import type { Engine } from '../pipeline';
import type { IplogEvent } from '../output/event';
import type { ReplayInput, FileResult } from './replay';

/** Event kinds that are detections (not per-packet log lines). */
export function isDetection(kind: string): boolean {
  return kind === 'scan.detected' || kind.startsWith('frag.') || kind === 'tcp.bogus_flags' || kind === 'udp.traceroute';
}

/** The name a detection is counted under: the detector for scans, else the kind. */
function detectionName(ev: IplogEvent): string {
  return ev.kind === 'scan.detected' && ev.detector !== null ? ev.detector : ev.kind;
}

export interface SummaryFacts {
  files: number;
  failed: number;
  packets: number;
  ipv4: number;
  bytes: number;
  lines: number;
  first: number | null;
  last: number | null;
  detections: Record<string, number>;
  anomalies: Record<string, number>;
  bans: Record<string, number>;
  seconds: number;
}

const MIB = 1024 * 1024;

function human(bytes: number): string {
  if (bytes < 10 * 1024) return `${bytes} B`;
  if (bytes < 10 * MIB) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 10 * 1024 * MIB) return `${(bytes / MIB).toFixed(1)} MiB`;
  return `${(bytes / (1024 * MIB)).toFixed(2)} GiB`;
}

function duration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '?';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const iso = (sec: number): string => new Date(sec * 1000).toISOString().replace('.000Z', 'Z');

function list(rec: Record<string, number>): string {
  const keys = Object.keys(rec).sort();
  return keys.length === 0 ? 'none' : keys.map((k) => `${k} ${rec[k]}`).join(', ');
}

export interface ReportOptions {
  /** draw the progress line (stderr is a terminal and not -q) */
  progress: boolean;
  write: (text: string) => void;
  /** wall clock in ms (tests) */
  clock?: () => number;
  /** terminal width for the bar */
  columns?: number;
}

export class ReplayReport {
  private readonly detections = new Map<string, number>();
  private readonly bans = new Map<string, number>();
  private readonly clock: () => number;
  private readonly started: number;
  private readonly total: number | undefined;
  private doneBytes = 0;
  private fileBytes = 0;
  private fileIndex = 0;
  private lastDraw = 0;
  private drawn = false;
  private engine: Engine | null = null;
  first: number | null = null;
  last: number | null = null;

  constructor(
    private readonly inputs: readonly ReplayInput[],
    private readonly o: ReportOptions,
  ) {
    this.clock = o.clock ?? Date.now;
    this.started = this.clock();
    this.total = inputs.every((i) => i.size !== undefined) ? inputs.reduce((a, i) => a + (i.size ?? 0), 0) : undefined;
  }

  /** Count the events of `engine` (called once it exists). */
  attach(engine: Engine): void {
    this.engine = engine;
    engine.out.subscribe(
      (ev) => {
        if (isDetection(ev.kind)) {
          const k = detectionName(ev);
          this.detections.set(k, (this.detections.get(k) ?? 0) + 1);
        } else if (ev.kind.startsWith('ban.')) {
          const k = ev.kind.slice(4);
          this.bans.set(k, (this.bans.get(k) ?? 0) + 1);
        }
      },
      (kind) => isDetection(kind) || kind.startsWith('ban.'),
    );
  }

  /** The packet-time bounds, from the frames (min/max of the seconds). */
  sawTime(sec: number): void {
    if (this.first === null || sec < this.first) this.first = sec;
    if (this.last === null || sec > this.last) this.last = sec;
  }

  fileStarted(index: number): void {
    if (index > 0) this.doneBytes += this.inputs[index - 1]?.size ?? this.fileBytes;
    this.fileIndex = index;
    this.fileBytes = 0;
  }

  progress(fileBytes: number): void {
    this.fileBytes = fileBytes;
    if (!this.o.progress) return;
    const now = this.clock();
    if (now - this.lastDraw < 200) return;
    this.lastDraw = now;
    this.o.write(`\r${this.progressLine(now)}\x1b[K`);
    this.drawn = true;
  }

  /** Erase the progress line (before anything else is written to the terminal). */
  clear(): void {
    if (this.drawn) this.o.write('\r\x1b[K');
    this.drawn = false;
  }

  private bytesRead(): number {
    return this.doneBytes + this.fileBytes;
  }

  progressLine(now = this.clock()): string {
    const secs = Math.max((now - this.started) / 1000, 0.001);
    const packets = this.engine?.packets ?? 0;
    const pps = Math.round(packets / secs);
    const read = this.bytesRead();
    const files = this.inputs.length > 1 ? `file ${this.fileIndex + 1}/${this.inputs.length} ` : '';
    if (this.total === undefined || this.total === 0) {
      return `iplog: ${files}${human(read)} read, ${packets} packets, ${pps} packets/s`;
    }
    const frac = Math.min(read / this.total, 1);
    const width = Math.max(10, Math.min(30, (this.o.columns ?? 80) - 60));
    const fill = Math.round(frac * width);
    const bar = `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}]`;
    const eta = frac > 0 ? duration((secs * (1 - frac)) / frac) : '?';
    return `iplog: ${files}${bar} ${(frac * 100).toFixed(0).padStart(3)}% ${human(read)}/${human(this.total)}, ${pps} packets/s, ETA ${eta}`;
  }

  facts(files: readonly FileResult[] = []): SummaryFacts {
    const e = this.engine;
    return {
      files: this.inputs.length,
      failed: files.filter((f) => f.error !== null).length,
      packets: e?.packets ?? 0,
      ipv4: e?.ipv4Packets ?? 0,
      bytes: files.length > 0 ? files.reduce((a, f) => a + f.bytesRead, 0) : this.bytesRead(),
      lines: e?.out.lines ?? 0,
      first: this.first,
      last: this.last,
      detections: Object.fromEntries(this.detections),
      anomalies: e === null ? {} : Object.fromEntries(e.an.nonZero()),
      bans: Object.fromEntries(this.bans),
      seconds: Math.round((this.clock() - this.started) / 10) / 100,
    };
  }

  /** SIGUSR1 during a replay: one line. */
  statisticsLine(): string {
    const f = this.facts();
    const where = this.inputs.length > 1 ? `file ${this.fileIndex + 1} of ${this.inputs.length} (${this.inputs[this.fileIndex]?.path ?? '?'}), ` : '';
    return `iplog: statistics: ${where}${f.packets} packets (${f.ipv4} IPv4), ${human(f.bytes)} read, ${f.lines} lines; detections: ${list(f.detections)}; anomalies: ${list(f.anomalies)}; bans: ${list(f.bans)}`;
  }

  /** What was replayed, deterministic (no wall time): the text of the JSON summary record. */
  summaryText(f: SummaryFacts): string {
    const span = f.first === null || f.last === null ? 'no packets' : `${iso(f.first)} to ${iso(f.last)} (${duration(f.last - f.first)})`;
    const inputs = `${f.files} input${f.files === 1 ? '' : 's'}${f.failed > 0 ? ` (${f.failed} failed)` : ''}`;
    return `replayed ${inputs}: ${f.packets} packets (${f.ipv4} IPv4), ${human(f.bytes)}; packet time ${span}`;
  }

  /** The end-of-run summary lines for standard error (no trailing newline on each). */
  summaryLines(f: SummaryFacts): string[] {
    return [
      `iplog: ${this.summaryText(f)}; ${f.seconds}s`,
      `iplog: ${f.lines} lines; detections: ${list(f.detections)}`,
      `iplog: anomalies: ${list(f.anomalies)}; bans: ${list(f.bans)}`,
    ];
  }
}

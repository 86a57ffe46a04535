/**
 * Runs firewall commands without ever holding up detection (STYLE habit 13): argv go to
 * execFile (no shell), one at a time in submission order (a ban and the unban of the same
 * address must not overtake each other), from a bounded queue. A failed command is
 * retried with exponential backoff; what still fails is logged with a stable code
 * (IPLOG_ERR_BAN_*) and counted, and the sensor carries on.
 *
 * Bounds: at most MAX_QUEUE jobs wait (more are dropped, IPLOG_ERR_BAN_QUEUE_FULL);
 * a command is killed after TIMEOUT_MS (IPLOG_ERR_BAN_TIMEOUT); RETRIES extra attempts,
 * BACKOFF_MS, 2×, 4× apart; a missing program is not retried (IPLOG_ERR_BAN_NOT_FOUND).
 * The budget of new bans (manager.ts) keeps the queue short in practice.
 */
import { execFile } from 'node:child_process';
import type { Logger } from '../log';
import { ERR } from '../errors';
import { renderCmd, type Cmd } from './backend';

export interface RunResult {
  readonly ok: boolean;
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** spawn error code (ENOENT, ...) */
  readonly errno?: string;
  readonly timedOut?: boolean;
}

/** One attempt of one argv (with its stdin). */
export type Runner = (argv: readonly string[], stdin: string | undefined) => Promise<RunResult>;

export const TIMEOUT_MS = 10_000;
export const RETRIES = 3;
export const BACKOFF_MS = 500;
export const MAX_QUEUE = 10_000;

/** The real runner: execFile, C locale (error texts are matched by okIf), bounded output. */
export function execRunner(timeoutMs = TIMEOUT_MS): Runner {
  return (argv, stdin) =>
    new Promise((resolve) => {
      const child = execFile(
        argv[0]!,
        argv.slice(1),
        { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: 'C', LANG: 'C' } },
        (err, stdout, stderr) => {
          if (err === null) return resolve({ ok: true, status: 0, stdout, stderr });
          const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean; signal?: string };
          const errno = typeof e.code === 'string' ? e.code : undefined;
          resolve({
            ok: false,
            status: typeof e.code === 'number' ? e.code : null,
            stdout: stdout ?? '',
            stderr: stderr || e.message,
            errno,
            timedOut: e.killed === true && e.signal === 'SIGKILL',
          });
        },
      );
      child.stdin?.on('error', () => undefined); // a program that exits without reading stdin
      child.stdin?.end(stdin ?? '');
    });
}

export interface QueueOptions {
  retries?: number;
  backoffMs?: number;
  maxQueue?: number;
  /** wall-clock wait between retries (tests pass an instant one) */
  sleep?: (ms: number) => Promise<void>;
}

export interface JobResult {
  /** every command succeeded (or was skipped by `unless`, or failed in an `okIf` way) */
  readonly ok: boolean;
  /** stdout of each command, in order ('' for skipped or failed ones) */
  readonly outputs: string[];
}

interface Job {
  cmds: readonly Cmd[];
  what: string;
  done: (r: JobResult) => void;
}

export interface QueueStats {
  /** argv executed (attempts, `unless` probes included) */
  commands: number;
  /** commands that finally failed */
  failed: number;
  retried: number;
  /** skipped because their `unless` probe succeeded */
  skipped: number;
  /** jobs dropped because the queue was full */
  dropped: number;
}

export class CommandQueue {
  private readonly jobs: Job[] = [];
  private running = false;
  private waiters: (() => void)[] = [];
  readonly stats: QueueStats = { commands: 0, failed: 0, retried: 0, skipped: 0, dropped: 0 };
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxQueue: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly runner: Runner,
    private readonly log: Logger,
    opts: QueueOptions = {},
  ) {
    this.retries = opts.retries ?? RETRIES;
    this.backoffMs = opts.backoffMs ?? BACKOFF_MS;
    this.maxQueue = opts.maxQueue ?? MAX_QUEUE;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Queue `cmds` as one job; resolves when it has run (never rejects). */
  run(cmds: readonly Cmd[], what: string): Promise<JobResult> {
    return new Promise((done) => {
      if (cmds.length === 0) return done({ ok: true, outputs: [] });
      if (this.jobs.length >= this.maxQueue) {
        this.stats.dropped++;
        this.log.error({ code: ERR.BAN_QUEUE_FULL, what, queued: this.jobs.length }, 'firewall command queue full: command dropped');
        return done({ ok: false, outputs: [] });
      }
      this.jobs.push({ cmds, what, done });
      if (!this.running) void this.pump();
    });
  }

  /** Jobs waiting or running. */
  pending(): number {
    return this.jobs.length + (this.running ? 1 : 0);
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (!this.running && this.jobs.length === 0) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  private async pump(): Promise<void> {
    this.running = true;
    while (this.jobs.length > 0) {
      const job = this.jobs.shift()!;
      const outputs: string[] = [];
      let ok = true;
      for (const c of job.cmds) {
        const r = await this.one(c, job.what);
        outputs.push(r.out);
        if (!r.ok) ok = false;
      }
      job.done({ ok, outputs });
    }
    this.running = false;
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }

  private async attempt(argv: readonly string[], stdin: string | undefined): Promise<RunResult> {
    this.stats.commands++;
    this.log.debug({ argv, stdin }, 'ban command');
    try {
      return await this.runner(argv, stdin);
    } catch (e) {
      return { ok: false, status: null, stdout: '', stderr: (e as Error).message };
    }
  }

  private async one(c: Cmd, what: string): Promise<{ ok: boolean; out: string }> {
    if (c.unless) {
      const probe = await this.attempt(c.unless, undefined);
      if (probe.ok) {
        this.stats.skipped++;
        return { ok: true, out: '' };
      }
    }
    let r: RunResult | undefined;
    for (let i = 0; ; i++) {
      r = await this.attempt(c.argv, c.stdin);
      if (r.ok) return { ok: true, out: r.stdout };
      if (c.okIf?.test(r.stderr)) return { ok: true, out: r.stdout };
      if (r.errno === 'ENOENT' || i >= this.retries) break;
      this.stats.retried++;
      const wait = this.backoffMs * 2 ** i;
      this.log.warn({ what, argv: c.argv, status: r.status, stderr: r.stderr.trim().slice(0, 500), retryInMs: wait }, 'firewall command failed, retrying');
      await this.sleep(wait);
    }
    this.stats.failed++;
    const code = r.errno === 'ENOENT' ? ERR.BAN_NOT_FOUND : r.timedOut ? ERR.BAN_TIMEOUT : ERR.BAN_EXEC;
    this.log.error(
      { code, what, command: renderCmd(c), status: r.status, errno: r.errno, stderr: r.stderr.trim().slice(0, 2000) },
      code === ERR.BAN_NOT_FOUND ? `firewall program not found: ${c.argv[0]}` : 'firewall command failed',
    );
    return { ok: false, out: '' };
  }
}

/**
 * One log file followed like `tail -F`, by polling (every `pollMs`, default 250 ms; a
 * poll reads at most `maxPerPoll` bytes, so a huge backlog does not starve the packet
 * path):
 *
 * - start: with a saved position for this path whose device, inode and first bytes still
 *   match, reading resumes there (old lines are never read twice); a saved position of
 *   another file (rotated while iplog was stopped) means the new file is read from its
 *   start; no saved position for the path (first run, new source) means from its current
 *   end (history is not judged); a file that appears later is read from its start;
 * - rotation by rename (logrotate's default): when the path names another inode, the old
 *   file is read to its end (its last line too, newline or not), then the new one from 0;
 * - copytruncate: a size below the position, or first bytes that changed, mean the file
 *   was truncated (and maybe written again): reading restarts at 0 (`truncations`);
 * - a partial last line waits for its newline (lines.ts); overlong lines are dropped and
 *   counted there;
 * - the position after the last complete line is kept in the state file (state.ts).
 * Errors (permissions, a vanished file) are logged once per kind and retried.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Logger } from '../log';
import { LineSplitter, DEFAULT_MAX_LINE } from './lines';
import { HEAD_BYTES, type FileState, type LogState } from './state';

export interface FollowerOptions {
  pollMs?: number;
  maxLine?: number;
  maxPerPoll?: number;
  log: Logger;
  state: LogState | null;
}

export interface FollowStats {
  lines: number;
  bytes: number;
  rotations: number;
  truncations: number;
  overlong: number;
  errors: number;
}

const READ = 64 * 1024;

export class FileFollower {
  readonly stats: FollowStats = { lines: 0, bytes: 0, rotations: 0, truncations: 0, overlong: 0, errors: 0 };
  private fh: FileHandle | null = null;
  private dev = 0;
  private ino = 0;
  /** bytes read from the current file */
  private pos = 0;
  private head = '';
  private split: LineSplitter;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private first = true;
  private lastError = '';
  private readonly buf = Buffer.allocUnsafe(READ);
  private polling: Promise<void> | null = null;

  constructor(
    readonly path: string,
    private readonly onLine: (line: string) => void,
    private readonly o: FollowerOptions,
  ) {
    this.split = this.splitter();
  }

  private splitter(): LineSplitter {
    return new LineSplitter((l) => {
      this.stats.lines++;
      this.onLine(l);
    }, this.o.maxLine ?? DEFAULT_MAX_LINE);
  }

  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.polling = this.poll().finally(() => {
        this.polling = null;
        if (!this.stopped) this.timer = setTimeout(tick, this.o.pollMs ?? 250);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    await this.polling;
    this.save();
    await this.fh?.close().catch(() => undefined);
    this.fh = null;
  }

  private problem(what: string, e: unknown): void {
    const msg = `${what}: ${(e as Error).message}`;
    this.stats.errors++;
    if (msg !== this.lastError) {
      this.lastError = msg;
      this.o.log.warn({ code: 'IPLOG_ERR_LOG_FILE', file: this.path, err: msg }, 'log file: will retry');
    }
  }

  private async readHead(fh: FileHandle): Promise<string> {
    const b = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(b, 0, HEAD_BYTES, 0);
    return b.subarray(0, bytesRead).toString('hex');
  }

  /** Open the path; where to start depends on the saved state (see the file comment). */
  private async openPath(): Promise<boolean> {
    let fh: FileHandle;
    try {
      fh = await open(this.path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.problem('open', e);
      this.first = false; // a file that appears later is read from its start
      return false;
    }
    const st = await fh.stat();
    const head = await this.readHead(fh);
    const saved = this.o.state?.file(this.path);
    this.fh = fh;
    this.dev = st.dev;
    this.ino = st.ino;
    this.split = this.splitter();
    if (this.first && saved !== undefined && saved.dev === st.dev && saved.ino === st.ino && saved.pos <= st.size && head.startsWith(saved.head.slice(0, head.length)) && saved.head.startsWith(head.slice(0, saved.head.length))) {
      this.pos = saved.pos;
      this.split.skipping = saved.skipping;
    } else if (this.first && saved === undefined) {
      this.pos = st.size;
    } else {
      if (this.first && saved !== undefined) this.o.log.info({ file: this.path }, 'log file replaced while iplog was stopped: reading the new one from its start');
      this.pos = 0;
    }
    this.head = head;
    this.first = false;
    this.lastError = '';
    this.save();
    return true;
  }

  private save(): void {
    if (this.fh === null || this.o.state === null) return;
    const pending = this.split.skipping ? 0 : this.split.pendingBytes;
    const s: FileState = { dev: this.dev, ino: this.ino, pos: this.pos - pending, head: this.head, skipping: this.split.skipping };
    const old = this.o.state.file(this.path);
    if (old && old.pos === s.pos && old.ino === s.ino && old.dev === s.dev && old.head === s.head && old.skipping === s.skipping) return;
    this.o.state.setFile(this.path, s);
  }

  /** Read what is new in the current file, up to maxPerPoll bytes; returns bytes read. */
  private async drain(limit: number): Promise<number> {
    const fh = this.fh!;
    let total = 0;
    while (total < limit) {
      const { bytesRead } = await fh.read(this.buf, 0, READ, this.pos);
      if (bytesRead === 0) break;
      this.pos += bytesRead;
      total += bytesRead;
      this.stats.bytes += bytesRead;
      this.split.push(this.buf.subarray(0, bytesRead));
    }
    this.stats.overlong = this.split.overlong + this.overlongBefore;
    return total;
  }

  private overlongBefore = 0;

  private async closeCurrent(): Promise<void> {
    this.overlongBefore += this.split.overlong;
    await this.fh?.close().catch(() => undefined);
    this.fh = null;
  }

  async poll(): Promise<void> {
    try {
      if (this.fh === null && !(await this.openPath())) return;
      const limit = this.o.maxPerPoll ?? 8 * 1024 * 1024;
      const st = await this.fh!.stat();
      // copytruncate: shorter than what was read, or other first bytes
      const head = st.size > 0 ? await this.readHead(this.fh!) : '';
      const n = Math.min(head.length, this.head.length);
      if (st.size < this.pos || head.slice(0, n) !== this.head.slice(0, n)) {
        this.stats.truncations++;
        this.o.log.info({ file: this.path, size: st.size, position: this.pos }, 'log file truncated: reading it again from its start');
        this.split.reset();
        this.pos = 0;
        this.head = head;
      } else if (head.length > this.head.length) this.head = head;
      const got = await this.drain(limit);
      if (got >= limit) return this.save(); // more to read: next poll
      // rotated by rename? the path now names another file
      let now;
      try {
        now = await stat(this.path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.problem('stat', e);
        return this.save(); // moved away, the new one not there yet: keep the old one
      }
      if (now.ino !== this.ino || now.dev !== this.dev) {
        await this.drain(Infinity);
        this.split.end();
        this.stats.rotations++;
        this.o.log.info({ file: this.path }, 'log file rotated: following the new file from its start');
        await this.closeCurrent();
        if (await this.openPath()) await this.drain(limit);
      }
      this.save();
    } catch (e) {
      this.problem('read', e);
    }
  }
}

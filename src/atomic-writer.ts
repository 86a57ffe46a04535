/**
 * A coalescing atomic writer of one file (the ban state, the clientele): `schedule()` asks for
 * a write soon, requests that come while one is under way become one more write, and each
 * write goes to `FILE.tmp` (0600, fsync) and is renamed over FILE. A failure is logged and
 * counted, never thrown: the next schedule tries again.
 */
import { promises as fsp, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from './log';
import { ERR } from './errors';

export class AtomicWriter {
  private writing: Promise<void> | null = null;
  private dirty = false;
  writes = 0;
  failures = 0;

  constructor(
    private readonly path: string,
    /** The file's whole text, made when it is written (so the newest state goes to disk). */
    private readonly render: () => string,
    private readonly log: Logger,
    /** What the file is, for the error line: `cannot write ${what}`. */
    private readonly what: string,
  ) {}

  /** The content changed: write it soon. */
  schedule(): void {
    this.dirty = true;
    if (this.writing === null) this.writing = this.loop();
  }

  /** Resolves when what was scheduled is on disk (or has failed, which is logged). */
  async flush(): Promise<void> {
    while (this.writing !== null) await this.writing;
  }

  private async loop(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        await this.writeOnce(this.render());
      }
    } finally {
      this.writing = null;
    }
  }

  private async writeOnce(text: string): Promise<void> {
    const tmp = `${this.path}.tmp`;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      const fh = await fsp.open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(text, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, this.path);
      this.writes++;
    } catch (e) {
      this.failures++;
      this.log.error({ code: ERR.BAN_STATE_WRITE, file: this.path, err: (e as Error).message }, `cannot write ${this.what}`);
    }
  }
}

/**
 * Where each followed log was left: per file its device, inode, the byte position after
 * the last complete line handed to the rules, and a fingerprint of its first bytes; per
 * journal source the cursor of the last entry. Kept in one JSON file (`log_state`,
 * default /var/lib/iplog/logpos.json), written atomically (temporary file + rename) at
 * most once a second and at exit, so that a restart neither re-reads (and re-bans) old
 * lines nor skips new ones. A missing or unreadable state file means "start at the end"
 * (said in the operational log), never a re-read of a whole log.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../log';

export const LOG_STATE_VERSION = 1;

export interface FileState {
  dev: number;
  ino: number;
  pos: number;
  /** hex of the file's first bytes (up to HEAD_BYTES) when the position was taken */
  head: string;
  /** the position is inside an overlong line (skip to its end) */
  skipping: boolean;
}

export const HEAD_BYTES = 64;

interface StateFile {
  version: number;
  files: Record<string, FileState>;
  journal: Record<string, string>;
}

export class LogState {
  private data: StateFile = { version: LOG_STATE_VERSION, files: {}, journal: {} };
  private timer: NodeJS.Timeout | null = null;
  /** whether a state file was there to read */
  readonly found: boolean;
  writes = 0;
  writeErrors = 0;

  constructor(
    readonly path: string,
    private readonly log: Logger,
  ) {
    let found = false;
    try {
      const o = JSON.parse(readFileSync(path, 'utf8')) as StateFile;
      if (o && o.version === LOG_STATE_VERSION && typeof o.files === 'object' && typeof o.journal === 'object') {
        this.data = { version: LOG_STATE_VERSION, files: o.files ?? {}, journal: o.journal ?? {} };
        found = true;
      } else log.warn({ code: 'IPLOG_ERR_LOG_STATE', path }, 'log position file of an unknown version: followed files start at their end');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') log.warn({ code: 'IPLOG_ERR_LOG_STATE', path, err: (e as Error).message }, 'log position file unreadable: followed files start at their end');
    }
    this.found = found;
  }

  file(path: string): FileState | undefined {
    return this.data.files[path];
  }

  setFile(path: string, s: FileState): void {
    this.data.files[path] = s;
    this.schedule();
  }

  cursor(key: string): string | undefined {
    return this.data.journal[key];
  }

  setCursor(key: string, cursor: string): void {
    this.data.journal[key] = cursor;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.write();
    }, 1000);
    this.timer.unref?.();
  }

  /** Write now (exit, tests). */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.write();
  }

  private write(): void {
    const tmp = `${this.path}.tmp${process.pid}`;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      writeFileSync(tmp, JSON.stringify(this.data) + '\n', { mode: 0o600 });
      renameSync(tmp, this.path);
      this.writes++;
    } catch (e) {
      this.writeErrors++;
      this.log.error({ code: 'IPLOG_ERR_LOG_STATE', path: this.path, err: (e as Error).message }, 'could not write the log position file');
    }
  }
}

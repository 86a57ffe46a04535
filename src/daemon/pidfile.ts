/**
 * The pid (lock) file of a running iplog (spec §1.4, iplog_lockfile.c:write_lockfile()).
 *
 * 1. Create the file exclusively (mode 0644).
 * 2. If it exists: open it read-only and ask who holds a POSIX record lock on it. Nobody
 *    → it is stale: delete it and create it again. Somebody → "already running".
 * 3. Take a whole-file write lock (fcntl F_SETLK) and write `<pid>\n`. The descriptor
 *    stays open, so the lock lives as long as the process (and survives dropping
 *    privileges: the lock belongs to the process, not to its uid).
 *
 * Texts (all fatal, exit status 255, the pid file is left alone):
 *   Fatal: Cannot open lockfile "<f>": <strerror>
 *   Fatal: Cannot open existing lockfile.
 *   Fatal: Could not remove stale lockfile "<f>"
 *   Fatal: iplog is already running (pid: <pid>)
 *   Fatal: Cannot create lockfile "<f>": <strerror>
 *   Fatal: Lockfile "<f>" could not be locked: <strerror>
 *
 * Deviation: the original wrote the pid before locking, so a second start in between saw
 * an unlocked file, called it stale and replaced it; here the lock is taken first.
 *
 * Node has no fcntl(): the locks come from the capture addon (`lockFile`, `lockOwner`).
 * Without them (an addon built without the helpers) `probeLocks` stands in: the pid
 * written in the file is "the holder" if that process exists (kill(pid, 0)). That is
 * weaker (a recycled pid looks alive), so it is only the fallback.
 */
import { closeSync, constants, openSync, readSync, unlinkSync, writeSync, ftruncateSync } from 'node:fs';
import { strerror } from '../cli/kill';

/** The two record-lock calls the pid file needs (native addon: fcntl F_SETLK / F_GETLK). */
export interface LockOps {
  /**
   * Whole-file write lock on `fd` (F_SETLK, F_WRLCK, start 0, length 0). false (or a thrown
   * errno error) if it cannot be had.
   */
  lockFile(fd: number): boolean;
  /** pid of a process holding a lock that conflicts with a whole-file lock on `fd`; 0 if none */
  lockOwner(fd: number): number;
}

export type PidFileErrorCode =
  | 'IPLOG_ERR_PIDFILE_CREATE'
  | 'IPLOG_ERR_PIDFILE_STALE'
  | 'IPLOG_ERR_ALREADY_RUNNING'
  | 'IPLOG_ERR_PIDFILE_LOCK';

/** A start-up failure of the pid file; `message` is the text after "Fatal: ". */
export class PidFileError extends Error {
  constructor(
    message: string,
    readonly code: PidFileErrorCode,
  ) {
    super(message);
    this.name = 'PidFileError';
  }
}

/** The pid file of this process, locked until exit. */
export interface PidFile {
  readonly path: string;
  readonly fd: number;
  /** Unlink the file (at a clean exit). Returns the failure text, or undefined. */
  remove(): string | undefined;
}

/** Stand-in for the addon's record locks: "held" = the pid in the file is a live process. */
export const probeLocks: LockOps = {
  lockFile: () => true,
  lockOwner(fd: number): number {
    const buf = Buffer.alloc(16);
    let n = 0;
    try {
      n = readSync(fd, buf, 0, 15, 0);
    } catch {
      return 0;
    }
    const m = /^\s*(\d+)\n?/.exec(buf.subarray(0, n).toString('latin1'));
    const pid = m ? Number(m[1]) : 0;
    if (!(pid > 0) || pid === process.pid) return 0;
    try {
      process.kill(pid, 0);
      return pid;
    } catch (e) {
      // EPERM: it exists but belongs to someone else
      return (e as NodeJS.ErrnoException).code === 'EPERM' ? pid : 0;
    }
  },
};

function lockOrThrow(path: string, fd: number, locks: LockOps): void {
  let ok: boolean;
  let err: unknown = { code: 'EAGAIN' };
  try {
    ok = locks.lockFile(fd);
  } catch (e) {
    ok = false;
    err = e;
  }
  if (!ok) {
    closeSync(fd);
    throw new PidFileError(`Lockfile "${path}" could not be locked: ${strerror(err)}`, 'IPLOG_ERR_PIDFILE_LOCK');
  }
}

/** Create, lock and fill the pid file (write_lockfile()). Throws PidFileError. */
export function writePidFile(path: string, pid: number, locks: LockOps): PidFile {
  const { O_RDWR, O_CREAT, O_TRUNC, O_EXCL, O_RDONLY } = constants;
  let fd: number;
  try {
    fd = openSync(path, O_RDWR | O_CREAT | O_TRUNC | O_EXCL, 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new PidFileError(`Cannot open lockfile "${path}": ${strerror(e)}`, 'IPLOG_ERR_PIDFILE_CREATE');
    }
    let rfd: number;
    try {
      rfd = openSync(path, O_RDONLY);
    } catch {
      throw new PidFileError('Cannot open existing lockfile.', 'IPLOG_ERR_PIDFILE_CREATE');
    }
    let holder = 0;
    try {
      holder = locks.lockOwner(rfd);
    } catch {
      holder = 0; // F_GETLK failed: the original treats that as "no lock" too
    }
    closeSync(rfd);
    if (holder > 0) throw new PidFileError(`iplog is already running (pid: ${holder})`, 'IPLOG_ERR_ALREADY_RUNNING');
    try {
      unlinkSync(path);
    } catch {
      throw new PidFileError(`Could not remove stale lockfile "${path}"`, 'IPLOG_ERR_PIDFILE_STALE');
    }
    try {
      fd = openSync(path, O_RDWR | O_CREAT | O_TRUNC, 0o644);
    } catch (e2) {
      throw new PidFileError(`Cannot create lockfile "${path}": ${strerror(e2)}`, 'IPLOG_ERR_PIDFILE_CREATE');
    }
  }
  lockOrThrow(path, fd, locks);
  ftruncateSync(fd, 0);
  writeSync(fd, `${pid}\n`, 0);
  let removed = false;
  return {
    path,
    fd,
    remove(): string | undefined {
      if (removed) return undefined;
      removed = true;
      try {
        unlinkSync(path);
        return undefined;
      } catch (e) {
        return `Couldn't unlink "${path}": ${strerror(e)}`;
      }
    },
  };
}

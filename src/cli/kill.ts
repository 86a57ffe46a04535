/**
 * `-k` / `-R`: signal the running iplog whose pid is in the pid file
 * (spec §1.4, iplog_lockfile.c:kill_iplog()). They act the moment they are seen on the
 * command line, so only earlier options (a `--pid-file` before them) count.
 *
 * Messages (all fatal, exit status 255; success is a silent exit 0):
 *   Fatal: Can't open pid file: <strerror>
 *   Fatal: Error reading pid.
 *   Fatal: Bad pid in <file>: "<text>"
 *   Fatal: Can't send process signal <n>: <strerror>
 *
 * Deviation (every profile): the original parsed the pid with strtoul(), so an empty
 * file meant pid 0 (kill(0) signals the caller's own process group) and "-1" meant
 * kill(-1) (every process the user may signal). Here the pid must be a positive decimal
 * number, anything else is "Bad pid".
 */
import { closeSync, openSync, readSync } from 'node:fs';

export const SIGHUP = 1;
export const SIGTERM = 15;

/** What kill.ts needs from the system; injectable for tests. */
export interface PidFileDeps {
  /**
   * Up to `max` bytes of the file. Throw a Node errno error: one with `syscall: 'open'`
   * means the file could not be opened, any other means it could not be read.
   */
  readPidFile(path: string, max: number): Buffer;
  /** kill(2); throw a Node errno error (with `code`) on failure. */
  sendSignal(pid: number, signal: number): void;
}

export const systemPidFileDeps: PidFileDeps = {
  readPidFile(path: string, max: number): Buffer {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(max);
      const n = readSync(fd, buf, 0, max, null);
      return buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  },
  sendSignal(pid: number, signal: number): void {
    process.kill(pid, signal);
  },
};

/** glibc's strerror() texts for the errno codes a file or kill() can produce. */
const STRERROR: Readonly<Record<string, string>> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EINTR: 'Interrupted system call',
  EIO: 'Input/output error',
  ENXIO: 'No such device or address',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EFAULT: 'Bad address',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  ENODEV: 'No such device',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  ENFILE: 'Too many open files in system',
  EMFILE: 'Too many open files',
  ETXTBSY: 'Text file busy',
  EFBIG: 'File too large',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  ENAMETOOLONG: 'File name too long',
  ELOOP: 'Too many levels of symbolic links',
  EOVERFLOW: 'Value too large for defined data type',
};

/** strerror() for a Node error (its `code`), falling back to the code itself. */
export function strerror(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && STRERROR[code] !== undefined) return STRERROR[code];
  return code ?? (err instanceof Error ? err.message : String(err));
}

export type KillResult =
  | { status: 0 }
  | { status: 255; message: string; code: 'IPLOG_ERR_PIDFILE_OPEN' | 'IPLOG_ERR_PIDFILE_READ' | 'IPLOG_ERR_BAD_PID' | 'IPLOG_ERR_SIGNAL' };

/** Bytes the original reads (a 16-byte buffer that must keep room for the NUL). */
const PID_READ_MAX = 15;

/** Largest pid Linux hands out (PID_MAX_LIMIT); anything above cannot be a process. */
const PID_MAX = 4_194_304;

/**
 * Read the pid file and send `signal`. Returns status 0 (the caller exits silently) or
 * 255 with the message (without the "Fatal: " prefix, which the caller adds).
 */
export function killIplog(signal: number, pidFile: string, deps: PidFileDeps = systemPidFileDeps): KillResult {
  let data: Buffer;
  try {
    data = deps.readPidFile(pidFile, PID_READ_MAX);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).syscall === 'open') {
      return { status: 255, message: `Can't open pid file: ${strerror(err)}`, code: 'IPLOG_ERR_PIDFILE_OPEN' };
    }
    return { status: 255, message: 'Error reading pid.', code: 'IPLOG_ERR_PIDFILE_READ' };
  }
  if (data.length < 1) return { status: 255, message: 'Error reading pid.', code: 'IPLOG_ERR_PIDFILE_READ' };

  // C string semantics: the text ends at a NUL; the pid is cut at the first newline.
  let text = data.toString('latin1');
  const nul = text.indexOf('\0');
  if (nul >= 0) text = text.slice(0, nul);
  const nl = text.indexOf('\n');
  if (nl >= 0) text = text.slice(0, nl);

  // strtoul() also skipped leading blanks and took a '+'; keep that, refuse the rest.
  const m = /^[ \t\v\f\r]*\+?(\d+)$/.exec(text);
  const pid = m ? Number(m[1]) : NaN;
  if (!(pid >= 1 && pid <= PID_MAX)) {
    return { status: 255, message: `Bad pid in ${pidFile}: "${text}"`, code: 'IPLOG_ERR_BAD_PID' };
  }

  try {
    deps.sendSignal(pid, signal);
  } catch (err) {
    return { status: 255, message: `Can't send process signal ${signal}: ${strerror(err)}`, code: 'IPLOG_ERR_SIGNAL' };
  }
  return { status: 0 };
}

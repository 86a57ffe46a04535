/**
 * Which sink a run writes to (spec §3.1, plus the syslog options added here):
 *
 *  1. `-L` / `set stdout`                 → stdout (as 2.2.3: it wins over a log file)
 *  2. `-l FILE` / `logfile`               → the file (appended, mode 0644)
 *  3. `--syslog-server` / `syslog_server` → remote syslog (UDP or TCP)
 *  4. `--syslog-socket` / `syslog_socket` → syslog on that local socket
 *  5. otherwise: live → syslog on /dev/log (2.2.3's default); replay → stdout
 *
 * So a replay prints to stdout unless it is told to use syslog, and -l/-L always win, as
 * in the original, where a log file or stdout meant no syslog at all.
 *
 * The syslog sink sends asynchronously: after the pipeline has closed the sink, await
 * sinkClosed() before exiting (it resolves at once for stdout and files), or queued
 * lines are lost.
 */
import { TextSink } from './text';
import type { OutputFaults } from './faults';
import type { LineSink } from './sink';
import type * as Syslog from './syslog';
import type { OpLog, SyslogStats } from './syslog';

/** the syslog sinks, loaded when a run writes to syslog (start-up of a replay: issue 10) */
let syslogMod: typeof Syslog | null = null;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const syslog = (): typeof Syslog => (syslogMod ??= require('./syslog') as typeof Syslog);
import { IplogError, ERR } from '../../errors';
import { DEFAULT_SYSLOG_FORMAT, DEFAULT_SYSLOG_SOCKET } from '../../config/options';
import type { Settings, SyslogFormat, SyslogServer } from '../../config/settings';

export type RunMode = 'replay' | 'live';

export interface OpenSinkDeps {
  /** the operational log: syslog outages, drops, reconnections */
  log?: OpLog;
  /** write errors of stdout and files (faults.ts); default: the replay rules, unreported */
  faults?: OutputFaults;
}

/**
 * How long a replay to the local socket may wait, synchronously, for a slow syslogd when
 * the queue is full (per stall), instead of dropping lines. Live mode never waits.
 */
export const REPLAY_BLOCK_MS = 10_000;

/** Which output the settings select (the table above), without opening anything. */
export type SinkChoice =
  | { kind: 'stdout' }
  | { kind: 'file'; path: string }
  | { kind: 'syslog-remote'; server: SyslogServer; format: SyslogFormat }
  | { kind: 'syslog-local'; path: string };

export function chooseSink(s: Settings, mode: RunMode): SinkChoice {
  if (s.flags.stdout) return { kind: 'stdout' };
  if (s.logfile !== undefined) return { kind: 'file', path: s.logfile };
  if (s.syslogServer !== undefined) return { kind: 'syslog-remote', server: s.syslogServer, format: s.syslogFormat ?? DEFAULT_SYSLOG_FORMAT };
  if (s.syslogSocket !== undefined || mode === 'live') return { kind: 'syslog-local', path: s.syslogSocket ?? DEFAULT_SYSLOG_SOCKET };
  return { kind: 'stdout' };
}

/** The sink the settings ask for. A log file that cannot be opened is a start-up error. */
export function openSink(s: Settings, mode: RunMode, deps: OpenSinkDeps = {}): LineSink {
  const c = chooseSink(s, mode);
  switch (c.kind) {
    case 'stdout':
      return TextSink.stdout(deps.faults);
    case 'file':
      try {
        return TextSink.openFile(c.path, deps.faults);
      } catch (e) {
        throw new IplogError(`Unable to open "${c.path}" for writing: ${(e as Error).message}.`, ERR.OUTPUT_OPEN);
      }
    case 'syslog-remote':
      return syslog().remoteSyslogSink({ server: c.server, format: c.format, facility: s.facility, priority: s.priority, log: deps.log });
    case 'syslog-local':
      try {
        syslog().loadUnixDgram();
      } catch (e) {
        throw new IplogError(
          `syslog to a local socket needs the unix-dgram addon (${(e as Error).message}); rebuild it (npm rebuild unix-dgram) or use -l, -L or --syslog-server.`,
          ERR.OUTPUT_OPEN,
        );
      }
      return syslog().localSyslogSink({
        path: c.path,
        facility: s.facility,
        priority: s.priority,
        blockWhenFullMs: mode === 'replay' ? REPLAY_BLOCK_MS : 0,
        log: deps.log,
      });
  }
}

/** Waits until a closed sink has delivered what it holds; the syslog counters, if syslog. */
export async function sinkClosed(sink: LineSink): Promise<SyslogStats | undefined> {
  return syslogMod !== null && sink instanceof syslogMod.SyslogSink ? sink.closed() : undefined;
}

/**
 * `iplog status [--json] [--pid-file FILE] [--config FILE]` (src/metrics/status.ts).
 * The pid file is the one the daemon would use: --pid-file, else the configuration
 * file's `pid-file` statement, else the default, or, when that does not exist, the unit's
 * /run/iplog/iplog.pid. Output on standard output; problems on
 * standard error; exit status 0 running, 1 stale pid file, 3 not running, 4 unknown, 2 usage.
 */
import { existsSync, writeSync } from 'node:fs';
import { DEFAULT_PID_FILE } from '../config/options';
import { parseCommandLine } from '../cli/program';
import { loadAddon } from '../capture/live';
import { probeLocks, type LockOps } from '../daemon/pidfile';
import { parseStatusArgs, readStatus, renderStatus, STATUS_EXIT, STATUS_USAGE } from './status';

/** the pid file of config/iplog.service and the Debian package's unit */
const UNIT_PID_FILE = '/run/iplog/iplog.pid';

function out(fd: number, text: string): void {
  try {
    writeSync(fd, text);
  } catch {
    /* closed */
  }
}

function locks(): LockOps {
  try {
    const a = loadAddon();
    return { lockFile: a.lockFile, lockOwner: a.lockOwner };
  } catch {
    // no addon: the pid in the file counts as the holder if that process exists
    return probeLocks;
  }
}

export function statusCommand(argv: readonly string[]): number {
  const a = parseStatusArgs(argv);
  if (a.help) {
    out(1, STATUS_USAGE);
    return 0;
  }
  if (a.error !== undefined) {
    out(2, `iplog status: ${a.error}\n${STATUS_USAGE}`);
    return 2;
  }
  const cli = parseCommandLine(a.pass);
  if (cli.kind === 'exit') {
    out(2, cli.stdout + cli.stderr);
    return 4;
  }
  let pidFile = cli.settings.pidFile;
  // the Debian package's unit keeps its pid file in its RuntimeDirectory: found without options
  if (pidFile === DEFAULT_PID_FILE && !existsSync(pidFile) && existsSync(UNIT_PID_FILE)) pidFile = UNIT_PID_FILE;
  const report = readStatus(pidFile, locks());
  if (a.json) out(1, `${JSON.stringify(report)}\n`);
  else out(1, renderStatus(report));
  return STATUS_EXIT[report.state];
}

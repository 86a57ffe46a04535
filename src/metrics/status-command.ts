/**
 * `iplog status [--json] [--pid-file FILE] [--config FILE]` (src/metrics/status.ts).
 * The pid file is the one the daemon would use: --pid-file, else the configuration
 * file's `pid-file` statement, else the default. Output on standard output; problems on
 * standard error; exit status 0 running, 1 stale pid file, 3 not running, 4 unknown, 2 usage.
 */
import { writeSync } from 'node:fs';
import { parseCommandLine } from '../cli/program';
import { loadAddon } from '../capture/live';
import { probeLocks, type LockOps } from '../daemon/pidfile';
import { parseStatusArgs, readStatus, renderStatus, STATUS_EXIT, STATUS_USAGE } from './status';

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
  const report = readStatus(cli.settings.pidFile, locks());
  if (a.json) out(1, `${JSON.stringify(report)}\n`);
  else out(1, renderStatus(report));
  return STATUS_EXIT[report.state];
}

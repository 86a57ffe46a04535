/**
 * The program's own operational log (start, configuration, statistics, errors): pino,
 * JSON lines, synchronous so nothing is lost at exit or on a signal
 * (docs: ../shared/dependencies.md §6). Never used for the iplog text lines.
 *
 * Destination: standard error, or the file of `--op-log FILE` (appended, so logrotate's
 * copytruncate works). Level from IPLOG_LOG_LEVEL, else the caller's default (`warn` for
 * a replay, so it prints only its iplog lines; `info` for the live sensor).
 */
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level = process.env.IPLOG_LOG_LEVEL ?? 'warn', file?: string): Logger {
  const dest = file === undefined ? pino.destination({ dest: 2, sync: true }) : pino.destination({ dest: file, sync: true, append: true });
  return pino({ name: 'iplog', level, base: { pid: process.pid } }, dest);
}

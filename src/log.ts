/**
 * The program's own operational log (start, configuration, statistics, errors): pino,
 * JSON lines, synchronous so nothing is lost at exit or on a signal
 * (docs: ../shared/dependencies.md §6). Never used for the iplog text lines.
 *
 * Destination: standard error, or the file of `--op-log FILE` (appended, so logrotate's
 * copytruncate works). Level from IPLOG_LOG_LEVEL, else the caller's default (`warn` for
 * a replay, so it prints only its iplog lines; `info` for the live sensor).
 *
 * pino is loaded when the log first writes something (issue 10: a replay at the default
 * level `warn` usually never does, and loading pino and its transports is a good part of
 * the start-up): until then calls below the level do nothing, as pino's own would.
 */
import type pino from 'pino';

export type Logger = pino.Logger;

/** pino's numeric levels */
const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

function realLogger(level: string, file: string | undefined): Logger {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const p = require('pino') as typeof pino;
  const dest = file === undefined ? p.destination({ dest: 2, sync: true }) : p.destination({ dest: file, sync: true, append: true });
  return p({ name: 'iplog', level, base: { pid: process.pid } }, dest);
}

export function createLogger(level = process.env.IPLOG_LOG_LEVEL ?? 'warn', file?: string): Logger {
  const threshold = LEVELS[level];
  // an unknown level, or a file to open now (so its errors come at start-up): pino at once
  if (threshold === undefined || file !== undefined) return realLogger(level, file);
  let real: Logger | null = null;
  const noop = (): void => undefined;
  return new Proxy({} as Logger, {
    get(_t, prop) {
      if (real === null) {
        if (typeof prop === 'string') {
          const l = LEVELS[prop];
          if (l !== undefined && l < threshold) return noop;
          if (prop === 'level') return level;
          if (prop === 'isLevelEnabled') return (name: string) => (LEVELS[name] ?? Infinity) >= threshold;
          if (prop === 'flush') return noop;
        }
        if (prop === 'then') return undefined;
        real = realLogger(level, file);
      }
      const v = (real as unknown as Record<PropertyKey, unknown>)[prop];
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(real) : v;
    },
  });
}

/**
 * The program's own operational log (start, configuration, statistics, errors): pino,
 * JSON lines on standard error, synchronous so nothing is lost at exit. Never used for
 * the iplog text lines. Level from IPLOG_LOG_LEVEL (default `warn`, so a replay prints
 * only its iplog lines).
 */
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level = process.env.IPLOG_LOG_LEVEL ?? 'warn'): Logger {
  return pino({ name: 'iplog', level, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: true }));
}

/**
 * The clientele on disk, beside the ban state: `--ban-state` FILE + `.clientele` (JSON:
 * version, saved, horizon, and the members least recently seen first as [address, last
 * seen]), written atomically (temporary file, fsync, rename) every CLIENTELE_SAVE_SEC of
 * network time while it changes and when the ban manager stops, and read back at start,
 * so that a restart does not forget who our peers are. A file that cannot be read or
 * parsed is reported (IPLOG_ERR_BAN_STATE_READ) and set aside as FILE.corrupt; members
 * older than the horizon, invalid entries and entries beyond the table's bound are left
 * out and counted in the report.
 */
import { readFileSync, renameSync } from 'node:fs';
import type { Logger } from '../log';
import { ERR } from '../errors';
import { AtomicWriter } from '../atomic-writer';
import { parseIp } from '../net/addr';
import type { Clientele } from './clientele';

export const CLIENTELE_VERSION = 1;
export const CLIENTELE_SAVE_SEC = 600;

export function clienteleFile(stateFile: string): string {
  return `${stateFile}.clientele`;
}

/** Read `path` into `c`; returns the members restored. */
export function loadClientele(path: string, c: Clientele, now: number, log: Logger): number {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log.error({ code: ERR.BAN_STATE_READ, file: path, err: (e as Error).message }, 'cannot read the clientele file; starting with an empty clientele');
    return 0;
  }
  let doc: { version?: unknown; entries?: unknown };
  try {
    doc = JSON.parse(text) as typeof doc;
    if (doc.version !== CLIENTELE_VERSION || !Array.isArray(doc.entries)) throw new Error(`unsupported version ${String(doc.version)}`);
  } catch (e) {
    log.error({ code: ERR.BAN_STATE_READ, file: path, err: (e as Error).message, keptAs: `${path}.corrupt` }, 'clientele file is corrupt; starting with an empty clientele');
    try {
      renameSync(path, `${path}.corrupt`);
    } catch {
      /* reported above */
    }
    return 0;
  }
  let restored = 0;
  let invalid = 0;
  let old = 0;
  for (const e of doc.entries as unknown[]) {
    const a = Array.isArray(e) && typeof e[0] === 'string' ? parseIp(e[0]) : undefined;
    const last = Array.isArray(e) ? Number(e[1]) : NaN;
    if (a === undefined || !Number.isFinite(last) || last > now + 86400) {
      invalid++;
      continue;
    }
    if (now - last >= c.horizonSec) {
      old++;
      continue;
    }
    c.add(a, last);
    restored++;
  }
  if (invalid > 0) log.error({ code: ERR.BAN_STATE_READ, file: path, invalid }, 'clientele file has invalid entries: they are left out');
  log.info({ file: path, restored, expired: old, evictions: c.stats.evictions }, 'clientele restored');
  return restored;
}

/** The clientele file's writer: written atomically and coalesced, with the entries still inside the horizon. */
export class ClienteleWriter extends AtomicWriter {
  constructor(path: string, c: Clientele, now: () => number, log: Logger) {
    super(path, () => {
      const t = now();
      return JSON.stringify({ version: CLIENTELE_VERSION, saved: t, horizon: c.horizonSec, entries: c.entries(t) }) + '\n';
    }, log, 'the clientele file');
  }
}

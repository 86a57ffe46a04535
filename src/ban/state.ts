/**
 * The ban table on disk (`--ban-state`, default /var/lib/iplog/bans.json), so that a
 * restart neither forgets its bans nor re-bans everything (peers.md §3.4).
 *
 * Written atomically: the whole table goes to `FILE.tmp`, is fsync'ed, then renamed over
 * FILE, so a crash at any point leaves the old or the new table, never half of one.
 * Writes are coalesced: while one is in flight, further changes only mark the table
 * dirty, and one more write follows. A file that cannot be parsed is kept aside as
 * `FILE.corrupt` and iplog starts with an empty table (IPLOG_ERR_BAN_STATE_READ); the
 * firewall listing still finds the bans the kernel holds (manager.ts reconcile()).
 *
 * Times are seconds since the epoch on the network clock (= wall time in live mode).
 */
import { promises as fsp, readFileSync, renameSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../log';
import { ERR } from '../errors';
import { parseAddr, type Family } from './addr';

export const STATE_VERSION = 1;

export interface StateBan {
  addr: string;
  family: Family;
  /** when the ban began */
  since: number;
  /** when it ends */
  until: number;
  /** 1 for a first ban, 2 for the second, ... */
  offence: number;
  reason: string;
}

export interface StateOffender {
  addr: string;
  family: Family;
  offences: number;
  /** end of the last ban (offences are forgotten some time after it) */
  last: number;
}

export interface BanState {
  version: number;
  backend: string;
  saved: number;
  bans: StateBan[];
  offenders: StateOffender[];
}

function isFamily(x: unknown): x is Family {
  return x === 4 || x === 6;
}

/** Validate a parsed document; entries that do not make sense are dropped, not trusted. */
export function sanitizeState(doc: unknown): BanState {
  const d = (typeof doc === 'object' && doc !== null ? doc : {}) as Partial<BanState>;
  if (d.version !== STATE_VERSION) throw new Error(`unsupported version ${String(d.version)}`);
  const bans: StateBan[] = [];
  for (const b of Array.isArray(d.bans) ? d.bans : []) {
    const a = typeof b?.addr === 'string' ? parseAddr(b.addr) : undefined;
    if (!a || !isFamily(b.family) || !Number.isFinite(b.since) || !Number.isFinite(b.until) || !Number.isInteger(b.offence) || b.offence < 1) continue;
    bans.push({ addr: a.text, family: a.family, since: b.since, until: b.until, offence: b.offence, reason: typeof b.reason === 'string' ? b.reason : '' });
  }
  const offenders: StateOffender[] = [];
  for (const o of Array.isArray(d.offenders) ? d.offenders : []) {
    const a = typeof o?.addr === 'string' ? parseAddr(o.addr) : undefined;
    if (!a || !Number.isInteger(o.offences) || o.offences < 1 || !Number.isFinite(o.last)) continue;
    offenders.push({ addr: a.text, family: a.family, offences: o.offences, last: o.last });
  }
  return { version: STATE_VERSION, backend: typeof d.backend === 'string' ? d.backend : '', saved: Number(d.saved) || 0, bans, offenders };
}

/** Read the table; a missing file is an empty table, a broken one is reported and set aside. */
export function loadState(path: string, log: Logger): BanState | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    log.error({ code: ERR.BAN_STATE_READ, file: path, err: (e as Error).message }, 'cannot read the ban state file; starting with an empty ban table');
    return null;
  }
  try {
    return sanitizeState(JSON.parse(text));
  } catch (e) {
    log.error({ code: ERR.BAN_STATE_READ, file: path, err: (e as Error).message, keptAs: `${path}.corrupt` }, 'ban state file is corrupt; starting with an empty ban table');
    try {
      renameSync(path, `${path}.corrupt`);
    } catch {
      /* reported above; the next write replaces it */
    }
    return null;
  }
}

/** Coalescing atomic writer. */
export class StateWriter {
  private writing: Promise<void> | null = null;
  private dirty = false;
  writes = 0;
  failures = 0;

  constructor(
    private readonly path: string,
    private readonly snapshot: () => BanState,
    private readonly log: Logger,
  ) {}

  /** The table changed: write it soon. */
  schedule(): void {
    this.dirty = true;
    if (this.writing === null) this.writing = this.loop();
  }

  /** Resolves when what was scheduled is on disk (or has failed, which is logged). */
  async flush(): Promise<void> {
    while (this.writing !== null) await this.writing;
  }

  private async loop(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        await this.writeOnce(JSON.stringify(this.snapshot(), null, 1) + '\n');
      }
    } finally {
      this.writing = null;
    }
  }

  private async writeOnce(text: string): Promise<void> {
    const tmp = `${this.path}.tmp`;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      const fh = await fsp.open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(text, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, this.path);
      this.writes++;
    } catch (e) {
      this.failures++;
      this.log.error({ code: ERR.BAN_STATE_WRITE, file: this.path, err: (e as Error).message }, 'cannot write the ban state file');
    }
  }
}

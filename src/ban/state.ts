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
import { readFileSync, renameSync, copyFileSync } from 'node:fs';
import type { Logger } from '../log';
import { ERR } from '../errors';
import { AtomicWriter } from '../atomic-writer';
import { parseTarget as parseAddr, parseNet, type Family } from './addr';

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
  /** the explain record of the decision (`iplog bans show`), when there is one */
  trail?: Readonly<Record<string, unknown>>;
}

/** An address lifted by hand (`iplog bans del`): its evidence up to `at` never bans again. */
export interface StateLifted {
  addr: string;
  family: Family;
  at: number;
}

/** A network allowed by hand (`iplog bans allow`). */
export interface StateAllow {
  net: string;
  at: number;
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
  /** added with `iplog bans` (absent in older files: none) */
  lifted?: StateLifted[];
  allows?: StateAllow[];
}

/** A trail larger than this (JSON characters) is not kept in the state file. */
const MAX_TRAIL_CHARS = 16_384;
const MAX_LIFTED = 4096;
const MAX_ALLOWS = 1024;

function isFamily(x: unknown): x is Family {
  return x === 4 || x === 6;
}

/** What sanitizeState() left out, by kind (reported, never silent). */
export interface StateDropped {
  invalidBans: number;
  invalidOffenders: number;
  excessBans: number;
  excessOffenders: number;
  /** the first few entries left out, as JSON text (for the report) */
  examples: string[];
}

/** At most this many entries of each list are read (the manager's table bounds). */
export interface StateLimits {
  maxBans: number;
  maxOffenders: number;
}

/**
 * Validate a parsed document; entries that do not make sense (or beyond the limits) are
 * left out, not trusted, and counted in `dropped`.
 */
export function sanitizeState(doc: unknown, limits: StateLimits = { maxBans: Infinity, maxOffenders: Infinity }, dropped?: StateDropped): BanState {
  const d = (typeof doc === 'object' && doc !== null ? doc : {}) as Partial<BanState>;
  if (d.version !== STATE_VERSION) throw new Error(`unsupported version ${String(d.version)}`);
  const drop = dropped ?? { invalidBans: 0, invalidOffenders: 0, excessBans: 0, excessOffenders: 0, examples: [] };
  const example = (x: unknown): void => {
    if (drop.examples.length < 5) drop.examples.push(JSON.stringify(x)?.slice(0, 200) ?? String(x));
  };
  const bans: StateBan[] = [];
  for (const b of Array.isArray(d.bans) ? d.bans : []) {
    const a = typeof b?.addr === 'string' ? parseAddr(b.addr) : undefined;
    if (!a || !isFamily(b.family) || !Number.isFinite(b.since) || !Number.isFinite(b.until) || !Number.isInteger(b.offence) || b.offence < 1) {
      drop.invalidBans++;
      example(b);
      continue;
    }
    if (bans.length >= limits.maxBans) {
      drop.excessBans++;
      continue;
    }
    const sb: StateBan = { addr: a.text, family: a.family, since: b.since, until: b.until, offence: b.offence, reason: typeof b.reason === 'string' ? b.reason : '' };
    const trail = (b as { trail?: unknown }).trail;
    if (typeof trail === 'object' && trail !== null && !Array.isArray(trail) && JSON.stringify(trail).length <= MAX_TRAIL_CHARS) sb.trail = trail as Record<string, unknown>;
    bans.push(sb);
  }
  const offenders: StateOffender[] = [];
  for (const o of Array.isArray(d.offenders) ? d.offenders : []) {
    const a = typeof o?.addr === 'string' ? parseAddr(o.addr) : undefined;
    if (!a || !Number.isInteger(o.offences) || o.offences < 1 || !Number.isFinite(o.last)) {
      drop.invalidOffenders++;
      example(o);
      continue;
    }
    if (offenders.length >= limits.maxOffenders) {
      drop.excessOffenders++;
      continue;
    }
    offenders.push({ addr: a.text, family: a.family, offences: o.offences, last: o.last });
  }
  const lifted: StateLifted[] = [];
  for (const l of Array.isArray(d.lifted) ? d.lifted : []) {
    const a = typeof l?.addr === 'string' ? parseAddr(l.addr) : undefined;
    if (!a || !Number.isFinite(l.at)) {
      drop.invalidBans++;
      example(l);
      continue;
    }
    if (lifted.length < MAX_LIFTED) lifted.push({ addr: a.text, family: a.family, at: l.at });
  }
  const allows: StateAllow[] = [];
  for (const x of Array.isArray(d.allows) ? d.allows : []) {
    const r = typeof x?.net === 'string' ? parseNet(x.net) : undefined;
    if (!r || !Number.isFinite(x.at)) {
      drop.invalidBans++;
      example(x);
      continue;
    }
    if (allows.length < MAX_ALLOWS) allows.push({ net: r.text, at: x.at });
  }
  return { version: STATE_VERSION, backend: typeof d.backend === 'string' ? d.backend : '', saved: Number(d.saved) || 0, bans, offenders, lifted, allows };
}

/**
 * Read the table; a missing file is an empty table, a broken one is reported and set
 * aside as FILE.corrupt. A file whose entries are partly invalid or beyond the limits is
 * used for the rest, reported (IPLOG_ERR_BAN_STATE_READ, with counts and examples), and
 * copied to FILE.corrupt first, since the next write replaces it.
 */
export function loadState(path: string, log: Logger, limits?: StateLimits): BanState | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    log.error({ code: ERR.BAN_STATE_READ, file: path, err: (e as Error).message }, 'cannot read the ban state file; starting with an empty ban table');
    return null;
  }
  try {
    const dropped: StateDropped = { invalidBans: 0, invalidOffenders: 0, excessBans: 0, excessOffenders: 0, examples: [] };
    const st = sanitizeState(JSON.parse(text), limits, dropped);
    if (dropped.invalidBans + dropped.invalidOffenders + dropped.excessBans + dropped.excessOffenders > 0) {
      let keptAs: string | undefined = `${path}.corrupt`;
      try {
        copyFileSync(path, keptAs);
      } catch {
        keptAs = undefined;
      }
      log.error(
        { code: ERR.BAN_STATE_READ, file: path, keptAs, ...dropped, limits },
        'ban state file has invalid or excess entries: they are left out (the rest is used)',
      );
    }
    return st;
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

/** The ban state file's writer: the manager's snapshot, written atomically and coalesced. */
export class StateWriter extends AtomicWriter {
  constructor(path: string, snapshot: () => BanState, log: Logger) {
    super(path, () => JSON.stringify(snapshot(), null, 1) + '\n', log, 'the ban state file');
  }
}

/**
 * The fleet's decisions applied to this host's own firewall: with a CrowdSec bouncer API
 * key (`--crowdsec-bouncer-key-file`, `cscli bouncers add NAME`), iplog polls the Local
 * API's decision stream like any bouncer, and hands each ban decision to the ban
 * manager's fleetBan(): the allowlist (own addresses, gateways, resolvers, configured
 * networks) refuses what it must with a `BAN: not banning A (why)` line, the rest is
 * banned by the configured backend (nftables, ipset, ...) with its BAN line and state.
 *
 * `GET /v1/decisions/stream?startup=true` (header `X-Api-Key`) answers every active
 * decision (`new`) and expired ones (`deleted`); later polls without `startup` answer
 * what changed since the previous poll. The LAPI keeps several decisions per address
 * (two sensors banned it; a manual one): iplog asks with `dedup=false` and keeps, per
 * address, the ids of the decisions it holds, lifting the ban only when the last of them
 * is deleted or expired. Only `ban` decisions of scope Ip (and Range of a single
 * address) are applied; other scopes and types are counted and named once in the log.
 * Only the origins of `--crowdsec-origins` are asked for (default iplog, crowdsec, cscli:
 * the fleet's sensors, CrowdSec agents and operators, not the community blocklists).
 *
 * A failing LAPI is survived: the poll is retried with backoff (doubling up to 5 min),
 * the outage and the recovery are logged once each (IPLOG_ERR_BAN_LAPI), and until a
 * start-up poll has succeeded every poll is a start-up one. Timers are unref'd: the
 * stream never keeps the process alive, and stop() ends it.
 */
import type { Logger } from '../log';
import { ERR } from '../errors';
import { parseAddr, type BanAddr } from './addr';
import { lapiRequest, LapiError, type FetchFn } from './crowdsec';

/** What the stream needs from the ban manager. */
export interface FleetTarget {
  fleetBan(a: BanAddr, seconds: number, why: string): boolean;
  fleetLift(a: BanAddr, why: string): boolean;
}

export interface StreamOptions {
  url: string;
  apiKey: string;
  pollMs: number;
  timeoutMs: number;
  /** origins applied (comma list), or 'all' / undefined for every origin */
  origins?: string;
  /** decisions tracked at most (addresses × ids); beyond it new ones are refused and counted */
  maxTracked?: number;
  fetch?: FetchFn;
}

export interface StreamStats {
  polls: number;
  failures: number;
  outages: number;
  /** decisions received (new) / applied as bans / refused by the manager */
  received: number;
  applied: number;
  refused: number;
  /** decisions deleted or expired, and bans lifted because of them */
  deleted: number;
  lifted: number;
  /** skipped: not a ban, not Ip/Range scope, a range wider than one address, no time left, over the tracking bound */
  ignored: number;
}

interface Decision {
  id?: unknown;
  type?: unknown;
  scope?: unknown;
  value?: unknown;
  duration?: unknown;
  scenario?: unknown;
  origin?: unknown;
}

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, 'µs': 0.001, ns: 0.000001 };

/** Go's time.Duration text (`3h59m58.5s`, `-1.2s`, `500ms`) → seconds; NaN if not one. */
export function goDurationSec(text: string): number {
  const m0 = /^(-?)((?:\d+(?:\.\d+)?(?:h|ms|m|s|us|µs|ns))+)$/.exec(text.trim());
  if (!m0) return text.trim() === '0s' || text.trim() === '0' ? 0 : NaN;
  let ms = 0;
  for (const m of m0[2]!.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return (m0[1] === '-' ? -ms : ms) / 1000;
}

/** The single address a decision names, or why it is not applied. */
function target(d: Decision): BanAddr | string {
  if (d.type !== 'ban') return `type ${String(d.type)}`;
  const scope = String(d.scope ?? '').toLowerCase();
  const value = String(d.value ?? '');
  if (scope === 'ip') return parseAddr(value) ?? `bad address ${value}`;
  if (scope === 'range') {
    const m = /^(.+)\/(\d+)$/.exec(value);
    const a = m ? parseAddr(m[1]!) : undefined;
    if (a && Number(m![2]) === (a.family === 4 ? 32 : 128)) return a;
    return 'range scope (the firewall sets hold single addresses)';
  }
  return `scope ${String(d.scope)}`;
}

export class DecisionStream {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private started = false;
  private downSince: number | null = null;
  private failuresInRow = 0;
  private polling: Promise<void> | null = null;
  /** address → ids of the fleet decisions holding it */
  private readonly held = new Map<string, Set<string>>();
  private tracked = 0;
  private readonly noted = new Set<string>();
  private readonly f: FetchFn;
  readonly stats: StreamStats = { polls: 0, failures: 0, outages: 0, received: 0, applied: 0, refused: 0, deleted: 0, lifted: 0, ignored: 0 };

  constructor(
    private readonly o: StreamOptions,
    private readonly target: FleetTarget,
    private readonly log: Logger,
  ) {
    this.f = o.fetch ?? fetch;
  }

  /** First poll now, then every pollMs. */
  start(): void {
    this.log.info({ url: this.o.url, pollMs: this.o.pollMs }, 'crowdsec: decision stream on');
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.polling = this.poll().finally(() => {
        this.polling = null;
      });
    }, ms);
    this.timer.unref?.();
  }

  /** One poll (tests call it directly); schedules the next one. */
  async poll(): Promise<void> {
    const startup = !this.started;
    let next = this.o.pollMs;
    try {
      const qs = new URLSearchParams({ startup: String(startup), dedup: 'false', scopes: 'ip,range' });
      if (this.o.origins !== undefined && this.o.origins !== 'all') qs.set('origins', this.o.origins);
      const r = await lapiRequest(this.f, this.o.url, 'GET', `/v1/decisions/stream?${qs}`, { headers: { 'x-api-key': this.o.apiKey }, timeoutMs: this.o.timeoutMs });
      if (r.status !== 200) {
        const retry = r.status >= 500 || r.status === 401 || r.status === 403 || r.status === 429;
        throw new LapiError(`GET /v1/decisions/stream: HTTP ${r.status}${r.status === 403 || r.status === 401 ? ' (is the bouncer key right? cscli bouncers list)' : ''}`, retry, r.status);
      }
      this.stats.polls++;
      this.started = true;
      if (this.downSince !== null) {
        this.log.warn({ url: this.o.url, downMs: Date.now() - this.downSince, failures: this.failuresInRow }, 'crowdsec: decision stream reachable again');
        this.downSince = null;
      }
      this.failuresInRow = 0;
      const body = (r.json ?? {}) as { new?: Decision[] | null; deleted?: Decision[] | null };
      // deletions first: a decision replaced within one poll ends up held
      for (const d of body.deleted ?? []) this.onDeleted(d);
      for (const d of body.new ?? []) this.onNew(d);
    } catch (e) {
      this.stats.failures++;
      this.failuresInRow++;
      const msg = (e as Error).message;
      if (this.downSince === null) {
        this.downSince = Date.now();
        this.stats.outages++;
        this.log.warn({ code: ERR.BAN_LAPI, url: this.o.url, err: msg }, 'crowdsec: decision stream failing: retrying with backoff');
      } else this.log.debug({ err: msg, failures: this.failuresInRow }, 'crowdsec: decision stream still failing');
      next = Math.min(this.o.pollMs * 2 ** Math.min(this.failuresInRow, 10), 300_000);
    }
    this.schedule(next);
  }

  private note(key: string, fields: Record<string, unknown>, msg: string): void {
    this.stats.ignored++;
    if (this.noted.has(key) || this.noted.size > 1000) return;
    this.noted.add(key);
    this.log.info(fields, msg);
  }

  private onNew(d: Decision): void {
    this.stats.received++;
    const a = target(d);
    if (typeof a === 'string') return this.note(a, { decision: d.id, value: d.value, why: a }, 'crowdsec: fleet decision not applied (said once per kind)');
    const seconds = Math.floor(goDurationSec(String(d.duration ?? '')));
    if (!(seconds > 0)) {
      this.stats.ignored++;
      return;
    }
    const id = String(d.id ?? '');
    let ids = this.held.get(a.text);
    if (ids?.has(id)) return;
    if (this.tracked >= (this.o.maxTracked ?? 65536)) return this.note('bound', { decision: id, value: a.text }, 'crowdsec: too many fleet decisions tracked: further ones not applied');
    const why = `${String(d.scenario ?? '?')} from ${String(d.origin ?? '?')}, decision ${id}`;
    if (this.target.fleetBan(a, seconds, why)) {
      this.stats.applied++;
      if (ids === undefined) this.held.set(a.text, (ids = new Set()));
      ids.add(id);
      this.tracked++;
    } else this.stats.refused++;
  }

  private onDeleted(d: Decision): void {
    const a = target(d);
    if (typeof a === 'string') return;
    const ids = this.held.get(a.text);
    const id = String(d.id ?? '');
    if (ids === undefined || !ids.delete(id)) return;
    this.stats.deleted++;
    this.tracked--;
    if (ids.size > 0) return;
    this.held.delete(a.text);
    if (this.target.fleetLift(a, `decision ${id} deleted or expired`)) this.stats.lifted++;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.polling;
    this.log.info({ stats: this.stats, held: this.held.size }, 'crowdsec: decision stream stopped');
  }
}

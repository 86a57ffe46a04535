/**
 * crowdsec: fleet bans through CrowdSec's Local API (LAPI). iplog logs in as a CrowdSec
 * *machine* (a watcher: `cscli machines add`), and pushes each ban as an alert carrying
 * its decision, so every CrowdSec bouncer of the fleet enforces it; an unban deletes
 * the decision. The other direction, fleet decisions applied to this host's own
 * firewall, is the decision stream (decision-stream.ts).
 *
 * The LAPI API used (CrowdSec's pkg/apiserver, v1, the same in 1.4 and later):
 * - `POST /v1/watchers/login` {machine_id, password} → {token, expire}: a JWT, sent as
 *   `Authorization: Bearer` and renewed by logging in again before it expires (or when
 *   a request is answered 401);
 * - `POST /v1/alerts` [alert]: the alert names the source (scope Ip, or Range for a
 *   prefix), the scenario `iplog/<detector>`, the evidence (the alert's meta and one
 *   event per scoring event, with the evidence grade when the events carry one), and
 *   one decision {type ban, scope, value, duration, origin, scenario}. The LAPI stores a
 *   decision given with the alert as is (its profiles are not consulted) and ends it at
 *   stop_at + duration, so stop_at is the time of sending and the duration what is left;
 * - `DELETE /v1/decisions?value=ADDR&origin=ORIGIN&type=ban` (machine JWT): the decisions
 *   this origin made for exactly that address, nothing else (not a range containing it).
 *
 * Never blocking the sensor: a ban only enters a bounded FIFO queue (at most `queue`
 * entries); one request at a time is sent with global fetch (undici) under a timeout.
 * When the LAPI cannot be reached (refused, timeout, 5xx, login failing) the head of the
 * queue is retried with exponential backoff (1 s doubling to 60 s) for as long as it
 * takes; meanwhile the queue fills, and when it is full the *oldest* entry is dropped,
 * counted and reported (IPLOG_ERR_BAN_LAPI), so nothing is lost silently. A queued ban
 * whose time has run out before the LAPI came back is not sent, and counted. A request
 * the LAPI refuses as invalid (4xx other than 401) is dropped, counted and logged with
 * the LAPI's message. The outage, the recovery and the totals are in the operational log.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Logger } from '../log';
import { ERR } from '../errors';
import type { CrowdsecSettings } from './crowdsec-settings';
import { defineBackend, type BanEvidence, type BanService, type Params, type ServiceContext } from './backend';
import type { Family } from './addr';

// ------------------------------------------------------------------ settings

/** `--crowdsec-*` / `crowdsec_*` (docs/fleet.md); secrets are read from files. */
export type { CrowdsecSettings };

export const CROWDSEC_DEFAULTS = Object.freeze({ url: 'http://127.0.0.1:8080', pollSec: 10, origins: 'iplog,crowdsec,cscli' });

export type CrowdsecSettingKey = 'crowdsecUrl' | 'crowdsecMachine' | 'crowdsecPasswordFile' | 'crowdsecBouncerKeyFile' | 'crowdsecPoll' | 'crowdsecOrigins';

/** Apply one `--crowdsec-*` value; the complaint (no location) when it is invalid. */
export function applyCrowdsecValue(c: CrowdsecSettings, key: CrowdsecSettingKey, value: string): string | undefined {
  switch (key) {
    case 'crowdsecUrl': {
      let u: URL;
      try {
        u = new URL(value);
      } catch {
        return `Invalid CrowdSec LAPI URL: "${value}" (http://HOST:PORT or https://HOST:PORT)`;
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return `Invalid CrowdSec LAPI URL: "${value}" (http or https)`;
      if (u.username || u.password) return 'Invalid CrowdSec LAPI URL: no credentials in the URL (they would show in ps); use --crowdsec-password-file';
      c.url = value.replace(/\/+$/, '');
      return undefined;
    }
    case 'crowdsecMachine':
      if (!/^[A-Za-z0-9._@-]{1,128}$/.test(value)) return `Invalid CrowdSec machine id: "${value}"`;
      c.machineId = value;
      return undefined;
    case 'crowdsecPasswordFile':
    case 'crowdsecBouncerKeyFile':
      if (value === '' || value.includes('\0')) return `Invalid file name: "${value}"`;
      if (key === 'crowdsecPasswordFile') c.passwordFile = value;
      else c.bouncerKeyFile = value;
      return undefined;
    case 'crowdsecOrigins': {
      const list = value.split(',').map((x) => x.trim()).filter(Boolean);
      if (list.length === 0 || list.some((o) => !/^[A-Za-z0-9._-]{1,64}$/.test(o))) return `Invalid CrowdSec origins: "${value}" (a comma list such as iplog,crowdsec,cscli, or all)`;
      c.origins = list.includes('all') ? 'all' : list.join(',');
      return undefined;
    }
    case 'crowdsecPoll': {
      const m = /^(\d{1,6})(s|m)?$/.exec(value.trim());
      const n = m ? Number(m[1]) * (m[2] === 'm' ? 60 : 1) : NaN;
      if (!(n >= 1 && n <= 3600)) return `Invalid CrowdSec poll interval: "${value}" (1s to 1h)`;
      c.pollSec = n;
      return undefined;
    }
  }
}

/**
 * The first line of a secret file. Errors name the file, never its content; a file that
 * others may read is worth a warning.
 */
export function readSecret(file: string, what: string, log: Logger): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the ${what} file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const secret = (text.split('\n')[0] ?? '').trim();
  if (secret === '') throw new Error(`the ${what} file ${file} is empty`);
  try {
    if ((statSync(file).mode & 0o004) !== 0) log.warn({ code: ERR.BAN_CONFIG, file }, `the ${what} file can be read by every user: chmod 600 it`);
  } catch {
    /* read it already */
  }
  return secret;
}

// ------------------------------------------------------------------ HTTP

/** A failure worth retrying (the LAPI is down, slow, or failing), or not. */
export class LapiError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
    readonly status?: number,
  ) {
    super(message);
  }
}

export type FetchFn = typeof fetch;

/** One request with a timeout; JSON in and out. Network errors and 5xx are retryable. */
export async function lapiRequest(
  f: FetchFn,
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string>; timeoutMs: number },
): Promise<{ status: number; json: unknown }> {
  let res: Response;
  try {
    res = await f(base + path, {
      method,
      headers: { 'user-agent': 'iplog-crowdsec/1', ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const why = err.name === 'TimeoutError' ? `no answer within ${opts.timeoutMs} ms` : (err.cause?.code ?? err.cause?.message ?? err.message);
    throw new LapiError(`${method} ${path}: ${why}`, true);
  }
  let text = '';
  try {
    text = await res.text();
  } catch (e) {
    throw new LapiError(`${method} ${path}: reading the answer: ${(e as Error).message}`, true, res.status);
  }
  let json: unknown = null;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

function messageOf(json: unknown): string {
  if (json !== null && typeof json === 'object' && 'message' in json) return String((json as { message: unknown }).message).slice(0, 500);
  return typeof json === 'string' ? json.slice(0, 500) : '';
}

/** A machine's login, kept and renewed (the JWT expires; 1 h by default). */
export class MachineSession {
  private token: string | null = null;
  private expires = 0;
  logins = 0;

  constructor(
    private readonly f: FetchFn,
    private readonly base: string,
    private readonly machineId: string,
    private readonly password: string,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  invalidate(): void {
    this.token = null;
  }

  async bearer(): Promise<string> {
    if (this.token !== null && this.now() < this.expires - 60_000) return this.token;
    const r = await lapiRequest(this.f, this.base, 'POST', '/v1/watchers/login', {
      body: { machine_id: this.machineId, password: this.password, scenarios: [] },
      timeoutMs: this.timeoutMs,
    });
    if (r.status !== 200) {
      // 401/403: wrong machine or password, or not validated yet: worth retrying (cscli machines validate)
      throw new LapiError(`login as machine ${this.machineId}: HTTP ${r.status} ${messageOf(r.json)}`, true, r.status);
    }
    const j = r.json as { token?: unknown; expire?: unknown };
    if (typeof j?.token !== 'string') throw new LapiError('login: no token in the answer', true, r.status);
    this.token = j.token;
    const exp = typeof j.expire === 'string' ? Date.parse(j.expire) : NaN;
    this.expires = Number.isFinite(exp) ? exp : this.now() + 30 * 60_000;
    this.logins++;
    return this.token;
  }

  /** A request with the machine's JWT; one new login when the LAPI says 401. */
  async request(method: string, path: string, body: unknown, timeoutMs: number): Promise<{ status: number; json: unknown }> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.bearer();
      const r = await lapiRequest(this.f, this.base, method, path, { body, headers: { authorization: `Bearer ${token}` }, timeoutMs });
      if (r.status === 401 && attempt === 0) {
        this.invalidate();
        continue;
      }
      return r;
    }
  }
}

// ------------------------------------------------------------------ the push queue

interface BanJob {
  readonly kind: 'ban';
  readonly addr: string;
  readonly family: Family;
  /** wall-clock ms at which the ban ends */
  readonly until: number;
  readonly evidence: BanEvidence | undefined;
}

interface UnbanJob {
  readonly kind: 'unban';
  readonly addr: string;
  readonly family: Family;
}

type Job = BanJob | UnbanJob;

export interface PushStats {
  /** bans sent and stored by the LAPI */
  pushed: number;
  /** unbans sent (decisions deleted: `deletedDecisions`) */
  unbans: number;
  deletedDecisions: number;
  /** entries dropped because the queue was full (oldest first) */
  dropped: number;
  /** bans whose time ran out while they waited for the LAPI */
  expiredQueued: number;
  /** requests the LAPI refused as invalid (dropped) */
  rejected: number;
  /** failed attempts (each retried) */
  failures: number;
  /** times the LAPI became unreachable */
  outages: number;
  logins: number;
  /** waiting now */
  queued: number;
  /** most waiting at once */
  maxQueued: number;
}

export interface PushOptions {
  url: string;
  machineId: string;
  password: string;
  origin: string;
  scenarioPrefix: string;
  maxQueue: number;
  timeoutMs: number;
  /** first retry delay, doubled up to maxBackoffMs */
  backoffMs?: number;
  maxBackoffMs?: number;
  fetch?: FetchFn;
  now?: () => number;
}

const ISO = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** Grades an event may carry (MODERN.md §3.3), passed through when present. */
const GRADE_KEYS = ['spoofable', 'proof', 'source_role'] as const;

export class CrowdsecPusher implements BanService {
  private readonly q: Job[] = [];
  private running = false;
  private closed = false;
  private down: { since: number; queuedAtStart: number } | null = null;
  /** entries dropped since the last request that got through */
  private droppedSinceSuccess = 0;
  private waiters: (() => void)[] = [];
  private wake: (() => void) | null = null;
  /** the entry being sent, and whether a full queue dropped it meanwhile */
  private inflight: Job | null = null;
  private inflightDropped = false;
  private readonly session: MachineSession;
  private readonly f: FetchFn;
  private readonly now: () => number;
  readonly stats: PushStats = { pushed: 0, unbans: 0, deletedDecisions: 0, dropped: 0, expiredQueued: 0, rejected: 0, failures: 0, outages: 0, logins: 0, queued: 0, maxQueued: 0 };

  constructor(
    private readonly o: PushOptions,
    private readonly log: Logger,
  ) {
    this.f = o.fetch ?? fetch;
    this.now = o.now ?? Date.now;
    this.session = new MachineSession(this.f, o.url, o.machineId, o.password, o.timeoutMs, this.now);
  }

  ban(addr: string, family: Family, seconds: number, evidence?: BanEvidence): void {
    this.push({ kind: 'ban', addr, family, until: this.now() + seconds * 1000, evidence });
  }

  unban(addr: string, family: Family): void {
    this.push({ kind: 'unban', addr, family });
  }

  private push(j: Job): void {
    if (this.closed) {
      this.stats.dropped++;
      this.log.error({ code: ERR.BAN_LAPI, what: `${j.kind} ${j.addr}` }, 'crowdsec: push after stop: dropped');
      return;
    }
    if (this.q.length >= this.o.maxQueue) {
      const old = this.q.shift()!;
      if (old === this.inflight) this.inflightDropped = true;
      this.stats.dropped++;
      this.droppedSinceSuccess++;
      this.log.error(
        { code: ERR.BAN_LAPI, dropped: `${old.kind} ${old.addr}`, queue: this.o.maxQueue, droppedTotal: this.stats.dropped },
        'crowdsec: push queue full: the oldest entry was dropped',
      );
    }
    this.q.push(j);
    this.stats.queued = this.q.length;
    if (this.q.length > this.stats.maxQueued) this.stats.maxQueued = this.q.length;
    if (!this.running) void this.pump();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(() => {
        this.wake = null;
        r();
      }, ms);
      // not unref'd: close() (always called at stop) wakes and ends the wait
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        r();
      };
    });
  }

  private async pump(): Promise<void> {
    this.running = true;
    let delay = this.o.backoffMs ?? 1000;
    const maxDelay = this.o.maxBackoffMs ?? 60_000;
    while (this.q.length > 0 && !this.closed) {
      const j = this.q[0]!;
      this.inflight = j;
      this.inflightDropped = false;
      try {
        await this.send(j);
        if (this.q[0] === j) this.q.shift();
        // dropped from a full queue while its request was on the way, and it got through after all
        if (this.inflightDropped) {
          this.stats.dropped--;
          this.droppedSinceSuccess--;
        }
        this.recovered();
        delay = this.o.backoffMs ?? 1000;
      } catch (e) {
        const err = e instanceof LapiError ? e : new LapiError((e as Error).message, true);
        if (!err.retry) {
          if (this.q[0] === j) this.q.shift();
          this.stats.rejected++;
          this.log.error({ code: ERR.BAN_LAPI, what: `${j.kind} ${j.addr}`, status: err.status, err: err.message }, 'crowdsec: the LAPI refused a push: dropped');
          continue;
        }
        this.stats.failures++;
        if (this.down === null) {
          this.stats.outages++;
          this.down = { since: this.now(), queuedAtStart: this.q.length };
          this.log.warn({ code: ERR.BAN_LAPI, url: this.o.url, err: err.message, queued: this.q.length }, 'crowdsec: LAPI unreachable: pushes are queued and retried');
        } else {
          this.log.debug({ err: err.message, queued: this.q.length, retryInMs: delay }, 'crowdsec: LAPI still unreachable');
        }
        await this.sleep(delay);
        delay = Math.min(delay * 2, maxDelay);
      } finally {
        this.inflight = null;
        this.stats.queued = this.q.length;
        this.stats.logins = this.session.logins;
      }
    }
    this.running = false;
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }

  private recovered(): void {
    const dropped = this.droppedSinceSuccess;
    this.droppedSinceSuccess = 0;
    if (this.down === null) return;
    this.log.warn(
      { url: this.o.url, downMs: this.now() - this.down.since, queuedAtOutage: this.down.queuedAtStart, droppedDuringOutage: dropped, stats: { ...this.stats, queued: this.q.length } },
      'crowdsec: LAPI reachable again: sending the queued pushes',
    );
    this.down = null;
  }

  private async send(j: Job): Promise<void> {
    if (j.kind === 'unban') {
      const qs = new URLSearchParams({ value: j.addr, origin: this.o.origin, type: 'ban' });
      const r = await this.session.request('DELETE', `/v1/decisions?${qs}`, undefined, this.o.timeoutMs);
      this.check(r, 'DELETE /v1/decisions');
      const n = Number((r.json as { nbDeleted?: unknown })?.nbDeleted ?? 0);
      this.stats.unbans++;
      this.stats.deletedDecisions += Number.isFinite(n) ? n : 0;
      this.log.info({ addr: j.addr, deleted: n }, `crowdsec: decisions for ${j.addr} deleted`);
      return;
    }
    const now = this.now();
    const left = Math.round((j.until - now) / 1000);
    if (left <= 0) {
      this.stats.expiredQueued++;
      this.log.warn({ code: ERR.BAN_LAPI, addr: j.addr, expiredQueuedTotal: this.stats.expiredQueued }, 'crowdsec: a queued ban ended before the LAPI could take it: not sent');
      return;
    }
    const alert = this.alert(j, now, left);
    const r = await this.session.request('POST', '/v1/alerts', [alert], this.o.timeoutMs);
    this.check(r, 'POST /v1/alerts');
    this.stats.pushed++;
    this.log.info({ addr: j.addr, seconds: left, scenario: alert.scenario, alert: r.json }, `crowdsec: ban of ${j.addr} pushed`);
  }

  private check(r: { status: number; json: unknown }, what: string): void {
    if (r.status >= 200 && r.status < 300) return;
    const retry = r.status >= 500 || r.status === 401 || r.status === 403 || r.status === 429 || r.status === 408;
    if (r.status === 401 || r.status === 403) this.session.invalidate();
    throw new LapiError(`${what}: HTTP ${r.status} ${messageOf(r.json)}`, retry, r.status);
  }

  /** The alert for one ban (swagger `Alert`; every required field set). */
  alert(j: BanJob, now: number, left: number): Record<string, unknown> & { scenario: string } {
    const ev = j.evidence;
    const range = j.addr.includes('/');
    const scope = range ? 'Range' : 'Ip';
    const hits = ev?.events ?? [];
    const last = hits[hits.length - 1];
    const name = String(last?.detector ?? last?.kind ?? 'ban');
    const scenario = `${this.o.scenarioPrefix}${name}`;
    const perDetector = new Map<string, number>();
    for (const h of hits) {
      const k = String(h.detector ?? h.kind ?? '?');
      perDetector.set(k, (perDetector.get(k) ?? 0) + 1);
    }
    const meta: { key: string; value: string }[] = [
      { key: 'source_ip', value: j.addr },
      { key: 'sensor', value: this.o.machineId },
      { key: 'detector', value: name },
      { key: 'counts', value: [...perDetector].map(([k, n]) => `${k}=${n}`).join(',') },
    ];
    if (ev !== undefined) {
      meta.push({ key: 'reason', value: ev.reason }, { key: 'score', value: String(ev.score) }, { key: 'offence', value: String(ev.offence) });
      for (const k of GRADE_KEYS) {
        const v = ev.grade?.[k] ?? last?.[k];
        if (v !== undefined && v !== null) meta.push({ key: k, value: String(v) });
      }
    }
    const times = hits.map((h) => Number(h.time)).filter((t) => Number.isFinite(t));
    const start = times.length ? Math.min(...times) * 1000 : now;
    const events = hits.map((h) => {
      const m: { key: string; value: string }[] = [{ key: 'source_ip', value: j.addr }];
      for (const [k, v] of Object.entries(h)) if (k !== 'time' && v !== undefined && v !== null) m.push({ key: k, value: String(v) });
      return { timestamp: ISO(Number.isFinite(Number(h.time)) ? Number(h.time) * 1000 : now), meta: m };
    });
    if (events.length === 0) events.push({ timestamp: ISO(now), meta: [{ key: 'source_ip', value: j.addr }] });
    const source: Record<string, string> = { scope, value: j.addr };
    if (range) source.range = j.addr;
    else source.ip = j.addr;
    return {
      scenario,
      scenario_hash: '',
      scenario_version: '',
      message: `iplog ${this.o.machineId}: ${j.addr} banned for ${left} s${ev ? ` (${ev.reason})` : ''}`,
      events_count: Math.max(1, hits.length),
      start_at: ISO(Math.min(start, now)),
      stop_at: ISO(now),
      capacity: 0,
      leakspeed: '0s',
      simulated: false,
      remediation: true,
      events,
      source,
      meta,
      labels: [],
      decisions: [{ origin: this.o.origin, type: 'ban', scope, value: j.addr, duration: `${left}s`, scenario }],
    };
  }

  /** Resolves when the queue is empty (or the pusher stopped). */
  idle(): Promise<void> {
    if (!this.running && this.q.length === 0) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /**
   * Wait up to `ms` for the queue to empty (a reachable LAPI takes what is queued), then
   * stop; what is still queued is reported and counted as dropped, never silently lost.
   */
  async close(ms: number): Promise<void> {
    if (this.q.length > 0 || this.running) {
      this.wake?.();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.idle(), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
      clearTimeout(timer);
    }
    this.closed = true;
    this.wake?.();
    const left = this.q.splice(0);
    this.stats.queued = 0;
    if (left.length > 0) {
      this.stats.dropped += left.length;
      this.log.error(
        { code: ERR.BAN_LAPI, unsent: left.map((j) => `${j.kind} ${j.addr}`).slice(0, 100), count: left.length },
        'crowdsec: LAPI unreachable at exit: queued pushes not sent',
      );
    }
    this.stats.logins = this.session.logins;
    this.log.info({ stats: this.stats }, 'crowdsec: pushes stopped');
  }
}

// ------------------------------------------------------------------ the backend

export default defineBackend({
  name: 'crowdsec',
  summary: 'fleet bans: each ban pushed to CrowdSec\'s Local API as an alert with its decision, enforced by every bouncer',
  notes:
    'Needs a CrowdSec LAPI and a machine for this sensor (`cscli machines add SENSOR --password ... -f /dev/null`); iplog reads the password from `--crowdsec-password-file` (never from the command line) and logs in with `--crowdsec-machine` at `--crowdsec-url`. No local firewall is changed: the CrowdSec bouncers of the fleet (the one on this host included) enforce the decisions. The LAPI expires decisions itself; an unban deletes the decisions of `origin` for the address. When the LAPI is down, pushes wait in a bounded queue and are retried with backoff. The other direction, the fleet\'s decisions applied by iplog to this host\'s firewall, is the decision stream (`--crowdsec-bouncer-key-file`), used with a firewall backend such as nftables. Both in docs/fleet.md.',
  params: {
    origin: { default: 'iplog', doc: 'origin of the decisions (cscli decisions list shows it; unbans delete only this origin\'s)' },
    scenario_prefix: { default: 'iplog/', doc: 'the alert\'s scenario is this followed by the detector name (iplog/syn-scan)' },
    queue: { default: '10000', doc: 'pushes waiting for the LAPI at most; when full the oldest is dropped and counted' },
    timeout: { default: '10', doc: 'seconds one LAPI request may take' },
  },
  kernelExpiry: () => true,
  validate(p) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(p.origin!)) return 'origin must be a word';
    if (!/^[A-Za-z0-9._/-]{0,64}$/.test(p.scenario_prefix!)) return 'scenario_prefix must be a word';
    if (!/^\d{1,7}$/.test(p.queue!) || Number(p.queue) < 1) return 'queue must be a positive integer';
    if (!/^\d{1,4}$/.test(p.timeout!) || Number(p.timeout) < 1) return 'timeout must be a number of seconds';
    return undefined;
  },
  service(p: Params, ctx: ServiceContext): BanService {
    const c = ctx.crowdsec;
    if (c?.machineId === undefined || c.passwordFile === undefined) throw new Error('needs --crowdsec-machine and --crowdsec-password-file (crowdsec_machine, crowdsec_password_file)');
    const password = readSecret(c.passwordFile, 'CrowdSec machine password', ctx.log);
    return new CrowdsecPusher(
      { url: c.url, machineId: c.machineId, password, origin: p.origin!, scenarioPrefix: p.scenario_prefix!, maxQueue: Number(p.queue), timeoutMs: Number(p.timeout) * 1000 },
      ctx.log,
    );
  },
  requests(p: Params): string {
    // a fixed clock and example evidence: what the pusher sends, byte for byte
    const now = 1_700_000_000_000;
    const pusher = new CrowdsecPusher(
      { url: 'http://127.0.0.1:8080', machineId: 'sensor-1', password: '(from the password file)', origin: p.origin!, scenarioPrefix: p.scenario_prefix!, maxQueue: 1, timeoutMs: 1, now: () => now },
      null as unknown as Logger,
    );
    const evidence = (addr: string): BanEvidence => ({
      reason: 'TCP: SYN scan; score 10; offence 1',
      score: 10,
      offence: 1,
      events: [{ time: now / 1000 - 5, kind: 'scan.detected', detector: 'syn-scan', title: 'TCP: SYN scan', weight: 10, ...(addr.includes(':') ? { spoofable: 3, proof: false, source_role: 'attacker' } : {}) }],
    });
    // JSON with each {key, value} pair on one line
    const show = (v: unknown) => JSON.stringify(v, null, 2).replace(/\{\n\s*"key": ("[^"\n]*"),\n\s*"value": ("[^\n]*")\n\s*\}/g, '{ "key": $1, "value": $2 }');
    const req = (title: string, line: string, body?: unknown) => `## ${title}\n${line}\n${body === undefined ? '' : show(body) + '\n'}`;
    let t = req('login (before the first request, and again before the JWT expires or after a 401)', 'POST /v1/watchers/login', { machine_id: 'sensor-1', password: '(from --crowdsec-password-file)', scenarios: [] });
    for (const [addr, family] of [
      ['192.0.2.7', 4],
      ['2001:db8::7', 6],
    ] as const) {
      const job: BanJob = { kind: 'ban', addr, family, until: now + 3600_000, evidence: evidence(addr) };
      t += req(`ban ${addr} for 3600 s (IPv${family}${family === 6 ? ', events carrying a grade' : ''})`, 'POST /v1/alerts   (Authorization: Bearer JWT)', [pusher.alert(job, now, 3600)]);
    }
    for (const addr of ['192.0.2.7', '2001:db8::7']) t += req(`unban ${addr}`, `DELETE /v1/decisions?${new URLSearchParams({ value: addr, origin: p.origin!, type: 'ban' })}   (Authorization: Bearer JWT)`);
    t += req('start, flush, stop, check', '(nothing: the LAPI keeps and expires the decisions)');
    return t;
  },
  // no commands: the requests are made by the service above
  start: () => [],
  ban: () => [],
  unban: () => [],
  flush: () => [],
  stop: () => [],
  check: () => [],
});

/**
 * Wiring: settings → a ban manager subscribed to an engine's events and hooked into its
 * network clock. main.ts uses attachBans() for a replay; the live sensor a BanSession
 * (below), which survives restarts:
 *
 *     const bans = await attachBans(engine, settings, { mode: 'replay', log });
 *     ... run ...
 *     await bans?.close();
 *
 * Returns null when banning is off (no backend, the default). Everything that does not
 * fit together is a start-up error (IplogError, IPLOG_ERR_BAN_CONFIG /
 * IPLOG_ERR_BAN_REPLAY) before any packet is read:
 * - a replay of a capture file may only use dry-run: it can show what would have been
 *   banned, not change a firewall with last week's traffic. A replay of standard input
 *   (`tcpdump -U -w - | iplog -r -`) is a live stream and may use any backend;
 * - dry-run never reads or writes the state file, and in a replay its pending expiries
 *   are fired at the end (the whole story); a real backend's bans outlive the process.
 */
import type { Engine } from '../pipeline';
import type { BanSettings, Settings } from '../config/settings';
import type { Logger } from '../log';
import type { IplogEvent } from '../output/event';
import { IplogError, ERR } from '../errors';
import { defaultBanSettings, effectiveWeights } from './config';
import { findBackend } from './index';
import { resolveParams } from './backend';
import { AllowList } from './allowlist';
import { FactsWatch, noFacts, readSystemFacts, type SystemProbe } from './system';
import { CommandQueue, execRunner, type QueueOptions, type QueueStats, type Runner } from './exec';
import { conntrackApplies, Firewall } from './firewall';
import { ControlServer, controlPathFor } from './control';
import { BanManager, type BanPolicy, type ManagerLimits } from './manager';
import { StateWriter } from './state';
import { CROWDSEC_DEFAULTS, CrowdsecPusher, readSecret, type PushStats } from './crowdsec';
import { DecisionStream } from './decision-stream';
import { randomInt } from 'node:crypto';
import { Clientele, CLIENTELE_CAPACITY } from '../evidence/clientele';
import { clienteleFile } from '../evidence/persist';

export interface AttachOptions {
  mode: 'replay' | 'live';
  log: Logger;
  /** wall clock in seconds, for the start-up reconciliation (default: Date.now) */
  wallNow?: () => number;
  /** injection points for tests */
  probe?: SystemProbe;
  clockMs?: () => number;
  runner?: Runner;
  queue?: QueueOptions;
  limits?: Partial<ManagerLimits>;
  /** open the ban control socket beside the pid file (the live sensor; never a replay) */
  control?: boolean;
}

/**
 * The bans of one process: built at the first engine, then kept across engines (a
 * SIGHUP restart makes a new engine with empty tables; the ban table, the scores and the
 * firewall stay, and the manager moves to the new engine's events and clock). A restart
 * applies the ban settings read again (reload()): policy, allowlist, conntrack; bans in
 * force keep their end unless the allowlist now forbids them. The backend, its parameters
 * and the state file are those of the start (changing them needs a stop and a start:
 * said in the operational log). For the live sensor:
 *
 *     const bans = new BanSession(settings, { mode: 'live', log });
 *     runDaemon({ ..., onEngine: (e) => bans.onEngine(e), onStop: () => bans.close() });
 */
export class BanSession {
  manager: BanManager | null = null;
  /** the fleet's decisions (--crowdsec-bouncer-key-file), applied through the manager */
  stream: DecisionStream | null = null;
  /** the firewall command queue's counters (--metrics, status); null for dry-run and service backends */
  commands: QueueStats | null = null;
  private engine: Engine | null = null;
  private built = false;
  private firewall: Firewall | null = null;
  /** the ban settings of the start, for what a reload cannot change */
  private startBan: BanSettings | null = null;
  control: ControlServer | null = null;

  constructor(
    private readonly settings: Settings,
    private readonly opts: AttachOptions,
  ) {}

  /** Attach to `engine` (building and starting the manager the first time). */
  async onEngine(engine: Engine): Promise<void> {
    this.engine = engine;
    if (!this.built) {
      this.built = true;
      this.startBan = structuredClone(this.settings.ban ?? defaultBanSettings());
      this.manager = await build(this.settings, this.opts, (ev, text) => this.engine!.out.text(ev, text), (q) => (this.commands = q?.stats ?? null), (f) => (this.firewall = f));
      if (this.commands === null && this.firewall?.service instanceof CrowdsecPusher) this.commands = serviceCommands(this.firewall.service.stats);
      this.stream = fleetStream(this.settings, this.opts, this.manager);
      this.stream?.start();
      if (this.manager !== null && this.opts.control === true) await this.openControl(this.manager);
    } else {
      this.reload();
    }
    if (this.manager === null) return;
    engine.out.subscribe(this.manager.onEvent, this.manager.wants);
    // the engine's handshakes feed the session's clientele (it outlives a SIGHUP's new engine)
    engine.trust.clientele = this.manager.clientele;
    this.manager.trust = engine.trust;
    engine.addClockListener(this.manager);
  }

  private async openControl(m: BanManager): Promise<void> {
    const log = this.opts.log.child({ component: 'ban' });
    const c = new ControlServer(m, { path: controlPathFor(this.settings.pidFile), group: this.settings.controlGroup, log });
    const problem = await c.listen();
    if (problem !== undefined) {
      // bans go on; only `iplog bans` cannot reach this sensor
      log.error({ code: ERR.BAN_CONTROL, problem }, 'no ban control socket: iplog bans cannot reach this sensor (bans go on)');
      return;
    }
    this.control = c;
    m.onClose(() => c.close());
  }

  /**
   * A restart (SIGHUP) read the configuration again: apply the ban settings. What cannot
   * change while running (turning banning on or off, the backend, its parameters, the
   * state file) is kept as it was and said once in the operational log.
   */
  reload(): void {
    const m = this.manager;
    const log = this.opts.log.child({ component: 'ban' });
    const b = this.settings.ban ?? defaultBanSettings();
    const was = this.startBan ?? defaultBanSettings();
    const kept: string[] = [];
    if (b.backend !== was.backend) kept.push(`ban_backend ${was.backend} (not ${b.backend})`);
    if (JSON.stringify(b.params) !== JSON.stringify(was.params)) kept.push('ban_param');
    if (b.stateFile !== was.stateFile) kept.push(`ban_state ${was.stateFile}`);
    if (kept.length > 0) log.warn({ code: ERR.BAN_CONFIG, kept }, 'reload: these ban settings need a stop and a start; the running ones stay');
    if (m === null) return;
    if (b.maxTimeSec < b.timeSec) {
      log.error({ code: ERR.BAN_CONFIG, timeSec: b.timeSec, maxTimeSec: b.maxTimeSec }, 'reload: --ban-max-time is shorter than --ban-time: ban settings unchanged');
      return;
    }
    let lifted: number;
    try {
      lifted = m.reconfigure(policyOf(b), { configured: b.allow, home: this.settings.home ?? [] }, (this.opts.wallNow ?? (() => Date.now() / 1000))());
    } catch (e) {
      log.error({ code: ERR.BAN_CONFIG, err: (e as Error).message }, 'reload: invalid allowlist: ban settings unchanged');
      return;
    }
    if (this.firewall !== null) this.firewall.conntrack = b.conntrack && conntrackApplies(this.firewall.def);
    log.info({ policy: { ...policyOf(b), weights: Object.fromEntries([...effectiveWeights(b)].filter(([, w]) => w > 0)) }, allow: b.allow, home: this.settings.home ?? [], conntrack: b.conntrack, liftedByAllowlist: lifted }, 'ban settings reloaded');
  }

  /** Wait for the firewall commands and the state file (the bans stay in force). */
  async close(): Promise<void> {
    await this.stream?.stop();
    await this.manager?.close();
  }
}

/**
 * A crowdsec backend's requests in the command counters (--metrics, status): requests
 * sent; failed = pushes that never reached the LAPI (refused as invalid, or their ban ended
 * while they waited); retried = failed attempts; dropped = dropped from a full queue.
 */
export function serviceCommands(st: PushStats): QueueStats {
  return {
    get commands() {
      return st.pushed + st.unbans + st.rejected + st.failures;
    },
    get failed() {
      return st.rejected + st.expiredQueued;
    },
    get retried() {
      return st.failures;
    },
    skipped: 0,
    get dropped() {
      return st.dropped;
    },
  };
}

/** The decision stream, when a bouncer key is configured and banning is on. */
function fleetStream(settings: Settings, opts: AttachOptions, manager: BanManager | null): DecisionStream | null {
  const c = settings.ban?.crowdsec;
  if (c?.bouncerKeyFile === undefined) return null;
  const log = opts.log.child({ component: 'ban' });
  if (manager === null) {
    log.warn({ code: ERR.BAN_CONFIG }, 'crowdsec: a bouncer key is configured but banning is off (--ban-backend): no decision stream');
    return null;
  }
  if (opts.mode === 'replay' && settings.replayFile !== '-') {
    log.warn({ code: ERR.BAN_CONFIG }, 'crowdsec: no decision stream in a replay of a capture file (its decisions are those of the capture)');
    return null;
  }
  let apiKey: string;
  try {
    apiKey = readSecret(c.bouncerKeyFile, 'CrowdSec bouncer key', log);
  } catch (e) {
    throw new IplogError(`--crowdsec-bouncer-key-file: ${(e as Error).message}`, ERR.BAN_CONFIG);
  }
  return new DecisionStream({ url: c.url, apiKey, pollMs: c.pollSec * 1000, timeoutMs: 10_000, origins: c.origins }, manager, log);
}

/** The manager's policy from the ban settings (at start, and at each reload). */
export function policyOf(b: BanSettings): BanPolicy {
  return {
    weights: effectiveWeights(b),
    threshold: b.threshold,
    windowSec: b.windowSec,
    timeSec: b.timeSec,
    maxTimeSec: b.maxTimeSec,
    factor: b.factor,
    budget: b.budget,
    prefixBudget: b.prefixBudget,
    resyncSec: b.resyncSec,
    evidence: b.evidence,
    protectedSec: b.protectedSec,
    prefixOffenders: b.prefixOffenders,
  };
}

/** Build and start the manager for `engine`; null when banning is off. */
export async function attachBans(engine: Engine, settings: Settings, opts: AttachOptions): Promise<BanManager | null> {
  const session = new BanSession(settings, opts);
  await session.onEngine(engine);
  return session.manager;
}

async function build(
  settings: Settings,
  opts: AttachOptions,
  emit: (ev: IplogEvent, text: string) => void,
  onQueue?: (q: CommandQueue | null) => void,
  onFirewall?: (f: Firewall) => void,
): Promise<BanManager | null> {
  const b = settings.ban ?? defaultBanSettings();
  if (b.backend === 'none') return null;
  const def = findBackend(b.backend);
  if (def === undefined) throw new IplogError(`unknown ban backend "${b.backend}"`, ERR.BAN_CONFIG);
  const dryRun = def.name === 'dry-run';
  const fromFile = opts.mode === 'replay' && settings.replayFile !== '-';
  if (fromFile && !dryRun) {
    throw new IplogError(
      `a replay of a capture file cannot change the firewall: use --ban-backend dry-run to see what would have been banned (a live stream on standard input, -r -, may use ${def.name})`,
      ERR.BAN_REPLAY,
    );
  }
  if (b.maxTimeSec < b.timeSec) throw new IplogError(`--ban-max-time (${b.maxTimeSec}) is shorter than --ban-time (${b.timeSec})`, ERR.BAN_CONFIG);
  let params;
  try {
    params = resolveParams(def, b.params);
  } catch (e) {
    throw new IplogError((e as Error).message, ERR.BAN_CONFIG);
  }
  let allow: AllowList;
  try {
    allow = new AllowList(b.allow, settings.home ?? []);
  } catch (e) {
    throw new IplogError(`--ban-allow/--home: ${(e as Error).message}`, ERR.BAN_CONFIG);
  }
  const log = opts.log.child({ component: 'ban' });
  // a replay of a capture file never reads this machine's addresses, gateways or resolvers
  const probe = opts.probe ?? (fromFile ? noFacts : readSystemFacts);
  if (b.crowdsec?.bouncerKeyFile !== undefined && def.service !== undefined) {
    throw new IplogError(`--crowdsec-bouncer-key-file applies the fleet's decisions to a local firewall: it cannot be used with the ${def.name} backend (that would send them back); use nftables, ipset, ... (docs/fleet.md)`, ERR.BAN_CONFIG);
  }
  let service = null;
  if (def.service !== undefined && !dryRun) {
    try {
      service = def.service(params, { log, crowdsec: b.crowdsec ?? { ...CROWDSEC_DEFAULTS } });
    } catch (e) {
      throw new IplogError(`backend ${def.name}: ${(e as Error).message}`, ERR.BAN_CONFIG);
    }
  }
  const queue = dryRun || service !== null ? null : new CommandQueue(opts.runner ?? execRunner(), log, opts.queue);
  onQueue?.(queue);
  const firewall = new Firewall(def, params, queue, log, service);
  firewall.conntrack = b.conntrack && conntrackApplies(def);
  onFirewall?.(firewall);
  let manager: BanManager | null = null;
  // who completed a handshake with this host: never banned on spoofable evidence (kept beside the state)
  const clientele = new Clientele(CLIENTELE_CAPACITY, randomInt(0x7fffffff));
  const state = dryRun ? null : { path: b.stateFile, writer: new StateWriter(b.stateFile, () => manager!.snapshot(), log) };
  manager = new BanManager({
    policy: policyOf(b),
    clientele,
    clienteleFile: dryRun ? undefined : clienteleFile(b.stateFile),
    firewall,
    allow,
    probe,
    clockMs: opts.clockMs,
    emit,
    log,
    state,
    drains: dryRun && opts.mode === 'replay',
    limits: opts.limits,
  });
  log.info(
    {
      backend: def.name,
      params,
      kernelExpiry: firewall.kernelExpiry,
      weights: Object.fromEntries([...manager.policy.weights].filter(([, w]) => w > 0)),
      threshold: b.threshold,
      windowSec: b.windowSec,
      timeSec: b.timeSec,
      maxTimeSec: b.maxTimeSec,
      factor: b.factor,
      budget: b.budget,
      prefixBudget: b.prefixBudget,
      evidence: b.evidence,
      protectedSec: Math.min(b.protectedSec, b.timeSec),
      prefixOffenders: b.prefixOffenders,
      stateFile: state?.path,
    },
    'banning on',
  );
  if (!dryRun && service === null && (settings.user !== undefined || settings.group !== undefined)) {
    // -u/-g drop root after start-up; nft, ipset and iptables need CAP_NET_ADMIN
    log.warn({ code: ERR.BAN_CONFIG, user: settings.user, group: settings.group, backend: def.name }, 'bans with -u/-g: firewall commands run as that user and need CAP_NET_ADMIN (and write access to the state file), or they will fail');
  }
  if (opts.probe === undefined && !fromFile) {
    // the host's facts are cached: a netlink monitor and a watch of /etc say when to read them again
    const m = manager;
    const watch = new FactsWatch(() => m.factsChanged());
    m.onClose(() => watch.close());
  }
  if (state !== null) await manager.start((opts.wallNow ?? (() => Math.floor(Date.now() / 1000)))());
  return manager;
}

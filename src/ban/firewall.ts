/**
 * One backend with its parameters, bound to a command queue (or, for dry-run, to a
 * recorder): what the manager calls. It starts the backend on demand before the first
 * ban (fail2ban's actionstart), and after a failed ban runs the backend's `check`; when
 * the structure has gone (an `nft flush ruleset`, a restarted firewall service: peers.md
 * §3.4) it is created again and the ban retried once (IPLOG_ERR_BAN_REPAIR).
 */
import type { Logger } from '../log';
import { ERR } from '../errors';
import { renderCmd, type ActualBan, type BackendDef, type BanEvidence, type BanService, type Cmd, type Params, type ReconcilePlan } from './backend';
import type { BanAddr } from './addr';
import type { CommandQueue } from './exec';

/** A recorded action of the dry-run backend: network time and the command. */
export interface Action {
  readonly time: number;
  readonly cmd: Cmd;
}

/** Bound of the dry-run record kept in memory (the log has all of them). */
export const MAX_ACTIONS = 10_000;

/** `conntrack -D [-f ipv6] -s ADDR`: exit status 1 and this message when there was nothing to delete. */
export function conntrackDelete(a: BanAddr): Cmd {
  return { argv: ['conntrack', '-D', ...(a.family === 6 ? ['-f', 'ipv6'] : []), '-s', a.text], okIf: /0 flow entries have been deleted/ };
}

/** Where connection tracking can be cut: Linux, with a firewall backend (pf kills its own states; a service has no local firewall). */
export function conntrackApplies(def: BackendDef, platform: string = process.platform): boolean {
  return platform === 'linux' && def.name !== 'pf' && def.name !== 'ipfw' && def.name !== 'dry-run' && def.service === undefined;
}

export class Firewall {
  private started = false;
  readonly kernelExpiry: boolean;
  /** dry-run: what would have run, oldest first */
  readonly actions: Action[] = [];
  /** network time for dry-run records */
  now = 0;
  repairs = 0;
  /**
   * After each ban, delete the source's connection tracking entries (`--ban-conntrack`,
   * Linux), so that an established connection is not let through by an
   * established-accept rule any more: its next packet is "new" and meets the drop rule.
   * Its own queue job after the ban's: a failure is counted (`conntrackFailures`, and in
   * the queue's failed commands), never retried as a ban, never fatal.
   */
  conntrack = false;
  conntrackRuns = 0;
  conntrackFailures = 0;

  constructor(
    readonly def: BackendDef,
    readonly params: Params,
    /** null = dry-run: record, run nothing */
    private readonly queue: CommandQueue | null,
    private readonly log: Logger,
    /** a service backend (crowdsec): bans and unbans go there, no commands run */
    readonly service: BanService | null = null,
  ) {
    this.kernelExpiry = def.kernelExpiry(params);
  }

  /** How long close() waits for a service backend's queue (the LAPI may be down). */
  static serviceDrainMs = 5000;

  get dryRun(): boolean {
    return this.queue === null;
  }

  private record(cmds: readonly Cmd[]): void {
    for (const cmd of cmds) {
      if (this.actions.length >= MAX_ACTIONS) this.actions.shift();
      this.actions.push({ time: this.now, cmd });
      // packet_time: the network time (s); `time` is pino's own wall-clock stamp (ms)
      this.log.info({ packet_time: this.now, argv: cmd.argv, stdin: cmd.stdin, unless: cmd.unless, command: renderCmd(cmd) }, 'ban action');
    }
  }

  private submit(cmds: Cmd[], what: string): Promise<boolean> {
    if (this.queue === null) {
      this.record(cmds);
      return Promise.resolve(true);
    }
    return this.queue.run(cmds, what).then((r) => r.ok);
  }

  private withStart(cmds: Cmd[]): Cmd[] {
    if (this.started) return cmds;
    this.started = true;
    return [...this.def.start(this.params), ...cmds];
  }

  ban(a: BanAddr, seconds: number, evidence?: BanEvidence): void {
    if (this.service !== null) return this.service.ban(a.text, a.family, seconds, evidence);
    const cmds = this.def.ban(this.params, a.text, a.family, seconds);
    void this.submit(this.withStart(cmds), `ban ${a.text}`).then((ok) => {
      if (!ok) void this.repair(cmds, a.text);
    });
    if (this.conntrack && this.queue !== null) {
      this.conntrackRuns++;
      void this.queue.run([conntrackDelete(a)], `conntrack ${a.text}`).then((r) => {
        if (!r.ok) this.conntrackFailures++;
      });
    }
  }

  unban(a: BanAddr): void {
    if (this.service !== null) return this.service.unban(a.text, a.family);
    void this.submit(this.def.unban(this.params, a.text, a.family), `unban ${a.text}`);
  }

  /** pf: drop entries older than `seconds`. */
  expire(seconds: number): void {
    if (this.def.expire) void this.submit(this.withStart(this.def.expire(this.params, seconds)), 'expire');
  }

  private async repair(cmds: Cmd[], addr: string): Promise<void> {
    if (this.queue === null) return;
    const check = this.def.check(this.params);
    if (check.length === 0) return;
    const r = await this.queue.run(check, 'check');
    if (r.ok) return; // the structure is there: the failure was the ban itself (logged)
    this.repairs++;
    this.log.error({ code: ERR.BAN_REPAIR, backend: this.def.name, addr }, 'firewall structure missing: creating it again and retrying the ban');
    await this.queue.run([...this.def.start(this.params), ...cmds], `ban ${addr} (repair)`);
  }

  /** What the firewall holds now; null if the backend cannot tell, or the listing failed. */
  async list(): Promise<ActualBan[] | null> {
    if (!this.def.list || !this.def.parse || this.queue === null) return null;
    const r = await this.queue.run(this.def.list(this.params), 'list');
    if (!r.ok) return null;
    try {
      return this.def.parse(this.params, r.outputs);
    } catch (e) {
      this.log.error({ code: ERR.BAN_RECONCILE, backend: this.def.name, err: (e as Error).message }, 'cannot parse the firewall listing');
      return null;
    }
  }

  /**
   * Bring the firewall to `plan` in as few transactions as the backend allows (start
   * included). Backends without `reconcile` get start + one ban per missing entry.
   */
  async reconcile(plan: ReconcilePlan): Promise<boolean> {
    this.started = true;
    // a service keeps its own decisions and their expiry (the LAPI): nothing to repair
    if (this.service !== null) return true;
    let cmds: Cmd[];
    if (this.def.reconcile) {
      cmds = this.def.reconcile(this.params, plan);
    } else {
      cmds = [...this.def.start(this.params)];
      for (const b of plan.remove) cmds.push(...this.def.unban(this.params, b.addr, b.family));
      for (const b of plan.add) cmds.push(...this.def.ban(this.params, b.addr, b.family, b.seconds));
    }
    return this.submit(cmds, 'reconcile');
  }

  /**
   * Resolves when every submitted command has run (at stop: a service backend is given
   * serviceDrainMs to send what it holds, then stopped, reporting what it could not send).
   */
  idle(): Promise<void> {
    if (this.service !== null) return this.service.close(Firewall.serviceDrainMs);
    return this.queue === null ? Promise.resolve() : this.queue.idle();
  }
}

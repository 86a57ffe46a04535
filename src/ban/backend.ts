/**
 * The ban backend contract (STYLE.md "Adding a ban backend"; fail2ban's action
 * lifecycle, sshguard's fw_* functions). A backend is one file exporting one
 * `defineBackend(...)` value: its parameters with defaults, and one function per
 * lifecycle verb that renders argv arrays. Backends never run anything and never
 * build shell strings: exec.ts runs the argv with execFile, so an address can never
 * become shell syntax. A command may carry
 * - `stdin`: a script for tools that read one (`nft -f -`, `ipset restore`,
 *   `iptables-restore`), which is how a reconciliation is one transaction;
 * - `unless`: an argv run first; when it succeeds the command is skipped (idempotent
 *   start-up: `iptables -C ...` before `iptables -I ...`);
 * - `okIf`: failures whose error output matches are success (deleting what the kernel
 *   has already expired).
 *
 * Verbs: `start` (create sets/chains/hooks; idempotent; run on demand before the first
 * ban, or as part of the start-up reconciliation), `ban`, `unban`, `flush` (remove every
 * ban, keep the structure), `stop` (remove the structure), `check` (fails when the
 * structure is missing), optionally `list` + `parse` (what is banned now) and
 * `reconcile` (one transaction from a plan), and `expire` (pf's `-T expire`).
 */
import type { Family } from './addr';
import type { Logger } from '../log';
import type { CrowdsecSettings } from './crowdsec-settings';

export interface Cmd {
  readonly argv: readonly string[];
  readonly stdin?: string;
  readonly unless?: readonly string[];
  readonly okIf?: RegExp;
}

export interface ParamSpec {
  readonly default: string;
  readonly doc: string;
}

export type Params = Readonly<Record<string, string>>;

/** One ban the firewall holds now; `seconds` = time left, null if it does not expire by itself. */
export interface ActualBan {
  readonly addr: string;
  readonly family: Family;
  readonly seconds: number | null;
}

/** What a reconciliation must change: nothing else is touched. */
export interface ReconcilePlan {
  readonly add: readonly { addr: string; family: Family; seconds: number }[];
  readonly remove: readonly { addr: string; family: Family }[];
}

/**
 * What a ban rests on, for backends that carry it further (crowdsec): the manager's
 * reason, score and offence, and the scoring events (time, kind, detector, title,
 * weight, and the evidence grade fields when the events carry them).
 */
export interface BanEvidence {
  readonly reason: string;
  readonly score: number;
  readonly offence: number;
  readonly events: readonly Readonly<Record<string, string | number | boolean | null | undefined>>[];
  /** spoofable / proof / source_role of the ban as a whole, when the manager grades it */
  readonly grade?: Readonly<Record<string, string | number | boolean | null | undefined>>;
}

/**
 * A backend that talks to a service instead of running commands (crowdsec: HTTP to a
 * Local API). It must never block: calls queue and return at once.
 */
export interface BanService {
  ban(addr: string, family: Family, seconds: number, evidence?: BanEvidence): void;
  unban(addr: string, family: Family): void;
  /** wait up to `ms` for what is queued, then stop (reporting what was not sent) */
  close(ms: number): Promise<void>;
}

export interface ServiceContext {
  readonly log: Logger;
  readonly crowdsec?: CrowdsecSettings;
}

export interface BackendDef {
  readonly name: string;
  /** one line for docs and `--ban-backend` errors */
  readonly summary: string;
  /** what an operator must know or set up, for docs/ban-backends.md */
  readonly notes?: string;
  readonly params: Readonly<Record<string, ParamSpec>>;
  /** other parameter names are accepted too and left to `validate` (dry-run passes its target's on) */
  readonly passthrough?: boolean;
  /** parameters used for the transcript and the docs when the defaults are not enough (command) */
  readonly example?: Params;
  /** elements carry their own timeout: the kernel expires bans even if iplog is dead */
  kernelExpiry(p: Params): boolean;
  /** largest timeout the firewall accepts, in seconds (ipset: 2147483) */
  readonly maxSeconds?: number;
  /** parameters that make no sense together; a message, or undefined */
  validate?(p: Params): string | undefined;
  start(p: Params): Cmd[];
  ban(p: Params, addr: string, family: Family, seconds: number): Cmd[];
  unban(p: Params, addr: string, family: Family): Cmd[];
  flush(p: Params): Cmd[];
  stop(p: Params): Cmd[];
  check(p: Params): Cmd[];
  /** commands whose outputs, in order, `parse` turns into the bans held now */
  list?(p: Params): Cmd[];
  parse?(p: Params, outputs: readonly string[]): ActualBan[];
  /** start + the plan, as few commands as the firewall allows (nftables: one) */
  reconcile?(p: Params, plan: ReconcilePlan): Cmd[];
  /** remove entries older than `seconds` (pf: `-T expire`); run at start and every resync */
  expire?(p: Params, seconds: number): Cmd[];
  /** a service backend (its verbs render no commands): ban/unban go to this instead; may throw a configuration error */
  service?(p: Params, ctx: ServiceContext): BanService;
  /** a service backend's transcript: the requests it makes for each verb (docs, test/ban/transcripts/) */
  requests?(p: Params): string;
}

export function defineBackend(d: BackendDef): BackendDef {
  return Object.freeze(d);
}

/** Parameters of `def` with `given` over the defaults; unknown names are an error (thrown). */
export function resolveParams(def: BackendDef, given: Params): Params {
  const out: Record<string, string> = {};
  for (const [k, spec] of Object.entries(def.params)) out[k] = spec.default;
  for (const [k, v] of Object.entries(given)) {
    if (!(k in def.params) && !def.passthrough) {
      const known = Object.keys(def.params);
      throw new Error(`backend ${def.name} has no parameter "${k}"${known.length ? ` (it has: ${known.join(', ')})` : ''}`);
    }
    out[k] = v;
  }
  const problem = def.validate?.(out);
  if (problem !== undefined) throw new Error(`backend ${def.name}: ${problem}`);
  return Object.freeze(out);
}

/** `a,b, c` → ['a','b','c'] */
export function listParam(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

/** For display only (docs, transcripts, logs): argv as a copy-pasteable shell line. */
export function quoteArg(a: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

export function renderCmd(c: Cmd): string {
  const lines: string[] = [];
  if (c.unless) lines.push(`unless ${c.unless.map(quoteArg).join(' ')}`);
  lines.push(c.argv.map(quoteArg).join(' ') + (c.okIf ? `   # ok if: ${c.okIf.source}` : ''));
  if (c.stdin !== undefined) for (const l of c.stdin.replace(/\n$/, '').split('\n')) lines.push(`  | ${l}`);
  return lines.join('\n');
}

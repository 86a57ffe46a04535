/**
 * Log matches into the engine's event stream: one `log.match` event and one line per
 * match, written through the engine's emitter exactly like a packet's line, so the ban
 * manager (subscribed there) scores it with the packet events of the same address: one
 * score, one BAN line naming every rule and detector that contributed, one firewall
 * element. Log evidence comes after a completed handshake or an authenticated exchange:
 * it is graded `spoofable: 0` (peers.md, CrowdSec's label).
 *
 * The event (docs/json-events.md, kind `log.match`): `src` the IPv4 address (0 for IPv6,
 * whose text is in detail.src6 as the ban manager reads it), detail = { rule, source,
 * addr, family, weight, spoofable: 0, proof: true, source_role: "attacker", line } (+ ban_time when the rule sets one, and
 * own_threshold when this match completed the rule's own threshold).
 *
 * A rule with its own threshold T and window W: its matches count per address; the one
 * that makes T within W carries weight max(weight, ban threshold), so it bans on its own
 * (with the rule's ban_time if set). Those counts are a bounded table per rule (at most
 * `maxGate` addresses, least recently seen evicted first in O(1): src/ban/lru.ts,
 * counted in `gateEvictions`); an address's times are at most the rule's threshold.
 */
import { event, type IplogEvent } from '../output/event';
import { Lru } from '../ban/lru';
import type { IpAddr } from '../net/addr';
import type { LogRule } from './rules';

export const LOG_KIND = 'log.match';
/** longest piece of the matched line kept in the event (it is attacker-influenced text) */
export const MAX_EVIDENCE = 300;
export const DEFAULT_MAX_GATE = 65536;

export interface FeedStats {
  matches: number;
  ownThresholds: number;
  gateEvictions: number;
}

export class LogFeed {
  readonly stats: FeedStats = { matches: 0, ownThresholds: 0, gateEvictions: 0 };
  /** per rule with its own threshold: address → times of its recent matches (oldest first) */
  private readonly gates = new Map<string, Lru<number[]>>();

  constructor(
    /** write a line and its event (engine.out.text) */
    private readonly emit: (ev: IplogEvent, text: string) => void,
    /** the ban manager's threshold (a rule's own threshold bans with at least this weight) */
    private readonly banThreshold: number,
    private readonly maxGate = DEFAULT_MAX_GATE,
  ) {}

  /** `a`: the accused address (IPv4-mapped already unmapped: matcher.ts addrOf). */
  hit(rule: LogRule, a: IpAddr, t: number, source: string, line: string): void {
    this.stats.matches++;
    const text = a.toString();
    let weight = rule.weight;
    let own: string | null = null;
    if (rule.threshold > 0 && this.gate(rule, text, t)) {
      weight = Math.max(weight, this.banThreshold);
      own = `${rule.threshold} in ${rule.windowSec} s`;
      this.stats.ownThresholds++;
    }
    const evidence = line.length > MAX_EVIDENCE ? line.slice(0, MAX_EVIDENCE) : line;
    const detail: Record<string, string | number | boolean> = { rule: rule.name, source, addr: text, family: a.family, weight, spoofable: 0, proof: true, source_role: 'attacker', line: evidence };
    if (a.family === 6) detail.src6 = text;
    if (rule.banSec > 0) detail.ban_time = rule.banSec;
    if (own !== null) detail.own_threshold = own;
    const ev = event(LOG_KIND, t, a, { count: 1, detail });
    this.emit(ev, `log: ${rule.name} from ${text} (${source})`);
  }

  /** Addresses in the own-threshold table of `rule` (tests). */
  gateSize(rule: string): number {
    return this.gates.get(rule)?.size ?? 0;
  }

  /** Count a match of `rule` from `key` at `t`; true when it completes the rule's threshold. */
  private gate(rule: LogRule, key: string, t: number): boolean {
    let g = this.gates.get(rule.name);
    if (g === undefined) this.gates.set(rule.name, (g = new Lru<number[]>(this.maxGate)));
    let times = g.get(key);
    if (times === undefined) {
      times = [];
      const evicted = g.set(key, times);
      if (evicted !== undefined) this.stats.gateEvictions++;
    }
    const from = t - rule.windowSec;
    let k = 0;
    while (k < times.length && times[k]! <= from) k++;
    if (k > 0) times.splice(0, k);
    times.push(t);
    if (times.length >= rule.threshold) {
      // counted: the next ban needs a full threshold again
      g.delete(key);
      return true;
    }
    return false;
  }
}

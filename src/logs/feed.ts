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
 * `maxGate` addresses, least recently seen evicted first, `gateEvictions`).
 */
import { event, type IplogEvent } from '../output/event';
import { toIp, type BanAddr } from '../ban/addr';
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
  private readonly gates = new Map<string, Map<string, number[]>>();

  constructor(
    /** write a line and its event (engine.out.text) */
    private readonly emit: (ev: IplogEvent, text: string) => void,
    /** the ban manager's threshold (a rule's own threshold bans with at least this weight) */
    private readonly banThreshold: number,
    private readonly maxGate = DEFAULT_MAX_GATE,
  ) {}

  hit(rule: LogRule, a: BanAddr, t: number, source: string, line: string): void {
    this.stats.matches++;
    let weight = rule.weight;
    let own: string | null = null;
    if (rule.threshold > 0 && this.gate(rule, a.text, t)) {
      weight = Math.max(weight, this.banThreshold);
      own = `${rule.threshold} in ${rule.windowSec} s`;
      this.stats.ownThresholds++;
    }
    const evidence = line.length > MAX_EVIDENCE ? line.slice(0, MAX_EVIDENCE) : line;
    const detail: Record<string, string | number | boolean> = { rule: rule.name, source, addr: a.text, family: a.family, weight, spoofable: 0, proof: true, source_role: 'attacker', line: evidence };
    if (a.family === 6) detail.src6 = a.text;
    if (rule.banSec > 0) detail.ban_time = rule.banSec;
    if (own !== null) detail.own_threshold = own;
    const ev = event(LOG_KIND, t, toIp(a), { count: 1, detail });
    this.emit(ev, `log: ${rule.name} from ${a.text} (${source})`);
  }

  /** Count a match of `rule` from `key` at `t`; true when it completes the rule's threshold. */
  private gate(rule: LogRule, key: string, t: number): boolean {
    let g = this.gates.get(rule.name);
    if (g === undefined) this.gates.set(rule.name, (g = new Map()));
    let times = g.get(key);
    if (times !== undefined) g.delete(key);
    else {
      if (g.size >= this.maxGate) {
        g.delete(g.keys().next().value as string);
        this.stats.gateEvictions++;
      }
      times = [];
    }
    const from = t - rule.windowSec;
    let k = 0;
    while (k < times.length && times[k]! <= from) k++;
    if (k > 0) times.splice(0, k);
    times.push(t);
    if (times.length >= rule.threshold) {
      // counted: the next ban needs a full threshold again
      return true;
    }
    if (times.length > rule.threshold) times.shift();
    g.set(key, times);
    return false;
  }
}

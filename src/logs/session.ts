/**
 * The log sources of the live sensor: one follower per `log_file`, one `journalctl`
 * child per `log_journal`, started once for the process (like the bans: a SIGHUP restart
 * makes a new engine, the followers and their positions stay and write into the new
 * engine). Every match becomes a `log.match` line and event in the current engine
 * (feed.ts), where the ban manager scores it with the packet events.
 *
 * A live match is timed by the wall clock when it is read (the line's own stamp may be in
 * another time zone, or late): the ban manager's window and the network clock are
 * wall-clock seconds in live operation.
 *
 *     const logs = new LogSession(settings, opLog);
 *     onEngine: (e) => { await bans.onEngine(e); logs.onEngine(e); }
 *     onStop: () => logs.close()
 */
import type { Engine } from '../pipeline';
import type { Settings } from '../config/settings';
import type { Logger } from '../log';
import { BAN_DEFAULTS } from '../ban/config';
import { LogFeed } from './feed';
import { FileFollower } from './follow';
import { JournalFollower } from './journal';
import { LogMatcher } from './matcher';
import { rulesOf } from './rules';
import { LogState } from './state';

export interface LogSessionOptions {
  /** tests: poll interval of the file followers */
  pollMs?: number;
  /** tests: journalctl program and extra arguments */
  journalctl?: string;
  journalArgs?: readonly string[];
  /** wall clock, seconds */
  now?: () => number;
}

export class LogSession {
  private engine: Engine | null = null;
  private started = false;
  readonly files: { follower: FileFollower; matcher: LogMatcher }[] = [];
  readonly journals: { follower: JournalFollower; matcher: LogMatcher; key: string }[] = [];
  feed: LogFeed | null = null;
  private state: LogState | null = null;

  constructor(
    private readonly settings: Settings,
    private readonly log: Logger,
    private readonly o: LogSessionOptions = {},
  ) {}

  get active(): boolean {
    return (this.settings.logs?.sources.length ?? 0) > 0;
  }

  onEngine(engine: Engine): void {
    this.engine = engine;
    if (this.started || !this.active) return;
    this.started = true;
    const ls = this.settings.logs!;
    const log = this.log.child({ component: 'logs' });
    const now = this.o.now ?? (() => Math.floor(Date.now() / 1000));
    const feed = new LogFeed((ev, text) => this.engine?.out.text(ev, text), this.settings.ban?.threshold ?? BAN_DEFAULTS.threshold);
    this.feed = feed;
    const state = new LogState(ls.stateFile, log);
    this.state = state;
    for (const s of ls.sources) {
      const rules = rulesOf(ls, s.rules);
      if (s.kind === 'file') {
        const matcher = new LogMatcher(rules, s.format, null);
        const follower = new FileFollower(
          s.path,
          (line) => {
            if (matcher.matchLine(line, now(), false)) feed.hit(matcher.rule!, matcher.addr, matcher.time, s.path, line);
          },
          { log, state, pollMs: this.o.pollMs },
        );
        this.files.push({ follower, matcher });
        follower.start();
      } else {
        const key = [...s.units.map((u) => `unit:${u}`), ...s.idents.map((i) => `ident:${i}`)].join(',');
        const label = `journal:${[...s.units, ...s.idents].join(',')}`;
        const matcher = new LogMatcher(rules, 'plain', null);
        const follower: JournalFollower = new JournalFollower({
          units: s.units,
          idents: s.idents,
          cursor: state.cursor(key),
          journalctl: this.o.journalctl,
          extraArgs: this.o.journalArgs,
          log,
          onEntry: (e) => {
            if (matcher.matchMessage(e.msg, e.ident, now())) feed.hit(matcher.rule!, matcher.addr, matcher.time, label, e.msg);
            if (e.cursor !== '') state.setCursor(key, e.cursor);
          },
        });
        this.journals.push({ follower, matcher, key });
        follower.start();
      }
    }
    log.info({ sources: ls.sources.map((s) => (s.kind === 'file' ? s.path : `journal ${[...s.units, ...s.idents].join(',')}`)), rules: ls.rules.map((r) => r.name), stateFile: ls.stateFile }, 'following logs');
  }

  stats(): Record<string, unknown> {
    return {
      files: this.files.map((f) => ({ file: f.follower.path, ...f.follower.stats, ...f.matcher.stats })),
      journals: this.journals.map((j) => ({ source: j.key, entries: j.follower.entries, bad: j.follower.badEntries, restarts: j.follower.restarts, ...j.matcher.stats })),
      feed: this.feed?.stats,
    };
  }

  async close(): Promise<void> {
    for (const j of this.journals) j.follower.stop();
    await Promise.all(this.files.map((f) => f.follower.stop()));
    this.state?.flush();
    if (this.started) this.log.info({ logs: this.stats() }, 'log followers stopped');
  }
}

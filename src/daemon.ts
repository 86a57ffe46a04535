/**
 * The live sensor's process life: start-up in iplog 2.2.3's order, background mode, the
 * pid file, privileges, signals (restart, exit, statistics) and the operational log.
 * The capture itself (libpcap addon, src/capture/live.ts) and the detection engine
 * (pipeline.ts) are used through small interfaces, so this file is about order and
 * process state only.
 *
 * Start-up (spec §1.1; steps 1–4, the configuration and the options, are cli/program.ts):
 *   5. open the log sink and log `iplog started.`;
 *   6. unless -o: go to the background (daemon/detach.ts): the command returns when the
 *      daemon reports that it runs, with its status;
 *   7. pid file, created and locked (daemon/pidfile.ts);
 *   8. engine: scan, fragment and DNS tables (pipeline.ts), -d nameserver rules;
 *   9. interfaces opened: failure → `Fatal: Couldn't initialize interfaces.`;
 *  10. -u/-g (daemon/privileges.ts), after the capture handles and the syslog socket
 *      are open.
 * The signal handlers (2.2.3's step 12) are installed before step 7, so that a signal
 * during the start-up is handled (once the start-up is over) instead of killing the
 * process with its pid file left behind.
 * `Fatal:` texts are logged on the sink (as 2.2.3's fatal() did once the sink was open)
 * and end the process with status 255, leaving the pid file alone.
 *
 * Signals:
 *   SIGTERM (and SIGINT with -o): remove the pid file (`Couldn't unlink "<f>": <err>` if
 *     that fails), `Caught signal <n>, exiting.`, statistics to the operational log,
 *     exit 0. Scans in progress are not reported (2.2.3 did not either).
 *   SIGHUP (`iplog -R`): restart (spec §2.7): `Restarting iplog (pid <pid>).`, sink closed,
 *     configuration read again on top of the current settings, sink opened
 *     (`iplog started.`), a new engine (empty tables) that keeps the bogus-flag,
 *     traceroute and SYN-flood memories; the interfaces are reopened if the process may
 *     still capture (CAP_NET_RAW), else the open handles are kept.
 *   SIGUSR1: statistics to the operational log (Node's inspector is not started by it).
 * Signal work is serialised: a signal that arrives during a restart is handled after it.
 */
import { readFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { reloadConfiguration } from './cli/program';
import { strerror } from './cli/kill';
import { diagnosticFd, type Settings } from './config/settings';
import { Anomalies } from './decode/anomalies';
import { Engine } from './pipeline';
import { addNameserverRules } from './rules/compile';
import { createRenderer, type ReverseResolver } from './output/resolve';
import { openSink, sinkClosed } from './output/sinks/open';
import { openOutputs, type Outputs } from './output/sinks/json';
import { createLogger, type Logger } from './log';
import { writePidFile, PidFileError, type LockOps, type PidFile } from './daemon/pidfile';
import { dropPrivileges, PrivilegeError } from './daemon/privileges';
import { becomeDaemonChild, detach, StartReport, takeChildMarker } from './daemon/detach';
import { FoolNmap } from './live/fool-nmap';
import { wallSeconds, LiveFatal, LIVE_ERR, type LiveFrameHandler } from './capture/live';
import { IdentHookImpl, IdentService } from './live/ident';
import { IplogError } from './errors';
import { SensorMetrics } from './metrics/sensor';
import type { BanSnapshot } from './metrics/snapshot';
import { OutputFaults } from './output/sinks/faults';
import { onStatisticsSignal } from './cli/usr1';
import { hostAddresses } from './live/protected';
import { ProcListeners } from './live/listeners';

export type { CaptureStats, CaptureHandle } from './capture/handle';
import type { CaptureHandle } from './capture/handle';

/** What the daemon needs from the capture layer (src/capture/live.ts). */
export interface CaptureBackend {
  /**
   * Open the interfaces the settings select and deliver their frames to `onFrame`.
   * Throws when none can be opened. `warn` receives iplog lines such as
   * `Warning: unable to open <if>`. `fatal` is called when capture ends for good at run
   * time (`Fatal: No more interfaces open for reading.  Exiting.`).
   */
  open(s: Settings, onFrame: LiveFrameHandler, warn: (line: string) => void, fatal: (line: string) => void, engine: () => Engine): CaptureHandle;
  /** Record locks for the pid file (the addon's fcntl helpers). */
  locks: LockOps;
  /** May this process open capture handles now (CAP_NET_RAW in its effective set)? */
  canCapture(): boolean;
}

export interface DaemonOptions {
  /** the command line (for the background child), without node and the script */
  argv: readonly string[];
  settings: Settings;
  /** lines to print before the sink is open (configuration diagnostics, warnings) */
  messages: readonly string[];
  /**
   * The capture layer (src/capture/live.ts captureBackend()), or a function that makes it
   * with the operational log and the handler of exceptions from the packet path.
   */
  capture: CaptureBackend | ((ctx: { log: Logger; onError: (e: unknown) => void }) => CaptureBackend);
  /**
   * Called with every engine before it sees a packet (at start-up, `previous` null, and at
   * each restart), e.g. to attach the ban manager. A throw at start-up is a start-up error.
   */
  onEngine?: (engine: Engine, previous: Engine | null, log: Logger) => void | Promise<void>;
  /** Called once when the sensor stops (after the last line), e.g. to close the ban manager. */
  onStop?: () => void | Promise<void>;
  /** the ban manager's counters, for --metrics and the status file (null: banning off) */
  banStats?: () => BanSnapshot | null;
}

const STATUS_FATAL = 255;

/** Untimestamped diagnostics: stdout with 2.2.3's command line, else stderr (settings.ts diagnosticFd()). */
function printer(s: Settings): (text: string) => void {
  return (text) => {
    try {
      writeSync(diagnosticFd(s), text);
    } catch {
      /* closed (a daemon has both on /dev/null anyway) */
    }
  };
}

/**
 * Run the live sensor. Resolves with the exit status when it ends (SIGTERM, a fatal
 * error) or, in the parent of a background start, when the daemon has reported.
 */
export async function runDaemon(o: DaemonOptions): Promise<number> {
  const s = o.settings;
  const clock = wallSeconds;
  const print = printer(s);
  const isChild = takeChildMarker();
  const report = isChild ? new StartReport() : null;
  try {
    // The operational log: a file that cannot be opened is a start-up error like -l's.
    let log: Logger;
    try {
      log = createLogger(process.env.IPLOG_LOG_LEVEL ?? 'info', s.opLog);
    } catch (e) {
      throw new IplogError(`Unable to open "${s.opLog}" for writing: ${strerror(e)}.`, 'IPLOG_ERR_OUTPUT_OPEN');
    }
    // the text sink (-L, -l, syslog), with the JSON events of --json beside it; write
    // errors (disk full, stdout closed) are reported and counted, never fatal (faults.ts)
    const faults = new OutputFaults('live', log);
    const open = (st: Settings, l: Logger): Outputs => openOutputs(st, 'live', () => openSink(st, 'live', { log: l, faults }), faults);

    // 1-4 happened in the parent (or here, in the foreground): their messages are printed once
    if (!isChild) for (const m of o.messages) print(`${m}\n`);

    // 5. the sink, and the first line. From here on a process that stays (the foreground
    // one, or the daemon) holds SIGTERM/SIGHUP (and SIGINT with -o) until the sensor's own
    // handlers are in place (step 12), then handles them in arrival order: a signal sent as
    // soon as "iplog started." is seen is never the default action (death without cleanup).
    const early: NodeJS.Signals[] = [];
    const holders = new Map<NodeJS.Signals, () => void>();
    if (s.flags.no_fork || isChild) {
      const held: NodeJS.Signals[] = s.flags.no_fork ? ['SIGTERM', 'SIGHUP', 'SIGINT'] : ['SIGTERM', 'SIGHUP'];
      for (const sig of held) {
        const fn = (): void => void early.push(sig);
        holders.set(sig, fn);
        process.on(sig, fn);
      }
    }
    const outputs = open(s, log);
    if (!isChild) {
      outputs.sink.write(clock(), 'iplog started.');
      outputs.sink.flush();
    }

    // 6. background: hand over to a detached copy of this command
    if (!s.flags.no_fork && !isChild) {
      await closeOutputs(outputs, clock());
      const r = await detach({ argv: o.argv, keepStdout: s.flags.stdout });
      // the daemon logged its Fatal line on the sink; say it here too unless that is our stdout
      if (r.status !== 0 && r.message !== undefined && !(s.flags.stdout && r.message.startsWith('Fatal: '))) {
        try {
          writeSync(2, `${r.message.startsWith('iplog: ') ? '' : 'iplog: '}${r.message}\n`);
        } catch {
          /* no stderr */
        }
      }
      log.flush();
      return r.status;
    }
    if (isChild) {
      // Deviation: 2.2.3 kept relative paths as given, so after chdir("/") its pid file and
      // a log file reopened by a restart landed in / (and -k from the same directory could
      // not find the pid file). They are made absolute first, from where iplog was started.
      absolutePaths(s);
      becomeDaemonChild();
    }
    const sensor = new Sensor(o, s, log, open, outputs, clock, print, report, faults);
    return await sensor.start(isChild, () => {
      for (const [sig, fn] of holders) process.removeListener(sig, fn);
      for (const sig of early) process.emit(sig, sig);
    });
  } catch (e) {
    // a start-up error that is not one of iplog's Fatal lines (IplogError, a bug)
    report?.fail(e instanceof IplogError ? e.status : 70, `iplog: ${(e as Error)?.message ?? String(e)}`);
    throw e;
  }
}

/** The running sensor: steps 7-12 of the start-up, then the signals. */
class Sensor {
  private readonly backend: CaptureBackend;
  private pidFile: PidFile | null = null;
  private capture: CaptureHandle | null = null;
  /** the engine frames go to; replaced by a restart */
  private engine: Engine = null as unknown as Engine;
  /** while a restart swaps engine and sink, frames are dropped (and counted), as 2.2.3 cancelled its capture threads */
  private paused = false;
  private stopping = false;
  private readonly an = new Anomalies();
  /** counters of the engines and captures a restart replaced */
  private readonly totals = { packets: 0, ipv4: 0, lines: 0, received: 0, dropped: 0, ifDropped: 0, droppedInRestart: 0 };
  private renderer: ReverseResolver | null = null;
  private ident: IdentService | null = null;
  private fool: FoolNmap | null = null;
  /** the host's listening sockets, for the modern profile (one reader for every engine) */
  private listeners: ProcListeners | null = null;
  private queue: Promise<void> = Promise.resolve();
  private readonly handlers: Partial<Record<NodeJS.Signals, () => void>> = {};
  private keepAlive: NodeJS.Timeout | null = null;
  /** --metrics and the status file (src/metrics/sensor.ts) */
  private readonly observe: SensorMetrics;
  private stopUsr1: () => void = () => undefined;
  private done: (status: number) => void = () => undefined;

  constructor(
    private readonly o: DaemonOptions,
    private readonly s: Settings,
    private readonly log: Logger,
    private readonly open: (s: Settings, log: Logger) => Outputs,
    private outputs: Outputs,
    private readonly clock: () => number,
    private readonly print: (text: string) => void,
    private readonly report: StartReport | null,
    private readonly faults: OutputFaults,
  ) {
    this.backend = typeof o.capture === 'function' ? o.capture({ log, onError: (e) => this.packetPathFailed(e) }) : o.capture;
    this.observe = new SensorMetrics(s, log, {
      engine: () => this.engine,
      capture: () => this.capture,
      totals: this.totals,
      anomalies: this.an,
      renderer: () => this.renderer,
      text: () => this.outputs.text,
      bans: () => o.banStats?.() ?? null,
    });
  }

  /** Steps 7-12; resolves with the exit status when the sensor ends. */
  async start(isChild: boolean, handOver: () => void = () => undefined): Promise<number> {
    const finished = new Promise<number>((r) => (this.done = r));
    // 12. signals. Installed first (2.2.3 installed them last, so a SIGTERM during the
    // start-up killed it without removing the pid file): a signal that comes during the
    // start-up is handled once the start-up is over, like any other, in arrival order.
    this.handlers.SIGTERM = () => this.serial(() => this.terminate(15));
    this.handlers.SIGHUP = () => this.serial(() => this.restart());
    if (this.s.flags.no_fork) this.handlers.SIGINT = () => this.serial(() => this.terminate(2));
    for (const [sig, fn] of Object.entries(this.handlers)) process.on(sig, fn);
    // the signals held since the first line (runDaemon) now reach these handlers
    handOver();
    // SIGUSR1 goes through cli/usr1.ts, whose listener is never removed: without one, Node
    // would open its debugger (or, once removed, SIG_DFL would kill the process)
    this.stopUsr1 = onStatisticsSignal(() => this.serial(() => void (this.stopping || this.log.info(this.statistics(), 'statistics'))));
    this.keepAlive = setInterval(() => undefined, 1 << 30);

    const startup = this.startup(isChild);
    this.queue = startup.then(
      () => undefined,
      () => undefined,
    );
    let status: number | undefined;
    try {
      status = await startup;
    } catch (e) {
      this.end(70);
      throw e;
    }
    if (status !== undefined) {
      this.end(status);
      return status;
    }
    return finished;
  }

  /** Steps 7-10; a status when the start-up failed (a Fatal line), else undefined. */
  private async startup(isChild: boolean): Promise<number | undefined> {
    const s = this.s;
    // 7. the pid file
    try {
      this.pidFile = writePidFile(s.pidFile, process.pid, this.backend.locks);
    } catch (e) {
      if (e instanceof PidFileError) return this.fatalAtStart(`Fatal: ${e.message}`);
      throw e;
    }

    // 8. the engine
    this.engine = await this.newEngine(null);

    // 9. the interfaces
    try {
      this.capture = this.openCapture();
    } catch (e) {
      this.log.error({ code: 'IPLOG_ERR_CAPTURE_OPEN', err: (e as Error).message }, 'no interface could be opened');
      // a filter that does not compile is reported as the original did: `Fatal: pcap_compile: …`
      if (e instanceof LiveFatal && e.code === LIVE_ERR.FILTER) return this.fatalAtStart(`Fatal: ${e.message}`);
      return this.fatalAtStart("Fatal: Couldn't initialize interfaces.");
    }

    // --metrics: bound before privileges are dropped (a port below 1024 is possible)
    const problem = await this.observe.listen();
    if (problem !== undefined) {
      this.capture.close();
      return this.fatalAtStart(`Fatal: ${problem}`);
    }

    // 10. privileges, now that the capture handles and the syslog socket are open
    try {
      dropPrivileges(s.user, s.group);
    } catch (e) {
      if (e instanceof PrivilegeError) {
        this.capture.close();
        this.observe.stop();
        return this.fatalAtStart(`Fatal: ${e.message}`);
      }
      throw e;
    }

    this.report?.ok();
    this.observe.startStatus(isChild ? 'daemon' : 'foreground');
    this.log.info(
      { mode: isChild ? 'daemon' : 'foreground', pidFile: s.pidFile, settings: describeSettings(s), privileged: this.backend.canCapture() },
      'iplog started',
    );
    return undefined;
  }

  /** A Fatal line before the sensor runs: on the sink, to the parent, status 255. */
  private async fatalAtStart(line: string): Promise<number> {
    this.outputs.sink.write(this.clock(), line);
    await closeOutputs(this.outputs, this.clock());
    this.report?.fail(STATUS_FATAL, line);
    this.log.error({ code: 'IPLOG_ERR_FATAL', line }, 'start-up failed');
    this.log.flush();
    return STATUS_FATAL;
  }

  /** Step 8 (and a restart's): -d rules, DNS, the engine and its live helpers. */
  private async newEngine(previous: Engine | null): Promise<Engine> {
    const { s, o } = this;
    if (s.flags.ignore_dns) {
      try {
        addNameserverRules(s.rules, readFileSync('/etc/resolv.conf', 'utf8'));
      } catch (e) {
        this.outputs.sink.write(this.clock(), `Unable to add dns ignore rules: ${strerror(e)}`);
      }
    }
    this.renderer = s.flags.disable_resolver ? null : createRenderer(s);
    // modern: the host's own addresses are protected beside -a and --home (read at each start)
    if (s.profile === 'modern') s.hostAddresses = hostAddresses();
    // modern: the previous engine's tables are handed over (scans in progress survive the reload)
    const e = new Engine(s, this.outputs.sink, this.renderer, this.an, previous);
    // modern, live: the host's listening sockets sharpen silent outcomes (src/live/listeners.ts),
    // when what is protected is this host alone (no -a or --home networks of other hosts)
    if (e.modern !== null && (s.promiscNets?.length ?? 0) === 0 && (s.home?.length ?? 0) === 0) e.modern.listeners = this.listeners ??= new ProcListeners();
    if (previous !== null) {
      // not reset by a restart in 2.2.3 (spec §2.7)
      e.state.carryOver(previous.state);
      this.totals.packets += previous.packets;
      this.totals.ipv4 += previous.ipv4Packets;
      this.totals.lines += previous.out.lines;
    }
    if (s.flags.fool_nmap) this.fool ??= new FoolNmap();
    e.foolNmap = s.flags.fool_nmap ? this.fool : null;
    if (s.flags.get_ident) {
      this.ident ??= new IdentService();
      e.ident = new IdentHookImpl(this.ident, () => this.engine, this.clock);
    }
    e.out.subscribe(this.observe.events.onEvent);
    await o.onEngine?.(e, previous, this.log);
    return e;
  }

  /** Frames go to whichever engine is current. */
  private readonly onFrame: LiveFrameHandler = (buf, off, caplen, wirelen, tsSec, tsNsec, linktype, inject) => {
    if (this.paused) {
      this.totals.droppedInRestart++;
      return;
    }
    const e = this.engine;
    if (e.foolNmap !== null) this.fool!.frame(buf, off, linktype, inject);
    e.onFrame(buf, off, caplen, wirelen, tsSec, tsNsec, linktype);
  };

  private openCapture(): CaptureHandle {
    // the capture's own lines, after the lines already waiting for names
    const warn = (line: string): void => {
      const out = this.engine.out;
      const write = (): void => this.guard(() => {
        out.sink.write(this.clock(), line);
        out.sink.flush();
      });
      if (out.pending() === 0) write();
      else void out.idle().then(write);
    };
    // capture ended for good at run time (the last interface went down)
    const fatal = (line: string): void => this.serial(() => this.exit(STATUS_FATAL, [line]));
    return this.backend.open(this.s, this.onFrame, warn, fatal, () => this.engine);
  }

  /**
   * Run an output operation. Write errors of the outputs never get here (they are
   * reported and counted by OutputFaults); anything else is a bug, logged.
   */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.packetPathFailed(e);
    }
  }

  /** An exception from the packet path: a bug, exit 70. */
  private packetPathFailed(e: unknown): void {
    if (this.stopping) return;
    // an orderly end, not a Fatal: the pid file goes
    const err = this.pidFile?.remove();
    this.log.error({ code: 'IPLOG_ERR_INTERNAL', err: (e as Error)?.stack ?? String(e) }, 'packet path failed');
    this.serial(() => this.exit(70, err === undefined ? [] : [err]));
  }

  /** Signal work runs one at a time, in arrival order. */
  private serial(fn: () => Promise<void> | void): void {
    this.queue = this.queue.then(fn).catch((err: unknown) => {
      this.log.error({ code: 'IPLOG_ERR_INTERNAL', err: (err as Error)?.stack ?? String(err) }, 'signal handling failed');
    });
  }

  /** SIGTERM, SIGINT with -o: iplog_cleanup(). */
  private async terminate(signal: number): Promise<void> {
    if (this.stopping) return;
    const lines: string[] = [];
    const err = this.pidFile?.remove();
    if (err !== undefined) lines.push(err);
    lines.push(`Caught signal ${signal}, exiting.`);
    await this.exit(0, lines);
  }

  /** Stop: capture closed, queued lines written, then `lines`, sinks closed, statistics. */
  private async exit(status: number, lines: string[]): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.capture?.close();
    await this.engine.out.idle();
    this.guard(() => {
      for (const l of lines) this.outputs.sink.write(this.clock(), l);
    });
    await closeOutputs(this.outputs, this.clock()).catch((e: unknown) => this.guard(() => {
      throw e;
    }));
    await this.o.onStop?.();
    this.log.info({ ...this.statistics(), status }, 'iplog exiting');
    this.end(status);
  }

  /** Release what keeps the process alive and resolve start()'s promise. */
  private end(status: number): void {
    this.stopping = true;
    this.observe.stop();
    this.renderer?.close();
    this.ident?.close();
    this.log.flush();
    if (this.keepAlive !== null) clearInterval(this.keepAlive);
    for (const [sig, fn] of Object.entries(this.handlers)) process.removeListener(sig, fn);
    this.stopUsr1();
    this.done(status);
  }

  /** SIGHUP, iplog -R: iplog_restart() (spec §2.7). */
  private async restart(): Promise<void> {
    if (this.stopping) return;
    const s = this.s;
    const old = this.engine;
    this.paused = true;
    this.capture?.pause?.();
    await old.out.idle();
    this.outputs.sink.write(this.clock(), `Restarting iplog (pid ${process.pid}).`);
    await closeOutputs(this.outputs, this.clock());
    this.renderer?.close();
    const r = reloadConfiguration(s);
    // the sink is closed: these go to stdout without a timestamp, as in 2.2.3
    for (const m of r.messages) this.print(`${m}\n`);
    let problem: string | undefined = r.fatal?.line;
    if (problem === undefined) {
      try {
        this.outputs = this.open(s, this.log);
      } catch (e) {
        problem = (e as Error).message;
      }
    }
    if (problem !== undefined) {
      // nowhere to log it but stdout; 2.2.3 exited at once without cleaning up
      this.print(`${problem}\n`);
      this.capture?.close();
      this.log.error({ code: r.fatal?.code ?? 'IPLOG_ERR_OUTPUT_OPEN', line: problem }, 'restart failed');
      this.end(STATUS_FATAL);
      return;
    }
    this.outputs.sink.write(this.clock(), 'iplog started.');
    this.engine = await this.newEngine(old);
    this.outputs.sink.flush();
    // reopen the interfaces only if we still may (2.2.3: only if it could open raw sockets)
    const reopen = this.backend.canCapture();
    if (reopen && this.capture !== null) {
      const c = this.capture.stats();
      this.observe.captureClosed(this.capture);
      this.totals.received += c.received;
      this.totals.dropped += c.dropped;
      this.totals.ifDropped += c.ifDropped;
      this.capture.close();
      this.capture = null;
      try {
        this.capture = this.openCapture();
      } catch {
        // the handles are gone and none could be opened again; the pid file stays (fatal)
        await this.exit(STATUS_FATAL, ["Fatal: Couldn't initialize interfaces."]);
        return;
      }
    }
    this.paused = false;
    this.capture?.resume?.();
    // nothing reaches the old engine any more (frames, the idle clock and the live helpers
    // go to this.engine; its queued lines were written above): its tables' arrays go to
    // the next restart's engine
    old.release();
    this.log.info({ settings: describeSettings(s), reopened: reopen }, 'iplog restarted');
  }

  /** Statistics for the operational log, over the whole life of the process. */
  private statistics(): Record<string, unknown> {
    const e = this.engine;
    const t = this.totals;
    const an = this.an;
    const c = this.capture?.stats() ?? { received: 0, dropped: 0, ifDropped: 0 };
    return {
      capture: { ...c, received: t.received + c.received, dropped: t.dropped + c.dropped, ifDropped: t.ifDropped + c.ifDropped },
      packets: t.packets + e.packets,
      ipv4: t.ipv4 + e.ipv4Packets,
      lines: t.lines + e.out.lines,
      anomalies: Object.fromEntries(an.nonZero()),
      evictions: {
        scan: an.get('scan.evicted'),
        scan_in_mode: an.get('scan.evicted_in_mode'),
        frag: an.get('frag.evicted'),
        ...(e.modern === null
          ? {}
          : {
              modern_contacts: an.get('modern.contact_evicted'),
              modern_contacts_evidence: an.get('modern.contact_evicted_evidence'),
              modern_sources: an.get('modern.source_evicted'),
              modern_sources_evidence: an.get('modern.source_evicted_evidence'),
              modern_admission: an.get('modern.admission_evicted'),
              modern_syn_tier: an.get('modern.syn_tier_evicted'),
              modern_syn_admission: an.get('modern.syn_admission_evicted'),
              modern_aggregates: an.get('modern.aggregate_evicted'),
              modern_aggregates_evidence: an.get('modern.aggregate_evicted_evidence'),
            }),
      },
      dropped_during_restart: t.droppedInRestart,
      // outputs that lost lines (disk full, I/O error, standard output closed)
      outputs: this.faults.losses(),
      dns: this.renderer?.stats,
      ident: this.ident?.stats,
      fool_nmap: this.fool?.stats,
      // bytes: resident set, V8 heap, memory outside it (Buffers: capture slots)
      memory: memory(),
    };
  }
}

/** process.memoryUsage() as the statistics record carries it. */
function memory(): Record<string, number> {
  const m = process.memoryUsage();
  return { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

/** Make the file settings absolute (against the current directory). */
function absolutePaths(s: Settings): void {
  s.pidFile = resolve(s.pidFile);
  s.configFile = resolve(s.configFile);
  if (s.logfile !== undefined) s.logfile = resolve(s.logfile);
  if (s.opLog !== undefined) s.opLog = resolve(s.opLog);
  if (s.jsonFile !== undefined && s.jsonFile !== '-') s.jsonFile = resolve(s.jsonFile);
}

/** Close the sinks of a run and wait until what they hold is delivered (syslog). */
async function closeOutputs(outputs: Outputs, now: number): Promise<void> {
  outputs.sink.close(now);
  if (outputs.text !== null) await sinkClosed(outputs.text);
}

/** The configuration as the operational log records it (flags that are on, choices made). */
function describeSettings(s: Settings): Record<string, unknown> {
  return {
    profile: s.profile,
    flags: Object.entries(s.flags)
      .filter(([, v]) => v)
      .map(([k]) => k),
    interfaces: s.interfaces ?? null,
    promisc: s.promiscNets ?? null,
    user: s.user ?? null,
    group: s.group ?? null,
    logfile: s.logfile ?? null,
    syslog: s.syslogServer ?? s.syslogSocket ?? null,
    config: s.configFile,
    rules: s.rules.tcp.length + s.rules.udp.length + s.rules.icmp.length,
  };
}

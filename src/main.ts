/**
 * Process entry: parse the command line (config file first, as iplog does), then run.
 * Replay (`-r FILE`) runs the pipeline over a capture; without it the live sensor runs
 * (src/daemon.ts: a daemon unless -o). Exit statuses: 0 done, 1 bad input or runtime
 * error, 255 for iplog's own `Fatal:` start-up errors (as the original), 70 a bug.
 */
// first: SIGUSR1 is iplog's statistics signal, never Node's debugger (bin/iplog claims
// it even earlier; this covers `node dist/src/main.js`)
import { claimSigusr1, guardAgainstInspector, onStatisticsSignal } from './cli/usr1';
claimSigusr1();
import { fstatSync, readFileSync, statSync, writeSync } from 'node:fs';
import { parseCommandLine } from './cli/program';
import { strerror } from './cli/kill';
import { addNameserverRules } from './rules/compile';
import { replayInputs, expandInputs, type FileResult } from './cli/replay';
import { ReplayReport, type SummaryFacts } from './cli/progress';
import type { LineSink } from './output/sinks/sink';
import { BrokenPipeError, OutputFaults } from './output/sinks/faults';
import type { SyslogStats } from './output/sinks/syslog';
import { openSink, sinkClosed } from './output/sinks/open';
import { openOutputs, JSON_SCHEMA_VERSION } from './output/sinks/json';
import type * as Resolve from './output/resolve';
import { CaptureError } from './capture/source';
import { NetSyntaxError } from './rules/dst-net';
import { IplogError, ERR } from './errors';
import { createLogger, type Logger } from './log';
import type * as BanAttach from './ban/attach';
import type * as LogReplayMod from './logs/replay';
import type { LogReplay } from './logs/replay';
import type * as LogSessionMod from './logs/session';
import type { Engine } from './pipeline';
import type { BanManager } from './ban/manager';
import type * as Daemon from './daemon';
import type * as LiveCapture from './capture/live';
import { diagnosticFd, type Settings } from './config/settings';
import type * as Snapshot from './metrics/snapshot';
import type * as StatusCommand from './metrics/status-command';
import type * as BansCommand from './cli/bans';

/*
 * What only some modes use is loaded when one of them runs (issue 10: the start-up of a
 * replay): the live sensor (daemon, capture, log sources, metrics), bans, log replay,
 * reverse DNS, `iplog status`, `iplog bans`.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const lazy = {
  resolve: (): typeof Resolve => require('./output/resolve') as typeof Resolve,
  bans: (): typeof BanAttach => require('./ban/attach') as typeof BanAttach,
  logReplay: (): typeof LogReplayMod => require('./logs/replay') as typeof LogReplayMod,
  logSession: (): typeof LogSessionMod => require('./logs/session') as typeof LogSessionMod,
  daemon: (): typeof Daemon => require('./daemon') as typeof Daemon,
  capture: (): typeof LiveCapture => require('./capture/live') as typeof LiveCapture,
  snapshot: (): typeof Snapshot => require('./metrics/snapshot') as typeof Snapshot,
  status: (): typeof StatusCommand => require('./metrics/status-command') as typeof StatusCommand,
  bansCommand: (): typeof BansCommand => require('./cli/bans') as typeof BansCommand,
};
/* eslint-enable @typescript-eslint/no-require-imports */

function out(fd: number, text: string): void {
  if (text.length === 0) return;
  try {
    writeSync(fd, text);
  } catch {
    /* a closed stdout/stderr is not worth dying over here */
  }
}

function envNumber(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * The live sensor (src/daemon.ts): start-up order, background mode, pid file, privileges,
 * signals; capture through the libpcap addon (src/capture/live.ts); bans attached to
 * every engine (a restart makes a new one). IPLOG_LIVE_BUFFER_KIB sets the kernel capture
 * buffer per interface; IPLOG_TEST_CONSUMER_DELAY_MS slows the packet consumer (tests).
 */
async function live(argv: string[], s: Settings, messages: readonly string[]): Promise<number> {
  if (s.jsonFile === '-' && !s.flags.no_fork) {
    // a daemon's standard output is /dev/null: the events would vanish without a word
    throw new IplogError('--json - writes the events to standard output, which a daemon does not have (it is /dev/null once iplog is in the background): use --json FILE, or -o to stay in the foreground', ERR.JSON_NO_STDOUT);
  }
  if (s.jsonFile === '-') checkStdoutOpen();
  const bufferKib = envNumber('IPLOG_LIVE_BUFFER_KIB');
  const delayMs = envNumber('IPLOG_TEST_CONSUMER_DELAY_MS');
  // one ban manager for the whole process: a restart moves it to the new engine, keeping
  // its table, scores and budget (src/ban/attach.ts BanSession)
  let bans: BanAttach.BanSession | null = null;
  // log sources (src/logs/session.ts): started once, write into the current engine
  let logs: LogSessionMod.LogSession | null = null;
  return lazy.daemon().runDaemon({
    argv,
    settings: s,
    messages,
    capture: ({ log: opLog, onError }) =>
      lazy.capture().captureBackend({
        log: opLog,
        onError,
        ...(bufferKib !== undefined ? { bufferBytes: bufferKib * 1024 } : {}),
        ...(delayMs !== undefined ? { consumerDelayMs: delayMs } : {}),
      }),
    onEngine: async (engine, _previous, opLog) => {
      // the live sensor, and only it, opens the ban control socket (iplog bans)
      bans ??= new (lazy.bans().BanSession)(s, { mode: 'live', log: opLog, control: true });
      await bans.onEngine(engine);
      logs ??= new (lazy.logSession().LogSession)(s, opLog);
      logs.onEngine(engine);
    },
    onStop: async () => {
      await logs?.close();
      await bans?.close();
    },
    banStats: () => {
      const m = bans?.manager;
      if (m === null || m === undefined) return null;
      return lazy.snapshot().banSnapshot(m.stats as unknown as Record<string, unknown>, m.list().length, s.ban?.backend ?? null, bans!.commands);
    },
  });
}

/**
 * The end of a replay: one line on stderr per output that lost lines (a standard output
 * closed while other outputs went on; syslog lines not delivered). True if any.
 */
function lostOutputs(faults: OutputFaults, syslog: SyslogStats | undefined): boolean {
  let lost = false;
  for (const f of faults.losses()) {
    if (!f.closed) continue; // a failing file ended the run with its own error
    out(2, `iplog: standard output closed by its reader: ${f.linesLost} line${f.linesLost === 1 ? '' : 's'} not written there (${ERR.OUTPUT_CLOSED})\n`);
    lost = true;
  }
  if (syslog !== undefined) {
    const n = syslog.dropped + syslog.rejected + syslog.lostAtClose;
    if (n > 0) {
      out(2, `iplog: syslog ${syslog.target}: ${n} line${n === 1 ? '' : 's'} not delivered (${syslog.outages} outage${syslog.outages === 1 ? '' : 's'}) (${ERR.OUTPUT_WRITE})\n`);
      lost = true;
    }
  }
  return lost;
}

/**
 * `--json -` must reach someone: standard output closed (Node reopens a closed fd 1 on
 * /dev/null) or /dev/null itself is an error, not a silent loss of every event.
 */
function checkStdoutOpen(): void {
  let nowhere = false;
  try {
    const st = fstatSync(1);
    nowhere = st.isCharacterDevice() && st.rdev === statSync('/dev/null').rdev;
  } catch {
    nowhere = true;
  }
  if (nowhere) {
    throw new IplogError('--json - writes the events to standard output, which is closed or /dev/null: use --json FILE', ERR.JSON_NO_STDOUT);
  }
}

/**
 * process.stderr.isTTY, without making process.stderr (it loads the streams, milliseconds
 * of a short replay's start-up: issue 10 item 3) when fstat already says no: only a
 * character device other than /dev/null can be a terminal. (A stream that is not a terminal
 * has no `columns`.)
 */
function stderrIsTty(): boolean {
  try {
    const st = fstatSync(2);
    if (!st.isCharacterDevice() || st.rdev === statSync('/dev/null').rdev) return false;
  } catch {
    return false; // closed: process.stderr would be a stream to nowhere, not a terminal
  }
  return process.stderr.isTTY === true;
}

/**
 * A replay (`-r FILE|DIR|- ...`): the inputs in the order given through one engine
 * (cli/replay.ts), with a progress line on a terminal, statistics on SIGUSR1 and a
 * summary at the end on standard error, and a final `iplog.summary` JSON record
 * (cli/progress.ts).
 */
async function runReplay(s: Settings, messages: readonly string[], log: Logger): Promise<number> {
  const diagFd = diagnosticFd(s);
  for (const m of messages) out(diagFd, m + '\n');
  // capture inputs (-r), possibly none when only --log-replay files are replayed
  const given = s.replayFiles ?? (s.replayFile !== undefined ? [s.replayFile] : []);
  if (given.length > 1 && given.includes('-')) {
    throw new IplogError('standard input (-r -) must be the only input of a replay', ERR.REPLAY_INPUTS);
  }
  if (s.flags.ignore_dns) {
    // -d: ignore UDP from the resolv.conf nameservers with source port 53 (spec §2.6)
    try {
      addNameserverRules(s.rules, readFileSync('/etc/resolv.conf', 'utf8'));
    } catch (e) {
      out(diagFd, `${diagFd === 2 ? 'iplog: ' : ''}Unable to add dns ignore rules: ${strerror(e)}\n`);
    }
  }
  if (s.jsonFile === '-') checkStdoutOpen();
  const inputs = expandInputs(given, (text) => out(2, text));
  const quiet = s.quiet === true;
  const errTty = stderrIsTty();
  const report = new ReplayReport(inputs, {
    progress: !quiet && errTty,
    write: (text) => out(2, text),
    columns: errTty ? process.stderr.columns : undefined,
  });
  // the text sink, plus the JSON events of --json (a tee), or JSON alone on stdout
  // write errors: a failing file ends the run, a closed stdout only if it is the only output
  const faults = new OutputFaults('replay', log);
  const outputs = openOutputs(s, 'replay', () => openSink(s, 'replay', { log, faults }), faults);
  const { text } = outputs;
  // the JSON stream ends with the summary record, written just before the sinks close
  let summary: SummaryFacts | null = null;
  let results: readonly FileResult[] = [];
  const sink: LineSink = {
    write: (now, line, ev, hosts) => outputs.sink.write(now, line, ev, hosts),
    // the sinks write lines from their events themselves (output/lines.ts writeLine())
    ...(outputs.sink.line !== undefined ? { line: outputs.sink.line.bind(outputs.sink) } : {}),
    // and connection attempts from their facts, without an event (the direct path, issue 10)
    ...(outputs.sink.connectionV4 !== undefined ? { connectionV4: outputs.sink.connectionV4.bind(outputs.sink) } : {}),
    flush: () => outputs.sink.flush(),
    close: (now) => {
      summary = report.facts(results);
      // a replay of log files alone has no packet time: the record takes the network clock's
      outputs.json?.writeRecord(summaryRecord(summary, s.profile, report.summaryText(summary), now));
      outputs.sink.close(now);
    },
    ready: () => outputs.sink.ready?.(),
  };
  const renderer = replayResolves(s) ? lazy.resolve().createRenderer(s) : null;
  log.info({ files: inputs.map((i) => i.path), profile: s.profile }, 'replay started');
  let bans: BanManager | null = null;
  let logs: LogReplay | null = null;
  let stopStatistics = (): void => undefined;
  const prepare = async (engine: Engine): Promise<void> => {
    report.attach(engine);
    // SIGUSR1: where the replay is, on standard error (and in the operational log)
    stopStatistics = onStatisticsSignal(() => {
      report.clear();
      out(2, report.statisticsLine() + '\n');
      log.info(report.facts(), 'statistics');
    });
    // no ban backend (the default): the ban code is not even loaded
    bans = (s.ban?.backend ?? 'none') === 'none' ? null : await lazy.bans().attachBans(engine, s, { mode: 'replay', log });
    // --log-replay: the log rules over log files, merged with the captures by time (src/logs/replay.ts)
    logs = (s.logs?.replay.length ?? 0) === 0 ? null : lazy.logReplay().attachLogReplay(engine, s);
  };
  const r =
    inputs.length > 0
      ? await replayInputs(s, inputs, sink, renderer, prepare, {
          fileStarted: (i) => report.fileStarted(i),
          progress: (bytes) => report.progress(bytes),
          frameTime: (sec) => report.sawTime(sec),
          fileFailed: (_i, e) => {
            report.clear();
            out(2, `${e.message}\n`);
          },
          finishing: (files) => {
            results = files;
          },
        })
      : { ...(await lazy.logReplay().replayLogFiles(s, sink, renderer, prepare, () => logs)), files: [] as FileResult[] };
  if (logs !== null) log.info({ logFiles: (logs as LogReplay).files.map((f) => ({ file: f.path, ...f.stats })), feed: (logs as LogReplay).feed.stats }, 'log replay finished');
  stopStatistics();
  report.clear();
  // firewall commands and the ban state file finish (bans themselves stay)
  await (bans as BanManager | null)?.close();
  renderer?.close();
  // syslog sends asynchronously: wait until what the sink holds is out (bounded)
  const syslog = text === null ? undefined : await sinkClosed(text);
  const facts: SummaryFacts = summary ?? report.facts(r.files);
  log.info({ ...facts, dns: renderer?.stats, syslog }, 'replay finished');
  // each failed input was reported when it failed
  let status = r.files.some((f) => f.error !== null) ? 1 : 0;
  if (r.error) throw r.error;
  // an output that lost lines (stdout closed while others went on, syslog undelivered) is a non-zero end
  if (lostOutputs(faults, syslog)) status = 1;
  if (!quiet) out(2, report.summaryLines(facts).join('\n') + '\n');
  return status;
}

/**
 * Does a replay ask reverse DNS? Not with -N; else as --resolve says; without it, the
 * compat profile does (as 2.2.3) and the modern one does not: a PTR query per source
 * would tell the owner of the reverse zone (often the attacker) that someone is looking.
 */
export function replayResolves(s: Settings): boolean {
  if (s.flags.disable_resolver) return false;
  return s.replayResolve ?? s.profile === 'compat';
}

/**
 * The final record of the JSON stream (kind `iplog.summary`, docs/json-events.md): the
 * same input gives the same record (no wall-clock figures; its time is the last
 * packet's, else the network clock's (log lines), or now when there was neither).
 */
function summaryRecord(f: SummaryFacts, profile: Settings['profile'], text: string, clock = 0): object {
  const t = f.last ?? (clock > 0 ? Math.floor(clock) : Math.floor(Date.now() / 1000));
  return {
    schema_version: JSON_SCHEMA_VERSION, time: new Date(t * 1000).toISOString().replace('.000Z', 'Z'), epoch: t,
    kind: 'iplog.summary', profile,
    src: null, sport: null, src_host: null, src_name: null, dst: null, dport: null, dst_host: null, dst_name: null,
    detector: null, count: f.packets, bytes: f.bytes,
    detail: {
      inputs: f.files, failed_inputs: f.failed, packets: f.packets, ipv4_packets: f.ipv4, bytes: f.bytes, lines: f.lines,
      first_epoch: f.first, last_epoch: f.last,
      detections: f.detections, anomalies: f.anomalies, bans: f.bans,
    },
    text,
  };
}

export async function main(argv: string[]): Promise<number> {
  guardAgainstInspector((text) => out(2, text));
  const log = createLogger();
  try {
    // `iplog status`: is the daemon running, since when, its counters (src/metrics/status.ts)
    if (argv[0] === 'status') return lazy.status().statusCommand(argv.slice(1));
    // `iplog bans ...`: the running sensor's bans, through its control socket (src/cli/bans.ts)
    if (argv[0] === 'bans') return await lazy.bansCommand().bansCommand(argv.slice(1));
    const cli = parseCommandLine(argv);
    if (cli.kind === 'exit') {
      out(1, cli.stdout);
      out(2, cli.stderr);
      return cli.status;
    }
    const s = cli.settings;
    if (s.replayFile === undefined && (s.logs?.replay.length ?? 0) === 0) return await live(argv, s, cli.messages);
    if (s.metrics !== undefined) out(2, 'iplog: --metrics serves the live sensor only; a replay does not listen\n');
    return await runReplay(s, cli.messages, log);
  } catch (e) {
    if (e instanceof BrokenPipeError) {
      out(2, `iplog: standard output closed by its reader; the replay stopped (${ERR.OUTPUT_CLOSED})\n`);
      return 1;
    }
    if (e instanceof IplogError) {
      out(2, `iplog: ${e.message}\n`);
      return e.status;
    }
    if (e instanceof CaptureError || e instanceof NetSyntaxError) {
      out(2, `${e.message.startsWith('iplog:') ? '' : 'iplog: '}${e.message}\n`);
      return 1;
    }
    out(2, `iplog: internal error: ${(e as Error)?.message ?? String(e)} (${ERR.INTERNAL})\n`);
    if (process.env.IPLOG_DEBUG) out(2, `${(e as Error)?.stack ?? ''}\n`);
    return 70;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    () => process.exit(70),
  );
}

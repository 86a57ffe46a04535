/**
 * Process entry: parse the command line (config file first, as iplog does), then run.
 * Replay (`-r FILE`) runs the pipeline over a capture; without it the live sensor runs
 * (src/daemon.ts: a daemon unless -o). Exit statuses: 0 done, 1 bad input or runtime
 * error, 255 for iplog's own `Fatal:` start-up errors (as the original), 70 a bug.
 */
import { readFileSync, writeSync } from 'node:fs';
import { parseCommandLine } from './cli/program';
import { strerror } from './cli/kill';
import { addNameserverRules } from './rules/compile';
import { replay } from './pipeline';
import { BrokenPipeError, OutputFaults } from './output/sinks/faults';
import type { SyslogStats } from './output/sinks/syslog';
import { openSink, sinkClosed } from './output/sinks/open';
import { openOutputs } from './output/sinks/json';
import { createRenderer } from './output/resolve';
import { CaptureError } from './capture/source';
import { NetSyntaxError } from './rules/dst-net';
import { IplogError, ERR } from './errors';
import { createLogger } from './log';
import { attachBans, BanSession } from './ban/attach';
import type { BanManager } from './ban/manager';
import { runDaemon } from './daemon';
import { captureBackend } from './capture/live';
import type { Settings } from './config/settings';
import { banSnapshot } from './metrics/snapshot';
import { statusCommand } from './metrics/status-command';

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
  const bufferKib = envNumber('IPLOG_LIVE_BUFFER_KIB');
  const delayMs = envNumber('IPLOG_TEST_CONSUMER_DELAY_MS');
  // one ban manager for the whole process: a restart moves it to the new engine, keeping
  // its table, scores and budget (src/ban/attach.ts BanSession)
  let bans: BanSession | null = null;
  return runDaemon({
    argv,
    settings: s,
    messages,
    capture: ({ log: opLog, onError }) =>
      captureBackend({
        log: opLog,
        onError,
        ...(bufferKib !== undefined ? { bufferBytes: bufferKib * 1024 } : {}),
        ...(delayMs !== undefined ? { consumerDelayMs: delayMs } : {}),
      }),
    onEngine: async (engine, _previous, opLog) => {
      bans ??= new BanSession(s, { mode: 'live', log: opLog });
      await bans.onEngine(engine);
    },
    onStop: async () => {
      await bans?.close();
    },
    banStats: () => {
      const m = bans?.manager;
      if (m === null || m === undefined) return null;
      return banSnapshot(m.stats as unknown as Record<string, unknown>, m.list().length, s.ban?.backend ?? null, bans!.commands);
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

export async function main(argv: string[]): Promise<number> {
  const log = createLogger();
  try {
    // `iplog status`: is the daemon running, since when, its counters (src/metrics/status.ts)
    if (argv[0] === 'status') return statusCommand(argv.slice(1));
    const cli = parseCommandLine(argv);
    if (cli.kind === 'exit') {
      out(1, cli.stdout);
      out(2, cli.stderr);
      return cli.status;
    }
    const s = cli.settings;
    if (s.replayFile === undefined) return await live(argv, s, cli.messages);
    if (s.metrics !== undefined) out(2, 'iplog: --metrics serves the live sensor only; a replay does not listen\n');
    for (const m of cli.messages) out(1, m + '\n');
    if (s.flags.ignore_dns) {
      // -d: ignore UDP from the resolv.conf nameservers with source port 53 (spec §2.6)
      try {
        addNameserverRules(s.rules, readFileSync('/etc/resolv.conf', 'utf8'));
      } catch (e) {
        out(1, `Unable to add dns ignore rules: ${strerror(e)}\n`);
      }
    }
    // the text sink, plus the JSON events of --json (a tee), or JSON alone on stdout;
    // write errors: a failing file ends the run, a closed stdout only if it is the only output
    const faults = new OutputFaults('replay', log);
    const { sink, text } = openOutputs(s, 'replay', () => openSink(s, 'replay', { log, faults }), faults);
    const renderer = s.flags.disable_resolver ? null : createRenderer(s);
    log.info({ file: s.replayFile, profile: s.profile }, 'replay started');
    let bans: BanManager | null = null;
    const r = await replay(s, s.replayFile, sink, renderer, undefined, async (engine) => {
      bans = await attachBans(engine, s, { mode: 'replay', log });
    });
    // firewall commands and the ban state file finish (bans themselves stay)
    await (bans as BanManager | null)?.close();
    renderer?.close();
    // syslog sends asynchronously: wait until what the sink holds is out (bounded)
    const syslog = text === null ? undefined : await sinkClosed(text);
    log.info({ packets: r.engine.packets, ipv4: r.engine.ipv4Packets, lines: r.engine.out.lines, anomalies: Object.fromEntries(r.engine.an.nonZero()), dns: renderer?.stats, syslog }, 'replay finished');
    if (r.error) {
      if (r.error instanceof CaptureError) {
        out(2, `${r.error.message}\n`);
        lostOutputs(faults, syslog);
        return 1;
      }
      throw r.error;
    }
    return lostOutputs(faults, syslog) ? 1 : 0;
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

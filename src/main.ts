/**
 * Process entry: parse the command line (config file first, as iplog does), then run.
 * Replay (`-r FILE`) runs the pipeline over a capture; live capture arrives with the
 * native addon. Exit statuses: 0 done, 1 bad input or runtime error, 255 for iplog's
 * own `Fatal:` start-up errors (as the original).
 */
import { readFileSync, writeSync } from 'node:fs';
import { parseCommandLine } from './cli/program';
import { strerror } from './cli/kill';
import { addNameserverRules } from './rules/compile';
import { replay } from './pipeline';
import { TextSink, BrokenPipeError } from './output/sinks/text';
import type { LineSink } from './output/sinks/sink';
import { createRenderer } from './output/resolve';
import { CaptureError } from './capture/source';
import { NetSyntaxError } from './rules/dst-net';
import { IplogError, ERR } from './errors';
import { createLogger } from './log';
import type { Settings } from './config/settings';

function out(fd: number, text: string): void {
  if (text.length === 0) return;
  try {
    writeSync(fd, text);
  } catch {
    /* a closed stdout/stderr is not worth dying over here */
  }
}

function openSink(s: Settings): LineSink {
  if (s.logfile !== undefined && !s.flags.stdout) {
    try {
      return TextSink.openFile(s.logfile);
    } catch (e) {
      throw new IplogError(`Unable to open "${s.logfile}" for writing: ${(e as Error).message}.`, ERR.OUTPUT_OPEN);
    }
  }
  return TextSink.stdout();
}

export async function main(argv: string[]): Promise<number> {
  const log = createLogger();
  try {
    const cli = parseCommandLine(argv);
    if (cli.kind === 'exit') {
      out(1, cli.stdout);
      out(2, cli.stderr);
      return cli.status;
    }
    for (const m of cli.messages) out(1, m + '\n');
    const s = cli.settings;
    if (s.replayFile === undefined) {
      throw new IplogError('live capture is not available in this build yet; replay a capture with -r FILE', ERR.LIVE_UNAVAILABLE, 1);
    }
    if (s.flags.ignore_dns) {
      // -d: ignore UDP from the resolv.conf nameservers with source port 53 (spec §2.6)
      try {
        addNameserverRules(s.rules, readFileSync('/etc/resolv.conf', 'utf8'));
      } catch (e) {
        out(1, `Unable to add dns ignore rules: ${strerror(e)}\n`);
      }
    }
    const sink = openSink(s);
    const renderer = s.flags.disable_resolver ? null : createRenderer(s);
    log.info({ file: s.replayFile, profile: s.profile }, 'replay started');
    const r = await replay(s, s.replayFile, sink, renderer);
    renderer?.close();
    log.info({ packets: r.engine.packets, ipv4: r.engine.ipv4Packets, lines: r.engine.out.lines, anomalies: Object.fromEntries(r.engine.an.nonZero()), dns: renderer?.stats }, 'replay finished');
    if (r.error) {
      if (r.error instanceof CaptureError) {
        out(2, `${r.error.message}\n`);
        return 1;
      }
      throw r.error;
    }
    return 0;
  } catch (e) {
    if (e instanceof BrokenPipeError) return 0;
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

/**
 * `iplog` with a stand-in capture, for the process tests of the daemon (pid file,
 * background mode, signals, restart, privileges) without libpcap and without root:
 * the command line is parsed exactly as bin/iplog does and handed to runDaemon(), whose
 * capture backend reads capture files that the test drops into the directory named by
 * IPLOG_FAKE_FEED (each file is replayed once, with the current time, then deleted).
 *
 * Interface `nosuchif0` cannot be opened (→ "Couldn't initialize interfaces.").
 * Injected replies (-z) are appended to $IPLOG_FAKE_FEED/injected.hex.
 */
import { appendFileSync, readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandLine } from '../../src/cli/program';
import { readCapture } from '../../src/capture/read';
import { Anomalies } from '../../src/decode/anomalies';
import { runDaemon, type CaptureBackend } from '../../src/daemon';
import type { LiveFrameHandler } from '../../src/capture/live';
import { probeLocks } from '../../src/daemon/pidfile';
import { loadAddonLocks } from './helpers';

const feedDir = process.env.IPLOG_FAKE_FEED;

/** CAP_NET_RAW (bit 13) in the effective set: what "may still capture" means here. */
function hasCapNetRaw(): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'latin1'));
  return m !== null && (BigInt(`0x${m[1]}`) & (1n << 13n)) !== 0n;
}

const backend: CaptureBackend = {
  locks: loadAddonLocks() ?? probeLocks,
  canCapture: hasCapNetRaw,
  open(s, onFrame: LiveFrameHandler, _warn, _fatal, engine) {
    if (s.interfaces?.includes('nosuchif0')) throw new Error('no such device');
    let received = 0;
    let busy = false;
    const inject = (frame: Buffer): boolean => {
      if (feedDir !== undefined) appendFileSync(join(feedDir, 'injected.hex'), `${frame.toString('hex')}\n`);
      return true;
    };
    const timer = setInterval(() => {
      if (busy || feedDir === undefined) return;
      const files = readdirSync(feedDir).filter((f) => f.endsWith('.pcap')).sort();
      if (files.length === 0) return;
      busy = true;
      void (async () => {
        for (const f of files) {
          const p = join(feedDir, f);
          await readCapture(p, (buf, off, caplen, wirelen, _sec, nsec, linktype) => {
            received++;
            onFrame(buf, off, caplen, wirelen, Math.floor(Date.now() / 1000), nsec, linktype, inject);
          }, new Anomalies());
          unlinkSync(p);
          engine().out.sink.flush();
        }
        busy = false;
      })();
    }, 50);
    return {
      stats: () => ({ received, dropped: 0, ifDropped: 0 }),
      close: () => clearInterval(timer),
    };
  },
};

async function main(argv: string[]): Promise<number> {
  const cli = parseCommandLine(argv);
  if (cli.kind === 'exit') {
    process.stdout.write(cli.stdout);
    process.stderr.write(cli.stderr);
    return cli.status;
  }
  return runDaemon({ argv, settings: cli.settings, messages: cli.messages, capture: backend });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`fake-iplog: ${(e as Error)?.stack ?? e}\n`);
    process.exit(70);
  },
);

/**
 * A stand-in sensor for the privileged ban tests of IPv6 (the engine decodes IPv4 only
 * today): the real engine, output and ban manager in live mode, fed detections from
 * standard input instead of packets. Takes iplog's options; each input line
 * `scan ADDR` is a SYN-scan detection from ADDR (IPv4 or IPv6) at the wall-clock second.
 * A 200 ms ticker moves the network clock like the live sensor's idle ticker.
 *
 *   ip netns exec NS node dist/test/ban/driver.js --ban-backend nftables --ban-time 5
 */
import { createInterface } from 'node:readline';
import { parseCommandLine } from '../../src/cli/program';
import { Engine } from '../../src/pipeline';
import { TextSink } from '../../src/output/sinks/text';
import { event } from '../../src/output/event';
import { attachBans } from '../../src/ban/attach';
import { parseAddr, toIp } from '../../src/ban/addr';
import { IpAddr } from '../../src/net/addr';
import { createLogger } from '../../src/log';

async function main(): Promise<void> {
  const cli = parseCommandLine(['--config', '/dev/null', '-N', ...process.argv.slice(2)]);
  if (cli.kind !== 'run') {
    process.stderr.write(cli.stdout + cli.stderr);
    process.exit(2);
  }
  const sink = TextSink.stdout();
  const engine = new Engine(cli.settings, sink, null);
  const log = createLogger(process.env.IPLOG_LOG_LEVEL ?? 'info');
  const now = () => Math.floor(Date.now() / 1000);
  const bans = await attachBans(engine, cli.settings, { mode: 'live', log });
  const tick = setInterval(() => {
    engine.advance(now());
    sink.flush();
  }, 200);
  for await (const line of createInterface({ input: process.stdin })) {
    const m = /^scan (\S+)$/.exec(line.trim());
    const a = m ? parseAddr(m[1]!) : undefined;
    if (!a) continue;
    const t = now();
    engine.advance(t);
    const ev = event('scan.detected', t, toIp(a), { dst: IpAddr.v4(0), detector: 'syn-scan', count: 12, bytes: 240, detail: { title: 'TCP: SYN scan' } });
    engine.out.text(ev, `TCP: SYN scan detected from ${a.text}`);
    sink.flush();
  }
  clearInterval(tick);
  await bans?.close();
  sink.close(now());
}

void main();

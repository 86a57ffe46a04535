/** Test harness: an Engine with memory output, fed packets with explicit times. */
import { defaultFlags, type Flags, type Settings } from '../../src/config/settings';
import { Engine } from '../../src/pipeline';
import { TextSink } from '../../src/output/sinks/text';
import { settingsWith } from './settings';

export function makeSettings(flags: Partial<Flags> = {}, extra: Partial<Settings> = {}): Settings {
  return settingsWith({ ...defaultFlags(), disable_resolver: true, tcp_resolve: false, udp_resolve: false, icmp_resolve: false, dns_cache: false, ...flags }, extra);
}

export class Harness {
  readonly engine: Engine;
  private readonly mem = TextSink.memory();
  constructor(flags: Partial<Flags> = {}, extra: Partial<Settings> = {}) {
    this.engine = new Engine(makeSettings(flags, extra), this.mem.sink, null);
  }
  /** feed one raw IPv4 packet (LINKTYPE_RAW) at time t seconds */
  feed(t: number, pkt: Buffer): void {
    this.engine.onFrame(pkt, 0, pkt.length, pkt.length, Math.floor(t), Math.round((t % 1) * 1e9), 101);
  }
  async finish(): Promise<string[]> {
    await this.engine.finish();
    return this.lines();
  }
  /** text after the 16-character timestamp */
  lines(): string[] {
    this.engine.out.sink.flush();
    return this.mem.text().split('\n').filter(Boolean).map((l) => l.slice(16));
  }
  /** full lines with timestamps */
  stamped(): string[] {
    this.engine.out.sink.flush();
    return this.mem.text().split('\n').filter(Boolean);
  }
}

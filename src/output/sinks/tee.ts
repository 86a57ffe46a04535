/**
 * One sink that hands every line to several (the text sink and the JSON sink of
 * `--json`). Order is kept: each line goes to every sink before the next line.
 * Closing closes every sink even when one of them fails; the first failure is rethrown.
 */
import type { IplogEvent } from '../event';
import type { LineHosts, LineSink } from './sink';
import { lineText } from '../lines';

export class TeeSink implements LineSink {
  /** the direct path (LineSink.connectionV4), when every sink has it */
  readonly connectionV4?: LineSink['connectionV4'];

  constructor(readonly sinks: readonly LineSink[]) {
    if (sinks.every((s) => s.connectionV4 !== undefined)) {
      this.connectionV4 = (now, src, sport, dst, dport, rawFlags, logDest) => {
        for (let i = 0; i < sinks.length; i++) sinks[i]!.connectionV4!(now, src, sport, dst, dport, rawFlags, logDest);
      };
    }
  }

  write(now: number, text: string, ev?: IplogEvent, hosts?: LineHosts): void {
    for (let i = 0; i < this.sinks.length; i++) this.sinks[i]!.write(now, text, ev, hosts);
  }

  line(now: number, ev: IplogEvent, hosts: LineHosts, logDest: boolean): void {
    let text: string | null = null;
    for (let i = 0; i < this.sinks.length; i++) {
      const s = this.sinks[i]!;
      if (s.line !== undefined) s.line(now, ev, hosts, logDest);
      else s.write(now, (text ??= lineText(ev, hosts, logDest)), ev, hosts);
    }
  }

  flush(): void {
    for (let i = 0; i < this.sinks.length; i++) this.sinks[i]!.flush();
  }

  /** waits for every sink that asks for it */
  ready(): Promise<void> | undefined {
    let waits: Promise<void>[] | undefined;
    for (const s of this.sinks) {
      const r = s.ready?.();
      if (r) (waits ??= []).push(r);
    }
    return waits ? Promise.all(waits).then(() => undefined) : undefined;
  }

  close(now: number): void {
    let first: unknown = undefined;
    for (const s of this.sinks) {
      try {
        s.close(now);
      } catch (e) {
        if (first === undefined) first = e;
      }
    }
    if (first !== undefined) throw first;
  }
}

/**
 * Ordered output with asynchronous host names.
 *
 * A line may name hosts that must be reverse-resolved. Reverse DNS is never awaited on
 * the packet path: a line whose names are all known now (no resolution, cache or
 * /etc/hosts hit) is written at once when nothing is queued before it; otherwise it is
 * queued with the pending lookups and written, in packet order, when they settle. The
 * replay reader waits on `idle()` between chunks when the queue grows (backpressure), so
 * the queue stays bounded by about one chunk of lines; each lookup is bounded by the
 * resolver's timeout.
 */
import type { HostRenderer } from './resolve-api';
import { dottedQuad } from './resolve-api';
import type { LineSink } from './sinks/sink';
import type { EventListener, IplogEvent } from './event';

export type HostText = string | Promise<string>;
type Build = (a: string, b: string, c: string) => string;

interface Pending {
  ev: IplogEvent;
  a: HostText;
  b: HostText;
  c: HostText;
  build: Build;
}

export class Emitter {
  private readonly queue: Pending[] = [];
  private pumping = false;
  private waiters: (() => void)[] = [];
  /** lines written (after repeat handling by the sink: lines handed to it) */
  lines = 0;
  private listeners: EventListener[] = [];

  constructor(
    readonly sink: LineSink,
    private readonly names: HostRenderer | null,
  ) {}

  /** How `addr` will appear: the dotted quad without resolution, else the renderer's text. */
  host(addr: number, resolve: boolean, now: number): HostText {
    if (!resolve || this.names === null) return dottedQuad(addr);
    const s = this.names.renderSync(addr, now);
    return s !== undefined ? s : this.names.render(addr, now);
  }

  /**
   * Called synchronously with every event, before its names are known (bans act here),
   * just after its line has been written or queued.
   */
  subscribe(fn: EventListener): void {
    this.listeners.push(fn);
  }

  /** A line without host names. */
  text(ev: IplogEvent, text: string): void {
    this.line(ev, () => text, '');
  }

  /** The line of event `ev`, built from up to three host texts (pass '' for unused ones). */
  line(ev: IplogEvent, build: Build, a: HostText, b: HostText = '', c: HostText = ''): void {
    if (this.queue.length === 0 && typeof a === 'string' && typeof b === 'string' && typeof c === 'string') {
      this.lines++;
      this.sink.write(ev.time, build(a, b, c), ev, [a, b, c]);
    } else {
      this.enqueue(ev, a, b, c, build);
    }
    // after the line is written or queued: a line a listener emits (a BAN line) follows
    // the line that caused it
    for (let i = 0; i < this.listeners.length; i++) this.listeners[i]!(ev);
  }

  pending(): number {
    return this.queue.length;
  }

  /** Resolves when every queued line has been written. */
  idle(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  private enqueue(ev: IplogEvent, a: HostText, b: HostText, c: HostText, build: Build): void {
    this.queue.push({ ev, a, b, c, build });
    if (!this.pumping) void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const p = this.queue[0]!;
        const a = typeof p.a === 'string' ? p.a : await p.a;
        const b = typeof p.b === 'string' ? p.b : await p.b;
        const c = typeof p.c === 'string' ? p.c : await p.c;
        this.queue.shift();
        this.lines++;
        this.sink.write(p.ev.time, p.build(a, b, c), p.ev, [a, b, c]);
      }
    } finally {
      this.pumping = false;
    }
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }
}

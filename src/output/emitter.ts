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
import type { LineSink } from './sinks/sink';
import type { EventListener, IplogEvent } from './event';
import type { IpAddr } from '../net/addr';
import { lineText, shownRoles, NO_HOSTS, ROLE_SRC, ROLE_DST, ROLE_GATEWAY, ROLE_QUOTED, ROLE_MASK, type RoleHosts } from './lines';

export type HostText = string | Promise<string>;

interface Pending {
  ev: IplogEvent;
  /** the line's text when it has no host roles (emitter.text()) */
  text: string | null;
  src: HostText;
  dst: HostText;
  gateway: HostText;
  quoted: HostText;
  mask: HostText;
}

export class Emitter {
  private readonly queue: Pending[] = [];
  private pumping = false;
  private waiters: (() => void)[] = [];
  /** lines written (after repeat handling by the sink: lines handed to it) */
  lines = 0;
  private listeners: EventListener[] = [];
  /** per listener, the kinds it wants (null: every kind); see subscribe() */
  private wants: (((kind: string) => boolean) | null)[] = [];

  constructor(
    readonly sink: LineSink,
    private readonly names: HostRenderer | null,
    /** log_dest (-D): lines name the destination */
    private readonly logDest: boolean,
  ) {}

  /** How address `addr` will appear: its text without resolution, else the renderer's text. */
  host(addr: IpAddr, resolve: boolean, now: number): HostText {
    if (!resolve || this.names === null) return addr.toString();
    // the renderer keys IPv4 by number (iplog's cache hash), IPv6 by its text
    const key = addr.family === 4 ? addr.v4 : addr.toString();
    const s = this.names.renderSync(key, now);
    return s !== undefined ? s : this.names.render(key, now);
  }

  /**
   * Called synchronously with every event, before its names are known (bans act here),
   * just after its line has been written or queued. `wants` names the kinds the listener
   * acts on (null: all); events of other kinds may then be written without an event
   * object (connectionV4()), and the listener is not called for them.
   */
  subscribe(fn: EventListener, wants: ((kind: string) => boolean) | null = null): void {
    this.listeners.push(fn);
    this.wants.push(wants);
  }

  /**
   * Does a subscriber want events of `kind`? A subscriber that named no kinds wants all;
   * the others are asked (their answer may change, e.g. with the ban weights of a reload).
   */
  wanted(kind: string): boolean {
    const w = this.wants;
    for (let i = 0; i < w.length; i++) {
      const f = w[i]!;
      if (f === null || f(kind)) return true;
    }
    return false;
  }

  /**
   * The direct path (issue 10) of a `tcp.connection_attempt` line (IPv4, no ident user):
   * written by the sink from the raw facts (LineSink.connectionV4) when nothing else
   * needs the event: the sink can, no line is queued before it, no name is to be
   * resolved, and no subscriber wants the kind. Otherwise false: the caller makes the
   * event and emits it. The output is the same either way.
   */
  connectionV4(now: number, src: number, sport: number, dst: number, dport: number, rawFlags: number, resolve: boolean): boolean {
    const sink = this.sink;
    if (sink.connectionV4 === undefined || this.queue.length !== 0 || (resolve && this.names !== null) || this.wanted('tcp.connection_attempt')) return false;
    this.lines++;
    sink.connectionV4(now, src, sport, dst, dport, rawFlags, this.logDest);
    return true;
  }

  /**
   * The line of event `ev` (wording: output/lines.ts), its host roles resolved when
   * `resolve` is set; written at once when every name is known and nothing is queued.
   */
  emit(ev: IplogEvent, resolve: boolean): void {
    const roles = shownRoles(ev, this.logDest);
    const now = ev.time;
    const src = (roles & ROLE_SRC) !== 0 && ev.src !== null ? this.host(ev.src, resolve, now) : '';
    const dst = (roles & ROLE_DST) !== 0 && ev.dst !== null ? this.host(ev.dst, resolve, now) : '';
    const gateway = (roles & ROLE_GATEWAY) !== 0 && ev.gateway !== null ? this.host(ev.gateway, resolve, now) : '';
    const quoted = (roles & ROLE_QUOTED) !== 0 && ev.quoted !== null ? this.host(ev.quoted, resolve, now) : '';
    const mask = (roles & ROLE_MASK) !== 0 && ev.mask !== null ? this.host(ev.mask, resolve, now) : '';
    if (
      this.queue.length === 0 &&
      typeof src === 'string' &&
      typeof dst === 'string' &&
      typeof gateway === 'string' &&
      typeof quoted === 'string' &&
      typeof mask === 'string'
    ) {
      const hosts: RoleHosts = { src, dst, gateway, quoted, mask };
      this.lines++;
      this.deliver(ev, hosts);
    } else {
      this.enqueue({ ev, text: null, src, dst, gateway, quoted, mask });
    }
    this.notify(ev);
  }

  /** The line of `ev` to the sink: written by the sink from the event when it can (LineSink.line). */
  private deliver(ev: IplogEvent, hosts: RoleHosts): void {
    const sink = this.sink;
    if (sink.line !== undefined) sink.line(ev.time, ev, hosts, this.logDest);
    else sink.write(ev.time, lineText(ev, hosts, this.logDest), ev, hosts);
  }

  /** A line whose text is given (the ban manager's lines): no host roles. */
  text(ev: IplogEvent, text: string): void {
    if (this.queue.length === 0) {
      this.lines++;
      this.sink.write(ev.time, text, ev, NO_HOSTS);
    } else {
      this.enqueue({ ev, text, src: '', dst: '', gateway: '', quoted: '', mask: '' });
    }
    this.notify(ev);
  }

  /** after the line is written or queued: a line a listener emits (a BAN line) follows the line that caused it */
  private notify(ev: IplogEvent): void {
    const l = this.listeners;
    const w = this.wants;
    for (let i = 0; i < l.length; i++) {
      const f = w[i]!;
      if (f === null || f(ev.kind)) l[i]!(ev);
    }
  }

  pending(): number {
    return this.queue.length;
  }

  /** Resolves when every queued line has been written. */
  idle(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  private enqueue(p: Pending): void {
    this.queue.push(p);
    if (!this.pumping) void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const p = this.queue[0]!;
        const hosts: RoleHosts = {
          src: typeof p.src === 'string' ? p.src : await p.src,
          dst: typeof p.dst === 'string' ? p.dst : await p.dst,
          gateway: typeof p.gateway === 'string' ? p.gateway : await p.gateway,
          quoted: typeof p.quoted === 'string' ? p.quoted : await p.quoted,
          mask: typeof p.mask === 'string' ? p.mask : await p.mask,
        };
        this.queue.shift();
        this.lines++;
        if (p.text === null) this.deliver(p.ev, hosts);
        else this.sink.write(p.ev.time, p.text, p.ev, NO_HOSTS);
      }
    } finally {
      this.pumping = false;
    }
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }
}

/**
 * The syslog sink: iplog lines as syslog messages, to the local socket (/dev/log, a unix
 * datagram socket, through the unix-dgram addon) or to a remote collector over UDP or TCP
 * (core dgram/net). Formats and the choice of timestamp: syslog-format.ts.
 *
 * Like iplog 2.2.3 in syslog mode there is no repeat compression here: every line is one
 * message (the original compressed only in its file/stdout writer).
 *
 * Delivery (STYLE habit 13: a runtime I/O problem is logged and survived, never thrown
 * into the pipeline):
 *  - Lines go into a bounded FIFO (default 10 000 lines) and are sent from its head.
 *    Sending never blocks the event loop: the unix socket is non-blocking, and when the
 *    daemon's queue is full (EAGAIN, "congestion") the sink waits for 'writable'; TCP
 *    waits for 'drain'; UDP keeps one datagram in flight.
 *  - When the daemon goes away (ECONNREFUSED or ENOENT on /dev/log after a syslogd
 *    restart, a closed TCP connection, ICMP port unreachable on UDP) the message stays
 *    queued, the sink opens a new socket and connects again: at once after a connection
 *    that had worked (glibc retries once too), then after 50 ms, 100 ms, ... up to 2 s
 *    between attempts, for as long as it takes.
 *  - While the FIFO is full, new lines are dropped and counted (the oldest, already
 *    queued lines are kept: they tell the start of whatever is going on). When room comes
 *    back the sink queues `N messages dropped while syslog was unavailable.` at that
 *    point of the stream (syslog-format.ts droppedText()), and the operational log gets
 *    IPLOG_ERR_SYSLOG_UNAVAILABLE when delivery stops and IPLOG_SYSLOG_RESUMED (with the
 *    dropped count) when it resumes.
 *  - Replay to the local socket may wait synchronously (blockWhenFullMs) when the FIFO
 *    is full, so that a fast replay loses nothing to a slower syslogd; live mode never
 *    blocks.
 *  - close() sends what is queued and `closed()` resolves when all is out, or after
 *    closeTimeoutMs; what could not be sent then is counted as lostAtClose.
 *
 * What no sender can know: a datagram accepted by the kernel into the queue of a syslogd
 * that then exits unread is lost (glibc has the same window), and so is TCP data in the
 * kernel's send buffer when the collector resets the connection. Data still inside Node
 * when a TCP connection fails is sent again on the next connection.
 */
import { createSocket as createUdpSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as tcpConnect, isIPv6, type Socket as TcpSocket } from 'node:net';
import { constants as osConstants } from 'node:os';
import type { SyslogFormat, SyslogServer } from '../../config/settings';
import type { LineSink } from './sink';
import {
  droppedText,
  formatLocal,
  formatRfc3164,
  formatRfc5424,
  frameTcp,
  syslogHostname,
  syslogPri,
} from './syslog-format';

/** Stable codes of the sink's entries in the operational log (never reused). */
export const SYSLOG_CODE = {
  /** delivery stopped (daemon gone, socket missing, connection refused or closed) */
  UNAVAILABLE: 'IPLOG_ERR_SYSLOG_UNAVAILABLE',
  /** one message refused for good (e.g. EMSGSIZE) and dropped */
  REJECTED: 'IPLOG_ERR_SYSLOG_REJECTED',
  /** the FIFO is full: lines are being dropped (once per stretch) */
  DROPPING: 'IPLOG_ERR_SYSLOG_DROPPING',
  /** lines still queued when close() gave up */
  LOST_AT_CLOSE: 'IPLOG_ERR_SYSLOG_LOST_AT_CLOSE',
  /** an exception inside the sink (a bug), survived */
  INTERNAL: 'IPLOG_ERR_SYSLOG_INTERNAL',
  /** delivery resumed after an outage (info) */
  RESUMED: 'IPLOG_SYSLOG_RESUMED',
  /** the in-band `N messages dropped ...` line was queued (info, with N) */
  DROPPED: 'IPLOG_SYSLOG_DROPPED_REPORTED',
} as const;

export const DEFAULT_SYSLOG_CAPACITY = 10_000;

/** UDP datagrams sent back to back before the sink yields to the event loop. */
const PENDING_BURST = 64;

/** The operational log the sink reports to (pino's call shape). */
export interface OpLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface SyslogStats {
  /** where the messages go: `unix:/dev/log`, `udp://h:p`, `tcp://h:p` */
  target: string;
  /** messages handed to the OS (the drop reports included) */
  sent: number;
  /** lines dropped because the FIFO was full (all of them reported in-band) */
  dropped: number;
  /** messages refused for good by the OS (e.g. too large) */
  rejected: number;
  /** lines still queued when close() gave up (or written after it) */
  lostAtClose: number;
  /** `N messages dropped ...` lines queued */
  dropReports: number;
  /** times delivery stopped */
  outages: number;
  /** successful connections after an outage */
  reconnects: number;
  /** most lines ever queued at once */
  maxQueued: number;
}

// ---------------------------------------------------------------------------
// Transports: one connection at a time; the sink owns queueing and reconnection.

/** Result of Transport.send(). */
export const enum Send {
  /** handed to the OS */
  Sent,
  /** handed to the OS, but wait for hooks.writable() before the next one (TCP drain) */
  SentWait,
  /** not sent, try again after hooks.writable() (EAGAIN) */
  Busy,
  /** outcome comes later through hooks.done() (UDP) */
  Pending,
  /** not sent, the connection is gone: reconnect, then send it again */
  Down,
  /** not sent and never will be (e.g. too large): drop it */
  Reject,
}

export interface TransportHooks {
  writable(): void;
  /** completion of a Pending send: Sent, Down or Reject */
  done(result: Send, err?: Error): void;
  /** the connection failed after it was up */
  down(err: Error): void;
  /** a message accepted earlier (SentWait/Sent) never left the process; send it again */
  requeue(msg: string): void;
}

export interface Transport {
  /** for logs and stats */
  readonly target: string;
  /** open() and send() complete synchronously (the unix socket): replay may wait in a loop */
  readonly synchronous: boolean;
  /** error of the last Down/Reject result */
  lastError: Error | null;
  /** connect; exactly one of up()/fail() is called, possibly before open() returns */
  open(hooks: TransportHooks, up: () => void, fail: (err: Error) => void): void;
  send(msg: string): Send;
  /** graceful close after the last message (TCP: wait until flushed); idempotent */
  end(done: () => void): void;
  /** drop the connection now; idempotent */
  destroy(): void;
}

/** Errno name of a (positive or negative) errno number. */
function errnoName(n: number): string {
  const abs = Math.abs(n);
  for (const [name, v] of Object.entries(osConstants.errno)) if (v === abs) return name;
  return `E${abs}`;
}

function errnoError(syscall: string, n: number): Error {
  const name = errnoName(n);
  const e = new Error(`${syscall} ${name}`) as NodeJS.ErrnoException;
  e.code = name;
  e.errno = -Math.abs(n);
  e.syscall = syscall;
  return e;
}

/** Errors after which reconnecting may help; anything else rejects the one message. */
const DOWN_CODES = new Set([
  'ECONNREFUSED', 'ENOENT', 'ENOTCONN', 'EPIPE', 'ECONNRESET', 'ECONNABORTED', 'EBADF', 'EDESTADDRREQ',
  'ENOTSOCK', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'ETIMEDOUT', 'ERR_SOCKET_DGRAM_NOT_CONNECTED',
  'ERR_SOCKET_DGRAM_NOT_RUNNING', 'ERR_STREAM_DESTROYED', 'EAI_AGAIN',
]);

function isDown(err: Error): boolean {
  return DOWN_CODES.has(String((err as NodeJS.ErrnoException).code));
}

// ---- unix datagram (/dev/log) ----

interface UnixDgramSocket {
  on(event: 'error', cb: (err: Error & { code?: number | string }) => void): void;
  on(event: 'writable' | 'connect', cb: () => void): void;
  connect(path: string): void;
  send(buf: Buffer, cb: (err?: Error & { code?: number | string }) => void): void;
  close(): void;
}

interface UnixDgramModule {
  createSocket(type: 'unix_dgram'): UnixDgramSocket;
}

let unixDgram: UnixDgramModule | null = null;

/** The addon, loaded on first use (a replay to stdout never needs it). Throws if it is not built. */
export function loadUnixDgram(): UnixDgramModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  unixDgram ??= require('unix-dgram') as UnixDgramModule;
  return unixDgram;
}

export class UnixDgramTransport implements Transport {
  readonly synchronous = true;
  readonly target: string;
  lastError: Error | null = null;
  private sock: UnixDgramSocket | null = null;

  constructor(readonly path: string) {
    this.target = `unix:${path}`;
  }

  open(hooks: TransportHooks, up: () => void, fail: (err: Error) => void): void {
    let sock: UnixDgramSocket;
    try {
      sock = loadUnixDgram().createSocket('unix_dgram');
    } catch (e) {
      return fail(e as Error);
    }
    // connect() reports through 'error', synchronously; later errors only come from
    // send() callbacks, but an 'error' event without a listener would throw.
    let err: Error | null = null;
    sock.on('error', (e) => {
      err = typeof e.code === 'number' ? errnoError('connect', e.code) : e;
    });
    sock.on('writable', () => {
      if (this.sock === sock) hooks.writable();
    });
    sock.connect(this.path);
    if (err !== null) {
      closeQuietly(sock);
      return fail(err);
    }
    this.sock = sock;
    up();
  }

  send(msg: string): Send {
    const sock = this.sock;
    if (sock === null) return Send.Down;
    let result = Send.Sent;
    // the addon calls back synchronously: no error, 'congestion' (EAGAIN, ENOBUFS), or errno
    sock.send(Buffer.from(msg, 'utf8'), (e) => {
      if (e === undefined || e === null) return;
      if (e.message === 'congestion') {
        result = Send.Busy;
        return;
      }
      const err = typeof e.code === 'number' ? errnoError('send', e.code) : e;
      this.lastError = err;
      result = isDown(err) ? Send.Down : Send.Reject;
    });
    return result;
  }

  end(done: () => void): void {
    this.destroy();
    done();
  }

  destroy(): void {
    if (this.sock !== null) closeQuietly(this.sock);
    this.sock = null;
  }
}

function closeQuietly(sock: { close(): void }): void {
  try {
    sock.close();
  } catch {
    /* already closed */
  }
}

// ---- UDP ----

export class UdpTransport implements Transport {
  readonly synchronous = false;
  readonly target: string;
  lastError: Error | null = null;
  /** the socket of the current attempt (connecting or connected) */
  private conn: UdpSocket | null = null;
  private connected = false;
  private hooks: TransportHooks | null = null;

  constructor(
    readonly server: SyslogServer,
    private readonly bytes: (msg: string) => Buffer = (m) => Buffer.from(m, 'utf8'),
  ) {
    this.target = `udp://${isIPv6(server.host) ? `[${server.host}]` : server.host}:${server.port}`;
  }

  open(hooks: TransportHooks, up: () => void, fail: (err: Error) => void): void {
    this.destroy();
    this.hooks = hooks;
    let sock: UdpSocket;
    try {
      sock = createUdpSocket({ type: isIPv6(this.server.host) ? 'udp6' : 'udp4' });
    } catch (e) {
      return fail(e as Error);
    }
    this.conn = sock;
    let settled = false;
    sock.on('error', (e) => {
      if (this.conn !== sock) return;
      this.destroy();
      if (!settled) {
        settled = true;
        return fail(e);
      }
      // e.g. ECONNREFUSED from recvmsg: an ICMP port unreachable came back
      hooks.down(e);
    });
    // connected UDP: one name lookup, and the kernel reports ICMP port unreachable
    // (ECONNREFUSED) on a later send, which makes the sink back off and retry
    sock.connect(this.server.port, this.server.host, () => {
      if (settled || this.conn !== sock) return;
      settled = true;
      this.connected = true;
      up();
    });
  }

  send(msg: string): Send {
    const sock = this.conn;
    const hooks = this.hooks;
    if (sock === null || !this.connected || hooks === null) return Send.Down;
    sock.send(this.bytes(msg), (err) => {
      if (this.conn !== sock) return; // replaced meanwhile; the sink has moved on
      if (!err) return hooks.done(Send.Sent);
      this.lastError = err;
      hooks.done(isDown(err) ? Send.Down : Send.Reject, err);
    });
    return Send.Pending;
  }

  end(done: () => void): void {
    this.destroy();
    done();
  }

  destroy(): void {
    const s = this.conn;
    this.conn = null;
    this.connected = false;
    if (s !== null) closeQuietly(s);
  }
}

// ---- TCP ----

export class TcpTransport implements Transport {
  readonly synchronous = false;
  readonly target: string;
  lastError: Error | null = null;
  /** the socket of the current attempt (connecting or connected) */
  private conn: TcpSocket | null = null;
  private connected = false;
  private ending = false;
  private hooks: TransportHooks | null = null;

  constructor(
    readonly server: SyslogServer,
    readonly format: SyslogFormat,
  ) {
    this.target = `tcp://${isIPv6(server.host) ? `[${server.host}]` : server.host}:${server.port}`;
  }

  open(hooks: TransportHooks, up: () => void, fail: (err: Error) => void): void {
    this.destroy();
    this.hooks = hooks;
    this.ending = false;
    let sock: TcpSocket;
    try {
      sock = tcpConnect({ host: this.server.host, port: this.server.port });
    } catch (e) {
      return fail(e as Error);
    }
    this.conn = sock;
    let settled = false;
    let lastErr: Error | null = null;
    sock.on('error', (e) => {
      lastErr = e;
    });
    sock.once('connect', () => {
      if (this.conn !== sock) return;
      settled = true;
      this.connected = true;
      sock.setKeepAlive(true, 30_000);
      up();
    });
    sock.on('drain', () => {
      if (this.conn === sock) hooks.writable();
    });
    // a collector sends nothing; reading keeps its closing of the connection observable
    sock.on('data', () => {});
    sock.on('close', () => {
      if (this.conn !== sock || this.ending) return;
      this.conn = null;
      this.connected = false;
      if (!settled) {
        settled = true;
        return fail(lastErr ?? new Error('connection closed before it was established'));
      }
      hooks.down(lastErr ?? Object.assign(new Error('connection closed by the server'), { code: 'ECONNRESET' }));
    });
  }

  send(msg: string): Send {
    const sock = this.conn;
    const hooks = this.hooks;
    if (sock === null || !this.connected || hooks === null || sock.destroyed || !sock.writable) return Send.Down;
    // a write Node could not hand to the kernel (the connection failed first) comes back
    const ok = sock.write(frameTcp(this.format, msg), (err) => {
      if (err) hooks.requeue(msg);
    });
    return ok ? Send.Sent : Send.SentWait;
  }

  end(done: () => void): void {
    const sock = this.conn;
    if (sock === null || !this.connected || sock.destroyed) {
      this.destroy();
      return done();
    }
    this.ending = true;
    sock.end(() => {
      sock.destroy();
      if (this.conn === sock) this.conn = null;
      this.connected = false;
      done();
    });
  }

  destroy(): void {
    const s = this.conn;
    this.conn = null;
    this.connected = false;
    s?.destroy();
  }
}

// ---------------------------------------------------------------------------
// The sink

/** A FIFO of fixed capacity. */
class Ring {
  private readonly a: (string | undefined)[];
  private head = 0;
  length = 0;
  constructor(readonly capacity: number) {
    this.a = new Array<string | undefined>(capacity);
  }
  get full(): boolean {
    return this.length >= this.capacity;
  }
  push(s: string): void {
    this.a[(this.head + this.length) % this.capacity] = s;
    this.length++;
  }
  peek(): string | undefined {
    return this.length > 0 ? this.a[this.head] : undefined;
  }
  shift(): void {
    this.a[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.length--;
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepMs(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

export interface SyslogSinkOptions {
  transport: Transport;
  /** the whole message for one line, stamped `now` */
  format: (now: number, text: string) => string;
  /** most lines queued while the daemon is unavailable or slow (default 10 000) */
  capacity?: number;
  /** first retry delay after a failed connection (default 50 ms), doubled up to retryMaxMs */
  retryMinMs?: number;
  /** longest delay between connection attempts (default 2000 ms) */
  retryMaxMs?: number;
  /** how long closed() waits for the queue to empty (default 5000 ms) */
  closeTimeoutMs?: number;
  /**
   * With a synchronous transport (the unix socket), a write that finds the FIFO full waits
   * up to this long, retrying, before dropping (replay: lossless against a slow syslogd).
   * After one wait that ends without room it does not wait again until delivery
   * resumes. 0 (default, live mode): never block.
   */
  blockWhenFullMs?: number;
  log?: OpLog;
}

type State = 'connecting' | 'up' | 'down' | 'closed';

export class SyslogSink implements LineSink {
  readonly stats: SyslogStats;
  private readonly transport: Transport;
  private readonly format: (now: number, text: string) => string;
  private readonly queue: Ring;
  /** messages that came back from a failed TCP connection; sent before the queue */
  private readonly retry: string[] = [];
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly closeTimeoutMs: number;
  private readonly blockWhenFullMs: number;
  private readonly log: OpLog | undefined;
  private readonly hooks: TransportHooks;

  private state: State = 'connecting';
  /** waiting for writable / a pending result */
  private busy = false;
  /** a Pending send (UDP) has not completed */
  private inflight = false;
  /** Pending sends completed since the event loop last had a turn */
  private burst = 0;
  private pumping = false;
  private failures = 0;
  private sentSinceUp = 0;
  private timer: NodeJS.Timeout | null = null;
  private nextAttemptAt = 0;
  /** dropped lines not yet reported in-band */
  private unreported = 0;
  private outageErr: Error | null = null;
  private lastNow = 0;
  private blockDisabled = false;
  private closing = false;
  private closeTimer: NodeJS.Timeout | null = null;
  private readonly done: Promise<SyslogStats>;
  private resolveDone: (s: SyslogStats) => void = () => {};

  constructor(opts: SyslogSinkOptions) {
    this.transport = opts.transport;
    this.format = opts.format;
    this.queue = new Ring(Math.max(1, opts.capacity ?? DEFAULT_SYSLOG_CAPACITY));
    this.retryMinMs = opts.retryMinMs ?? 50;
    this.retryMaxMs = opts.retryMaxMs ?? 2000;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 5000;
    this.blockWhenFullMs = this.transport.synchronous ? (opts.blockWhenFullMs ?? 0) : 0;
    this.log = opts.log;
    this.stats = {
      target: this.transport.target,
      sent: 0,
      dropped: 0,
      rejected: 0,
      lostAtClose: 0,
      dropReports: 0,
      outages: 0,
      reconnects: 0,
      maxQueued: 0,
    };
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.hooks = {
      writable: () => this.guard(() => this.onWritable()),
      done: (r, err) => this.guard(() => this.onDone(r, err)),
      down: (err) => this.guard(() => this.onDown(err)),
      requeue: (msg) => this.guard(() => this.onRequeue(msg)),
    };
    this.guard(() => this.connect());
  }

  /** Lines waiting to be sent. */
  get queued(): number {
    return this.queue.length + this.retry.length;
  }

  /** true while the connection is up */
  get connected(): boolean {
    return this.state === 'up';
  }

  write(now: number, text: string): void {
    this.guard(() => {
      if (this.state === 'closed') {
        this.stats.lostAtClose++;
        return;
      }
      this.lastNow = now;
      this.enqueue(this.format(now, text));
      this.pump();
    });
  }

  flush(): void {
    this.guard(() => this.pump());
  }

  /**
   * Resolves once the FIFO is below half its capacity (or at once): a hook for a
   * producer that can wait, such as replay between chunks.
   */
  ready(): Promise<void> | undefined {
    if (this.queue.length < this.queue.capacity / 2 || this.state === 'closed') return undefined;
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.queue.length < this.queue.capacity / 2 || this.state === 'closed') resolve();
        else setTimeout(check, 5);
      };
      setTimeout(check, 5);
    });
  }

  close(now: number): void {
    this.guard(() => {
      if (this.closing || this.state === 'closed') return;
      this.closing = true;
      this.lastNow = now;
      this.reportDrops();
      this.pump();
      this.maybeFinish();
      // maybeFinish() may have closed it (TS narrows `state` across the calls otherwise)
      if ((this.state as State) === 'closed') return;
      this.closeTimer = setTimeout(() => this.guard(() => this.finish()), this.closeTimeoutMs);
    });
  }

  /** Resolves with the final counters when the sink has closed (see close()). */
  closed(): Promise<SyslogStats> {
    return this.done;
  }

  // ---- internals ----

  /** Nothing the sink does may throw into the pipeline. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log?.warn({ code: SYSLOG_CODE.INTERNAL, target: this.stats.target, err: (e as Error)?.message }, 'syslog sink error');
      try {
        if (this.state === 'up') this.goDown(e as Error);
      } catch {
        /* nothing more to do */
      }
    }
  }

  private enqueue(msg: string): void {
    this.reportDrops();
    if (this.queue.full && this.blockWhenFullMs > 0 && !this.blockDisabled) this.waitForRoom();
    if (this.queue.full) {
      if (this.unreported === 0) {
        this.log?.warn({ code: SYSLOG_CODE.DROPPING, target: this.stats.target, queued: this.queued }, 'syslog queue full; dropping lines');
      }
      this.stats.dropped++;
      this.unreported++;
      return;
    }
    this.push(msg);
  }

  private push(msg: string): void {
    this.queue.push(msg);
    if (this.queue.length > this.stats.maxQueued) this.stats.maxQueued = this.queue.length;
  }

  /** Queue the in-band report of dropped lines, if any and if there is room. */
  private reportDrops(): void {
    if (this.unreported === 0 || this.queue.full) return;
    const n = this.unreported;
    this.unreported = 0;
    this.stats.dropReports++;
    this.log?.info({ code: SYSLOG_CODE.DROPPED, target: this.stats.target, dropped: n }, 'syslog: dropped lines reported');
    this.push(this.format(this.lastNow, droppedText(n)));
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.state === 'up' && !this.busy) {
        const fromRetry = this.retry.length > 0;
        const msg = fromRetry ? this.retry[0] : this.queue.peek();
        if (msg === undefined) break;
        const r = this.transport.send(msg);
        switch (r) {
          case Send.Sent:
          case Send.SentWait:
            this.take(fromRetry);
            this.stats.sent++;
            this.sentSinceUp++;
            this.blockDisabled = false;
            if (r === Send.SentWait) this.busy = true;
            this.reportDrops();
            break;
          case Send.Busy:
            this.busy = true;
            break;
          case Send.Pending:
            this.busy = true;
            this.inflight = true;
            break;
          case Send.Reject:
            this.take(fromRetry);
            this.rejectOne(this.transport.lastError);
            break;
          default:
            this.goDown(this.transport.lastError ?? new Error('syslog connection lost'));
        }
      }
    } finally {
      this.pumping = false;
    }
    this.maybeFinish();
  }

  /** Closing and nothing left to send (a TCP end() still flushes what Node holds). */
  private maybeFinish(): void {
    if (this.closing && !this.inflight && this.queued === 0 && this.unreported === 0) this.finish();
  }

  private take(fromRetry: boolean): void {
    if (fromRetry) this.retry.shift();
    else this.queue.shift();
  }

  private rejectOne(err: Error | null): void {
    this.stats.rejected++;
    this.log?.warn({ code: SYSLOG_CODE.REJECTED, target: this.stats.target, err: err?.message }, 'syslog message rejected and dropped');
  }

  private onWritable(): void {
    if (this.state !== 'up') return;
    this.busy = false;
    this.pump();
  }

  private onDone(r: Send, err?: Error): void {
    if (this.state !== 'up' || !this.inflight) return;
    this.inflight = false;
    this.busy = false;
    const fromRetry = this.retry.length > 0;
    if (r === Send.Sent) {
      this.take(fromRetry);
      this.stats.sent++;
      this.sentSinceUp++;
      this.reportDrops();
    } else if (r === Send.Reject) {
      this.take(fromRetry);
      this.rejectOne(err ?? null);
    } else {
      return this.goDown(err ?? new Error('syslog connection lost'));
    }
    // Node completes a UDP send that went out at once on process.nextTick, so a long
    // queue would be sent without ever yielding to I/O (the capture, a local
    // collector): give the event loop a turn every PENDING_BURST datagrams.
    if (++this.burst < PENDING_BURST) return this.pump();
    this.burst = 0;
    this.busy = true;
    setImmediate(() =>
      this.guard(() => {
        if (this.state !== 'up') return;
        this.busy = false;
        this.pump();
      }),
    );
  }

  private onDown(err: Error): void {
    if (this.state === 'up') this.goDown(err);
  }

  private onRequeue(msg: string): void {
    // it was counted as sent when Node accepted it
    this.stats.sent--;
    if (this.state === 'closed') {
      this.stats.lostAtClose++;
      return;
    }
    this.retry.push(msg);
  }

  private connect(): void {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    this.busy = false;
    this.inflight = false;
    let settled = false;
    this.transport.open(
      this.hooks,
      () => {
        if (settled) return;
        settled = true;
        this.guard(() => this.onUp());
      },
      (err) => {
        if (settled) return;
        settled = true;
        this.guard(() => this.onConnectFailed(err));
      },
    );
  }

  private onUp(): void {
    if (this.state === 'closed') {
      this.transport.destroy();
      return;
    }
    this.state = 'up';
    this.failures = 0;
    this.sentSinceUp = 0;
    this.blockDisabled = false;
    if (this.outageErr !== null) {
      this.stats.reconnects++;
      this.log?.info(
        { code: SYSLOG_CODE.RESUMED, target: this.stats.target, queued: this.queued, dropped: this.unreported, droppedTotal: this.stats.dropped },
        'syslog delivery resumed',
      );
      this.outageErr = null;
    }
    this.pump();
  }

  private onConnectFailed(err: Error): void {
    if (this.state === 'closed') return;
    this.state = 'down';
    this.noteOutage(err);
    this.schedule();
  }

  /** The connection failed: close it, and connect again (at once if it had worked). */
  private goDown(err: Error): void {
    this.transport.destroy();
    this.state = 'down';
    this.busy = false;
    this.inflight = false;
    this.noteOutage(err);
    if (this.sentSinceUp > 0) {
      // glibc's syslog() reconnects and retries once at once; a restarted syslogd is
      // usually there already
      this.sentSinceUp = 0;
      this.connect();
    } else {
      this.schedule();
    }
  }

  private noteOutage(err: Error): void {
    if (this.outageErr !== null) return;
    this.outageErr = err;
    this.stats.outages++;
    this.log?.warn(
      { code: SYSLOG_CODE.UNAVAILABLE, target: this.stats.target, err: (err as NodeJS.ErrnoException).code ?? err.message, queued: this.queued },
      'syslog unavailable; buffering lines',
    );
  }

  private schedule(): void {
    if (this.timer !== null || this.state === 'closed') return;
    const delay = Math.min(this.retryMinMs * 2 ** Math.min(this.failures, 20), this.retryMaxMs);
    this.failures++;
    this.nextAttemptAt = Date.now() + delay;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.guard(() => {
        if (this.state === 'down') this.connect();
      });
    }, delay);
    // the sink alone never keeps the process alive (close() has its own timer)
    this.timer.unref();
  }

  /** Synchronous transports only: wait (sleeping 1 ms at a time) until the FIFO has room. */
  private waitForRoom(): void {
    const deadline = Date.now() + this.blockWhenFullMs;
    while (this.queue.full && this.state !== 'closed') {
      const t = Date.now();
      if (t >= deadline) break;
      if (this.state === 'up') {
        // retry whatever made us wait (EAGAIN clears without an event-loop turn)
        this.busy = false;
        this.pump();
        if (!this.queue.full) break;
        sleepMs(1);
      } else if (this.state === 'down') {
        if (t >= this.nextAttemptAt) {
          if (this.timer !== null) clearTimeout(this.timer);
          this.timer = null;
          this.connect();
        } else {
          sleepMs(Math.min(5, this.nextAttemptAt - t));
        }
      } else {
        sleepMs(1);
      }
    }
    if (this.queue.full) this.blockDisabled = true;
  }

  private finish(): void {
    if (this.state === 'closed') return;
    const lost = this.queued + this.unreported;
    this.state = 'closed';
    this.unreported = 0;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    this.timer = this.closeTimer = null;
    this.retry.length = 0;
    while (this.queue.length > 0) this.queue.shift();
    if (lost > 0) {
      this.stats.lostAtClose += lost;
      this.log?.warn({ code: SYSLOG_CODE.LOST_AT_CLOSE, target: this.stats.target, lost }, 'syslog: lines not delivered at exit');
    }
    let resolved = false;
    const resolve = (): void => {
      if (resolved) return;
      resolved = true;
      this.resolveDone(this.stats);
    };
    // a TCP end() waits for the flush; never longer than a second more
    const t = setTimeout(() => {
      this.transport.destroy();
      resolve();
    }, 1000);
    this.transport.end(() => {
      clearTimeout(t);
      resolve();
    });
  }
}

// ---------------------------------------------------------------------------
// Factories

export interface LocalSyslogOptions {
  path: string;
  facility: number;
  priority: number;
  pid?: number;
  capacity?: number;
  blockWhenFullMs?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  closeTimeoutMs?: number;
  log?: OpLog;
}

/** iplog's syslog() to the local socket: glibc's datagram format, over unix-dgram. */
export function localSyslogSink(o: LocalSyslogOptions): SyslogSink {
  const pri = syslogPri(o.facility, o.priority);
  const pid = o.pid ?? process.pid;
  return new SyslogSink({
    ...o,
    transport: new UnixDgramTransport(o.path),
    format: (now, text) => formatLocal(pri, now, pid, text),
  });
}

export interface RemoteSyslogOptions extends Omit<LocalSyslogOptions, 'path' | 'blockWhenFullMs'> {
  server: SyslogServer;
  format: SyslogFormat;
  /** HOSTNAME field (default: this machine's name) */
  hostname?: string;
}

/** Remote syslog over UDP or TCP, RFC 3164 or RFC 5424. */
export function remoteSyslogSink(o: RemoteSyslogOptions): SyslogSink {
  const pri = syslogPri(o.facility, o.priority);
  const pid = o.pid ?? process.pid;
  const host = syslogHostname(o.format, o.hostname);
  const format =
    o.format === 'rfc5424'
      ? (now: number, text: string) => formatRfc5424(pri, now, host, pid, text)
      : (now: number, text: string) => formatRfc3164(pri, now, host, pid, text);
  const transport = o.server.proto === 'tcp' ? new TcpTransport(o.server, o.format) : new UdpTransport(o.server);
  return new SyslogSink({ ...o, transport, format });
}

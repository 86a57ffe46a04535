/**
 * Test helpers for the syslog sink: stand-in syslog daemons on sockets of our own (a
 * temp-dir unix socket, 127.0.0.1 UDP/TCP), and a private rsyslogd.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket as createUdp, type Socket as UdpSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..', '..');
const FIXTURES = join(ROOT, 'test', 'output', 'fixtures');

/** The datagrams of a fixture: one Python bytes/str repr per line. */
export function readDatagrams(name: string): string[] {
  return readFileSync(join(FIXTURES, name), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map(pyUnrepr);
}

function pyUnrepr(s: string): string {
  const body = s.replace(/^b?(['"])(.*)\1$/, '$2');
  return body.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_m, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    return ({ n: '\n', t: '\t', r: '\r', '0': '\0' } as Record<string, string>)[e] ?? e;
  });
}


export function tempDir(tag: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `iplog-${tag}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `cond` every 10 ms until true or `ms` passed; returns the last value. */
export async function waitUntil(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(10);
  }
  return true;
}

interface UnixDgramSocket {
  on(event: 'error', cb: (e: Error) => void): void;
  bind(path: string): void;
  close(): void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const unixDgram = require('unix-dgram') as {
  createSocket(type: 'unix_dgram', onMessage: (buf: Buffer) => void): UnixDgramSocket;
};

/** An in-process syslogd on a unix datagram socket: collects every datagram. */
export class FakeUnixSyslogd {
  readonly messages: string[] = [];
  private sock: UnixDgramSocket | null = null;
  constructor(readonly path: string) {
    this.open();
  }
  open(): void {
    if (existsSync(this.path)) unlinkSync(this.path);
    const s = unixDgram.createSocket('unix_dgram', (buf) => this.messages.push(buf.toString('utf8')));
    s.on('error', (e) => {
      throw e;
    });
    s.bind(this.path);
    this.sock = s;
  }
  /** like a syslogd that exits: the socket closes and its file goes away */
  close(): void {
    this.sock?.close();
    this.sock = null;
    if (existsSync(this.path)) unlinkSync(this.path);
  }
  waitFor(n: number, ms = 5000): Promise<boolean> {
    return waitUntil(() => this.messages.length >= n, ms);
  }
}

/**
 * A syslogd in a child process that stalls (blocks its event loop for `stallMs`) when the
 * first datagram arrives, so that the socket's queue fills up and the sender sees EAGAIN.
 * Prints every datagram on its stdout, one per line.
 */
export class StallingSyslogd {
  readonly messages: string[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private partial = '';
  constructor(
    readonly path: string,
    stallMs: number,
  ) {
    const script = `
      const u = require('unix-dgram');
      const cell = new Int32Array(new SharedArrayBuffer(4));
      let first = true;
      const s = u.createSocket('unix_dgram', (buf) => {
        if (first) { first = false; Atomics.wait(cell, 0, 0, ${stallMs}); }
        process.stdout.write(buf.toString('utf8') + '\\n');
      });
      s.bind(${JSON.stringify(path)});
      process.stdout.write('READY\\n');
      process.on('SIGTERM', () => { s.close(); process.stdout.write('', () => process.exit(0)); });
    `;
    this.child = spawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (d: string) => {
      const parts = (this.partial + d).split('\n');
      this.partial = parts.pop() ?? '';
      this.messages.push(...parts);
    });
    this.exited = new Promise((r) => this.child.on('exit', () => r()));
  }
  async ready(): Promise<void> {
    if (!(await waitUntil(() => this.messages[0] === 'READY', 10_000))) throw new Error('stalling syslogd did not start');
    this.messages.shift();
  }
  waitFor(n: number, ms = 10_000): Promise<boolean> {
    return waitUntil(() => this.messages.length >= n, ms);
  }
  async stop(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}

/** A syslog collector on 127.0.0.1 over UDP: one message per datagram. */
export class FakeUdpCollector {
  readonly messages: string[] = [];
  readonly sock: UdpSocket = createUdp('udp4');
  async listen(port = 0): Promise<number> {
    this.sock.on('message', (m) => this.messages.push(m.toString('utf8')));
    await new Promise<void>((r) => this.sock.bind(port, '127.0.0.1', r));
    return this.sock.address().port;
  }
  close(): Promise<void> {
    return new Promise((r) => this.sock.close(() => r()));
  }
}

/** A syslog collector on 127.0.0.1 over TCP: the raw byte stream, all connections. */
export class FakeTcpCollector {
  data = '';
  connections = 0;
  private server: Server | null = null;
  private readonly socks = new Set<Socket>();
  async listen(port = 0): Promise<number> {
    const server = createServer((c) => {
      this.connections++;
      this.socks.add(c);
      c.setEncoding('utf8');
      c.on('data', (d: string) => (this.data += d));
      c.on('close', () => this.socks.delete(c));
      c.on('error', () => {});
    });
    this.server = server;
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    return (server.address() as { port: number }).port;
  }
  /** stop listening and drop every connection (a collector restart) */
  close(): Promise<void> {
    for (const c of this.socks) c.destroy();
    const s = this.server;
    this.server = null;
    return new Promise((r) => (s ? s.close(() => r()) : r()));
  }
}

/** A port free on 127.0.0.1 for both TCP and UDP (best effort). */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const u = createUdp('udp4');
    const ok = await new Promise<boolean>((r) => {
      u.once('error', () => r(false));
      u.bind(port, '127.0.0.1', () => r(true));
    });
    await new Promise<void>((r) => u.close(() => r()));
    if (ok) return port;
  }
  throw new Error('no free port');
}

// ---------------------------------------------------------------------------
// A private rsyslogd

export const RSYSLOGD = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].find((p) => existsSync(p));

/** One received message as the private rsyslogd's template writes it. */
export interface RsyslogRecord {
  input: string;
  pri: number;
  facility: number;
  severity: number;
  hostname: string;
  tag: string;
  program: string;
  procid: string;
  msg: string;
  raw: string;
}

const SEP = '\t';

/**
 * rsyslogd in the foreground with a private configuration: imuxsock on `<dir>/log.sock`
 * only (no system socket, no rate limit), imudp and imtcp on 127.0.0.1:`port`, no DNS,
 * work directory and pid file in `dir`, and every message written to `<dir>/out.log` as
 * its parsed fields and the raw message.
 */
export class PrivateRsyslog {
  readonly socket: string;
  readonly out: string;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    this.socket = join(dir, 'log.sock');
    this.out = join(dir, 'out.log');
    const work = join(dir, 'work');
    spawnSync('mkdir', ['-p', work]);
    const fields = ['inputname', 'pri', 'syslogfacility', 'syslogseverity', 'hostname', 'syslogtag', 'programname', 'procid', 'msg', 'rawmsg'];
    const conf = [
      `global(workDirectory="${work}" net.enableDNS="off" maxMessageSize="64k")`,
      'module(load="imuxsock" SysSock.Use="off")',
      `input(type="imuxsock" Socket="${this.socket}" RateLimit.Interval="0" CreatePath="on")`,
      'module(load="imudp")',
      `input(type="imudp" address="127.0.0.1" port="${port}" rateLimit.Interval="0")`,
      'module(load="imtcp")',
      `input(type="imtcp" address="127.0.0.1" port="${port}")`,
      'template(name="fields" type="list") {',
      ...fields.map((f, i) => `  property(name="${f}"${f === 'msg' ? ' droplastlf="on"' : ''}) constant(value="${i === fields.length - 1 ? '\\n' : '\\t'}")`),
      '}',
      `*.* action(type="omfile" file="${this.out}" template="fields")`,
      '',
    ].join('\n');
    writeFileSync(join(dir, 'rsyslog.conf'), conf);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const child = spawn(RSYSLOGD as string, ['-n', '-f', join(this.dir, 'rsyslog.conf'), '-i', join(this.dir, 'rsyslogd.pid')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d) => (err += String(d)));
    this.child = child;
    this.exited = new Promise((r) => child.on('exit', () => r()));
    if (!(await waitUntil(() => existsSync(this.socket) || child.exitCode !== null, 10_000)) || child.exitCode !== null) {
      throw new Error(`rsyslogd did not start: ${err}`);
    }
    // the TCP listener comes up with the socket; give the inputs a moment
    await sleep(100);
  }

  /** SIGTERM, and wait until it has exited (its socket file is then gone) */
  async stop(): Promise<void> {
    const c = this.child;
    if (c === null) return;
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await this.exited;
    this.child = null;
  }

  records(): RsyslogRecord[] {
    if (!existsSync(this.out)) return [];
    const out: RsyslogRecord[] = [];
    for (const line of readFileSync(this.out, 'utf8').split('\n')) {
      if (line === '') continue;
      const f = line.split(SEP);
      if (f.length < 10) continue;
      out.push({
        input: f[0]!,
        pri: Number(f[1]),
        facility: Number(f[2]),
        severity: Number(f[3]),
        hostname: f[4]!,
        tag: f[5]!,
        program: f[6]!,
        procid: f[7]!,
        msg: f[8]!,
        raw: f.slice(9).join(SEP),
      });
    }
    return out;
  }

  /** records from iplog only (rsyslogd logs its own start and stop too) */
  iplog(): RsyslogRecord[] {
    return this.records().filter((r) => r.program === 'iplog');
  }
}

/**
 * Network namespaces for the privileged live-capture tests: every namespace is created by
 * the test, named `iplog-live-<pid>-<n>-<tag>`, holds only documentation addresses
 * (192.0.2.0/24 on the veth pair; 198.51.100.0/24 and 203.0.113.0/24 for other hosts)
 * and is deleted when the test ends, or by an exit hook if the process dies first. Traffic
 * stays inside the namespaces (a veth pair between two of them, or a namespace's own
 * loopback).
 *
 * `liveSkip()` says why these tests cannot run here (not root, no `ip netns`): they then
 * skip with that message. A missing tool or addon on a machine where they can run is a
 * failure, not a skip (scripts/setup.mjs installs them).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { opLogRecords } from '../helpers/oplog';

export const ROOT = join(__dirname, '..', '..', '..');
export const BIN = join(ROOT, 'bin', 'iplog');
export const ADDON = join(ROOT, 'native', 'build', 'Release', 'iplog_capture.node');

const created = new Set<string>();
process.on('exit', () => {
  for (const ns of created) spawnSync('ip', ['netns', 'del', ns]);
});

let skipCache: string | null | undefined;

/** Why the privileged live tests cannot run here, or null. */
export function liveSkip(): string | null {
  if (skipCache !== undefined) return skipCache;
  skipCache = probe();
  return skipCache;
}

function probe(): string | null {
  if (process.platform !== 'linux') return 'live capture tests need Linux network namespaces';
  if (process.getuid?.() !== 0) return 'live capture tests need root (ip netns, libpcap); CI runs them as root';
  if (spawnSync('sh', ['-c', 'command -v ip']).status !== 0) return 'live capture tests need ip (iproute2)';
  const name = `iplog-live-probe-${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (r.status !== 0) return `ip netns does not work here: ${(r.stderr ?? '').trim()}`;
  spawnSync('ip', ['netns', 'del', name]);
  return null;
}

/** Fail (not skip) when a tool the tests need is missing on a machine that can run them. */
export function requireTools(...tools: string[]): void {
  for (const t of tools) {
    if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) throw new Error(`${t} is missing (scripts/setup.mjs installs it on Debian)`);
  }
  if (!existsSync(ADDON)) throw new Error(`the capture addon is not built (${ADDON}): npm ci, or npm run build:native`);
}

let serial = 0;

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run argv to completion without blocking the event loop (other tests' children keep being read). */
export function exec(argv: string[], input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const c = spawn(argv[0]!, argv.slice(1), { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('error', reject);
    c.on('close', (status) => resolve({ status, stdout, stderr }));
    if (input !== undefined) c.stdin!.end(input);
  });
}

export class Netns {
  private constructor(readonly name: string) {}

  static async create(tag: string): Promise<Netns> {
    const ns = new Netns(`iplog-live-${process.pid}-${serial++}-${tag}`);
    const r = await exec(['ip', 'netns', 'add', ns.name]);
    if (r.status !== 0) throw new Error(`ip netns add ${ns.name}: ${r.stderr}`);
    created.add(ns.name);
    await ns.must(['ip', 'link', 'set', 'lo', 'up']);
    // no IPv6 chatter (router solicitations, MLD) on the test links
    await ns.run(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
    await ns.run(['sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
    return ns;
  }

  run(argv: string[], input?: string): Promise<Run> {
    return exec(['ip', 'netns', 'exec', this.name, ...argv], input);
  }

  async must(argv: string[]): Promise<string> {
    const r = await this.run(argv);
    if (r.status !== 0) throw new Error(`${argv.join(' ')} in ${this.name}: exit ${r.status}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** Drop everything the kernel would receive (the capture still sees it): no answers to replayed packets. */
  async dropInput(): Promise<void> {
    await this.must(['iptables', '-A', 'INPUT', '-j', 'DROP']);
  }

  spawn(argv: string[], env: NodeJS.ProcessEnv = {}): Proc {
    return new Proc(spawn('ip', ['netns', 'exec', this.name, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC', LC_ALL: 'C', ...env } }));
  }

  async destroy(): Promise<void> {
    await exec(['ip', 'netns', 'del', this.name]);
    created.delete(this.name);
  }
}

/**
 * Two namespaces joined by a veth pair: `a` (192.0.2.1, the sender) and `v` (192.0.2.2,
 * the sensor). Every pair has namespaces of its own, so all use 192.0.2.0/24; `net` only
 * tells them apart in names.
 */
export class VethPair {
  readonly aIf = 'va0';
  readonly vIf = 'vv0';
  readonly aMac = '02:77:00:00:00:01';
  readonly vMac = '02:77:00:00:00:02';
  readonly aAddr: string;
  readonly vAddr: string;

  private constructor(
    readonly a: Netns,
    readonly v: Netns,
    readonly net: number,
  ) {
    this.aAddr = '192.0.2.1';
    this.vAddr = '192.0.2.2';
  }

  static async create(tag: string, net: number): Promise<VethPair> {
    const p = new VethPair(await Netns.create(`${tag}a`), await Netns.create(`${tag}v`), net);
    // created inside v, one end moved to a: nothing touches the host's namespace
    await p.v.must(['ip', 'link', 'add', p.vIf, 'address', p.vMac, 'type', 'veth', 'peer', 'name', p.aIf, 'address', p.aMac]);
    await p.v.must(['ip', 'link', 'set', p.aIf, 'netns', p.a.name]);
    await p.a.must(['ip', 'addr', 'add', `${p.aAddr}/24`, 'dev', p.aIf]);
    await p.v.must(['ip', 'addr', 'add', `${p.vAddr}/24`, 'dev', p.vIf]);
    await p.a.must(['ip', 'link', 'set', p.aIf, 'up']);
    await p.v.must(['ip', 'link', 'set', p.vIf, 'up']);
    return p;
  }

  /** Send a capture from `a` with tcpreplay (at its recorded speed unless told otherwise). */
  async replay(pcap: string, extra: string[] = []): Promise<Run> {
    const r = await this.a.run(['tcpreplay', '-q', '-i', this.aIf, ...extra, pcap]);
    if (r.status !== 0) throw new Error(`tcpreplay: exit ${r.status}: ${r.stderr}`);
    return r;
  }

  async destroy(): Promise<void> {
    await this.a.destroy();
    await this.v.destroy();
  }
}

/** A child whose output is collected, with waits on it. */
export class Proc {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((r) => child.on('exit', (code) => r(code)));
  }

  lines(): string[] {
    return this.stdout.split('\n').filter((l) => l !== '');
  }

  /** Text of the lines after the 16-character timestamp. */
  texts(): string[] {
    return this.lines().map((l) => l.slice(16));
  }

  /** Operational log records (pino JSON lines on stderr). */
  records(): Record<string, unknown>[] {
    return opLogRecords(this.stderr);
  }

  /** Wait until `pred` holds (checked every 50 ms); fail after `ms`. */
  async until(pred: () => boolean, ms: number, what: string): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) {
        // output that arrived while the event loop was busy is read first
        await new Promise((r) => setImmediate(r));
        if (pred()) return;
        throw new Error(`timed out after ${ms} ms waiting for ${what}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr.slice(-4000)}`);
      }
      await sleep(50);
    }
  }

  /** Signal the child (by its pid) and wait for it to end. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** `iplog -o -L ...` in `ns`, with its own pid file and no configuration file. */
export function startIplog(ns: Netns, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const pid = `/tmp/iplog-live-test-${process.pid}-${serial++}.pid`;
  // the live tests expect the compat profile's lines unless their args choose another profile (the last --profile wins)
  const p = ns.spawn([process.execPath, BIN, '--config', '/dev/null', '--profile', 'compat', '--pid-file', pid, '-o', '-L', ...args], { IPLOG_LOG_LEVEL: 'info', ...env });
  // a run that ends on a Fatal line (or SIGKILL) leaves its pid file, as iplog does
  void p.exited.then(() => rmSync(pid, { force: true }));
  return p;
}

/** Wait until iplog has opened its interfaces (its operational log says so). */
export async function capturing(p: Proc, ms = 30_000): Promise<void> {
  await p.until(() => p.records().some((r) => r.msg === 'iplog started'), ms, 'iplog to start capturing');
}

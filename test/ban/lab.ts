/**
 * A two-namespace lab for the privileged ban tests: `fw` (the host that runs iplog and
 * its firewall) and `at` (an attacker), joined by a veth pair, with documentation
 * addresses only (198.51.100.1/24 and 2001:db8:201::1/64 on fw, .2 and ::2 on at). Every
 * firewall change happens inside `fw` (`ip netns exec fw nft ...`), never in the host's ruleset; traffic only
 * between the two namespaces. Namespaces are deleted in `down()`, and by an exit hook if
 * a test dies first.
 *
 * `skipReason()` says why the lab cannot run here (not root, no `ip netns`, a tool
 * missing), so privileged tests skip with that message instead of failing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writePcap, type Frame } from '../helpers/pcap-writer';
import { ipv4, tcp, SYN } from '../helpers/packets';
import { opLogRecords } from '../helpers/oplog';

const live = new Set<string>();
process.on('exit', () => {
  for (const ns of live) spawnSync('ip', ['netns', 'del', ns]);
});

function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

/** Why the lab cannot run, or null. */
export function skipReason(tools: string[]): string | null {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root (ip netns, nft, ipset); CI runs it as root';
  for (const t of ['ip', ...tools]) if (!has(t)) return `needs ${t} (scripts/setup.mjs installs it on Debian)`;
  const probe = `iplog-probe-${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.status !== 0) return `ip netns does not work here: ${r.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export class Lab {
  readonly fw: string;
  readonly at: string;
  readonly fwAddr = '198.51.100.1';
  readonly atAddr = '198.51.100.2';
  readonly fwAddr6 = '2001:db8:201::1';
  readonly atAddr6 = '2001:db8:201::2';
  private static n = 0;

  constructor(tag: string) {
    const id = `${process.pid}-${Lab.n++}`;
    this.fw = `iplog-${tag}-${id}-fw`;
    this.at = `iplog-${tag}-${id}-at`;
  }

  /** Run argv inside namespace `ns`. */
  run(ns: string, argv: string[], input?: string): Run {
    const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', input, timeout: 60_000 });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  must(ns: string, argv: string[], input?: string): string {
    const r = this.run(ns, argv, input);
    if (r.status !== 0) throw new Error(`${argv.join(' ')} in ${ns}: exit ${r.status}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  up(): void {
    for (const ns of [this.fw, this.at]) {
      const r = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ip netns add ${ns}: ${r.stderr}`);
      live.add(ns);
      this.must(ns, ['ip', 'link', 'set', 'lo', 'up']);
    }
    // the veth pair is created inside fw and one end moved to at: nothing touches the host
    this.must(this.fw, ['ip', 'link', 'add', 'vfw', 'type', 'veth', 'peer', 'name', 'vat']);
    this.must(this.fw, ['ip', 'link', 'set', 'vat', 'netns', this.at]);
    this.must(this.fw, ['ip', 'addr', 'add', `${this.fwAddr}/24`, 'dev', 'vfw']);
    this.must(this.fw, ['ip', '-6', 'addr', 'add', `${this.fwAddr6}/64`, 'dev', 'vfw', 'nodad']);
    this.must(this.fw, ['ip', 'link', 'set', 'vfw', 'up']);
    this.must(this.at, ['ip', 'addr', 'add', `${this.atAddr}/24`, 'dev', 'vat']);
    this.must(this.at, ['ip', '-6', 'addr', 'add', `${this.atAddr6}/64`, 'dev', 'vat', 'nodad']);
    this.must(this.at, ['ip', 'link', 'set', 'vat', 'up']);
  }

  down(): void {
    for (const ns of [this.fw, this.at]) {
      spawnSync('ip', ['netns', 'del', ns]);
      live.delete(ns);
    }
  }

  /** Does one ping from the attacker reach fw (and come back) within a second? */
  pingFromAttacker(v6 = false): boolean {
    return this.run(this.at, ['ping', ...(v6 ? ['-6'] : []), '-n', '-c', '1', '-W', '1', v6 ? this.fwAddr6 : this.fwAddr]).status === 0;
  }

  /**
   * Whether the attacker's pings pass, asked up to three times: on a loaded machine the first
   * echo (behind neighbour or ARP resolution) can take more than pingFromAttacker's second.
   * For asserting that packets pass; asserting a drop keeps the single try.
   */
  reachable(v6 = false): boolean {
    for (let i = 0; i < 3; i++) if (this.pingFromAttacker(v6)) return true;
    return false;
  }

  /** Start argv inside fw (not waited for). */
  spawnIn(ns: string, argv: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC', LC_ALL: 'C', ...env } });
  }
}

/** A child whose output is collected, with waits on it. */
export class Proc {
  stdout = '';
  stderr = '';
  exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((r) => child.on('exit', (code) => r(code)));
  }

  /** Wait until `pred` holds (checked every 50 ms) or fail after `ms`. */
  async until(pred: () => boolean, ms: number, what: string): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr.slice(-4000)}`);
      await sleep(50);
    }
  }

  /** Operational log records (pino JSON lines on stderr). */
  records(): Record<string, unknown>[] {
    return opLogRecords(this.stderr);
  }

  kill9(): Promise<number | null> {
    this.child.kill('SIGKILL');
    return this.exited;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Wait until `pred` holds, polling every 100 ms. Returns the time it took (ms). */
export async function waitFor(pred: () => boolean, ms: number, what: string): Promise<number> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
  return Date.now() - start;
}

/** A pcap stream (raw IPv4 link type) of a SYN scan without DF from `src` to 12 ports of `dst`, stamped now. */
export function synScanPcap(src: string, dst: string, withHeader = true): Buffer {
  const t = Date.now() / 1000;
  const frames: Frame[] = [];
  for (let i = 0; i < 12; i++) frames.push({ ts: t + i * 0.001, data: ipv4({ src, dst, proto: 6, id: 200 + i }, tcp(41000, 20 + i, SYN)) });
  const b = writePcap(frames, { linktype: 101 });
  return withHeader ? b : b.subarray(24);
}

export function pcapHeaderOnly(): Buffer {
  return writePcap([], { linktype: 101 });
}

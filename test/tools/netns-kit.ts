/**
 * What the capture-making scripts (make-ipv6-pcaps.ts, make-modern-corpus.ts) share: network
 * namespaces named after the script and its pid, created here and always deleted at exit
 * (with the children started in them, the per-namespace /etc/netns files and the scratch
 * directory), and commands run in them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Background = ChildProcess & { errText: () => string };

export class NetnsKit {
  /** `PREFIX-PID`: the start of every namespace name */
  readonly tag: string;
  /** scratch directory, removed at exit */
  readonly work: string;
  private readonly made: string[] = [];
  private readonly etc: string[] = [];
  private readonly children = new Set<ChildProcess>();

  /** `timeoutMs`: the default limit of run() */
  constructor(
    prefix: string,
    private readonly timeoutMs: number,
  ) {
    this.tag = `${prefix}-${process.pid}`;
    this.work = mkdtempSync(join(tmpdir(), `${prefix}-`));
    process.on('exit', () => this.cleanup());
    process.on('SIGINT', () => process.exit(130));
    process.on('SIGTERM', () => process.exit(143));
  }

  /** `{ key: TAG-key }` for each key; nothing is created yet */
  names<K extends string>(keys: readonly K[]): Record<K, string> {
    return Object.fromEntries(keys.map((k) => [k, `${this.tag}-${k}`])) as Record<K, string>;
  }

  /** `ip netns add` each, loopback up in each */
  create(namespaces: readonly string[]): void {
    for (const ns of namespaces) {
      const r = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ip netns add ${ns}: ${r.stderr}`);
      this.made.push(ns);
      this.run(ns, ['ip', 'link', 'set', 'lo', 'up']);
    }
  }

  /** /etc/netns/NS/resolv.conf (what `ip netns exec` binds over /etc/resolv.conf) */
  resolver(ns: string, nameserver: string): void {
    const dir = `/etc/netns/${ns}`;
    mkdirSync(dir, { recursive: true });
    this.etc.push(dir);
    writeFileSync(`${dir}/resolv.conf`, `nameserver ${nameserver}\n`);
  }

  /** run argv in ns and wait; throws on a non-zero exit unless `ok: false`; stdout + stderr */
  run(ns: string, argv: string[], opts: { ok?: boolean; timeout?: number } = {}): string {
    const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', timeout: opts.timeout ?? this.timeoutMs });
    if (opts.ok !== false && r.status !== 0) throw new Error(`${argv.join(' ')} in ${ns}: exit ${r.status} ${r.signal ?? ''}: ${r.stderr}`);
    return `${r.stdout ?? ''}${r.stderr ?? ''}`;
  }

  /** start argv in ns in the background (killed at exit); errText() is its standard error so far */
  bg(ns: string, argv: string[]): Background {
    const c = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] }) as Background;
    let err = '';
    c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    c.errText = () => err;
    this.children.add(c);
    c.on('exit', () => this.children.delete(c));
    return c;
  }

  private cleanup(): void {
    for (const c of this.children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const ns of this.made) spawnSync('ip', ['netns', 'del', ns]);
    for (const dir of this.etc) rmSync(dir, { recursive: true, force: true });
    rmSync(this.work, { recursive: true, force: true });
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** the first line of a tool's version output that has a digit in it */
export function version(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.trim().split('\n').find((l) => /\d/.test(l))?.trim() ?? '?';
}

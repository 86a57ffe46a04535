/**
 * Helpers of the daemon tests: the addon's lock calls, whether privileged tests can run
 * (root and `ip netns`), network namespaces, and waiting for files and output.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LockOps } from '../../src/daemon/pidfile';

export const root = join(__dirname, '..', '..', '..');
export const addonPath = join(root, 'native', 'build', 'Release', 'iplog_capture.node');

/** The addon's fcntl helpers, or null when the addon is not built. */
export function loadAddonLocks(): LockOps | null {
  if (!existsSync(addonPath)) return null;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const a = require(addonPath) as Partial<LockOps>;
    if (typeof a.lockFile !== 'function' || typeof a.lockOwner !== 'function') return null;
    return { lockFile: a.lockFile, lockOwner: a.lockOwner };
  } catch {
    return null;
  }
}

/** Why privileged tests cannot run here, or false when they can (root, `ip netns`). */
export function privilegedSkip(): string | false {
  if (process.platform !== 'linux') return 'privileged tests need Linux';
  if (process.getuid?.() !== 0) return 'privileged tests need root (they run as root in CI)';
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (r.status !== 0) return 'privileged tests need `ip netns` (iproute2)';
  return false;
}

/** Run `ip ...`; throws with its stderr on failure. */
export function ip(...args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

let nsSeq = 0;
/** A fresh network namespace with lo up; returns its name. Delete it with deleteNetns(). */
export function createNetns(tag: string): string {
  const name = `iplogt-${tag}-${process.pid}-${nsSeq++}`;
  ip('netns', 'add', name);
  ip('-n', name, 'link', 'set', 'lo', 'up');
  return name;
}

export function deleteNetns(name: string): void {
  spawnSync('ip', ['netns', 'delete', name]);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `cond` every 25 ms until it holds or `ms` pass; returns whether it held. */
export async function waitFor(cond: () => boolean, ms = 15_000): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (cond()) return true;
    if (Date.now() >= end) return false;
    await sleep(25);
  }
}

/** A file's text, or '' if it does not exist (yet). */
export function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Text after the 16-character `Mmm dd HH:MM:SS ` stamp of every stamped line. */
export function unstamp(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => /^[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d /.test(l))
    .map((l) => l.slice(16));
}

/** Is the process alive? */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

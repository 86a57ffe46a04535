/**
 * Shared fixtures of the config and CLI tests: the conformance files copied into
 * test/config/fixtures and test/cli/fixtures (a clone has no ../shared), and a ConfigEnv
 * with the oracle's /etc/hosts (`127.0.0.1 localhost`) and Debian's /etc/services.
 */
import { readFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { makeConfigEnv, type ConfigEnv } from '../../src/config/conf-parser';

/** Repository root, from dist/test/config (compiled) or test/config (sources). */
export const ROOT = resolve(__dirname, __dirname.split(sep).includes('dist') ? '../../..' : '../..');

export function fixture(area: 'config' | 'cli', name: string): string {
  return readFileSync(resolve(ROOT, 'test', area, 'fixtures', name), 'utf8');
}

export const HOSTS = fixture('config', 'hosts');
export const SERVICES = fixture('config', 'services');

/** The oracle machine's name databases. */
export function oracleEnv(extraHosts = ''): ConfigEnv {
  return makeConfigEnv(HOSTS + extraHosts, SERVICES);
}

/** Lines of an oracle log without the 16-character timestamp, and the untimestamped ones. */
export function splitOracleLog(text: string): { timed: string[]; plain: string[] } {
  const timed: string[] = [];
  const plain: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d /.test(line)) timed.push(line.slice(16));
    else plain.push(line);
  }
  return { timed, plain };
}

/** a.b.c.d → host-order uint32 */
export function ip(text: string): number {
  const p = text.split('.').map(Number);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

/** A readFile for parseCommandLine() over an in-memory file system (missing → undefined). */
export function memoryFs(files: Record<string, string>): (path: string) => string | undefined {
  const all: Record<string, string> = { '/etc/hosts': HOSTS, '/etc/services': SERVICES, ...files };
  return (path) => all[path];
}

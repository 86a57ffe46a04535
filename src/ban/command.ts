/**
 * Any program, through argv templates: `ban_command` and `unban_command` (required),
 * `start_command`, `stop_command`, `flush_command` (optional). A template is split into
 * words first (at whitespace, or at commas when it has no whitespace, which is the form
 * iplog.conf needs since its values cannot contain blanks), then the placeholders are
 * replaced inside each word:
 *
 *   {ip}       the address (IPv4 dotted quad or IPv6 text; never a name)
 *   {family}   inet or inet6
 *   {seconds}  the ban duration (ban only; 0 elsewhere)
 *
 * Substitution never adds words and nothing goes through a shell, so an address cannot
 * inject an argument. By default iplog runs `unban_command` when a ban expires; with
 * `kernel_expiry=yes` the program is trusted to expire bans itself (it was given
 * {seconds}) and only explicit unbans run it.
 */
import { defineBackend, type Cmd, type Params } from './backend';
import type { Family } from './addr';

const PLACEHOLDER = /\{(ip|family|seconds)\}/g;

export function splitTemplate(t: string): string[] {
  const s = t.trim();
  if (s === '') return [];
  return /\s/.test(s) ? s.split(/\s+/) : s.split(',').filter(Boolean);
}

function render(template: string, addr: string, family: Family, seconds: number): Cmd[] {
  const words = splitTemplate(template);
  if (words.length === 0) return [];
  const v: Record<string, string> = { ip: addr, family: family === 4 ? 'inet' : 'inet6', seconds: String(seconds) };
  return [{ argv: words.map((w) => w.replace(PLACEHOLDER, (_m, k: string) => v[k]!)) }];
}

function fixed(template: string): Cmd[] {
  const words = splitTemplate(template);
  return words.length ? [{ argv: words }] : [];
}

function checkTemplate(p: Params, key: string, needIp: boolean): string | undefined {
  const t = p[key]!;
  const words = splitTemplate(t);
  if (words.length === 0) return needIp ? `${key} is required` : undefined;
  if (!words[0]!.startsWith('/')) return `${key} must start with an absolute program path (no PATH search, no shell)`;
  if (needIp && !t.includes('{ip}')) return `${key} must contain {ip}`;
  const unknown = /\{(?!ip\}|family\}|seconds\})[^}]*\}/.exec(t);
  if (unknown) return `${key}: unknown placeholder ${unknown[0]} (known: {ip} {family} {seconds})`;
  return undefined;
}

export default defineBackend({
  name: 'command',
  summary: 'argv templates with {ip}, {family}, {seconds}, run without a shell',
  notes:
    'A template is split into words first (at blanks, or at commas when it has none: iplog.conf values cannot hold blanks), then `{ip}` (the address, never a name), `{family}` (inet or inet6) and `{seconds}` are replaced inside the words, so an address can never add an argument. The program must be an absolute path. iplog runs `unban_command` at expiry unless `kernel_expiry=yes` says the program expires bans itself.',
  params: {
    ban_command: { default: '', doc: 'program and arguments run to ban (required; contains {ip})' },
    unban_command: { default: '', doc: 'program and arguments run to unban (required; contains {ip})' },
    start_command: { default: '', doc: 'run once before the first ban (optional)' },
    stop_command: { default: '', doc: 'run to remove everything at stop (optional)' },
    flush_command: { default: '', doc: 'run to lift every ban (optional)' },
    kernel_expiry: { default: 'no', doc: 'yes if ban_command makes the firewall expire the ban after {seconds} by itself' },
  },
  example: {
    ban_command: '/usr/local/sbin/blocklist add {family} {ip} {seconds}',
    unban_command: '/usr/local/sbin/blocklist del {family} {ip}',
    start_command: '/usr/local/sbin/blocklist init',
    stop_command: '/usr/local/sbin/blocklist destroy',
    flush_command: '/usr/local/sbin/blocklist flush',
  },
  kernelExpiry: (p) => p.kernel_expiry === 'yes',
  validate(p) {
    if (p.kernel_expiry !== 'yes' && p.kernel_expiry !== 'no') return 'kernel_expiry must be yes or no';
    return (
      checkTemplate(p, 'ban_command', true) ??
      checkTemplate(p, 'unban_command', true) ??
      checkTemplate(p, 'start_command', false) ??
      checkTemplate(p, 'stop_command', false) ??
      checkTemplate(p, 'flush_command', false)
    );
  },
  start: (p) => fixed(p.start_command!),
  ban: (p, addr, family, seconds) => render(p.ban_command!, addr, family, seconds),
  unban: (p, addr, family) => render(p.unban_command!, addr, family, 0),
  flush: (p) => fixed(p.flush_command!),
  stop: (p) => fixed(p.stop_command!),
  check: () => [],
});

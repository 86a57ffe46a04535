/**
 * The ban settings: defaults, and the parsing of each `--ban-*` option / `ban_*`
 * statement value (the same from the command line and iplog.conf; config/options.ts
 * calls applyBanValue()). Values are checked one by one here; what depends on several of
 * them (backend parameters against the chosen backend, max time >= time) is checked when
 * the manager is built (attach.ts), before anything runs.
 */
import type { BanSettings, Settings } from '../config/settings';
import { DETECTORS } from '../detect/index';
import { parseNet } from './addr';
import type { BACKENDS as Backends } from './index';

export const BAN_DEFAULTS = Object.freeze({
  backend: 'none',
  timeSec: 3600,
  maxTimeSec: 7 * 86400,
  factor: 2,
  threshold: 10,
  windowSec: 600,
  budget: 10,
  prefixBudget: 10,
  stateFile: '/var/lib/iplog/bans.json',
  resyncSec: 300,
  conntrack: true,
  evidence: 'protected' as const,
  protectedSec: 600,
  prefixOffenders: 3,
});

/**
 * Default weights. With the default threshold (10) every TCP/UDP scan detection (the
 * modern ACK and Maimon scans and port sweeps, which count failed contacts only, included)
 * and a ping flood ban their source at once. Smurf "sources" are the /24 networks of the
 * reflectors (the attacker spoofs the victim), traceroutes are diagnostics, bogus flags
 * are mostly ECN in the compat profile, fragment anomalies (tiny fragments included: the
 * scan they carry is detected as a scan) and per-packet lines are trivially spoofed; a
 * ping sweep is also a monitor starting its rounds, an ARP or neighbour sweep also a
 * router refilling its cache: none of them bans by default (peers.md §4.1). Aggregates
 * (SYN flood, distributed and decoy scans, UDP flood) name no source and never ban.
 * Every detector of the modern profile that names an attacker has an entry here
 * (test/ban/config.test.ts). Keys are detector names (for `scan.detected`) or event kinds.
 */
export const DEFAULT_WEIGHTS: Readonly<Record<string, number>> = Object.freeze({
  'port-scan': 10,
  'null-scan': 10,
  'fin-scan': 10,
  'syn-scan': 10,
  'xmas-scan': 10,
  'udp-scan': 10,
  'ack-scan': 10,
  'maimon-scan': 10,
  'port-sweep': 10,
  'ping-flood': 10,
  'ping-sweep': 0,
  'arp-sweep': 0,
  smurf: 0,
  'udp.traceroute': 0,
  'tcp.bogus_flags': 0,
  'frag.oversized': 0,
  'frag.duplicate': 0,
  'frag.overlap': 0,
  'frag.tiny': 0,
});

export function defaultBanSettings(): BanSettings {
  return {
    backend: BAN_DEFAULTS.backend,
    timeSec: BAN_DEFAULTS.timeSec,
    maxTimeSec: BAN_DEFAULTS.maxTimeSec,
    factor: BAN_DEFAULTS.factor,
    threshold: BAN_DEFAULTS.threshold,
    windowSec: BAN_DEFAULTS.windowSec,
    weights: {},
    allow: [],
    budget: BAN_DEFAULTS.budget,
    prefixBudget: BAN_DEFAULTS.prefixBudget,
    stateFile: BAN_DEFAULTS.stateFile,
    params: {},
    resyncSec: BAN_DEFAULTS.resyncSec,
    conntrack: BAN_DEFAULTS.conntrack,
    evidence: BAN_DEFAULTS.evidence,
    protectedSec: BAN_DEFAULTS.protectedSec,
    prefixOffenders: BAN_DEFAULTS.prefixOffenders,
  };
}

import { parseDuration } from '../config/duration';
export { parseDuration };

function parseCount(text: string, min: number, max: number): number | undefined {
  if (!/^\d{1,9}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}

/** Keys a weight may have: a detector name, or an event kind (`tcp.bogus_flags`). */
export function isWeightKey(k: string): boolean {
  if (DETECTORS.some((d) => d.name === k)) return true;
  return /^[a-z][a-z0-9_]*\.[a-z0-9_.]+$/.test(k) && !k.startsWith('ban.') && k !== 'scan.expired';
}

export type BanSettingKey =
  | 'banBackend'
  | 'banTime'
  | 'banMaxTime'
  | 'banFactor'
  | 'banThreshold'
  | 'banWindow'
  | 'banWeight'
  | 'banAllow'
  | 'banBudget'
  | 'banPrefixBudget'
  | 'banState'
  | 'banParam'
  | 'banResync'
  | 'banConntrack'
  | 'banEvidence'
  | 'banProtectedTime'
  | 'banPrefixOffenders';

function pairs(value: string): [string, string][] | undefined {
  const out: [string, string][] = [];
  for (const item of value.split(',').filter((s) => s !== '')) {
    const eq = item.indexOf('=');
    if (eq <= 0) return undefined;
    out.push([item.slice(0, eq).trim(), item.slice(eq + 1).trim()]);
  }
  return out.length ? out : undefined;
}

/**
 * Apply one value to `settings.ban` (created with the defaults on first use). Returns the
 * complaint, without a location, when the value is invalid (nothing is changed then).
 * Repeatable options (weights, allow, params) accumulate, from the file and the command
 * line alike; a later weight or parameter of the same name wins.
 */
export function applyBanValue(settings: Settings, key: BanSettingKey, value: string): string | undefined {
  const b = (settings.ban ??= defaultBanSettings());
  const dur = (what: string, min = 1): number | string => parseDuration(value, min) ?? `Invalid ${what}: "${value}" (a duration N[s|m|h|d|w], at most 365d)`;
  switch (key) {
    case 'banBackend': {
      // the registry loads every backend: only when a ban setting is checked (start-up, issue 10)
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const names = ['none', ...(require('./index') as { BACKENDS: typeof Backends }).BACKENDS.map((x) => x.name)];
      if (!names.includes(value)) return `Invalid ban backend: "${value}" (one of ${names.join(', ')})`;
      b.backend = value;
      return undefined;
    }
    case 'banTime':
    case 'banMaxTime':
    case 'banWindow': {
      const what = key === 'banTime' ? 'ban time' : key === 'banMaxTime' ? 'ban max time' : 'ban window';
      const n = dur(what);
      if (typeof n === 'string') return n;
      if (key === 'banTime') b.timeSec = n;
      else if (key === 'banMaxTime') b.maxTimeSec = n;
      else b.windowSec = n;
      return undefined;
    }
    case 'banEvidence': {
      if (value !== 'proven' && value !== 'protected' && value !== 'any') return `Invalid ban evidence: "${value}" (proven, protected or any)`;
      b.evidence = value;
      return undefined;
    }
    case 'banProtectedTime': {
      const n = dur('ban protected time');
      if (typeof n === 'string') return n;
      b.protectedSec = n;
      return undefined;
    }
    case 'banResync': {
      const n = value === '0' ? 0 : dur('ban resync interval', 10);
      if (typeof n === 'string') return n;
      b.resyncSec = n;
      return undefined;
    }
    case 'banFactor': {
      const n = /^\d{1,3}(\.\d{1,3})?$/.test(value) ? Number(value) : NaN;
      if (!(n >= 1 && n <= 100)) return `Invalid ban factor: "${value}" (a number from 1 to 100)`;
      b.factor = n;
      return undefined;
    }
    case 'banThreshold': {
      const n = parseCount(value, 1, 1_000_000);
      if (n === undefined) return `Invalid ban threshold: "${value}" (an integer from 1 to 1000000)`;
      b.threshold = n;
      return undefined;
    }
    case 'banBudget': {
      const n = parseCount(value, 1, 100_000);
      if (n === undefined) return `Invalid ban budget: "${value}" (new bans per minute, 1 to 100000)`;
      b.budget = n;
      return undefined;
    }
    case 'banPrefixBudget': {
      const n = parseCount(value, 1, 100_000);
      if (n === undefined) return `Invalid ban prefix budget: "${value}" (new bans per minute in one /24 or /48, 1 to 100000)`;
      b.prefixBudget = n;
      return undefined;
    }
    case 'banPrefixOffenders': {
      const n = parseCount(value, 0, 1000);
      if (n === undefined || n === 1) return `Invalid ban prefix offenders: "${value}" (offenders of one /64 that ban it, 2 to 1000, or 0 for never)`;
      b.prefixOffenders = n;
      return undefined;
    }
    case 'banWeight': {
      const list = pairs(value);
      if (list === undefined) return `Invalid ban weight: "${value}" (KIND=N, e.g. syn-scan=10 or tcp.bogus_flags=2)`;
      for (const [k, v] of list) {
        if (!isWeightKey(k)) return `Invalid ban weight: unknown kind "${k}" (a detector name such as syn-scan, or an event kind such as tcp.bogus_flags)`;
        const n = parseCount(v, 0, 1_000_000);
        if (n === undefined) return `Invalid ban weight: "${k}=${v}" (an integer from 0 to 1000000)`;
        if (k === 'smurf' && n > 0) return 'Invalid ban weight: smurf sources are the networks of the reflectors, not attackers; they cannot be banned';
      }
      for (const [k, v] of list) b.weights[k] = Number(v);
      return undefined;
    }
    case 'banAllow': {
      const list = value.split(',').filter((s) => s !== '');
      const bad = list.find((t) => parseNet(t) === undefined);
      if (bad !== undefined || list.length === 0) return `Invalid ban allowlist entry: "${bad ?? value}" (an IPv4 or IPv6 address or ADDR/LEN network)`;
      b.allow.push(...list);
      return undefined;
    }
    case 'banConntrack': {
      const v = value.toLowerCase();
      if (v !== 'yes' && v !== 'no' && v !== 'true' && v !== 'false') return `Invalid ban conntrack value: "${value}" (yes or no)`;
      b.conntrack = v === 'yes' || v === 'true';
      return undefined;
    }
    case 'banState':
      if (value === '' || value.includes('\0')) return `Invalid ban state file: "${value}"`;
      b.stateFile = value;
      return undefined;
    case 'banParam': {
      // NAME=VALUE; the value is taken whole (a command template may hold commas)
      const eq = value.indexOf('=');
      const name = eq > 0 ? value.slice(0, eq).trim() : '';
      if (!/^[a-z][a-z0-9_]*$/.test(name)) return `Invalid ban backend parameter: "${value}" (NAME=VALUE)`;
      b.params[name] = value.slice(eq + 1);
      return undefined;
    }
  }
}

/** The weight table in force: defaults, then the configured ones. */
export function effectiveWeights(b: BanSettings): Map<string, number> {
  return new Map(Object.entries({ ...DEFAULT_WEIGHTS, ...b.weights }));
}

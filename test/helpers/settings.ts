/**
 * Settings for in-process runs (test harness, benches): no pid file, no configuration file,
 * no rules, with the flags given. `flags` are whole: the bench's A/B runner (ab-full.ts)
 * takes the default flags of another build, so nothing here imports them.
 */
import type { Flags, Settings } from '../../src/config/settings';

export function settingsWith(flags: Flags, extra: Partial<Settings> = {}): Settings {
  return {
    profile: 'compat',
    flags,
    pidFile: '/nonexistent/iplog.pid',
    facility: 3,
    priority: 5,
    configFile: '/nonexistent/iplog.conf',
    rules: { tcp: [], udp: [], icmp: [] },
    dnsTimeoutMs: 200,
    ...extra,
  };
}

/** `iplog -m -N` (scans only, no resolver), as every in-process bench measure runs */
export function benchSettingsOf(defaults: Flags, extra: Partial<Settings> = {}): Settings {
  return settingsWith({ ...defaults, scans_only: true, disable_resolver: true }, extra);
}

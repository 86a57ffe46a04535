/**
 * THE option table (STYLE §4 habit 12): every command-line option of iplog 2.2.3
 * (spec §1.2) plus the options added by this reimplementation, with the `set` keyword
 * or simple statement that sets the same thing from iplog.conf (spec §2.3, §2.4).
 *
 * One table drives:
 * - the command line (cli/program.ts): getopt's short-option string and long-option
 *   list (in the original's `longopts[]` order, which shows in getopt's "ambiguous"
 *   message), the commander options, and which letters exist in which profile;
 * - the iplog.conf parser (config/conf-parser.ts): the `set` keywords and the simple
 *   statements with their "Missing ..." texts;
 * - docs/configuration.md (`renderConfigurationDoc()`, written by `npm run docs`).
 *
 * The table is data. What an option *does* lives in the two appliers (cli/program.ts
 * for the command line, config/conf-parser.ts for the file), because the original gives
 * the same setting slightly different semantics in the two places (e.g. `-l` warns about
 * `-L`, the `logfile` statement does not).
 */
import type { Validator as IpNumValidator } from 'ip-num';

/** ip-num's validator, loaded when an address option is checked (start-up: issue 10). */
let validator: typeof IpNumValidator | null = null;
function ipNum(): typeof IpNumValidator {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (validator ??= (require('ip-num') as typeof import('ip-num')).Validator);
}
import { defaultFlags, type FlagName, type Profile, type Settings, type SyslogFormat, type SyslogServer } from './settings';
import { applyBanValue, BAN_DEFAULTS, defaultBanSettings, type BanSettingKey } from '../ban/config';
import { applyCrowdsecValue, CROWDSEC_DEFAULTS, type CrowdsecSettingKey } from '../ban/crowdsec';
import { parseNet } from '../ban/addr';
import { parseMetricsAddress } from '../metrics/address';
import { emptyLogSettings } from '../logs/rules';

/** How an option takes its value on the command line. */
export type OptionKind =
  /** boolean with an optional `=yes|true|no|false|toggle` (long form only; short = on) */
  | 'bool'
  /** no argument; switches a flag on (`-d`, `-o`, `-L`, `-N`) */
  | 'switch'
  /** required argument (`--user NAME`, `--user=NAME`, `-u NAME`, `-uNAME`) */
  | 'string'
  /** no argument; does something at once (`-k`, `-R`, `-v`, `-h`) */
  | 'action';

/** Settings fields a `string` option writes. */
export type SettingKey =
  | 'user'
  | 'group'
  | 'logfile'
  | 'pidFile'
  | 'facility'
  | 'priority'
  | 'interfaces'
  | 'promiscNets'
  | 'replayFile'
  | 'configFile'
  | 'profile'
  | 'dnsServers'
  | 'dnsTimeoutMs'
  | 'syslogSocket'
  | 'syslogServer'
  | 'syslogFormat'
  | 'jsonFile'
  | 'opLog'
  | 'home'
  | 'stateMemory'
  | 'hashSeed'
  | 'threads'
  | 'metrics'
  | 'controlGroup'
  | 'logReplay'
  | 'logYear'
  | BanSettingKey
  | CrowdsecSettingKey;

/** Settings fields a `bool` option added by this reimplementation writes. */
export type BoolSettingKey = 'quiet' | 'replayResolve';

export type ActionKey = 'kill' | 'restart' | 'version' | 'help' | 'testConfig';

export interface OptionSpec {
  /** long names, getopt style; [0] is the canonical one (used by commander and the docs) */
  readonly long: readonly string[];
  /** short letter, if any */
  readonly short?: string;
  /** the short letter exists only in this profile (`-q`: advertised by 2.2.3 but missing) */
  readonly shortOnlyIn?: Profile;
  /**
   * true: the letter has this meaning only with 2.2.3's command line (the compat profile
   * chosen explicitly, see originalCommandLine()); false: only without it. `-t` is
   * --detect-traceroute in the former, --test-config otherwise.
   */
  readonly shortOriginal?: boolean;
  readonly kind: OptionKind;
  /** the flag a bool/switch option drives */
  readonly flag?: FlagName;
  /** a bool option added here that drives a Settings field instead of a 2.2.3 flag */
  readonly boolSetting?: BoolSettingKey;
  /** the setting a string option writes */
  readonly setting?: SettingKey;
  readonly action?: ActionKey;
  /** `set <keyword> [true|false]` in iplog.conf */
  readonly setKeyword?: string;
  /** simple statement `<keyword> <value>` in iplog.conf */
  readonly statement?: string;
  /** the statement keyword is matched as a prefix (`interface`, `interfaces`, ...) */
  readonly statementPrefix?: boolean;
  /** what `[line N] Missing <missing>` names when the statement has no value */
  readonly missing?: string;
  /** placeholder of the argument in docs */
  readonly arg?: string;
  /** default as shown in docs; bool/switch defaults come from defaultFlags() */
  readonly defaultText?: string;
  /** value shown (commented out) in config/iplog.conf when there is no default to show */
  readonly example?: string;
  /** the option can be given several times and accumulates */
  readonly repeatable?: boolean;
  /** '2.2.3' = the original's option; '3' = added here (prefix matching prefers originals) */
  readonly origin: '2.2.3' | '3';
  /** inserted into getopt's long-option list after the `log-*` aliases (see longOptionOrder) */
  readonly afterAliases?: boolean;
  /** where `iplog -h` lists it (default and modern profiles) */
  readonly group: OptionGroup;
  /** one line for docs */
  readonly doc: string;
}

/** The sections of `iplog -h`, in order. */
export const OPTION_GROUPS = ['general', 'capture', 'output', 'detection', 'bans', 'daemon'] as const;
export type OptionGroup = (typeof OPTION_GROUPS)[number];

// Defaults of the string settings (spec §1.2/§1.3, and the new options).
export const DEFAULT_CONFIG_FILE = '/etc/iplog.conf';
export const DEFAULT_PID_FILE = '/var/run/iplog.pid';
export const DEFAULT_FACILITY = 3; // LOG_DAEMON
export const DEFAULT_PRIORITY = 5; // LOG_NOTICE
export const DEFAULT_DNS_TIMEOUT_MS = 1000;
export const DEFAULT_SYSLOG_SOCKET = '/dev/log';
export const DEFAULT_SYSLOG_FORMAT: SyslogFormat = 'rfc3164';
export const DEFAULT_SYSLOG_PORT = 514;
export const DEFAULT_PROFILE: Profile = 'modern';
export const PROFILES: readonly Profile[] = ['compat', 'modern'];

/**
 * The table, in the order of iplog 2.2.3's `longopts[]` (iplog_options.c), then the new
 * options. Aliased long names (`--detect-X` / `--log-X`) sit in one entry.
 */
export const OPTIONS: readonly OptionSpec[] = [
  { long: ['tcp'], group: 'capture', kind: 'bool', flag: 'tcp', setKeyword: 'tcp', origin: '2.2.3',
    doc: 'Log TCP traffic. Off also turns off the port, null, FIN and Xmas scan detectors.' },
  { long: ['udp'], group: 'capture', kind: 'bool', flag: 'udp', setKeyword: 'udp', origin: '2.2.3',
    doc: 'Log UDP traffic. Off also turns off UDP scan detection and --ignore.' },
  { long: ['icmp'], group: 'capture', kind: 'bool', flag: 'icmp', setKeyword: 'icmp', origin: '2.2.3',
    doc: 'Log ICMP traffic. Off also turns off ping flood detection.' },
  { long: ['facility'], group: 'output', kind: 'string', setting: 'facility', statement: 'facility',
    missing: 'syslog facility parameter', arg: 'FACILITY', defaultText: 'daemon', origin: '2.2.3',
    doc: 'Syslog facility: auth authpriv cron daemon ftp kern lpr mail news security syslog user uucp local0..local7 (case-insensitive, optional log_ prefix).' },
  { long: ['priority'], group: 'output', kind: 'string', setting: 'priority', statement: 'priority',
    missing: 'syslog priority parameter', arg: 'PRIORITY', defaultText: 'notice', origin: '2.2.3',
    doc: 'Syslog priority: emerg panic alert crit err error warning warn notice info debug (case-insensitive, optional log_ prefix).' },
  { long: ['pid-file'], group: 'daemon', kind: 'string', setting: 'pidFile', statement: 'pid-file',
    missing: 'pid file parameter', arg: 'FILE', defaultText: DEFAULT_PID_FILE, origin: '2.2.3',
    doc: 'Pid (lock) file. Give it before -k/-R, which act at once.' },
  { long: ['kill'], group: 'daemon', short: 'k', kind: 'action', action: 'kill', origin: '2.2.3',
    doc: 'Send SIGTERM to the running iplog (pid from the pid file) and exit.' },
  { long: ['user'], group: 'daemon', short: 'u', kind: 'string', setting: 'user', statement: 'user',
    missing: 'user parameter', arg: 'USER|UID', origin: '2.2.3',
    doc: 'Run as this user after opening the interfaces.' },
  { long: ['group'], group: 'daemon', short: 'g', kind: 'string', setting: 'group', statement: 'group',
    missing: 'group parameter', arg: 'GROUP|GID', origin: '2.2.3',
    doc: 'Run with this group (supplementary groups dropped).' },
  { long: ['ignore'], group: 'capture', short: 'd', kind: 'switch', flag: 'ignore_dns', setKeyword: 'ignore_dns', origin: '2.2.3',
    doc: 'Ignore DNS replies (UDP, source port 53) from the nameservers in /etc/resolv.conf.' },
  { long: ['restart'], group: 'daemon', short: 'R', kind: 'action', action: 'restart', origin: '2.2.3',
    doc: 'Send SIGHUP to the running iplog (re-read iplog.conf) and exit.' },
  { long: ['no-fork'], group: 'daemon', short: 'o', kind: 'switch', flag: 'no_fork', setKeyword: 'no_fork', origin: '2.2.3',
    doc: 'Run in the foreground (SIGINT then also exits cleanly).' },
  { long: ['stdout'], group: 'output', short: 'L', kind: 'switch', flag: 'stdout', setKeyword: 'stdout', origin: '2.2.3',
    doc: 'Log to stdout with timestamps (overrides an earlier --logfile).' },
  { long: ['promisc'], group: 'capture', short: 'a', kind: 'string', setting: 'promiscNets', statement: 'promisc',
    missing: 'network parameter', arg: 'NET[,NET...]', origin: '2.2.3',
    doc: 'Capture promiscuously for traffic to these networks (BPF syntax); also turns on --log-dest.' },
  { long: ['logfile'], group: 'output', short: 'l', kind: 'string', setting: 'logfile', statement: 'logfile',
    missing: 'log file parameter', arg: 'FILE', defaultText: '(syslog)', origin: '2.2.3',
    doc: 'Log to this file (appended) instead of syslog (overrides an earlier --stdout).' },
  { long: ['verbose'], group: 'output', short: 'V', kind: 'bool', flag: 'verbose', setKeyword: 'verbose', origin: '2.2.3',
    doc: 'Log short and bad-checksum IP packets.' },
  { long: ['log-ip'], group: 'output', short: 'w', kind: 'bool', flag: 'log_ip', setKeyword: 'log_ip', origin: '2.2.3',
    doc: 'Show hosts as "name (a.b.c.d)".' },
  { long: ['log-dest'], group: 'output', short: 'D', kind: 'bool', flag: 'log_dest', setKeyword: 'log_dest', origin: '2.2.3',
    doc: 'Add the destination host to each line.' },
  { long: ['fool-nmap'], group: 'detection', short: 'z', kind: 'bool', flag: 'fool_nmap', setKeyword: 'fool_nmap', origin: '2.2.3',
    doc: "Answer nmap's OS-detection probes with forged replies (needs a raw socket)." },
  { long: ['dns-cache'], group: 'output', short: 'c', kind: 'bool', flag: 'dns_cache', setKeyword: 'dns_cache', origin: '2.2.3',
    doc: 'Use the built-in reverse-DNS cache.' },
  { long: ['interface'], group: 'capture', short: 'i', kind: 'string', setting: 'interfaces', statement: 'interface',
    statementPrefix: true, missing: 'interface parameter', arg: 'IF[,IF...]',
    defaultText: '(all up, non-loopback)', origin: '2.2.3',
    doc: 'Listen on these interfaces only. In iplog.conf the keyword is matched as a prefix (interfaces works).' },
  { long: ['get-ident'], group: 'output', short: 'e', kind: 'bool', flag: 'get_ident', setKeyword: 'get_ident', origin: '2.2.3',
    doc: 'RFC 1413 ident lookups for connections to listening ports (Linux only; not with --promisc).' },
  { long: ['scans-only'], group: 'output', short: 'm', kind: 'bool', flag: 'scans_only', setKeyword: 'scans_only', origin: '2.2.3',
    doc: 'Log only detector lines (scans, floods, attacks).' },
  { long: ['tcp-resolve'], group: 'output', short: 'T', kind: 'bool', flag: 'tcp_resolve', setKeyword: 'tcp_resolve', origin: '2.2.3',
    doc: 'Reverse-resolve hosts in TCP lines.' },
  { long: ['udp-resolve'], group: 'output', short: 'U', kind: 'bool', flag: 'udp_resolve', setKeyword: 'udp_resolve', origin: '2.2.3',
    doc: 'Reverse-resolve hosts in UDP lines.' },
  { long: ['icmp-resolve'], group: 'output', short: 'I', kind: 'bool', flag: 'icmp_resolve', setKeyword: 'icmp_resolve', origin: '2.2.3',
    doc: 'Reverse-resolve hosts in ICMP lines.' },
  { long: ['disable-resolver'], group: 'output', short: 'N', kind: 'switch', flag: 'disable_resolver', setKeyword: 'disable_resolver', origin: '2.2.3',
    doc: 'No reverse DNS at all.' },
  { long: ['detect-syn-flood'], group: 'detection', short: 's', kind: 'bool', flag: 'syn_flood', setKeyword: 'syn_flood', origin: '2.2.3',
    doc: 'compat: stop resolving TCP hosts while a SYN flood goes on (iplog 2.2.3\'s global SYN counter; no line of its own); modern: report SYN floods per destination (all its ports), then per destination and port, `TCP: SYN flood detected to D [port N] from many sources` or `[ports a,b,...]` (or `from S` when one source sent 90 % of the SYNs), and write no connection-attempt line to that destination (or port) while the flood lasts (docs/detectors.md).' },
  { long: ['detect-frag', 'log-frag'], group: 'detection', short: 'y', kind: 'bool', flag: 'frag', setKeyword: 'frag', origin: '2.2.3',
    doc: 'Log fragment attacks.' },
  { long: ['detect-smurf', 'log-smurf'], group: 'detection', short: 'S', kind: 'bool', flag: 'smurf', setKeyword: 'smurf', origin: '2.2.3',
    doc: 'Detect smurf attacks.' },
  { long: ['detect-bogus', 'log-bogus'], group: 'detection', short: 'b', kind: 'bool', flag: 'bogus', setKeyword: 'bogus', origin: '2.2.3',
    doc: 'Log bogus TCP flags.' },
  { long: ['detect-portscan', 'log-portscan'], group: 'detection', short: 'p', kind: 'bool', flag: 'portscan', setKeyword: 'portscan', origin: '2.2.3',
    doc: 'Detect TCP port scans.' },
  { long: ['detect-udp-scan', 'log-udp-scan'], group: 'detection', short: 'F', kind: 'bool', flag: 'udp_scan', setKeyword: 'udp_scan', origin: '2.2.3',
    doc: 'Detect UDP scans and floods.' },
  { long: ['detect-ping-flood', 'log-ping-flood'], group: 'detection', short: 'P', kind: 'bool', flag: 'ping_flood', setKeyword: 'ping_flood', origin: '2.2.3',
    doc: 'Detect ICMP ping floods.' },
  { long: ['detect-fin-scan', 'log-fin-scan'], group: 'detection', short: 'f', kind: 'bool', flag: 'fin_scan', setKeyword: 'fin_scan', origin: '2.2.3',
    doc: 'Detect FIN scans.' },
  { long: ['detect-syn-scan', 'log-syn-scan'], group: 'detection', short: 'q', shortOnlyIn: 'modern', kind: 'bool', flag: 'syn_scan',
    setKeyword: 'syn_scan', origin: '2.2.3',
    doc: 'Detect SYN (half-open) scans. -q works only in the modern profile (2.2.3 advertised it but rejected it).' },
  { long: ['detect-xmas-scan', 'log-xmas-scan'], group: 'detection', short: 'x', kind: 'bool', flag: 'xmas_scan', setKeyword: 'xmas_scan', origin: '2.2.3',
    doc: 'Detect Xmas scans.' },
  { long: ['detect-null-scan', 'log-null-scan'], group: 'detection', short: 'n', kind: 'bool', flag: 'null_scan', setKeyword: 'null_scan', origin: '2.2.3',
    doc: 'Detect null scans.' },
  { long: ['detect-traceroute', 'log-traceroute'], group: 'detection', short: 't', shortOriginal: true, kind: 'bool', flag: 'traceroute', setKeyword: 'traceroute', origin: '2.2.3',
    doc: 'Log UDP traceroutes.' },
  { long: ['version'], group: 'general', short: 'v', kind: 'action', action: 'version', origin: '2.2.3', afterAliases: true,
    doc: 'Print the version and exit (with --profile compat: iplog 2.2.3\'s text).' },
  { long: ['help'], group: 'general', short: 'h', kind: 'action', action: 'help', origin: '2.2.3',
    doc: 'Print this help and exit (with --profile compat: iplog 2.2.3\'s text, where "*" marks what is on at that point).' },
  // ---- added by this reimplementation ----
  { long: ['read'], group: 'capture', short: 'r', kind: 'string', setting: 'replayFile', arg: 'FILE', origin: '3',
    doc: 'Replay pcap/pcapng captures instead of listening: FILE, then any further files and directories (a directory: its capture files, by name) in the order given, on one packet clock; "-" = stdin (alone). Progress on a terminal, a summary at the end (standard error).' },
  { long: ['test-config'], group: 'general', short: 't', shortOriginal: false, kind: 'action', action: 'testConfig', origin: '3',
    doc: 'Check the command line and the configuration file, print every problem on standard error (FILE:LINE: message), exit 1 if there is any, else print one OK line and exit 0. -t is --detect-traceroute when --profile compat is given (2.2.3\'s letter).' },
  { long: ['quiet'], group: 'output', kind: 'bool', boolSetting: 'quiet', origin: '3',
    doc: 'Replay: no progress line and no end-of-run summary on standard error (errors are still reported). -q is --detect-syn-scan, as in 2.2.3.' },
  { long: ['resolve'], group: 'output', kind: 'bool', boolSetting: 'replayResolve', defaultText: 'compat: on, modern: off', origin: '3',
    doc: 'Replay: reverse-resolve addresses. The modern profile does not by default, so that analysing a capture sends no PTR query to the reverse zones of its addresses (an attacker\'s); the compat profile does, as 2.2.3. Live runs resolve as configured.' },
  { long: ['config'], group: 'general', kind: 'string', setting: 'configFile', arg: 'FILE', defaultText: DEFAULT_CONFIG_FILE, origin: '3',
    doc: 'Read this configuration file instead of /etc/iplog.conf (command line only; it must exist).' },
  { long: ['profile'], group: 'general', kind: 'string', setting: 'profile', statement: 'profile', setKeyword: 'profile', missing: 'profile parameter',
    arg: 'compat|modern', defaultText: DEFAULT_PROFILE, origin: '3',
    doc: 'modern (the default): judge outcomes, not packets: roles and both directions, Threshold Random Walk scan detection, RFC flag judgement, sweeps, floods and traceroutes, evidence grades (docs/detectors.md); compat: behave like iplog 2.2.3 byte for byte, its command line included (docs/compat.md).' },
  { long: ['dns-server'], group: 'output', kind: 'string', setting: 'dnsServers', statement: 'dns_server', missing: 'DNS server parameter',
    arg: 'ADDR[,ADDR...]', defaultText: '(nameservers of /etc/resolv.conf)', repeatable: true, origin: '3',
    doc: 'Reverse-DNS servers (IPv4 or IPv6, optional :port or [v6]:port); repeatable, or a comma list.' },
  { long: ['dns-timeout'], group: 'output', kind: 'string', setting: 'dnsTimeoutMs', statement: 'dns_timeout', missing: 'DNS timeout parameter',
    arg: 'MS', defaultText: String(DEFAULT_DNS_TIMEOUT_MS), origin: '3',
    doc: 'Timeout of one reverse lookup, in milliseconds.' },
  { long: ['syslog-socket'], group: 'output', kind: 'string', setting: 'syslogSocket', statement: 'syslog_socket', missing: 'syslog socket parameter',
    arg: 'PATH', defaultText: DEFAULT_SYSLOG_SOCKET, origin: '3',
    doc: 'Local syslog socket (a unix datagram socket). Giving it makes syslog the output in replay mode too; live mode logs to /dev/log anyway unless -l or -L is given.' },
  { long: ['syslog-server'], group: 'output', kind: 'string', setting: 'syslogServer', statement: 'syslog_server', missing: 'syslog server parameter',
    arg: 'udp|tcp://HOST[:PORT]', defaultText: '(none)', origin: '3',
    doc: 'Send the lines to a remote syslog server instead of the local socket (port 514 by default; IPv6 as [ADDR]). -l and -L still win.' },
  { long: ['syslog-format'], group: 'output', kind: 'string', setting: 'syslogFormat', statement: 'syslog_format', missing: 'syslog format parameter',
    arg: 'rfc3164|rfc5424', defaultText: DEFAULT_SYSLOG_FORMAT, origin: '3',
    doc: 'Message format for --syslog-server (TCP framing: LF after rfc3164, octet counting for rfc5424). The local socket always gets the glibc syslog() form.' },
  { long: ['json'], group: 'output', kind: 'string', setting: 'jsonFile', statement: 'json', missing: 'JSON file parameter',
    arg: 'FILE|-', defaultText: '(none)', origin: '3',
    doc: 'Also write every event as one JSON object per line (docs/json-events.md) to FILE (appended), or to stdout with "-"; stdout then carries only JSON (the text lines go to -l FILE or syslog, or nowhere in a replay), and -L together with "-" is an error.' },
  { long: ['op-log'], group: 'daemon', kind: 'string', setting: 'opLog', statement: 'op_log', missing: 'operational log parameter',
    arg: 'FILE', defaultText: '(standard error)', origin: '3',
    doc: 'Write the operational log (JSON lines: start, configuration, capture statistics at exit and on SIGUSR1, errors; never the iplog lines) to FILE (appended) instead of standard error, which a daemon has closed. Level: IPLOG_LOG_LEVEL (default info live, warn in a replay).' },
  { long: ['metrics'], group: 'daemon', kind: 'string', setting: 'metrics', statement: 'metrics', missing: 'metrics address parameter',
    arg: 'HOST:PORT', defaultText: '(off: no listener)', example: '127.0.0.1:9108', origin: '3',
    doc: 'Serve Prometheus metrics (text format, GET /metrics) on HOST:PORT, e.g. 127.0.0.1:9108 (live sensor; docs/operations.md). Off unless given; keep it on loopback or a management network: the counters tell what is watched.' },
  { long: ['state-memory'], group: 'detection', kind: 'string', setting: 'stateMemory', statement: 'state_memory', setKeyword: 'state_memory', missing: 'state memory parameter',
    arg: 'SIZE', defaultText: '48M', origin: '3',
    doc: 'Modern profile: memory for the detection tables (contacts, sources, the flood sieve), fixed at start: bytes, or with K, M or G. Full tables evict the least recently active entries, keeping those that hold evidence (docs/detectors.md).' },
  { long: ['hash-seed'], group: 'detection', kind: 'string', setting: 'hashSeed', statement: 'hash_seed', setKeyword: 'hash_seed', missing: 'hash seed parameter',
    arg: 'N', defaultText: '(random live; 1 in a replay)', origin: '3',
    doc: 'Modern profile: the seed of the detection tables\' keyed hash (0..4294967295). No line depends on it; a random seed keeps attackers from aiming keys at one hash chain.' },
  { long: ['threads'], group: 'general', kind: 'string', setting: 'threads', statement: 'threads', setKeyword: 'threads', missing: 'threads parameter',
    arg: 'N', defaultText: '1', origin: '3',
    doc: 'Threads for replaying a capture file: 2 reads and frames the file in a worker thread while the main thread decodes, detects and writes (same output); 1 keeps everything on one thread. Never more than the cores available; files under 4 MiB always use one. Measured slower than one thread even on two free cores (0.92x), so not recommended (docs/benchmarks.md, "Two-stage replay").' },
  // ---- active response (src/ban/, docs/ban-backends.md) ----
  { long: ['home'], group: 'bans', kind: 'string', setting: 'home', statement: 'home_net', setKeyword: 'home_net', missing: 'home network parameter',
    arg: 'NET[,...]', defaultText: '(live: the host\'s own addresses; replay: none)', repeatable: true, origin: '3',
    doc: 'The networks this sensor protects (IPv4/IPv6 ADDR or ADDR/LEN); repeatable. Never banned; in a replay of a capture file they and --ban-allow are the whole allowlist, since the replaying machine\'s own addresses say nothing about the capture.' },
  { long: ['ban-backend'], group: 'bans', kind: 'string', setting: 'banBackend', statement: 'ban_backend', missing: 'ban backend parameter',
    arg: 'NAME', defaultText: BAN_DEFAULTS.backend, origin: '3',
    doc: 'Ban offenders in the firewall: nftables, ipset, iptables, pf, ipfw, command, dry-run (decide and record, run nothing), crowdsec (push to CrowdSec\'s Local API, docs/fleet.md), or none (docs/ban-backends.md).' },
  { long: ['ban-time'], group: 'bans', kind: 'string', setting: 'banTime', statement: 'ban_time', missing: 'ban time parameter',
    arg: 'DURATION', defaultText: String(BAN_DEFAULTS.timeSec), origin: '3',
    doc: 'Duration of a first ban, in seconds (or with a unit: 90s, 10m, 1h, 7d, 2w).' },
  { long: ['ban-max-time'], group: 'bans', kind: 'string', setting: 'banMaxTime', statement: 'ban_max_time', missing: 'ban max time parameter',
    arg: 'DURATION', defaultText: String(BAN_DEFAULTS.maxTimeSec), origin: '3',
    doc: 'Longest ban: repeat offences multiply the ban time by --ban-factor up to this.' },
  { long: ['ban-factor'], group: 'bans', kind: 'string', setting: 'banFactor', statement: 'ban_factor', missing: 'ban factor parameter',
    arg: 'N', defaultText: String(BAN_DEFAULTS.factor), origin: '3',
    doc: 'Ban time multiplier per earlier offence of the same address (1 = no growth).' },
  { long: ['ban-threshold'], group: 'bans', kind: 'string', setting: 'banThreshold', statement: 'ban_threshold', missing: 'ban threshold parameter',
    arg: 'N', defaultText: String(BAN_DEFAULTS.threshold), origin: '3',
    doc: 'Score at which a source is banned (its weighted events within --ban-window add up).' },
  { long: ['ban-window'], group: 'bans', kind: 'string', setting: 'banWindow', statement: 'ban_window', missing: 'ban window parameter',
    arg: 'DURATION', defaultText: String(BAN_DEFAULTS.windowSec), origin: '3',
    doc: 'Sliding window of packet time over which a source\'s score adds up.' },
  { long: ['ban-weight'], group: 'bans', kind: 'string', setting: 'banWeight', statement: 'ban_weight', missing: 'ban weight parameter',
    arg: 'KIND=N[,...]', defaultText: '(scans and ping flood 10, others 0)', repeatable: true, origin: '3',
    doc: 'Score of one event, by detector name (syn-scan, udp-scan, ...) or event kind (tcp.bogus_flags, frag.overlap, udp.traceroute, ...); repeatable. Smurf sources cannot be banned.' },
  { long: ['ban-allow'], group: 'bans', kind: 'string', setting: 'banAllow', statement: 'ban_allow', missing: 'ban allowlist parameter',
    arg: 'ADDR|NET[,...]', defaultText: '(own addresses, loopback, gateways, resolvers)', repeatable: true, origin: '3',
    doc: 'Never ban these IPv4/IPv6 addresses or networks (ADDR/LEN); repeatable, adds to the built-in allowlist.' },
  { long: ['ban-budget'], group: 'bans', kind: 'string', setting: 'banBudget', statement: 'ban_budget', missing: 'ban budget parameter',
    arg: 'N', defaultText: String(BAN_DEFAULTS.budget), origin: '3',
    doc: 'At most N new bans per minute; beyond it iplog refuses to ban and says so once.' },
  { long: ['ban-prefix-budget'], group: 'bans', kind: 'string', setting: 'banPrefixBudget', statement: 'ban_prefix_budget', missing: 'ban prefix budget parameter',
    arg: 'N', defaultText: String(BAN_DEFAULTS.prefixBudget), origin: '3',
    doc: 'At most N new bans per minute in one /24 (IPv4) or /48 (IPv6), within --ban-budget (the default equals the default global budget: lower it to spread the budget over networks); the refused are decided again when the budgets allow, while their evidence is in the window.' },
  { long: ['ban-state'], group: 'bans', kind: 'string', setting: 'banState', statement: 'ban_state', missing: 'ban state parameter',
    arg: 'FILE', defaultText: BAN_DEFAULTS.stateFile, origin: '3',
    doc: 'Where the ban table is kept across restarts (written atomically; not used by dry-run).' },
  { long: ['ban-param'], group: 'bans', kind: 'string', setting: 'banParam', statement: 'ban_param', missing: 'ban backend parameter',
    arg: 'NAME=VALUE', defaultText: '(backend defaults)', repeatable: true, origin: '3',
    doc: 'A backend parameter (table, set and chain names, hooks, command templates; docs/ban-backends.md); repeatable.' },
  { long: ['ban-resync'], group: 'bans', kind: 'string', setting: 'banResync', statement: 'ban_resync', missing: 'ban resync parameter',
    arg: 'DURATION', defaultText: String(BAN_DEFAULTS.resyncSec), origin: '3',
    doc: 'How often the firewall is compared with the ban table and repaired (0 = only at start).' },
  { long: ['ban-conntrack'], group: 'bans', kind: 'string', setting: 'banConntrack', statement: 'ban_conntrack', missing: 'ban conntrack parameter',
    arg: 'yes|no', defaultText: 'yes', origin: '3',
    doc: 'After a ban, delete the banned source\'s connection tracking entries (Linux: conntrack -D -s ADDR, package conntrack) so that its established connections end instead of going on through an established-accept rule; failures are counted, never fatal.' },
  { long: ['control-group'], group: 'bans', kind: 'string', setting: 'controlGroup', statement: 'control_group', missing: 'control group parameter',
    arg: 'GROUP', defaultText: '(root only)', origin: '3',
    doc: 'The ban control socket beside the pid file (iplog bans list|show|add|del|allow; live sensor with banning on; never a network listener) is 0600 and root\'s; with GROUP it is 0660 and that group may use it too.' },
  { long: ['ban-evidence'], group: 'bans', kind: 'string', setting: 'banEvidence', statement: 'ban_evidence', setKeyword: 'ban_evidence', missing: 'ban evidence parameter',
    arg: 'proven|protected|any', defaultText: BAN_DEFAULTS.evidence, origin: '3',
    doc: 'What spoofable evidence may do (docs/ban-backends.md "Evidence"): proven = only proven evidence bans (a connect-probe handshake, log evidence); protected = spoofable evidence bans too, but never an address of the clientele or of a decoy group, for --ban-protected-time, without escalation; any = every crossing bans alike. Reflector and aggregate evidence never bans.' },
  { long: ['ban-protected-time'], group: 'bans', kind: 'string', setting: 'banProtectedTime', statement: 'ban_protected_time', setKeyword: 'ban_protected_time', missing: 'ban protected time parameter',
    arg: 'DURATION', defaultText: String(BAN_DEFAULTS.protectedSec), origin: '3',
    doc: 'Duration of a protected ban (spoofable evidence under --ban-evidence protected); never longer than --ban-time, never escalated.' },
  { long: ['ban-prefix-offenders'], group: 'bans', kind: 'string', setting: 'banPrefixOffenders', statement: 'ban_prefix_offenders', missing: 'ban prefix offenders parameter',
    arg: 'N', defaultText: String(BAN_DEFAULTS.prefixOffenders), origin: '3',
    doc: 'Adaptive IPv6 prefixes (docs/ban-backends.md): when N offenders of one /64 are banned within --ban-window, the /64 is banned instead of them, and N /64s of one /48 make the /48; never a prefix holding a protected address, never from protected (spoofable) bans; 0 = never.' },
  // ---- fleet bans through CrowdSec's Local API (src/ban/crowdsec.ts, decision-stream.ts, docs/fleet.md) ----
  { long: ['crowdsec-url'], group: 'bans', kind: 'string', setting: 'crowdsecUrl', statement: 'crowdsec_url', missing: 'CrowdSec LAPI URL parameter',
    arg: 'URL', defaultText: CROWDSEC_DEFAULTS.url, origin: '3',
    doc: 'CrowdSec Local API for the crowdsec ban backend and the decision stream (docs/fleet.md).' },
  { long: ['crowdsec-machine'], group: 'bans', kind: 'string', setting: 'crowdsecMachine', statement: 'crowdsec_machine', missing: 'CrowdSec machine parameter',
    arg: 'ID', defaultText: '(none)', origin: '3',
    doc: 'Machine (watcher) name the crowdsec ban backend logs in as (`cscli machines add ID`).' },
  { long: ['crowdsec-password-file'], group: 'bans', kind: 'string', setting: 'crowdsecPasswordFile', statement: 'crowdsec_password_file', missing: 'CrowdSec password file parameter',
    arg: 'FILE', defaultText: '(none)', origin: '3',
    doc: 'File whose first line is the machine\'s password (a file, so it never shows in ps).' },
  { long: ['crowdsec-bouncer-key-file'], group: 'bans', kind: 'string', setting: 'crowdsecBouncerKeyFile', statement: 'crowdsec_bouncer_key_file', missing: 'CrowdSec bouncer key file parameter',
    arg: 'FILE', defaultText: '(none: no stream)', origin: '3',
    doc: 'File whose first line is a bouncer API key (`cscli bouncers add NAME`): iplog then applies the fleet\'s decisions to its own ban backend.' },
  { long: ['crowdsec-poll'], group: 'bans', kind: 'string', setting: 'crowdsecPoll', statement: 'crowdsec_poll', missing: 'CrowdSec poll interval parameter',
    arg: 'DURATION', defaultText: `${CROWDSEC_DEFAULTS.pollSec}s`, origin: '3',
    doc: 'How often the decision stream is polled (1s to 1h).' },
  { long: ['crowdsec-origins'], group: 'bans', kind: 'string', setting: 'crowdsecOrigins', statement: 'crowdsec_origins', missing: 'CrowdSec origins parameter',
    arg: 'LIST|all', defaultText: CROWDSEC_DEFAULTS.origins, origin: '3',
    doc: 'Origins of the fleet decisions the stream applies (comma list; all = every origin, community blocklists included).' },
  // ---- log rules (src/logs/, docs/log-rules.md); rules and sources are log_* statements of iplog.conf ----
  { long: ['log-replay'], group: 'capture', kind: 'string', setting: 'logReplay', arg: 'FILE', defaultText: '(none)', repeatable: true, origin: '3',
    doc: 'Run the log rules over this log file (syslog file, web server log, or `journalctl -o json` output); repeatable. With -r, merged with the capture by time; use --ban-backend dry-run to see what would have been banned (docs/log-rules.md).' },
  { long: ['log-year'], group: 'capture', kind: 'string', setting: 'logYear', arg: 'YEAR', defaultText: '(from the file\'s mtime)', origin: '3',
    doc: 'Year of the first line of a replayed syslog file, whose stamps have none (docs/log-rules.md "Years").' },
];

/** One getopt `struct option`: a long name and the spec it belongs to. */
export interface LongOption {
  readonly name: string;
  readonly spec: OptionSpec;
  /** 0 no_argument, 1 required_argument, 2 optional_argument */
  readonly hasArg: 0 | 1 | 2;
}

export function hasArgOf(spec: OptionSpec): 0 | 1 | 2 {
  return spec.kind === 'string' ? 1 : spec.kind === 'bool' ? 2 : 0;
}

/**
 * getopt's long-option list in the original's order: every canonical name in table
 * order, with the `log-*` aliases inserted before `version` (where 2.2.3 lists them).
 */
export function longOptionOrder(): LongOption[] {
  const out: LongOption[] = [];
  const aliases: LongOption[] = [];
  for (const spec of OPTIONS) {
    if (spec.afterAliases) out.push(...aliases.splice(0));
    out.push({ name: spec.long[0], spec, hasArg: hasArgOf(spec) });
    for (const alias of spec.long.slice(1)) aliases.push({ name: alias, spec, hasArg: hasArgOf(spec) });
  }
  out.push(...aliases);
  return out;
}

/** Is `spec`'s short letter there for this profile and command-line style? */
function letterAvailable(spec: OptionSpec, profile: Profile, original: boolean): boolean {
  if (spec.short === undefined) return false;
  if (spec.shortOnlyIn !== undefined && spec.shortOnlyIn !== profile) return false;
  if (spec.shortOriginal !== undefined && spec.shortOriginal !== original) return false;
  return true;
}

/**
 * getopt's short-option string for a profile: letters in the original's order
 * (`DFILNPRSTUVa:bcdefg:hi:kl:mnopstu:vwxyz` for 2.2.3), sorted like it (ASCII).
 * `original`: 2.2.3's command line (default: for the compat profile).
 */
export function shortOptionString(profile: Profile, original = profile === 'compat'): string {
  const specs = OPTIONS.filter((s) => letterAvailable(s, profile, original)).sort((a, b) => (a.short! < b.short! ? -1 : a.short! > b.short! ? 1 : 0));
  return specs.map((s) => (hasArgOf(s) === 1 ? `${s.short}:` : s.short)).join('');
}

/**
 * The spec for a short letter, or undefined (getopt: "invalid option"). `original`:
 * 2.2.3's command line, where `-t` is --detect-traceroute (default: for the compat
 * profile; cli/program.ts passes originalCommandLine()).
 */
export function findShort(c: string, profile: Profile, original = profile === 'compat'): OptionSpec | undefined {
  return OPTIONS.find((s) => s.short === c && letterAvailable(s, profile, original));
}

/** Lower-case ASCII letters only, like strcasecmp() in the C locale. */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** `set` keyword → flag (lower case keys; keywords are case-insensitive). */
export const SET_KEYWORDS: ReadonlyMap<string, FlagName> = new Map(
  OPTIONS.filter((s) => s.setKeyword !== undefined && s.flag !== undefined).map((s) => [s.setKeyword as string, s.flag as FlagName]),
);

/** `set` keyword with a value (`set threads 2`) → its option (lower case keys). */
export const SET_VALUE_KEYWORDS: ReadonlyMap<string, OptionSpec> = new Map(
  OPTIONS.filter((s) => s.setKeyword !== undefined && s.setting !== undefined).map((s) => [s.setKeyword as string, s]),
);

/** Simple statements of iplog.conf, in the original's matching order (spec §2.3). */
export const STATEMENTS: readonly OptionSpec[] = OPTIONS.filter((s) => s.statement !== undefined);

/** The statement a (case-insensitive) first token names, if any. */
export function findStatement(token: string): OptionSpec | undefined {
  const t = asciiLower(token);
  for (const s of STATEMENTS) {
    const kw = s.statement as string;
    if (s.statementPrefix ? t.startsWith(kw) : t === kw) return s;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Values shared by the command line and iplog.conf.

/** Settings with every default (spec §1.3 flag word, §1.2 defaults). */
export function defaultSettings(): Settings {
  return {
    profile: DEFAULT_PROFILE,
    flags: defaultFlags(),
    pidFile: DEFAULT_PID_FILE,
    facility: DEFAULT_FACILITY,
    priority: DEFAULT_PRIORITY,
    configFile: DEFAULT_CONFIG_FILE,
    rules: { tcp: [], udp: [], icmp: [] },
    dnsTimeoutMs: DEFAULT_DNS_TIMEOUT_MS,
    syslogFormat: DEFAULT_SYSLOG_FORMAT,
  };
}

/** syslog(3) facility codes (not shifted), iplog_options.c:get_facility(). */
export const FACILITIES: ReadonlyMap<string, number> = new Map([
  ['auth', 4], ['authpriv', 10], ['cron', 9], ['daemon', 3], ['ftp', 11], ['kern', 0],
  ['lpr', 6], ['mail', 2], ['news', 7], ['security', 4], ['syslog', 5], ['user', 1], ['uucp', 8],
  ['local0', 16], ['local1', 17], ['local2', 18], ['local3', 19],
  ['local4', 20], ['local5', 21], ['local6', 22], ['local7', 23],
]);

/** syslog(3) priorities, iplog_options.c:get_priority(). */
export const PRIORITIES: ReadonlyMap<string, number> = new Map([
  ['alert', 1], ['crit', 2], ['debug', 7], ['emerg', 0], ['err', 3], ['error', 3],
  ['info', 6], ['notice', 5], ['panic', 0], ['warn', 4], ['warning', 4],
]);

/** Strip an optional, case-insensitive `log_` prefix, as the original does before both lookups. */
function stripLogPrefix(name: string): string {
  return asciiLower(name.slice(0, 4)) === 'log_' ? name.slice(4) : name;
}

/**
 * Facility by name. An unknown name is reported and gives the *default* (not the previous
 * value), and the report shows the name without its `log_` prefix, like the original.
 */
export function parseFacility(name: string, diag: (msg: string) => void): number {
  const bare = stripLogPrefix(name);
  const code = FACILITIES.get(asciiLower(bare));
  if (code !== undefined) return code;
  diag(`Invalid facility: "${bare}" - falling back to default.`);
  return DEFAULT_FACILITY;
}

/** Priority by name; same rules as parseFacility(). */
export function parsePriority(name: string, diag: (msg: string) => void): number {
  const bare = stripLogPrefix(name);
  const code = PRIORITIES.get(asciiLower(bare));
  if (code !== undefined) return code;
  diag(`Invalid priority: "${bare}" - falling back to default.`);
  return DEFAULT_PRIORITY;
}

/** A comma list as strtok(",") splits it: empty items vanish. */
export function splitList(text: string): string[] {
  return text.split(',').filter((s) => s !== '');
}

/** What was wrong with a value given to applyValue(); each caller words it its own way. */
export type ValueError = { kind: 'profile' | 'dnsServer' | 'dnsTimeout' | 'syslogSocket' | 'syslogServer' | 'syslogFormat' | 'ban' | 'metrics' | 'log'; text: string };

/**
 * Apply the value of a string option or statement, the same way from the command line and
 * from iplog.conf. `warn` receives iplog's non-fatal messages (unknown facility/priority).
 * An invalid value changes nothing and is returned for the caller to report (a fatal error
 * on the command line, a `[line N]` diagnostic in the file). What differs by source stays
 * with the callers: the -L/-l override warning, and how repeated DNS servers accumulate
 * (`dnsServers` is returned as the validated list in `list`, not stored).
 */
export function applyValue(
  settings: Settings,
  setting: SettingKey,
  value: string,
  warn: (msg: string) => void,
): { error?: ValueError; list?: string[] } {
  switch (setting) {
    case 'user':
      settings.user = value;
      break;
    case 'group':
      settings.group = value;
      break;
    case 'pidFile':
      settings.pidFile = value;
      break;
    case 'logfile':
      settings.logfile = value;
      break;
    case 'facility':
      settings.facility = parseFacility(value, warn);
      break;
    case 'priority':
      settings.priority = parsePriority(value, warn);
      break;
    case 'interfaces':
      settings.interfaces = splitList(value);
      break;
    case 'promiscNets':
      // -a turns on promiscuous capture and destination logging (spec §1.2)
      settings.flags.promisc = true;
      settings.flags.log_dest = true;
      settings.promiscNets = splitList(value);
      settings.promiscOrigin = undefined;
      break;
    case 'replayFile':
      settings.replayFile = value;
      break;
    case 'configFile':
      // read before everything else (the command line is pre-scanned for it)
      break;
    case 'profile': {
      const p = parseProfile(value);
      if (p === undefined) return { error: { kind: 'profile', text: value } };
      settings.profile = p;
      settings.profileGiven = true;
      break;
    }
    case 'dnsServers': {
      const list = splitList(value);
      const bad = list.find((s) => !isValidDnsServer(s));
      if (bad !== undefined || list.length === 0) return { error: { kind: 'dnsServer', text: bad ?? value } };
      return { list };
    }
    case 'dnsTimeoutMs': {
      const ms = parseDnsTimeout(value);
      if (ms === undefined) return { error: { kind: 'dnsTimeout', text: value } };
      settings.dnsTimeoutMs = ms;
      break;
    }
    case 'syslogSocket':
      if (!isValidSocketPath(value)) return { error: { kind: 'syslogSocket', text: value } };
      settings.syslogSocket = value;
      break;
    case 'syslogServer': {
      const server = parseSyslogServer(value);
      if (server === undefined) return { error: { kind: 'syslogServer', text: value } };
      settings.syslogServer = server;
      break;
    }
    case 'syslogFormat': {
      const f = asciiLower(value);
      if (f !== 'rfc3164' && f !== 'rfc5424') return { error: { kind: 'syslogFormat', text: value } };
      settings.syslogFormat = f;
      break;
    }
    case 'jsonFile':
      // `-` is standard output (output/sinks/json.ts openOutputs())
      settings.jsonFile = value;
      break;
    case 'opLog':
      settings.opLog = value;
      break;
    case 'home': {
      const list = splitList(value);
      const bad = list.find((t) => parseNet(t) === undefined);
      if (bad !== undefined || list.length === 0) return { error: { kind: 'ban', text: `Invalid home network: "${bad ?? value}" (an IPv4 or IPv6 address or ADDR/LEN network)` } };
      settings.home = [...(settings.home ?? []), ...list];
      break;
    }
    case 'stateMemory': {
      const m = /^(\d+)([kKmMgG]?)$/.exec(value.trim());
      const n = m ? Number(m[1]) * (m[2] === '' ? 1 : 1024 ** ('kmg'.indexOf(m[2]!.toLowerCase()) + 1)) : NaN;
      if (!(n >= 1024 * 1024 && n <= 64 * 1024 ** 3)) return { error: { kind: 'ban', text: `Invalid state memory: "${value}" (1M to 64G, e.g. 48M)` } };
      settings.stateMemory = n;
      break;
    }
    case 'threads': {
      const t = value.trim();
      if (t !== '1' && t !== '2') return { error: { kind: 'ban', text: `Invalid threads: "${value}" (1 or 2)` } };
      settings.threads = Number(t);
      break;
    }
    case 'hashSeed': {
      const t = value.trim();
      if (!/^\d{1,10}$/.test(t) || Number(t) > 0xffffffff) return { error: { kind: 'ban', text: `Invalid hash seed: "${value}" (0 to 4294967295)` } };
      settings.hashSeed = Number(t);
      break;
    }
    case 'metrics': {
      const a = parseMetricsAddress(value);
      if (a === undefined) return { error: { kind: 'metrics', text: value } };
      settings.metrics = a;
      break;
    }
    case 'controlGroup':
      if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\$?$/.test(value)) return { error: { kind: 'ban', text: `Invalid control group: "${value}" (a group name or number)` } };
      settings.controlGroup = value;
      break;
    case 'logReplay':
      if (value === '' || value.includes('\0')) return { error: { kind: 'log', text: `Invalid log file: "${value}"` } };
      (settings.logs ??= emptyLogSettings()).replay.push(value);
      break;
    case 'logYear':
      if (!/^\d{4}$/.test(value) || Number(value) < 1970) return { error: { kind: 'log', text: `Invalid log year: "${value}" (four digits, 1970 or later)` } };
      (settings.logs ??= emptyLogSettings()).year = Number(value);
      break;
    case 'banBackend':
    case 'banTime':
    case 'banMaxTime':
    case 'banFactor':
    case 'banThreshold':
    case 'banWindow':
    case 'banWeight':
    case 'banAllow':
    case 'banBudget':
    case 'banPrefixBudget':
    case 'banState':
    case 'banParam':
    case 'banResync':
    case 'banConntrack':
    case 'banEvidence':
    case 'banProtectedTime':
    case 'banPrefixOffenders': {
      const problem = applyBanValue(settings, setting, value);
      if (problem !== undefined) return { error: { kind: 'ban', text: problem } };
      break;
    }
    case 'crowdsecUrl':
    case 'crowdsecMachine':
    case 'crowdsecPasswordFile':
    case 'crowdsecBouncerKeyFile':
    case 'crowdsecPoll':
    case 'crowdsecOrigins': {
      const b = (settings.ban ??= defaultBanSettings());
      const problem = applyCrowdsecValue((b.crowdsec ??= { ...CROWDSEC_DEFAULTS }), setting, value);
      if (problem !== undefined) return { error: { kind: 'ban', text: problem } };
      break;
    }
  }
  return {};
}

/** `compat` / `modern`, case-insensitive; undefined if neither. */
export function parseProfile(text: string): Profile | undefined {
  const t = asciiLower(text);
  return t === 'compat' || t === 'modern' ? t : undefined;
}

/**
 * One DNS server: `a.b.c.d`, `a.b.c.d:port`, an IPv6 address, or `[v6]:port` (the forms
 * node's dns.Resolver#setServers takes). Validated with ip-num (config time only).
 */
export function isValidDnsServer(text: string): boolean {
  let host = text;
  let port: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) {
    host = bracket[1];
    port = bracket[2];
    if (!ipNum().isValidIPv6String(host)[0]) return false;
  } else if (/^[0-9.]+:\d+$/.test(text)) {
    const i = text.lastIndexOf(':');
    host = text.slice(0, i);
    port = text.slice(i + 1);
    if (!ipNum().isValidIPv4String(host)[0]) return false;
  } else if (!ipNum().isValidIPv4String(host)[0] && !(host.includes(':') && ipNum().isValidIPv6String(host)[0])) {
    return false;
  }
  if (port !== undefined) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) return false;
  }
  return true;
}

/** A unix socket path fits sockaddr_un.sun_path (107 bytes and the NUL). */
export function isValidSocketPath(text: string): boolean {
  return text.length > 0 && Buffer.byteLength(text) <= 107 && !text.includes('\0');
}

/**
 * `udp://HOST[:PORT]` or `tcp://HOST[:PORT]` (scheme case-insensitive, port 514 by
 * default). HOST is a dotted quad, `[IPv6]`, or a DNS name (letters, digits, `-`, `.`).
 */
export function parseSyslogServer(text: string): SyslogServer | undefined {
  const m = /^(udp|tcp):\/\/(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?\/?$/i.exec(text);
  if (m === null) return undefined;
  const proto = asciiLower(m[1]) as 'udp' | 'tcp';
  const host = m[2] ?? m[3];
  if (m[2] !== undefined && !ipNum().isValidIPv6String(host)[0]) return undefined;
  if (m[3] !== undefined) {
    if (/^[0-9.]+$/.test(host) && !ipNum().isValidIPv4String(host)[0]) return undefined;
    if (host.startsWith('-') || host.startsWith('.') || host.includes('..')) return undefined;
  }
  const port = m[4] === undefined ? DEFAULT_SYSLOG_PORT : Number(m[4]);
  if (port < 1 || port > 65535) return undefined;
  return { proto, host, port };
}

/** Milliseconds, a positive decimal integer up to 600 000 (ten minutes); undefined if not. */
export function parseDnsTimeout(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 600_000 ? n : undefined;
}

// ---------------------------------------------------------------------------
// docs/configuration.md

export const DOC_MARKER =
  '<!-- Generated by scripts/gen-config-doc.mjs from src/config/options.ts. Do not edit by hand: run `npm run docs`. -->';

function mdEscape(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function defaultOf(spec: OptionSpec): string {
  if (spec.flag !== undefined) return defaultFlags()[spec.flag] ? 'on' : 'off';
  return spec.defaultText ?? '–';
}

function cliForms(spec: OptionSpec): string {
  const forms: string[] = [];
  for (const name of spec.long) {
    if (spec.kind === 'bool') forms.push(`\`--${name}[=BOOL]\``);
    else if (spec.kind === 'string') forms.push(`\`--${name} ${spec.arg ?? 'VALUE'}\``);
    else forms.push(`\`--${name}\``);
  }
  if (spec.short !== undefined) {
    const s = spec.kind === 'string' ? `\`-${spec.short} ${spec.arg ?? 'VALUE'}\`` : `\`-${spec.short}\``;
    forms.push(spec.shortOnlyIn ? `${s} (${spec.shortOnlyIn} only)` : s);
  }
  return forms.join(', ');
}

function confForm(spec: OptionSpec): string {
  if (spec.setKeyword !== undefined && spec.setting !== undefined) return `\`set ${spec.setKeyword} ${spec.arg ?? 'VALUE'}\`, \`${spec.statement ?? spec.setKeyword} ${spec.arg ?? 'VALUE'}\``;
  if (spec.setKeyword !== undefined) return `\`set ${spec.setKeyword} [true|false]\``;
  if (spec.statement !== undefined) return `\`${spec.statement}${spec.statementPrefix ? '*' : ''} ${spec.arg ?? 'VALUE'}\``;
  return '–';
}

/** The whole of docs/configuration.md. */
export function renderConfigurationDoc(): string {
  const lines: string[] = [];
  lines.push('# Configuration reference', '', DOC_MARKER, '');
  lines.push(
    'Settings come from three places, applied in this order: the built-in defaults, the',
    'configuration file (`/etc/iplog.conf`, or the file named by `--config`), then the',
    'command line, left to right. Then the options are normalised (iplog 2.2.3\'s',
    '`check_options()`: e.g. `--tcp=false` turns the TCP scan detectors off). The behaviour',
    'of every option is that of iplog 2.2.3 unless `docs/compat.md` says otherwise.',
    '',
    '## Options',
    '',
    '`BOOL` is `yes`, `true`, `no`, `false` or `toggle` (case-insensitive); without a value the',
    'option is turned on. A value is only taken with `=` (`--tcp=false`, never `--tcp false`),',
    'and short forms never take one (`-w` always means on). Long options may be abbreviated to',
    'any unambiguous prefix; the options of iplog 2.2.3 win over the ones added here, so every',
    'abbreviation the original accepted still means what it meant (`--re` is `--restart`).',
    '',
    '| Command line | iplog.conf | Default | Description |',
    '|---|---|---|---|',
  );
  for (const spec of OPTIONS) {
    lines.push(`| ${mdEscape(cliForms(spec))} | ${mdEscape(confForm(spec))} | ${mdEscape(defaultOf(spec))} | ${mdEscape(spec.doc)} |`);
  }
  lines.push(
    '',
    '`-k` and `-R` act when they are reached, so only options before them count (put',
    '`--pid-file` first). An unknown option prints getopt\'s message on stderr and the usage on',
    'stdout (exit status 0 in the compat profile, 2 in the modern profile).',
    '',
    '## `set` keywords',
    '',
    '`set KEYWORD [true|false]`: exactly one keyword; the value is `true` or `false`',
    '(case-insensitive), and a missing value means `true`. The keyword of an option with a value',
    'takes that value, exactly as its statement does: `set threads 2`, `set profile modern`,',
    '`set home_net 192.0.2.0/24`, `set state_memory 64M`, `set hash_seed 7`, `set ban_evidence',
    'proven`, `set ban_protected_time 10m` (every option of the modern profile has one).',
    '',
    '| Keyword | Command line | Default |',
    '|---|---|---|',
  );
  for (const spec of OPTIONS.filter((s) => s.setKeyword !== undefined)) {
    const cli = spec.short !== undefined && spec.shortOnlyIn === undefined ? `-${spec.short}` : `--${spec.long[0]}`;
    lines.push(`| \`${spec.setKeyword}\` | \`${cli}\` | ${defaultOf(spec)} |`);
  }
  lines.push(
    '',
    '## Simple statements',
    '',
    '`KEYWORD VALUE` on one line. Keywords are case-insensitive. A missing value is reported as',
    '`[line N] Missing ...`.',
    '',
    '| Statement | Command line | Missing value reported as |',
    '|---|---|---|',
  );
  for (const spec of STATEMENTS) {
    const form = `\`${spec.statement}${spec.statementPrefix ? '*' : ''} ${spec.arg ?? 'VALUE'}\``;
    lines.push(`| ${mdEscape(form)} | \`--${spec.long[0]}\` | \`Missing ${spec.missing}\` |`);
  }
  lines.push(
    '',
    '`promisc` also turns on `log_dest`. `dns_server` may be repeated (the addresses add up); a',
    '`--dns-server` on the command line replaces the file\'s list.',
    '',
    '`ban_weight`, `ban_allow` and `ban_param` may be repeated, in the file and on the command',
    'line alike: allowlist entries add up, and a later weight or parameter of the same name wins.',
    'Banning is off until `ban_backend` names a backend; docs/ban-backends.md explains the policy,',
    'every backend\'s parameters and the argv it runs.',
    '',
    '## Filter rules',
    '',
    '```',
    '("log" | "ignore") ("tcp" | "udp") [from ADDR] [to ADDR] [sport PORTS] [dport PORTS]',
    '("log" | "ignore") "icmp"          [from ADDR] [to ADDR] [type ITYPE]',
    '("log" | "ignore") "icmp6"         [from ADDR] [to ADDR] [type ITYPE6]',
    '```',
    '',
    '- `ADDR` = `[!]host[/mask]`: `*` is any host; `host` is a dotted quad (short forms are padded:',
    '  `10` = `10.0.0.0`, `127.0.8` = `127.0.8.0`) or a name from /etc/hosts (a name with several',
    '  addresses gives one rule per address); `mask` is a prefix length 1–32, a dotted quad, or',
    '  `*` (any). An unknown host is an error and drops the rule.',
    '- `PORTS` = `[!]start[:[end]]`: numbers, `*`, or service names from /etc/services (looked up',
    '  for the rule\'s protocol); `6000:` is 6000–65535.',
    '- `ITYPE` = `[!]type`: 0–18 or a name (`echo`, `echoreply`, `unreach`, `redirect`, `routeradvert`,',
    '  `routersolicit`, `timxceed`, `paramprob`, `tstamp`, `timestamp_reply`, `ireq`, `ireqreply`,',
    '  `maskreq`, `maskreply`, `sourcequench`, optionally prefixed `icmp_`), matched by prefix as in',
    '  iplog 2.2.3: `ec` is echo, `tstampreply` is 13 (the timestamp request) and `maskreq` is 18',
    '  (the mask reply; `mask` is the request). A name with a hyphen is one of the iptables/nft',
    '  names, matched exactly: `echo-reply` (0), `destination-unreachable` or `dest-unreach` (3),',
    '  `source-quench`, `echo-request` (8), `router-advertisement`, `router-solicitation`,',
    '  `time-exceeded`, `parameter-problem`, `timestamp-request`, `timestamp-reply`, `info-request`,',
    '  `info-reply`, `address-mask-request`, `address-mask-reply` (2.2.3 read `echo-reply` as `echo`).',
    '  An `icmp` rule with a type is about IPv4 ICMP only; one without a type applies to ICMPv6 too.',
    '- `icmp6` rules (ours; iplog 2.2.3 had no IPv6) concern ICMPv6 only; they are checked with the',
    '  `icmp` rules, in the same order. `ITYPE6` = `[!]type`: 0–255 or a name, matched exactly',
    '  (case-insensitive): `destination-unreachable` (1), `packet-too-big` (2), `time-exceeded` (3),',
    '  `parameter-problem` (4), `echo-request` (128), `echo-reply` (129), `mld-listener-query` (130),',
    '  `mld-listener-report` (131), `mld-listener-done` or `mld-listener-reduction` (132),',
    '  `nd-router-solicit` or `router-solicitation` (133), `nd-router-advert` or',
    '  `router-advertisement` (134), `nd-neighbor-solicit` or `neighbor-solicitation` (135),',
    '  `nd-neighbor-advert` or `neighbor-advertisement` (136), `nd-redirect` or `redirect` (137),',
    '  `mld2-listener-report` (143); `neighbour-` is accepted for `neighbor-`. `ignore icmp6` with',
    '  no clause is a rule for every ICMPv6 message (it does not turn ICMP off).',
    '  Example: `ignore icmp6 from 2001:db8:1::/48 type !echo-request`.',
    '- The first matching rule decides: `ignore` drops the packet before any detector sees it, `log`',
    '  keeps it. All `log` rules are checked before all `ignore` rules (log rules in reverse file',
    '  order, then ignore rules in file order).',
    '- A rule with no clause (`ignore udp`) does not filter: it turns the protocol off (`log`: on).',
    '- Comments: `#` to the end of the line (it also ends a rule), and `/* ... */` anywhere, across lines.',
    '',
    'In the compat profile two matching bugs of iplog 2.2.3 stay: `!` before a port flips the',
    'port\'s lowest bit (`dport !22` matches only port 23), and a packet address 0.0.0.0 matches',
    'every address test. The modern profile negates the port test and compares 0.0.0.0 like any',
    'other address.',
    '',
  );
  return lines.join('\n');
}

/**
 * config/iplog.conf: a commented example with every statement of the table, each at its
 * default and commented out, so that the file as shipped changes nothing. Generated with
 * docs/configuration.md by `npm run docs`.
 */
export function renderExampleConf(): string {
  const flags = defaultFlags();
  const out: string[] = [
    '# iplog.conf - configuration of iplog (install as /etc/iplog.conf, or pass --config FILE).',
    '#',
    '# Generated from the option table (src/config/options.ts) by `npm run docs`; every',
    '# statement is shown commented out at its default, so this file changes nothing as',
    '# shipped. The command line overrides what is set here. Reference: docs/configuration.md.',
    '#',
    '# Syntax (iplog 2.2.3): one statement per line; `#` starts a comment; /* ... */ comments',
    '# may span lines. `set KEYWORD [true|false]` (no value means true).',
    '',
    '# ---- switches --------------------------------------------------------------------',
    '',
  ];
  for (const spec of OPTIONS) {
    if (spec.setKeyword === undefined || spec.flag === undefined) continue;
    out.push(`# ${spec.doc}`, `#set ${spec.setKeyword} ${flags[spec.flag] ? 'true' : 'false'}`, '');
  }
  out.push('# ---- values ----------------------------------------------------------------------', '');
  for (const spec of OPTIONS) {
    if (spec.statement === undefined) continue;
    const value = spec.defaultText !== undefined && !spec.defaultText.startsWith('(') ? spec.defaultText : (spec.example ?? spec.arg ?? 'VALUE');
    out.push(`# ${spec.doc}`, `#${spec.statement} ${value}`, '');
  }
  out.push(
    '# ---- filter rules ----------------------------------------------------------------',
    '#',
    '#   (log|ignore) (tcp|udp) [from [!]HOST[/MASK]] [to [!]HOST[/MASK]] [sport [!]PORTS] [dport [!]PORTS]',
    '#   (log|ignore) icmp [from ...] [to ...] [type [!]TYPE]',
    '#',
    '# The first matching rule decides; all `log` rules are checked before all `ignore` rules,',
    '# so `log` rules are exceptions to `ignore` rules. PORTS: N, N:M, N: (N and above), a',
    '# service name or *. TYPE: 0-18 or a name such as echo, unreach, timxceed, echo-reply. A rule without',
    '# clauses turns its protocol on (log) or off (ignore). Examples:',
    '#',
    '#ignore udp from 192.0.2.53 sport 53',
    '#ignore tcp dport 80',
    '#log tcp from 198.51.100.0/24 dport 80',
    '#ignore icmp type echo-reply',
    '',
  );
  return out.join('\n');
}

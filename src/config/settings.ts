/**
 * The resolved configuration the engine runs with: iplog 2.2.3's flag word plus the
 * string options and the filter rules. Produced by config/ (iplog.conf, then the
 * command line, then check_options), consumed by pipeline.ts. Plain data, no methods.
 */
import type { CrowdsecSettings } from '../ban/crowdsec';
import type { Cidr } from '../net/addr';

/** iplog's boolean flags (spec §1.2, §1.3), named as in `set <keyword>` of iplog.conf. */
export interface Flags {
  tcp: boolean;
  udp: boolean;
  icmp: boolean;
  smurf: boolean;
  portscan: boolean;
  dns_cache: boolean;
  tcp_resolve: boolean;
  udp_resolve: boolean;
  icmp_resolve: boolean;
  traceroute: boolean;
  bogus: boolean;
  fin_scan: boolean;
  null_scan: boolean;
  xmas_scan: boolean;
  syn_scan: boolean;
  syn_flood: boolean;
  ping_flood: boolean;
  udp_scan: boolean;
  frag: boolean;
  get_ident: boolean;
  disable_resolver: boolean;
  fool_nmap: boolean;
  no_fork: boolean;
  verbose: boolean;
  stdout: boolean;
  ignore_dns: boolean;
  log_ip: boolean;
  promisc: boolean;
  log_dest: boolean;
  scans_only: boolean;
}

export type FlagName = keyof Flags;

/** Spec §1.3: everything on except these. */
export function defaultFlags(): Flags {
  return {
    tcp: true,
    udp: true,
    icmp: true,
    smurf: true,
    portscan: true,
    dns_cache: true,
    tcp_resolve: true,
    udp_resolve: true,
    icmp_resolve: true,
    traceroute: true,
    bogus: true,
    fin_scan: true,
    null_scan: true,
    xmas_scan: true,
    syn_scan: true,
    syn_flood: true,
    ping_flood: true,
    udp_scan: true,
    frag: true,
    get_ident: false,
    disable_resolver: false,
    fool_nmap: false,
    no_fork: false,
    verbose: false,
    stdout: false,
    ignore_dns: false,
    log_ip: false,
    promisc: false,
    log_dest: false,
    scans_only: false,
  };
}

export type Profile = 'compat' | 'modern';

/**
 * One address test of a filter rule (spec §2.5 ADDR). Addresses are host-order uint32
 * numbers (a.b.c.d = a<<24 | b<<16 | c<<8 | d, as `>>> 0`).
 */
export interface AddrTest {
  any: boolean;
  negate: boolean;
  addr: number;
  /** netmask as a host-order uint32 (/32 = 0xffffffff) */
  mask: number;
  /**
   * An IPv6 network (`2001:db8::/32`, a host is /128): the test is about IPv6 packets
   * only (addr and mask are then unused); undefined for an IPv4 test or `*`.
   */
  v6?: Cidr;
}

/** One port test (spec §2.5 PORTS): lo..hi with iplog's 0-means-open-end rules. */
export interface PortTest {
  lo: number;
  hi: number;
  negate: boolean;
}

export interface Rule {
  action: 'log' | 'ignore';
  proto: 'tcp' | 'udp' | 'icmp';
  from: AddrTest;
  to: AddrTest;
  sport: PortTest;
  dport: PortTest;
  /** ICMP type, or -1 for any */
  icmpType: number;
  icmpNegate: boolean;
  /** an `icmp6` rule (in the icmp list): IPv6 packets only, icmpType is an ICMPv6 type */
  icmp6?: boolean;
  /** config line the rule came from (0 for generated rules such as -d) */
  line: number;
}

/** Rule lists in evaluation order (log rules reversed, then ignore rules; spec §2.5). */
export interface RuleLists {
  tcp: Rule[];
  udp: Rule[];
  icmp: Rule[];
}

export interface Settings {
  profile: Profile;
  flags: Flags;
  user?: string;
  group?: string;
  /** -l / logfile */
  logfile?: string;
  pidFile: string;
  /** syslog facility code (daemon = 3) and priority (notice = 5) */
  facility: number;
  priority: number;
  /** -i list, undefined = all */
  interfaces?: string[];
  /** -a list of networks, verbatim BPF text, split at commas */
  promiscNets?: string[];
  /** where iplog.conf set promiscNets (`promisc on line N of FILE`); unset when -a set them */
  promiscOrigin?: string;
  /** -r FILE or '-' (the first input of a replay; set means "this is a replay") */
  replayFile?: string;
  /** the profile was chosen (`--profile` or a `profile` statement), not the default */
  profileGiven?: boolean;
  /** --quiet: no progress line and no summary on standard error (errors still go there) */
  quiet?: boolean;
  /**
   * --resolve: reverse-resolve names in a replay. Unset: the profile decides (compat
   * resolves, as 2.2.3 did; modern does not, so that analysing a capture sends no PTR
   * query to the reverse zones of the addresses in it). A live run ignores it.
   */
  replayResolve?: boolean;
  /** every input of a replay, in the order given: -r values and non-option arguments (files, directories, '-') */
  replayFiles?: string[];
  /** config file that was read (or would have been) */
  configFile: string;
  rules: RuleLists;
  /** reverse-DNS servers (`--dns-server`, repeatable); default: nameservers of /etc/resolv.conf */
  dnsServers?: string[];
  /** per-lookup timeout in milliseconds (`--dns-timeout`) */
  dnsTimeoutMs: number;
  /** active response (`--ban-*`, src/ban/); absent = every default (banning off) */
  ban?: BanSettings;
  /** log rules and sources (`log_*` statements, `--log-replay`; src/logs/); absent = none */
  logs?: import('../logs/rules').LogSettings;
  /**
   * local syslog socket (`--syslog-socket`, `syslog_socket`). Undefined: /dev/log, used only
   * in live mode without -l/-L; given: syslog is the sink in replay too (output/sinks/open.ts)
   */
  syslogSocket?: string;
  /** remote syslog (`--syslog-server udp://HOST:PORT` or `tcp://...`); wins over syslogSocket */
  syslogServer?: SyslogServer;
  /** message format for --syslog-server (the local socket always gets glibc's form); undefined = rfc3164 */
  syslogFormat?: SyslogFormat;
  /** `--json FILE|-` / `json FILE`: JSON events (NDJSON) to this file, or stdout for '-'; undefined = none */
  jsonFile?: string;
  /** `--op-log FILE` / `op_log FILE`: the operational (pino) log; undefined = standard error */
  opLog?: string;
  /** `--home NET` / `home_net NET` (repeatable): the networks this sensor protects, as written */
  home?: string[];
  /** `--metrics HOST:PORT` / `metrics HOST:PORT`: serve Prometheus metrics there; undefined = no listener */
  metrics?: { host: string; port: number };
  /** `--control-group GROUP` / `control_group`: the ban control socket is 0660 and this group's (else 0600, root only) */
  controlGroup?: string;
  /** the ban options of the command line (setting, value), applied again over iplog.conf at a reload */
  banArgs?: { setting: string; value: string }[];
  /** `--state-memory SIZE` / `state_memory SIZE` (modern profile): bytes for the detection tables; undefined = 48 MiB */
  stateMemory?: number;
  /** `--hash-seed N` / `hash_seed N` (modern profile): the tables' hash seed; undefined = random live, fixed in a replay */
  hashSeed?: number;
  /**
   * Not an option: the host's own addresses, set by the live sensor at each (re)start (src/live/protected.ts).
   * The modern profile protects them beside --home and -a; undefined in a replay.
   */
  hostAddresses?: string[];
  /** `--threads N` / `threads N` / `set threads N`: threads for reading a capture file (1 or 2); undefined = the default (src/cli/replay.ts) */
  threads?: number;
}

/** Message format of remote syslog: RFC 3164 (BSD, with HOSTNAME) or RFC 5424. */
export type SyslogFormat = 'rfc3164' | 'rfc5424';

/** A remote syslog collector, from `udp://HOST[:PORT]` / `tcp://HOST[:PORT]` (port 514 by default). */
export interface SyslogServer {
  proto: 'udp' | 'tcp';
  /** host name or address as given (IPv6 without brackets) */
  host: string;
  port: number;
}

/** Ban policy and backend (docs/ban-backends.md); defaults in src/ban/config.ts. */
export interface BanSettings {
  /** backend name (src/ban/index.ts), or 'none' = no banning */
  backend: string;
  /** first ban duration, seconds */
  timeSec: number;
  /** longest ban, seconds (repeat offences grow up to it) */
  maxTimeSec: number;
  /** duration multiplier per earlier offence */
  factor: number;
  /** score that bans */
  threshold: number;
  /** seconds of packet time over which a source's score adds up */
  windowSec: number;
  /** weight per detector name or event kind, over the defaults */
  weights: Record<string, number>;
  /** addresses and networks never banned, as written */
  allow: string[];
  /** new bans per minute at most */
  budget: number;
  /** new bans per minute at most in one /24 (IPv4) or /48 (IPv6) */
  prefixBudget: number;
  /** persisted ban table */
  stateFile: string;
  /** backend parameters, over the backend's defaults */
  params: Record<string, string>;
  /** seconds between comparisons of the firewall with the ban table (0 = only at start) */
  resyncSec: number;
  /** what spoofable evidence may do: proven | protected | any (src/ban/evidence.ts) */
  evidence: 'proven' | 'protected' | 'any';
  /** duration of a protected ban, seconds (capped at timeSec) */
  protectedSec: number;
  /** adaptive IPv6 prefixes: offenders of one /64 (/64s of one /48) that ban the prefix; 0 = never */
  prefixOffenders: number;
  /**
   * Invalid `ban_allow` entries of iplog.conf, with their line: fatal at start-up and at
   * a reload (config/check.ts), as on the command line. A typo in an allowlist must never
   * mean the network it meant to protect is banned.
   */
  invalidAllow?: string[];
  /** delete the connection tracking entries of a banned source (conntrack -D), so its established connections end */
  conntrack: boolean;
  /** CrowdSec Local API (`--crowdsec-*`): the crowdsec backend's login, the decision stream */
  crowdsec?: CrowdsecSettings;
}

/**
 * Does this run speak 2.2.3's command line? Only when the compat profile was chosen
 * explicitly (`--profile compat`, or `profile compat` in iplog.conf). Then the original's
 * texts and habits hold byte for byte: `-h` and `-v` print its texts, `-t` is
 * --detect-traceroute, and its diagnostics go to standard output (except with
 * `--json -`, whose standard output carries JSON only). Otherwise (the default, or the
 * modern profile): `-h` lists every option by group, `-v` prints this project's version,
 * `-t` is --test-config, and every diagnostic goes to standard error.
 */
export function originalCommandLine(s: Pick<Settings, 'profile' | 'profileGiven'>): boolean {
  return s.profile === 'compat' && s.profileGiven === true;
}

/** Where a run's untimestamped diagnostics go: 1 (2.2.3's command line) or 2. */
export function diagnosticFd(s: Pick<Settings, 'profile' | 'profileGiven' | 'jsonFile'>): 1 | 2 {
  return originalCommandLine(s) && s.jsonFile !== '-' ? 1 : 2;
}

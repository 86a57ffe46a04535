/**
 * The command line: iplog 2.2.3's options (spec §1.2) with GNU getopt_long semantics,
 * parsed into Settings after the configuration file (spec §1.1 steps 2–4).
 *
 * Order of work in parseCommandLine():
 * 1. a pre-scan of argv finds `--config FILE` and `--profile P` (up to the first invalid
 *    option), so the right file is read and `-q` is known to be valid or not;
 * 2. the configuration file is parsed (default /etc/iplog.conf; a missing default file is
 *    silently skipped, a missing `--config` file is an error);
 * 3. argv is tokenised exactly as glibc's getopt_long() would (permutation of
 *    non-options, `--`, bundled short flags, `-uNAME`/`-u NAME`, `--opt=value` and
 *    `--opt value` for required values, optional values only with `=`, unambiguous
 *    prefixes, glibc's four error messages), then handed to commander in a canonical
 *    `--name[=value]` form; commander's per-option events give the options in order;
 * 4. the options are applied left to right; `-k`/`-R`/`-v`/`-h` and every fatal error end
 *    the run at the point they are reached, and a getopt error prints the usage;
 * 5. check_options() (config/check.ts).
 *
 * Everything the original printed before its log sink was open goes to stdout without
 * a timestamp (spec §3.1 item 4): config diagnostics, `Warning: Overriding ...`,
 * `Invalid facility ...`, the -v/-h texts and start-up fatals. A `run` result carries
 * those lines in `messages` (one entry per line the original printed with printf("%s\n");
 * an entry may itself end in "\n", as "Unable to open ..." does, which prints a blank line).
 * getopt's own messages go to stderr.
 *
 * New options (-r/--read, --config, --profile, --dns-server, --dns-timeout) are matched by
 * prefix only when no option of 2.2.3 matches, so every abbreviation the original accepted
 * keeps its meaning (`--re` = `--restart`, `--dns` = `--dns-cache`).
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { checkOptions } from '../config/check';
import { parseConfig, systemConfigEnv } from '../config/conf-parser';
import {
  DEFAULT_CONFIG_FILE,
  OPTIONS,
  asciiLower,
  defaultSettings,
  findShort,
  hasArgOf,
  applyValue,
  longOptionOrder,
  parseProfile,
  type LongOption,
  type OptionSpec,
} from '../config/options';
import type { Profile, Settings } from '../config/settings';
import { usageText, VERSION_TEXT } from './help';
import { killIplog, SIGHUP, SIGTERM, strerror, systemPidFileDeps, type PidFileDeps } from './kill';

/**
 * Stable codes of the ways the command line ends early (STYLE §4 habit 13; never reused).
 * The printed texts are iplog 2.2.3's and carry no code; `code` is for callers and tests.
 */
export type CliErrorCode =
  | 'IPLOG_ERR_USAGE' // getopt rejected an option (usage printed)
  | 'IPLOG_ERR_BAD_BOOL' // --opt=value other than yes/true/no/false/toggle
  | 'IPLOG_ERR_NOTHING_TO_LOG' // tcp, udp and icmp all off
  | 'IPLOG_ERR_PROMISC_IDENT' // promisc together with get_ident
  | 'IPLOG_ERR_CONFIG_OPEN' // the --config file cannot be read
  | 'IPLOG_ERR_BAD_PROFILE'
  | 'IPLOG_ERR_BAD_DNS_SERVER'
  | 'IPLOG_ERR_BAD_DNS_TIMEOUT'
  | 'IPLOG_ERR_BAD_SYSLOG_SOCKET'
  | 'IPLOG_ERR_BAD_SYSLOG_SERVER'
  | 'IPLOG_ERR_BAD_SYSLOG_FORMAT'
  | 'IPLOG_ERR_BAN_CONFIG' // a --ban-* value (src/ban/config.ts)
  | 'IPLOG_ERR_BAD_METRICS' // --metrics HOST:PORT
  | 'IPLOG_ERR_PIDFILE_OPEN' // -k/-R
  | 'IPLOG_ERR_PIDFILE_READ'
  | 'IPLOG_ERR_BAD_PID'
  | 'IPLOG_ERR_SIGNAL';

export type CliResult =
  | { kind: 'run'; settings: Settings; messages: string[] }
  | { kind: 'exit'; status: number; stdout: string; stderr: string; code?: CliErrorCode };

export interface CliDeps {
  /**
   * Read a text file (the configuration file, /etc/hosts, /etc/services). Return
   * undefined if it does not exist; throw a Node errno error for other failures.
   */
  readFile?: (path: string) => string | undefined;
  /** pid-file access and kill() for -k/-R */
  pidFile?: PidFileDeps;
  /** `-e` is Linux-only in 2.2.3 */
  platform?: NodeJS.Platform;
  /** check_options() step 10; without it fool_nmap is left to the capture layer */
  canOpenRawSocket?: () => boolean;
}

/** The program name getopt prints. */
const PROG = 'iplog';

function systemReadFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

// ---------------------------------------------------------------------------
// getopt_long

/** One option occurrence, in argv order. */
export interface GetoptItem {
  readonly spec: OptionSpec;
  /** the argument; undefined for none (a bool without `=`, a switch, an action) */
  readonly value: string | undefined;
}

export interface GetoptResult {
  /** the options before the first error (or all of them) */
  readonly items: GetoptItem[];
  /** getopt's message for the first invalid option (without newline), if any */
  readonly error?: string;
  /**
   * The values of -r/--read and the non-option arguments, in argv order: the inputs of a
   * replay (`-r a.pcap b.pcapng dir/`). iplog 2.2.3 ignored non-options, and so does a
   * live run.
   */
  readonly inputs: string[];
}

const LONGOPTS: readonly LongOption[] = longOptionOrder();

type LongMatch = { kind: 'one'; option: LongOption } | { kind: 'none' } | { kind: 'ambiguous'; names: string[] };

/**
 * glibc's process_long_option(): an exact name wins; otherwise a prefix must select one
 * option, where candidates that are the same option (same argument type and same
 * result, like `--detect-frag` and `--log-frag`) do not count as different. The options
 * of 2.2.3 are tried before the added ones.
 */
function matchLong(name: string): LongMatch {
  const exact = LONGOPTS.find((o) => o.name === name);
  if (exact !== undefined) return { kind: 'one', option: exact };
  for (const origin of ['2.2.3', '3'] as const) {
    const cands = LONGOPTS.filter((o) => o.spec.origin === origin && o.name.startsWith(name));
    if (cands.length === 0) continue;
    const first = cands[0];
    const ambiguous = new Set<LongOption>();
    for (const c of cands.slice(1)) {
      if (c.hasArg !== first.hasArg || c.spec !== first.spec) {
        ambiguous.add(first);
        ambiguous.add(c);
      }
    }
    if (ambiguous.size > 0) return { kind: 'ambiguous', names: LONGOPTS.filter((o) => ambiguous.has(o)).map((o) => o.name) };
    return { kind: 'one', option: first };
  }
  return { kind: 'none' };
}

/** Tokenise argv (without the program name) as getopt_long(argc, argv, opts, longopts) would. */
export function getopt(argv: readonly string[], profile: Profile): GetoptResult {
  const items: GetoptItem[] = [];
  const inputs: string[] = [];
  const push = (item: GetoptItem): void => {
    items.push(item);
    if (item.spec.setting === 'replayFile' && item.value !== undefined) inputs.push(item.value);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      inputs.push(...argv.slice(i + 1));
      break;
    }
    // Non-options ("-" included) are permuted to the end: replay inputs, else ignored.
    if (arg.length < 2 || arg[0] !== '-') {
      inputs.push(arg);
      continue;
    }

    if (arg[1] === '-') {
      const body = arg.slice(2);
      const eq = body.indexOf('=');
      const m = matchLong(eq < 0 ? body : body.slice(0, eq));
      if (m.kind === 'none') return { items, inputs, error: `${PROG}: unrecognized option '--${body}'` };
      if (m.kind === 'ambiguous') {
        return { items, inputs, error: `${PROG}: option '--${body}' is ambiguous; possibilities:${m.names.map((n) => ` '--${n}'`).join('')}` };
      }
      const o = m.option;
      if (eq >= 0) {
        if (o.hasArg === 0) return { items, inputs, error: `${PROG}: option '--${o.name}' doesn't allow an argument` };
        push({ spec: o.spec, value: body.slice(eq + 1) });
      } else if (o.hasArg === 1) {
        if (i + 1 >= argv.length) return { items, inputs, error: `${PROG}: option '--${o.name}' requires an argument` };
        push({ spec: o.spec, value: argv[++i] });
      } else {
        push({ spec: o.spec, value: undefined });
      }
      continue;
    }

    // A cluster of short options; one that takes an argument ends it.
    for (let j = 1; j < arg.length; j++) {
      const c = arg[j];
      const spec = findShort(c, profile);
      if (spec === undefined) return { items, inputs, error: `${PROG}: invalid option -- '${c}'` };
      if (hasArgOf(spec) !== 1) {
        push({ spec, value: undefined });
        continue;
      }
      if (j + 1 < arg.length) push({ spec, value: arg.slice(j + 1) });
      else if (i + 1 < argv.length) push({ spec, value: argv[++i] });
      else return { items, inputs, error: `${PROG}: option requires an argument -- '${c}'` };
      break;
    }
  }
  return { items, inputs };
}

// ---------------------------------------------------------------------------
// commander

/**
 * The commander program built from the option table. Its callbacks only record each
 * option occurrence, in order; applying them is applyOption()'s job.
 */
export function buildProgram(record: (spec: OptionSpec, value: string | undefined) => void): Command {
  const program = new Command(PROG)
    .exitOverride()
    .helpOption(false)
    .allowExcessArguments(false)
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  for (const spec of OPTIONS) {
    const name = spec.long[0];
    const form = spec.kind === 'bool' ? `--${name} [value]` : spec.kind === 'string' ? `--${name} <value>` : `--${name}`;
    program.addOption(new Option(form, spec.doc));
    program.on(`option:${name}`, (value: string | null | undefined) => record(spec, value ?? undefined));
  }
  return program;
}

/** The canonical argv commander receives for getopt's items. */
function canonicalArgv(items: readonly GetoptItem[]): string[] {
  return items.map(({ spec, value }) => {
    const name = spec.long[0];
    if (spec.kind === 'string' || (spec.kind === 'bool' && value !== undefined)) return `--${name}=${value}`;
    return `--${name}`;
  });
}

// ---------------------------------------------------------------------------
// Applying options

interface Ctx {
  readonly settings: Settings;
  readonly messages: string[];
  readonly deps: Required<Pick<CliDeps, 'pidFile' | 'platform'>> & CliDeps;
  dnsFromCli: boolean;
}

function printed(messages: readonly string[], last?: string): string {
  return messages.map((m) => `${m}\n`).join('') + (last !== undefined ? `${last}\n` : '');
}

function exitWith(ctx: Ctx, status: number, last?: string, stderr = '', code?: CliErrorCode): CliResult {
  const r: CliResult = { kind: 'exit', status, stdout: printed(ctx.messages, last), stderr };
  if (code !== undefined) r.code = code;
  return r;
}

/** fatal(): "Fatal: <msg>" on stdout, exit(-1). */
function fatal(ctx: Ctx, msg: string, code: CliErrorCode): CliResult {
  return exitWith(ctx, 255, `Fatal: ${msg}`, '', code);
}

/** enable(): the new flag value, or undefined for an invalid argument. */
function enable(current: boolean, arg: string | undefined): boolean | undefined {
  if (arg === undefined) return true;
  const a = asciiLower(arg);
  if (a === 'yes' || a === 'true') return true;
  if (a === 'no' || a === 'false') return false;
  if (a === 'toggle') return !current;
  return undefined;
}

/** Apply one option. Returns a result when the program ends here. */
function applyOption(ctx: Ctx, spec: OptionSpec, value: string | undefined): CliResult | undefined {
  const { settings, messages } = ctx;
  const flags = settings.flags;
  switch (spec.kind) {
    case 'bool': {
      if (spec.boolSetting !== undefined) {
        const key = spec.boolSetting;
        const v = enable(settings[key] === true, value);
        if (v === undefined) {
          return fatal(ctx, `Arguments must be either "yes", "true", "no", "false" or "toggle".\nYou gave "${value}"`, 'IPLOG_ERR_BAD_BOOL');
        }
        settings[key] = v;
        return undefined;
      }
      const flag = spec.flag as keyof typeof flags;
      if (flag === 'get_ident' && ctx.deps.platform !== 'linux') {
        messages.push('Ident lookups are only supported on Linux.');
        return undefined;
      }
      const v = enable(flags[flag], value);
      if (v === undefined) {
        return fatal(ctx, `Arguments must be either "yes", "true", "no", "false" or "toggle".\nYou gave "${value}"`, 'IPLOG_ERR_BAD_BOOL');
      }
      flags[flag] = v;
      return undefined;
    }
    case 'switch':
      if (spec.flag === 'stdout' && settings.logfile !== undefined) {
        messages.push('Warning: Overriding --logfile');
        settings.logfile = undefined;
      }
      flags[spec.flag as keyof typeof flags] = true;
      return undefined;
    case 'string':
      return applySetting(ctx, spec, value as string);
    case 'action':
      switch (spec.action) {
        case 'kill':
        case 'restart': {
          const r = killIplog(spec.action === 'kill' ? SIGTERM : SIGHUP, settings.pidFile, ctx.deps.pidFile);
          return r.status === 0 ? exitWith(ctx, 0) : fatal(ctx, r.message, r.code);
        }
        case 'version':
          return exitWith(ctx, 0, VERSION_TEXT);
        default:
          return exitWith(ctx, 0, usageText(flags, settings.profile));
      }
  }
}

function applySetting(ctx: Ctx, spec: OptionSpec, value: string): CliResult | undefined {
  const { settings, messages } = ctx;
  if (spec.setting === undefined) return undefined;
  if (spec.setting === 'logfile' && settings.flags.stdout) {
    messages.push('Warning: Overriding --stdout');
    settings.flags.stdout = false;
  }
  const r = applyValue(settings, spec.setting, value, (m) => messages.push(m));
  switch (r.error?.kind) {
    case 'profile':
      return fatal(ctx, `Profile must be either "compat" or "modern".\nYou gave "${value}"`, 'IPLOG_ERR_BAD_PROFILE');
    case 'dnsServer':
      return fatal(ctx, `Invalid DNS server: "${r.error.text}"`, 'IPLOG_ERR_BAD_DNS_SERVER');
    case 'dnsTimeout':
      return fatal(ctx, `Invalid DNS timeout: "${value}" (milliseconds, 1 - 600000)`, 'IPLOG_ERR_BAD_DNS_TIMEOUT');
    case 'ban':
      return fatal(ctx, r.error.text, 'IPLOG_ERR_BAN_CONFIG');
    case 'syslogSocket':
      return fatal(ctx, `Invalid syslog socket: "${value}" (a path of 1 - 107 bytes)`, 'IPLOG_ERR_BAD_SYSLOG_SOCKET');
    case 'syslogServer':
      return fatal(ctx, `Invalid syslog server: "${value}" (udp://HOST[:PORT] or tcp://HOST[:PORT])`, 'IPLOG_ERR_BAD_SYSLOG_SERVER');
    case 'syslogFormat':
      return fatal(ctx, `Syslog format must be either "rfc3164" or "rfc5424".\nYou gave "${value}"`, 'IPLOG_ERR_BAD_SYSLOG_FORMAT');
    case 'metrics':
      return fatal(ctx, `Invalid metrics address: "${value}" (HOST:PORT, e.g. 127.0.0.1:9108 or [::1]:9108)`, 'IPLOG_ERR_BAD_METRICS');
  }
  if (r.list !== undefined) {
    // The command line's servers replace the file's; repeated options add up.
    settings.dnsServers = ctx.dnsFromCli ? [...(settings.dnsServers ?? []), ...r.list] : r.list;
    ctx.dnsFromCli = true;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Entry point

/** `--config` and `--profile` as given on the command line (the last of each wins). */
function preScan(argv: readonly string[]): { config?: string; profile?: Profile } {
  // Tokenise with every letter valid: `-q` must not hide a later `--profile modern`.
  const { items } = getopt(argv, 'modern');
  let config: string | undefined;
  let profile: Profile | undefined;
  for (const { spec, value } of items) {
    if (spec.setting === 'configFile') config = value;
    if (spec.setting === 'profile') profile = parseProfile(value as string) ?? profile;
  }
  return { config, profile };
}

/**
 * Parse the command line (argv without the node binary and script, i.e.
 * process.argv.slice(2)) on top of the configuration file. `-k`/`-R` signal the running
 * daemon from here.
 */
export function parseCommandLine(argv: readonly string[], opts: CliDeps = {}): CliResult {
  const readFile = opts.readFile ?? systemReadFile;
  const settings = defaultSettings();
  const ctx: Ctx = {
    settings,
    messages: [],
    deps: { ...opts, pidFile: opts.pidFile ?? systemPidFileDeps, platform: opts.platform ?? process.platform },
    dnsFromCli: false,
  };

  // 1–2. The configuration file, read before any option is applied.
  const pre = preScan(argv);
  const configPath = pre.config ?? DEFAULT_CONFIG_FILE;
  settings.configFile = configPath;
  let text: string | undefined;
  try {
    text = readFile(configPath);
    if (text === undefined && pre.config !== undefined) {
      const msg = `Unable to open ${configPath}: ${strerror({ code: 'ENOENT' })}\n`;
      return exitWith(ctx, 255, msg, '', 'IPLOG_ERR_CONFIG_OPEN');
    }
  } catch (err) {
    // The original's format string ends in "\n": the message is followed by a blank line.
    const msg = `Unable to open ${configPath}: ${strerror(err)}\n`;
    if (pre.config !== undefined) return exitWith(ctx, 255, msg, '', 'IPLOG_ERR_CONFIG_OPEN');
    ctx.messages.push(msg);
  }
  if (text !== undefined) {
    parseConfig(text, configPath, settings, (m) => ctx.messages.push(m), systemConfigEnv(readFile));
  }
  if (pre.profile !== undefined) settings.profile = pre.profile;

  // 3. getopt, then commander over the canonical form.
  const scan = getopt(argv, settings.profile);
  const events: GetoptItem[] = [];
  buildProgram((spec, value) => events.push({ spec, value })).parse(canonicalArgv(scan.items), { from: 'user' });

  // 4. Left to right.
  for (const { spec, value } of events) {
    const end = applyOption(ctx, spec, value);
    if (end !== undefined) return end;
  }
  if (scan.error !== undefined) {
    // print_help() on getopt's '?'; 2.2.3 exits 0 (quirk 29), the modern profile 2.
    const status = settings.profile === 'compat' ? 0 : 2;
    return exitWith(ctx, status, usageText(settings.flags, settings.profile), `${scan.error}\n`, 'IPLOG_ERR_USAGE');
  }

  // -r a.pcap b.pcapng dir/: every input of the replay, in the order given
  if (settings.replayFile !== undefined) settings.replayFiles = scan.inputs;

  // 5. check_options().
  const problem = checkOptions(settings, { canOpenRawSocket: opts.canOpenRawSocket });
  if (problem !== undefined) return fatal(ctx, problem.message, problem.code);

  return { kind: 'run', settings, messages: ctx.messages };
}

/**
 * SIGHUP / `iplog -R` (spec §2.7): re-read the configuration file *on top of the current
 * settings* (flags are not reset and the command line is not applied again), with fresh
 * rule lists, then check_options(). A missing file is skipped silently, as at start-up.
 * `messages` are the lines to print untimestamped (the sink is closed meanwhile);
 * `fatal` is set when check_options() fails ("Fatal: ..." line; exit status 255).
 * The caller re-adds the `-d` nameserver rules afterwards, as at start-up.
 */
export function reloadConfiguration(
  settings: Settings,
  opts: Pick<CliDeps, 'readFile' | 'canOpenRawSocket'> = {},
): { messages: string[]; fatal?: { line: string; code: CliErrorCode } } {
  const readFile = opts.readFile ?? systemReadFile;
  const messages: string[] = [];
  settings.rules = { tcp: [], udp: [], icmp: [] };
  let text: string | undefined;
  try {
    text = readFile(settings.configFile);
  } catch (err) {
    messages.push(`Unable to open ${settings.configFile}: ${strerror(err)}\n`);
  }
  if (text !== undefined) {
    parseConfig(text, settings.configFile, settings, (m) => messages.push(m), systemConfigEnv(readFile));
  }
  const problem = checkOptions(settings, { canOpenRawSocket: opts.canOpenRawSocket });
  if (problem !== undefined) return { messages, fatal: { line: `Fatal: ${problem.message}`, code: problem.code } };
  return { messages };
}

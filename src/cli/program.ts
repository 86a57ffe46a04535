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
  type SettingKey,
} from '../config/options';
import { originalCommandLine, type Profile, type Settings } from '../config/settings';
import { compileNets } from '../rules/dst-net';
import type * as BanRegistry from '../ban/index';
import type * as Help from './help';
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
  | 'IPLOG_ERR_LOG_CONFIG' // a log_* statement or --log-* value (src/logs/rules.ts), FILE:LINE on stderr
  | 'IPLOG_ERR_PIDFILE_OPEN' // -k/-R
  | 'IPLOG_ERR_PIDFILE_READ'
  | 'IPLOG_ERR_BAD_PID'
  | 'IPLOG_ERR_SIGNAL'
  | 'IPLOG_ERR_CONFIG_TEST'; // -t found problems

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

// loaded when needed (start-up of a replay: issue 10): the help texts, the ban backends
// eslint-disable-next-line @typescript-eslint/no-require-imports
const help = (): typeof Help => require('./help') as typeof Help;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const findBackend = (name: string): ReturnType<typeof BanRegistry.findBackend> => (require('../ban/index') as typeof BanRegistry).findBackend(name);

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
export function getopt(argv: readonly string[], profile: Profile, original = profile === 'compat'): GetoptResult {
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
      const spec = findShort(c, profile, original);
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
 * The commander program built from the option table (or those of its options in `only`).
 * Its callbacks only record each option occurrence, in order; applying them is
 * applyOption()'s job.
 */
export function buildProgram(record: (spec: OptionSpec, value: string | undefined) => void, only?: ReadonlySet<OptionSpec>): Command {
  const program = new Command(PROG)
    .exitOverride()
    .helpOption(false)
    .allowExcessArguments(false)
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  for (const spec of OPTIONS) {
    if (only !== undefined && !only.has(spec)) continue;
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

/**
 * One diagnostic as the original printed it (`text`), and where it comes from when that
 * is a line of a configuration file. Rendered at the end, once the command-line style
 * is known (settings.ts originalCommandLine(): a `profile` statement may come last).
 */
export interface Diagnostic {
  readonly text: string;
  readonly file?: string;
  readonly line?: number;
}

interface Ctx {
  readonly settings: Settings;
  readonly messages: Diagnostic[];
  readonly deps: Required<Pick<CliDeps, 'pidFile' | 'platform'>> & CliDeps;
  dnsFromCli: boolean;
  /** -t / --test-config was given: parse everything, then report */
  testConfig: boolean;
}

/**
 * The printed form of diagnostics: 2.2.3's text with its command line, else
 * `iplog: FILE:LINE: message` for a line of a configuration file and `iplog: message`
 * for the others (no blank lines).
 */
export function renderDiagnostics(diags: readonly Diagnostic[], original: boolean): string[] {
  if (original) return diags.map((d) => d.text);
  return diags.map((d) => {
    const text = d.text.replace(/^\[line \d+\] /, '').replace(/^.*: Parse Error: /, '').replace(/\n+$/, '');
    return d.file !== undefined && d.line !== undefined ? `${PROG}: ${d.file}:${d.line}: ${text}` : `${PROG}: ${text}`;
  });
}

function printed(lines: readonly string[], last?: string): string {
  return lines.map((m) => `${m}\n`).join('') + (last !== undefined ? `${last}\n` : '');
}

/**
 * End the run. `last` is the final text: a diagnostic (a Fatal line, a usage after an
 * error) unless `output` says it is what was asked for (-h, -v). With 2.2.3's command
 * line everything but getopt's own message goes to stdout, as the original did;
 * otherwise only asked-for output does, and every diagnostic goes to stderr.
 */
function exitWith(ctx: Ctx, status: number, last?: string, stderr = '', code?: CliErrorCode, output = false): CliResult {
  const original = originalCommandLine(ctx.settings);
  const lines = renderDiagnostics(ctx.messages, original);
  let r: CliResult;
  if (original) {
    r = { kind: 'exit', status, stdout: printed(lines, last), stderr };
  } else {
    const lastText = last?.replace(/\n+$/, '');
    r = {
      kind: 'exit',
      status,
      stdout: output && lastText !== undefined ? `${lastText}\n` : '',
      stderr: printed(lines) + stderr + (!output && lastText !== undefined ? `${lastText.startsWith('Fatal: ') || lastText.startsWith('Unable') ? `${PROG}: ` : ''}${lastText}\n` : ''),
    };
  }
  if (code !== undefined) r.code = code;
  return r;
}

/** fatal(): "Fatal: <msg>" on stdout (2.2.3's command line) or stderr, exit(-1). */
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
        messages.push({ text: 'Ident lookups are only supported on Linux.' });
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
        messages.push({ text: 'Warning: Overriding --logfile' });
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
          return exitWith(ctx, 0, originalCommandLine(settings) ? help().VERSION_TEXT : help().versionText(), '', undefined, true);
        case 'testConfig':
          ctx.testConfig = true;
          return undefined;
        default:
          return exitWith(ctx, 0, originalCommandLine(settings) ? help().usageText(flags, settings.profile) : help().helpText(flags, settings.profile, { quiet: settings.quiet, replayResolve: settings.replayResolve }), '', undefined, true);
      }
  }
}

function applySetting(ctx: Ctx, spec: OptionSpec, value: string): CliResult | undefined {
  const { settings, messages } = ctx;
  if (spec.setting === undefined) return undefined;
  if (spec.setting === 'logfile' && settings.flags.stdout) {
    messages.push({ text: 'Warning: Overriding --stdout' });
    settings.flags.stdout = false;
  }
  const r = applyValue(settings, spec.setting, value, (m) => messages.push({ text: m }));
  switch (r.error?.kind) {
    case 'profile':
      return fatal(ctx, `Profile must be either "compat" or "modern".\nYou gave "${value}"`, 'IPLOG_ERR_BAD_PROFILE');
    case 'dnsServer':
      return fatal(ctx, `Invalid DNS server: "${r.error.text}"`, 'IPLOG_ERR_BAD_DNS_SERVER');
    case 'dnsTimeout':
      return fatal(ctx, `Invalid DNS timeout: "${value}" (milliseconds, 1 - 600000)`, 'IPLOG_ERR_BAD_DNS_TIMEOUT');
    case 'ban':
      return fatal(ctx, r.error.text, 'IPLOG_ERR_BAN_CONFIG');
    case 'log':
      return fatal(ctx, r.error.text, 'IPLOG_ERR_LOG_CONFIG');
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
    testConfig: false,
  };

  // 1–2. The configuration file, read before any option is applied.
  const pre = preScan(argv);
  const configPath = pre.config ?? DEFAULT_CONFIG_FILE;
  settings.configFile = configPath;
  let text: string | undefined;
  const unreadable = (err: unknown): CliResult | undefined => {
    // The original's format string ends in "\n": the message is followed by a blank line.
    const msg = `Unable to open ${configPath}: ${strerror(err)}\n`;
    if (pre.config === undefined) {
      ctx.messages.push({ text: msg });
      return undefined;
    }
    if (pre.profile !== undefined) {
      settings.profile = pre.profile;
      settings.profileGiven = true;
    }
    return exitWith(ctx, 255, msg, '', 'IPLOG_ERR_CONFIG_OPEN');
  };
  try {
    text = readFile(configPath);
    if (text === undefined && pre.config !== undefined) return unreadable({ code: 'ENOENT' })!;
  } catch (err) {
    const end = unreadable(err);
    if (end !== undefined) return end;
  }
  if (text !== undefined) {
    parseConfig(text, configPath, settings, (m, line) => ctx.messages.push({ text: m, file: configPath, line }), systemConfigEnv(readFile));
  }
  if (pre.profile !== undefined) {
    settings.profile = pre.profile;
    settings.profileGiven = true;
  }

  // 3. getopt, then commander over the canonical form.
  const original = originalCommandLine(settings);
  const scan = getopt(argv, settings.profile, original);
  const events: GetoptItem[] = [];
  // commander gets only the options that occur (the canonical argv holds no other): a
  // program of all of them costs more of the start-up than the replay of a short capture
  buildProgram((spec, value) => events.push({ spec, value }), new Set(scan.items.map((i) => i.spec))).parse(canonicalArgv(scan.items), { from: 'user' });

  // 4. Left to right.
  for (const { spec, value } of events) {
    const end = applyOption(ctx, spec, value);
    if (end !== undefined) return end;
  }
  // the ban options of the command line, applied again over the file at each reload
  const banArgs = events.filter((e) => e.spec.group === 'bans' && e.spec.kind === 'string' && e.spec.setting !== undefined && e.value !== undefined);
  if (banArgs.length > 0) settings.banArgs = banArgs.map((e) => ({ setting: e.spec.setting!, value: e.value! }));
  if (scan.error !== undefined) {
    if (original) {
      // print_help() on getopt's '?'; 2.2.3 exits 0 (quirk 29)
      return exitWith(ctx, 0, help().usageText(settings.flags, settings.profile), `${scan.error}\n`, 'IPLOG_ERR_USAGE');
    }
    return exitWith(ctx, 2, `Try '${PROG} --help' for more information.`, `${scan.error}\n`, 'IPLOG_ERR_USAGE');
  }

  // Log rules and sources (src/logs/rules.ts): an error is fatal, each `FILE:LINE: message` on stderr.
  const logErrors = settings.logs?.errors ?? [];
  if (logErrors.length > 0) {
    return exitWith(ctx, 1, undefined, logErrors.map((e) => `iplog: ${e}\n`).join('') + `iplog: ${logErrors.length} error(s) in the log rules: not starting\n`, 'IPLOG_ERR_LOG_CONFIG');
  }
  // -r a.pcap b.pcapng dir/: every input of the replay, in the order given
  if (settings.replayFile !== undefined) settings.replayFiles = scan.inputs;

  // 5. check_options().
  const problem = checkOptions(settings, { canOpenRawSocket: opts.canOpenRawSocket });
  if (ctx.testConfig) return testConfigResult(ctx, problem?.message);
  if (problem !== undefined) return fatal(ctx, problem.message, problem.code);

  return { kind: 'run', settings, messages: renderDiagnostics(ctx.messages, originalCommandLine(settings)) };
}

/**
 * -t / --test-config: every diagnostic of the configuration file (FILE:LINE: message)
 * and of the command line, then what check_options() and the start-up would refuse
 * (networks of -a), on stderr; status 1 if there was anything, else one OK line and 0.
 */
function testConfigResult(ctx: Ctx, problem: string | undefined): CliResult {
  const s = ctx.settings;
  const errors = renderDiagnostics(ctx.messages, false);
  if (problem !== undefined) errors.push(`${PROG}: ${problem}`);
  if (s.promiscNets !== undefined && s.promiscNets.length > 0) {
    try {
      compileNets(s.promiscNets);
    } catch (e) {
      errors.push(`${PROG}: ${(e as Error).message.replace(/^iplog: /, '')}`);
    }
  }
  const b = s.ban;
  if (b !== undefined) {
    if (findBackend(b.backend) === undefined && b.backend !== 'none') errors.push(`${PROG}: unknown ban backend "${b.backend}"`);
    if (b.maxTimeSec < b.timeSec) errors.push(`${PROG}: --ban-max-time (${b.maxTimeSec}) is shorter than --ban-time (${b.timeSec})`);
  }
  if (errors.length > 0) {
    const n = errors.length;
    return { kind: 'exit', status: 1, stdout: '', stderr: printed(errors, `${PROG}: ${s.configFile}: ${n} problem${n === 1 ? '' : 's'} found`), code: 'IPLOG_ERR_CONFIG_TEST' };
  }
  return { kind: 'exit', status: 0, stdout: '', stderr: `${PROG}: ${s.configFile}: configuration OK (profile ${s.profile})\n` };
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
  const diags: Diagnostic[] = [];
  settings.rules = { tcp: [], udp: [], icmp: [] };
  // the ban settings are read anew: defaults, the file, then the command line's ban options
  // (so a ban_allow line taken out of the file is gone, and one added is in: src/ban/attach.ts reload())
  const banBefore = { ban: settings.ban, home: settings.home };
  settings.ban = undefined;
  settings.home = undefined;
  let text: string | undefined;
  try {
    text = readFile(settings.configFile);
  } catch (err) {
    diags.push({ text: `Unable to open ${settings.configFile}: ${strerror(err)}\n` });
  }
  if (text !== undefined) {
    parseConfig(text, settings.configFile, settings, (m, line) => diags.push({ text: m, file: settings.configFile, line }), systemConfigEnv(readFile));
  }
  for (const { setting, value } of settings.banArgs ?? []) applyValue(settings, setting as SettingKey, value, () => undefined);
  if (settings.ban === undefined && banBefore.ban !== undefined) settings.ban = { ...banBefore.ban, invalidAllow: undefined };
  const messages = renderDiagnostics(diags, originalCommandLine(settings));
  // a log rule broken since the start: said, and the rules of the start stay in force
  for (const e of settings.logs?.errors ?? []) messages.push(`iplog: ${e} (log rules unchanged until a restart)`);
  const problem = checkOptions(settings, { canOpenRawSocket: opts.canOpenRawSocket });
  if (problem !== undefined) return { messages, fatal: { line: `Fatal: ${problem.message}`, code: problem.code } };
  return { messages };
}

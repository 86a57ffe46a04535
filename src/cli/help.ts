/**
 * The `-v` and `-h` texts of iplog 2.2.3, byte for byte (iplog_options.c: print_help(),
 * the `-v` case of get_options(); recorded in conformance/out/cli_messages.txt).
 *
 * The usage marks with `*` the options that are on *at the moment `-h` is seen* (after
 * the config file and the earlier options), not the built-in defaults, although the header
 * says "Denotes enabled by default". The text is fixed legacy output, so it is a template
 * here rather than something rendered from the option table; only the modern profile adds
 * a section for the options that 2.2.3 did not have, rendered from the table.
 *
 * These are the texts of 2.2.3's command line (the compat profile chosen explicitly,
 * config/settings.ts originalCommandLine()). Otherwise `-h` prints helpText(), every
 * option by group, rendered from the option table, and `-v` this project's version.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPTIONS, OPTION_GROUPS, findShort, type OptionGroup, type OptionSpec } from '../config/options';
import type { FlagName, Flags, Profile } from '../config/settings';

/** Note the trailing space after the address: it is in the original. */
export const VERSION_TEXT = 'iplog version 2.2.3\nby Ryan McCabe <odin@numb.org> \nhttp://ojnk.sourceforge.net';

/**
 * print_help()'s text; `{flag}` is replaced by `*` when the flag is on, else a space.
 * Lines are kept exactly as the original's format string (including `-q`, which 2.2.3
 * advertised but rejected).
 */
const USAGE_TEMPLATE = `Usage: iplog [options] ("*" Denotes enabled by default)
--user      or -u <user|UID>     Run as specified the user or UID.
--group     or -g <group|GID>    Run with specified the group or GID.
--logfile   or -l <file>         Log to <file>.
--pid-file  <file>               Use <file> as the pid file.
--ignore    or -d                Ignore DNS traffic from nameservers listed in
                                 /etc/resolv.conf.
--interface or -i <if0,...,ifN>  Listen on the specified interface(s).
--promisc   or -a <network>      Log traffic to all hosts on <network>.
--kill      or -k                Kill iplog, if it is running.
--restart   or -R                Restart iplog, if it is running.
--no-fork   or -o                Run in the foreground.
--stdout    or -L                Log to stdout.
--help      or -h                This help screen.
--version   or -v                Print version information and exit.

--facility <facility>            Use the specified syslog facility.
--priority <priority>            Use the specified syslog priority.

--tcp[=true|false|toggle]                      {tcp}Log TCP traffic.
--udp[=true|false|toggle]                      {udp}Log UDP traffic.
--icmp[=true|false|toggle]                     {icmp}Log ICMP traffic.

--log-ip[=true|false|toggle]            or -w  {log_ip}Log IP along with hostname.
--log-dest[=true|false|toggle]          or -D  {log_dest}Log the destination of traffic.
--dns-cache[=true|false|toggle]         or -c  {dns_cache}Use the built-in DNS cache.
--get-ident[=true|false|toggle]         or -e  {get_ident}Get ident info on connections
                                                to listening ports.

--tcp-resolve[=true|false|toggle]       or -T  {tcp_resolve}Resolve IPs of TCP traffic.
--udp-resolve[=true|false|toggle]       or -U  {udp_resolve}Resolve IPs of UDP traffic.
--icmp-resolve[=true|false|toggle]      or -I  {icmp_resolve}Resolve IPs of ICMP traffic.
--disable-resolver                      or -N  {disable_resolver}Do not resolve any IPs.

--verbose[=true|false|toggle]           or -V  {verbose}Be verbose.
--fool-nmap[=true|false|toggle]         or -z  {fool_nmap}Fool nmap's OS detection.
--scans-only[=true|false|toggle]        or -m  {scans_only}Only log scans.
--detect-syn-flood[=true|false|toggle]  or -s  {syn_flood}Stop resolving IPs if a
                                                SYN flood is detected.

--log-frag[=true|false|toggle]          or -y  {frag}Log fragment attacks.
--log-traceroute[=true|false|toggle]    or -t  {traceroute}Log traceroutes.
--log-ping-flood[=true|false|toggle]    or -P  {ping_flood}Log ICMP ping floods.
--log-smurf[=true|false|toggle]         or -S  {smurf}Log smurf attacks.
--log-bogus[=true|false|toggle]         or -b  {bogus}Log bogus TCP flags.
--log-portscan[=true|false|toggle]      or -p  {portscan}Log port scans.
--log-udp-scan[=true|false|toggle]      or -F  {udp_scan}Log UDP scans/floods.
--log-fin-scan[=true|false|toggle]      or -f  {fin_scan}Log FIN scans.
--log-syn-scan[=true|false|toggle]      or -q  {syn_scan}Log SYN scans.
--log-xmas-scan[=true|false|toggle]     or -x  {xmas_scan}Log Xmas scans.
--log-null-scan[=true|false|toggle]     or -n  {null_scan}Log null scans.`;

/** Width of the option column in print_help()'s two-column lines. */
const COLUMN = 33;

/** Lines for the options 2.2.3 did not have (modern profile only). */
function newOptionsSection(): string {
  const lines = ['', 'Added in iplog 3:'];
  for (const spec of OPTIONS.filter((s) => s.origin === '3')) {
    const arg = spec.arg !== undefined ? ` <${spec.arg}>` : '';
    const short = spec.short !== undefined ? ` or -${spec.short}` : '';
    const left = `--${spec.long[0]}${short}${arg}`;
    lines.push(left.length < COLUMN ? left.padEnd(COLUMN) + spec.doc : `${left} ${spec.doc}`);
  }
  return lines.join('\n');
}

/** The usage text (no trailing newline), with `*` marks computed from `flags` now. */
export function usageText(flags: Flags, profile: Profile = 'compat'): string {
  const text = USAGE_TEMPLATE.replace(/\{([a-z_]+)\}/g, (_m, name: string) => (flags[name as FlagName] ? '*' : ' '));
  return profile === 'modern' ? `${text}\n${newOptionsSection()}` : text;
}


/** This project's version, from package.json (`unknown` if it cannot be read). */
export function projectVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** `-v` outside 2.2.3's command line. */
export function versionText(): string {
  return `iplog ${projectVersion()} (a reimplementation of iplog 2.2.3; \`iplog --profile compat -v\` prints the original's text)`;
}

const GROUP_TITLES: Record<OptionGroup, string> = {
  general: 'General',
  capture: 'Capture (what is read: interfaces, captures, protocols)',
  output: 'Output (where the lines go, names, JSON)',
  detection: 'Detection',
  bans: 'Bans (docs/ban-backends.md)',
  daemon: 'Daemon',
};

const WIDTH = 80;
const INDENT = 32;

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') out.push(line);
  return out;
}

/** The option's forms for the left column: `-i, --interface IF[,IF...]`. */
export function optionForms(spec: OptionSpec, profile: Profile): string {
  const letter = spec.short !== undefined && findShort(spec.short, profile, false) === spec ? `-${spec.short}, ` : '    ';
  const arg = spec.kind === 'bool' ? '[=BOOL]' : spec.kind === 'string' ? ` ${spec.arg ?? 'VALUE'}` : '';
  return `  ${letter}--${spec.long[0]}${arg}`;
}

/**
 * `iplog -h` (default and modern profiles): every option of the table, by group, with
 * its current value for on/off options (after iplog.conf and the options before -h).
 */
export function helpText(flags: Flags, profile: Profile, values: { quiet?: boolean; replayResolve?: boolean } = {}): string {
  const lines = [
    'Usage: iplog [OPTION]...                  the live sensor (a daemon unless -o)',
    '       iplog -r FILE|DIR|- [FILE|DIR]... [OPTION]...   replay captures, in order',
    '',
    'BOOL is yes, true, no, false or toggle (only as --opt=BOOL; without it: on). [on] and',
    '[off] show the value at this point (defaults, iplog.conf, the options before -h).',
    `Profile: ${profile}. \`iplog --profile compat -h\` prints iplog 2.2.3's own text.`,
  ];
  for (const group of OPTION_GROUPS) {
    lines.push('', `${GROUP_TITLES[group]}:`);
    for (const spec of OPTIONS.filter((o) => o.group === group)) {
      let doc = spec.doc;
      if (spec.long.length > 1) doc += ` Also --${spec.long.slice(1).join(', --')}.`;
      let state: boolean | undefined;
      if (spec.flag !== undefined) state = flags[spec.flag];
      else if (spec.boolSetting === 'quiet') state = values.quiet === true;
      else if (spec.boolSetting === 'replayResolve') state = values.replayResolve ?? profile === 'compat';
      if (state !== undefined) doc += state ? ' [on]' : ' [off]';
      else if (spec.defaultText !== undefined && spec.kind === 'string') doc += ` [${spec.defaultText}]`;
      const left = optionForms(spec, profile);
      const text = wrap(doc, WIDTH - INDENT);
      if (left.length < INDENT) {
        lines.push(left.padEnd(INDENT) + (text[0] ?? ''));
      } else {
        lines.push(left);
        lines.push(' '.repeat(INDENT) + (text[0] ?? ''));
      }
      for (const t of text.slice(1)) lines.push(' '.repeat(INDENT) + t);
    }
  }
  return lines.join('\n');
}

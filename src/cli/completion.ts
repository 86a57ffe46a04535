/**
 * Bash completion for iplog, rendered from the option table (config/options.ts): every
 * long name (aliases included; on/off options also as `--name=`), every short letter,
 * and values where they are a known list or a file, interface, user or group. Written to
 * config/iplog.bash-completion by `npm run docs` (scripts/gen-config-doc.mjs); install it
 * as /usr/share/bash-completion/completions/iplog.
 */
import { FACILITIES, OPTIONS, PRIORITIES, PROFILES, type OptionSpec } from '../config/options';
import { BACKENDS } from '../ban/index';

/** What the value of a string option completes to. */
function valueKind(spec: OptionSpec): { words?: readonly string[]; action?: 'file' | 'dir-or-file' | 'interface' | 'user' | 'group' } {
  switch (spec.setting) {
    case 'replayFile':
      return { action: 'dir-or-file' };
    case 'configFile':
    case 'logfile':
    case 'pidFile':
    case 'jsonFile':
    case 'opLog':
    case 'banState':
    case 'syslogSocket':
      return { action: 'file' };
    case 'interfaces':
      return { action: 'interface' };
    case 'user':
      return { action: 'user' };
    case 'group':
      return { action: 'group' };
    case 'profile':
      return { words: PROFILES };
    case 'facility':
      return { words: [...FACILITIES.keys()] };
    case 'priority':
      return { words: [...PRIORITIES.keys()] };
    case 'syslogFormat':
      return { words: ['rfc3164', 'rfc5424'] };
    case 'banBackend':
      return { words: [...BACKENDS.map((b) => b.name), 'none'] };
    default:
      return {};
  }
}

/** The words a completion offers for options: `--name`, `--name=` for on/off ones, `-x`. */
export function completionWords(): string[] {
  const words: string[] = [];
  for (const spec of OPTIONS) {
    for (const name of spec.long) {
      words.push(`--${name}`);
      if (spec.kind === 'bool') words.push(`--${name}=`);
    }
  }
  for (const spec of OPTIONS) if (spec.short !== undefined && !words.includes(`-${spec.short}`)) words.push(`-${spec.short}`);
  return words;
}

export function renderBashCompletion(): string {
  const cases: string[] = [];
  const byAction = new Map<string, string[]>();
  for (const spec of OPTIONS) {
    if (spec.kind !== 'string') continue;
    const forms = [...spec.long.map((n) => `--${n}`), ...(spec.short !== undefined ? [`-${spec.short}`] : [])].join('|');
    const v = valueKind(spec);
    if (v.words !== undefined) {
      cases.push(`    ${forms}) COMPREPLY=( $(compgen -W "${v.words.join(' ')}" -- "$cur") ); return ;;`);
    } else {
      const key = v.action ?? 'none';
      byAction.set(key, [...(byAction.get(key) ?? []), forms]);
    }
  }
  const action: Record<string, string> = {
    file: 'COMPREPLY=( $(compgen -f -- "$cur") ); return ;;',
    'dir-or-file': 'COMPREPLY=( $(compgen -f -- "$cur") ); return ;;',
    interface: 'COMPREPLY=( $(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur") ); return ;;',
    user: 'COMPREPLY=( $(compgen -u -- "$cur") ); return ;;',
    group: 'COMPREPLY=( $(compgen -g -- "$cur") ); return ;;',
    none: 'return ;;',
  };
  for (const [key, forms] of byAction) cases.push(`    ${forms.join('|')}) ${action[key]}`);
  return [
    '# bash completion for iplog(8). Generated from the option table (src/config/options.ts)',
    '# by `npm run docs`; do not edit. Install as /usr/share/bash-completion/completions/iplog.',
    '_iplog() {',
    '  local cur prev',
    '  cur="${COMP_WORDS[COMP_CWORD]}"',
    '  prev="${COMP_WORDS[COMP_CWORD-1]}"',
    '  case "$prev" in',
    ...cases,
    '  esac',
    '  if [[ "$cur" == -* ]]; then',
    `    COMPREPLY=( $(compgen -W "${completionWords().join(' ')}" -- "$cur") )`,
    '    [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace',
    '    return',
    '  fi',
    '  # replay inputs after -r: capture files and directories',
    '  COMPREPLY=( $(compgen -f -- "$cur") )',
    '}',
    'complete -o filenames -F _iplog iplog',
    '',
  ].join('\n');
}

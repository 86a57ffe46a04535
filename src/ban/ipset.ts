/**
 * ipset + iptables/ip6tables: a `hash:ip` set per family created with timeout support,
 * and one `-m set --match-set SET src -j DROP` rule per chain (INPUT and FORWARD by
 * default; DOCKER-USER for Docker hosts). Each entry is added with its own timeout, so
 * the kernel lifts bans by itself even if iplog is dead. ipset caps a timeout at
 * 2147483 s (24.8 days): longer bans are clamped to it (and re-added at the next resync).
 *
 * start is idempotent: `create ... -exist`, and each rule is inserted only when
 * `iptables -C` does not find it. The start-up reconciliation feeds its additions and
 * deletions to one `ipset restore -exist`.
 */
import { defineBackend, listParam, type ActualBan, type Cmd, type Params } from './backend';
import { parseTarget, type Family } from './addr';

const MAX = 2147483;

/** The set of a ban: IPv4 hosts, IPv6 hosts, or IPv6 prefixes (hash:net: adaptive prefixes). */
function setOf(p: Params, family: Family, addr = ''): string {
  return family === 4 ? p.set4! : addr.includes('/') ? p.set6net! : p.set6!;
}

/** Every set: name, family, type. */
function sets(p: Params): { name: string; family: Family; type: string }[] {
  return [
    { name: p.set4!, family: 4, type: 'hash:ip' },
    { name: p.set6!, family: 6, type: 'hash:ip' },
    { name: p.set6net!, family: 6, type: 'hash:net' },
  ];
}

function tool(family: Family): string {
  return family === 4 ? 'iptables' : 'ip6tables';
}

function rule(p: Params, set: string, chain: string): string[] {
  return [chain, '-m', 'set', '--match-set', set, 'src', '-j', p.target!];
}

function start(p: Params): Cmd[] {
  const cmds: Cmd[] = [];
  for (const s of sets(p)) {
    cmds.push({ argv: ['ipset', 'create', s.name, s.type, 'family', s.family === 4 ? 'inet' : 'inet6', 'timeout', '0', 'maxelem', p.maxelem!, '-exist'] });
  }
  for (const s of sets(p)) {
    for (const chain of listParam(p.chains!)) {
      cmds.push({ argv: [tool(s.family), '-w', '-I', ...rule(p, s.name, chain)], unless: [tool(s.family), '-w', '-C', ...rule(p, s.name, chain)] });
    }
  }
  return cmds;
}

export default defineBackend({
  name: 'ipset',
  summary: 'ipset hash:ip sets with per-entry timeouts, matched by iptables/ip6tables rules',
  notes:
    'iplog creates the sets and inserts one match-set rule at the top of each chain (`chains=DOCKER-USER` on a Docker host). ipset caps a timeout at 2147483 s (24.8 days): a longer ban is added with that and put back by the resync when it lapses.',
  params: {
    set4: { default: 'iplog4', doc: 'IPv4 set (hash:ip family inet, timeout support)' },
    set6: { default: 'iplog6', doc: 'IPv6 set (hash:ip family inet6, timeout support)' },
    set6net: { default: 'iplog6net', doc: 'IPv6 prefix set of adaptive prefixes (hash:net family inet6, timeout support)' },
    chains: { default: 'INPUT,FORWARD', doc: 'chains that get the match-set rule (comma list; DOCKER-USER for Docker)' },
    target: { default: 'DROP', doc: 'iptables target for banned sources: DROP or REJECT' },
    maxelem: { default: '65536', doc: 'maximum entries per set' },
  },
  kernelExpiry: () => true,
  maxSeconds: MAX,
  validate(p) {
    for (const k of ['set4', 'set6', 'set6net'] as const) if (!/^[A-Za-z][A-Za-z0-9_.-]{0,30}$/.test(p[k]!)) return `${k} must be a set name (up to 31 characters)`;
    if (listParam(p.chains!).length === 0) return 'chains must name at least one chain';
    if (p.target !== 'DROP' && p.target !== 'REJECT') return 'target must be DROP or REJECT';
    if (!/^\d+$/.test(p.maxelem!)) return 'maxelem must be a number';
    return undefined;
  },
  start,
  ban: (p, addr, family, seconds) => [{ argv: ['ipset', 'add', setOf(p, family, addr), addr, 'timeout', String(Math.min(seconds, MAX)), '-exist'] }],
  unban: (p, addr, family) => [{ argv: ['ipset', 'del', setOf(p, family, addr), addr, '-exist'] }],
  flush: (p) => sets(p).map((s) => ({ argv: ['ipset', 'flush', s.name] })),
  stop(p) {
    const cmds: Cmd[] = [];
    for (const s of sets(p)) {
      for (const chain of listParam(p.chains!)) cmds.push({ argv: [tool(s.family), '-w', '-D', ...rule(p, s.name, chain)], okIf: /Bad rule|does not exist|No chain/ });
    }
    for (const s of sets(p)) cmds.push({ argv: ['ipset', 'destroy', s.name], okIf: /does not exist/ });
    return cmds;
  },
  check: (p) => sets(p).map((s) => ({ argv: ['ipset', '-n', 'list', s.name] })),
  list: (p) => sets(p).map((s) => ({ argv: ['ipset', 'save', s.name], okIf: /does not exist/ })),
  parse(p, outputs) {
    const out: ActualBan[] = [];
    for (const text of outputs) {
      for (const line of text.split('\n')) {
        const m = /^add (\S+) (\S+)(?: timeout (\d+))?/.exec(line);
        if (!m || (m[1] !== p.set4 && m[1] !== p.set6 && m[1] !== p.set6net)) continue;
        const a = parseTarget(m[2]!);
        if (!a) continue;
        const t = m[3] === undefined ? null : Number(m[3]);
        out.push({ addr: a.text, family: a.family, seconds: t === 0 ? null : t });
      }
    }
    return out;
  },
  reconcile(p, plan) {
    const cmds = start(p);
    const lines = [
      ...plan.remove.map((b) => `del ${setOf(p, b.family, b.addr)} ${b.addr}`),
      ...plan.add.map((b) => `add ${setOf(p, b.family, b.addr)} ${b.addr} timeout ${Math.min(b.seconds, MAX)}`),
    ];
    if (lines.length) cmds.push({ argv: ['ipset', 'restore', '-exist'], stdin: lines.join('\n') + '\n' });
    return cmds;
  },
});

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
import { parseAddr, type Family } from './addr';

const MAX = 2147483;

function setOf(p: Params, family: Family): string {
  return family === 4 ? p.set4! : p.set6!;
}

function tool(family: Family): string {
  return family === 4 ? 'iptables' : 'ip6tables';
}

function rule(p: Params, family: Family, chain: string): string[] {
  return [chain, '-m', 'set', '--match-set', setOf(p, family), 'src', '-j', p.target!];
}

function start(p: Params): Cmd[] {
  const cmds: Cmd[] = [];
  for (const family of [4, 6] as const) {
    cmds.push({ argv: ['ipset', 'create', setOf(p, family), 'hash:ip', 'family', family === 4 ? 'inet' : 'inet6', 'timeout', '0', 'maxelem', p.maxelem!, '-exist'] });
  }
  for (const family of [4, 6] as const) {
    for (const chain of listParam(p.chains!)) {
      cmds.push({ argv: [tool(family), '-w', '-I', ...rule(p, family, chain)], unless: [tool(family), '-w', '-C', ...rule(p, family, chain)] });
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
    chains: { default: 'INPUT,FORWARD', doc: 'chains that get the match-set rule (comma list; DOCKER-USER for Docker)' },
    target: { default: 'DROP', doc: 'iptables target for banned sources: DROP or REJECT' },
    maxelem: { default: '65536', doc: 'maximum entries per set' },
  },
  kernelExpiry: () => true,
  maxSeconds: MAX,
  validate(p) {
    for (const k of ['set4', 'set6'] as const) if (!/^[A-Za-z][A-Za-z0-9_.-]{0,30}$/.test(p[k]!)) return `${k} must be a set name (up to 31 characters)`;
    if (listParam(p.chains!).length === 0) return 'chains must name at least one chain';
    if (p.target !== 'DROP' && p.target !== 'REJECT') return 'target must be DROP or REJECT';
    if (!/^\d+$/.test(p.maxelem!)) return 'maxelem must be a number';
    return undefined;
  },
  start,
  ban: (p, addr, family, seconds) => [{ argv: ['ipset', 'add', setOf(p, family), addr, 'timeout', String(Math.min(seconds, MAX)), '-exist'] }],
  unban: (p, addr, family) => [{ argv: ['ipset', 'del', setOf(p, family), addr, '-exist'] }],
  flush: (p) => [{ argv: ['ipset', 'flush', p.set4!] }, { argv: ['ipset', 'flush', p.set6!] }],
  stop(p) {
    const cmds: Cmd[] = [];
    for (const family of [4, 6] as const) {
      for (const chain of listParam(p.chains!)) cmds.push({ argv: [tool(family), '-w', '-D', ...rule(p, family, chain)], okIf: /Bad rule|does not exist|No chain/ });
    }
    for (const family of [4, 6] as const) cmds.push({ argv: ['ipset', 'destroy', setOf(p, family)], okIf: /does not exist/ });
    return cmds;
  },
  check: (p) => [{ argv: ['ipset', '-n', 'list', p.set4!] }, { argv: ['ipset', '-n', 'list', p.set6!] }],
  list: (p) => [
    { argv: ['ipset', 'save', p.set4!], okIf: /does not exist/ },
    { argv: ['ipset', 'save', p.set6!], okIf: /does not exist/ },
  ],
  parse(p, outputs) {
    const out: ActualBan[] = [];
    for (const text of outputs) {
      for (const line of text.split('\n')) {
        const m = /^add (\S+) (\S+)(?: timeout (\d+))?/.exec(line);
        if (!m || (m[1] !== p.set4 && m[1] !== p.set6)) continue;
        const a = parseAddr(m[2]!);
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
      ...plan.remove.map((b) => `del ${setOf(p, b.family)} ${b.addr}`),
      ...plan.add.map((b) => `add ${setOf(p, b.family)} ${b.addr} timeout ${Math.min(b.seconds, MAX)}`),
    ];
    if (lines.length) cmds.push({ argv: ['ipset', 'restore', '-exist'], stdin: lines.join('\n') + '\n' });
    return cmds;
  },
});

/**
 * iptables/ip6tables without sets: a chain of iplog's own (`iplog`) jumped to from INPUT
 * and FORWARD, with one `-s ADDR -j DROP` rule per ban. Rules have no timeout, so the
 * manager removes each ban when it expires; if iplog dies its bans stay until it starts
 * again and reconciles (expired ones are then removed). Prefer nftables or ipset, whose
 * elements expire in the kernel. Every rule is a linear match: fine for tens of bans,
 * not for thousands (peers.md §3.5).
 *
 * Bans and starts are idempotent (`-C` before `-I`). The start-up reconciliation is one
 * `iptables-restore --noflush` per family: the filter table commits atomically.
 */
import { defineBackend, listParam, type ActualBan, type Cmd, type Params } from './backend';
import { parseTarget, type Family } from './addr';

function tool(family: Family): string {
  return family === 4 ? 'iptables' : 'ip6tables';
}

function start(p: Params): Cmd[] {
  const cmds: Cmd[] = [];
  for (const family of [4, 6] as const) {
    const t = tool(family);
    cmds.push({ argv: [t, '-w', '-N', p.chain!], unless: [t, '-w', '-n', '-L', p.chain!] });
    for (const hook of listParam(p.hooks!)) cmds.push({ argv: [t, '-w', '-I', hook, '-j', p.chain!], unless: [t, '-w', '-C', hook, '-j', p.chain!] });
  }
  return cmds;
}

function banRule(p: Params, addr: string): string[] {
  return [p.chain!, '-s', addr, '-j', p.target!];
}

export default defineBackend({
  name: 'iptables',
  summary: 'a chain of DROP rules (iptables/ip6tables); expiry by iplog',
  notes:
    'Rules have no timeout: if iplog stops for good its bans stay until it runs again (prefer nftables or ipset). Every rule is a linear match: fine for tens of bans, not thousands.',
  params: {
    chain: { default: 'iplog', doc: 'chain iplog owns (created in the filter table)' },
    hooks: { default: 'INPUT,FORWARD', doc: 'built-in chains that jump to it (comma list; DOCKER-USER for Docker)' },
    target: { default: 'DROP', doc: 'target of a ban rule: DROP or REJECT' },
  },
  kernelExpiry: () => false,
  validate(p) {
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,27}$/.test(p.chain!)) return 'chain must be a chain name (up to 28 characters)';
    if (listParam(p.hooks!).length === 0) return 'hooks must name at least one chain';
    if (p.target !== 'DROP' && p.target !== 'REJECT') return 'target must be DROP or REJECT';
    return undefined;
  },
  start,
  ban: (p, addr, family) => [{ argv: [tool(family), '-w', '-I', ...banRule(p, addr)], unless: [tool(family), '-w', '-C', ...banRule(p, addr)] }],
  unban: (p, addr, family) => [{ argv: [tool(family), '-w', '-D', ...banRule(p, addr)], okIf: /Bad rule|does a matching rule exist|No chain/ }],
  flush: (p) => [{ argv: ['iptables', '-w', '-F', p.chain!] }, { argv: ['ip6tables', '-w', '-F', p.chain!] }],
  stop(p) {
    const cmds: Cmd[] = [];
    for (const family of [4, 6] as const) {
      const t = tool(family);
      for (const hook of listParam(p.hooks!)) cmds.push({ argv: [t, '-w', '-D', hook, '-j', p.chain!], okIf: /Bad rule|No chain|does a matching rule exist/ });
      cmds.push({ argv: [t, '-w', '-F', p.chain!], okIf: /No chain/ });
      cmds.push({ argv: [t, '-w', '-X', p.chain!], okIf: /No chain/ });
    }
    return cmds;
  },
  check: (p) => [{ argv: ['iptables', '-w', '-n', '-L', p.chain!] }, { argv: ['ip6tables', '-w', '-n', '-L', p.chain!] }],
  list: (p) => [
    { argv: ['iptables', '-w', '-S', p.chain!], okIf: /No chain/ },
    { argv: ['ip6tables', '-w', '-S', p.chain!], okIf: /No chain/ },
  ],
  parse(p, outputs) {
    const out: ActualBan[] = [];
    for (const text of outputs) {
      for (const line of text.split('\n')) {
        const m = /^-A (\S+) -s (\S+) -j (\S+)$/.exec(line.trim());
        if (!m || m[1] !== p.chain) continue;
        // a host is listed as ADDR/32 or ADDR/128; an IPv6 prefix (adaptive prefixes) as NET/LEN
        const a = parseTarget(m[2]!);
        if (a) out.push({ addr: a.text, family: a.family, seconds: null });
      }
    }
    return out;
  },
  reconcile(p, plan) {
    const cmds = start(p);
    for (const family of [4, 6] as const) {
      const lines = [
        ...plan.remove.filter((b) => b.family === family).map((b) => `-D ${p.chain} -s ${b.addr} -j ${p.target}`),
        ...plan.add.filter((b) => b.family === family).map((b) => `-I ${p.chain} -s ${b.addr} -j ${p.target}`),
      ];
      if (lines.length) cmds.push({ argv: [`${tool(family)}-restore`, '-w', '--noflush'], stdin: ['*filter', ...lines, 'COMMIT'].join('\n') + '\n' });
    }
    return cmds;
  },
});

/**
 * nftables (the default backend): one `inet` table holding an IPv4 and an IPv6 set with
 * `flags timeout`, and a base chain per hook (input and forward by default: a router or
 * a Docker host needs forward, peers.md §3.6) that drops packets from either set (with a
 * counter: `nft list table inet iplog` shows what the bans stopped). Every
 * element is added with its own timeout, so the kernel lifts each ban on time even if
 * iplog has crashed or been killed: never a permanent ban.
 *
 * start is one `nft -f -` transaction: `add` of table, sets and chains (no-ops when they
 * exist, elements untouched), then `flush chain` + the drop rules, so restarting never
 * duplicates a rule and there is no instant without them. The start-up reconciliation
 * appends the missing elements (with the time they have left) and the deletions to that
 * same script: one transaction, nothing removed and re-added.
 */
import { defineBackend, listParam, type ActualBan, type Cmd, type Params } from './backend';
import { parseTarget, type Family } from './addr';

const NOENT = /No such file or directory/;
/** deleting an element the kernel already expired (nft 1.0.6 says the latter for an interval set) */
const ELEM_NOENT = /No such file or directory|element does not exist/;

/** The set of a ban: IPv4 hosts, IPv6 hosts, or IPv6 prefixes (an interval set: adaptive prefixes). */
function setOf(p: Params, family: Family, addr = ''): string {
  return family === 4 ? p.set4! : addr.includes('/') ? p.set6net! : p.set6!;
}

function structure(p: Params): string[] {
  const t = `inet ${p.table}`;
  const lines = [
    `add table ${t}`,
    `add set ${t} ${p.set4} { type ipv4_addr; flags timeout; }`,
    `add set ${t} ${p.set6} { type ipv6_addr; flags timeout; }`,
    `add set ${t} ${p.set6net} { type ipv6_addr; flags interval, timeout; }`,
  ];
  for (const hook of listParam(p.hooks!)) {
    lines.push(
      `add chain ${t} ${hook} { type filter hook ${hook} priority ${p.priority}; policy accept; }`,
      `flush chain ${t} ${hook}`,
      `add rule ${t} ${hook} ip saddr @${p.set4} counter ${p.verdict}`,
      `add rule ${t} ${hook} ip6 saddr @${p.set6} counter ${p.verdict}`,
      `add rule ${t} ${hook} ip6 saddr @${p.set6net} counter ${p.verdict}`,
    );
  }
  return lines;
}

function script(lines: string[]): Cmd {
  return { argv: ['nft', '-f', '-'], stdin: lines.join('\n') + '\n' };
}

interface NftElem {
  elem?: { val?: unknown; timeout?: number; expires?: number };
}

/** An element's value as text: an address, or `NET/LEN` for a prefix of an interval set. */
function valText(val: unknown): string | undefined {
  if (typeof val === 'string') return val;
  const pre = typeof val === 'object' && val !== null ? (val as { prefix?: { addr?: unknown; len?: unknown } }).prefix : undefined;
  if (pre && typeof pre.addr === 'string' && typeof pre.len === 'number') return `${pre.addr}/${pre.len}`;
  return undefined; // ranges are not ours
}

export default defineBackend({
  name: 'nftables',
  summary: 'nft sets with per-element timeouts in an inet table (default)',
  notes:
    'Needs nothing set up: iplog creates its own table. The drop chains hook input and forward at priority -10, before the usual filter chains; on a Docker host forward is what protects the containers. `nft list table inet iplog` shows the bans and what the drop rules counted.',
  params: {
    table: { default: 'iplog', doc: 'name of the inet table iplog owns' },
    set4: { default: 'ban4', doc: 'IPv4 set (type ipv4_addr, flags timeout)' },
    set6: { default: 'ban6', doc: 'IPv6 set (type ipv6_addr, flags timeout)' },
    set6net: { default: 'ban6net', doc: 'IPv6 prefix set of adaptive prefixes (type ipv6_addr, flags interval, timeout)' },
    hooks: { default: 'input,forward', doc: 'netfilter hooks that get a drop chain (comma list: input, forward, prerouting)' },
    priority: { default: '-10', doc: 'base chain priority (before the usual filter chains at 0)' },
    verdict: { default: 'drop', doc: 'what happens to a banned packet: drop or reject' },
  },
  kernelExpiry: () => true,
  validate(p) {
    for (const k of ['table', 'set4', 'set6', 'set6net'] as const) if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(p[k]!)) return `${k} must be an identifier`;
    const hooks = listParam(p.hooks!);
    if (hooks.length === 0 || hooks.some((h) => !['input', 'forward', 'prerouting'].includes(h))) return 'hooks must be a list of input, forward, prerouting';
    if (!/^-?\d+$/.test(p.priority!)) return 'priority must be an integer';
    if (p.verdict !== 'drop' && p.verdict !== 'reject') return 'verdict must be drop or reject';
    return undefined;
  },
  start: (p) => [script(structure(p))],
  ban: (p, addr, family, seconds) => [{ argv: ['nft', 'add', 'element', 'inet', p.table!, setOf(p, family, addr), `{ ${addr} timeout ${seconds}s }`] }],
  unban: (p, addr, family) => [{ argv: ['nft', 'delete', 'element', 'inet', p.table!, setOf(p, family, addr), `{ ${addr} }`], okIf: ELEM_NOENT }],
  flush: (p) => [p.set4!, p.set6!, p.set6net!].map((set) => ({ argv: ['nft', 'flush', 'set', 'inet', p.table!, set] })),
  stop: (p) => [{ argv: ['nft', 'delete', 'table', 'inet', p.table!], okIf: NOENT }],
  check: (p) => [{ argv: ['nft', 'list', 'table', 'inet', p.table!] }],
  list: (p) => [{ argv: ['nft', '-j', 'list', 'table', 'inet', p.table!], okIf: NOENT }],
  parse(p, outputs) {
    const out: ActualBan[] = [];
    const text = outputs[0] ?? '';
    if (text.trim() === '') return out;
    const doc = JSON.parse(text) as { nftables?: { set?: { name?: string; elem?: (NftElem | unknown)[] } }[] };
    for (const item of doc.nftables ?? []) {
      const set = item.set;
      if (!set || (set.name !== p.set4 && set.name !== p.set6 && set.name !== p.set6net)) continue;
      for (const e of set.elem ?? []) {
        const obj = typeof e === 'object' && e !== null && 'elem' in e ? (e as NftElem).elem : undefined;
        const val = valText(obj ? obj.val : e);
        if (val === undefined) continue;
        const a = parseTarget(val);
        if (!a) continue;
        const left = obj?.expires ?? obj?.timeout;
        out.push({ addr: a.text, family: a.family, seconds: typeof left === 'number' ? left : null });
      }
    }
    return out;
  },
  reconcile(p, plan) {
    const lines = structure(p);
    for (const set of [p.set4!, p.set6!, p.set6net!]) {
      // deletions first: an element without a timeout is replaced by a timed one
      const del = plan.remove.filter((b) => setOf(p, b.family, b.addr) === set).map((b) => b.addr);
      if (del.length) lines.push(`delete element inet ${p.table} ${set} { ${del.join(', ')} }`);
      const add = plan.add.filter((b) => setOf(p, b.family, b.addr) === set).map((b) => `${b.addr} timeout ${b.seconds}s`);
      if (add.length) lines.push(`add element inet ${p.table} ${set} { ${add.join(', ')} }`);
    }
    return [script(lines)];
  },
});

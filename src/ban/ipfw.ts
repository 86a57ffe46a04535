/**
 * ipfw (FreeBSD): a lookup table that one rule denies, e.g.
 *
 *     ipfw add 100 deny ip from 'table(20)' to any
 *
 * IPv4 and IPv6 share the table (type addr). Entries have no timeout: iplog deletes each
 * ban when it expires, and a restarted iplog reconciles; if iplog stays down its bans
 * stay (prefer a firewall with kernel expiry where there is one).
 */
import { defineBackend, type ActualBan, type Cmd } from './backend';
import { parseTarget } from './addr';

export default defineBackend({
  name: 'ipfw',
  summary: 'an ipfw lookup table (ipfw table N add/delete); expiry by iplog',
  notes: "A rule must deny what the table holds, e.g. `ipfw add 100 deny ip from 'table(20)' to any`. Entries have no timeout: if iplog stops for good its bans stay until it runs again.",
  params: {
    table: { default: '20', doc: 'table number (or name) that an ipfw deny rule references' },
  },
  kernelExpiry: () => false,
  validate: (p) => (/^[A-Za-z0-9_]{1,63}$/.test(p.table!) ? undefined : 'table must be a table number or name'),
  start: (p) => [{ argv: ['ipfw', '-q', 'table', p.table!, 'create', 'type', 'addr'], okIf: /already exists/ }],
  ban: (p, addr) => [{ argv: ['ipfw', '-q', 'table', p.table!, 'add', addr], okIf: /already exists/ }],
  unban: (p, addr) => [{ argv: ['ipfw', '-q', 'table', p.table!, 'delete', addr], okIf: /not found|No such/ }],
  flush: (p) => [{ argv: ['ipfw', '-q', 'table', p.table!, 'flush'] }],
  stop: (p) => [{ argv: ['ipfw', '-q', 'table', p.table!, 'destroy'], okIf: /not found|No such/ }],
  check: (p) => [{ argv: ['ipfw', 'table', p.table!, 'info'] }],
  list: (p) => [{ argv: ['ipfw', 'table', p.table!, 'list'], okIf: /not found|No such/ }],
  parse(_p, outputs) {
    const out: ActualBan[] = [];
    for (const line of (outputs[0] ?? '').split('\n')) {
      const m = /^(\S+)\s/.exec(line.trim() + ' ');
      const a = m ? parseTarget(m[1]!) : undefined;
      if (a) out.push({ addr: a.text, family: a.family, seconds: null });
    }
    return out;
  },
  reconcile(p, plan) {
    const cmds: Cmd[] = [{ argv: ['ipfw', '-q', 'table', p.table!, 'create', 'type', 'addr'], okIf: /already exists/ }];
    for (const b of plan.remove) cmds.push({ argv: ['ipfw', '-q', 'table', p.table!, 'delete', b.addr], okIf: /not found|No such/ });
    for (const b of plan.add) cmds.push({ argv: ['ipfw', '-q', 'table', p.table!, 'add', b.addr], okIf: /already exists/ });
    return cmds;
  },
});

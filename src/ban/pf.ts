/**
 * pf (OpenBSD, FreeBSD, macOS): a table that pf.conf blocks, e.g.
 *
 *     table <iplog> persist
 *     block drop in quick from <iplog>
 *
 * IPv4 and IPv6 share the table. A ban is `pfctl -t TABLE -T add ADDR`, followed by
 * `pfctl -k ADDR` to kill the states the source already has (sshguard does the same;
 * without it an established connection outlives the ban). pf entries have no timeout of
 * their own: iplog deletes each ban when it expires, and `-T expire MAX` (entries older
 * than the maximum ban time) runs at start and at every resync, so after a crash nothing
 * outlives the maximum ban time once iplog runs again. For a host where iplog may stay
 * down, also run `pfctl -t iplog -T expire <ban-max-time>` from cron.
 */
import { defineBackend, type ActualBan, type Cmd } from './backend';
import { parseTarget } from './addr';

export default defineBackend({
  name: 'pf',
  summary: 'a pf table (pfctl -T add/delete; -T expire as a safety net; states killed)',
  notes:
    'pf.conf must use the table: `table <iplog> persist` and `block drop in quick from <iplog>`. Entries have no timeout of their own: add `pfctl -t iplog -T expire 604800` (your --ban-max-time) to cron where iplog may stay down.',
  params: {
    table: { default: 'iplog', doc: 'pf table that pf.conf blocks (table <iplog> persist; block drop in quick from <iplog>)' },
    kill_states: { default: 'yes', doc: 'kill the states of a banned source (pfctl -k): yes or no' },
  },
  kernelExpiry: () => false,
  validate(p) {
    if (!/^[A-Za-z0-9_-]{1,31}$/.test(p.table!)) return 'table must be a table name (up to 31 characters)';
    if (p.kill_states !== 'yes' && p.kill_states !== 'no') return 'kill_states must be yes or no';
    return undefined;
  },
  start: () => [],
  ban(p, addr) {
    const cmds: Cmd[] = [{ argv: ['pfctl', '-q', '-t', p.table!, '-T', 'add', addr] }];
    if (p.kill_states === 'yes') cmds.push({ argv: ['pfctl', '-q', '-k', addr] });
    return cmds;
  },
  unban: (p, addr) => [{ argv: ['pfctl', '-q', '-t', p.table!, '-T', 'delete', addr] }],
  flush: (p) => [{ argv: ['pfctl', '-q', '-t', p.table!, '-T', 'flush'] }],
  stop: (p) => [{ argv: ['pfctl', '-q', '-t', p.table!, '-T', 'flush'] }],
  check: (p) => [{ argv: ['pfctl', '-q', '-t', p.table!, '-T', 'show'] }],
  list: (p) => [{ argv: ['pfctl', '-q', '-t', p.table!, '-T', 'show'], okIf: /does not exist/ }],
  parse(_p, outputs) {
    const out: ActualBan[] = [];
    for (const line of (outputs[0] ?? '').split('\n')) {
      const a = parseTarget(line.trim());
      if (a) out.push({ addr: a.text, family: a.family, seconds: null });
    }
    return out;
  },
  reconcile(p, plan) {
    const cmds: Cmd[] = [];
    if (plan.remove.length) cmds.push({ argv: ['pfctl', '-q', '-t', p.table!, '-T', 'delete', ...plan.remove.map((b) => b.addr)] });
    if (plan.add.length) cmds.push({ argv: ['pfctl', '-q', '-t', p.table!, '-T', 'add', ...plan.add.map((b) => b.addr)] });
    return cmds;
  },
  expire: (p, seconds) => [{ argv: ['pfctl', '-q', '-t', p.table!, '-T', 'expire', String(seconds)] }],
});

/**
 * Test doubles for the ban manager: a memory logger, a fixed host (system facts), and a
 * fake nftables that understands the argv and scripts the nftables backend renders
 * (elements with timeouts on a clock the test moves), so reconciliation can be checked
 * command by command without a kernel.
 */
import pino from 'pino';
import type { Logger } from '../../src/log';
import type { SystemFacts } from '../../src/ban/system';
import type { Runner, RunResult } from '../../src/ban/exec';
import { parseAddr } from '../../src/ban/addr';

export function memLogger(level = 'debug'): { log: Logger; records: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const log = pino({ level }, { write: (s: string) => void lines.push(s) });
  return { log, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

export function facts(over: Partial<SystemFacts> = {}): SystemFacts {
  return {
    own: ['127.0.0.1', '::1', '203.0.113.242', '2001:db8:ffff::2'],
    broadcasts: ['203.0.113.255'],
    gateways: ['203.0.113.241', '2001:db8:ffff::1'],
    nameservers: ['203.0.113.253'],
    problems: [],
    ...over,
  };
}

const ok = (stdout = ''): RunResult => ({ ok: true, status: 0, stdout, stderr: '' });
const fail = (stderr: string): RunResult => ({ ok: false, status: 1, stdout: '', stderr });

/** A fake `nft` for the default table/set names, with element timeouts on `now()`. */
export class FakeNft {
  /** set name → address → expiry (seconds on the fake clock), or null (no timeout) */
  readonly sets = new Map<string, Map<string, number | null>>();
  tableExists = false;
  readonly calls: { argv: readonly string[]; stdin?: string }[] = [];
  /** make the next N commands fail */
  failNext = 0;

  constructor(public now: () => number) {}

  private expire(): void {
    for (const s of this.sets.values()) for (const [a, until] of s) if (until !== null && until <= this.now()) s.delete(a);
  }

  elements(set: string): string[] {
    this.expire();
    return [...(this.sets.get(set)?.keys() ?? [])].sort();
  }

  private statement(line: string): string | undefined {
    let m = /^add table inet iplog$/.exec(line);
    if (m) {
      this.tableExists = true;
      return undefined;
    }
    m = /^add set inet iplog (\w+) /.exec(line);
    if (m) {
      if (!this.sets.has(m[1]!)) this.sets.set(m[1]!, new Map());
      return undefined;
    }
    if (/^(add chain|flush chain|add rule) /.test(line)) return this.tableExists ? undefined : 'No such file or directory';
    m = /^(add|delete) element inet iplog (\w+) \{ (.*) \}$/.exec(line);
    if (m) {
      const set = this.sets.get(m[2]!);
      if (!set) return 'No such file or directory';
      for (const item of m[3]!.split(', ')) {
        const [addr, , t] = item.split(' ');
        if (m[1] === 'add') {
          if (!set.has(addr!)) set.set(addr!, t ? this.now() + Number(t.replace(/s$/, '')) : null);
        } else if (!set.delete(addr!)) return 'No such file or directory';
      }
      return undefined;
    }
    return `unknown statement: ${line}`;
  }

  readonly runner: Runner = async (argv, stdin) => {
    this.calls.push({ argv, stdin });
    this.expire();
    if (this.failNext > 0) {
      this.failNext--;
      return fail('Error: Could not process rule: Device or resource busy');
    }
    if (argv[0] !== 'nft') return fail(`not nft: ${argv[0]}`);
    if (argv[1] === '-f') {
      // a transaction: all or nothing
      const saved = new Map([...this.sets].map(([k, v]) => [k, new Map(v)]));
      const table = this.tableExists;
      for (const line of (stdin ?? '').split('\n').filter(Boolean)) {
        const err = this.statement(line);
        if (err) {
          this.sets.clear();
          for (const [k, v] of saved) this.sets.set(k, v);
          this.tableExists = table;
          return fail(`Error: Could not process rule: ${err}\n${line}`);
        }
      }
      return ok();
    }
    if (argv[1] === '-j' && argv[2] === 'list') {
      if (!this.tableExists) return fail('Error: No such file or directory; did you mean table ‘iplog’ in family inet?');
      const items: unknown[] = [{ metainfo: { json_schema_version: 1 } }];
      for (const [name, s] of this.sets) {
        // a prefix of an interval set is listed as { prefix: { addr, len } }, as nft -j does
        const v = (a: string): unknown => (a.includes('/') ? { prefix: { addr: a.slice(0, a.indexOf('/')), len: Number(a.slice(a.indexOf('/') + 1)) } } : a);
        const elem = [...s].map(([a, until]) => (until === null ? v(a) : { elem: { val: v(a), timeout: 3600, expires: Math.max(0, until - this.now()) } }));
        items.push({ set: { family: 'inet', name, table: 'iplog', type: parseAddr(([...s.keys()][0] ?? '1.1.1.1').split('/')[0]!)?.family === 6 ? 'ipv6_addr' : 'ipv4_addr', elem } });
      }
      return ok(JSON.stringify({ nftables: items }));
    }
    const err = this.statement(argv.slice(1).join(' '));
    return err ? fail(`Error: Could not process rule: ${err}`) : ok();
  };
}

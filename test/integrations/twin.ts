/**
 * Checks a JSON event against its own line text: the facts the catalogue oracle reads
 * from the text must be the typed fields of the object. Returns the problems found.
 */
import { parseLine, addressOf } from './catalogue';
import type { JsonEvent } from '../../src/output/sinks/json';
import { DETECTORS } from '../../src/detect/index';
import { MODERN_DETECTORS } from '../../src/detect/modern/index';

const TWO64 = 1n << 64n;

function portListText(list: number[], truncated: boolean): string | undefined {
  if (list.length === 0) return undefined;
  return list.join(',') + (truncated ? ',...' : '');
}

export function twinProblems(j: JsonEvent): string[] {
  const bad: string[] = [];
  const say = (what: string, got: unknown, want: unknown) => bad.push(`${what}: json ${JSON.stringify(got)}, line ${JSON.stringify(want)}`);
  if (Date.parse(j.time) / 1000 !== j.epoch) say('time/epoch', j.time, j.epoch);
  if (j.kind === 'iplog.message') return bad;
  const p = parseLine(j.text);
  if (p === null) return [`the catalogue does not know the line ${JSON.stringify(j.text)}`];
  if (p.kind !== j.kind) say('kind', j.kind, p.kind);
  if (j.kind.startsWith('ban.')) {
    if (j.src !== p.src) say('src', j.src, p.src);
    return bad;
  }
  // the source: as rendered, its address (if shown) is the event's, else its name is src_name
  if (j.src_host !== p.src) say('src_host', j.src_host, p.src);
  const sa = addressOf(p.src);
  if (sa !== null && sa !== j.src) say('src address', j.src, sa);
  const sname = p.src === null ? null : sa === p.src ? null : sa === null ? p.src : p.src.slice(0, p.src.length - sa.length - 3);
  if (j.src_name !== sname) say('src_name', j.src_name, sname);
  // the destination, when the line shows it; a sweep's line shows the covering prefix (detail.dst_prefix)
  const d0 = (j.detail ?? {}) as Record<string, unknown>;
  if (typeof d0.dst_prefix === 'string') {
    if (d0.dst_prefix !== p.dst) say('detail.dst_prefix', d0.dst_prefix, p.dst);
  } else {
    if (j.dst_host !== p.dst) say('dst_host', j.dst_host, p.dst);
    const da = addressOf(p.dst);
    if (da !== null && da !== j.dst) say('dst address', j.dst, da);
  }
  if (p.sport !== undefined && j.sport !== p.sport) say('sport', j.sport, p.sport);
  if (p.dport !== undefined && j.dport !== p.dport) say('dport', j.dport, p.dport);
  const d = (j.detail ?? {}) as Record<string, unknown>;
  switch (j.kind) {
    case 'scan.detected':
    case 'scan.expired': {
      // compat's and the modern profile's registries (modern's syn-scan is written as port-scan for a connect() scan)
      const det = [...DETECTORS, ...MODERN_DETECTORS].find((x) => x.name === j.detector && x.title === p.title);
      if (det === undefined) say('detector', j.detector, p.title);
      // an aggregate names no source: src null, and no line of it may name one
      if ((p.aggregate === true) !== (j.src === null)) say('aggregate (src null)', j.src, p.aggregate === true ? 'many sources' : p.src);
      if (d.title !== p.title) say('detail.title', d.title, p.title);
      if (j.kind === 'scan.expired') {
        if (j.count !== p.count) say('count', j.count, p.count);
        if (j.bytes !== p.bytes) say('bytes', j.bytes, p.bytes);
      } else {
        const dp = portListText(d.dports as number[], d.dports_truncated as boolean);
        const sp = portListText(d.sports as number[], d.sports_truncated as boolean);
        if (dp !== p.dports) say('detail.dports', dp, p.dports);
        if (sp !== p.sports) say('detail.sports', sp, p.sports);
      }
      break;
    }
    case 'udp.datagram': {
      const ulen = d.udp_length as number;
      const want = j.bytes !== null ? BigInt(j.bytes) : (TWO64 + BigInt(ulen - 8)) % TWO64;
      if (ulen >= 8 && j.bytes !== ulen - 8) say('bytes', j.bytes, ulen - 8);
      if (BigInt(p.dataBytes!) !== want) say('data bytes', String(want), p.dataBytes);
      if (d.service !== p.service) say('detail.service', d.service, p.service);
      break;
    }
    case 'tcp.connection_attempt':
      if (d.service !== p.service) say('detail.service', d.service, p.service);
      if (d.ident_user !== p.ident) say('detail.ident_user', d.ident_user, p.ident);
      break;
    case 'icmp.echo':
    case 'icmp.echo_reply':
      if (j.bytes !== p.bytes) say('bytes', j.bytes, p.bytes);
      break;
  }
  return bad;
}

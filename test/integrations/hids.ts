/**
 * What the OSSEC and Wazuh files must do with each corpus line (shared by ossec.test.ts
 * and wazuh.test.ts): which decoder, which srcip, which rule.
 */
import { syslogLine, type Entry } from './corpus';
import { predecode, decode, classify, type Decoder, type Rule } from './ossec-emu';

/** Which child decoder a line's kind belongs to (undefined: none, the parent only). */
export function expectedDecoder(kind: string | undefined, aggregate = false): string | undefined {
  if (kind === undefined) return undefined;
  // the modern profile's "... from many sources": its own decoder, no srcip ever
  if (aggregate) return 'iplog-aggregate';
  if (kind === 'scan.detected') return 'iplog-detection';
  if (kind === 'scan.expired') return 'iplog-expired';
  if (kind === 'tcp.bogus_flags') return 'iplog-bogus';
  if (kind.endsWith('.traceroute')) return 'iplog-traceroute';
  if (kind.startsWith('frag.')) return 'iplog-fragment';
  if (kind.startsWith('ban.')) return 'iplog-ban';
  return undefined;
}

/** The rule each line must end in. */
export function expectedRule(e: Entry): number {
  const p = e.parsed;
  if (p === null) return 100700;
  if (p.aggregate === true) return p.kind === 'scan.detected' ? 100714 : 100715;
  switch (p.kind) {
    case 'scan.detected':
      if (p.title === 'TCP: SYN flood') return 100717;
      if (p.title!.endsWith(' sweep')) return 100716;
      return p.title!.startsWith('TCP:') ? 100701 : p.title === 'UDP: scan/flood' ? 100702 : p.title === 'ICMP: ping flood' ? 100703 : 100704;
    case 'scan.expired':
      return 100705;
    case 'tcp.bogus_flags':
      return 100706;
    case 'udp.traceroute':
    case 'icmp.traceroute':
    case 'tcp.traceroute':
      return 100707;
    case 'ip.short':
    case 'ip.bad_checksum':
      return 100709;
    case 'ban.added':
      return 100710;
    case 'ban.removed':
      return 100711;
    case 'ban.refused':
      return e.text.includes('ban budget of') ? 100713 : 100712;
  }
  return p.kind.startsWith('frag.') ? 100708 : 100700;
}

/** Decode and classify every corpus line; return the problems. */
export function runCorpus(entries: Entry[], decs: Decoder[], rls: Rule[]): { problems: string[]; withSrcip: number; withoutSrcip: number } {
  const problems: string[] = [];
  let withSrcip = 0;
  let withoutSrcip = 0;
  entries.forEach((e, i) => {
    const line = syslogLine(e.text, i);
    const ev = predecode(line);
    if (ev === null || ev.programName !== 'iplog') return void problems.push(`pre-decoding failed: ${line}`);
    const d = decode(decs, ev);
    if (d === null) return void problems.push(`not decoded: ${line}`);
    const want = expectedDecoder(e.parsed?.kind, e.parsed?.aggregate === true);
    if (d.decoder !== (want ?? 'iplog')) problems.push(`decoder ${d.decoder}, want ${want ?? 'iplog'}: ${e.text}`);
    if (d.decodedAs !== 'iplog') problems.push(`decoded_as ${d.decodedAs}: ${e.text}`);
    const wantIp = want === undefined || want === 'iplog-aggregate' ? undefined : (e.addr ?? undefined);
    if (d.fields.srcip !== undefined && /^many\b/i.test(d.fields.srcip)) problems.push(`"many" taken as an address: ${e.text}`);
    if (d.fields.srcip !== wantIp) problems.push(`srcip ${d.fields.srcip}, want ${wantIp} (${e.origin}): ${e.text}`);
    if (Object.keys(d.fields).some((f) => f !== 'srcip')) problems.push(`unexpected fields ${JSON.stringify(d.fields)}: ${e.text}`);
    if (d.fields.srcip !== undefined) withSrcip++;
    else if (want !== undefined && want !== 'iplog-aggregate') withoutSrcip++;
    const r = classify(rls, d, ev.log);
    const wantRule = expectedRule(e);
    if (r?.id !== wantRule) problems.push(`rule ${r?.id}, want ${wantRule}: ${e.text}`);
  });
  return { problems, withSrcip, withoutSrcip };
}


/**
 * An emulation of the OSSEC / Wazuh 4.x analysis steps our files rely on, for tests:
 *
 * 1. pre-decoding of an RFC 3164 syslog line `Mmm dd HH:MM:SS host prog[pid]: msg` into
 *    program_name and the log text `msg`;
 * 2. the decoder tree (OSSEC analysisd DecodeEvent(), as documented): the first parent
 *    decoder whose <program_name> (OS_Match) and <prematch> match; then its children in
 *    file order: the first whose <prematch> matches the log (or that has none) is the
 *    decoder; its <regex>, on the whole log, fills the <order> fields, or none if it does
 *    not match. A child reports its parent's name (what rules see in <decoded_as>)
 *    unless <use_own_name>;
 * 3. the rule tree: from the rules with <decoded_as>, descend through <if_sid> children in
 *    file order, the first whose <match> (OS_Match) and <regex> match the log; the deepest
 *    rule is the alert. Frequency rules are not emulated (they are skipped).
 *
 * Patterns are OS_Regex/OS_Match (osregex.ts), or, with type="pcre2" (Wazuh), JavaScript
 * RegExp on the same text: the Wazuh files keep to the syntax PCRE2 and JavaScript share,
 * and the Wazuh test also runs them through the real PCRE2 (pcre2grep).
 */
import { OsRegex, osMatch } from './osregex';

export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: XmlNode[];
}

/** A small XML reader for our decoder and rule files: elements, attributes, text, comments. */
export function parseXml(src: string): XmlNode[] {
  let i = 0;
  const root: XmlNode = { name: '#root', attrs: {}, text: '', children: [] };
  const stack: XmlNode[] = [root];
  while (i < src.length) {
    if (src.startsWith('<!--', i)) {
      const e = src.indexOf('-->', i);
      if (e < 0) throw new Error('unterminated comment');
      i = e + 3;
    } else if (src.startsWith('</', i)) {
      const e = src.indexOf('>', i);
      const name = src.slice(i + 2, e).trim();
      const top = stack.pop()!;
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}>`);
      i = e + 1;
    } else if (src[i] === '<') {
      const e = src.indexOf('>', i);
      let body = src.slice(i + 1, e);
      const selfClosing = body.endsWith('/');
      if (selfClosing) body = body.slice(0, -1);
      const m = /^([\w_-]+)\s*(.*)$/s.exec(body.trim());
      if (!m) throw new Error(`bad tag <${body}>`);
      const attrs: Record<string, string> = {};
      for (const a of m[2]!.matchAll(/([\w_-]+)\s*=\s*"([^"]*)"/g)) attrs[a[1]!] = a[2]!;
      const node: XmlNode = { name: m[1]!, attrs, text: '', children: [] };
      stack[stack.length - 1]!.children.push(node);
      if (!selfClosing) stack.push(node);
      i = e + 1;
    } else {
      const e = src.indexOf('<', i);
      const text = src.slice(i, e < 0 ? src.length : e);
      const top = stack[stack.length - 1]!;
      if (top !== root) top.text += text;
      else if (text.trim() !== '') throw new Error(`text outside elements: ${text.trim()}`);
      i = e < 0 ? src.length : e;
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  return root.children;
}

const child = (n: XmlNode, name: string) => n.children.find((c) => c.name === name);

/** A pattern of either language; `type` as the attribute says (default: the element's own). */
export interface Pattern {
  source: string;
  type: 'osregex' | 'osmatch' | 'pcre2';
  test(text: string): boolean;
  exec(text: string): string[] | null;
}

export function pattern(source: string, type: 'osregex' | 'osmatch' | 'pcre2'): Pattern {
  if (type === 'pcre2') {
    const re = new RegExp(source, 'u');
    return {
      source,
      type,
      test: (t) => re.test(t),
      exec: (t) => {
        const m = re.exec(t);
        return m === null ? null : m.slice(1).map((x) => x ?? '');
      },
    };
  }
  if (type === 'osmatch') {
    return { source, type, test: (t) => osMatch(source, t), exec: (t) => (osMatch(source, t) ? [] : null) };
  }
  const re = new OsRegex(source);
  return { source, type, test: (t) => re.test(t), exec: (t) => re.exec(t) };
}

function pat(n: XmlNode | undefined, dflt: 'osregex' | 'osmatch'): Pattern | undefined {
  if (n === undefined) return undefined;
  const type = (n.attrs.type ?? dflt) as 'osregex' | 'osmatch' | 'pcre2';
  if (n.text !== n.text.trim()) throw new Error(`<${n.name}> has blanks around its pattern: ${JSON.stringify(n.text)}`);
  return pattern(n.text, type);
}

export interface Decoder {
  name: string;
  parent?: string;
  programName?: Pattern;
  prematch?: Pattern;
  regex?: Pattern;
  order: string[];
  useOwnName: boolean;
}

export function loadDecoders(xml: string): Decoder[] {
  return parseXml(xml).map((n) => {
    if (n.name !== 'decoder') throw new Error(`unexpected <${n.name}>`);
    for (const c of n.children) {
      if (!['parent', 'program_name', 'prematch', 'regex', 'order', 'use_own_name'].includes(c.name)) throw new Error(`decoder ${n.attrs.name}: unexpected <${c.name}>`);
    }
    return {
      name: n.attrs.name!,
      parent: child(n, 'parent')?.text,
      programName: pat(child(n, 'program_name'), 'osmatch'),
      prematch: pat(child(n, 'prematch'), 'osregex'),
      regex: pat(child(n, 'regex'), 'osregex'),
      order: (child(n, 'order')?.text ?? '').split(',').map((s) => s.trim()).filter(Boolean),
      useOwnName: child(n, 'use_own_name')?.text === 'true',
    };
  });
}

export interface Syslog {
  hostname: string;
  programName: string;
  log: string;
}

/** RFC 3164 pre-decoding, as OSSEC/Wazuh do it for `Mmm dd HH:MM:SS host prog[pid]: msg`. */
export function predecode(line: string): Syslog | null {
  const m = /^[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} (\S+) ([^\s[:]+)(?:\[[0-9]+\])?: (.*)$/.exec(line);
  return m ? { hostname: m[1]!, programName: m[2]!, log: m[3]! } : null;
}

export interface Decoded {
  /** the decoder that matched (child or parent) */
  decoder: string;
  /** the name rules see (<decoded_as>) */
  decodedAs: string;
  fields: Record<string, string>;
}

export function decode(decoders: Decoder[], ev: Syslog): Decoded | null {
  const parents = decoders.filter((d) => d.parent === undefined);
  for (const p of parents) {
    if (p.programName && !p.programName.test(ev.programName)) continue;
    if (p.prematch && !p.prematch.test(ev.log)) continue;
    const kids = decoders.filter((d) => d.parent === p.name);
    const fields: Record<string, string> = {};
    if (kids.length === 0) return { decoder: p.name, decodedAs: p.name, fields };
    const kid = kids.find((k) => k.prematch === undefined || k.prematch.test(ev.log));
    if (kid === undefined) return { decoder: p.name, decodedAs: p.name, fields };
    const caps = kid.regex?.exec(ev.log) ?? null;
    if (caps !== null) {
      caps.forEach((v, i) => {
        const f = kid.order[i];
        if (f !== undefined && v !== '') fields[f] = v;
      });
    }
    return { decoder: kid.name, decodedAs: kid.useOwnName ? kid.name : p.name, fields };
  }
  return null;
}

export interface Rule {
  id: number;
  level: number;
  ifSid?: number[];
  decodedAs?: string;
  match?: Pattern;
  regex?: Pattern;
  frequency?: number;
  groups: string[];
  node: XmlNode;
}

export function loadRules(xml: string): Rule[] {
  const out: Rule[] = [];
  for (const g of parseXml(xml)) {
    if (g.name !== 'group') throw new Error(`unexpected <${g.name}>`);
    const groupNames = g.attrs.name!.split(',').filter(Boolean);
    for (const r of g.children) {
      if (r.name !== 'rule') throw new Error(`unexpected <${r.name}>`);
      out.push({
        id: Number(r.attrs.id),
        level: Number(r.attrs.level),
        ifSid: child(r, 'if_sid')?.text.split(',').map(Number),
        decodedAs: child(r, 'decoded_as')?.text,
        match: pat(child(r, 'match'), 'osmatch'),
        regex: pat(child(r, 'regex'), 'osregex'),
        frequency: r.attrs.frequency === undefined ? undefined : Number(r.attrs.frequency),
        groups: [...groupNames, ...(child(r, 'group')?.text.split(',').filter(Boolean) ?? [])],
        node: r,
      });
    }
  }
  return out;
}

/** The alert for one decoded event: the deepest matching rule (frequency rules skipped). */
export function classify(rules: Rule[], d: Decoded, log: string): Rule | null {
  const ok = (r: Rule) => r.frequency === undefined && (r.match === undefined || r.match.test(log)) && (r.regex === undefined || r.regex.test(log));
  let cur = rules.find((r) => r.decodedAs === d.decodedAs && r.ifSid === undefined && ok(r)) ?? null;
  while (cur !== null) {
    const id = cur.id;
    const next = rules.find((r) => r.ifSid?.includes(id) && ok(r));
    if (next === undefined) break;
    cur = next;
  }
  return cur;
}

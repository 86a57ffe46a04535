/**
 * JSON events (`--json FILE|-`): one object per line written (NDJSON), the JSON twin of
 * each iplog line, in schema version 1 (docs/json-events.md,
 * config/iplog-event.schema.json).
 *
 * Every line the pipeline emits reaches this sink with its event and the host texts it
 * was rendered from; the object carries the event's facts as typed fields (kind, packet
 * time as ISO 8601 UTC and epoch seconds, profile, address family, addresses (dotted
 * quads, IPv6 in RFC 5952 form), ports,
 * detector, packet count, bytes, kind-specific detail), the host texts as the line shows
 * them, the name part of each (null when the line shows only an address), and the line
 * text itself. A line written without an event (life cycle: `iplog started.`) becomes
 * kind `iplog.message` with null facts. iplog's "last message repeated N times" is text
 * framing: the JSON side has one object per event, repeats included.
 *
 * Addresses are always taken from the event, never from the line: a host name (whoever
 * owns the reverse zone chooses it) is reported only in `*_host`/`*_name`.
 *
 * Output is buffered like the text sink (written at every reader chunk, at 64 KiB and at
 * close); write errors (disk full, a closed pipe) are handled as for text (faults.ts).
 */
import type { DetailValue, IplogEvent } from '../event';
import type { LineHosts, LineSink } from './sink';
import { ChunkBuffer } from './text';
import { ByteWriter, ascii, putBytes, putQuad, putUint } from '../bytes';
import { CONN_LINE_MAX, lineText, writeConnectionV4, writeLine } from '../lines';
import { event } from '../event';
import { serviceBytes, serviceName } from '../services';
import { IpAddr } from '../../net/addr';
import { chooseSink } from './open';
import { TeeSink } from './tee';
import type { OutputFaults } from './faults';
import { IplogError, ERR } from '../../errors';
import type { Profile, Settings } from '../../config/settings';

export const JSON_SCHEMA_VERSION = 1;

/** Kind of a line written without an event (life cycle and other messages). */
export const MESSAGE_KIND = 'iplog.message';


/** One JSON event, field order as written. */
export interface JsonEvent {
  schema_version: typeof JSON_SCHEMA_VERSION;
  /** packet time, ISO 8601 UTC, whole seconds (`2001-11-22T21:27:59Z`) */
  time: string;
  /** packet time, seconds since the epoch */
  epoch: number;
  kind: string;
  profile: Profile;
  /** address family of the event (4 or 6); null for a line without an event */
  family: 4 | 6 | null;
  /** dotted quad or RFC 5952 IPv6; for ban.* kinds the banned address */
  src: string | null;
  sport: number | null;
  /** the source as the line renders it (`1.2.3.4`, `name`, `name (1.2.3.4)`); null if not rendered */
  src_host: string | null;
  /** the name in src_host, null when src_host shows only the address */
  src_name: string | null;
  dst: string | null;
  dport: number | null;
  dst_host: string | null;
  dst_name: string | null;
  detector: string | null;
  count: number | null;
  bytes: number | null;
  detail: Record<string, DetailValue> | null;
  text: string;
}

const iso = (sec: number): string => new Date(sec * 1000).toISOString().replace('.000Z', 'Z');

/** iso() cached per second: events come in bursts of one second. */
let isoSec = NaN;
let isoText = '';
function isoCached(sec: number): string {
  if (sec !== isoSec) {
    isoText = iso(sec);
    isoSec = sec;
  }
  return isoText;
}

/** The name part of a rendered host text: null if it is just `addr`, the name before ` (addr)` else. */
export function nameOf(host: string | null, addr: string | null): string | null {
  if (host === null || host === '' || addr === null || host === addr) return null;
  const suffix = ` (${addr})`;
  return host.endsWith(suffix) ? host.slice(0, host.length - suffix.length) : host;
}

const orNull = (n: number): number | null => (n < 0 ? null : n);
const shown = (h: string | undefined): string | null => (h === undefined || h === '' ? null : h);

/** The JSON twin of one line. `now` is the line's network time (used when there is no event). */
export function jsonEvent(now: number, text: string, ev: IplogEvent | undefined, hosts: LineHosts | undefined, profile: Profile): JsonEvent {
  if (ev === undefined) {
    return {
      schema_version: JSON_SCHEMA_VERSION, time: iso(now), epoch: now, kind: MESSAGE_KIND, profile, family: null,
      src: null, sport: null, src_host: null, src_name: null,
      dst: null, dport: null, dst_host: null, dst_name: null,
      detector: null, count: null, bytes: null, detail: null, text,
    };
  }
  const src = ev.src === null ? null : ev.src.toString();
  const dst = ev.dst === null ? null : ev.dst.toString();
  const srcHost = shown(hosts?.src);
  const dstHost = dst === null ? null : shown(hosts?.dst);
  let detail: Record<string, DetailValue> | null = ev.detail === null ? null : { ...ev.detail };
  if (hosts !== undefined) detail = withOtherHosts(ev.kind, hosts, detail);
  return {
    schema_version: JSON_SCHEMA_VERSION,
    time: iso(ev.time),
    epoch: ev.time,
    kind: ev.kind,
    profile,
    family: ev.family,
    src,
    sport: orNull(ev.sport),
    src_host: srcHost,
    src_name: nameOf(srcHost, src),
    dst,
    dport: dst === null ? null : orNull(ev.dport),
    dst_host: dstHost,
    dst_name: nameOf(dstHost, dst),
    detector: ev.detector,
    count: orNull(ev.count),
    bytes: orNull(ev.bytes),
    detail,
    text,
  };
}

/** The rendered hosts of roles other than source and destination, added to the detail by name. */
function withOtherHosts(kind: string, hosts: LineHosts, detail: Record<string, DetailValue> | null): Record<string, DetailValue> | null {
  let extra: Record<string, string> | null = null;
  if (kind === 'icmp.redirect') extra = { gateway_host: hosts.gateway, target_host: hosts.quoted };
  else if (hosts.gateway !== '') extra = { gateway_host: hosts.gateway, quoted_dst_host: hosts.quoted };
  else if (hosts.quoted !== '') extra = { quoted_dst_host: hosts.quoted };
  else if (hosts.mask !== '') extra = { mask_host: hosts.mask };
  return extra === null ? detail : { ...(detail ?? {}), ...extra };
}

// ---------------------------------------------------------------- JSON written by hand

const Q = 0x22; // "
const COMMA = 0x2c;

/**
 * A string as JSON.stringify writes it. Printable ASCII without `"` and `\` (what lines,
 * addresses, kinds and names are) is copied; anything else is left to JSON.stringify.
 */
function jsonStr(w: ByteWriter, s: string): void {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f || c === Q || c === 0x5c) {
      w.str(JSON.stringify(s));
      return;
    }
  }
  w.room(n + 2);
  w.byte(Q);
  w.str(s);
  w.byte(Q);
}

/** ASCII text already in `t` (a line): as a JSON string. */
function jsonBytes(w: ByteWriter, t: ByteWriter): void {
  const b = t.buf;
  const n = t.pos;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c < 0x20 || c >= 0x7f || c === Q || c === 0x5c) {
      w.str(JSON.stringify(t.toString()));
      return;
    }
  }
  w.room(n + 2);
  w.byte(Q);
  w.bytes(b, 0, n);
  w.byte(Q);
}

/** A number as JSON.stringify writes it (NaN and infinities: null). */
function jsonNum(w: ByteWriter, n: number): void {
  if (Number.isFinite(n)) w.num(n);
  else w.str('null');
}

const orNullNum = (w: ByteWriter, n: number): void => (n < 0 ? w.str('null') : jsonNum(w, n));

function jsonStrOrNull(w: ByteWriter, s: string | null): void {
  if (s === null) w.str('null');
  else jsonStr(w, s);
}

/**
 * A detail value as JSON.stringify writes it; false when the key is to be left out
 * (undefined, a function, a symbol: JSON.stringify omits those in an object).
 */
function jsonValue(w: ByteWriter, v: unknown, key: string): boolean {
  switch (typeof v) {
    case 'string':
      jsonStr(w, v);
      return true;
    case 'number':
      jsonNum(w, v);
      return true;
    case 'boolean':
      w.str(v ? 'true' : 'false');
      return true;
    case 'undefined':
    case 'function':
    case 'symbol':
      return false;
  }
  if (v === null) {
    w.str('null');
    return true;
  }
  // arrays, nested objects, anything with toJSON, bigint (which throws as it would)
  const text = JSON.stringify({ [key]: v });
  if (text === '{}') return false;
  // '{' key ':' value '}'
  w.str(text.slice(JSON.stringify(key).length + 2, -1));
  return true;
}

/** A detail made as an object literal (its keys are then exactly what a spread copies). */
function isPlainObject(o: object): boolean {
  return Object.getPrototypeOf(o) === Object.prototype;
}

const FIELD = {
  head: '{"schema_version":1,"time":',
  epoch: ',"epoch":',
  kind: ',"kind":',
  profile: ',"profile":',
  family: ',"family":',
  src: ',"src":',
  sport: ',"sport":',
  srcHost: ',"src_host":',
  srcName: ',"src_name":',
  dst: ',"dst":',
  dport: ',"dport":',
  dstHost: ',"dst_host":',
  dstName: ',"dst_name":',
  detector: ',"detector":',
  count: ',"count":',
  bytes: ',"bytes":',
  detail: ',"detail":',
  text: ',"text":',
};

/**
 * The JSON twin of one line (jsonEvent()), written into `w` field by field in the
 * schema's order, byte for byte what `JSON.stringify(jsonEvent(...))` gives
 * (test/output/json-writer.test.ts compares them) plus the newline; the line's text as
 * a string or as ASCII bytes. False (nothing written) for what it leaves to the general
 * path: a detail that is not a plain object, or that already has a key the other hosts
 * would add.
 */
function writeEventJson(w: ByteWriter, text: string | null, textBytes: ByteWriter | null, ev: IplogEvent, hosts: LineHosts | undefined, profile: Profile): boolean {
  const d = ev.detail;
  let extra = 0;
  if (hosts !== undefined) {
    if (ev.kind === 'icmp.redirect') extra = 1;
    else if (hosts.gateway !== '') extra = 2;
    else if (hosts.quoted !== '') extra = 3;
    else if (hosts.mask !== '') extra = 4;
  }
  if (d !== null) {
    if (!isPlainObject(d)) return false;
    if (extra !== 0) for (const k in d) if (k === 'gateway_host' || k === 'target_host' || k === 'quoted_dst_host' || k === 'mask_host') return false;
  }
  const src = ev.src === null ? null : ev.src.toString();
  const dst = ev.dst === null ? null : ev.dst.toString();
  const srcHost = shown(hosts?.src);
  const dstHost = dst === null ? null : shown(hosts?.dst);
  w.str(FIELD.head);
  jsonStr(w, isoCached(ev.time));
  w.str(FIELD.epoch);
  jsonNum(w, ev.time);
  w.str(FIELD.kind);
  jsonStr(w, ev.kind);
  w.str(FIELD.profile);
  jsonStr(w, profile);
  w.str(FIELD.family);
  jsonNum(w, ev.family);
  w.str(FIELD.src);
  jsonStrOrNull(w, src);
  w.str(FIELD.sport);
  orNullNum(w, ev.sport);
  w.str(FIELD.srcHost);
  jsonStrOrNull(w, srcHost);
  w.str(FIELD.srcName);
  jsonStrOrNull(w, nameOf(srcHost, src));
  w.str(FIELD.dst);
  jsonStrOrNull(w, dst);
  w.str(FIELD.dport);
  if (dst === null) w.str('null');
  else orNullNum(w, ev.dport);
  w.str(FIELD.dstHost);
  jsonStrOrNull(w, dstHost);
  w.str(FIELD.dstName);
  jsonStrOrNull(w, nameOf(dstHost, dst));
  w.str(FIELD.detector);
  jsonStrOrNull(w, ev.detector);
  w.str(FIELD.count);
  orNullNum(w, ev.count);
  w.str(FIELD.bytes);
  orNullNum(w, ev.bytes);
  w.str(FIELD.detail);
  if (d === null && extra === 0) w.str('null');
  else {
    w.byte(0x7b); // {
    let first = true;
    if (d !== null) {
      for (const k in d) {
        if (!Object.prototype.hasOwnProperty.call(d, k)) continue;
        const at = w.pos;
        if (!first) w.byte(COMMA);
        jsonStr(w, k);
        w.byte(0x3a); // :
        if (jsonValue(w, (d as Record<string, unknown>)[k], k)) first = false;
        else w.pos = at;
      }
    }
    if (extra !== 0) {
      const h = hosts!;
      const pair = (k: string, v: string): void => {
        if (!first) w.byte(COMMA);
        first = false;
        jsonStr(w, k);
        w.byte(0x3a);
        jsonStr(w, v);
      };
      if (extra === 1) {
        pair('gateway_host', h.gateway);
        pair('target_host', h.quoted);
      } else if (extra === 2) {
        pair('gateway_host', h.gateway);
        pair('quoted_dst_host', h.quoted);
      } else if (extra === 3) pair('quoted_dst_host', h.quoted);
      else pair('mask_host', h.mask);
    }
    w.byte(0x7d); // }
  }
  w.str(FIELD.text);
  if (textBytes !== null) jsonBytes(w, textBytes);
  else jsonStr(w, text!);
  w.byte(0x7d);
  w.byte(0x0a);
  return true;
}

// the fields of a connection attempt's object around its facts (JsonSink.connectionV4)
const C_SPORT = ascii('","sport":');
const C_SRC_HOST = ascii(',"src_host":"');
const C_DST = ascii('","src_name":null,"dst":"');
const C_DPORT = ascii('","dport":');
const C_DST_HOST = ascii(',"dst_host":');
const C_DST_HOST_Q = ascii(',"dst_host":"');
const C_DETAIL_NULL = ascii('null,"dst_name":null,"detector":null,"count":null,"bytes":null,"detail":{"service":"');
const C_DETAIL_Q = ascii('","dst_name":null,"detector":null,"count":null,"bytes":null,"detail":{"service":"');
const C_PORT_ = ascii('port ');
const C_FLAGS = ascii('","tcp_flags":');
const C_TEXT = ascii('},"text":"');
const C_END = ascii('"}\n');

/** A service name that is written in a JSON string as it is (printable ASCII, no `"` or `\`). */
function plainJson(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c < 0x20 || c >= 0x7f || c === Q || c === 0x5c) return false;
  }
  return true;
}

/** Writes one JSON object per line to a writer (stdout, a file, memory). */
export class JsonSink implements LineSink {
  private readonly out: ChunkBuffer;
  /** the text of the line being written (line()) */
  private readonly cur = new ByteWriter(256);

  constructor(
    private readonly profile: Profile,
    emit: ((chunk: string) => void) | ChunkBuffer,
    onClose?: () => void,
  ) {
    this.out = emit instanceof ChunkBuffer ? emit : new ChunkBuffer(emit, onClose);
  }

  /** Standard output (fd 1). */
  static stdout(profile: Profile, faults?: OutputFaults): JsonSink {
    return new JsonSink(profile, ChunkBuffer.stdout(faults));
  }

  /** A file opened for appending, mode 0644 (like -l). */
  static openFile(path: string, profile: Profile, faults?: OutputFaults): JsonSink {
    try {
      return new JsonSink(profile, ChunkBuffer.file(path, faults));
    } catch (e) {
      throw new IplogError(`Unable to open "${path}" for writing: ${(e as Error).message}.`, ERR.OUTPUT_OPEN);
    }
  }

  /** Collects the output in memory (tests). */
  static memory(profile: Profile): { sink: JsonSink; text: () => string } {
    const m = ChunkBuffer.memory();
    return { sink: new JsonSink(profile, m.buffer), text: m.text };
  }

  write(now: number, text: string, ev?: IplogEvent, hosts?: LineHosts): void {
    if (ev === undefined || !writeEventJson(this.out.bytes(), text, null, ev, hosts, this.profile)) {
      this.out.add(JSON.stringify(jsonEvent(now, text, ev, hosts, this.profile)) + '\n');
    } else this.out.added();
  }

  /** The JSON twin of the line of `ev`, its text written by the line catalogue (lines.ts writeLine()). */
  line(now: number, ev: IplogEvent, hosts: LineHosts, logDest: boolean): void {
    const cur = this.cur;
    cur.reset();
    writeLine(cur, ev, hosts, logDest);
    if (cur.exotic || !writeEventJson(this.out.bytes(), null, cur, ev, hosts, this.profile)) this.write(now, lineText(ev, hosts, logDest), ev, hosts);
    else this.out.added();
  }

  /** the head of a connection attempt's object up to its source, for the second `connSec` */
  private connSec = NaN;
  private connHead: Uint8Array = new Uint8Array(0);

  /**
   * The direct path (LineSink.connectionV4): a connection attempt's object written from
   * its facts, byte for byte what line() writes for the event tcp.ts makes of them
   * (test/output/direct-path.test.ts): the head (time, kind, profile) made once per
   * second, addresses and numbers as digits, the text by the line catalogue. A service
   * name JSON would escape takes the event path.
   */
  connectionV4(now: number, src: number, sport: number, dst: number, dport: number, rawFlags: number, logDest: boolean): void {
    const svc = serviceBytes(dport, 'tcp');
    if (svc !== null && !plainJson(svc)) {
      const ev = event('tcp.connection_attempt', now, IpAddr.v4(src), { dst: IpAddr.v4(dst), sport, dport, detail: { service: serviceName(dport, 'tcp'), tcp_flags: rawFlags } });
      this.line(now, ev, { src: ev.src!.toString(), dst: logDest ? ev.dst!.toString() : '', gateway: '', quoted: '', mask: '' }, logDest);
      return;
    }
    if (now !== this.connSec) this.connHeadFor(now);
    const w = this.out.bytes();
    w.room(this.connHead.length + CONN_LINE_MAX + 400);
    const b = w.buf;
    let p = putBytes(b, w.pos, this.connHead);
    p = putQuad(b, p, src);
    p = putBytes(b, p, C_SPORT);
    p = putUint(b, p, sport);
    p = putBytes(b, p, C_SRC_HOST);
    p = putQuad(b, p, src);
    p = putBytes(b, p, C_DST);
    p = putQuad(b, p, dst);
    p = putBytes(b, p, C_DPORT);
    p = putUint(b, p, dport);
    if (logDest) {
      p = putQuad(b, putBytes(b, p, C_DST_HOST_Q), dst);
      p = putBytes(b, p, C_DETAIL_Q);
    } else p = putBytes(b, putBytes(b, p, C_DST_HOST), C_DETAIL_NULL);
    if (svc !== null) p = putBytes(b, p, svc);
    else p = putUint(b, putBytes(b, p, C_PORT_), dport);
    p = putBytes(b, p, C_FLAGS);
    p = putUint(b, p, rawFlags);
    p = putBytes(b, p, C_TEXT);
    p = writeConnectionV4(b, p, src, sport, dst, dport, logDest);
    w.pos = putBytes(b, p, C_END);
    this.out.added();
  }

  /** `{"schema_version":1,"time":...,"src":"` of a connection attempt at `now`. */
  private connHeadFor(now: number): void {
    const h = new ByteWriter(256);
    h.str(FIELD.head);
    jsonStr(h, isoCached(now));
    h.str(FIELD.epoch);
    jsonNum(h, now);
    h.str(FIELD.kind);
    jsonStr(h, 'tcp.connection_attempt');
    h.str(FIELD.profile);
    jsonStr(h, this.profile);
    h.str(FIELD.family);
    h.str('4');
    h.str(FIELD.src);
    h.byte(Q);
    this.connHead = h.buf.subarray(0, h.pos);
    this.connSec = now;
  }

  /** A record that is no line's twin (the replay's final `iplog.summary`), already shaped. */
  writeRecord(record: object): void {
    this.out.add(JSON.stringify(record) + '\n');
  }

  flush(): void {
    this.out.flush();
  }

  close(_now: number): void {
    this.out.close();
  }
}

/**
 * Would the text lines go to standard output? The same decision as openSink() makes
 * (output/sinks/open.ts chooseSink()).
 */
export function textOnStdout(s: Settings, mode: 'replay' | 'live'): boolean {
  return chooseSink(s, mode).kind === 'stdout';
}

export interface Outputs {
  /** what the pipeline writes to: the text sink, the JSON sink, or a tee of both */
  sink: LineSink;
  /** the text sink, when the text lines go anywhere (hand it to sinkClosed()) */
  text: LineSink | null;
  /** the JSON sink of --json, if any */
  json?: JsonSink | null;
}

/**
 * The sinks of a run. Without `--json` just the text sink. `--json FILE` adds a JSON
 * sink on FILE beside the text. `--json -` puts JSON on standard output, which then
 * carries nothing else: text lines still go to a log file or syslog, but if they would
 * have gone to standard output (a replay without -l) they are not written; `-L` with
 * `--json -` is a start-up error. `openText` opens the text sink (openSink()) and is only
 * called when the text goes somewhere. `faults` (pass the same to openSink()) receives
 * the write errors of the JSON output and learns how many outputs the run has.
 */
export function openOutputs(s: Settings, mode: 'replay' | 'live', openText: () => LineSink, faults?: OutputFaults): Outputs {
  if (faults !== undefined) faults.outputs = 1;
  if (s.jsonFile === undefined) {
    const text = openText();
    return { sink: text, text };
  }
  if (faults !== undefined) faults.outputs = 2;
  if (s.jsonFile === '-') {
    if (s.flags.stdout) {
      throw new IplogError('--json - and --stdout (-L) both write standard output; send the text lines to a file with -l FILE, or the JSON to a file with --json FILE.', ERR.JSON_STDOUT);
    }
    const json = JsonSink.stdout(s.profile, faults);
    if (textOnStdout(s, mode)) {
      if (faults !== undefined) faults.outputs = 1;
      return { sink: json, text: null, json };
    }
    const text = openText();
    return { sink: new TeeSink([text, json]), text, json };
  }
  const json = JsonSink.openFile(s.jsonFile, s.profile, faults);
  let text: LineSink;
  try {
    text = openText();
  } catch (e) {
    json.close(0);
    throw e;
  }
  return { sink: new TeeSink([text, json]), text, json };
}


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
  const src = ev.src.toString();
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

/** Writes one JSON object per line to a writer (stdout, a file, memory). */
export class JsonSink implements LineSink {
  private readonly out: ChunkBuffer;

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
    this.out.add(JSON.stringify(jsonEvent(now, text, ev, hosts, this.profile)) + '\n');
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


/**
 * Syslog message formats (pure functions; the transports live in syslog.ts).
 *
 * Local socket (/dev/log): exactly what glibc's syslog(3) sends for iplog 2.2.3's
 * `openlog("iplog", LOG_PID|LOG_NDELAY, facility)` + `syslog(priority, "%s", text)`:
 *
 *     <PRI>Mmm dd HH:MM:SS iplog[PID]: text
 *
 * PRI = facility * 8 + priority; the time is strftime "%h %e %T" in the C locale and local
 * time (day padded with a space); no HOSTNAME (the daemon adds its own); no trailing
 * newline or NUL on a datagram socket. Byte-identical to the oracle's captured datagrams
 * (test/output/fixtures/crafted_tcp_flags.syslog_*.datagrams.txt) but for time and pid.
 *
 * Which time: glibc stamps the wall clock at the moment of sending. We stamp `now`, the
 * network time the line is about (the packet's time): in replay that is the only
 * deterministic choice and says when the event happened; in live capture packet time is
 * the kernel's arrival time, equal to glibc's wall clock to the second, and a line held
 * back while syslogd was unavailable keeps the time of its event instead of the time it
 * finally got through.
 *
 * Remote (`--syslog-server`):
 *  - rfc3164: `<PRI>Mmm dd HH:MM:SS HOSTNAME iplog[PID]: text`, the BSD form a relay
 *    writes (RFC 3164 §4.1.2: HOSTNAME without the domain);
 *  - rfc5424: `<PRI>1 YYYY-MM-DDTHH:MM:SSZ HOSTNAME iplog PID - - text` (UTC, whole
 *    seconds, no structured data, no BOM).
 *  TCP framing (RFC 6587): octet counting (`LEN SP MSG`) for rfc5424, which RFC 6587
 *  and RFC 5425 prefer and rsyslog/syslog-ng detect; a trailing LF for rfc3164, the
 *  traditional framing every BSD-style collector accepts (a LF inside the text would end
 *  the frame early, so it is replaced by a space).
 */
import { hostname } from 'node:os';
import { stamp } from '../timestamp';
import type { SyslogFormat } from '../../config/settings';

/** The tag iplog 2.2.3 passes to openlog(). */
export const SYSLOG_TAG = 'iplog';

/** PRI of a message: facility code (not shifted: daemon = 3) * 8 + priority (notice = 5). */
export function syslogPri(facility: number, priority: number): number {
  return ((facility & 0x7f) << 3) | (priority & 7);
}

/** What glibc's syslog() writes to /dev/log. */
export function formatLocal(pri: number, sec: number, pid: number, text: string): string {
  return `<${pri}>${stamp(sec)} ${SYSLOG_TAG}[${pid}]: ${text}`;
}

/** RFC 3164 with HOSTNAME, for a remote collector. */
export function formatRfc3164(pri: number, sec: number, host: string, pid: number, text: string): string {
  return `<${pri}>${stamp(sec)} ${host} ${SYSLOG_TAG}[${pid}]: ${text}`;
}

/** RFC 5424, no structured data. */
export function formatRfc5424(pri: number, sec: number, host: string, pid: number, text: string): string {
  return `<${pri}>1 ${isoSecond(sec)} ${host} ${SYSLOG_TAG} ${pid} - - ${text}`;
}

/** `YYYY-MM-DDTHH:MM:SSZ` (RFC 5424 TIMESTAMP, UTC, no fraction). */
export function isoSecond(sec: number): string {
  const iso = new Date(Math.floor(sec) * 1000).toISOString(); // 2024-11-22T21:45:22.000Z
  return `${iso.slice(0, 19)}Z`;
}

/** RFC 6587 framing of one message on a TCP stream. */
export function frameTcp(format: SyslogFormat, msg: string): string {
  if (format === 'rfc5424') return `${Buffer.byteLength(msg)} ${msg}`;
  return `${msg.includes('\n') ? msg.replace(/\n/g, ' ') : msg}\n`;
}

/**
 * HOSTNAME field: printable ASCII without spaces (RFC 5424 PRINTUSASCII, 1-255), `-` if
 * none. RFC 3164 wants the name without its domain; RFC 5424 prefers the FQDN.
 */
export function syslogHostname(format: SyslogFormat, name: string = hostname()): string {
  let h = name.replace(/[^\x21-\x7e]/g, '');
  if (format === 'rfc3164' && !/^[0-9.]+$/.test(h) && !h.includes(':')) h = h.split('.')[0] ?? '';
  h = h.slice(0, 255);
  return h.length > 0 ? h : '-';
}

/**
 * The line that reports lines the sink had to drop (bounded buffer full while syslogd was
 * unavailable or not reading); sent, as an ordinary iplog message, once delivery resumes,
 * right where the gap is.
 */
export function droppedText(n: number): string {
  return `${n} ${n === 1 ? 'message' : 'messages'} dropped while syslog was unavailable.`;
}

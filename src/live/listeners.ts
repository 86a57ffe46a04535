/**
 * The host's own listening sockets (issue 9 point 2), for the modern profile live on a
 * host: /proc/net/tcp, tcp6 (state LISTEN) and /proc/net/udp, udp6 (unconnected sockets),
 * read in the sensor's network namespace. A first contact that got no answer within the
 * grace time (SILENT) to a port with no listener is what a firewall dropping it looks like:
 * the kernel would have refused it (RST, port unreachable), so it counts as REJECT. For UDP
 * this sharpens the Threshold Random Walk, where silence is otherwise neutral: a UDP scan of
 * a host that drops what it does not serve is seen after four closed ports.
 *
 * The unit is the port (65,536 bits per protocol): a socket bound to the wildcard or to any
 * address other than loopback makes its port "listening" for every protected address and
 * both families, which errs towards SILENT, never towards a false REJECT. Loopback-only
 * sockets do not count (nothing from outside reaches them). The tables are re-read at most
 * every `maxAgeMs` (2 s), when a silent contact asks, never per packet; a file that cannot be
 * read makes every port "listening" (no sharpening) and is counted.
 */
import { readFileSync } from 'node:fs';

export const PROTO_TCP = 6;
export const PROTO_UDP = 17;

/** What the modern engine asks (src/detect/modern/engine.ts): is anything listening on this port? */
export interface ListenerOracle {
  listening(proto: number, port: number): boolean;
}

export class ProcListeners implements ListenerOracle {
  private readonly tcp = new Uint8Array(8192);
  private readonly udp = new Uint8Array(8192);
  private readAt = -Infinity;
  private ok = false;
  /** reads that failed (a /proc file missing or unreadable) */
  failures = 0;
  /** reads done */
  reads = 0;

  constructor(
    private readonly root = '/proc/net',
    private readonly maxAgeMs = 2000,
    private readonly clock: () => number = Date.now,
  ) {}

  listening(proto: number, port: number): boolean {
    const now = this.clock();
    if (now - this.readAt >= this.maxAgeMs) this.refresh(now);
    if (!this.ok) return true;
    const bits = proto === PROTO_TCP ? this.tcp : proto === PROTO_UDP ? this.udp : null;
    if (bits === null) return true;
    return (bits[port >>> 3]! & (1 << (port & 7))) !== 0;
  }

  refresh(now = this.clock()): void {
    this.readAt = now;
    this.reads++;
    this.tcp.fill(0);
    this.udp.fill(0);
    try {
      // TCP: LISTEN (0A); UDP: unconnected (remote port 0), whatever the state column says
      mark(readFileSync(`${this.root}/tcp`, 'utf8'), this.tcp, 'tcp');
      mark(readFileSync(`${this.root}/udp`, 'utf8'), this.udp, 'udp');
      // IPv6 may be disabled in the namespace: its files are then absent
      for (const [f, bits, kind] of [['tcp6', this.tcp, 'tcp'], ['udp6', this.udp, 'udp']] as const) {
        let text: string | null = null;
        try {
          text = readFileSync(`${this.root}/${f}`, 'utf8');
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
        if (text !== null) mark(text, bits, kind);
      }
      this.ok = true;
    } catch {
      this.failures++;
      this.ok = false;
    }
  }
}

function mark(text: string, bits: Uint8Array, kind: 'tcp' | 'udp'): void {
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 4) continue;
    const [laddr, lport] = f[1]!.split(':') as [string, string];
    const rport = f[2]!.split(':')[1];
    if (kind === 'tcp' ? f[3] !== '0A' : rport !== '0000') continue;
    if (loopback(laddr)) continue;
    const port = parseInt(lport, 16);
    if (port >= 0 && port < 65536) bits[port >>> 3]! |= 1 << (port & 7);
  }
}

/**
 * Is the /proc address text a loopback address? The kernel prints each 32-bit word of the
 * address as it lies in memory (%08X of a native-endian load), so on a little-endian host
 * 127.0.0.1 is 0100007F.
 */
export function loopback(hex: string, littleEndian = LITTLE_ENDIAN): boolean {
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    const word = hex.slice(w, w + 8);
    const b = [0, 2, 4, 6].map((k) => parseInt(word.slice(k, k + 2), 16));
    bytes.push(...(littleEndian ? b.reverse() : b));
  }
  if (bytes.length === 4) return bytes[0] === 127;
  if (bytes.length !== 16) return false;
  const zero = (from: number, to: number) => bytes.slice(from, to).every((x) => x === 0);
  if (zero(0, 15) && bytes[15] === 1) return true; // ::1
  return zero(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff && bytes[12] === 127; // ::ffff:127.x
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

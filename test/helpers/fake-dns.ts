/**
 * A fake DNS server on 127.0.0.1 (UDP, random port) for reverse-DNS tests. It answers PTR
 * queries with hand-built messages, so tests never touch a real resolver.
 *
 * Replies are chosen per query by a handler, from the queried address (`a.b.c.d`, decoded from
 * `d.c.b.a.in-addr.arpa`, or undefined for other names):
 * - `{ kind: 'answer', name }`: one PTR record; `name` is split at dots into labels and each
 *   label is sent as raw UTF-8 bytes, so spaces, newlines and parentheses go out unescaped
 *   (what a hostile name server can send). `labels` gives the labels directly instead.
 * - `{ kind: 'nxdomain' }`, `{ kind: 'servfail' }`: an answerless reply with that RCODE.
 * - `{ kind: 'drop' }`: never answer (the query is still recorded).
 * Any reply may carry `delayMs` (answer later) and `ttl` (default 0, so no resolver-side cache
 * keeps the answer).
 */
import { createSocket, type Socket } from 'node:dgram';

export type FakeDnsReply =
  | { kind: 'answer'; name?: string; labels?: readonly string[]; ttl?: number; delayMs?: number }
  | { kind: 'nxdomain'; delayMs?: number }
  | { kind: 'servfail'; delayMs?: number }
  | { kind: 'drop' };

export type FakeDnsHandler = (addr: string | undefined, qname: string, qtype: number) => FakeDnsReply;

export interface FakeDnsQuery {
  readonly id: number;
  readonly qname: string;
  readonly qtype: number;
  readonly addr: string | undefined;
}

export interface FakeDns {
  readonly port: number;
  /** `127.0.0.1:PORT`, ready for `servers`. */
  readonly server: string;
  /** Every query received, in arrival order. */
  readonly queries: FakeDnsQuery[];
  /** Queries for one address. */
  queriesFor(addr: string): number;
  setHandler(handler: FakeDnsHandler): void;
  close(): Promise<void>;
}

const TYPE_PTR = 12;
const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;

interface Question {
  id: number;
  flags: number;
  qname: string;
  qtype: number;
  /** The question section as received (name, type, class), echoed in the reply. */
  questionBytes: Buffer;
}

function parseQuery(msg: Buffer): Question | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    if (off >= msg.length) return undefined;
    const len = msg[off];
    if (len === 0) {
      off += 1;
      break;
    }
    if (len > 63 || off + 1 + len > msg.length) return undefined;
    labels.push(msg.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
  if (off + 4 > msg.length) return undefined;
  return {
    id: msg.readUInt16BE(0),
    flags: msg.readUInt16BE(2),
    qname: labels.join('.'),
    qtype: msg.readUInt16BE(off),
    questionBytes: msg.subarray(12, off + 4),
  };
}

/** `5.2.0.192.in-addr.arpa` → `192.0.2.5`. */
function ptrAddr(qname: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa\.?$/i.exec(qname);
  return m === null ? undefined : `${m[4]}.${m[3]}.${m[2]}.${m[1]}`;
}

function encodeName(labels: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, 'utf8');
    if (b.length === 0 || b.length > 63) throw new Error(`fake-dns: bad label length ${b.length}`);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function buildReply(q: Question, rcode: number, answer?: { rdata: Buffer; ttl: number }): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  // QR=1, opcode 0, AA=1, RD copied, RA=1, rcode.
  header.writeUInt16BE(0x8000 | 0x0400 | (q.flags & 0x0100) | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answer === undefined ? 0 : 1, 6);
  const parts = [header, q.questionBytes];
  if (answer !== undefined) {
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question name
    rr.writeUInt16BE(TYPE_PTR, 2);
    rr.writeUInt16BE(1, 4); // class IN
    rr.writeUInt32BE(answer.ttl, 6);
    rr.writeUInt16BE(answer.rdata.length, 10);
    parts.push(rr, answer.rdata);
  }
  return Buffer.concat(parts);
}

export async function startFakeDns(handler: FakeDnsHandler): Promise<FakeDns> {
  const socket: Socket = createSocket('udp4');
  let current = handler;
  const queries: FakeDnsQuery[] = [];
  const timers = new Set<NodeJS.Timeout>();

  socket.on('message', (msg, rinfo) => {
    const q = parseQuery(msg);
    if (q === undefined) return;
    const addr = ptrAddr(q.qname);
    queries.push({ id: q.id, qname: q.qname, qtype: q.qtype, addr });
    const reply = current(addr, q.qname, q.qtype);
    if (reply.kind === 'drop') return;
    let out: Buffer;
    if (reply.kind === 'nxdomain') out = buildReply(q, RCODE_NXDOMAIN);
    else if (reply.kind === 'servfail') out = buildReply(q, RCODE_SERVFAIL);
    else {
      const labels = reply.labels ?? (reply.name ?? '').split('.').filter((l) => l.length > 0);
      out = buildReply(q, 0, { rdata: encodeName(labels), ttl: reply.ttl ?? 0 });
    }
    const send = (): void => {
      socket.send(out, rinfo.port, rinfo.address);
    };
    if (reply.delayMs !== undefined && reply.delayMs > 0) {
      const t = setTimeout(() => {
        timers.delete(t);
        send();
      }, reply.delayMs);
      timers.add(t);
    } else {
      send();
    }
  });

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const port = socket.address().port;

  return {
    port,
    server: `127.0.0.1:${port}`,
    queries,
    queriesFor: (addr) => queries.filter((q) => q.addr === addr).length,
    setHandler: (h) => {
      current = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        socket.close(() => resolve());
      }),
  };
}

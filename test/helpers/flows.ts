/** TCP segments with sequence numbers and whole sessions, for the modern profile's tests. */
import { Harness } from './engine';
import { ipv4, ipv6, tcp, SYN, ACK, FIN, PSH, DF } from './packets';

/** one TCP segment src:sport -> dst:dport, IPv4 or IPv6 by the addresses (o.res: the reserved bits of byte 12; o.ttl: the hop limit for IPv6) */
export function seg(src: string, dst: string, sport: number, dport: number, flags: number, seq = 1000, ack = 0, o: { ttl?: number; frag?: number; data?: number; res?: number } = {}): Buffer {
  const t = Buffer.from(tcp(sport, dport, flags, new Uint8Array(o.data ?? 0)));
  t.writeUInt32BE(seq >>> 0, 4);
  t.writeUInt32BE(ack >>> 0, 8);
  t[12] = (5 << 4) | (o.res ?? 0);
  if (src.includes(':')) return ipv6({ src, dst, nh: 6, hlim: o.ttl ?? 64 }, t);
  return ipv4({ src, dst, proto: 6, ttl: o.ttl ?? 64, frag: o.frag ?? 0 }, t);
}

/** a full handshake and close between client c:cp and server s:sp at time t */
export function session(h: Harness, t: number, c: string, cp: number, s: string, sp: number, isn = 5000): void {
  h.feed(t, seg(c, s, cp, sp, SYN, 100, 0, { frag: DF }));
  h.feed(t + 0.001, seg(s, c, sp, cp, SYN | ACK, isn, 101, { frag: DF }));
  h.feed(t + 0.002, seg(c, s, cp, sp, ACK, 101, isn + 1, { frag: DF }));
  h.feed(t + 0.01, seg(c, s, cp, sp, ACK | PSH, 101, isn + 1, { frag: DF, data: 100 }));
  h.feed(t + 0.02, seg(s, c, sp, cp, ACK | PSH, isn + 1, 201, { frag: DF, data: 500 }));
  h.feed(t + 0.03, seg(c, s, cp, sp, FIN | ACK, 201, isn + 501, { frag: DF }));
  h.feed(t + 0.04, seg(s, c, sp, cp, FIN | ACK, isn + 501, 202, { frag: DF }));
  h.feed(t + 0.05, seg(c, s, cp, sp, ACK, 202, isn + 502, { frag: DF }));
}

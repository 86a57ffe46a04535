/** TCP: SYN flood (modern): SYNs to one destination (any ports), or to one (destination, port), from many (spoofed) sources. */
import { defineModern } from './define';

export default defineModern({
  index: 12,
  scope: 'aggregate',
  name: 'syn-flood',
  title: 'TCP: SYN flood',
  flag: 'syn_flood',
  key: 'destination (address); then (address, port)',
  unit: 'SYN-class segments (SYN, no ACK, FIN or RST) from originators; handshakes completed to the responder\'s ISN + 1',
  algorithm: 'Per-second ring, a true sliding 5-s window: at least the threshold of SYNs with fewer than 10 % of them completing a handshake, judged first for the destination (all its ports: a flood to one port, or to random ports as Mirai\'s SYN attack sends), then, while the destination is not in mode, for the (destination, port) (a flood to one port of a busy server whose other ports complete their handshakes). A destination\'s line lists the ports of its window (`[ports a,b,...]`, 10 at most, up to 16 remembered, least recently seen replaced), a (destination, port)\'s names its port. Sources are counted exactly (up to 64 per entry, least recently seen replaced): when one source sent at least 90 % of the window\'s SYNs the line names it (`TCP: SYN flood detected to D [port N] from S`), otherwise `... from many sources` (JSON `src: null`, `detail.sources`, `source_role: "aggregate"`: never a ban subject). While the destination is in mode its SYNs are counted on its entry only, and per-packet connection-attempt lines to it are suppressed; while only a (destination, port) is, those to that port. While the destination is in mode, its SYNs from sources the tables do not know pass the flood sieve (below, State and bounds) before any per-source state is made: only sources that come back within its span are tracked.',
  threshold: 1000,
  windowSec: 5,
  holdSec: 0,
  endSec: 60,
  spoofable: 3,
  role: 'aggregate',
  resolve: 'never',
  falsePositives: 'A flash crowd to a server that stopped answering (SYNs retried, handshakes not completing): it is reported, as the server is under strain either way.',
  bounds: 'the flood sieve: 2,048 to 16,384 sources (26 bytes each) from --state-memory; the aggregate table: one entry per destination and one per (destination, port), 64 sources each, sized from --state-memory; evicted by age, entries in mode kept; each made at its key\'s second SYN (or a completed handshake), the first kept in the SYN-flood admission table (4 per aggregate entry, oldest evicted first)',
});

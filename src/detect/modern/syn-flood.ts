/** TCP: SYN flood (modern): SYNs to one (destination, port) from many (spoofed) sources. */
import { defineModern } from './define';

export default defineModern({
  index: 12,
  scope: 'aggregate',
  name: 'syn-flood',
  title: 'TCP: SYN flood',
  flag: 'syn_flood',
  key: 'destination (address, port)',
  unit: 'SYN-class segments (SYN, no ACK, FIN or RST) from originators; handshakes completed to the responder\'s ISN + 1',
  algorithm: 'Per-second ring, a true sliding 5-s window: at least the threshold of SYNs with fewer than 10 % of them completing a handshake. Sources are counted exactly (up to 64 per destination, least recently seen replaced): when one source sent at least 90 % of the window\'s SYNs the line names it (`TCP: SYN flood detected to D [port N] from S`), otherwise `... from many sources` (JSON `src: null`, `detail.sources`, `source_role: "aggregate"`: never a ban subject). Per-packet connection-attempt lines to (D, N) are suppressed while in mode.',
  threshold: 1000,
  windowSec: 5,
  holdSec: 0,
  endSec: 60,
  spoofable: 3,
  role: 'aggregate',
  resolve: 'never',
  falsePositives: 'A flash crowd to a server that stopped answering (SYNs retried, handshakes not completing): it is reported, as the server is under strain either way.',
  bounds: 'the aggregate table: one entry per (destination, protocol, port), 64 sources each, sized from --state-memory; evicted by age, entries in mode kept',
});

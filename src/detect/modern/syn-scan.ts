/** TCP: SYN scan (modern): distinct TCP first contacts (destination, port) opened by a SYN. Threshold Random Walk on the outcome of each first contact: +1 for REJECT (our RST or an ICMP unreachable quoting it), HALF-OPEN (our SYN-ACK answered by its RST, or never acknowledged) and SILENT (no answer within 3 s), -1 for SUCCESS (the handshake completed to our ISN + 1); floor -4 (reflecting, never benign for good); forgotten after 30 min idle. Written as `TCP: port scan` when the episode completed handshakes or most SYNs carried DF (a connect() scan). In mode, and over its quota of 64 pending first SYNs before, its further SYNs to the host it scans are counted on the episode without contacts (docs/detectors.md, "A source in SYN-scan mode, or at its quota"). */
import { defineModern } from './define';

export default defineModern({
  index: 0,
  name: 'syn-scan',
  title: 'TCP: SYN scan',
  flag: 'syn_scan',
  key: 'source (IPv4 address, IPv6 /64)',
  unit: 'distinct TCP first contacts (destination, port) opened by a SYN',
  algorithm: 'Threshold Random Walk on the outcome of each first contact: +1 for REJECT (our RST or an ICMP unreachable quoting it), HALF-OPEN (our SYN-ACK answered by its RST, or never acknowledged) and SILENT (no answer within 3 s), -1 for SUCCESS (the handshake completed to our ISN + 1); floor -4 (reflecting, never benign for good); forgotten after 30 min idle. Written as `TCP: port scan` when the episode completed handshakes or most SYNs carried DF (a connect() scan). In mode, and over its quota of 64 pending first SYNs before, its further SYNs to the host it scans are counted on the episode without contacts (docs/detectors.md, "A source in SYN-scan mode, or at its quota").',
  threshold: 4,
  windowSec: 0,
  holdSec: 2,
  endSec: 60,
  spoofable: 3,
  role: 'attacker',
  resolve: 'tcp',
  falsePositives: 'A host that retries many different closed ports or dead addresses (a misconfigured client, a NAT of many users); a source behind heavy loss (silence counts as failure).',
});

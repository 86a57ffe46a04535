/**
 * TCP port scan (iplog_scan.c, scan[0]).
 *
 * Counts SYN-without-ACK packets per (source, destination) pair: those with DF set, or
 * every one when SYN-scan detection is off, and also non-DF SYNs while the SYN-scan
 * counter of the pair is still below its threshold (iplog 2.2.3 counts those twice).
 * Packets, not ports, are counted: 15 SYNs to one port are a "port scan".
 * Bound: the shared scan table (128/256 buckets x 4 pairs). False positives: any client
 * opening 15 connections to one server within 50 s of each other (web browsers, mail).
 * Evidence: spoofable 3, or 0 (proof) when the source made a connect-probe in the episode
 * (src/evidence/handshake.ts): the footprint of a connect() scanner such as nmap -sT.
 */
import { defineDetector } from './define';

export default defineDetector({
  index: 0,
  name: 'port-scan',
  title: 'TCP: port scan',
  flag: 'portscan',
  threshold: 15,
  timeoutSec: 50,
  resolve: 'tcp',
  counts: 'SYN without ACK (DF set, or SYN-scan counter below its threshold)',
  evidence: { spoofable: 3, role: 'attacker', provable: true },
});

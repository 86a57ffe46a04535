/** MODERN_DETECTORS: the modern profile's registry, one line each, in output order (docs/detectors.md). */
import synScan from './syn-scan';
import nullScan from './null-scan';
import finScan from './fin-scan';
import xmasScan from './xmas-scan';
import ackScan from './ack-scan';
import maimonScan from './maimon-scan';
import udpScan from './udp-scan';
import pingFlood from './ping-flood';
import smurf from './smurf';
import portSweep from './port-sweep';
import pingSweep from './ping-sweep';
import arpSweep from './arp-sweep';
import synFlood from './syn-flood';
import distributedScan from './distributed-scan';
import decoyScan from './decoy-scan';
import udpFlood from './udp-flood';
import tinyFragment from './tiny-fragment';
import type { ModernDetectorDef } from './define';

export const MODERN_DETECTORS: readonly ModernDetectorDef[] = check([
  synScan,
  nullScan,
  finScan,
  xmasScan,
  ackScan,
  maimonScan,
  udpScan,
  pingFlood,
  smurf,
  portSweep,
  pingSweep,
  arpSweep,
  synFlood,
  distributedScan,
  decoyScan,
  udpFlood,
  tinyFragment,
]);

/** Slots as a const enum (inlined by tsc on the packet path); checked against the registry at load. */
export const enum M {
  SYN = 0,
  NULL = 1,
  FIN = 2,
  XMAS = 3,
  ACK = 4,
  MAIMON = 5,
  UDP = 6,
  PING = 7,
  SMURF = 8,
  PSWEEP = 9,
  PINGSWEEP = 10,
  ARPSWEEP = 11,
  /** detectors with a record per source: the first SOURCES of the registry */
  SOURCES = 12,
  SYNFLOOD = 12,
  DSCAN = 13,
  DECOY = 14,
  UDPFLOOD = 15,
  TINYFRAG = 16,
  TOTAL = 17,
}

function check(list: readonly ModernDetectorDef[]): readonly ModernDetectorDef[] {
  list.forEach((d, i) => {
    if (d.index !== i) throw new Error(`modern detector ${d.name} registered at ${i} but declares index ${d.index}`);
    if ((i < M.SOURCES) !== ((d.scope ?? 'source') === 'source')) throw new Error(`modern detector ${d.name}: the ${M.SOURCES} per-source detectors come first`);
  });
  if (list.length !== M.TOTAL) throw new Error(`M.TOTAL is ${M.TOTAL} but ${list.length} modern detectors are registered`);
  // hold timers pack (source, detector) as source * 32 + detector
  if (list.length > 32) throw new Error('at most 32 modern detectors');
  return list;
}

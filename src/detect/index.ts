/** DETECTORS: the registry of scan/flood detectors, one line each, in iplog's scan[] order. */
import { MAX_DETECTORS, type DetectorDef } from './define';
import portScan from './port-scan';
import nullScan from './null-scan';
import finScan from './fin-scan';
import synScan from './syn-scan';
import xmasScan from './xmas-scan';
import udpScan from './udp-scan';
import smurf from './smurf';
import pingFlood from './ping-flood';

export const DETECTORS: readonly DetectorDef[] = checkRegistry([portScan, nullScan, finScan, synScan, xmasScan, udpScan, smurf, pingFlood], Scan.TOTAL);

/**
 * Registration fails loudly (at load time) unless every detector sits at its declared
 * index, the handlers' slot numbers (`Scan`) cover exactly the registry, and the scan
 * table's per-pair masks have a bit for each.
 */
export function checkRegistry(list: readonly DetectorDef[], total: number): readonly DetectorDef[] {
  list.forEach((d, i) => {
    if (d.index !== i) throw new Error(`detector ${d.name} registered at ${i} but declares index ${d.index}`);
  });
  if (total !== list.length) throw new Error(`Scan.TOTAL is ${total} but ${list.length} detectors are registered`);
  if (list.length > MAX_DETECTORS) throw new Error(`${list.length} detectors registered; the scan table's masks hold ${MAX_DETECTORS}`);
  return list;
}

/**
 * Scan-table slots as a const enum: tsc inlines the numbers, so the per-packet handlers
 * do not load them from the module object (test/bench/run.ts).
 */
export const enum Scan {
  PORT = 0,
  NULL = 1,
  FIN = 2,
  SYN = 3,
  XMAS = 4,
  UDP = 5,
  SMURF = 6,
  PING = 7,
  TOTAL = 8,
}

/** DETECTORS: the registry of scan/flood detectors, one line each, in iplog's scan[] order. */
import type { DetectorDef } from './define';
import portScan from './port-scan';
import nullScan from './null-scan';
import finScan from './fin-scan';
import synScan from './syn-scan';
import xmasScan from './xmas-scan';
import udpScan from './udp-scan';
import smurf from './smurf';
import pingFlood from './ping-flood';

export const DETECTORS: readonly DetectorDef[] = [portScan, nullScan, finScan, synScan, xmasScan, udpScan, smurf, pingFlood];
DETECTORS.forEach((d, i) => {
  if (d.index !== i) throw new Error(`detector ${d.name} registered at ${i} but declares index ${d.index}`);
});

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

/** BACKENDS: the ban backend registry, one line per backend (docs/ban-backends.md). */
import type { BackendDef } from './backend';
import { setDryRunRegistry } from './dry-run';
import nftables from './nftables';
import ipset from './ipset';
import iptables from './iptables';
import pf from './pf';
import ipfw from './ipfw';
import command from './command';
import dryRun from './dry-run';
import crowdsec from './crowdsec';

export const BACKENDS: readonly BackendDef[] = [nftables, ipset, iptables, pf, ipfw, command, dryRun, crowdsec];

export function findBackend(name: string): BackendDef | undefined {
  return BACKENDS.find((b) => b.name === name);
}

setDryRunRegistry(findBackend);

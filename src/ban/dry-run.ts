/**
 * dry-run: decides exactly as a real backend would, renders the argv of a target backend
 * (`target`, nftables by default; the target's own parameters may be given too), and runs
 * nothing (sshguard's `null` backend, as a first-class backend). The argv are recorded
 * with their network time and written to the operational log (`ban action`, level info);
 * the BAN lines themselves are in the iplog output like with any backend. No state file
 * is read or written. This is what `iplog -r FILE --ban-backend dry-run` uses to show
 * what would have been banned, and when.
 */
import { defineBackend, resolveParams, type BackendDef, type Params } from './backend';

/** The registry is injected by index.ts (it lists this file, so no import cycle here). */
let registry: (name: string) => BackendDef | undefined = () => undefined;
export function setDryRunRegistry(find: (name: string) => BackendDef | undefined): void {
  registry = find;
}

function target(p: Params): { def: BackendDef; params: Params } {
  const def = registry(p.target!);
  if (def === undefined || def.name === 'dry-run') throw new Error(`dry-run: unknown target backend "${p.target}"`);
  const rest: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) if (k !== 'target') rest[k] = v;
  // the command backend has no usable defaults: show its documented example instead
  return { def, params: resolveParams(def, { ...(def.example ?? {}), ...rest }) };
}

export default defineBackend({
  name: 'dry-run',
  summary: 'decide and record what a target backend would run, run nothing',
  notes: 'See "Dry run" above. The argv below are those of the default target, nftables.',
  params: {
    target: { default: 'nftables', doc: 'backend whose argv are recorded (its parameters may be given too)' },
  },
  passthrough: true,
  kernelExpiry: (p) => {
    const t = target(p);
    return t.def.kernelExpiry(t.params);
  },
  validate(p) {
    try {
      target(p);
      return undefined;
    } catch (e) {
      return (e as Error).message.replace(/^dry-run: /, '');
    }
  },
  start: (p) => {
    const t = target(p);
    return t.def.start(t.params);
  },
  ban: (p, addr, family, seconds) => {
    const t = target(p);
    return t.def.ban(t.params, addr, family, Math.min(seconds, t.def.maxSeconds ?? seconds));
  },
  unban: (p, addr, family) => {
    const t = target(p);
    return t.def.unban(t.params, addr, family);
  },
  flush: (p) => {
    const t = target(p);
    return t.def.flush(t.params);
  },
  stop: (p) => {
    const t = target(p);
    return t.def.stop(t.params);
  },
  check: (p) => {
    const t = target(p);
    return t.def.check(t.params);
  },
});

/**
 * The recorded runs' variants: suffix of `test/conformance/out/<capture>.<variant>.log` →
 * the options the original iplog 2.2.3 was started with (as ../shared/tools/conformance.mjs).
 */
import { join } from 'node:path';

export const CORPUS = join(__dirname, '..', '..', '..', 'test', 'conformance');

const conf = (name: string) => ['--config', join(CORPUS, 'conf', `${name}.conf`)];

export const VARIANTS: Record<string, string[]> = {
  default: [],
  nores_dest: ['-N', '-D'],
  logip_dest: ['-w', '-D'],
  scans_only: ['-m'],
  udp_false: ['--udp=false'],
  tcp_false: ['--tcp=false'],
  no_syn_scan2: ['--detect-syn-scan=false'],
  verbose: ['-V'],
  verbose_nores_dest: ['-V', '-N', '-D'],
  conf_filters: conf('filters'),
  conf_filters_nores_dest: [...conf('filters'), '-N', '-D'],
  conf_badhost: conf('badhost'),
  conf_errors: conf('errors'),
  conf_icmpnames: conf('icmpnames'),
};

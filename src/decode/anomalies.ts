/**
 * Named anomaly counters (Suricata's decoder events, Zeek's weirds).
 *
 * Every malformed or unexpected input that a decoder or reader meets becomes one
 * increment of a counter named `<layer>.<problem>`, never an exception. The table is
 * a fixed set of numeric slots so the hot path increments an array element.
 *
 * Adding a counter: append a name to ANOMALY_NAMES; the index is its position.
 */
export const ANOMALY_NAMES = [
  // link layer
  'link.unsupported_type',
  'link.truncated',
  'link.not_ipv4',
  'ethernet.truncated',
  'vlan.truncated',
  'sll.truncated',
  'sll2.truncated',
  'null.truncated',
  // IPv4
  'ipv4.truncated',
  'ipv4.hlen_too_small',
  'ipv4.total_len_too_small',
  'ipv4.bad_checksum',
  'ipv4.version_not_4',
  'ipv4.caplen_short_of_total_len',
  'ipv4.other_protocol',
  // fragments
  'frag.oversized',
  'frag.duplicate',
  'frag.overlap',
  'frag.evicted',
  'frag.expired',
  'frag.reassembled',
  // transport
  'tcp.truncated',
  'udp.truncated',
  'udp.len_too_small',
  'icmp.truncated',
  // capture records
  'capture.caplen_exceeds_snaplen',
  'capture.caplen_exceeds_len',
  'capture.packet_too_large',
  // detector tables
  'scan.evicted',
  'scan.evicted_in_mode',
  // link layer (appended)
  'vlan.too_deep',
  // IPv6 (src/decode/ipv6.ts; docs/ipv6.md says what each means)
  'ipv6.truncated',
  'ipv6.version_not_6',
  'ipv6.caplen_short_of_payload_len',
  'ipv6.payload_len_zero',
  'ipv6.ext_truncated',
  'ipv6.ext_too_many',
  'ipv6.ext_repeated',
  'ipv6.hbh_not_first',
  'ipv6.option_bad_len',
  'ipv6.routing_type0',
  'ipv6.src_multicast',
  'ipv6.v4mapped_address',
  'ipv6.other_protocol',
  'ipv6.frag_atomic',
  'ipv6.frag_first_incomplete',
  'ipv6.frag_bad_len',
  'ipv6.frag_nested',
  'icmpv6.truncated',
  'icmpv6.nd_hop_limit_not_255',
  // capture records (appended): a time outside 1970..2106 (reader-core.ts MAX_TIME_SEC), packet skipped
  'capture.timestamp_out_of_range',
  // modern profile tables (src/detect/modern/table.ts; docs/detectors.md "State and bounds"):
  // entries a full table evicted, and of them those that held evidence (pinned)
  'modern.contact_evicted',
  'modern.contact_evicted_evidence',
  'modern.source_evicted',
  'modern.source_evicted_evidence',
  // the aggregate table (src/detect/modern/aggregates.ts): evicted entries, and of them those in mode
  'modern.aggregate_evicted',
  'modern.aggregate_evicted_evidence',
  // the admission table (src/detect/modern/engine.ts admitOrFind): sources with one resolved
  // contact forgotten before a second came (no source record was made for them)
  'modern.admission_evicted',
  // SYN-flood admission (src/detect/modern/aggregate-detect.ts): first SYNs to a destination
  // or a (destination, port) forgotten before a second came (no aggregate entry was made for them)
  'modern.syn_admission_evicted',
  // the SYN tier (src/detect/modern/engine.ts tierAdmits): first SYNs of sources without a
  // record, forgotten before a second packet or contact came, still waiting (resolved with
  // what was known: silent) or standing for their source's admission entry; and the marks of
  // sources whose first SYN became a contact
  'modern.syn_tier_evicted',
  // the contacts' grace ring (src/detect/modern/engine.ts) was full: its oldest timer fired
  // before its time, so a contact still pending was resolved (silent, or half-open) early
  'modern.grace_overflow',
  // the flood sieve (src/detect/modern/engine.ts floodSieve): SYNs to a destination in
  // SYN-flood mode from sources not tracked (counted on the flood only), and the
  // destination's answers to them
  'modern.flood_shed',
] as const;

export type AnomalyName = (typeof ANOMALY_NAMES)[number];

const INDEX: Record<string, number> = Object.create(null);
ANOMALY_NAMES.forEach((n, i) => (INDEX[n] = i));

/** Index of a counter, for hot paths that increment `counters[i]` directly. */
export function anomalyIndex(name: AnomalyName): number {
  return INDEX[name]!;
}

export class Anomalies {
  readonly counts = new Float64Array(ANOMALY_NAMES.length);

  inc(i: number, n = 1): void {
    this.counts[i] += n;
  }

  get(name: AnomalyName): number {
    return this.counts[INDEX[name]!]!;
  }

  /** Non-zero counters, sorted by name: the `# counters` section of a golden. */
  nonZero(): [string, number][] {
    const out: [string, number][] = [];
    for (let i = 0; i < ANOMALY_NAMES.length; i++) if (this.counts[i]) out.push([ANOMALY_NAMES[i]!, this.counts[i]!]);
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  reset(): void {
    this.counts.fill(0);
  }
}

// Hot-path indices, resolved once.
export const A = {
  linkUnsupported: anomalyIndex('link.unsupported_type'),
  linkTruncated: anomalyIndex('link.truncated'),
  linkNotIpv4: anomalyIndex('link.not_ipv4'),
  ethTruncated: anomalyIndex('ethernet.truncated'),
  vlanTruncated: anomalyIndex('vlan.truncated'),
  sllTruncated: anomalyIndex('sll.truncated'),
  sll2Truncated: anomalyIndex('sll2.truncated'),
  nullTruncated: anomalyIndex('null.truncated'),
  ipTruncated: anomalyIndex('ipv4.truncated'),
  ipHlenSmall: anomalyIndex('ipv4.hlen_too_small'),
  ipTotalSmall: anomalyIndex('ipv4.total_len_too_small'),
  ipBadSum: anomalyIndex('ipv4.bad_checksum'),
  ipVersion: anomalyIndex('ipv4.version_not_4'),
  ipCaplenShort: anomalyIndex('ipv4.caplen_short_of_total_len'),
  ipOtherProto: anomalyIndex('ipv4.other_protocol'),
  fragOversized: anomalyIndex('frag.oversized'),
  fragDuplicate: anomalyIndex('frag.duplicate'),
  fragOverlap: anomalyIndex('frag.overlap'),
  fragEvicted: anomalyIndex('frag.evicted'),
  fragExpired: anomalyIndex('frag.expired'),
  fragReassembled: anomalyIndex('frag.reassembled'),
  tcpTruncated: anomalyIndex('tcp.truncated'),
  udpTruncated: anomalyIndex('udp.truncated'),
  udpLenSmall: anomalyIndex('udp.len_too_small'),
  icmpTruncated: anomalyIndex('icmp.truncated'),
  capCaplenSnaplen: anomalyIndex('capture.caplen_exceeds_snaplen'),
  capCaplenLen: anomalyIndex('capture.caplen_exceeds_len'),
  capTooLarge: anomalyIndex('capture.packet_too_large'),
  scanEvicted: anomalyIndex('scan.evicted'),
  modernContactEvicted: anomalyIndex('modern.contact_evicted'),
  modernContactEvictedEvidence: anomalyIndex('modern.contact_evicted_evidence'),
  modernSourceEvicted: anomalyIndex('modern.source_evicted'),
  modernSourceEvictedEvidence: anomalyIndex('modern.source_evicted_evidence'),
  modernAdmissionEvicted: anomalyIndex('modern.admission_evicted'),
  modernSynAdmissionEvicted: anomalyIndex('modern.syn_admission_evicted'),
  modernSynTierEvicted: anomalyIndex('modern.syn_tier_evicted'),
  modernGraceOverflow: anomalyIndex('modern.grace_overflow'),
  modernFloodShed: anomalyIndex('modern.flood_shed'),
  modernAggregateEvicted: anomalyIndex('modern.aggregate_evicted'),
  modernAggregateEvictedEvidence: anomalyIndex('modern.aggregate_evicted_evidence'),
  scanEvictedInMode: anomalyIndex('scan.evicted_in_mode'),
  vlanTooDeep: anomalyIndex('vlan.too_deep'),
  ip6Truncated: anomalyIndex('ipv6.truncated'),
  ip6Version: anomalyIndex('ipv6.version_not_6'),
  ip6CaplenShort: anomalyIndex('ipv6.caplen_short_of_payload_len'),
  ip6PayloadZero: anomalyIndex('ipv6.payload_len_zero'),
  ip6ExtTruncated: anomalyIndex('ipv6.ext_truncated'),
  ip6ExtTooMany: anomalyIndex('ipv6.ext_too_many'),
  ip6ExtRepeated: anomalyIndex('ipv6.ext_repeated'),
  ip6HbhNotFirst: anomalyIndex('ipv6.hbh_not_first'),
  ip6OptionBadLen: anomalyIndex('ipv6.option_bad_len'),
  ip6RoutingType0: anomalyIndex('ipv6.routing_type0'),
  ip6SrcMulticast: anomalyIndex('ipv6.src_multicast'),
  ip6V4Mapped: anomalyIndex('ipv6.v4mapped_address'),
  ip6OtherProto: anomalyIndex('ipv6.other_protocol'),
  ip6FragAtomic: anomalyIndex('ipv6.frag_atomic'),
  ip6FragFirstIncomplete: anomalyIndex('ipv6.frag_first_incomplete'),
  ip6FragBadLen: anomalyIndex('ipv6.frag_bad_len'),
  ip6FragNested: anomalyIndex('ipv6.frag_nested'),
  icmp6Truncated: anomalyIndex('icmpv6.truncated'),
  icmp6NdHopLimit: anomalyIndex('icmpv6.nd_hop_limit_not_255'),
  capTimeRange: anomalyIndex('capture.timestamp_out_of_range'),
} as const;

/*
 * pcapcount: the C baseline of `npm run bench` (see docs/benchmarks.md).
 *
 *   gcc -O2 -o pcapcount test/bench/pcapcount.c -lpcap
 *   pcapcount FILE [RUNS]
 *
 * Reads FILE RUNS times (default 1) with libpcap's pcap_open_offline + pcap_next_ex
 * loop, doing trivial per-packet work on each Ethernet/IPv4/TCP frame: read the IPv4
 * source address and the TCP flags byte, count SYNs and fold the sources into a
 * checksum (so the compiler cannot drop the reads). Each run is timed from
 * pcap_open_offline to pcap_close with CLOCK_MONOTONIC, the same span `run.ts` times
 * around its Node readers, so process start-up is excluded on both sides.
 *
 * Output: `# ` and pcap_lib_version(), then one line per run:
 *   packets=N syn=N sum=HEX ns=N
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	int runs = 1;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: pcapcount FILE [RUNS]\n");
		return 2;
	}
	if (argc == 3)
		runs = atoi(argv[2]);
	if (runs < 1)
		runs = 1;

	printf("# %s\n", pcap_lib_version());
	for (int r = 0; r < runs; r++) {
		uint64_t t0 = now_ns();
		pcap_t *p = pcap_open_offline(argv[1], err);
		if (p == NULL) {
			fprintf(stderr, "pcapcount: %s\n", err);
			return 1;
		}
		int eth = pcap_datalink(p) == DLT_EN10MB;
		struct pcap_pkthdr *h;
		const u_char *d;
		uint64_t packets = 0, syn = 0;
		uint32_t sum = 0;
		int rc;
		while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
			packets++;
			/* Ethernet, IPv4 type, 20-byte IP header, TCP flags at 14+20+13 */
			if (eth && h->caplen >= 48 && d[12] == 0x08 && d[13] == 0x00 && d[14] == 0x45) {
				uint32_t src = (uint32_t)d[26] << 24 | (uint32_t)d[27] << 16 | (uint32_t)d[28] << 8 | d[29];
				sum = (sum ^ src) * 16777619u;
				if ((d[47] & 0x12) == 0x02)
					syn++;
			}
		}
		if (rc == -1) {
			fprintf(stderr, "pcapcount: %s\n", pcap_geterr(p));
			pcap_close(p);
			return 1;
		}
		pcap_close(p);
		uint64_t t1 = now_ns();
		printf("packets=%llu syn=%llu sum=%08x ns=%llu\n", (unsigned long long)packets, (unsigned long long)syn, sum,
		       (unsigned long long)(t1 - t0));
		fflush(stdout);
	}
	return 0;
}

// The Debian packages scripts/setup.mjs installs (as root, when missing), by purpose.
// test/scripts/setup.test.ts checks that the demo's list stays this short.

// What `npm run demo` needs: libpcap's headers and library for the live-capture addon
// (native/), and node-gyp's toolchain (python3, make, g++) that `npm ci` builds it and
// unix-dgram with. Nothing else: the demo replays bundled captures.
export const DEMO_DEBIAN = ['libpcap-dev', 'python3', 'make', 'g++'];

// What the test suite drives when present: capture tools for the cross-checks against
// libpcap; firewall tools, ping, nmap and hping3 for the ban tests in network namespaces.
export const TEST_DEBIAN = [...DEMO_DEBIAN, 'tcpdump', 'gcc', 'rsyslog', 'nftables', 'ipset', 'iptables', 'nmap', 'hping3', 'iputils-ping',
  // a ban cuts the source's established connections with conntrack -D (test/ban/control-live.test.ts)
  'conntrack',
  // the real consumers the HIDS integrations are tested against (test/integrations/)
  'fail2ban', 'pcre2-utils',
  // the live-capture tests and benchmark: network namespaces, veth pairs, traffic replay
  'iproute2', 'tcpreplay',
  // the daemon tests: config/iplog.logrotate is checked with logrotate -d
  'logrotate',
  // test/live/ipv6.test.ts: traceroute -6 (test/tools/make-ipv6-pcaps.ts also needs thc-ipv6 and dnsmasq-base,
  // installed by hand: no test needs them)
  'traceroute',
  // test/install/deb.test.ts: a fresh Debian 12 root to dpkg -i the package into
  'debootstrap',
  // the log rules (test/logs/): a real sshd, ssh client and sshpass for the live ban tests,
  // and journald (package systemd: the live journal test starts its own), curl, openssl. The
  // corpus script (test/tools/make-log-corpus.ts) also needs nginx-light, apache2, postfix,
  // dovecot-imapd, swaks and libio-socket-inet6-perl (swaks over IPv6), installed by hand:
  // no test needs them (the corpus they make is committed)
  'openssh-server', 'openssh-client', 'sshpass', 'systemd', 'curl', 'openssl'];

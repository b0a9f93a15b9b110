#!/bin/sh
# Install every build and test dependency of tcptop on Debian 12+ / Ubuntu 22.04+.
# Run as root (or through sudo). Safe to run again.
set -eu

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: run as root (sudo $0)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q

# Debian ships bpftool as a package of its own; Ubuntu ships it with the kernel tools.
if apt-cache show bpftool >/dev/null 2>&1; then
	bpftool_pkgs=bpftool
else
	bpftool_pkgs="linux-tools-common linux-tools-generic"
	if apt-cache show "linux-tools-$(uname -r)" >/dev/null 2>&1; then
		bpftool_pkgs="$bpftool_pkgs linux-tools-$(uname -r)"
	fi
fi

# Build: autotools, clang for the BPF target, bpftool for skeletons, the libraries (libinih
# reads the settings file).
# Tests: Criterion (unit), python3 + pytest + pytest-xdist (integration, two workers
# per pass), iproute2 (network namespaces),
# tmux (terminal tests), util-linux (setpriv, to test running without privileges; mount,
# for the full-disk tests' tmpfs), logrotate (the log rotation test), python3-fusepy (a
# filesystem whose server stops answering, test_signals.py); clang-format for
# .ci/check-format; python3-prometheus-client (its strict OpenMetrics parser reads the
# --metrics scrapes); bash-completion, zsh and fish (make install puts tcptop's completions
# where each looks; the tests check them in each shell).
apt-get install -y -q --no-install-recommends \
	build-essential autoconf automake pkg-config \
	clang llvm $bpftool_pkgs libbpf-dev libelf-dev zlib1g-dev \
	liburcu-dev libncurses-dev libcap-dev libmicrohttpd-dev libinih-dev libcriterion-dev \
	iproute2 tmux python3 python3-pytest python3-pytest-xdist procps util-linux logrotate git ca-certificates \
	python3-fusepy clang-format python3-prometheus-client bash-completion zsh fish

# Real servers and their load generators for the integration tests (test_real_servers.py):
# nginx driven by ab, dnsmasq driven by dnsperf, each started by the test on a loopback
# port of its own; the same servers in make bench, nginx there driven by wrk; prometheus (test_metrics.py scrapes tcptop with a real server, and its
# promtool checks every scrape). Installing them must not start a server on port 80 or
# 9090: invoke-rc.d asks policy-rc.d, which says no (101) while the packages go in.
no_start=
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	no_start=1
fi
status=0
apt-get install -y -q --no-install-recommends nginx apache2-utils dnsmasq-base dnsperf \
	prometheus wrk ||
	status=$?
if [ -n "$no_start" ]; then
	rm -f /usr/sbin/policy-rc.d
fi
exit $status

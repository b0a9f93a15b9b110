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
apt-get install -y -q --no-install-recommends \
	build-essential autoconf automake pkg-config \
	clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev \
	liburcu-dev libncurses-dev libcriterion-dev \
	iproute2 tmux python3 python3-pytest procps git ca-certificates

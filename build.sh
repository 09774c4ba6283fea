#!/usr/bin/env bash
# anontel's one entry point.
#   ./build.sh          install build dependencies (apt-get), fetch BearSSL, build build/anontel
#   ./build.sh deps     only the first two (the Dockerfile's cached layer)
#   ./build.sh setup    the above, then what the tests need from outside (see test_setup)
#   ./build.sh test     the above, then every test; last line: "N passed, N failed"
#   ./build.sh install PREFIX=/usr/local   the binary and the man page
#   ./build.sh --target aarch64|armhf|riscv64   cross-build build/<arch>/anontel (tools/cross.sh)
#   ./build.sh fuzz [SECONDS] [TARGET...]  the long fuzz runs (docs/SECURITY.md)
#   ./build.sh soak [STEPS] [SEEDS]        the state machine against its model, long (docs/SECURITY.md)
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD

# BearSSL 0.6 from Debian's source package, pinned by the tarball's SHA-256.
BEARSSL_TARBALL=bearssl_0.6+dfsg.1.orig.tar.xz
BEARSSL_SHA256=102a625bd8f6155260867a50c508df8d8c3f796985dd744df1a68e5cd1a79004

# Debian packages the build and the tests use.
BUILD_PKGS="build-essential musl-tools libjsmn-dev ca-certificates xz-utils file"
# systemd: systemd-analyze verify of contrib/systemd; busybox, shellcheck: the init scripts
# of contrib/ (OpenWrt's shell is busybox ash); debootstrap: the Dockerfile test's debian:12;
# dnsmasq-base: the DNS server test_dns asks.
TEST_PKGS="python3 openssl nodejs systemd strace valgrind tinyproxy curl time mandoc podman runc
	busybox shellcheck debootstrap python3-jsonschema dnsmasq-base"
# libFuzzer and the sanitizers' runtimes come with clang 14 and libclang-rt-14-dev.
FUZZ_PKGS="clang libclang-rt-14-dev"
# npm's cache for the tests' npm modules, per machine and outside the work tree, so a fresh
# clone installs them again without the network.
NPM_CACHE=${ANONTEL_NPM_CACHE:-/var/tmp/anontel-npm}
# The targets test_cross builds and runs under qemu.
CROSS_TARGETS="aarch64 armhf riscv64"

say() { printf 'build.sh: %s\n' "$*" >&2; }

. tools/apt.sh

# apt-get source through a private apt (tools/apt.sh): the system's apt configuration
# and lists stay as they were.
fetch_bearssl() {
	local dest=third_party/bearssl
	[ -f "$dest/.sha256-ok" ] && return 0
	local apt=build/apt
	private_apt "$apt" deb-src
	say "fetching BearSSL source from Debian"
	apt-get "${APT_OPTS[@]}" update -qq
	(cd "$apt/dl" && apt-get "${APT_OPTS[@]}" source --download-only -qq bearssl >/dev/null)
	local got
	got=$(sha256sum "$apt/dl/$BEARSSL_TARBALL" | cut -d' ' -f1)
	if [ "$got" != "$BEARSSL_SHA256" ]; then
		say "BearSSL tarball checksum mismatch: got $got, want $BEARSSL_SHA256"
		exit 1
	fi
	rm -rf "$dest" && mkdir -p "$dest"
	tar -xJf "$apt/dl/$BEARSSL_TARBALL" -C "$dest" --strip-components=1
	echo "$BEARSSL_SHA256" > "$dest/.sha256-ok"
}

# jsmn is one header in Debian's libjsmn-dev; musl-gcc must not search /usr/include.
fetch_jsmn() {
	mkdir -p third_party/jsmn
	cmp -s /usr/include/jsmn.h third_party/jsmn/jsmn.h || cp /usr/include/jsmn.h third_party/jsmn/jsmn.h
}

deps() {
	need_pkgs $BUILD_PKGS
	fetch_bearssl
	fetch_jsmn
}

build() {
	deps
	make -s -j"$(nproc)" all
	say "built build/anontel ($(stat -c %s build/anontel) bytes)"
}

# ./build.sh install [PREFIX=/usr/local] [DESTDIR=]: the binary and the man page
# (the Makefile's install target).
install_files() {
	local prefix=/usr/local destdir="" arg
	for arg in "$@"; do
		case "$arg" in
		PREFIX=*) prefix=${arg#PREFIX=} ;;
		DESTDIR=*) destdir=${arg#DESTDIR=} ;;
		*) say "install: unknown argument '$arg' (PREFIX=... or DESTDIR=...)"; exit 2 ;;
		esac
	done
	make -s install PREFIX="$prefix" DESTDIR="$destdir"
	say "installed $destdir$prefix/bin/anontel and $destdir$prefix/share/man/man1/anontel.1"
}

# The receivers' own clients that test_posthog and test_otlp compare anontel with, pinned
# by tests/npm/package-lock.json, installed into build/npm with npm ci (from npm's cache when
# it has them); build/npm/.ok holds the lock's SHA-256, so an unchanged lock costs nothing.
npm_modules() {
	local dir=build/npm sum
	sum=$(sha256sum tests/npm/package-lock.json | cut -d' ' -f1)
	[ "$(cat "$dir/.ok" 2>/dev/null)" = "$sum" ] && return 0
	say "installing the tests' npm modules into $dir (npm ci)"
	rm -rf "$dir" && mkdir -p "$dir"
	cp tests/npm/package.json tests/npm/package-lock.json "$dir/"
	npm ci --prefix "$dir" --cache "$NPM_CACHE" --prefer-offline --no-audit --no-fund \
		--loglevel=error >/dev/null
	echo "$sum" > "$dir/.ok"
}

# ./build.sh test's set-up: every fetch the tests need happens here (Debian's packages and
# mirror, npm), so the tests themselves send nothing beyond loopback (docs/HACKING.md).
# Idempotent; quick when the per-machine caches are warm.
test_setup() {
	build
	need_pkgs $TEST_PKGS $FUZZ_PKGS
	# A machine whose Node came with its own npm keeps it.
	command -v npm >/dev/null || need_pkgs npm
	npm_modules
	# test_cross: the cross gcc, qemu-user-static and each target's musl (third_party/).
	tools/cross.sh --fetch $CROSS_TARGETS
	# test_packaging: the debian:12 base and the Dockerfile's apt-get layer, kept in podman's
	# storage in /var/tmp/anontel-podman.
	python3 tests/integration/podcache.py
	make -s -j"$(nproc)" units
	make -s -j"$(nproc)" -f tests/fuzz/fuzz.mk
}

case "${1:-build}" in
build)
	build ;;
deps)
	deps ;;
install)
	shift
	build
	install_files "$@" ;;
setup)
	test_setup ;;
test)
	test_setup
	exec python3 tests/run.py ;;
fuzz)
	# Every fuzz target to 10 million runs or 30 minutes (tests/fuzz/run.sh long).
	shift
	build
	need_pkgs $FUZZ_PKGS
	exec tests/fuzz/run.sh long "$@" ;;
soak)
	# ./build.sh soak [STEPS] [SEEDS]: the binary through random steps against
	# tests/model/statemodel.py, by default 20 seeds of 5,000 steps (100,000 steps).
	# A failure prints its seed for replay (docs/SECURITY.md).
	build
	need_pkgs python3
	exec python3 tests/model/driver.py --steps "${2:-5000}" --seeds "${3:-20}" ;;
--target)
	[ $# -eq 2 ] || { say "usage: ./build.sh --target aarch64|armhf|riscv64"; exit 2; }
	build
	exec tools/cross.sh "$2" ;;
*)
	say "usage: ./build.sh [deps | setup | test | install [PREFIX=dir] [DESTDIR=dir] | --target aarch64|armhf|riscv64 | fuzz | soak [STEPS] [SEEDS]]"
	exit 2 ;;
esac

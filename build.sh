#!/usr/bin/env bash
# anontel's one entry point.
#   ./build.sh          install build dependencies (apt-get), fetch BearSSL, build build/anontel
#   ./build.sh test     the above, then every test; last line: "N passed, N failed"
#   ./build.sh install PREFIX=/usr/local   the binary and the man page
#   ./build.sh --target aarch64|armhf      cross-build build/<arch>/anontel (tools/cross.sh)
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD

# BearSSL 0.6 from Debian's source package, pinned by the tarball's SHA-256.
BEARSSL_TARBALL=bearssl_0.6+dfsg.1.orig.tar.xz
BEARSSL_SHA256=102a625bd8f6155260867a50c508df8d8c3f796985dd744df1a68e5cd1a79004

# Debian packages the build and the tests use.
BUILD_PKGS="build-essential musl-tools libjsmn-dev ca-certificates xz-utils file"
TEST_PKGS="python3 openssl nodejs systemd strace valgrind tinyproxy curl time mandoc"

say() { printf 'build.sh: %s\n' "$*" >&2; }

need_pkgs() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing ${missing[*]}"
	if [ ! -e "$top/build/.apt-updated" ]; then
		apt-get update -qq
		mkdir -p "$top/build" && touch "$top/build/.apt-updated"
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# apt-get source with a private deb-src list derived from the machine's own sources;
# private state and cache dirs, so the system's apt configuration and lists stay as they were.
fetch_bearssl() {
	local dest=third_party/bearssl
	[ -f "$dest/.sha256-ok" ] && return 0
	local apt=build/apt
	rm -rf "$apt" && mkdir -p "$apt/parts" "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/dl"
	local src
	for src in /etc/apt/sources.list.d/*.sources; do
		[ -e "$src" ] || continue
		sed 's/^Types:.*/Types: deb-src/' "$src" > "$apt/parts/$(basename "$src")"
	done
	if [ -f /etc/apt/sources.list ]; then
		sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > "$apt/parts/from-sources-list.list"
	fi
	local opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$top/$apt/parts"
		-o "Dir::State::Lists=$top/$apt/lists" -o "Dir::Cache=$top/$apt/cache"
		-o "APT::Sandbox::User=root")
	say "fetching BearSSL source from Debian"
	apt-get "${opts[@]}" update -qq
	(cd "$apt/dl" && apt-get "${opts[@]}" source --download-only -qq bearssl >/dev/null)
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

build() {
	need_pkgs $BUILD_PKGS
	fetch_bearssl
	fetch_jsmn
	make -s -j"$(nproc)" all
	say "built build/anontel ($(stat -c %s build/anontel) bytes)"
}

# ./build.sh install [PREFIX=/usr/local] [DESTDIR=]: the binary and the man page.
install_files() {
	local prefix=/usr/local destdir="" arg
	for arg in "$@"; do
		case "$arg" in
		PREFIX=*) prefix=${arg#PREFIX=} ;;
		DESTDIR=*) destdir=${arg#DESTDIR=} ;;
		*) say "install: unknown argument '$arg' (PREFIX=... or DESTDIR=...)"; exit 2 ;;
		esac
	done
	install -D -m 0755 build/anontel "$destdir$prefix/bin/anontel"
	install -D -m 0644 docs/anontel.1 "$destdir$prefix/share/man/man1/anontel.1"
	say "installed $destdir$prefix/bin/anontel and $destdir$prefix/share/man/man1/anontel.1"
}

case "${1:-build}" in
build)
	build ;;
install)
	shift
	build
	install_files "$@" ;;
test)
	build
	need_pkgs $TEST_PKGS
	# npm fetches posthog-node for the PostHog shape test; a machine whose Node
	# came with its own npm keeps it.
	command -v npm >/dev/null || need_pkgs npm
	make -s -j"$(nproc)" units
	exec python3 tests/run.py ;;
--target)
	[ $# -eq 2 ] || { say "usage: ./build.sh --target aarch64|armhf"; exit 2; }
	build
	exec tools/cross.sh "$2" ;;
*)
	say "usage: ./build.sh [test | install [PREFIX=dir] [DESTDIR=dir] | --target aarch64|armhf]"
	exit 2 ;;
esac

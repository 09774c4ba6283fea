#!/usr/bin/env bash
# Cross-builds build/<arch>/anontel (static, stripped, musl) for embedded CPUs.
#
#   tools/cross.sh [--qemu] ARCH...      ARCH: aarch64 | armhf | riscv64
#   tools/cross.sh --fetch ARCH...       only what --qemu fetches (./build.sh test's set-up)
#   tools/cross.sh --print-cc ARCH       the compiler command the build uses (for tests)
#
# Needs what ./build.sh fetches (third_party/bearssl, third_party/jsmn); ./build.sh --target
# ARCH does both steps. How and why: docs/embedded.md. In short: Debian's cross gcc
# (gcc-aarch64-linux-gnu, gcc-arm-linux-gnueabihf, gcc-riscv64-linux-gnu, installed with
# apt-get) plus Debian's musl 1.2.3 for the target architecture in third_party/musl-<arch>/
# (git-ignored): musl-dev's .deb fetched through a private apt state and unpacked, or, for
# riscv64 (not an architecture of Debian 12's archive), Debian's musl source package built
# with the cross gcc; either way driven by musl's own gcc specs file with its paths moved
# into that folder. The system's apt configuration, its package lists
# and dpkg's architectures are left as they were (no dpkg --add-architecture).
# --qemu also installs qemu-user-static, which runs the binaries on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

# The musl the project builds with (SPEC: musl 1.2.3); the host build uses the same one.
MUSL_UPSTREAM=1.2.3

say() { printf 'cross.sh: %s\n' "$*" >&2; }

# ARCH -> Debian architecture, GNU triple of the cross gcc, musl's triple in musl-dev's paths.
arch_vars() {
	case "$1" in
	aarch64) deb=arm64 gnu=aarch64-linux-gnu musl=aarch64-linux-musl ;;
	armhf)   deb=armhf gnu=arm-linux-gnueabihf musl=arm-linux-musleabihf ;;
	riscv64) deb=riscv64 gnu=riscv64-linux-gnu musl=riscv64-linux-musl ;;
	*) say "unknown target '$1' (aarch64, armhf or riscv64)"; exit 2 ;;
	esac
	root=third_party/musl-$1
	specs=$root/musl-gcc.specs
}

. tools/apt.sh

# Debian 12's archive has no riscv64: its musl is built from the source package.
from_source() { [ "$1" = riscv64 ]; }

# musl-dev:<deb> with apt-get download through private lists, cache and sources (the
# machine's own deb sources); the target architecture exists only in this apt-get's options.
fetch_musl() {
	local a debs=() d
	for a in "$@"; do
		arch_vars "$a"
		from_source "$a" && continue
		[ -f "$root/.ok" ] || debs+=("musl-dev:$deb")
	done
	[ ${#debs[@]} -eq 0 ] && return 0
	local apt=build/apt-cross
	private_apt "$apt" deb
	for d in "${debs[@]}"; do
		APT_OPTS+=(-o "APT::Architectures::=${d#*:}")
	done
	say "fetching ${debs[*]} from Debian"
	# One failing index (a mirror mid-sync, say bookworm-security for armhf) must not stop
	# us: musl-dev is in main, and the download below fails clearly if it is not listed.
	apt-get "${APT_OPTS[@]}" update -qq 2>"$apt/update.err" || say "apt-get update (private lists), ignored: $(grep -m1 '^E:' "$apt/update.err" || true)"
	(cd "$apt/dl" && apt-get "${APT_OPTS[@]}" download -qq "${debs[@]}" >/dev/null)
	for a in "$@"; do
		arch_vars "$a"
		from_source "$a" && continue
		[ -f "$root/.ok" ] && continue
		local f ver
		f=$(ls "$apt"/dl/musl-dev_*_"$deb".deb)
		ver=$(dpkg-deb -f "$f" Version)
		case "$ver" in
		"$MUSL_UPSTREAM"-*) ;;
		*) say "musl-dev:$deb is $ver, want $MUSL_UPSTREAM-*"; exit 1 ;;
		esac
		[ "$(dpkg-deb -f "$f" Architecture)" = "$deb" ] || { say "$f: wrong architecture"; exit 1; }
		rm -rf "$root" && mkdir -p "$root"
		dpkg-deb -x "$f" "$root"
		[ -f "$root/usr/lib/$musl/libc.a" ] && [ -f "$root/usr/include/$musl/stdio.h" ] ||
			{ say "$f: no libc.a or headers for $musl"; exit 1; }
		echo "musl-dev:$deb $ver" > "$root/.ok"
	done
}

# build_musl ARCH: Debian's musl source package (apt-get source through a private deb-src
# state: the .dsc is checked against the signed Sources index, dpkg-source applies Debian's
# patches), configured for the cross gcc and installed into third_party/musl-<arch>/ with
# musl-dev's layout (usr/include/<triple>, usr/lib/<triple>, musl-gcc.specs), static only.
build_musl() {
	arch_vars "$1"
	[ -f "$root/.ok" ] && return 0
	local apt=build/apt-musl-src src=build/musl-src-$1 dsc ver
	private_apt "$apt" deb-src
	say "fetching Debian's musl source to build it for $1"
	apt-get "${APT_OPTS[@]}" update -qq 2>"$apt/update.err" || say "apt-get update (private lists), ignored: $(grep -m1 '^E:' "$apt/update.err" || true)"
	(cd "$apt/dl" && apt-get "${APT_OPTS[@]}" source --download-only -qq musl >/dev/null)
	dsc=$(ls "$apt"/dl/musl_*.dsc)
	ver=$(sed -n 's/^Version: //p' "$dsc")
	case "$ver" in
	"$MUSL_UPSTREAM"-*) ;;
	*) say "Debian's musl source is $ver, want $MUSL_UPSTREAM-*"; exit 1 ;;
	esac
	rm -rf "$src" "$root"
	dpkg-source --no-check -x "$dsc" "$src" >/dev/null
	say "building musl $ver for $1"
	if ! (cd "$src" && ./configure --target="$gnu" CC="$gnu-gcc" --prefix=/usr \
		--includedir="/usr/include/$musl" --libdir="/usr/lib/$musl" --disable-shared \
		--enable-wrapper=gcc && make -j"$(nproc)" && make install DESTDIR="$top/$root") \
		>"$apt/build.log" 2>&1; then
		say "musl build for $1 failed: $(tail -n 3 "$apt/build.log")"
		exit 1
	fi
	[ -f "$root/usr/lib/$musl/libc.a" ] && [ -f "$root/usr/include/$musl/stdio.h" ] &&
		[ -f "$root/usr/lib/$musl/musl-gcc.specs" ] ||
		{ say "musl build for $1: no libc.a, headers or specs"; exit 1; }
	rm -rf "$src"
	echo "musl source $ver built for $1" > "$root/.ok"
}

# musl-dev's own specs file (what its aarch64-linux-musl-gcc wrapper uses) with /usr moved
# into third_party/musl-<arch>/usr: -nostdinc, musl's headers and gcc's own, musl's crt files,
# libc.a, and the cross gcc's libgcc.a. Rewritten each run, so a moved work tree still works.
write_specs() {
	local from=$root/usr/lib/$musl/musl-gcc.specs abs=$top/$root
	sed -e "s#/usr/include/$musl#$abs/usr/include/$musl#g" \
	    -e "s#/usr/lib/$musl#$abs/usr/lib/$musl#g" "$from" > "$specs.tmp"
	if grep -q ' /usr/' "$specs.tmp"; then
		say "$from: a path outside the sysroot is left: $(grep ' /usr/' "$specs.tmp")"
		exit 1
	fi
	mv "$specs.tmp" "$specs"
}

cc_of() { arch_vars "$1"; printf '%s-gcc -specs %s\n' "$gnu" "$top/$specs"; }

qemu=0 fetch=0
case "${1:-}" in
--print-cc)
	[ $# -eq 2 ] || { say "usage: tools/cross.sh --print-cc ARCH"; exit 2; }
	cc_of "$2"; exit 0 ;;
--qemu)
	qemu=1; shift ;;
--fetch)
	qemu=1 fetch=1; shift ;;
esac
[ $# -ge 1 ] || { say "usage: tools/cross.sh [--qemu | --fetch] aarch64|armhf|riscv64 ..."; exit 2; }
for a in "$@"; do arch_vars "$a"; done

if [ ! -f third_party/bearssl/.sha256-ok ] || [ ! -f third_party/jsmn/jsmn.h ]; then
	say "third_party/ is not in place: run ./build.sh first (or ./build.sh --target ARCH)"
	exit 1
fi

pkgs=()
for a in "$@"; do
	arch_vars "$a"
	pkgs+=("gcc-$gnu")
done
[ $qemu -eq 1 ] && pkgs+=(qemu-user-static)
need_pkgs "${pkgs[@]}"
fetch_musl "$@"
for a in "$@"; do
	from_source "$a" && build_musl "$a"
done
[ $fetch -eq 1 ] && exit 0

for a in "$@"; do
	arch_vars "$a"
	write_specs
	# B: every object of this target (its own BearSSL; the host BearSSL of the native
	# build serves the roots generator); roots.h is
	# made by the host gcc in build/<arch>/gen, as for the native build.
	make -s -j"$(nproc)" B="build/$a" HOSTBRB=build CC="$(cc_of "$a")" all
	say "built build/$a/anontel ($(stat -c %s "build/$a/anontel") bytes)"
done

#!/usr/bin/env bash
# Cross-builds build/<arch>/anontel (static, stripped, musl) for embedded CPUs.
#
#   tools/cross.sh [--qemu] ARCH...      ARCH: aarch64 | armhf
#   tools/cross.sh --print-cc ARCH       the compiler command the build uses (for tests)
#
# Needs what ./build.sh fetches (third_party/bearssl, third_party/jsmn); ./build.sh --target
# ARCH does both steps. How and why: docs/embedded.md. In short: Debian's cross gcc
# (gcc-aarch64-linux-gnu, gcc-arm-linux-gnueabihf, installed with apt-get) plus Debian's
# musl-dev for the target architecture, fetched as a .deb through a private apt state and
# unpacked into third_party/musl-<arch>/ (git-ignored), driven by musl's own gcc specs file
# with its paths moved into that folder. The system's apt configuration, its package lists
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
	*) say "unknown target '$1' (aarch64 or armhf)"; exit 2 ;;
	esac
	root=third_party/musl-$1
	specs=$root/musl-gcc.specs
}

. tools/apt.sh

# musl-dev:<deb> with apt-get download through private lists, cache and sources (the
# machine's own deb sources); the target architecture exists only in this apt-get's options.
fetch_musl() {
	local a debs=() d
	for a in "$@"; do
		arch_vars "$a"
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

qemu=0
case "${1:-}" in
--print-cc)
	[ $# -eq 2 ] || { say "usage: tools/cross.sh --print-cc ARCH"; exit 2; }
	cc_of "$2"; exit 0 ;;
--qemu)
	qemu=1; shift ;;
esac
[ $# -ge 1 ] || { say "usage: tools/cross.sh [--qemu] aarch64|armhf ..."; exit 2; }
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
	arch_vars "$a"
	write_specs
	# B: every object of this target (its own BearSSL; the host BearSSL of the native
	# build serves the roots generator); roots.h is
	# made by the host gcc in build/<arch>/gen, as for the native build.
	make -s -j"$(nproc)" B="build/$a" HOSTBRB=build MUSLCC="$(cc_of "$a")" all
	say "built build/$a/anontel ($(stat -c %s "build/$a/anontel") bytes)"
done

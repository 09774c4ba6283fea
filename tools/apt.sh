# apt-get helpers shared by build.sh and tools/cross.sh (sourced, not run).
# The caller sets $top (the work tree) and defines say().

# Installs the Debian packages that are missing; apt-get update once per build dir.
need_pkgs() {
	local missing=() p
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

# private_apt DIR deb|deb-src: an apt-get of our own in DIR (under $top): sources derived
# from the machine's own, private lists and cache, so the system's apt configuration and
# package lists stay as they were. Sets the array APT_OPTS for apt-get.
private_apt() {
	local dir=$1 kind=$2 src
	rm -rf "$dir" && mkdir -p "$dir/parts" "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/dl"
	for src in /etc/apt/sources.list.d/*.sources; do
		[ -e "$src" ] || continue
		sed "s/^Types:.*/Types: $kind/" "$src" > "$dir/parts/$(basename "$src")"
	done
	for src in /etc/apt/sources.list.d/*.list /etc/apt/sources.list; do
		[ -e "$src" ] || continue
		sed -n "s/^deb /$kind /p" "$src" > "$dir/parts/from-$(basename "$src").list"
	done
	APT_OPTS=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$top/$dir/parts"
		-o "Dir::State::Lists=$top/$dir/lists" -o "Dir::Cache=$top/$dir/cache"
		-o "APT::Sandbox::User=root")
}

#!/usr/bin/env bash
# anontel's fuzz targets (libFuzzer; see tests/fuzz/fuzz.mk and docs/SECURITY.md).
#
#   tests/fuzz/run.sh build                  build build/fuzz/fuzz_<target>
#   tests/fuzz/run.sh smoke [TARGET...]      each target for a few seconds over its seeds
#                                            (FUZZ_SMOKE_SECS, default 2); exit 1 on any
#                                            finding; also replays tests/fuzz/crashes/
#   tests/fuzz/run.sh long [SECONDS] [TARGET...]
#                                            each target until FUZZ_RUNS executions
#                                            (default 10000000) or SECONDS (default 1800),
#                                            whichever comes first, FUZZ_JOBS at a time
#                                            (default: the number of CPUs); per-target log
#                                            build/fuzz/<target>.log, table
#                                            build/fuzz/summary.txt; exit 1 on any finding
#
# Seeds: tests/fuzz/corpus/<target>/ (read only). What the fuzzer finds interesting
# goes to build/fuzz/corpus/<target>/ (long) or a temporary directory (smoke);
# crashing inputs to build/fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../.."

FB=build/fuzz
ALL_TARGETS="json config osrelease url http retry pem state x509 x25519 p256 p256dh rsa dns"

say() { printf 'fuzz: %s\n' "$*" >&2; }

max_len() {
	case "$1" in
	json|config) echo 16384 ;;
	osrelease)   echo 20000 ;;
	url|state)   echo 8192 ;;
	http)        echo 32768 ;;
	retry)       echo 256 ;;
	pem)         echo 24576 ;;
	x509)        echo 8192 ;;
	x25519)      echo 128 ;;
	p256)        echo 512 ;;
	p256dh)      echo 128 ;;
	rsa)         echo 1104 ;;
	dns)         echo 513 ;;
	*)           echo 4096 ;;
	esac
}

build() {
	if ! command -v clang >/dev/null 2>&1; then
		say "clang is not installed (Debian: apt-get install clang libclang-rt-14-dev)"
		exit 2
	fi
	if [ ! -d third_party/bearssl ] || [ ! -f third_party/jsmn/jsmn.h ]; then
		say "third_party/ is missing: run ./build.sh first"
		exit 2
	fi
	make -s -j"$(nproc)" -f tests/fuzz/fuzz.mk
}

# Sanitizer settings for every run: stop at the first error, symbolised stacks.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
for s in llvm-symbolizer llvm-symbolizer-14 /usr/lib/llvm-14/bin/llvm-symbolizer; do
	if command -v "$s" >/dev/null 2>&1; then
		export ASAN_SYMBOLIZER_PATH="${ASAN_SYMBOLIZER_PATH:-$(command -v "$s")}"
		break
	fi
done

# The options every run shares, for target $1.
common_opts() {
	local t=$1
	mkdir -p "$FB/artifacts/$t"
	printf '%s\n' "-max_len=$(max_len "$t")" "-timeout=10" "-rss_limit_mb=2048" \
		"-print_final_stats=1" "-artifact_prefix=$FB/artifacts/$t/"
	if [ -f "tests/fuzz/dict/$t.dict" ]; then
		printf '%s\n' "-dict=tests/fuzz/dict/$t.dict"
	fi
}

check_targets() {
	local t
	for t in "$@"; do
		case " $ALL_TARGETS " in
		*" $t "*) ;;
		*) say "unknown target '$t' (targets: $ALL_TARGETS)"; exit 2 ;;
		esac
	done
}

# Replays the recorded crashing inputs of target $1 (tests/fuzz/crashes/<target>/):
# once a bug is fixed, its input must stay harmless.
replay_crashes() {
	local t=$1 dir="tests/fuzz/crashes/$1"
	[ -d "$dir" ] || return 0
	local files=()
	mapfile -t files < <(find "$dir" -type f ! -name '*.md' ! -name '*.txt' | sort)
	[ ${#files[@]} -gt 0 ] || return 0
	"$FB/fuzz_$t" -runs=1 "${files[@]}" >"$FB/replay-$t.log" 2>&1
}

smoke() {
	local secs=${FUZZ_SMOKE_SECS:-2} failed=0 t work rc opts execs
	[ $# -gt 0 ] || set -- $ALL_TARGETS
	check_targets "$@"
	build
	for t in "$@"; do
		work=$(mktemp -d "${TMPDIR:-/tmp}/anontel-fuzz-smoke-$t.XXXXXX")
		mapfile -t opts < <(common_opts "$t")
		rc=0
		"$FB/fuzz_$t" "${opts[@]}" -max_total_time="$secs" "$work" "tests/fuzz/corpus/$t" \
			>"$FB/smoke-$t.log" 2>&1 || rc=$?
		rm -rf "$work"
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$FB/smoke-$t.log" | tail -1)
		if [ "$rc" -ne 0 ]; then
			echo "not ok fuzz_$t: exit status $rc after ${execs:-?} executions (log $FB/smoke-$t.log)"
			grep -E 'FUZZ_CHECK|ERROR: (AddressSanitizer|libFuzzer|UndefinedBehavior)|runtime error|Test unit written' \
				"$FB/smoke-$t.log" | head -5 | sed 's/^/#   /'
			failed=1
			continue
		fi
		rc=0
		replay_crashes "$t" || rc=$?
		if [ "$rc" -ne 0 ]; then
			echo "not ok fuzz_$t: a recorded crash in tests/fuzz/crashes/$t still fails (log $FB/replay-$t.log)"
			failed=1
			continue
		fi
		echo "ok fuzz_$t: ${execs:-?} executions in ${secs}s, no finding"
	done
	return "$failed"
}

# One long run of target $1 for at most $2 seconds; writes $FB/<t>.log and $FB/<t>.result.
long_one() {
	local t=$1 secs=$2 runs=${FUZZ_RUNS:-10000000} rc=0 start end opts
	mkdir -p "$FB/corpus/$t"
	mapfile -t opts < <(common_opts "$t")
	start=$(date +%s)
	"$FB/fuzz_$t" "${opts[@]}" ${FUZZ_EXTRA:-} -runs="$runs" -max_total_time="$secs" \
		"$FB/corpus/$t" "tests/fuzz/corpus/$t" >"$FB/$t.log" 2>&1 || rc=$?
	end=$(date +%s)
	echo "$rc $((end - start))" >"$FB/$t.result"
}

summarize() {
	local t rc secs execs eps cov ft corp rss verdict failed=0 runs=${FUZZ_RUNS:-10000000}
	local table="$FB/summary.txt"
	{
		printf '%-10s %-8s %12s %9s %6s %7s %7s %8s %7s  %s\n' target result execs exec/s cov ft \
			corpus seconds rss_mb goal
		for t in "$@"; do
			if [ ! -f "$FB/$t.result" ]; then
				printf '%-10s %-8s\n' "$t" "not run"
				continue
			fi
			read -r rc secs <"$FB/$t.result"
			execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$FB/$t.log" | tail -1)
			eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$FB/$t.log" | tail -1)
			rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$FB/$t.log" | tail -1)
			cov=$(grep -Eo 'cov: [0-9]+' "$FB/$t.log" | tail -1 | cut -d' ' -f2)
			ft=$(grep -Eo 'ft: [0-9]+' "$FB/$t.log" | tail -1 | cut -d' ' -f2)
			corp=$(grep -Eo 'corp: [0-9]+' "$FB/$t.log" | tail -1 | cut -d' ' -f2)
			if [ "$rc" -eq 0 ]; then verdict=ok; else verdict=FINDING; fi
			local goal="-"
			if [ "${execs:-0}" -ge "$runs" ]; then goal="$runs execs"
			elif [ "$secs" -ge 1800 ]; then goal="30 min"
			else goal="short"; fi
			printf '%-10s %-8s %12s %9s %6s %7s %7s %8s %7s  %s\n' "$t" "$verdict" "${execs:-?}" \
				"${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$secs" "${rss:-?}" "$goal"
		done
	} >"$table"
	cat "$table"
	grep -q -E '^[a-z]+ +(FINDING|not run)' "$table" && failed=1
	return "$failed"
}

long() {
	local secs=1800
	if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then
		secs=$1
		shift
	fi
	[ $# -gt 0 ] || set -- $ALL_TARGETS
	check_targets "$@"
	build
	local jobs=${FUZZ_JOBS:-$(nproc)} running=0 t
	say "long runs: ${FUZZ_RUNS:-10000000} executions or ${secs}s per target, $jobs at a time"
	for t in "$@"; do
		rm -f "$FB/$t.result"
		if [ "$running" -ge "$jobs" ]; then
			wait -n || true
			running=$((running - 1))
		fi
		say "start $t"
		long_one "$t" "$secs" &
		running=$((running + 1))
	done
	wait || true
	summarize "$@"
}

case "${1:-}" in
build) build ;;
smoke) shift; smoke "$@" ;;
long)  shift; long "$@" ;;
*)
	say "usage: tests/fuzz/run.sh build | smoke [TARGET...] | long [SECONDS] [TARGET...]"
	exit 2 ;;
esac

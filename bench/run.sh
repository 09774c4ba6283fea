#!/usr/bin/env bash
# anontel's benchmark (SPEC 10): writes bench/RESULTS.md and bench/growth.png.
#   bench/run.sh                  everything (about 5 minutes on 2 cores)
#   bench/run.sh --only main      the ratio table only; --only growth: the growth series
#   bench/run.sh --runs 60        more runs per command (default 45, in 3 rounds)
#   ANONTEL_BIN=path bench/run.sh --out /tmp/x.md   bench another build, results elsewhere
#   bench/run.sh --only main --compare OTHER --out /tmp/x.md   two builds in the same runs
# Needs build/anontel (./build.sh). Installs hyperfine, time, gnuplot-nox, valgrind, curl,
# nodejs, npm with apt-get, and systeminformation 5.5.0 (bench/package-lock.json) into
# bench/node_modules with npm. All traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
say() { printf 'bench: %s\n' "$*" >&2; }

PKGS="hyperfine time gnuplot-nox valgrind curl nodejs openssl python3 musl-tools strace"
missing=()
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
# Debian's nodejs has npm apart; NodeSource's nodejs ships it.
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -f bench/node_modules/systeminformation/package.json ]; then
	say "installing systeminformation (npm ci)"
	npm ci --prefix bench --no-audit --no-fund --loglevel=error >/dev/null
fi

# The health endpoint of the check rows: Debian's nginx, unpacked from its package
# into build/bench/nginx (not installed: no service is started or left behind). A
# container's health URL is served by something of this speed, and a Python server's
# own latency would be most of what is measured.
NGX=build/bench/nginx
if [ ! -x "$NGX/root/usr/sbin/nginx" ]; then
	say "unpacking Debian's nginx into $NGX"
	mkdir -p "$NGX"
	(cd "$NGX" && rm -f nginx_*.deb && apt-get download nginx >/dev/null 2>&1 &&
		dpkg-deb -x nginx_*.deb root) || { say "cannot fetch Debian's nginx package"; exit 1; }
fi

BIN=${ANONTEL_BIN:-build/anontel}
if [ ! -x "$BIN" ]; then
	say "$BIN is missing: run ./build.sh first"
	exit 1
fi

W=build/bench
mkdir -p "$W/certs"
musl-gcc -static -Os -s -o "$W/floor" bench/floor.c
musl-gcc -static -Os -s -Wall -Werror -o "$W/maxrss" bench/maxrss.c

# A test CA (ECDSA P-256) and two server certificates for localhost under it: ECDSA
# P-256 and RSA-2048. BearSSL matches no IP addresses: the URLs name localhost.
c=$W/certs
if [ ! -f "$c/rsa.pem" ]; then
	say "making certificates"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$c/root.key" 2>/dev/null
	openssl req -x509 -new -key "$c/root.key" -subj "/CN=anontel bench root" -days 3650 \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -out "$c/root.pem"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$c/ec.key" 2>/dev/null
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$c/rsa.key" 2>/dev/null
	printf '%s\n' "basicConstraints=critical,CA:FALSE" \
		"keyUsage=critical,digitalSignature,keyEncipherment" \
		"extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost" > "$c/leaf.ext"
	for k in ec rsa; do
		openssl req -new -key "$c/$k.key" -subj /CN=localhost -out "$c/$k.csr"
		openssl x509 -req -in "$c/$k.csr" -CA "$c/root.pem" -CAkey "$c/root.key" \
			-CAcreateserial -days 3650 -sha256 -extfile "$c/leaf.ext" -out "$c/$k.pem" 2>/dev/null
	done
fi

# The measured processes (and the server) run under SCHED_FIFO when we are root: on a
# shared machine other work then cannot preempt them, and the medians stay medians of
# anontel rather than of the scheduler. BENCH_RT=0 turns this off.
RT=()
if [ "${BENCH_RT:-1}" = 1 ] && [ "$(id -u)" = 0 ] && command -v chrt >/dev/null; then
	RT=(chrt -f 50)
fi

rm -f "$W/ports"
${RT[@]+"${RT[@]}"} python3 bench/server.py "$W/ports" "ec:$c/ec.pem:$c/ec.key" "rsa:$c/rsa.pem:$c/rsa.key" \
	> "$W/server.log" 2>&1 &
server=$!
nginx=
trap 'kill "$server" $nginx 2>/dev/null || true' EXIT
for _ in $(seq 100); do
	[ -f "$W/ports" ] && break
	kill -0 "$server" 2>/dev/null || { cat "$W/server.log" >&2; exit 1; }
	sleep 0.05
done
[ -f "$W/ports" ] || { say "the TLS server did not start"; exit 1; }

# nginx on a free loopback port: one process, no daemon, answers 200 "ok".
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$NGX/run/tmp"
sed "s/@PORT@/$port/" bench/nginx.conf > "$NGX/run/nginx.conf"
${RT[@]+"${RT[@]}"} "$NGX/root/usr/sbin/nginx" -p "$PWD/$NGX/run/" -c nginx.conf -e stderr \
	> "$W/nginx.log" 2>&1 &
nginx=$!
for _ in $(seq 100); do
	curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null && break
	kill -0 "$nginx" 2>/dev/null || { cat "$W/nginx.log" >&2; exit 1; }
	sleep 0.05
done
curl -fsS -o /dev/null "http://127.0.0.1:$port/health" || { say "nginx did not start"; exit 1; }
echo "health $port" >> "$W/ports"

sched=normal
[ ${#RT[@]} -gt 0 ] && sched="${RT[*]}"
${RT[@]+"${RT[@]}"} python3 bench/bench.py --work "$W" --bin "$BIN" --floor "$W/floor" \
	--maxrss "$W/maxrss" --sched "$sched" "$@"

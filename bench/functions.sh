#!/usr/bin/env bash
# bench/functions.sh: the function platform's benchmark (`make bench`, after bench/run). The hello function,
# 1 keep-alive client and 16, side by side in one run, measured with wrk over loopback:
#   (a) native   a single-threaded epoll C server answering the same hello (bench/hello_server.c)
#   (b) warm     mote serve, hello-c with its VMs already attached (default --max-vms 4)
#   (c) cold     mote serve --idle 0 --pool 0 --no-layers: every request restores a VM from the base, attaches, serves, ends it
#   (b') (c')    the same two for the Lua hello (examples/hello-lua)
#   (c'')        cold for the same hello-c built with the glibc SDK (mote-fn-glibc.pc) instead of musl
#   (d) runc     a container cold start per request: bench/spawn_server.c runs `runc run` of a prepared bundle
#                whose program is the same handler.c linked as a plain program (bench/fn_native.c)
# Each variant runs BENCH_FN_ROUNDS times (default 3) for BENCH_FN_SECONDS (default 3) in round-robin order;
# the table shows the median over the rounds of wrk's p50/p90/p99 and requests/s. A second table splits the
# cold starts of the 1-connection runs into the phases the gateway logs for every VM (`mote logs`): restore
# (spawn to mote-vmm's READY), attach (to the guest's RUNNING) and load (to the runtime's READY).
# Environment: BUILD (default build). Skips (exit 0) without /dev/kvm or wrk; (d) is skipped without runc.
set -uo pipefail
BUILD=${BUILD:-build}
ROUNDS=${BENCH_FN_ROUNDS:-3}
SECS=${BENCH_FN_SECONDS:-3}

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "bench/functions: /dev/kvm is not usable; function benchmarks skipped"
	exit 0
fi
if ! command -v wrk >/dev/null; then
	echo "bench/functions: wrk is not installed (Debian package wrk); function benchmarks skipped"
	exit 0
fi
for f in mote mote-gateway mote-vmm mote-kernel runtimes/mote-c-init runtimes/mote-lua examples/hello-c/handler \
	bench/hello-c-glibc bench/hello_server bench/spawn_server bench/hello_fn_native; do
	if [ ! -e "$BUILD/$f" ]; then
		echo "bench/functions: $BUILD/$f is missing; run 'make bench'" >&2
		exit 1
	fi
done

. "$(dirname "$0")/lib.sh"
bench_scratch

# check_url URL REGEX: one request answers 200 with a body matching REGEX (what is timed is right).
check_url() {
	local body code
	body=$(curl -s --max-time 10 -w '\n%{http_code}' "$1")
	code=${body##*$'\n'}
	if [ "$code" != 200 ] || ! grep -qE -- "$2" <<<"${body%$'\n'*}"; then
		echo "bench/functions: $1 answered $code: ${body%$'\n'*}" >&2
		exit 1
	fi
}

start_server native "$BUILD/bench/hello_server" 0
URL_native="http://127.0.0.1:$PORT/"
check_url "$URL_native" '^hello from a native C server'

start_server warm "$BUILD/mote" serve --listen 127.0.0.1:0 --state "$tmp/warm"
URL_warm="http://127.0.0.1:$PORT/fn/hello/"
MOTE_SERVER=$tmp/warm/admin.sock "$BUILD/mote" deploy hello "$BUILD/examples/hello-c/handler" >/dev/null || exit 1
check_url "$URL_warm" '^hello from a mote C function'
MOTE_SERVER=$tmp/warm/admin.sock "$BUILD/mote" deploy hello-lua examples/hello-lua/handler.lua >/dev/null || exit 1
URL_warmlua="http://127.0.0.1:$PORT/fn/hello-lua/"
check_url "$URL_warmlua" '^hello from a mote Lua function'

start_server cold "$BUILD/mote" serve --listen 127.0.0.1:0 --state "$tmp/cold" --idle 0 --pool 0 --no-layers
URL_cold="http://127.0.0.1:$PORT/fn/hello/"
MOTE_SERVER=$tmp/cold/admin.sock "$BUILD/mote" deploy hello "$BUILD/examples/hello-c/handler" --max-vms 16 >/dev/null ||
	exit 1
check_url "$URL_cold" '^hello from a mote C function'
MOTE_SERVER=$tmp/cold/admin.sock "$BUILD/mote" deploy hello-lua examples/hello-lua/handler.lua --max-vms 16 >/dev/null ||
	exit 1
URL_coldlua="http://127.0.0.1:$PORT/fn/hello-lua/"
check_url "$URL_coldlua" '^hello from a mote Lua function'
MOTE_SERVER=$tmp/cold/admin.sock "$BUILD/mote" deploy hello-glibc "$BUILD/bench/hello-c-glibc" --max-vms 16 \
	>/dev/null || exit 1
URL_coldglibc="http://127.0.0.1:$PORT/fn/hello-glibc/"
check_url "$URL_coldglibc" '^hello from a mote C function'

variants="native warm cold warmlua coldlua coldglibc"
if command -v runc >/dev/null && [ "$(id -u)" = 0 ]; then
	# The OCI bundle: the handler as a static program, read-only root, runc's default namespaces.
	mkdir -p "$tmp/bundle/rootfs"
	cp "$BUILD/bench/hello_fn_native" "$tmp/bundle/rootfs/hello"
	start_runc_server "/hello"
	check_url "$URL_runc" '^hello from a mote C function'
	variants="$variants runc"
else
	echo "bench/functions: runc is not installed (or not root): variant (d) skipped"
fi

# to_us VALUE: wrk's "464.00us", "1.20ms", "2.00s" in microseconds.
to_us() {
	awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n }'
}

# ready_notes FUNCTION: the cold server's "VM pid N ready in ..." notes for FUNCTION, sorted (each names its
# time and pid, so a run's new cold starts are the lines that were not there before it).
ready_notes() {
	MOTE_SERVER=$tmp/cold/admin.sock "$BUILD/mote" logs "$1" 2>/dev/null | grep ' ready in ' | sort
}

# run_wrk VARIANT CONNS ROUND: one wrk run; its figures go to $tmp/res.VARIANT.CONNS (one line per round).
# For a cold variant with 1 connection, the phases of the run's cold starts go to $tmp/phases.FUNCTION.
run_wrk() {
	local v=$1 c=$2 url out threads=1 fn=""
	url=URL_$v
	[ "$c" -gt 1 ] && threads=2
	case $v.$c in cold.1) fn=hello ;; coldglibc.1) fn=hello-glibc ;; coldlua.1) fn=hello-lua ;; esac
	[ -n "$fn" ] && ready_notes "$fn" >"$tmp/ready.before"
	out=$(wrk -t"$threads" -c"$c" -d"${SECS}s" --timeout 10s --latency "${!url}" 2>&1)
	if [ -n "$fn" ]; then
		ready_notes "$fn" | comm -13 "$tmp/ready.before" - |
			sed -n 's/.* ready in \([0-9.]*\) ms (restore \([0-9.]*\), attach \([0-9.]*\), load \([0-9.]*\)).*/\1 \2 \3 \4/p' \
				>>"$tmp/phases.$fn"
	fi
	local p50 p90 p99 rps errors
	p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
	p90=$(awk '$1 == "90%" { print $2 }' <<<"$out")
	p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
	rps=$(awk '$1 == "Requests/sec:" { print $2 }' <<<"$out")
	errors=$(grep -cE 'Non-2xx|Socket errors' <<<"$out")
	if [ -z "$p50" ] || [ -z "$rps" ] || [ "$errors" != 0 ]; then
		echo "bench/functions: wrk on $v with $c connections failed or saw errors:" >&2
		echo "$out" >&2
		exit 1
	fi
	echo "$(to_us "$p50") $(to_us "$p90") $(to_us "$p99") $rps" >>"$tmp/res.$v.$c"
}

# Warm-up (not counted), then the rounds, round-robin over the variants.
for v in $variants; do
	wrk -t1 -c4 -d1s "$(eval echo "\$URL_$v")" >/dev/null 2>&1
done
for ((r = 0; r < ROUNDS; r++)); do
	for v in $variants; do
		run_wrk "$v" 1 "$r"
		run_wrk "$v" 16 "$r"
	done
done

# median COLUMN FILE
median() {
	awk -v c="$1" '{ print $c }' "$2" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# pct COLUMN FILE P: the P-th percentile (nearest rank) of a column.
pct() {
	awk -v c="$1" '{ print $c }' "$2" | sort -g | awk -v p="$3" '{ a[NR] = $1 } END { r = int((NR * p + 99) / 100); if (r < 1) r = 1; print a[r] }'
}

declare -A P50 P90 P99 RPS
label() {
	case $1 in
	native) echo "(a) native epoll C server" ;;
	warm) echo "(b) mote warm" ;;
	cold) echo "(c) mote cold (restore+attach)" ;;
	warmlua) echo "(b') mote warm, Lua hello" ;;
	coldlua) echo "(c') mote cold, Lua hello" ;;
	coldglibc) echo "(c'') mote cold, C SDK glibc" ;;
	runc) echo "(d) runc run per request" ;;
	esac
}
echo
echo "function benchmarks: hello, wrk over loopback, ${ROUNDS} rounds of ${SECS} s, medians of the rounds"
printf '%-32s %5s %10s %10s %10s %11s %14s\n' variant conns "p50 us" "p90 us" "p99 us" "req/s" "p50 vs (a)"
for c in 1 16; do
	for v in $variants; do
		f=$tmp/res.$v.$c
		P50[$v.$c]=$(median 1 "$f")
		P90[$v.$c]=$(median 2 "$f")
		P99[$v.$c]=$(median 3 "$f")
		RPS[$v.$c]=$(median 4 "$f")
		ratio=$(awk -v a="${P50[native.$c]}" -v b="${P50[$v.$c]}" 'BEGIN { printf "%.1fx", b / a }')
		printf '%-32s %5s %10.0f %10.0f %10.0f %11.0f %14s\n' "$(label "$v")" "$c" "${P50[$v.$c]}" "${P90[$v.$c]}" \
			"${P99[$v.$c]}" "${RPS[$v.$c]}" "$ratio"
	done
done

echo
target "warm p50 <= 300 us with 1 client (${P50[warm.1]} us)" "${P50[warm.1]} <= 300"
target "cold p50 <= 5 ms with 1 client (${P50[cold.1]} us)" "${P50[cold.1]} <= 5000"
target "warm >= 8000 req/s with 16 clients (${RPS[warm.16]} req/s)" "${RPS[warm.16]} >= 8000"
if [ -n "${P50[runc.1]:-}" ]; then
	target "cold >= 10x faster than runc per request, p50 with 1 client ($(awk -v a="${P50[cold.1]}" -v b="${P50[runc.1]}" 'BEGIN { printf "%.1fx", b / a }'))" \
		"${P50[runc.1]} >= 10 * ${P50[cold.1]}"
fi

# The cold starts with 1 connection in phases, from the gateway's note on every VM of the cold server
# ("VM pid N ready in T ms (restore R, attach A, load L): ..."; the request itself comes after READY).
echo
echo "cold starts with 1 connection in phases (ms, from mote logs; restore: spawn to mote-vmm's READY, attach: to"
echo "the guest's RUNNING, load: to the runtime's READY)"
printf '%-24s %6s %9s %9s %9s %9s %9s %9s %9s\n' function starts "total p50" p90 p99 restore attach "load p50" p90
for fn in hello hello-glibc hello-lua; do
	f=$tmp/phases.$fn
	if [ ! -s "$f" ]; then
		echo "bench/functions: no cold start of $fn was logged during the runs" >&2
		continue
	fi
	case $fn in
	hello) what="hello-c (musl SDK)" ;;
	hello-glibc) what="hello-c (glibc SDK)" ;;
	hello-lua) what="hello-lua" ;;
	esac
	printf '%-24s %6d %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f\n' "$what" "$(wc -l <"$f")" "$(pct 1 "$f" 50)" \
		"$(pct 1 "$f" 90)" "$(pct 1 "$f" 99)" "$(pct 2 "$f" 50)" "$(pct 3 "$f" 50)" "$(pct 4 "$f" 50)" "$(pct 4 "$f" 90)"
done

for p in $PIDS; do kill "$p" 2>/dev/null; done
for p in $PIDS; do { wait "$p"; } 2>/dev/null; done
PIDS=""
left=$(pgrep -f -- "--restore $tmp/" | wc -l)
echo "VM processes left once the servers stopped: $left"
uptime | sed 's/^.*load/machine load/'

#!/usr/bin/env bash
# bench/pool.sh: pools of paused VMs (`make bench`, after bench/functions.sh). Two parts, side by side in one run:
#  1. Latency of one request from a fresh connection, the same client for every variant (curl's time_total,
#     sequential, BENCH_POOL_REQS requests each, default 200; 40 for runc), hello-c:
#       native        bench/hello_server.c (a process that is already running)
#       warm          mote serve, the function's VM attached and idle
#       cold_pool     mote serve --pool c=4 --no-layers, --idle-timeout 0: each request takes a paused VM from the pool
#                     and attaches the function (the client waits until the pool is refilled between requests,
#                     and the gateway's metrics confirm every request was a pool hit)
#       cold_restore  mote serve --pool 0, --idle-timeout 0: each request restores a VM from the base
#       runc          `runc run` of the same handler per request (bench/spawn_server.c), when runc is there
#  2. Idle memory: BENCH_POOL_VMS (default "100 1000") pooled VMs of the Lua base vs as many sleeping static
#     native processes (busybox sleep): private KiB per process from /proc/PID/smaps_rollup (median, p90,
#     p99), and what the host's MemAvailable dropped by per process (includes KVM's kernel memory).
# Environment: BUILD (default build). Skips (exit 0) without /dev/kvm.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
BUILD=${BUILD:-build}
REQS=${BENCH_POOL_REQS:-200}
VMS=${BENCH_POOL_VMS:-100 1000}

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "bench/pool: /dev/kvm is not usable; pool benchmarks skipped"
	exit 0
fi
for f in mote mote-gateway mote-vmm mote-kernel runtimes/mote-c-init runtimes/mote-lua examples/hello-c/handler \
	bench/hello_server bench/spawn_server bench/hello_fn_native; do
	if [ ! -e "$BUILD/$f" ]; then
		echo "bench/pool: $BUILD/$f is missing; run 'make bench'" >&2
		exit 1
	fi
done

bench_scratch

# Every variant with a warm VM is served warm: check (the cold ones are cold by --idle-timeout 0).
# measure NAME URL N [SOCK]: N sequential requests, each from a new connection; microseconds to $tmp/lat.NAME.
# With SOCK, waits before each request until that gateway's pools are full again (8 paused VMs).
measure() {
	local name=$1 url=$2 n=$3 sock=${4:-} i t code
	: >"$tmp/lat.$name"
	for ((i = 0; i < n; i++)); do
		[ -n "$sock" ] && wait_paused "$sock" 8 10
		read -r code t < <(curl -s -o /dev/null --max-time 20 -w '%{http_code} %{time_total}\n' "$url")
		if [ "$code" != 200 ]; then
			echo "bench/pool: $name: $url answered $code" >&2
			exit 1
		fi
		awk -v t="$t" 'BEGIN { printf "%.0f\n", t * 1e6 }' >>"$tmp/lat.$name"
	done
}

# ---- 1. latency ----
start_server native "$BUILD/bench/hello_server" 0
URL_native="http://127.0.0.1:$PORT/"

start_server warm "$BUILD/mote" serve --listen 127.0.0.1:0 --state "$tmp/warm" --pool 0
W_SOCK=$tmp/warm/admin.sock
MOTE_SERVER=$W_SOCK "$BUILD/mote" deploy hello "$BUILD/examples/hello-c/handler" >/dev/null || exit 1
URL_warm="http://127.0.0.1:$PORT/fn/hello/"

start_server pool "$BUILD/mote" serve --listen 127.0.0.1:0 --state "$tmp/pool" --pool c=4,lua=4 --no-layers
P_SOCK=$tmp/pool/admin.sock
MOTE_SERVER=$P_SOCK "$BUILD/mote" deploy hello "$BUILD/examples/hello-c/handler" --idle-timeout 0 >/dev/null || exit 1
MOTE_SERVER=$P_SOCK "$BUILD/mote" deploy hello-lua examples/hello-lua/handler.lua --idle-timeout 0 >/dev/null || exit 1
MOTE_SERVER=$P_SOCK "$BUILD/mote" deploy warm-lua examples/hello-lua/handler.lua >/dev/null || exit 1
URL_cold_pool="http://127.0.0.1:$PORT/fn/hello/"
URL_cold_pool_lua="http://127.0.0.1:$PORT/fn/hello-lua/"
URL_warm_lua="http://127.0.0.1:$PORT/fn/warm-lua/"

start_server restore "$BUILD/mote" serve --listen 127.0.0.1:0 --state "$tmp/restore" --pool 0
R_SOCK=$tmp/restore/admin.sock
MOTE_SERVER=$R_SOCK "$BUILD/mote" deploy hello "$BUILD/examples/hello-c/handler" --idle-timeout 0 >/dev/null || exit 1
URL_cold_restore="http://127.0.0.1:$PORT/fn/hello/"

variants="native warm cold_pool cold_restore warm_lua cold_pool_lua"
if command -v runc >/dev/null && [ "$(id -u)" = 0 ]; then
	mkdir -p "$tmp/bundle/rootfs"
	cp "$BUILD/bench/hello_fn_native" "$tmp/bundle/rootfs/hello"
	start_runc_server "/hello"
	variants="$variants runc"
fi

wait_paused "$P_SOCK" 8 30 || {
	echo "bench/pool: the pool did not fill" >&2
	exit 1
}
for v in $variants; do # warm-up, not counted
	url=URL_$v
	case $v in cold_pool*) measure warmup "${!url}" 5 "$P_SOCK" ;; *) measure warmup "${!url}" 5 ;; esac
done
hits0=$(metric "$P_SOCK" mote_pool_hits_total)
miss0=$(metric "$P_SOCK" mote_pool_misses_total)
for v in $variants; do
	url=URL_$v
	n=$REQS
	[ "$v" = runc ] && n=$((REQS < 40 ? REQS : 40))
	case $v in cold_pool*) measure "$v" "${!url}" "$n" "$P_SOCK" ;; *) measure "$v" "${!url}" "$n" ;; esac
done
hits=$(($(metric "$P_SOCK" mote_pool_hits_total) - hits0))
misses=$(($(metric "$P_SOCK" mote_pool_misses_total) - miss0))
restores=$(metric "$R_SOCK" mote_restores_total for=request)

label() {
	case $1 in
	native) echo "native C server (running)" ;;
	warm) echo "mote warm" ;;
	cold_pool) echo "mote cold from the pool" ;;
	cold_restore) echo "mote cold, base restore" ;;
	runc) echo "runc run per request" ;;
	warm_lua) echo "mote warm, Lua hello" ;;
	cold_pool_lua) echo "mote cold from the pool, Lua" ;;
	esac
}
echo
echo "pool benchmarks, part 1: hello-c (and hello-lua), one request per new connection, curl time_total, sequential"
printf '%-28s %5s %10s %10s %10s %12s %12s\n' variant n "p50 us" "p90 us" "p99 us" "vs warm" "vs native"
declare -A P50
for v in $variants; do
	P50[$v]=$(bench_pct 50 "$tmp/lat.$v")
done
for v in $variants; do
	printf '%-28s %5s %10s %10s %10s %12s %12s\n' "$(label "$v")" "$(wc -l <"$tmp/lat.$v")" "${P50[$v]}" \
		"$(bench_pct 90 "$tmp/lat.$v")" "$(bench_pct 99 "$tmp/lat.$v")" \
		"$(awk -v a="${P50[warm]}" -v b="${P50[$v]}" 'BEGIN { printf "%.2fx", b / a }')" \
		"$(awk -v a="${P50[native]}" -v b="${P50[$v]}" 'BEGIN { printf "%.2fx", b / a }')"
done
echo "cold from the pool: $hits pool hits, $misses misses; cold restore: $restores restores on the request path"
target "cold from the pool p50 <= 1 ms (${P50[cold_pool]} us C, ${P50[cold_pool_lua]} us Lua)" "${P50[cold_pool]} <= 1000"
target "cold from the pool p50 <= 1.5x warm ($(awk -v a="${P50[warm]}" -v b="${P50[cold_pool]}" 'BEGIN { printf "%.2fx", b / a }'))" \
	"${P50[cold_pool]} <= 1.5 * ${P50[warm]}"
for p in $PIDS; do stop_server "$p"; done

# ---- 2. idle memory of many pooled VMs vs sleeping native processes ----
avail() { awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo; }
echo
declare -A VM_MEDIAN
echo "pool benchmarks, part 2: idle memory per process (private KiB from smaps_rollup; host MemAvailable drop)"
printf '%-34s %6s %9s %9s %9s %16s %8s\n' what n "p50 KiB" "p90 KiB" "p99 KiB" "host drop KiB/p" "seconds"
for n in $VMS; do
	sync
	a0=$(avail)
	t0=$(date +%s%N)
	start_server many "$BUILD/mote" serve --listen 127.0.0.1:0 --state "$tmp/many" --pool "lua=$n" \
		--pool-rate 1000 --max-vms $((n + 16))
	gw=$SPID
	if ! wait_paused "$tmp/many/admin.sock" "$n" 300; then
		echo "bench/pool: $n pooled VMs did not fill in 300 s ($(metric "$tmp/many/admin.sock" mote_pool_vms state=paused) did)" >&2
		stop_server "$gw"
		break
	fi
	t1=$(date +%s%N)
	sleep 1
	a1=$(avail)
	: >"$tmp/vm.kib"
	for p in $(pgrep -f -- "--restore $tmp/many/bases/"); do private_kib "$p" >>"$tmp/vm.kib"; done
	read -r m p90 p99 < <(bench_pct_stats "$tmp/vm.kib")
	printf '%-34s %6s %9s %9s %9s %16s %8s\n' "mote pooled VMs (Lua base, 64M)" "$(wc -l <"$tmp/vm.kib")" "$m" "$p90" "$p99" \
		"$(((a0 - a1) / n))" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')"
	VM_MEDIAN[$n]=$m
	stop_server "$gw"
	rm -rf "$tmp/many"
	sync
	a0=$(avail)
	SLEEPERS=""
	for ((i = 0; i < n; i++)); do
		/bin/busybox sleep 600 &
		SLEEPERS="$SLEEPERS $!"
	done
	sleep 1
	a1=$(avail)
	: >"$tmp/native.kib"
	for p in $SLEEPERS; do private_kib "$p" >>"$tmp/native.kib"; done
	read -r m p90 p99 < <(bench_pct_stats "$tmp/native.kib")
	printf '%-34s %6s %9s %9s %9s %16s %8s\n' "native static sleep (busybox)" "$n" "$m" "$p90" "$p99" "$(((a0 - a1) / n))" "-"
	# shellcheck disable=SC2086
	kill $SLEEPERS 2>/dev/null
	# shellcheck disable=SC2086
	wait $SLEEPERS 2>/dev/null
	target "$n pooled VMs <= 512 KiB private each (median ${VM_MEDIAN[$n]} KiB)" "${VM_MEDIAN[$n]} <= 512"
done

#!/usr/bin/env bash
# bench/node_fn.sh: Node.js functions (`make bench`). Side by side in one run, the Node hello
# (examples/hello-node, Workers style):
#  1. Latency of one request from a fresh connection, the same client for every variant (curl's time_total,
#     sequential, BENCH_NODE_REQS requests each, default 100; 30 for the per-request processes):
#       (a) native        Node's own http server (bench/node_hello_server.js), running and warm
#       (b) warm          mote serve, the function's VM attached and idle
#       (c) cold_pool     mote serve --pool node=2 --no-layers, --idle-timeout 0: each request takes a paused
#                         VM of the base from the pool, attaches the function and loads it (the client waits
#                         until the pool is full again between requests; the metrics confirm the hits)
#       (c') cold_layer   mote serve --pool 0 --layer-min-load 0, --idle-timeout 0: each request restores the
#                         function's layer (its VM saved after loading it)
#       (d) cold_restore  mote serve --pool 0 --no-layers, --idle-timeout 0: each request restores the base,
#                         attaches and loads the function
#       (e) spawn         a node process started per request (bench/spawn_server.c runs node hello_cli.js)
#       (f) runc          `runc run` of node per request in the node runtime's own root file system (root only)
#  2. Idle memory: BENCH_NODE_VMS (default 16) pooled VMs of the node base vs as many idle native node
#     processes: private KiB per process (smaps_rollup) and the native processes' RSS.
# Environment: BUILD (default build), BENCH_NODE_REQS, BENCH_NODE_VMS, BENCH_NODE_WARMUP (requests served by
# the warm variants before they are measured, default 200). Skips (exit 0) without /dev/kvm or node.
set -uo pipefail
BUILD=${BUILD:-build}
REQS=${BENCH_NODE_REQS:-100}
VMS=${BENCH_NODE_VMS:-16}
NODE=${NODE:-/usr/bin/node}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "bench/node_fn: /dev/kvm is not usable; Node.js function benchmarks skipped"
	exit 0
fi
if [ ! -x "$NODE" ]; then
	echo "bench/node_fn: no $NODE (Debian package nodejs); Node.js function benchmarks skipped"
	exit 0
fi
for f in mote mote-gateway mote-vmm mote-kernel runtimes/node/mote/bootstrap.js bench/spawn_server; do
	if [ ! -e "$BUILD/$f" ]; then
		echo "bench/node_fn: $BUILD/$f is missing; run 'make bench'" >&2
		exit 1
	fi
done
. "$HERE/lib.sh"
HELLO=$ROOT/examples/hello-node/handler.mjs

bench_scratch

deploy() { # SOCK NAME [FLAGS...]
	local sock=$1 name=$2
	shift 2
	MOTE_SERVER=$sock "$BUILD/mote" deploy "$name" "$HELLO" "$@" >/dev/null || exit 1
}
# measure NAME URL N [SOCK POOLED]: N sequential requests, each from a new connection; microseconds to
# $tmp/lat.NAME. With SOCK, waits before each request until that gateway's pools hold POOLED paused VMs.
measure() {
	local name=$1 url=$2 n=$3 sock=${4:-} pooled=${5:-0} i t code
	: >"$tmp/lat.$name"
	for ((i = 0; i < n; i++)); do
		[ -n "$sock" ] && wait_paused "$sock" "$pooled" 30
		read -r code t < <(curl -s -o "$tmp/body" --max-time 30 -w '%{http_code} %{time_total}\n' "$url")
		if [ "$code" != 200 ] || ! grep -q '^hello from' "$tmp/body"; then
			echo "bench/node_fn: $name: $url answered $code: $(head -c 200 "$tmp/body")" >&2
			exit 1
		fi
		awk -v t="$t" 'BEGIN { printf "%.0f\n", t * 1e6 }' >>"$tmp/lat.$name"
	done
}

# ---- 1. latency ----
start_server native "$NODE" "$HERE/node_hello_server.js"
URL_native="http://127.0.0.1:$PORT/"

start_server warm "$BUILD/mote" serve --listen 127.0.0.1:0 --state "$tmp/warm" --pool 0
deploy "$tmp/warm/admin.sock" hello
URL_warm="http://127.0.0.1:$PORT/fn/hello/"

start_server pool "$BUILD/mote" serve --listen 127.0.0.1:0 --state "$tmp/pool" --pool node=2 --no-layers
P_SOCK=$tmp/pool/admin.sock
deploy "$P_SOCK" hello --idle-timeout 0
URL_cold_pool="http://127.0.0.1:$PORT/fn/hello/"

start_server layer "$BUILD/mote" serve --listen 127.0.0.1:0 --state "$tmp/layer" --pool 0 --layer-min-load 0
L_SOCK=$tmp/layer/admin.sock
deploy "$L_SOCK" hello --idle-timeout 0
URL_cold_layer="http://127.0.0.1:$PORT/fn/hello/"

start_server restore "$BUILD/mote" serve --listen 127.0.0.1:0 --state "$tmp/restore" --pool 0 --no-layers
R_SOCK=$tmp/restore/admin.sock
deploy "$R_SOCK" hello --idle-timeout 0
URL_cold_restore="http://127.0.0.1:$PORT/fn/hello/"

start_server spawn "$BUILD/bench/spawn_server" 0 "$NODE" "$HERE/node_hello_cli.js"
URL_spawn="http://127.0.0.1:$PORT/"

variants="native warm cold_pool cold_layer cold_restore spawn"
if command -v runc >/dev/null && [ "$(id -u)" = 0 ]; then
	# The node runtime's root file system (node and its libraries) as the container's read-only root.
	mkdir -p "$tmp/bundle/rootfs"
	cp -a "$BUILD/runtimes/node/." "$tmp/bundle/rootfs/"
	cp "$HERE/node_hello_cli.js" "$tmp/bundle/rootfs/hello.js"
	start_runc_server "/usr/bin/node" "/hello.js"
	variants="$variants runc"
else
	echo "bench/node_fn: runc is not installed (or not root): variant (f) skipped"
fi

wait_paused "$P_SOCK" 2 120 || {
	echo "bench/node_fn: the pool did not fill" >&2
	exit 1
}
# Warm-up, not counted: the layers are taken; the warm variants serve WARMUP requests first, so that both
# Node's own server and the VM have run the path often (JIT) and the VM has touched its pages once.
WARMUP=${BENCH_NODE_WARMUP:-200}
for v in $variants; do
	url=URL_$v
	case $v in
	cold_pool) measure warmup "${!url}" 3 "$P_SOCK" 2 ;;
	native | warm) measure warmup "${!url}" "$WARMUP" ;;
	*) measure warmup "${!url}" 3 ;;
	esac
done
hits0=$(metric "$P_SOCK" mote_pool_hits_total)
miss0=$(metric "$P_SOCK" mote_pool_misses_total)
lhits0=$(metric "$L_SOCK" mote_layer_hits_total)
for v in $variants; do
	url=URL_$v
	n=$REQS
	case $v in spawn | runc) n=$((REQS < 30 ? REQS : 30)) ;; esac
	case $v in cold_pool) measure "$v" "${!url}" "$n" "$P_SOCK" 2 ;; *) measure "$v" "${!url}" "$n" ;; esac
done
hits=$(($(metric "$P_SOCK" mote_pool_hits_total) - hits0))
misses=$(($(metric "$P_SOCK" mote_pool_misses_total) - miss0))
lhits=$(($(metric "$L_SOCK" mote_layer_hits_total) - lhits0))

label() {
	case $1 in
	native) echo "(a) node http server (warm)" ;;
	warm) echo "(b) mote warm" ;;
	cold_pool) echo "(c) mote cold from the pool" ;;
	cold_layer) echo "(c') mote cold from its layer" ;;
	cold_restore) echo "(d) mote cold, base restore" ;;
	spawn) echo "(e) node process per request" ;;
	runc) echo "(f) runc run node per request" ;;
	esac
}
echo
echo "Node.js function benchmarks, part 1: hello-node, one request per new connection, curl time_total, sequential"
printf '%-32s %5s %10s %10s %10s %10s %12s\n' variant n "p50 us" "p90 us" "p99 us" "vs (a)" "(e) / it"
declare -A P50
for v in $variants; do P50[$v]=$(bench_pct 50 "$tmp/lat.$v"); done
for v in $variants; do
	printf '%-32s %5s %10s %10s %10s %10s %12s\n' "$(label "$v")" "$(wc -l <"$tmp/lat.$v")" "${P50[$v]}" \
		"$(bench_pct 90 "$tmp/lat.$v")" "$(bench_pct 99 "$tmp/lat.$v")" \
		"$(awk -v a="${P50[native]}" -v b="${P50[$v]}" 'BEGIN { printf "%.2fx", b / a }')" \
		"$(awk -v a="${P50[spawn]}" -v b="${P50[$v]}" 'BEGIN { printf "%.1fx", a / b }')"
done
echo "cold from the pool: $hits pool hits, $misses misses; cold from the layer: $lhits layer hits"
target "warm p50 <= 1.3x node's own server ($(awk -v a="${P50[native]}" -v b="${P50[warm]}" 'BEGIN { printf "%.2fx", b / a }'))" \
	"${P50[warm]} <= 1.3 * ${P50[native]}"
best=${P50[cold_pool]}
[ "${P50[cold_layer]}" -lt "$best" ] && best=${P50[cold_layer]}
target "cold p50 <= 2 ms (from the pool ${P50[cold_pool]} us, from the layer ${P50[cold_layer]} us)" "$best <= 2000"
target "cold >= 20x faster than a node process per request ($(awk -v a="${P50[spawn]}" -v b="$best" 'BEGIN { printf "%.1fx", a / b }'))" \
	"${P50[spawn]} >= 20 * $best"
for p in $PIDS; do stop_server "$p"; done

# ---- 2. idle memory: pooled node VMs vs idle node processes ----
rss_kib() { awk '$1 == "Rss:" { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null; }
echo
echo "Node.js function benchmarks, part 2: idle memory per process (KiB from smaps_rollup)"
printf '%-36s %5s %10s %10s %10s\n' what n "p50 KiB" "p90 KiB" "p99 KiB"
start_server many "$BUILD/mote" serve --listen 127.0.0.1:0 --state "$tmp/many" --pool "node=$VMS" --pool-rate 1000 \
	--max-vms $((VMS + 4))
gw=$SPID
if wait_paused "$tmp/many/admin.sock" "$VMS" 300; then
	sleep 1
	: >"$tmp/vm.kib"
	for p in $(pgrep -f -- "--restore $tmp/many/bases/"); do private_kib "$p" >>"$tmp/vm.kib"; done
	printf '%-36s %5s %10s %10s %10s\n' "mote pooled VMs (node base, 1G), private" "$(wc -l <"$tmp/vm.kib")" \
		"$(bench_pct 50 "$tmp/vm.kib")" "$(bench_pct 90 "$tmp/vm.kib")" "$(bench_pct 99 "$tmp/vm.kib")"
else
	echo "bench/node_fn: $VMS pooled node VMs did not fill in 300 s" >&2
fi
stop_server "$gw"
SLEEPERS=""
for ((i = 0; i < VMS; i++)); do
	"$NODE" -e 'setInterval(() => {}, 1 << 30)' &
	SLEEPERS="$SLEEPERS $!"
done
sleep 2
: >"$tmp/native.priv"
: >"$tmp/native.rss"
for p in $SLEEPERS; do
	private_kib "$p" >>"$tmp/native.priv"
	rss_kib "$p" >>"$tmp/native.rss"
done
printf '%-36s %5s %10s %10s %10s\n' "idle node processes, private" "$VMS" "$(bench_pct 50 "$tmp/native.priv")" \
	"$(bench_pct 90 "$tmp/native.priv")" "$(bench_pct 99 "$tmp/native.priv")"
printf '%-36s %5s %10s %10s %10s\n' "idle node processes, RSS" "$VMS" "$(bench_pct 50 "$tmp/native.rss")" \
	"$(bench_pct 90 "$tmp/native.rss")" "$(bench_pct 99 "$tmp/native.rss")"
# shellcheck disable=SC2086
kill $SLEEPERS 2>/dev/null
# shellcheck disable=SC2086
wait $SLEEPERS 2>/dev/null
if [ -s "$tmp/vm.kib" ]; then
	target "a pooled node VM <= 2 MiB private (median $(bench_pct 50 "$tmp/vm.kib") KiB)" "$(bench_pct 50 "$tmp/vm.kib") <= 2048"
fi
uptime | sed 's/^.*load/machine load/'

#!/usr/bin/env bash
# bench/layers.sh: per-function layers (`make bench`, after bench/functions.sh). For a Lua and a C function
# whose initialisation does some work (tests/fn/layer_count.lua, .c), side by side in one run, N cold starts
# each (bench/fnhost --cold: fork of mote-vmm, READY, ATTACH, the first message, the first request and its
# response, hang-up), timed from the fork to the first response ("cold") and to the first message:
#   (a) base     restore the runtime's base, attach the function, let it initialise (what a cold start is
#                without layers)
#   (b) layer    restore the base with the function's layer mapped over it (--layer, pages mapped)
#   (c) copy     the same with the layer's pages read into RAM (--layer-apply=copy)
#   (d) full     restore a full snapshot of the same function VM taken at the same point (state + memory
#                file of the whole VM), attach
# and the sizes: the layer vs the full snapshot's memory file (its data, holes left out).
# Environment: BUILD (default build), BENCH_LAYER_RUNS (default 50). Skips (exit 0) without /dev/kvm.
set -uo pipefail
BUILD=${BUILD:-build}
N=${BENCH_LAYER_RUNS:-50}

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "bench/layers: /dev/kvm is not usable; layer benchmarks skipped"
	exit 0
fi
for f in mote mote-vmm mote-kernel runtimes/mote-c-init runtimes/mote-lua bench/fnhost tests/fn/layer_count/handler; do
	if [ ! -e "$BUILD/$f" ]; then
		echo "bench/layers: $BUILD/$f is missing; run 'make bench'" >&2
		exit 1
	fi
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mote-layerbench.XXXXXX")
FNPID=
cleanup() {
	[ -n "$FNPID" ] && kill "$FNPID" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
VMM=$BUILD/mote-vmm
FNHOST=$BUILD/bench/fnhost
printf 'GET /bench - -\n' >"$tmp/script"

# data BYTES of FILE: the blocks it occupies (a sparse memory file's data).
data_bytes() { echo $(($(stat -c %b "$1") * $(stat -c %B "$1"))); }

# cold LABEL OPTIONS...: N cold starts; prints the table rows.
cold() {
	local label=$1
	shift
	if ! "$FNHOST" --vmm "$VMM" --out "$tmp" --log /dev/null --cold "$N" "$@" "$tmp/script" >"$tmp/cold.out" 2>"$tmp/cold.err"; then
		echo "bench/layers: $label failed: $(head -c 300 "$tmp/cold.err")" >&2
		exit 1
	fi
	awk -v l="$label" '/^cold |^first-message / {
		split($3, a, "="); split($4, b, "="); split($5, c, "=");
		printf "%-34s %-14s %9.0f %9.0f %9.0f\n", l, $1, a[2], b[2], c[2] }' "$tmp/cold.out"
	LAST_P50=$(awk '/^cold / { split($3, a, "="); printf "%.0f", a[2] }' "$tmp/cold.out")
}
VERDICT=""

echo
echo "Layers: cold starts of a function, $N runs each (us, fork of mote-vmm to the first message / first response)"
for lang in lua c; do
	B=$tmp/b-$lang
	mkdir -p "$B"
	case $lang in
	lua) cp tests/fn/layer_count.lua "$B/handler.lua" && rt=mote-lua ;;
	c) cp "$BUILD/tests/fn/layer_count/handler" "$B/handler" && rt=mote-c-init ;;
	esac
	if ! "$BUILD/mote" run --timeout 30 --snapshot "$tmp/$lang.snap" --exit-after-snapshot "$BUILD/runtimes/$rt" >/dev/null 2>"$tmp/base.err"; then
		echo "bench/layers: cannot make the $lang base: $(head -c 300 "$tmp/base.err")" >&2
		exit 1
	fi
	# The layer, taken at the runtime's READY.
	if ! "$FNHOST" --vmm "$VMM" --snapshot "$tmp/$lang.snap" --bundle "$B" --out "$tmp" --log /dev/null \
		--take-layer "$tmp/$lang.layer" "$tmp/script" >"$tmp/take.out" 2>&1; then
		echo "bench/layers: cannot take the $lang layer: $(head -c 300 "$tmp/take.out")" >&2
		exit 1
	fi
	read -r _ ok layer_bytes layer_pages < <(grep '^layer ' "$tmp/take.out")
	# A full snapshot of the same point: the VM waits for its first request (fnhost reads its script from a
	# FIFO), `mote snapshot take` snapshots it there.
	mkfifo "$tmp/fifo"
	"$FNHOST" --vmm "$VMM" --snapshot "$tmp/$lang.snap" --bundle "$B" --out "$tmp" --log /dev/null \
		--vmm-arg --snapshot --vmm-arg "$tmp/$lang-full.snap" - <"$tmp/fifo" >"$tmp/full.out" 2>&1 &
	FNPID=$!
	exec 9>"$tmp/fifo"
	for ((i = 0; i < 200; i++)); do
		grep -q '^first READY' "$tmp/full.out" 2>/dev/null && break
		sleep 0.05
	done
	vmpid=$(pgrep -P "$FNPID" -x mote-vmm | head -1)
	if [ -z "$vmpid" ] || ! "$BUILD/mote" snapshot take "$vmpid" >/dev/null 2>"$tmp/take.err"; then
		echo "bench/layers: cannot take the full $lang snapshot: $(head -c 300 "$tmp/take.err")" >&2
		exit 1
	fi
	exec 9>&-
	wait "$FNPID"
	FNPID=
	rm -f "$tmp/fifo"
	full_bytes=$(($(data_bytes "$tmp/$lang-full.snap.mem") + $(stat -c %s "$tmp/$lang-full.snap")))
	base_bytes=$(data_bytes "$tmp/$lang.snap.mem")
	echo
	printf '%-34s %-14s %9s %9s %9s\n' "$lang function" "" p50 p90 p99
	cold "(a) base restore + attach + init" --snapshot "$tmp/$lang.snap" --bundle "$B"
	cold "(b) layer (mapped)" --snapshot "$tmp/$lang.snap" --bundle "$B" --layer "$tmp/$lang.layer"
	VERDICT="$VERDICT $lang=$LAST_P50"
	[ "$LAST_P50" -le 3000 ] || MISSED=1
	cold "(c) layer (pread copy)" --snapshot "$tmp/$lang.snap" --bundle "$B" --layer "$tmp/$lang.layer" \
		--vmm-arg --layer-apply=copy
	cold "(d) full snapshot + attach" --snapshot "$tmp/$lang-full.snap" --bundle "$B"
	printf 'sizes: layer %d KiB (%d pages); full snapshot %d KiB of data (layer/full = %.2f); base %d KiB of data\n' \
		$((layer_bytes / 1024)) "$layer_pages" $((full_bytes / 1024)) \
		"$(awk -v a="$layer_bytes" -v b="$full_bytes" 'BEGIN { print a / b }')" $((base_bytes / 1024))
done
echo
if [ -z "${MISSED:-}" ]; then
	echo "target met: cold from layer p50 <= 3 ms (p50 us:$VERDICT)"
else
	echo "target NOT met: cold from layer p50 <= 3 ms (p50 us:$VERDICT)"
fi

#!/usr/bin/env bash
# bench/threads.sh: thread switch cost (`make bench`). tests/guest/threads.c's `pingpong` part bounces a futex
# word between two threads ROUNDS times (each round trip is two wakes and two switches) and prints the time per
# round trip. Side by side in one run, RUNS runs each:
#   (a) mote     in a VM (`mote run --no-jail`): the guest scheduler switches on its one vCPU
#   (b) native1  natively, pinned to one CPU (taskset -c 0): Linux switches on one CPU, as the guest does
#   (c) native   natively on any CPU (the wake crosses CPUs)
# medians, p90 and p99 of the per-run figure, and the ratio of each to mote.
# Environment: BUILD (default build), BENCH_THREAD_RUNS (default 30), BENCH_THREAD_ROUNDS (default 20000).
# Skips (exit 0) without /dev/kvm.
set -uo pipefail
BUILD=${BUILD:-build}
RUNS=${BENCH_THREAD_RUNS:-30}
ROUNDS=${BENCH_THREAD_ROUNDS:-20000}

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "bench/threads: /dev/kvm is not usable; thread benchmarks skipped"
	exit 0
fi
BIN=$BUILD/tests/guest/threads.musl
for f in "$BUILD/mote" "$BUILD/mote-vmm" "$BUILD/mote-kernel" "$BIN"; do
	if [ ! -e "$f" ]; then
		echo "bench/threads: $f is missing; run 'make bench'" >&2
		exit 1
	fi
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mote-threadbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
export XDG_CACHE_HOME=$tmp/cache

# one LABEL COMMAND...: RUNS runs; appends each run's us per round trip to $tmp/LABEL.
one() {
	local label=$1 i line
	shift
	: >"$tmp/$label"
	for ((i = 0; i < RUNS; i++)); do
		if ! line=$(timeout 60 "$@" pingpong "$ROUNDS" 2>"$tmp/err"); then
			echo "bench/threads: $label failed: $(head -c 300 "$tmp/err")" >&2
			exit 1
		fi
		# "pingpong: N round trips in T ms: U us per round trip"
		awk '/^pingpong:/ { print $(NF-4) }' <<<"$line" >>"$tmp/$label"
	done
}

# stats LABEL: "p50 p90 p99" of $tmp/LABEL
stats() {
	sort -g "$tmp/$1" | awk '{ v[NR] = $1 } END {
		i50 = int(NR * 0.50 + 0.5); i90 = int(NR * 0.90 + 0.5); i99 = int(NR * 0.99 + 0.5);
		if (i50 < 1) i50 = 1; if (i90 < 1) i90 = 1; if (i99 < 1) i99 = 1;
		printf "%.3f %.3f %.3f", v[i50], v[i90], v[i99] }'
}

one mote "$BUILD/mote" run --no-jail --timeout 60 "$BIN"
one native1 taskset -c 0 "$BIN"
one native "$BIN"

echo
echo "Threads: futex ping-pong between two threads, $ROUNDS round trips per run, $RUNS runs each (us per round trip)"
printf '%-44s %9s %9s %9s %12s\n' variant p50 p90 p99 "mote/this"
read -r m50 m90 m99 <<<"$(stats mote)"
for v in mote native1 native; do
	read -r a b c <<<"$(stats $v)"
	case $v in
	mote) what="(a) mote: guest scheduler, one vCPU" ;;
	native1) what="(b) native, pinned to one CPU" ;;
	native) what="(c) native, any CPU" ;;
	esac
	printf '%-44s %9.3f %9.3f %9.3f %11.2fx\n' "$what" "$a" "$b" "$c" "$(awk -v m="$m50" -v x="$a" 'BEGIN { print m / x }')"
done

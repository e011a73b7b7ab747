#!/usr/bin/env bash
# bench/threads.sh: thread switch cost (`make bench`). tests/guest/threads.c's `pingpong` part bounces a futex
# word between two threads ROUNDS times (each round trip is two wakes and two switches) and prints the time per
# round trip. Side by side in one run, RUNS runs each:
#   (a) mote     in a VM (`mote run --no-jail`): the guest scheduler switches on its one vCPU
#   (b) native1  natively, pinned to one CPU (taskset -c 0): Linux switches on one CPU, as the guest does
#   (c) native   natively on any CPU (the wake crosses CPUs)
# medians, p90 and p99 of the per-run figure, and the ratio of each to mote.
# Then preemption overhead: the `crunch` part runs a CPU-bound xorshift loop of CRUNCH rounds split over
# threads that never make a system call, in mote with 2 threads (preempted every 10 ms: the threads take
# turns) and 1 thread (never preempted), and natively pinned to one CPU with 2 and 1 threads; ms per run.
# Environment: BUILD (default build), BENCH_THREAD_RUNS (default 30), BENCH_THREAD_ROUNDS (default 20000),
# BENCH_CRUNCH_RUNS (default 10), BENCH_CRUNCH_ROUNDS (default 300000000).
# Skips (exit 0) without /dev/kvm.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
BUILD=${BUILD:-build}
RUNS=${BENCH_THREAD_RUNS:-30}
ROUNDS=${BENCH_THREAD_ROUNDS:-20000}
CRUNCH_RUNS=${BENCH_CRUNCH_RUNS:-10}
CRUNCH=${BENCH_CRUNCH_ROUNDS:-300000000}

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

# one LABEL COMMAND...: RUNS runs; each run's us per round trip into $tmp/LABEL.
# The program prints "pingpong: N round trips in T ms: U us per round trip".
one() {
	local label=$1
	shift
	bench_collect "$tmp/$label" "$RUNS" 60 '/^pingpong:/ { print $(NF-4) }' "$@" pingpong "$ROUNDS"
}

one mote "$BUILD/mote" run --no-jail --timeout 60 "$BIN"
one native1 taskset -c 0 "$BIN"
one native "$BIN"

echo
echo "Threads: futex ping-pong between two threads, $ROUNDS round trips per run, $RUNS runs each (us per round trip)"
printf '%-44s %9s %9s %9s %12s\n' variant p50 p90 p99 "mote/this"
read -r m50 m90 m99 <<<"$(bench_stats "$tmp/mote" %.3f)"
for v in mote native1 native; do
	read -r a b c <<<"$(bench_stats "$tmp/$v" %.3f)"
	case $v in
	mote) what="(a) mote: guest scheduler, one vCPU" ;;
	native1) what="(b) native, pinned to one CPU" ;;
	native) what="(c) native, any CPU" ;;
	esac
	printf '%-44s %9.3f %9.3f %9.3f %11.2fx\n' "$what" "$a" "$b" "$c" "$(awk -v m="$m50" -v x="$a" 'BEGIN { print m / x }')"
done

# crunch LABEL THREADS COMMAND...: CRUNCH_RUNS runs; each run's ms into $tmp/LABEL.
# The program prints "crunch: N rounds on T threads in MS ms (checksum X)".
crunch() {
	local label=$1 threads=$2
	shift 2
	bench_collect "$tmp/$label" "$CRUNCH_RUNS" 120 '/^crunch:/ { print $(NF-3) }' "$@" crunch "$threads" "$CRUNCH"
}

crunch mote2 2 "$BUILD/mote" run --no-jail --timeout 120 "$BIN"
crunch mote1 1 "$BUILD/mote" run --no-jail --timeout 120 "$BIN"
crunch native2 2 taskset -c 0 "$BIN"
crunch native1 1 taskset -c 0 "$BIN"

echo
echo "Preemption: $CRUNCH rounds of a CPU-bound loop, $CRUNCH_RUNS runs each (ms per run)"
printf '%-44s %9s %9s %9s %12s\n' variant p50 p90 p99 "mote2/this"
read -r m50 m90 m99 <<<"$(bench_stats "$tmp/mote2" %.3f)"
for v in mote2 mote1 native2 native1; do
	read -r a b c <<<"$(bench_stats "$tmp/$v" %.3f)"
	case $v in
	mote2) what="(a) mote, 2 threads (preempted)" ;;
	mote1) what="(b) mote, 1 thread (never preempted)" ;;
	native2) what="(c) native, 2 threads pinned to one CPU" ;;
	native1) what="(d) native, 1 thread pinned to one CPU" ;;
	esac
	printf '%-44s %9.2f %9.2f %9.2f %11.3fx\n' "$what" "$a" "$b" "$c" "$(awk -v m="$m50" -v x="$a" 'BEGIN { print m / x }')"
done

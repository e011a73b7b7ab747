#!/usr/bin/env bash
# bench/dynamic.sh: start-up of Debian's dynamically linked runtimes (`make bench`): `node -e 0` and
# `python3 -c 0`, boot to exit, in mote (`mote run --no-jail --rootfs`, the rootfs built once with
# `mote rootfs add-program`, its image cached) and natively, RUNS runs each: medians, p90, p99 and the
# ratio mote/native. Environment: BUILD (default build), BENCH_DYN_RUNS (default 10).
# Skips (exit 0) without /dev/kvm or without the runtimes.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
BUILD=${BUILD:-build}
RUNS=${BENCH_DYN_RUNS:-10}
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "bench/dynamic: /dev/kvm is not usable; skipped"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mote-dynbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
export XDG_CACHE_HOME=$tmp/cache

# one LABEL COMMAND...: RUNS timed runs (ms) into $tmp/LABEL.
one() {
	local label=$1
	shift
	bench_time "$tmp/$label" "$RUNS" 120 "$@"
}

rows=()
if [ -x /usr/bin/node ]; then
	mkdir -p "$tmp/node"
	"$BUILD/mote" rootfs add-program "$tmp/node" /usr/bin/node >/dev/null || exit 1
	"$BUILD/mote" run --no-jail --mem 3G --rootfs "$tmp/node" /usr/bin/node -e 0 || exit 1 # packs the image
	one mote-node "$BUILD/mote" run --no-jail --mem 3G --rootfs "$tmp/node" /usr/bin/node -e 0
	one native-node /usr/bin/node -e 0
	rows+=(node)
fi
if [ -x /usr/bin/python3.11 ]; then
	mkdir -p "$tmp/py/usr/lib/python3.11"
	(cd /usr/lib/python3.11 && tar cf - --exclude=test --exclude=__pycache__ --exclude=lib-dynload \
		--exclude=site-packages --exclude=dist-packages .) | (cd "$tmp/py/usr/lib/python3.11" && tar xf -)
	"$BUILD/mote" rootfs add-program "$tmp/py" /usr/bin/python3.11 >/dev/null || exit 1
	"$BUILD/mote" run --no-jail --mem 512M --rootfs "$tmp/py" /usr/bin/python3.11 -c 0 || exit 1
	one mote-py "$BUILD/mote" run --no-jail --mem 512M --rootfs "$tmp/py" /usr/bin/python3.11 -c 0
	one native-py /usr/bin/python3.11 -c 0
	rows+=(py)
fi

echo
echo "Dynamic runtimes: start-up to exit, $RUNS runs each (ms, wall clock of the whole command)"
printf '%-40s %9s %9s %9s %12s\n' variant p50 p90 p99 "this/native"
for r in "${rows[@]}"; do
	read -r n50 n90 n99 <<<"$(bench_stats "$tmp/native-$r" %.1f)"
	for v in mote native; do
		read -r a b c <<<"$(bench_stats "$tmp/$v-$r" %.1f)"
		case $r in node) what="node -e 0" ;; py) what="python3 -c 0" ;; esac
		printf '%-40s %9.1f %9.1f %9.1f %11.2fx\n' "($v) $what" "$a" "$b" "$c" "$(awk -v x="$a" -v n="$n50" 'BEGIN { print x / n }')"
	done
done

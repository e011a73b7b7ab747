#!/usr/bin/env bash
# bench/dynamic.sh: start-up of Debian's dynamically linked runtimes (`make bench`): `node -e 0` and
# `python3 -c 0`, boot to exit, in mote (`mote run --no-jail --rootfs`, the rootfs built once with
# `mote rootfs add-program`, its image cached) and natively, RUNS runs each: medians, p90, p99 and the
# ratio mote/native. Environment: BUILD (default build), BENCH_DYN_RUNS (default 10).
# Skips (exit 0) without /dev/kvm or without the runtimes.
set -uo pipefail
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
	local label=$1 i t0 t1
	shift
	: >"$tmp/$label"
	for ((i = 0; i < RUNS; i++)); do
		t0=$(date +%s%N)
		if ! timeout 120 "$@" >/dev/null 2>"$tmp/err"; then
			echo "bench/dynamic: $label failed: $(head -c 300 "$tmp/err")" >&2
			exit 1
		fi
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000)) | awk '{ printf "%.1f\n", $1 / 1000 }' >>"$tmp/$label"
	done
}

stats() {
	sort -g "$tmp/$1" | awk '{ v[NR] = $1 } END {
		i50 = int(NR * 0.50 + 0.5); i90 = int(NR * 0.90 + 0.5); i99 = int(NR * 0.99 + 0.5);
		if (i50 < 1) i50 = 1; if (i90 < 1) i90 = 1; if (i99 < 1) i99 = 1;
		printf "%.1f %.1f %.1f", v[i50], v[i90], v[i99] }'
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
	read -r n50 n90 n99 <<<"$(stats native-$r)"
	for v in mote native; do
		read -r a b c <<<"$(stats $v-$r)"
		case $r in node) what="node -e 0" ;; py) what="python3 -c 0" ;; esac
		printf '%-40s %9.1f %9.1f %9.1f %11.2fx\n' "($v) $what" "$a" "$b" "$c" "$(awk -v x="$a" -v n="$n50" 'BEGIN { print x / n }')"
	done
done

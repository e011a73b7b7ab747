#!/usr/bin/env bash
# bench/base_switch.sh: a base upgrade under load (`make bench`, after bench/functions.sh). One `mote serve`
# (plain build), one Lua function that answers the id of the base it runs on, BENCH_BASE_CONNS keep-alive
# clients (default 2, bench/httpload.c) sending back to back for BENCH_BASE_SECONDS (default 6) per round:
#   (a) steady   no switch: the baseline
#   (b) switch   `mote base activate` of the other base 2 s into the round (rounds alternate between the
#                installed mote-lua's base and one built from build/tests/runtimes/mote-lua-b, so every
#                round is a real switch; one of them is a rollback)
# Each round's requests are split by when they started: before the switch, during it (from the activate
# call until 1 s after it returned: the new base's VMs start, the old ones finish and end) and after it.
# The table shows, per phase, the median over BENCH_BASE_ROUNDS rounds (default 3) of requests/s and p50/p99
# latency, and the failures (non-200 or a broken connection) and responses from the wrong base summed over
# all rounds ("wrong": started after the activate call returned but answered by the old base).
# Environment: BUILD (default build). Skips (exit 0) without /dev/kvm.
set -uo pipefail
BUILD=${BUILD:-build}
ROUNDS=${BENCH_BASE_ROUNDS:-3}
SECS=${BENCH_BASE_SECONDS:-6}
CONNS=${BENCH_BASE_CONNS:-2}

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "bench/base_switch: /dev/kvm is not usable; skipped"
	exit 0
fi
for f in mote mote-gateway mote-vmm mote-kernel runtimes/mote-lua tests/runtimes/mote-lua-b bench/httpload; do
	if [ ! -e "$BUILD/$f" ]; then
		echo "bench/base_switch: $BUILD/$f is missing; run 'make bench'" >&2
		exit 1
	fi
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mote-basebench.XXXXXX")
GW=""
cleanup() {
	[ -n "$GW" ] && kill "$GW" 2>/dev/null && { wait "$GW"; } 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$BUILD/mote" serve --listen 127.0.0.1:0 --state "$tmp/state" >"$tmp/gw.out" 2>"$tmp/gw.err" </dev/null &
GW=$!
PORT=
for ((i = 0; i < 200; i++)); do
	PORT=$(sed -n 's|^mote: serving functions on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$tmp/gw.err")
	[ -n "$PORT" ] && break
	sleep 0.05
done
[ -n "$PORT" ] || {
	echo "bench/base_switch: mote serve did not start: $(head -c 300 "$tmp/gw.err")" >&2
	exit 1
}
export MOTE_SERVER=$tmp/state/admin.sock
mkdir -p "$tmp/who"
printf 'function handle(req)\n  return os.getenv("MOTE_BASE_ID") or "none"\nend\n' >"$tmp/who/handler.lua"
"$BUILD/mote" deploy who "$tmp/who" >/dev/null || exit 1
A=$(curl -s "http://127.0.0.1:$PORT/fn/who/")
t0=$(date +%s%N)
B=$("$BUILD/mote" base build --runtime-program "$BUILD/tests/runtimes/mote-lua-b") || exit 1
t1=$(date +%s%N)
BUILD_MS=$(((t1 - t0) / 1000000))

# phase FILE LO HI: "requests req/s p50_ms p99_ms failures" of the requests that started in [LO, HI) (ns).
phase() {
	awk -v lo="$2" -v hi="$3" '$1 >= lo && $1 < hi { n++; if ($3 != 200) f++; print ($2 - $1) / 1e6 }
		END { print "N", n + 0, f + 0, (hi - lo) / 1e9 }' "$1" |
		sort -g | awk '/^N / { n = $2; f = $3; s = $4; next } { v[++k] = $1 }
			END { p50 = k ? v[int((k - 1) * 0.50) + 1] : 0; p99 = k ? v[int((k - 1) * 0.99) + 1] : 0
			      printf "%d %.0f %.2f %.2f %d\n", n, (s > 0 ? n / s : 0), p50, p99, f }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }'; }

: >"$tmp/rows"
cur=$A other=$B
WRONG=0 ACT_MS=""
for ((r = 1; r <= ROUNDS; r++)); do
	for variant in steady switch; do
		out=$tmp/load.$r.$variant
		start=$(date +%s%N)
		"$BUILD/bench/httpload" --port "$PORT" --path /fn/who/ --conns "$CONNS" --seconds "$SECS" --out "$out" &
		L=$!
		sleep 2
		sw0=$(date +%s%N)
		if [ "$variant" = switch ]; then
			"$BUILD/mote" base activate "$other" >/dev/null || echo "bench/base_switch: activate failed" >&2
		fi
		sw1=$(date +%s%N)
		wait "$L"
		end=$(date +%s%N)
		if [ "$variant" = switch ]; then
			ACT_MS="$ACT_MS $(((sw1 - sw0) / 1000000))"
			WRONG=$((WRONG + $(awk -v t="$sw1" -v want="$other" '$1 > t && $3 == 200 && $4 != want' "$out" | wc -l)))
			t=$cur cur=$other other=$t
		fi
		during_end=$((sw1 + 1000000000))
		echo "$variant before $(phase "$out" "$start" "$sw0")" >>"$tmp/rows"
		echo "$variant during $(phase "$out" "$sw0" "$during_end")" >>"$tmp/rows"
		echo "$variant after $(phase "$out" "$during_end" "$end")" >>"$tmp/rows"
	done
done

echo
echo "Base switch under load: Lua function, $CONNS keep-alive clients, ${SECS} s rounds, median of $ROUNDS rounds"
echo "(second base built in $BUILD_MS ms; activate call took$(for m in $ACT_MS; do printf ' %s' "$m"; done) ms)"
printf '%-8s %-7s %9s %9s %9s %9s %9s\n' variant phase "req/s" "p50 ms" "p99 ms" requests failures
for variant in steady switch; do
	for ph in before during after; do
		sel() { awk -v v="$variant" -v p="$ph" -v c="$1" '$1 == v && $2 == p { print $c }' "$tmp/rows"; }
		printf '%-8s %-7s %9s %9s %9s %9s %9s\n' "$variant" "$ph" "$(sel 4 | median)" "$(sel 5 | median)" \
			"$(sel 6 | median)" "$(sel 3 | awk '{ s += $1 } END { print s + 0 }')" \
			"$(sel 7 | awk '{ s += $1 } END { print s + 0 }')"
	done
done
echo "responses from the old base after the activate call returned: $WRONG"

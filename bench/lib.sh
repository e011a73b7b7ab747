# bench/lib.sh: helpers shared by the bench/*.sh scripts (sourced): repeated runs of a command and the
# percentiles of what they measured. Messages name the script as bench/NAME (its file name without .sh).
# shellcheck shell=bash

BENCH_NAME=$(basename "$0" .sh)

# bench_fail_run FILE: a run for FILE failed: "bench/NAME: LABEL failed: STDERR" on stderr (LABEL is FILE's
# base name, STDERR the first 300 bytes of FILE.err), and the script ends with status 1.
bench_fail_run() {
	echo "bench/$BENCH_NAME: $(basename "$1") failed: $(head -c 300 "$1.err")" >&2
	exit 1
}

# bench_collect FILE RUNS TIMEOUT AWK CMD...: run CMD RUNS times, each killed after TIMEOUT seconds, and
# write to FILE (one line a run) what the awk program AWK prints from that run's stdout: the figure the
# program reports itself. A run that fails ends the script (bench_fail_run).
bench_collect() {
	local file=$1 runs=$2 limit=$3 prog=$4 i out
	shift 4
	: >"$file"
	for ((i = 0; i < runs; i++)); do
		out=$(timeout "$limit" "$@" 2>"$file.err") || bench_fail_run "$file"
		awk "$prog" <<<"$out" >>"$file"
	done
}

# bench_time FILE RUNS TIMEOUT CMD...: run CMD RUNS times (stdout discarded), each killed after TIMEOUT
# seconds, and write to FILE each run's wall-clock time in ms ("%.1f", one line a run). A run that fails
# ends the script (bench_fail_run).
bench_time() {
	local file=$1 runs=$2 limit=$3 i t0 t1
	shift 3
	: >"$file"
	for ((i = 0; i < runs; i++)); do
		t0=$(date +%s%N)
		timeout "$limit" "$@" >/dev/null 2>"$file.err" || bench_fail_run "$file"
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000)) | awk '{ printf "%.1f\n", $1 / 1000 }' >>"$file"
	done
}

# bench_stats FILE FORMAT: "p50 p90 p99" of the numbers in FILE (one a line), each printed with the printf
# FORMAT (e.g. %.3f). The pP value is the one of rank round(N * P / 100) in sorted order, at least 1.
bench_stats() {
	sort -g "$1" | awk -v f="$2" '{ v[NR] = $1 } END {
		i50 = int(NR * 0.50 + 0.5); i90 = int(NR * 0.90 + 0.5); i99 = int(NR * 0.99 + 0.5);
		if (i50 < 1) i50 = 1; if (i90 < 1) i90 = 1; if (i99 < 1) i99 = 1;
		printf f " " f " " f, v[i50], v[i90], v[i99] }'
}

# bench_pct P FILE: the P-th percentile of the numbers in FILE, as written there, by nearest rank:
# rank ceil(N * P / 100) (within 0.001), at least 1. Note the rank differs from bench_stats' for some N.
bench_pct() {
	sort -g "$2" | awk -v p="$1" '{ a[NR] = $1 } END { i = int((p / 100) * NR + 0.999); if (i < 1) i = 1; print a[i] }'
}

# bench_pct_stats FILE: "p50 p90 p99" of FILE by bench_pct.
bench_pct_stats() {
	echo "$(bench_pct 50 "$1") $(bench_pct 90 "$1") $(bench_pct 99 "$1")"
}

# ---- scratch directory and servers ----

# bench_scratch: make the script's scratch directory $tmp (under $TMPDIR) and an empty $PIDS; at exit every
# server in $PIDS is stopped and $tmp removed; INT and TERM end the script.
bench_scratch() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/mote-$BENCH_NAME.XXXXXX")
	PIDS=""
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}
bench_cleanup() {
	local p
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do { wait "$p"; } 2>/dev/null; done
	rm -rf "$tmp"
}

# start_server NAME CMD...: start a server in the background (stdout and stderr in $tmp/NAME.out, .err) and
# wait at most 30 s until it prints "port N" on stdout or mote serve's line on stderr; sets PORT and SPID.
start_server() {
	local name=$1 i
	shift
	"$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null &
	SPID=$!
	PIDS="$PIDS $SPID"
	PORT=
	for ((i = 0; i < 600; i++)); do
		PORT=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$tmp/$name.out" 2>/dev/null)
		[ -z "$PORT" ] && PORT=$(sed -n 's|^mote: serving functions on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$tmp/$name.err" 2>/dev/null)
		[ -n "$PORT" ] && return 0
		sleep 0.05
	done
	echo "bench/$BENCH_NAME: $name did not start: $(head -c 300 "$tmp/$name.err")" >&2
	exit 1
}

# stop_server PID: stop a server start_server started, and forget it.
stop_server() {
	kill "$1" 2>/dev/null
	{ wait "$1"; } 2>/dev/null
	PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}

# metric SOCK NAME [LABEL=VALUE...]: the sum of a metric of the mote serve whose admin socket is SOCK.
metric() {
	local sock=$1 py=python3
	shift
	[ -x /usr/bin/python3 ] && py=/usr/bin/python3
	curl -s --max-time 10 --unix-socket "$sock" http://mote/metrics |
		"$py" "$(dirname "${BASH_SOURCE[0]}")/../tests/e2e/helpers/prom.py" sum "$@"
}

# wait_paused SOCK N SECONDS: until the pools of the mote serve at SOCK hold N paused VMs (status 1 if not).
wait_paused() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		[ "$(metric "$1" mote_pool_vms state=paused)" -ge "$2" ] 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# private_kib PID: the process's private memory (Private_Clean + Private_Dirty of smaps_rollup), KiB.
private_kib() {
	awk '$1 == "Private_Clean:" || $1 == "Private_Dirty:" { s += $2 } END { print s + 0 }' "/proc/$1/smaps_rollup" 2>/dev/null
}

# start_runc_server CMD...: a server that runs `runc run` of the OCI bundle $tmp/bundle per request
# (bench/spawn_server.c), the container cold-start baseline. The caller has filled $tmp/bundle/rootfs; the
# config is runc spec's defaults (its namespaces) with no terminal, a read-only root and CMD as the
# process. Sets URL_runc.
start_runc_server() {
	local py=python3
	[ -x /usr/bin/python3 ] && py=/usr/bin/python3
	(cd "$tmp/bundle" && runc spec) || exit 1
	"$py" - "$tmp/bundle/config.json" "$@" <<'EOF' || exit 1
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = sys.argv[2:]
c["root"]["readonly"] = True
json.dump(c, open(p, "w"), indent=1)
EOF
	start_server runc "$BUILD/bench/spawn_server" 0 "$(command -v runc)" --root "$tmp/runc-state" run \
		--bundle "$tmp/bundle" '{}'
	URL_runc="http://127.0.0.1:$PORT/"
}

# target DESCRIPTION CONDITION: "target met:     DESCRIPTION" when the awk expression CONDITION holds, else
# "target NOT met: DESCRIPTION".
target() {
	if awk "BEGIN { exit !($2) }"; then echo "target met:     $1"; else echo "target NOT met: $1"; fi
}

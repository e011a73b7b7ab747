# Shared helpers for tests/e2e/*.sh (sourced): PASS/FAIL/SKIP lines, the /dev/kvm check, captured runs.
#
# Scripts run from tests/run (which exports MOTE, MOTE_VMM, MOTE_KERNEL, TESTBIN and XDG_CACHE_HOME) or by
# hand from anywhere (`bash tests/e2e/errors.sh`), in which case the same defaults are derived here.
# Every script prints one line per check: "PASS name", "FAIL name: why" or "SKIP name: why".

set -u
E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E_NAME=$(basename "$0" .sh)
: "${BUILD:=build}"
case $BUILD in /*) E2E_BUILD=$BUILD ;; *) E2E_BUILD=$E2E_ROOT/$BUILD ;; esac
: "${MOTE:=$E2E_BUILD/asan/mote}"
: "${MOTE_VMM:=$E2E_BUILD/asan/mote-vmm}"
: "${MOTE_KERNEL:=$E2E_BUILD/mote-kernel}"
: "${TESTBIN:=$E2E_BUILD/tests/guest}"
: "${SNAPTOOL:=$E2E_BUILD/tests/tools/snaptool}"
: "${INVOKETOOL:=$E2E_BUILD/tests/tools/invoketool}"
: "${ASAN_OPTIONS:=detect_leaks=1:abort_on_error=0}"
export MOTE MOTE_VMM MOTE_KERNEL TESTBIN SNAPTOOL INVOKETOOL ASAN_OPTIONS

# One scratch directory per script, removed on exit (also the rootfs cache when run by hand).
E2E_TMP=$(mktemp -d /tmp/mote-e2e-"$E2E_NAME".XXXXXX)
e2e_cleanup() {
	rm -rf "$E2E_TMP"
}
trap e2e_cleanup EXIT
if [ -z "${XDG_CACHE_HOME:-}" ]; then
	export XDG_CACHE_HOME=$E2E_TMP/cache
	mkdir -p "$XDG_CACHE_HOME"
fi

E2E_FAILED=0
E2E_PASSED=0

pass() {
	echo "PASS $1"
	E2E_PASSED=$((E2E_PASSED + 1))
}

# fail NAME WHY...: one FAIL line, then the captured output of the last run (indented) for context.
fail() {
	local name=$1
	shift
	echo "FAIL $name: $*"
	E2E_FAILED=$((E2E_FAILED + 1))
	if [ -n "${LAST_CMD:-}" ]; then
		if [ "${#LAST_CMD}" -gt 400 ]; then
			echo "    command: ${LAST_CMD:0:400}... (${#LAST_CMD} characters)"
		else
			echo "    command: $LAST_CMD"
		fi
		echo "    status: ${STATUS:-?}"
		[ -s "${OUT:-/dev/null}" ] && head -n 10 "$OUT" | cut -c 1-300 | sed 's/^/    stdout: /'
		[ -s "${ERR:-/dev/null}" ] && head -n 25 "$ERR" | cut -c 1-300 | sed 's/^/    stderr: /'
	fi
	return 0
}

skip() {
	local name=$1
	shift
	echo "SKIP $name: $*"
}

# check NAME CONDITION-STATUS WHY: pass if the previous command (passed as "$?") succeeded.
check() {
	local name=$1 ok=$2
	shift 2
	if [ "$ok" = 0 ]; then pass "$name"; else fail "$name" "$@"; fi
}

# need_kvm [NAME]: print "SKIP NAME: no /dev/kvm" and end the script (status 0) unless /dev/kvm can be opened.
need_kvm() {
	local name=${1:-$E2E_NAME}
	if [ ! -c /dev/kvm ] || ! (exec 3<>/dev/kvm) 2>/dev/null; then
		skip "$name" "no /dev/kvm (or it is not usable by $(id -un))"
		exit 0
	fi
}

# need_built FILE...: a FAIL line and exit if a build product is missing (make tests builds them all).
need_built() {
	local f
	for f in "$@"; do
		if [ ! -x "$f" ] && [ ! -f "$f" ]; then
			fail "$E2E_NAME-setup" "$f is missing; run make tests"
			exit 1
		fi
	done
}

# run TAG CMD...: run CMD with empty stdin, stdout to $OUT and stderr to $ERR (files in the scratch
# directory named after TAG), under a host-side safety timeout of $HOST_TIMEOUT seconds (default 60).
# Sets STATUS (as a shell shows it: 128 + signal for a death by signal, 124 if the safety timeout hit),
# ELAPSED_MS, LAST_CMD and SANITIZER (1 if ASan/UBSan/LSan reported anything on stderr).
run() {
	local tag=$1
	shift
	OUT=$E2E_TMP/$tag.out
	ERR=$E2E_TMP/$tag.err
	LAST_CMD=$(printf '%q ' "$@")
	local t0 t1
	t0=$(date +%s%N)
	{
		timeout -k 5 "${HOST_TIMEOUT:-60}" "$@" >"$OUT" 2>"$ERR" </dev/null
		STATUS=$?
	} 2>/dev/null
	t1=$(date +%s%N)
	ELAPSED_MS=$(((t1 - t0) / 1000000))
	SANITIZER=0
	if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$ERR"; then
		SANITIZER=1
	fi
	return 0
}

# mote_run TAG [MOTE-ARGS...]: run "$MOTE run MOTE-ARGS..." like run.
mote_run() {
	local tag=$1
	shift
	run "$tag" "$MOTE" run "$@"
}

# expect_status NAME WANT [WHAT]: PASS if the last run exited with WANT and no sanitizer spoke, else FAIL.
# Returns 0 on PASS so callers can chain further checks.
expect_status() {
	local name=$1 want=$2 what=${3:-}
	if [ "$STATUS" = 124 ]; then
		fail "$name" "hung: killed by the host-side safety timeout after ${HOST_TIMEOUT:-60} s${what:+ ($what)}"
		return 1
	fi
	if [ "$SANITIZER" = 1 ]; then
		fail "$name" "sanitizer report on stderr (status $STATUS)${what:+ ($what)}"
		return 1
	fi
	if [ "$STATUS" != "$want" ]; then
		fail "$name" "exit status $STATUS, expected $want${what:+ ($what)}"
		return 1
	fi
	return 0
}

# stderr_lines: number of lines the last run wrote to stderr (a final line without newline counts).
stderr_lines() {
	awk 'END { print NR }' "$ERR"
}

# expect_one_error NAME STATUS [FILE] [REGEX]: the last run exited with STATUS, wrote exactly one stderr line that
# starts with "mote:" or "mote-vmm:", names FILE (as given, unless empty) and matches REGEX (case-insensitive), and wrote
# nothing on stdout: the guest never ran.
expect_one_error() {
	local name=$1 want=$2 file=${3:-} regex=${4:-}
	expect_status "$name" "$want" || return 0
	local n
	n=$(stderr_lines)
	if [ "$n" != 1 ]; then
		fail "$name" "$n stderr lines, expected exactly one"
	elif ! grep -qE '^mote(-vmm)?: ' "$ERR"; then
		fail "$name" "stderr line does not start with 'mote:' or 'mote-vmm:': $(head -c 200 "$ERR")"
	elif [ -n "$file" ] && ! grep -qF -- "$file" "$ERR"; then
		fail "$name" "stderr line does not name the file $file: $(head -c 300 "$ERR")"
	elif [ -n "$regex" ] && ! grep -qiE -- "$regex" "$ERR"; then
		fail "$name" "stderr line does not mention /$regex/: $(head -c 300 "$ERR")"
	elif [ -s "$OUT" ]; then
		fail "$name" "unexpected stdout (the guest ran?): $(head -c 200 "$OUT")"
	else
		pass "$name"
	fi
}

# err_has REGEX / out_has REGEX: the last run's stderr / stdout matches the extended regex.
err_has() { grep -qE -- "$1" "$ERR"; }
out_has() { grep -qE -- "$1" "$OUT"; }

# host_run TAG CMD...: like run, for the native reference; its files are $HOUT and $HERR, status HSTATUS.
host_run() {
	local tag=$1
	shift
	HOUT=$E2E_TMP/$tag.host.out
	HERR=$E2E_TMP/$tag.host.err
	{
		timeout -k 5 "${HOST_TIMEOUT:-60}" "$@" >"$HOUT" 2>"$HERR" </dev/null
		HSTATUS=$?
	} 2>/dev/null
	return 0
}

# same_as_native [--native-must-succeed] NAME [WHAT]: PASS if the last mote run (run, mote_run) ended as the
# last host_run did: the same exit status, no sanitizer report, the same stdout. Otherwise FAIL, adding WHAT
# (default: the first 300 bytes of the mote run's stderr) when the status differs. With --native-must-succeed,
# a native run that did not exit 0 is a FAIL by itself (the comparison would prove nothing).
same_as_native() {
	local must_succeed=0
	if [ "$1" = --native-must-succeed ]; then
		must_succeed=1
		shift
	fi
	local name=$1 what=${2-$(head -c 300 "$ERR")}
	if [ "$must_succeed" = 1 ] && [ "$HSTATUS" != 0 ]; then
		fail "$name" "the native run failed ($HSTATUS): $(head -c 300 "$HERR")"
	elif expect_status "$name" "$HSTATUS" "$what"; then
		if cmp -s "$HOUT" "$OUT"; then
			pass "$name"
		else
			fail "$name" "stdout differs from native: $(diff "$HOUT" "$OUT" | head -n 6 | tr '\n' ' ')"
		fi
	fi
	return 0
}

# diff_summary FILE1 FILE2: a one-line description of where two files first differ.
diff_summary() {
	local c
	c=$(cmp "$1" "$2" 2>&1 | head -n 1)
	echo "${c:-identical} (sizes $(wc -c <"$1") vs $(wc -c <"$2"))"
}

# monitor_of PID: print the pid of the mote-vmm that `mote run`/`mote snapshot restore` process PID runs: PID
# itself when it became mote-vmm (unjailed), else the jailed mote-vmm under its jail's init (docs/jail.md).
# Prints nothing while there is none yet.
monitor_of() {
	local init vmm
	if tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q 'mote-vmm'; then
		echo "$1"
		return 0
	fi
	init=$(pgrep -P "$1" 2>/dev/null | head -n 1)
	vmm=${init:+$(pgrep -P "$init" 2>/dev/null | head -n 1)}
	if [ -n "$vmm" ] && tr '\0' ' ' <"/proc/$vmm/cmdline" 2>/dev/null | grep -q 'mote-vmm'; then
		echo "$vmm"
	fi
}

# e2e_finish: end the script with status 0 (the FAIL lines carry the failures).
e2e_finish() {
	echo "# $E2E_NAME: $E2E_PASSED passed, $E2E_FAILED failed"
	exit 0
}

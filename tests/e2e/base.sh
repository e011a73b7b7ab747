#!/usr/bin/env bash
# End-to-end behaviour of base upgrades (docs/functions.md, "Bases and upgrades") with real VMs: `mote serve`
# builds its first lua base from the installed files; a test function answers the MOTE_BASE_ID its runtime
# sees, and that id is the SHA-256 the docs describe, computed here from the files; bad ids, flags and files
# give one line and a distinct status; a failing build (a program that never asks for its snapshot) leaves
# the active base serving and nothing on disk; a second base is built from another build of mote-lua
# (build/tests/runtimes/mote-lua-b: the same sources, another version string) beside the first and activated
# under load from two bounded curl loops with zero failed requests, every response started after the switch
# from the new base, the function not redeployed and the old base's VMs gone; rollback to the first; a third
# base retires the second, whose files are deleted once nothing uses it; all of it survives a restart; a build
# that hangs is killed after 3x --start-timeout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/gateway.sh"
need_kvm base
GATEWAY=$E2E_BUILD/asan/mote-gateway
RUNTIMES=$E2E_BUILD/runtimes
LUA_B=$E2E_BUILD/tests/runtimes/mote-lua-b
LUA_C=$E2E_BUILD/tests/runtimes/mote-lua-c
KERNEL=$E2E_BUILD/asan/mote-kernel
need_built "$MOTE" "$GATEWAY" "$MOTE_VMM" "$KERNEL" "$RUNTIMES/mote-lua" "$LUA_B" "$LUA_C" "$TESTBIN/args.musl" \
	"$TESTBIN/spin.musl"
command -v curl >/dev/null || {
	skip base "curl is not installed"
	exit 0
}

mkdir -p "$E2E_TMP/who"
printf 'function handle(req)\n  return os.getenv("MOTE_BASE_ID") or "none"\nend\n' >"$E2E_TMP/who/handler.lua"
sha() { sha256sum "$1" | cut -c1-64; }
# The id the docs define: SHA-256 of "mote-base-v2 RUNTIME KERNEL-SHA256 PROGRAM-SHA256".
base_id_of() { printf 'mote-base-v2 %s %s %s' "$1" "$(sha "$2")" "$(sha "$3")" | sha256sum | cut -c1-64; }
A_WANT=$(base_id_of lua "$KERNEL" "$RUNTIMES/mote-lua")
B_WANT=$(base_id_of lua "$KERNEL" "$LUA_B")
who() { # TAG: one request to the test function; its body (the base id) in WHO, status in HTTP_CODE
	http "$1" /fn/who/
	WHO=$(cat "$E2E_TMP/$1.body")
}
base_row() { # ID-PREFIX: the line of `mote base ls` for that base (empty when not listed)
	env MOTE_SERVER="$SOCK" "$MOTE" base ls | grep -E "^${1:0:12} "
}

STATE=$E2E_TMP/state
start_gw g1 "$STATE" || e2e_finish
G1=$GW_PID

# ---- the first base: built from the installed files on first use, its id seen by the runtime ----
mote_cli deploy deploy who "$E2E_TMP/who" --max-vms 4
expect_status deploy 0 && pass deploy-builds-first-base
who first
A=$WHO
[ "$HTTP_CODE" = 200 ] && [ "$A" = "$A_WANT" ] && pass runtime-reports-base-id ||
	fail runtime-reports-base-id "status $HTTP_CODE, answered '$(head -c 100 <<<"$A")', expected $A_WANT"
mote_cli ls-first base ls
expect_status ls-first 0 && out_has "^${A:0:12} +lua +active +[0-9T:-]+Z +64M +[1-9] +who\([1-9]\)" &&
	[ "$(grep -c . "$OUT")" = 2 ] && pass base-ls-first || fail base-ls-first "$(cat "$OUT")"
[ -f "$STATE/bases/$A/kernel" ] && [ -f "$STATE/bases/$A/program" ] && [ -f "$STATE/bases/$A/64M/base.snap" ] &&
	cmp -s "$STATE/bases/$A/program" "$RUNTIMES/mote-lua" && pass base-files-in-place ||
	fail base-files-in-place "$(ls -R "$STATE/bases" | head -20)"

# ---- bad ids, flags and files: one line, a distinct status, nothing changed ----
mote_cli act-notid base activate nothex
expect_one_error activate-not-an-id-64 64 "" "not a base id"
mote_cli act-short base activate abc
expect_one_error activate-short-id-64 64 "" "not a base id"
mote_cli act-unknown base activate 0123456789abcdef
expect_one_error activate-unknown-85 85 "" "no base 0123456789abcdef"
mote_cli act-none base activate
expect_one_error activate-no-id-64 64 "" "expects one base ID"
mote_cli build-rt base build --runtime perl
expect_one_error build-bad-runtime-64 64 "" "not c, lua or node"
mote_cli build-flag base build --runtime lua --bogus
expect_one_error build-bad-flag-64 64 "" "bogus"
mote_cli build-norun base build --runtime-program "$TESTBIN/args.musl"
expect_one_error build-runtime-untold-64 64 "" "runtime is needed"
mote_cli build-nofile base build --runtime lua --runtime-program "$E2E_TMP/no-such-program"
expect_one_error build-missing-program-66 66 "$E2E_TMP/no-such-program"
mote_cli build-nokernel base build --runtime lua --kernel "$E2E_TMP/no-such-kernel"
expect_one_error build-missing-kernel-66 66 "$E2E_TMP/no-such-kernel"
mote_cli build-dir base build --runtime lua --runtime-program "$E2E_TMP"
expect_one_error build-program-is-dir-66 66 "$E2E_TMP" "not a regular file"
mote_cli ls-extra base ls extra
expect_one_error base-ls-extra-64 64 "" "unexpected argument"
mote_cli base-sub base frobnicate
expect_one_error base-unknown-subcommand-64 64 "" "unknown subcommand"

# A program that is no runtime (it never asks for its snapshot): the build fails, nothing of it stays.
mote_cli build-fail base build --runtime lua --runtime-program "$TESTBIN/args.musl" --activate
expect_one_error build-fails-86 86 "" "without asking for a snapshot"
who after-fail
leftover=$(find "$STATE/bases" -mindepth 1 -maxdepth 1 ! -name "$A" | head -3)
[ "$WHO" = "$A" ] && [ -z "$leftover" ] && [ "$(base_row "$A" | awk '{print $3}')" = active ] &&
	[ "$(env MOTE_SERVER="$SOCK" "$MOTE" base ls | grep -c .)" = 2 ] && pass failed-build-leaves-active-base ||
	fail failed-build-leaves-active-base "answered '$WHO'; left in bases/: $leftover"

# ---- a second base from another build of mote-lua, beside the first ----
mote_cli build-b base build --runtime-program "$LUA_B"
B=$(cat "$OUT")
expect_status build-b 0 && [ "$B" = "$B_WANT" ] && [ "$B" != "$A" ] && pass build-second-base ||
	fail build-second-base "printed '$B', expected $B_WANT"
who not-yet
[ "$WHO" = "$A" ] && [ "$(base_row "$B" | awk '{print $3}')" = ready ] && pass built-base-not-active-until-activated ||
	fail built-base-not-active-until-activated "answered '$WHO'; $(base_row "$B")"
mote_cli build-b-again base build --runtime lua --runtime-program "$LUA_B"
expect_status build-b-again 0 && [ "$(cat "$OUT")" = "$B" ] && [ "$ELAPSED_MS" -lt 3000 ] && pass build-same-files-same-base ||
	fail build-same-files-same-base "printed '$(cat "$OUT")' after $ELAPSED_MS ms"

# ---- activate under load: two bounded client loops, zero failures, the new base after the switch ----
STOP=$E2E_TMP/stop
load() { # N: a client loop of at most 1500 requests or 60 s; lines "START_NS END_NS STATUS BODY" into load.N
	local i t0 code end=$((SECONDS + 60))
	for ((i = 0; i < 1500 && SECONDS < end; i++)); do
		[ -e "$STOP" ] && break
		t0=$(date +%s%N)
		code=$(curl -s --max-time 20 -o "$E2E_TMP/load.$1.body" -w '%{http_code}' "http://127.0.0.1:$PORT/fn/who/")
		echo "$t0 $(date +%s%N) $code $(head -c 64 "$E2E_TMP/load.$1.body")" >>"$E2E_TMP/load.$1"
	done
}
load 1 &
L1=$!
load 2 &
L2=$!
BG="$L1 $L2"
for ((i = 0; i < 100; i++)); do
	[ "$(cat "$E2E_TMP"/load.[12] 2>/dev/null | wc -l)" -ge 40 ] && break
	sleep 0.1
done
T_SW0=$(date +%s%N)
mote_cli activate-b base activate "${B:0:12}"
T_SW1=$(date +%s%N)
expect_status activate-b 0 && out_has "^activated base $B \(lua\), was ${A:0:12}$" && pass activate-prints ||
	fail activate-prints "$(cat "$OUT")"
for ((i = 0; i < 100; i++)); do
	[ "$(awk -v t="$T_SW1" '$1 > t' "$E2E_TMP"/load.[12] | wc -l)" -ge 60 ] && break
	sleep 0.1
done
touch "$STOP"
wait "$L1" "$L2"
BG=""
cat "$E2E_TMP"/load.1 "$E2E_TMP"/load.2 >"$E2E_TMP/load.all"
total=$(wc -l <"$E2E_TMP/load.all")
failed=$(awk '$3 != 200' "$E2E_TMP/load.all" | wc -l)
# Answered before the switch began: from A; started after it was done: from B; in flight meanwhile: either.
before=$(awk -v t="$T_SW0" '$2 < t' "$E2E_TMP/load.all" | wc -l)
before_a=$(awk -v t="$T_SW0" -v a="$A" '$2 < t && $4 == a' "$E2E_TMP/load.all" | wc -l)
after=$(awk -v t="$T_SW1" '$1 > t' "$E2E_TMP/load.all" | wc -l)
after_b=$(awk -v t="$T_SW1" -v b="$B" '$1 > t && $4 == b' "$E2E_TMP/load.all" | wc -l)
between_ok=$(awk -v a="$A" -v b="$B" '$4 == a || $4 == b' "$E2E_TMP/load.all" | wc -l)
[ "$failed" = 0 ] && [ "$total" -gt 0 ] && pass switch-under-load-no-failure ||
	fail switch-under-load-no-failure "$failed of $total requests failed: $(awk '$3 != 200' "$E2E_TMP/load.all" | head -3)"
[ "$before" -ge 20 ] && [ "$before_a" = "$before" ] && [ "$after" -ge 20 ] && [ "$after_b" = "$after" ] &&
	[ "$between_ok" = "$total" ] &&
	pass switch-responses-from-expected-base ||
	fail switch-responses-from-expected-base "before: $before_a of $before from A; after: $after_b of $after from B; $between_ok of $total from A or B"
mote_cli logs-b logs who
out_has 'ready in .*: mote-lua 1-b ' && pass new-vms-run-new-program || fail new-vms-run-new-program "no VM of mote-lua 1-b in the log"
mote_cli ls-fn ls
out_has '^who +lua +1 ' && pass function-not-redeployed || fail function-not-redeployed "$(cat "$OUT")"
for ((i = 0; i < 50; i++)); do
	[ "$(pgrep -f -- "--restore $STATE/bases/$A/" | wc -l)" = 0 ] && break
	sleep 0.1
done
[ "$(pgrep -f -- "--restore $STATE/bases/$A/" | wc -l)" = 0 ] && [ "$(pgrep -f -- "--restore $STATE/bases/$B/" | wc -l)" -ge 1 ] &&
	pass old-base-vms-retired || fail old-base-vms-retired "$(pgrep -f -- "--restore $STATE/bases/$A/" | wc -l) VMs of the old base alive"
mote_cli ls-after base ls
out_has "^${B:0:12} +lua +active " && out_has "^${A:0:12} +lua +previous .* 0 +-$" && [ -d "$STATE/bases/$A" ] &&
	pass base-ls-after-switch || fail base-ls-after-switch "$(cat "$OUT")"
echo "# switch: $total requests, $before before, $after after, $failed failed"

# ---- rollback: activate the previous base ----
mote_cli rollback base activate "$A"
expect_status rollback 0 && out_has "was ${B:0:12}" && pass rollback-activates-previous || fail rollback-activates-previous "$(cat "$OUT")"
ok=1
for i in 1 2 3 4 5; do
	who "rb$i"
	[ "$WHO" = "$A" ] || ok=0
done
[ "$ok" = 1 ] && [ "$(base_row "$B" | awk '{print $3}')" = previous ] && pass rollback-serves-previous ||
	fail rollback-serves-previous "answered '$WHO'; $(base_row "$B")"
mote_cli act-again base activate "$A"
expect_status act-again 0 && out_has "already active" && pass activate-active-is-no-op || fail activate-active-is-no-op "$(cat "$OUT")"

# ---- a third base: the one replaced before (B) is neither active nor the rollback target: deleted ----
mote_cli build-c base build --runtime-program "$LUA_C" --activate
C=$(cat "$OUT")
expect_status build-c 0 && [ -n "$C" ] && pass build-activate-third || fail build-activate-third "printed '$C'"
who third
[ "$WHO" = "$C" ] && pass build-activate-serves-new || fail build-activate-serves-new "answered '$WHO', expected $C"
for ((i = 0; i < 100; i++)); do
	[ ! -e "$STATE/bases/$B" ] && break
	sleep 0.1
done
[ ! -e "$STATE/bases/$B" ] && [ -z "$(base_row "$B")" ] && [ -d "$STATE/bases/$A" ] &&
	[ "$(base_row "$A" | awk '{print $3}')" = previous ] && pass unused-old-base-deleted ||
	fail unused-old-base-deleted "bases/: $(ls "$STATE/bases" | tr '\n' ' '); $(env MOTE_SERVER="$SOCK" "$MOTE" base ls)"

# ---- the registry keeps it all across a restart ----
stop_gw "$G1" TERM
grep -qE 'Sanitizer|runtime error' "$E2E_TMP/g1.gw.err" && fail g1-sanitizer "$(grep -m3 -E 'ERROR|runtime error' "$E2E_TMP/g1.gw.err")"
start_gw g2 "$STATE" --start-timeout 2 || e2e_finish
G2=$GW_PID
who restarted
[ "$WHO" = "$C" ] && [ "$(base_row "$C" | awk '{print $3}')" = active ] && [ "$(base_row "$A" | awk '{print $3}')" = previous ] &&
	pass bases-survive-restart || fail bases-survive-restart "answered '$WHO'; $(env MOTE_SERVER="$SOCK" "$MOTE" base ls)"
# A program that never asks for its snapshot nor exits: killed after 3x --start-timeout, nothing kept.
mote_cli build-spin base build --runtime lua --runtime-program "$TESTBIN/spin.musl"
expect_one_error build-hangs-86 86 "" "did not ask for its snapshot within 6000 ms"
[ "$ELAPSED_MS" -lt 20000 ] && [ -z "$(find "$STATE/bases" -mindepth 1 -maxdepth 1 -name '.tmp-*')" ] &&
	[ "$(pgrep -f -- "$STATE/bases/.tmp-" | wc -l)" = 0 ] && pass hung-build-killed-and-removed ||
	fail hung-build-killed-and-removed "after $ELAPSED_MS ms; $(ls -A "$STATE/bases")"
run base-json curl -s --unix-socket "$SOCK" "http://mote/bases/${C:0:8}"
grep -q "\"id\":\"$C\"" "$OUT" && grep -q '"state":"active"' "$OUT" && grep -q "\"program\":\"$(realpath "$LUA_C")\"" "$OUT" &&
	pass admin-api-base-json || fail admin-api-base-json "$(head -c 300 "$OUT")"
stop_gw "$G2" TERM
[ "$GW_STATUS" = 0 ] && [ "$(vms_of "$STATE")" = 0 ] && ! grep -qE 'Sanitizer|runtime error' "$E2E_TMP/g2.gw.err" &&
	pass clean-stop || fail clean-stop "status $GW_STATUS; $(grep -m3 -E 'ERROR|runtime error' "$E2E_TMP/g2.gw.err")"
e2e_finish

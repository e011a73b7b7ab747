#!/usr/bin/env bash
# Base upgrades in the gateway's own logic, with the test double of mote-vmm (tests/tools/fakevmm.c, no KVM;
# tests/e2e/base.sh does it with real VMs): a request in flight when its base is replaced finishes on the
# old VM, which ends after it; a base that is neither active nor the rollback target keeps its files while a
# VM restored from it is busy and loses them once it ended; leftovers under bases/ (a temporary directory, a
# directory no registry row names) are removed at start; a base whose build fails answers deploys with 503
# no_base (exit 84) and nothing of it stays.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/gateway.sh"
GATEWAY=$E2E_BUILD/asan/mote-gateway
FAKEVMM=$E2E_BUILD/tests/tools/fakevmm
need_built "$MOTE" "$GATEWAY" "$FAKEVMM"
command -v curl >/dev/null || {
	skip base_fake "curl is not installed"
	exit 0
}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$E2E_TMP/rt" "$E2E_TMP/fn"
echo "fake kernel" >"$E2E_TMP/kernel"
echo "fake lua runtime" >"$E2E_TMP/rt/mote-lua"
echo "fake lua runtime, build 2" >"$E2E_TMP/mote-lua-2"
echo "fake lua runtime, build 3" >"$E2E_TMP/mote-lua-3"
echo 'function handle(req) return "hello" end' >"$E2E_TMP/fn/handler.lua"
GW_FLAGS=(--vmm "$FAKEVMM" --kernel "$E2E_TMP/kernel" --runtimes "$E2E_TMP/rt")
state_of() { env MOTE_SERVER="$SOCK" "$MOTE" base ls | awk -v id="${1:0:12}" '$1 == id { print $3 }'; }
vms_on() { pgrep -f -- "--restore $STATE/bases/$1/" | wc -l; }

# Leftovers of an interrupted build or deletion, and a directory of an earlier layout: removed at start.
STATE=$E2E_TMP/state
mkdir -p "$STATE/bases/.tmp-left" "$STATE/bases/0123abcd" && echo x >"$STATE/bases/.tmp-left/base.snap"
start_gw g1 "$STATE" || e2e_finish
G1=$GW_PID
[ -z "$(ls -A "$STATE/bases")" ] && pass leftovers-removed-at-start || fail leftovers-removed-at-start "$(ls -A "$STATE/bases")"

mote_cli deploy deploy slow "$E2E_TMP/fn"
expect_status deploy 0
A=$(env MOTE_SERVER="$SOCK" "$MOTE" base ls | awk 'NR == 2 { print $1 }')
A=$(basename "$(ls -d "$STATE/bases/$A"*)")
[ "$(state_of "$A")" = active ] && pass first-base-active || fail first-base-active "$(env MOTE_SERVER="$SOCK" "$MOTE" base ls)"

# ---- a request in flight on base A while B becomes active: answered by its VM, which then ends ----
curl -s --max-time 20 -o "$E2E_TMP/inflight.body" -w '%{http_code}' "http://127.0.0.1:$PORT/fn/slow/sleep?ms=2500" \
	>"$E2E_TMP/inflight.code" &
BG=$!
for ((i = 0; i < 50; i++)); do
	[ "$(vms_on "$A")" -ge 1 ] && break
	sleep 0.1
done
sleep 0.3
mote_cli build-b base build --runtime lua --runtime-program "$E2E_TMP/mote-lua-2" --activate
B=$(cat "$OUT")
expect_status build-b 0 && [ "$(state_of "$B")" = active ] && [ "$(state_of "$A")" = previous ] && pass build-activate ||
	fail build-activate "$(env MOTE_SERVER="$SOCK" "$MOTE" base ls)"
[ "$(vms_on "$A")" -ge 1 ] && pass busy-vm-kept-after-switch || fail busy-vm-kept-after-switch "no VM of A alive during its request"
http after-switch /fn/slow/x
[ "$HTTP_CODE" = 200 ] && [ "$(vms_on "$B")" -ge 1 ] && pass new-request-on-new-base || fail new-request-on-new-base "status $HTTP_CODE"

# ---- C replaces B: A is now neither active nor previous, but its VM is busy: its files stay until it ends ----
mote_cli build-c base build --runtime lua --runtime-program "$E2E_TMP/mote-lua-3" --activate
C=$(cat "$OUT")
expect_status build-c 0
sleep 0.7
[ -d "$STATE/bases/$A" ] && [ "$(state_of "$A")" = retiring ] && [ "$(vms_on "$A")" -ge 1 ] &&
	pass retiring-base-kept-while-busy || fail retiring-base-kept-while-busy "$(env MOTE_SERVER="$SOCK" "$MOTE" base ls)"
wait "$BG"
BG=""
[ "$(cat "$E2E_TMP/inflight.code")" = 200 ] && pass inflight-request-finishes ||
	fail inflight-request-finishes "status $(cat "$E2E_TMP/inflight.code")"
for ((i = 0; i < 50; i++)); do
	[ ! -e "$STATE/bases/$A" ] && break
	sleep 0.1
done
[ ! -e "$STATE/bases/$A" ] && [ "$(vms_on "$A")" = 0 ] && [ -z "$(state_of "$A")" ] && [ "$(state_of "$B")" = previous ] &&
	[ "$(state_of "$C")" = active ] && pass retiring-base-deleted-once-unused ||
	fail retiring-base-deleted-once-unused "$(ls "$STATE/bases"); $(env MOTE_SERVER="$SOCK" "$MOTE" base ls)"
mote_cli ls-fn ls
out_has '^slow +lua +1 ' && pass not-redeployed || fail not-redeployed "$(cat "$OUT")"
# A ready base that a newer build supersedes is not kept.
echo "fake lua runtime, build 4" >"$E2E_TMP/mote-lua-4"
echo "fake lua runtime, build 5" >"$E2E_TMP/mote-lua-5"
mote_cli build-d base build --runtime lua --runtime-program "$E2E_TMP/mote-lua-4"
D=$(cat "$OUT")
mote_cli build-e base build --runtime lua --runtime-program "$E2E_TMP/mote-lua-5"
E=$(cat "$OUT")
for ((i = 0; i < 30; i++)); do
	[ ! -e "$STATE/bases/$D" ] && break
	sleep 0.1
done
[ ! -e "$STATE/bases/$D" ] && [ "$(state_of "$E")" = ready ] && [ "$(state_of "$C")" = active ] &&
	[ "$(state_of "$B")" = previous ] && pass superseded-ready-base-deleted ||
	fail superseded-ready-base-deleted "$(env MOTE_SERVER="$SOCK" "$MOTE" base ls)"
stop_gw "$G1" TERM
[ "$GW_STATUS" = 0 ] && ! grep -qE 'Sanitizer|runtime error' "$E2E_TMP/g1.gw.err" && pass clean-stop ||
	fail clean-stop "status $GW_STATUS; $(grep -m3 -E 'ERROR|runtime error' "$E2E_TMP/g1.gw.err")"

# ---- a first base that cannot be built: 503 no_base for the deploy, nothing left ----
S2=$E2E_TMP/state2
# (a kernel file saying "fail": a jailed fakevmm, as root, gets no FAKEVMM_BASE_FAIL from the environment)
echo "fail: fake kernel" >"$E2E_TMP/kernel-fail"
GW_FLAGS=(--vmm "$FAKEVMM" --kernel "$E2E_TMP/kernel-fail" --runtimes "$E2E_TMP/rt")
FAKEVMM_BASE_FAIL=1 start_gw g2 "$S2" || e2e_finish
G2=$GW_PID
mote_cli deploy-fail deploy slow "$E2E_TMP/fn"
expect_one_error deploy-base-fails-84 84 "" "cannot build the lua base"
[ -z "$(ls -A "$S2/bases")" ] && [ "$(env MOTE_SERVER="$SOCK" "$MOTE" base ls | grep -c .)" = 1 ] &&
	pass failed-first-base-leaves-nothing || fail failed-first-base-leaves-nothing "$(ls -A "$S2/bases")"
stop_gw "$G2" TERM
! grep -qE 'Sanitizer|runtime error' "$E2E_TMP/g2.gw.err" && pass g2-no-sanitizer ||
	fail g2-no-sanitizer "$(grep -m3 -E 'ERROR|runtime error' "$E2E_TMP/g2.gw.err")"
e2e_finish

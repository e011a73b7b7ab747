#!/usr/bin/env bash
# End-to-end behaviour of the pools of paused VMs, scaling and metrics of `mote serve` with real VMs
# (docs/functions.md, "Pools, scaling and caps", "Metrics"): a pool fills from its base and its VMs use no
# CPU; cold requests take pooled VMs (no restore on the request path, asserted from /metrics); a function
# scales from 0 to its --max-vms under concurrent load and back to 0 after its --idle-timeout; the global
# --max-vms and --memory-budget caps hold (requests beyond the queue get 503); /metrics parses with
# prometheus_client and its counters match the requests sent; SIGTERM drains a request in flight; after a
# SIGKILL nothing stale is left and the next start rebuilds the pool; bad flags get one line and 64.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/gateway.sh"
need_kvm pool
GATEWAY=$E2E_BUILD/asan/mote-gateway
RUNTIMES=$E2E_BUILD/runtimes
PROM=$E2E_ROOT/tests/e2e/helpers/prom.py
need_built "$MOTE" "$GATEWAY" "$MOTE_VMM" "$MOTE_KERNEL" "$RUNTIMES/mote-lua"
command -v curl >/dev/null || {
	skip pool "curl is not installed"
	exit 0
}
# Debian's python3 (the one python3-prometheus-client installs for), even when another python3 comes first.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
"$PY" -c 'import prometheus_client' 2>/dev/null || {
	fail pool-setup "python3-prometheus-client is not installed (make deps installs it)"
	e2e_finish
}
GW_POOL_FLAGS=()
# The release monitor restores faster than the sanitized one; pools are about the gateway's logic.
GW_FLAGS=(--vmm "$E2E_BUILD/mote-vmm")

# A Lua function that answers after busy-waiting ?ms=N milliseconds (so that requests overlap).
mkdir -p "$E2E_TMP/slow"
cat >"$E2E_TMP/slow/handler.lua" <<'EOF'
function handle(req)
  local ms = tonumber(req.query:match("ms=(%d+)") or "0")
  local t0 = os.clock()
  while (os.clock() - t0) * 1000 < ms do end
  return "slept " .. ms .. "\n"
end
EOF

# metrics [PORT]: the metrics page of the current gateway (admin socket), or of a --metrics-listen port.
metrics() {
	if [ -n "${1:-}" ]; then
		curl -s --max-time 10 "http://127.0.0.1:$1/metrics"
	else
		curl -s --max-time 10 --unix-socket "$SOCK" http://mote/metrics
	fi
}
# metric NAME [LABEL=VALUE...]: the sum of the matching samples, read with prometheus_client.
metric() { metrics | "$PY" "$PROM" sum "$@"; }
# wait_metric WANT SECONDS NAME [LABELS...]: poll until the metric equals WANT (bounded); 0 when it did.
wait_metric() {
	local want=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		[ "$(metric "$@")" = "$want" ] && return 0
		sleep 0.1
	done
	return 1
}
# pooled_pids STATE: pids of VM processes of that state dir that are paused (no function attached).
vm_pids() { pgrep -f -- "--restore $1/bases/"; }
cpu_ticks() { # PIDS...: utime + stime of them all
	local p t=0 f
	for p in "$@"; do
		f=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
		t=$((t + ${f% *} + ${f#* }))
	done
	echo "$t"
}

# ---- a pool fills and its VMs use no CPU ----
STATE=$E2E_TMP/state
start_gw g1 "$STATE" --pool lua=3 --pool-rate 50 --verbose --metrics-listen 127.0.0.1:0 || e2e_finish
G1=$GW_PID
MPORT=$(sed -n 's|^mote: metrics on http://127.0.0.1:\([0-9]*\)/metrics|\1|p' "$GW_ERR")
if wait_metric 3 30 mote_pool_vms state=paused; then pass pool-fills-at-start; else
	fail pool-fills-at-start "$(metric mote_pool_vms state=paused) paused VMs; $(tail -3 "$GW_ERR")"
fi
# shellcheck disable=SC2046
set -- $(vm_pids "$STATE")
t0=$(cpu_ticks "$@")
sleep 1
t1=$(cpu_ticks "$@")
[ "$#" = 3 ] && [ "$((t1 - t0))" -le 1 ] && pass pooled-vms-use-no-cpu ||
	fail pooled-vms-use-no-cpu "$# VM processes, $((t1 - t0)) ticks of CPU in 1 s"
priv=$(metric mote_pool_vm_memory_bytes kind=private)
[ "$priv" -gt 0 ] && [ "$priv" -lt $((3 * 4096 * 1024)) ] && pass pooled-vm-memory-measured ||
	fail pooled-vm-memory-measured "private bytes of 3 pooled VMs: $priv"

# ---- cold requests take pooled VMs: no restore on the request path ----
# --idle-timeout 0: every request needs a VM of its own (a cold start).
mote_cli deploy-cold deploy cold "$E2E_TMP/slow" --idle-timeout 0
expect_status deploy-cold 0 && pass deploy-from-pool || fail deploy-from-pool "$(cat "$ERR")"
wait_metric 3 10 mote_pool_vms state=paused
hits0=$(metric mote_pool_hits_total)
ok=0
for i in 1 2 3 4 5; do
	wait_metric 3 5 mote_pool_vms state=paused
	http "cold$i" '/fn/cold/x?ms=0'
	[ "$HTTP_CODE" = 200 ] && ok=$((ok + 1))
done
hits=$(($(metric mote_pool_hits_total) - hits0))
cold_pool=$(metric mote_request_duration_seconds_count path=cold_pool)
cold_restore=$(metric mote_request_duration_seconds_count path=cold_restore)
req_restores=$(metric mote_restores_total for=request)
if [ "$ok" = 5 ] && [ "$hits" = 5 ] && [ "$cold_pool" = 5 ] && [ "$cold_restore" = 0 ] && [ "$req_restores" = 0 ]; then
	pass cold-requests-hit-the-pool
else
	fail cold-requests-hit-the-pool "$ok ok, $hits hits, cold_pool $cold_pool, cold_restore $cold_restore, request restores $req_restores"
fi
mote_cli logs-cold logs cold
out_has 'ready in .* from the pool' && pass cold-start-noted-from-pool || fail cold-start-noted-from-pool "$(tail -3 "$OUT")"

# ---- /metrics parses (admin socket and --metrics-listen) and its counters match the requests sent ----
mote_cli deploy-warm deploy warm "$E2E_TMP/slow"
for ((i = 0; i < 7; i++)); do http "w$i" '/fn/warm/x'; done
http w404 '/fn/warm/x?ms=0' # a 200 too: the function answers every path
for ((i = 0; i < 2; i++)); do
	curl -s -o /dev/null --max-time 10 -X POST --data-binary @/dev/null "http://127.0.0.1:$PORT/fn/warm/y"
done
page=$E2E_TMP/metrics.txt
metrics "$MPORT" >"$page"
if "$PY" "$PROM" check <"$page" >/dev/null && metrics | "$PY" "$PROM" check >/dev/null; then
	pass metrics-parse-as-prometheus-text
else
	fail metrics-parse-as-prometheus-text "$("$PY" "$PROM" check <"$page" 2>&1 | head -2)"
fi
n200=$("$PY" "$PROM" sum mote_requests_total function=warm status=200 <"$page")
ncold=$("$PY" "$PROM" sum mote_requests_total function=cold <"$page")
warm=$("$PY" "$PROM" sum mote_request_duration_seconds_count path=warm <"$page")
[ "$n200" = 10 ] && [ "$ncold" = 5 ] && [ "$warm" -ge 10 ] && pass metrics-counters-match-requests ||
	fail metrics-counters-match-requests "warm 200s $n200 (sent 10), cold $ncold (sent 5), warm path $warm"
mote_cli top top --once
expect_status top 0 && out_has '^VMS +[0-9]+ pooled' && out_has 'cold_pool: 5, p50 [0-9.]+ ms' &&
	out_has '^cold +5 +0 ' && out_has '^warm +10 +0 +1 ' && out_has '^[0-9a-f]{12} +lua +[0-9]+ +3 ' &&
	pass mote-top-shows-live-figures || fail mote-top-shows-live-figures "$(cat "$OUT")"
mote_cli top-bad top --count 0
expect_one_error top-refuses-bad-count 64
curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/functions" | grep -q 404 &&
	pass metrics-port-serves-only-metrics || fail metrics-port-serves-only-metrics "/functions answered"

# ---- scale from 0 to N under concurrent load, back to 0 after the idle timeout ----
mote_cli deploy-scale deploy scale "$E2E_TMP/slow" --max-vms 3 --idle-timeout 1.5
sleep 2 # the deploy's warm VM ends: 0 VMs
before=$(metric mote_vms function=scale)
BG=""
for ((i = 0; i < 9; i++)); do
	curl -s -o "$E2E_TMP/sc.$i" --max-time 30 -w '%{http_code}\n' 'http://127.0.0.1:'"$PORT"'/fn/scale/x?ms=400' \
		>"$E2E_TMP/sc.$i.code" &
	BG="$BG $!"
done
peak=0
for ((i = 0; i < 40; i++)); do
	n=$(metric mote_vms function=scale)
	[ "$n" -gt "$peak" ] && peak=$n
	sleep 0.1
done
# shellcheck disable=SC2086
wait $BG
BG=""
good=$(cat "$E2E_TMP"/sc.*.code | grep -c 200)
[ "$before" = 0 ] && [ "$peak" = 3 ] && [ "$good" = 9 ] && pass scale-0-to-max-vms ||
	fail scale-0-to-max-vms "before $before, peak $peak VMs (max 3), $good of 9 answered 200: $(cat "$E2E_TMP"/sc.*.code) $(head -c 200 "$E2E_TMP"/sc.1)"
if wait_metric 0 6 mote_vms function=scale; then pass scale-back-to-0-after-idle; else
	fail scale-back-to-0-after-idle "$(metric mote_vms function=scale) VMs left"
fi
grep -qE 'vm [0-9]+ spawned for the pool' "$GW_ERR" && grep -qE 'vm [0-9]+ pooled' "$GW_ERR" &&
	grep -qE 'vm [0-9]+ attached to scale' "$GW_ERR" && grep -qE 'vm [0-9]+ idle \(scale' "$GW_ERR" &&
	grep -qE 'vm [0-9]+ retired \(scale\): ended: idle' "$GW_ERR" && grep -qE 'vm [0-9]+ exited \(scale\)' "$GW_ERR" &&
	pass verbose-lifecycle-lines || fail verbose-lifecycle-lines "$(grep -c 'mote: vm' "$GW_ERR") vm lines"

# ---- SIGTERM drains a request in flight ----
curl -s -o "$E2E_TMP/drain.body" --max-time 20 -w '%{http_code}' 'http://127.0.0.1:'"$PORT"'/fn/warm/x?ms=1500' \
	>"$E2E_TMP/drain.code" &
drain=$!
sleep 0.5
stop_gw "$G1" TERM
wait "$drain"
[ "$GW_STATUS" = 0 ] && [ "$(cat "$E2E_TMP/drain.code")" = 200 ] && grep -q 'slept 1500' "$E2E_TMP/drain.body" &&
	[ -z "$(vm_pids "$STATE")" ] && [ ! -e "$STATE/admin.sock" ] && pass sigterm-drains-in-flight ||
	fail sigterm-drains-in-flight "status $GW_STATUS, request $(cat "$E2E_TMP/drain.code"), $(vm_pids "$STATE" | wc -l) VMs left"
grep -qE 'Sanitizer|runtime error' "$GW_ERR" && fail g1-sanitizer "$(grep -m3 -E 'ERROR|runtime error' "$GW_ERR")"

# ---- restart after SIGKILL: nothing stale, the pool is rebuilt ----
start_gw g2 "$STATE" --pool lua=2 || e2e_finish
wait_metric 2 20 mote_pool_vms state=paused
stop_gw "$GW_PID" KILL
for ((i = 0; i < 50; i++)); do
	[ -z "$(vm_pids "$STATE")" ] && break
	sleep 0.1
done
stale=$(find "$STATE" -name '.tmp-*' | wc -l)
[ -z "$(vm_pids "$STATE")" ] && [ "$stale" = 0 ] && pass sigkill-leaves-no-vm-or-temp-file ||
	fail sigkill-leaves-no-vm-or-temp-file "$(vm_pids "$STATE" | wc -l) VMs, $stale temporary files"
start_gw g3 "$STATE" --pool lua=2 || e2e_finish
G3=$GW_PID
if wait_metric 2 20 mote_pool_vms state=paused; then pass restart-rebuilds-pool; else
	fail restart-rebuilds-pool "$(metric mote_pool_vms state=paused) paused"
fi
http after-restart '/fn/warm/x'
# The request took a pooled clone; the pool refills in the background, off the request path.
wait_metric 2 20 mote_pool_vms state=paused
[ "$HTTP_CODE" = 200 ] && [ "$(vm_pids "$STATE" | wc -l)" = 3 ] && pass restart-serves ||
	fail restart-serves "status $HTTP_CODE, $(vm_pids "$STATE" | wc -l) VMs (2 pooled + 1)"
stop_gw "$G3" TERM

# ---- the registry's active base decides: a runtime changed on disk keeps the pool; a base switch
# (mote base build --activate) retires the old base's pool and fills one from the new base ----
mkdir -p "$E2E_TMP/rt"
cp "$RUNTIMES/mote-lua" "$RUNTIMES/mote-c-init" "$E2E_TMP/rt/"
start_gw g4 "$E2E_TMP/s4" --pool lua=2 --runtimes "$E2E_TMP/rt" --verbose || e2e_finish
G4=$GW_PID
wait_metric 2 30 mote_pool_vms state=paused
old=$(metrics | sed -n 's/^mote_pool_vms{base="\([0-9a-f]*\)".*state="paused"} 2$/\1/p' | head -1)
printf 'x' >>"$E2E_TMP/rt/mote-lua" # bytes after the ELF's end: the same program, another base identity
sleep 2.5                            # more than the pools' 1 s look-up
bases=$(metrics | grep -c '^mote_pool_vms{.*state="paused"}')
kept=$(metric mote_pool_vms base="$old" state=paused)
[ -n "$old" ] && [ "$kept" = 2 ] && [ "$bases" = 1 ] && pass disk-change-keeps-active-base-pool ||
	fail disk-change-keeps-active-base-pool "base ${old:-none}: $kept paused, $bases pools"
mote_cli g4-build base build --runtime-program "$E2E_TMP/rt/mote-lua" --activate
newid=$(cat "$OUT")
new=""
for ((i = 0; i < 300; i++)); do
	new=$(metrics | sed -n 's/^mote_pool_vms{base="\([0-9a-f]*\)".*state="paused"} 2$/\1/p' | grep -v "^$old\$" | head -1)
	[ -n "$new" ] && break
	sleep 0.1
done
left=$(metric mote_pool_vms base="$old")
[ "$STATUS" = 0 ] && [ -n "$old" ] && [ -n "$new" ] && [ -n "$newid" ] && [[ "$new" == "$newid"* ]] && [ "$left" = 0 ] &&
	pass base-switch-retires-old-pool ||
	fail base-switch-retires-old-pool "status $STATUS, old base ${old:-none}, built ${newid:-none}, pooled ${new:-none}, $left VMs left in the old pool"
# The switch hook (pool_base_switched) ended them, not the pools' own once-a-second look-up.
grep -q "the lua base is now ${newid:0:12}: 2 pooled VMs of base ${old:0:12} ended" "$GW_ERR" &&
	pass base-switch-hook-retires-pool ||
	fail base-switch-hook-retires-pool "no hook line in $GW_ERR: $(grep -m2 'base is now' "$GW_ERR")"
# No VM of the old base is left running (it stays as the rollback target, without VMs).
gone=0
for ((i = 0; i < 50; i++)); do
	[ -z "$(vm_pids "$E2E_TMP/s4" | xargs -r ps -o args= -p | grep "bases/$old")" ] && gone=1 && break
	sleep 0.1
done
[ "$gone" = 1 ] && pass base-switch-ends-old-pooled-vms ||
	fail base-switch-ends-old-pooled-vms "VMs of base $old still running"
stop_gw "$G4" TERM

# ---- global caps: --max-vms and --memory-budget hold; beyond the queue bound, 503 ----
# caps TAG FLAGS...: a gateway with those caps (no pool), a function allowed 6 VMs, 6 concurrent requests of
# 1.5 s: 2 run, 2 wait (--queue 2) and get 503 after --queue-wait 1, 2 get 503 at once.
caps() {
	local tag=$1 s=$E2E_TMP/$1 i peak=0 n
	shift
	start_gw "$tag" "$s" --pool 0 --queue 2 --queue-wait 1 "$@" || return
	local g=$GW_PID
	mote_cli "$tag-deploy" deploy capped "$E2E_TMP/slow" --max-vms 6
	BG=""
	for ((i = 0; i < 6; i++)); do
		curl -s -o /dev/null --max-time 30 -w '%{http_code}\n' "http://127.0.0.1:$PORT/fn/capped/x?ms=1500" \
			>"$E2E_TMP/$tag.$i.code" &
		BG="$BG $!"
		sleep 0.05
	done
	for ((i = 0; i < 20; i++)); do
		n=$(vm_pids "$s" | wc -l)
		[ "$n" -gt "$peak" ] && peak=$n
		sleep 0.1
	done
	# shellcheck disable=SC2086
	wait $BG
	BG=""
	local ok busy
	ok=$(cat "$E2E_TMP/$tag".*.code | grep -c 200)
	busy=$(cat "$E2E_TMP/$tag".*.code | grep -c 503)
	local n503
	n503=$(metric mote_requests_total function=capped status=503)
	[ "$peak" = 2 ] && [ "$ok" = 2 ] && [ "$busy" = 4 ] && [ "$n503" = 4 ] && pass "$tag-cap-holds" ||
		fail "$tag-cap-holds" "peak $peak VMs (cap 2), $ok answered 200, $busy 503 (metrics: $n503)"
	stop_gw "$g" TERM
}
caps max-vms --max-vms 2
caps memory-budget --memory-budget 130M # two 64 MiB VMs fit, a third does not

# ---- bad flags: one line, status 64 ----
for bad in "--pool lua=x" "--pool java=2" "--pool lua:1K=2" "--pool ," "--max-vms 0" "--memory-budget 1K" \
	"--pool-rate 0" "--metrics-listen nonsense" "--drain-timeout x"; do
	# shellcheck disable=SC2086
	run "bad-flag" "$MOTE" serve --state "$E2E_TMP/badstate" --listen 127.0.0.1:0 $bad
	expect_one_error "serve-refuses-${bad%% *}-${bad#* }" 64
done
mkdir -p "$E2E_TMP/badstate2"
for bad in "--concurrency 0" "--concurrency x" "--idle-timeout -1" "--idle-timeout soon"; do
	# shellcheck disable=SC2086
	run bad-deploy env MOTE_SERVER="$E2E_TMP/none.sock" "$MOTE" deploy f "$E2E_TMP/slow" $bad
	expect_one_error "deploy-refuses-${bad%% *}-${bad#* }" 64
done
e2e_finish

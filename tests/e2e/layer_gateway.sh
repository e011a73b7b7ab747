#!/usr/bin/env bash
# End-to-end: per-function layers in `mote serve` (docs/functions.md, "Layers") with real VMs. The deploy's
# check VM takes the function's layer; later cold starts restore it and skip the function's load (its random
# token, drawn once at load, is the same in every VM and the load ran once, asserted from the responses and
# the function's log); /metrics counts hits, takes and disk bytes (parsed with prometheus_client); a pooled VM
# is preferred unless the load is longer than --layer-min-load, and then, once both starts are measured,
# the faster (here the layer); a damaged layer is refused by mote-vmm,
# deleted and the request still served from the base (and a new layer taken); after a base upgrade the layer
# is rebuilt on the new base and an old base's layers go with that base; redeploy and rm delete the layers
# of the versions they retire; a restart sweeps layers of versions no longer deployed; --no-layers takes and
# uses none; a bad --layer-min-load gets one line and 64. Lua and C functions.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/gateway.sh"
need_kvm layer_gateway
GATEWAY=$E2E_BUILD/asan/mote-gateway
RUNTIMES=$E2E_BUILD/runtimes
LUA_B=$E2E_BUILD/tests/runtimes/mote-lua-b
LUA_C=$E2E_BUILD/tests/runtimes/mote-lua-c
PROM=$E2E_ROOT/tests/e2e/helpers/prom.py
CFN=$E2E_BUILD/tests/fn/layer_count/handler
need_built "$MOTE" "$GATEWAY" "$MOTE_VMM" "$MOTE_KERNEL" "$RUNTIMES/mote-lua" "$RUNTIMES/mote-c-init" "$LUA_B" "$LUA_C" "$CFN"
command -v curl >/dev/null || {
	skip layer_gateway "curl is not installed"
	exit 0
}
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
"$PY" -c 'import prometheus_client' 2>/dev/null || {
	fail layer_gateway-setup "python3-prometheus-client is not installed (make deps installs it)"
	e2e_finish
}
# The release monitor restores faster than the sanitized one; this is about the gateway's logic (the
# monitor's side of layers is tests/e2e/layer.sh).
GW_FLAGS=(--vmm "$E2E_BUILD/mote-vmm")

mkdir -p "$E2E_TMP/lc" "$E2E_TMP/lc2" "$E2E_TMP/cc"
cp "$E2E_ROOT/tests/fn/layer_count.lua" "$E2E_TMP/lc/handler.lua"
cp "$E2E_ROOT/tests/fn/layer_count.lua" "$E2E_TMP/lc2/handler.lua"
echo '-- version 2' >>"$E2E_TMP/lc2/handler.lua"
cp "$CFN" "$E2E_TMP/cc/handler"
# A function whose load takes 300 ms of CPU (longer than a layer's restore).
mkdir -p "$E2E_TMP/slowload"
cat >"$E2E_TMP/slowload/handler.lua" <<'EOF'
local token = string.format("%08x", math.random(0, 0x7fffffff))
local t0 = os.clock()
while os.clock() - t0 < 0.3 do end
function handle(req) return "slow token=" .. token .. " \n" end
EOF

metric() { curl -s --max-time 10 --unix-socket "$SOCK" http://mote/metrics | "$PY" "$PROM" sum "$@"; }
# token TAG: the token=... of response TAG (empty when none).
token() { sed -n 's/.* token=\([0-9a-f]*\) .*/\1/p' "$E2E_TMP/$1.body"; }
# calls TAG N FN: N requests in a row, one cold start each (the functions run with --idle-timeout 0);
# the distinct tokens into TOKENS, the number of 200s into OK, the bodies into TAG.all.
calls() {
	local tag=$1 n=$2 f=$3 i
	OK=0
	: >"$E2E_TMP/$tag.all"
	for ((i = 1; i <= n; i++)); do
		[ -n "${POOLED:-}" ] && pool_full "$POOLED"
		http "$tag$i" "/fn/$f/p$i"
		[ "$HTTP_CODE" = 200 ] && OK=$((OK + 1))
		cat "$E2E_TMP/$tag$i.body" >>"$E2E_TMP/$tag.all"
	done
	TOKENS=$(sed -n 's/.* token=\([0-9a-f]*\) .*/\1/p' "$E2E_TMP/$tag.all" | sort -u | tr '\n' ' ')
}
# pool_full N: wait (bounded) until N pooled VMs wait.
pool_full() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(metric mote_pool_vms state=paused)" = "$1" ] && return 0
		sleep 0.1
	done
}
layer_files() { find "$STATE/layers" -type f 2>/dev/null | sort; }
inits_logged() { env MOTE_SERVER="$SOCK" "$MOTE" logs "$1" | grep -c 'layer_count: initialised'; }

# ---- the deploy takes the layer; cold starts restore it and skip the load ----
STATE=$E2E_TMP/state
start_gw g1 "$STATE" --verbose || e2e_finish
G1=$GW_PID
mote_cli deploy-lc deploy lc "$E2E_TMP/lc" --idle-timeout 0
expect_status deploy-lc 0 && pass deploy-takes-layer-ok || fail deploy-takes-layer-ok "$(cat "$ERR")"
BASE1=$(find "$STATE/layers/lc/1" -name '*.layer' 2>/dev/null | head -1 | xargs -r basename | sed 's/\.layer$//')
[ "$(metric mote_layer_takes_total)" = 1 ] && [ -n "$BASE1" ] && [ -d "$STATE/bases/$BASE1" ] &&
	pass deploy-stores-layer-on-its-base || fail deploy-stores-layer-on-its-base "takes $(metric mote_layer_takes_total); files: $(layer_files)"
calls c 3 lc
hits=$(metric mote_layer_hits_total)
n_layer=$(metric mote_request_duration_seconds_count path=cold_layer)
n_restore=$(metric mote_request_duration_seconds_count path=cold_restore)
if [ "$OK" = 3 ] && [ "$hits" = 3 ] && [ "$n_layer" = 3 ] && [ "$n_restore" = 0 ]; then
	pass cold-starts-restore-the-layer
else
	fail cold-starts-restore-the-layer "$OK ok, hits $hits, cold_layer $n_layer, cold_restore $n_restore"
fi
# Every VM has the state the load left: one token (drawn at the deploy's load), one load, a fresh VM each.
if [ "$(wc -w <<<"$TOKENS")" = 1 ] && [ "$(grep -c 'inits=1 served=1 last=400000000' "$E2E_TMP/c.all")" = 3 ] &&
	[ "$(inits_logged lc)" = 1 ]; then
	pass layer-keeps-the-load-state
else
	fail layer-keeps-the-load-state "tokens: $TOKENS; bodies: $(head -c 300 "$E2E_TMP/c.all"); loads logged $(inits_logged lc)"
fi
grep -q 'restored from its layer on base' "$GW_ERR" && env MOTE_SERVER="$SOCK" "$MOTE" logs lc | grep -q 'ready in .* from its layer' &&
	pass layer-start-noted || fail layer-start-noted "$(tail -3 "$GW_ERR")"
disk=$(metric mote_layer_disk_bytes)
want=$(($(find "$STATE/layers" -type f -printf '%b\n' | paste -sd+ | bc) * 512))
[ "$disk" = "$want" ] && [ "$disk" -gt 0 ] && pass layer-disk-bytes-metric ||
	fail layer-disk-bytes-metric "metric $disk, files $want"

# ---- a C function: the same, its mote_init() ran once ----
mote_cli deploy-cc deploy cc "$E2E_TMP/cc" --idle-timeout 0
calls cc 2 cc
[ "$OK" = 2 ] && [ "$(wc -w <<<"$TOKENS")" = 1 ] && [ "$(inits_logged cc)" = 1 ] &&
	[ "$(grep -c '^c token=.* inits=1 served=1' "$E2E_TMP/cc.all")" = 2 ] && pass c-function-from-layer ||
	fail c-function-from-layer "$OK ok; tokens $TOKENS; loads logged $(inits_logged cc); $(head -c 200 "$E2E_TMP/cc.all")"

# ---- a damaged layer: refused before the function runs, deleted, the request served from the base ----
L=$STATE/layers/lc/1/$BASE1.layer
head -c 4096 "$L" >"$E2E_TMP/cut" && cat "$E2E_TMP/cut" >"$L" # truncated in place
fb0=$(metric mote_layer_fallbacks_total)
calls d 1 lc
t_new=$(token d1)
fb=$(($(metric mote_layer_fallbacks_total) - fb0))
if [ "$OK" = 1 ] && [ "$fb" = 1 ] && [ -n "$t_new" ] && ! grep -q "token=$t_new" "$E2E_TMP/c.all" &&
	grep -q 'refused (status 7[45]), deleted' "$GW_ERR"; then
	pass damaged-layer-falls-back-to-the-base
else
	fail damaged-layer-falls-back-to-the-base "$OK ok, fallbacks $fb, token '$t_new'; $(grep refused "$GW_ERR" | tail -1)"
fi
# The fallback start took a new layer; the next cold start uses it (the new token).
calls e 1 lc
[ "$OK" = 1 ] && [ "$(token e1)" = "$t_new" ] && [ "$(stat -c %s "$L")" -gt 4096 ] && pass layer-retaken-after-fallback ||
	fail layer-retaken-after-fallback "token $(token e1) (want $t_new), layer $(stat -c %s "$L" 2>/dev/null) bytes"

# ---- pools: a pooled VM is preferred for a load shorter than --layer-min-load, the layer for a longer one ----
stop_gw "$G1"
start_gw g2 "$STATE" --pool lua=2 --layer-min-load 200 --verbose || e2e_finish
G2=$GW_PID
POOLED=2
calls p 2 lc
# The first cold start measures the load (unknown after a restart) in a pooled VM, the second compares it.
pool_hits=$(metric mote_pool_hits_total)
[ "$OK" = 2 ] && [ "$pool_hits" = 2 ] && [ "$(metric mote_layer_hits_total)" = 0 ] &&
	[ "$(grep -c 'inits=1 served=1' "$E2E_TMP/p.all")" = 2 ] && pass quick-load-prefers-the-pool ||
	fail quick-load-prefers-the-pool "$OK ok, pool hits $pool_hits, layer hits $(metric mote_layer_hits_total); $(env MOTE_SERVER="$SOCK" "$MOTE" logs lc | grep 'ready in' | tail -2)"
ph0=$(metric mote_pool_hits_total)
mote_cli deploy-slow deploy slowload "$E2E_TMP/slowload" --idle-timeout 0
calls s 2 slowload
# The deploy's check VM and the first start (load unknown) come from the pool; the second start from the layer.
ph=$(($(metric mote_pool_hits_total) - ph0))
if [ "$OK" = 2 ] && [ "$ph" = 2 ] && [ "$(metric mote_layer_hits_total)" = 1 ] &&
	[ "$(token s1)" != "$(token s2)" ] && [ -n "$(token s2)" ]; then
	pass long-load-prefers-the-layer
else
	fail long-load-prefers-the-layer "$OK ok, pool hits $ph (2 wanted: the deploy's + the first start), layer hits $(metric mote_layer_hits_total); tokens $(token s1) $(token s2)"
fi
# Both starts measured now (a 300 ms load from the pool, a layer restore of a few ms): the next ones take
# the faster, the layer, every time (sizing_start_from_layer; the 16th start would re-measure the pool).
lh0=$(metric mote_layer_hits_total)
ph0=$(metric mote_pool_hits_total)
calls m 3 slowload
[ "$OK" = 3 ] && [ $(($(metric mote_layer_hits_total) - lh0)) = 3 ] && [ "$(metric mote_pool_hits_total)" = "$ph0" ] &&
	pass measured-faster-start-is-the-layer ||
	fail measured-faster-start-is-the-layer "$OK ok, layer hits +$(($(metric mote_layer_hits_total) - lh0)), pool hits +$(($(metric mote_pool_hits_total) - ph0))"
stop_gw "$G2"
start_gw g3 "$STATE" --pool lua=2 --layer-min-load 0 || e2e_finish
G3=$GW_PID
calls q 2 lc
[ "$OK" = 2 ] && [ "$(metric mote_layer_hits_total)" = 2 ] && [ "$(metric mote_pool_hits_total)" = 0 ] &&
	[ "$(wc -w <<<"$TOKENS")" = 1 ] && [ "$TOKENS" = "$t_new " ] && pass layer-min-load-0-prefers-the-layer ||
	fail layer-min-load-0-prefers-the-layer "$OK ok, layer hits $(metric mote_layer_hits_total), pool hits $(metric mote_pool_hits_total), tokens $TOKENS"
stop_gw "$G3"
POOLED=

# ---- a base upgrade: the layer is rebuilt on the new base; the old base's layer goes with the base ----
start_gw g4 "$STATE" --verbose || e2e_finish
G4=$GW_PID
mote_cli build-b base build --runtime lua --runtime-program "$LUA_B" --activate
BASE2=$(head -1 "$OUT")
expect_status build-b 0 && [ -n "$BASE2" ] && [ "$BASE2" != "$BASE1" ] && pass upgrade-builds-new-base ||
	fail upgrade-builds-new-base "$(cat "$OUT" "$ERR")"
calls u 2 lc
t_u1=$(token u1)
[ "$OK" = 2 ] && [ -f "$STATE/layers/lc/1/$BASE2.layer" ] && [ "$(token u2)" = "$t_u1" ] && [ "$t_u1" != "$t_new" ] &&
	[ "$(metric mote_layer_misses_total)" = 1 ] && [ "$(metric mote_layer_hits_total)" = 1 ] &&
	pass layer-rebuilt-after-upgrade ||
	fail layer-rebuilt-after-upgrade "$OK ok, tokens $t_u1 $(token u2) (old $t_new), misses $(metric mote_layer_misses_total), files $(layer_files)"
# The previous base is kept for a rollback, with its layers; a third base retires the first, deleted with them.
mote_cli build-c base build --runtime lua --runtime-program "$LUA_C" --activate
BASE3=$(head -1 "$OUT")
for ((i = 0; i < 100; i++)); do [ -d "$STATE/bases/$BASE1" ] || break; sleep 0.1; done
[ -n "$BASE3" ] && [ ! -d "$STATE/bases/$BASE1" ] && [ ! -e "$STATE/layers/lc/1/$BASE1.layer" ] &&
	[ -f "$STATE/layers/lc/1/$BASE2.layer" ] && pass old-base-layers-deleted-with-it ||
	fail old-base-layers-deleted-with-it "base $BASE1 there: $([ -d "$STATE/bases/$BASE1" ] && echo yes); files $(layer_files)"

# ---- redeploy and rm delete the layers of the versions they retire ----
mote_cli deploy-lc2 deploy lc "$E2E_TMP/lc2" --idle-timeout 0
expect_status deploy-lc2 0 && [ -f "$STATE/layers/lc/2/$BASE3.layer" ] && [ ! -e "$STATE/layers/lc/1" ] &&
	pass redeploy-replaces-the-layer || fail redeploy-replaces-the-layer "$(cat "$ERR"); files $(layer_files)"
calls r 1 lc
[ "$OK" = 1 ] && [ "$(metric mote_layer_hits_total)" = 2 ] && pass new-version-starts-from-its-layer ||
	fail new-version-starts-from-its-layer "$OK ok, hits $(metric mote_layer_hits_total)"
mote_cli rm-cc rm cc
expect_status rm-cc 0 && [ ! -e "$STATE/layers/cc" ] && pass rm-deletes-the-layers || fail rm-deletes-the-layers "$(layer_files)"

# ---- a restart sweeps layers of versions no longer deployed, and takes none with --no-layers ----
stop_gw "$G4"
mkdir -p "$STATE/layers/lc/99" "$STATE/layers/gone/1"
echo junk >"$STATE/layers/lc/99/$BASE3.layer"
echo junk >"$STATE/layers/gone/1/$BASE3.layer"
echo junk >"$STATE/layers/lc/2/.$BASE3.tmp"
start_gw g5 "$STATE" --no-layers || e2e_finish
G5=$GW_PID
[ ! -e "$STATE/layers/lc/99" ] && [ ! -e "$STATE/layers/gone" ] && [ ! -e "$STATE/layers/lc/2/.$BASE3.tmp" ] &&
	[ -f "$STATE/layers/lc/2/$BASE3.layer" ] && pass restart-sweeps-stale-layers || fail restart-sweeps-stale-layers "$(layer_files)"
calls n 2 lc
mote_cli deploy-nl deploy nl "$E2E_TMP/lc" --idle-timeout 0
[ "$OK" = 2 ] && [ "$(wc -w <<<"$TOKENS")" = 2 ] && [ "$(metric mote_layer_hits_total)" = 0 ] &&
	[ "$(metric mote_layer_takes_total)" = 0 ] && [ ! -e "$STATE/layers/nl" ] && pass no-layers-takes-and-uses-none ||
	fail no-layers-takes-and-uses-none "$OK ok, tokens $TOKENS, hits $(metric mote_layer_hits_total), takes $(metric mote_layer_takes_total)"
curl -s --max-time 10 --unix-socket "$SOCK" http://mote/metrics | "$PY" "$PROM" check >/dev/null &&
	pass layer-metrics-parse || fail layer-metrics-parse "the page does not parse"
stop_gw "$G5"

# ---- bad flags ----
run bad-min-load "$MOTE" serve --state "$E2E_TMP/s2" --layer-min-load soon
expect_one_error bad-layer-min-load-64 64 "" "--layer-min-load: 'soon' is not a whole number"
run neg-min-load "$MOTE" serve --state "$E2E_TMP/s2" --layer-min-load -1
expect_one_error negative-layer-min-load-64 64 "" "--layer-min-load"
e2e_finish

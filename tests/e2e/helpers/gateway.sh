# Helpers shared by tests/e2e/gateway.sh and functions.sh (sourced after lib.sh; not a test itself): start and stop `mote serve`
# by pid, call its public endpoint with curl and its admin API with the CLI, count its VMs.
# GW_FLAGS (an array, may be empty) holds extra flags for every `mote serve` started. GW_POOL_FLAGS comes
# before them: the scripts that count a function's VMs run without pools of paused VMs (--pool 0);
# tests/e2e/pool.sh empties it and tests the pools.
GW_FLAGS=()
GW_POOL_FLAGS=(--pool 0)
# ---- gateways: started here, stopped by pid ----
GW_PIDS=""
# start_gw TAG STATE [FLAGS...]: start `mote serve` on a free port; sets GW_PID, PORT, SOCK, GW_ERR.
start_gw() {
	local tag=$1 state=$2 i
	shift 2
	GW_ERR=$E2E_TMP/$tag.gw.err
	"$MOTE" serve --listen 127.0.0.1:0 --state "$state" "${GW_POOL_FLAGS[@]}" "${GW_FLAGS[@]}" "$@" >"$E2E_TMP/$tag.gw.out" \
		2>"$GW_ERR" </dev/null &
	GW_PID=$!
	GW_PIDS="$GW_PIDS $GW_PID"
	SOCK=$state/admin.sock
	PORT=
	for ((i = 0; i < 200; i++)); do
		PORT=$(sed -n 's|^mote: serving functions on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$GW_ERR")
		[ -n "$PORT" ] && return 0
		kill -0 "$GW_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "$tag-start" "mote serve did not start: $(head -c 300 "$GW_ERR")"
	return 1
}
# stop_gw PID [SIGNAL]: signal (TERM by default), wait at most 10 s, then KILL; sets GW_STATUS.
stop_gw() {
	local p=$1 sig=${2:-TERM} i
	kill "-$sig" "$p" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
	{
		wait "$p"
		GW_STATUS=$?
	} 2>/dev/null
	GW_PIDS=$(echo "$GW_PIDS" | tr ' ' '\n' | grep -vx "$p" | tr '\n' ' ')
}
# vms_of STATE: the number of VM processes (mote-vmm or its double, restored from a base under STATE) alive.
vms_of() {
	pgrep -f -- "--restore $1/bases/" | wc -l
}
BG=""
gateway_cleanup() {
	local p
	for p in $BG; do kill -KILL "$p" 2>/dev/null; done
	# shellcheck disable=SC2086
	for p in $GW_PIDS; do stop_gw "$p" KILL; done
	e2e_cleanup
}
trap gateway_cleanup EXIT
trap 'exit 130' INT TERM HUP

# mote_cli TAG ARGS...: run the mote CLI against the current gateway.
mote_cli() {
	local tag=$1
	shift
	run "$tag" env MOTE_SERVER="$SOCK" "$MOTE" "$@"
}
# http TAG CURL-ARGS... URL-PATH: curl the public endpoint; $E2E_TMP/TAG.body, .head; HTTP_CODE.
http() {
	local tag=$1
	shift
	local n=$#
	local path=${!n}
	set -- "${@:1:$((n - 1))}"
	HTTP_CODE=$(curl -s --max-time 20 -o "$E2E_TMP/$tag.body" -D "$E2E_TMP/$tag.head" -w '%{http_code}' "$@" \
		"http://127.0.0.1:$PORT$path")
}
head_has() { grep -qiE -- "$2" "$E2E_TMP/$1.head"; }
head_value() { sed -n "s/^$2: //Ip" "$E2E_TMP/$1.head" | tr -d '\r'; }
# concurrent_clients NAME N PATH-EVEN PATH-ODD: N clients at once, client i POSTing "request-i-RANDOM" to
# the public endpoint at PATH-EVEN or PATH-ODD (by i's parity); passes NAME when every one got 200 and a
# body starting with what it sent.
concurrent_clients() {
	local name=$1 n=$2 even=$3 odd=$4 i p ok=0
	BG=""
	for ((i = 0; i < n; i++)); do
		p=$even
		[ $((i % 2)) = 1 ] && p=$odd
		curl -s --max-time 60 -o "$E2E_TMP/par.$i" --data-binary "request-$i-$RANDOM$RANDOM" -w '%{http_code}' \
			"http://127.0.0.1:$PORT$p" >"$E2E_TMP/par.$i.code" &
		BG="$BG $!"
	done
	# shellcheck disable=SC2086
	wait $BG
	BG=""
	for ((i = 0; i < n; i++)); do
		[ "$(cat "$E2E_TMP/par.$i.code")" = 200 ] && grep -q "^request-$i-" "$E2E_TMP/par.$i" && ok=$((ok + 1))
	done
	[ "$ok" = "$n" ] && pass "$name" ||
		fail "$name" "$ok of $n correct; statuses: $(cat "$E2E_TMP"/par.*.code | sort | uniq -c | tr '\n' ' ')"
}

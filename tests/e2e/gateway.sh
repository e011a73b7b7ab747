#!/usr/bin/env bash
# End-to-end behaviour of the gateway (`mote serve`, docs/functions.md) with a test double of mote-vmm
# (tests/tools/fakevmm.c: speaks the control channel and the invoke region, plays the runtime, no KVM):
# deploy/invoke/ls/logs/rm, request fields intact, limits (413, 503 + Retry-After, queue wait), faults
# (502 crash / garbage / wrong sequence, 504 timeout and kill), refused bundles with the previous version
# still serving, redeploy under load with no failed request, 64 concurrent clients, malformed HTTP and slow
# or vanishing clients, idle VMs ending, restart after SIGKILL with nothing lost and no VM left, clean stop.
# tests/e2e/functions.sh does the same with real VMs and runtimes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/gateway.sh"
GATEWAY=$E2E_BUILD/asan/mote-gateway
FAKEVMM=$E2E_BUILD/tests/tools/fakevmm
need_built "$MOTE" "$GATEWAY" "$FAKEVMM"
command -v curl >/dev/null || {
	skip gateway "curl is not installed"
	exit 0
}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# The fake tools the gateway hashes into base identities: any files will do.
mkdir -p "$E2E_TMP/rt"
echo "fake kernel" >"$E2E_TMP/kernel"
echo "fake lua runtime" >"$E2E_TMP/rt/mote-lua"
echo "fake c runtime" >"$E2E_TMP/rt/mote-c-init"

# ---- bundles ----
mkbundle() { # DIR FILE=CONTENT...
	local d=$E2E_TMP/$1 kv
	shift
	mkdir -p "$d"
	echo 'function handle(req) return "hello" end' >"$d/handler.lua"
	for kv in "$@"; do printf '%s\n' "${kv#*=}" >"$d/${kv%%=*}"; done
}
mkbundle lua1 version="version 1"
mkbundle lua2 version="version 2"
mkbundle lua3 version="version 3"
mkbundle initerr "fake.conf=init error handler.lua:3: syntax error near 'end'"
mkbundle initcrash "fake.conf=init crash"
mkbundle refuse refuse-attach=yes
mkdir -p "$E2E_TMP/nohandler" && echo data >"$E2E_TMP/nohandler/data.txt"
echo "not an ELF at all" >"$E2E_TMP/notelf"
mkdir -p "$E2E_TMP/big" && head -c $((2 << 20)) /dev/urandom >"$E2E_TMP/big/blob" && cp "$E2E_TMP/lua1/handler.lua" "$E2E_TMP/big/"

STATE=$E2E_TMP/state
GW_FLAGS=(--vmm "$FAKEVMM" --kernel "$E2E_TMP/kernel" --runtimes "$E2E_TMP/rt")
start_gw g1 "$STATE" || e2e_finish
G1=$GW_PID
[ "$(stat -c %a "$SOCK")" = 600 ] && [ "$(stat -c %a "$STATE")" = 700 ] && pass admin-socket-private ||
	fail admin-socket-private "admin.sock mode $(stat -c %a "$SOCK"), state dir $(stat -c %a "$STATE")"

# ---- deploy, ls, invoke ----
mote_cli deploy-lua deploy hello "$E2E_TMP/lua1"
expect_status deploy-lua 0 && out_has '^deployed hello version 1 \(lua' && pass deploy-lua ||
	fail deploy-lua "unexpected output: $(cat "$OUT")"
mote_cli ls ls
expect_status ls 0 && out_has '^hello +lua +1 ' && out_has 'warm' && pass ls-shows-warm ||
	fail ls-shows-warm "$(cat "$OUT")"

http get -H 'X-Custom: abc' '/fn/hello/some/path?x=1&y=%20z'
if [ "$HTTP_CODE" = 200 ] && [ "$(head_value get x-method)" = GET ] && [ "$(head_value get x-path)" = /some/path ] &&
	[ "$(head_value get x-query)" = 'x=1&y=%20z' ] && [ "$(head_value get x-echo-x-custom)" = abc ] &&
	[ "$(head_value get x-echo-host)" = "127.0.0.1:$PORT" ]; then
	pass public-get-fields
else
	fail public-get-fields "status $HTTP_CODE, head: $(tr '\r\n' '  ' <"$E2E_TMP/get.head")"
fi
http noroot /fn/hello
[ "$HTTP_CODE" = 200 ] && [ "$(head_value noroot x-path)" = / ] && [ "$(head_value noroot x-query)" = "" ] &&
	pass path-defaults-to-slash || fail path-defaults-to-slash "status $HTTP_CODE path '$(head_value noroot x-path)'"

# Binary bodies: every byte value, then random bytes.
for ((i = 0; i < 256; i++)); do printf "\\$(printf %03o $i)"; done >"$E2E_TMP/allbytes"
head -c 300000 /dev/urandom >>"$E2E_TMP/allbytes"
http binary -X POST --data-binary "@$E2E_TMP/allbytes" /fn/hello/echo
[ "$HTTP_CODE" = 200 ] && cmp -s "$E2E_TMP/allbytes" "$E2E_TMP/binary.body" && pass binary-body ||
	fail binary-body "status $HTTP_CODE; $(diff_summary "$E2E_TMP/allbytes" "$E2E_TMP/binary.body")"

# Many headers (h2o takes up to 100): each reaches the function with its value.
hargs=()
for ((i = 0; i < 90; i++)); do hargs+=(-H "X-Many-$i: value-$i-$((i * 7))"); done
http many "${hargs[@]}" /fn/hello/many
ok=1
for ((i = 0; i < 90; i++)); do
	[ "$(head_value many "x-echo-x-many-$i")" = "value-$i-$((i * 7))" ] || ok=0
done
[ "$HTTP_CODE" = 200 ] && [ "$ok" = 1 ] && pass many-headers || fail many-headers "status $HTTP_CODE, a header was lost or changed"

# Bodies at the limit (6 MiB) pass intact; one byte more is 413.
head -c $((6 << 20)) /dev/urandom >"$E2E_TMP/limit"
http limit -X PUT --data-binary "@$E2E_TMP/limit" -H 'Expect:' /fn/hello/limit
[ "$HTTP_CODE" = 200 ] && cmp -s "$E2E_TMP/limit" "$E2E_TMP/limit.body" && pass body-at-limit ||
	fail body-at-limit "status $HTTP_CODE; $(diff_summary "$E2E_TMP/limit" "$E2E_TMP/limit.body")"
# One byte more is 413. The client waits for the answer before it sends the body (Expect: 100-continue, as
# curl does for large bodies): without it, the gateway's 413 and close can race the client's upload into a
# reset that hides the answer (the 413 itself is then checked with a body that is all sent at once).
head -c 1 /dev/zero >>"$E2E_TMP/limit"
http over -X PUT --data-binary "@$E2E_TMP/limit" -H 'Expect: 100-continue' /fn/hello/limit
[ "$HTTP_CODE" = 413 ] && pass body-over-limit-413 || fail body-over-limit-413 "status $HTTP_CODE"
http over-cl -X PUT --data-binary 'short' -H 'Expect:' -H "Content-Length: $(((6 << 20) + 1))" --max-time 10 /fn/hello/limit
[ "$HTTP_CODE" = 413 ] && pass body-over-limit-413-by-content-length || fail body-over-limit-413-by-content-length "status $HTTP_CODE"

# mote invoke: the same route through the admin socket.
head -c 5000 /dev/urandom >"$E2E_TMP/inv.in"
mote_cli invoke invoke hello --data "@$E2E_TMP/inv.in" --path '/p?q=1' --header 'X-A: b'
expect_status invoke 0 && cmp -s "$E2E_TMP/inv.in" "$OUT" && pass invoke-cli || fail invoke-cli "output differs"
mote_cli invoke-404 invoke hello --path '/status?code=404'
expect_status invoke-404 83 && err_has 'HTTP 404' && pass invoke-non-2xx-83 || fail invoke-non-2xx-83 "wrong status or line"
mote_cli invoke-nofn invoke nosuch
expect_one_error invoke-no-function-81 81 "" "no function 'nosuch'"

# Unknown function and other paths: 404.
http nofn /fn/nosuch/x
[ "$HTTP_CODE" = 404 ] && head_has nofn 'x-mote-error: no_function' && pass unknown-function-404 ||
	fail unknown-function-404 "status $HTTP_CODE"
http other /other
[ "$HTTP_CODE" = 404 ] && pass other-path-404 || fail other-path-404 "status $HTTP_CODE"

# ---- logs ----
http log '/fn/hello/log?text=marker-4711'
mote_cli logs logs hello
expect_status logs 0 && out_has '^marker-4711$' && out_has 'deployed hello version 1' &&
	out_has 'VM pid [0-9]+ ready in [0-9.]+ ms \(restore [0-9.]+, attach [0-9.]+, load [0-9.]+\): fake 1' && pass logs ||
	fail logs "marker not in the log: $(head -c 300 "$OUT")"

# ---- faults: each its status, the next request served by a fresh VM ----
http crash /fn/hello/crash
[ "$HTTP_CODE" = 502 ] && head_has crash 'x-mote-error: crashed' && pass crash-502 || fail crash-502 "status $HTTP_CODE"
mote_cli logs-crash logs hello
out_has 'guest crashed: fake crash' && out_has 'died during request' && pass crash-reason-in-log ||
	fail crash-reason-in-log "$(tail -n 5 "$OUT")"
http after-crash /fn/hello/fine
[ "$HTTP_CODE" = 200 ] && pass after-crash-fresh-vm || fail after-crash-fresh-vm "status $HTTP_CODE"
for f in garbage wrongseq exit; do
	http "$f" "/fn/hello/$f"
	[ "$HTTP_CODE" = 502 ] && pass "$f-502" || fail "$f-502" "status $HTTP_CODE"
done
mote_cli deploy-slow deploy slow "$E2E_TMP/lua1" --timeout 0.5 --max-vms 1
expect_status deploy-slow 0 && pass deploy-with-timeout
t0=$(date +%s%N)
http timeout '/fn/slow/sleep?ms=5000'
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$HTTP_CODE" = 504 ] && [ "$ms" -lt 3000 ] && pass timeout-504 || fail timeout-504 "status $HTTP_CODE after $ms ms"
http after-timeout '/fn/slow/sleep?ms=10'
[ "$HTTP_CODE" = 200 ] && pass after-timeout-fresh-vm || fail after-timeout-fresh-vm "status $HTTP_CODE"
mote_cli logs-slow logs slow
out_has 'timed out after 500 ms' && pass timeout-in-log || fail timeout-in-log "$(tail -n 3 "$OUT")"
http other-fn-fine /fn/hello/still
[ "$HTTP_CODE" = 200 ] && pass other-function-unaffected || fail other-function-unaffected "status $HTTP_CODE"

# ---- bad bundles: one line, a distinct status, the previous version serving ----
mote_cli bad-notelf deploy cfn "$E2E_TMP/notelf" --runtime c
expect_one_error refuse-not-elf-65 65 "" "not a static x86-64 ELF"
mote_cli bad-dynamic deploy cfn /bin/true
expect_one_error refuse-dynamic-68 68 "" "dynamically linked"
mote_cli bad-nohandler deploy cfn "$E2E_TMP/nohandler"
expect_one_error refuse-no-handler-66 66 "" "neither handler"
mote_cli bad-initerr deploy hello "$E2E_TMP/initerr"
expect_one_error refuse-init-error-82 82 "" "syntax error near 'end'"
mote_cli bad-initcrash deploy hello "$E2E_TMP/initcrash"
expect_one_error refuse-init-crash-82 82 "" "ended while loading"
mote_cli bad-refused deploy hello "$E2E_TMP/refuse"
expect_one_error refuse-attach-refused-82 82 "" "attach refused \(status 91\): fake refusal"
mote_cli bad-name deploy 'bad.name' "$E2E_TMP/lua1"
expect_one_error refuse-bad-name-64 64 "" "not a function name"
http prev '/fn/hello/file?name=version'
[ "$HTTP_CODE" = 200 ] && [ "$(cat "$E2E_TMP/prev.body")" = "version 1" ] && pass previous-version-still-serving ||
	fail previous-version-still-serving "status $HTTP_CODE body $(head -c 50 "$E2E_TMP/prev.body")"
mote_cli ls-after-refusals ls
out_has '^hello +lua +1 ' && ! out_has '^cfn' && pass refusals-change-nothing || fail refusals-change-nothing "$(cat "$OUT")"
n=$(find "$STATE/bundles" -type f | wc -l)
[ "$n" = 1 ] && pass refused-bundles-not-kept || fail refused-bundles-not-kept "$n files in bundles/"

# ---- C runtime, env ----
mote_cli deploy-c deploy cfn /bin/busybox
expect_status deploy-c 0 && out_has '\(c, bundle' && pass deploy-c-static-elf || fail deploy-c-static-elf "$(cat "$OUT")"
http cfn /fn/cfn/x
[ "$HTTP_CODE" = 200 ] && pass invoke-c || fail invoke-c "status $HTTP_CODE"
mote_cli deploy-env deploy envfn "$E2E_TMP/lua1" --env A=1 --env 'B=two words' --env 'C=x&y=%z'
http env '/fn/envfn/file?name=.mote/environ'
printf 'A=1\0B=two words\0C=x&y=%%z\0' >"$E2E_TMP/env.want"
[ "$HTTP_CODE" = 200 ] && cmp -s "$E2E_TMP/env.want" "$E2E_TMP/env.body" && pass env-in-bundle ||
	fail env-in-bundle "status $HTTP_CODE body $(tr '\0' '|' <"$E2E_TMP/env.body" | head -c 100)"

# ---- redeploy during load: no request fails, each sees one whole version ----
load() { # TAG N
	local i out
	for ((i = 0; i < $2; i++)); do
		out=$(curl -s --max-time 20 -w ' %{http_code}' "http://127.0.0.1:$PORT/fn/hello/file?name=version")
		echo "${out//$'\n'/}"
	done >"$E2E_TMP/load.$1"
}
BG=""
for w in 1 2 3 4; do
	load "$w" 60 &
	BG="$BG $!"
done
sleep 0.3
mote_cli redeploy-2 deploy hello "$E2E_TMP/lua2"
mote_cli redeploy-3 deploy hello "$E2E_TMP/lua3"
expect_status redeploy-3 0 && out_has 'redeployed hello version 3' && pass redeploy-versions ||
	fail redeploy-versions "$(cat "$OUT")"
# shellcheck disable=SC2086
wait $BG
BG=""
total=$(cat "$E2E_TMP"/load.* | wc -l)
good=$(cat "$E2E_TMP"/load.* | grep -cE '^version [123] 200$')
[ "$total" = 240 ] && [ "$good" = 240 ] && pass redeploy-under-load-no-failure ||
	fail redeploy-under-load-no-failure "$good of $total good: $(cat "$E2E_TMP"/load.* | grep -vE '^version [123] 200$' | head -3)"
http v3 '/fn/hello/file?name=version'
[ "$(cat "$E2E_TMP/v3.body")" = "version 3" ] && pass redeploy-new-requests-new-version ||
	fail redeploy-new-requests-new-version "body $(cat "$E2E_TMP/v3.body")"

# ---- 64 concurrent clients, every answer its own ----
BG=""
for ((i = 0; i < 64; i++)); do
	curl -s --max-time 30 -o "$E2E_TMP/par.$i" --data-binary "request-$i-$RANDOM$RANDOM" -w '%{http_code}' \
		"http://127.0.0.1:$PORT/fn/hello/par" >"$E2E_TMP/par.$i.code" &
	BG="$BG $!"
	echo "request-$i" >"$E2E_TMP/par.$i.want"
done
# shellcheck disable=SC2086
wait $BG
BG=""
ok=0
for ((i = 0; i < 64; i++)); do
	[ "$(cat "$E2E_TMP/par.$i.code")" = 200 ] && grep -q "^request-$i-" "$E2E_TMP/par.$i" && ok=$((ok + 1))
done
[ "$ok" = 64 ] && pass concurrent-64-all-correct || fail concurrent-64-all-correct "$ok of 64 correct"
[ "$(vms_of "$STATE")" -le 12 ] && pass vms-bounded-by-max-vms || fail vms-bounded-by-max-vms "$(vms_of "$STATE") VMs"

# ---- malformed HTTP, slow and vanishing clients never stall the others ----
exec 7<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GET /fn/hello/slow HTTP/1.1\r\nHost: x\r\nX-Slow: ' >&7 # a client that stops mid-header
exec 8<>"/dev/tcp/127.0.0.1/$PORT"
printf 'BLAH\x01\x02 /\r\n\r\n' >&8
reply=$(timeout 5 head -c 12 <&8)
[ "$reply" = "HTTP/1.1 400" ] && pass malformed-request-400 || fail malformed-request-400 "got '$reply'"
curl -s --max-time 0.3 -o /dev/null "http://127.0.0.1:$PORT/fn/hello/sleep?ms=1500" # gives up mid-request
t0=$(date +%s%N)
http during-slow /fn/hello/ok
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$HTTP_CODE" = 200 ] && [ "$ms" -lt 2000 ] && pass others-not-stalled || fail others-not-stalled "status $HTTP_CODE after $ms ms"
exec 7>&- 8>&-
sleep 1.5
http after-vanish /fn/hello/ok
[ "$HTTP_CODE" = 200 ] && pass after-vanished-client || fail after-vanished-client "status $HTTP_CODE"

# ---- restart after SIGKILL: every function still there, no VM left ----
before=$(vms_of "$STATE")
stop_gw "$G1" KILL
for ((i = 0; i < 50; i++)); do
	[ "$(vms_of "$STATE")" = 0 ] && break
	sleep 0.1
done
[ "$before" -gt 0 ] && [ "$(vms_of "$STATE")" = 0 ] && pass vms-die-with-gateway ||
	fail vms-die-with-gateway "$before VMs before, $(vms_of "$STATE") after SIGKILL"
touch "$STATE/bundles/.tmp-leftover" "$STATE/bundles/0000deadbeef"
start_gw g1b "$STATE" || e2e_finish
G1=$GW_PID
mote_cli ls-restart ls
expect_status ls-restart 0 && out_has '^hello +lua +3 ' && out_has '^slow ' && out_has '^cfn +c ' && out_has '^envfn ' &&
	pass restart-keeps-functions || fail restart-keeps-functions "$(cat "$OUT")"
http after-restart '/fn/hello/file?name=version'
[ "$HTTP_CODE" = 200 ] && [ "$(cat "$E2E_TMP/after-restart.body")" = "version 3" ] && pass restart-serves ||
	fail restart-serves "status $HTTP_CODE"
[ ! -e "$STATE/bundles/.tmp-leftover" ] && [ ! -e "$STATE/bundles/0000deadbeef" ] && pass restart-removes-leftovers ||
	fail restart-removes-leftovers "temporary or unreferenced files kept"
run lock "$MOTE" serve --listen 127.0.0.1:0 --state "$STATE" --vmm "$FAKEVMM"
expect_one_error state-dir-locked 72 "$STATE" "in use by another mote serve"

# ---- rm ----
mote_cli rm rm hello
expect_status rm 0 && out_has '^removed hello' && pass rm
http after-rm /fn/hello/x
[ "$HTTP_CODE" = 404 ] && pass rm-then-404 || fail rm-then-404 "status $HTTP_CODE"
mote_cli logs-rm logs hello
expect_one_error logs-after-rm-81 81 "" "no function 'hello'"
mote_cli rm-again rm hello
expect_one_error rm-unknown-81 81 "" "no function 'hello'"
run noserver env MOTE_SERVER="$E2E_TMP/nothing.sock" "$MOTE" ls
expect_one_error no-server-80 80 "$E2E_TMP/nothing.sock" "cannot reach the server"

# ---- a second gateway with small limits: bundle size, queue, queue wait, idle VMs ----
S2=$E2E_TMP/state2
start_gw g2 "$S2" --bundle-max 1M --queue 2 --queue-wait 1 --idle 1 || e2e_finish
G2=$GW_PID
mote_cli too-big deploy big "$E2E_TMP/big"
expect_one_error refuse-too-big-70 70 "" "larger than the server accepts"
mote_cli deploy-q deploy q "$E2E_TMP/lua1" --max-vms 1
BG=""
for ((i = 0; i < 6; i++)); do
	curl -s --max-time 20 -o /dev/null -D "$E2E_TMP/q.$i.head" -w '%{http_code}' \
		"http://127.0.0.1:$PORT/fn/q/sleep?ms=700" >"$E2E_TMP/q.$i.code" &
	BG="$BG $!"
done
# shellcheck disable=SC2086
wait $BG
BG=""
n503=0 n200=0 retry=0
for ((i = 0; i < 6; i++)); do
	case $(cat "$E2E_TMP/q.$i.code") in
	503) n503=$((n503 + 1)) && grep -qi '^retry-after: 1' "$E2E_TMP/q.$i.head" && retry=$((retry + 1)) ;;
	200) n200=$((n200 + 1)) ;;
	esac
done
[ "$n503" -ge 1 ] && [ "$retry" = "$n503" ] && [ $((n503 + n200)) = 6 ] && [ "$n200" -ge 2 ] &&
	pass queue-full-503-retry-after || fail queue-full-503-retry-after "$n200 ok, $n503 busy ($retry with Retry-After)"
curl -s --max-time 20 -o /dev/null "http://127.0.0.1:$PORT/fn/q/sleep?ms=2500" &
BG=$!
sleep 0.3
http qwait /fn/q/x
wait $BG
BG=""
[ "$HTTP_CODE" = 503 ] && head_has qwait 'x-mote-error: busy' && pass queue-wait-503 || fail queue-wait-503 "status $HTTP_CODE"
for ((i = 0; i < 40; i++)); do
	[ "$(vms_of "$S2")" = 0 ] && break
	sleep 0.1
done
[ "$(vms_of "$S2")" = 0 ] && pass idle-vms-end || fail idle-vms-end "$(vms_of "$S2") VMs still alive after the idle timeout"
http cold-again /fn/q/x
[ "$HTTP_CODE" = 200 ] && pass cold-start-after-idle || fail cold-start-after-idle "status $HTTP_CODE"

# ---- --idle 0: a VM serves one request (every request a cold start); by default VMs are reused ----
pids_of() { # TAG-PREFIX: the distinct VMs (x-vm: x-pid is 2 in every jail) of 3 sequential requests
	local i
	for i in 1 2 3; do
		http "$1.$i" /fn/q/x
		head_value "$1.$i" x-vm
	done | sort -u | wc -l
}
[ "$(pids_of reuse)" = 1 ] && pass warm-vm-reused || fail warm-vm-reused "3 requests did not share one VM"
stop_gw "$G2" TERM
start_gw g2b "$S2" --idle 0 || e2e_finish
G2=$GW_PID
[ "$(pids_of idle0)" = 3 ] && pass idle-0-one-request-per-vm || fail idle-0-one-request-per-vm "VMs were reused"

# ---- a runtime that is not installed; bad flags of mote serve ----
mkdir -p "$E2E_TMP/rt-empty"
S3=$E2E_TMP/state3
start_gw g3 "$S3" --runtimes "$E2E_TMP/rt-empty" || e2e_finish
G3=$GW_PID
mote_cli no-runtime deploy nort "$E2E_TMP/lua1"
expect_one_error no-runtime-84 84 "$E2E_TMP/rt-empty/mote-lua" "not installed"
stop_gw "$G3" TERM
for bad in "--listen nonsense" "--listen 127.0.0.1:99999" "--queue many" "--idle -1" "--body-max 100M" "--bogus" "extra"; do
	# shellcheck disable=SC2086
	run "serve-flags" "$MOTE" serve --state "$E2E_TMP/state4" $bad
	expect_one_error "serve-bad-flag-64 ($bad)" 64 "" "serve|listen"
done

# ---- clean stop: status 0, no VM, no socket, no sanitizer report ----
for g in "$G1:$STATE:g1b" "$G2:$S2:g2b"; do
	IFS=: read -r p s tag <<<"$g"
	stop_gw "$p" TERM
	if [ "$GW_STATUS" = 0 ] && [ "$(vms_of "$s")" = 0 ] && [ ! -e "$s/admin.sock" ] &&
		! grep -qE 'Sanitizer|runtime error' "$E2E_TMP/$tag.gw.err"; then
		pass "clean-stop-$tag"
	else
		fail "clean-stop-$tag" "status $GW_STATUS, $(vms_of "$s") VMs; $(grep -m3 -E 'ERROR|runtime error' "$E2E_TMP/$tag.gw.err")"
	fi
done
grep -qE 'Sanitizer|runtime error' "$E2E_TMP/g1.gw.err" && fail g1-sanitizer "$(grep -m3 -E 'ERROR|runtime error' "$E2E_TMP/g1.gw.err")"
e2e_finish

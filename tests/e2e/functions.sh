#!/usr/bin/env bash
# End-to-end behaviour of the function platform with real VMs and the real runtimes (docs/functions.md):
# `mote serve` on a free loopback port with a temporary state dir, functions in Lua and C
# (tests/fn/gw_echo.*, examples/hello-*), real curl: deploy/invoke/ls/logs/rm for both runtimes;
# request fields intact (binary bodies, many headers, bodies at the limit); 404, 413, 500 (Lua error),
# 502 (VM crash), 504 (timeout, VM killed); bad bundles refused with one line and a distinct status while
# the previous version keeps serving (not ELF, dynamic ELF, Lua syntax error, no handle(), no handler,
# too big); redeploy during load with no failed request; 64 concurrent clients; restart after SIGKILL with
# every function still there and no VM process left. (tests/e2e/gateway.sh covers the gateway's own
# logic in more depth against a test double of mote-vmm.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/gateway.sh"
need_kvm functions
GATEWAY=$E2E_BUILD/asan/mote-gateway
RUNTIMES=$E2E_BUILD/runtimes
ECHO_C=$E2E_BUILD/tests/fn/gw_echo/handler
HELLO_C=$E2E_BUILD/examples/hello-c/handler
need_built "$MOTE" "$GATEWAY" "$MOTE_VMM" "$MOTE_KERNEL" "$RUNTIMES/mote-lua" "$RUNTIMES/mote-c-init" "$ECHO_C" \
	"$HELLO_C"
command -v curl >/dev/null || {
	skip functions "curl is not installed"
	exit 0
}
FUNCS=$E2E_ROOT/tests/fn
EXAMPLES=$E2E_ROOT/examples

# Bundles: the echo functions with a version file (and, for C, a data file).
mkfn() { # NAME RUNTIME VERSION
	local d=$E2E_TMP/$1
	mkdir -p "$d"
	if [ "$2" = lua ]; then cp "$FUNCS/gw_echo.lua" "$d/handler.lua"; else cp "$ECHO_C" "$d/handler"; fi
	printf '%s' "$3" >"$d/version"
}
mkfn lua1 lua "version 1"
mkfn lua2 lua "version 2"
mkfn lua3 lua "version 3"
mkfn c1 c "c version 1"
mkdir -p "$E2E_TMP/syntax" "$E2E_TMP/nohandle" "$E2E_TMP/nohandler" "$E2E_TMP/big"
printf 'function handle(req)\n  return "x"\nend end\n' >"$E2E_TMP/syntax/handler.lua"
printf 'local x = 1\n' >"$E2E_TMP/nohandle/handler.lua"
echo data >"$E2E_TMP/nohandler/data.txt"
echo "not an ELF" >"$E2E_TMP/notelf"
cp "$FUNCS/gw_echo.lua" "$E2E_TMP/big/handler.lua" && head -c $((2 << 20)) /dev/urandom >"$E2E_TMP/big/blob"

STATE=$E2E_TMP/state
# A generous --queue-wait: the 64 concurrent clients test correctness, not speed, on a loaded machine.
start_gw g1 "$STATE" --queue-wait 60 || e2e_finish
G1=$GW_PID

# ---- deploy both runtimes, ls, invoke ----
mote_cli deploy-lua deploy el "$E2E_TMP/lua1"
expect_status deploy-lua 0 && out_has '^deployed el version 1 \(lua' && pass deploy-lua || fail deploy-lua "$(cat "$OUT")"
mote_cli deploy-c deploy ec "$E2E_TMP/c1"
expect_status deploy-c 0 && out_has '^deployed ec version 1 \(c' && pass deploy-c || fail deploy-c "$(cat "$OUT")"
mote_cli deploy-hello-lua deploy hello-lua "$EXAMPLES/hello-lua/handler.lua"
mote_cli deploy-hello-c deploy hello-c "$HELLO_C"
expect_status deploy-hello-c 0 && pass deploy-examples
http hl '/fn/hello-lua/x?name=me'
[ "$HTTP_CODE" = 200 ] && grep -q 'Lua' "$E2E_TMP/hl.body" && pass example-hello-lua ||
	fail example-hello-lua "status $HTTP_CODE: $(head -c 100 "$E2E_TMP/hl.body")"
http hc '/fn/hello-c/x?name=me'
[ "$HTTP_CODE" = 200 ] && grep -q ' C ' "$E2E_TMP/hc.body" && pass example-hello-c ||
	fail example-hello-c "status $HTTP_CODE: $(head -c 100 "$E2E_TMP/hc.body")"
mote_cli ls ls
expect_status ls 0 && out_has '^el +lua +1 ' && out_has '^ec +c +1 ' && out_has '^hello-c ' && pass ls ||
	fail ls "$(cat "$OUT")"

for f in el ec; do
	http "$f-get" -H 'X-Custom: abc def' "/fn/$f/some/path?x=1&y=%20z"
	if [ "$HTTP_CODE" = 200 ] && [ "$(head_value "$f-get" x-method)" = GET ] &&
		[ "$(head_value "$f-get" x-path)" = /some/path ] && [ "$(head_value "$f-get" x-query)" = 'x=1&y=%20z' ] &&
		[ "$(head_value "$f-get" x-echo-x-custom)" = 'abc def' ] &&
		[ "$(head_value "$f-get" x-echo-host)" = "127.0.0.1:$PORT" ]; then
		pass "$f-request-fields"
	else
		fail "$f-request-fields" "status $HTTP_CODE: $(tr '\r\n' '  ' <"$E2E_TMP/$f-get.head" | head -c 600)"
	fi
done

# Binary bodies, many headers, a body at the limit, one beyond it.
for ((i = 0; i < 256; i++)); do printf "\\$(printf %03o $i)"; done >"$E2E_TMP/allbytes"
head -c 200000 /dev/urandom >>"$E2E_TMP/allbytes"
head -c $((6 << 20)) /dev/urandom >"$E2E_TMP/limit"
cp "$E2E_TMP/limit" "$E2E_TMP/over" && head -c 1 /dev/zero >>"$E2E_TMP/over"
hargs=()
for ((i = 0; i < 90; i++)); do hargs+=(-H "X-Many-$i: value-$i-$((i * 7))"); done
for f in el ec; do
	http "$f-bin" -X POST --data-binary "@$E2E_TMP/allbytes" "/fn/$f/echo"
	[ "$HTTP_CODE" = 200 ] && cmp -s "$E2E_TMP/allbytes" "$E2E_TMP/$f-bin.body" && pass "$f-binary-body" ||
		fail "$f-binary-body" "status $HTTP_CODE; $(diff_summary "$E2E_TMP/allbytes" "$E2E_TMP/$f-bin.body")"
	http "$f-many" "${hargs[@]}" "/fn/$f/many"
	ok=1
	for ((i = 0; i < 90; i++)); do
		[ "$(head_value "$f-many" "x-echo-x-many-$i")" = "value-$i-$((i * 7))" ] || ok=0
	done
	[ "$HTTP_CODE" = 200 ] && [ "$ok" = 1 ] && pass "$f-many-headers" || fail "$f-many-headers" "status $HTTP_CODE"
	http "$f-limit" -X PUT --data-binary "@$E2E_TMP/limit" -H 'Expect:' "/fn/$f/limit"
	[ "$HTTP_CODE" = 200 ] && cmp -s "$E2E_TMP/limit" "$E2E_TMP/$f-limit.body" && pass "$f-body-at-limit" ||
		fail "$f-body-at-limit" "status $HTTP_CODE; $(diff_summary "$E2E_TMP/limit" "$E2E_TMP/$f-limit.body")"
	http "$f-over" -X PUT --data-binary "@$E2E_TMP/over" -H 'Expect:' "/fn/$f/limit"
	[ "$HTTP_CODE" = 413 ] && pass "$f-body-over-limit-413" || fail "$f-body-over-limit-413" "status $HTTP_CODE"
	mote_cli "$f-invoke" invoke "$f" --data "@$E2E_TMP/allbytes" --path '/p?q=1'
	expect_status "$f-invoke" 0 && cmp -s "$E2E_TMP/allbytes" "$OUT" && pass "$f-invoke-cli" ||
		fail "$f-invoke-cli" "output differs"
done
http nofn /fn/nosuch/x
[ "$HTTP_CODE" = 404 ] && pass unknown-function-404 || fail unknown-function-404 "status $HTTP_CODE"

# ---- logs and errors in user code ----
for f in el ec; do
	http "$f-log" "/fn/$f/log?text=marker-$f-4711"
	mote_cli "$f-logs" logs "$f"
	expect_status "$f-logs" 0 && out_has "^marker-$f-4711\$" && pass "$f-logs" ||
		fail "$f-logs" "marker not in the log: $(tail -n 5 "$OUT")"
done
http el-error /fn/el/error
[ "$HTTP_CODE" = 500 ] && pass lua-error-500 || fail lua-error-500 "status $HTTP_CODE"
mote_cli el-logs-error logs el
out_has 'failing on purpose' && pass lua-error-in-log || fail lua-error-in-log "$(tail -n 5 "$OUT")"
http el-after-error /fn/el/x
[ "$HTTP_CODE" = 200 ] && pass lua-serves-after-error || fail lua-serves-after-error "status $HTTP_CODE"

# ---- faults: 502 crash, 504 timeout; a fresh VM next; others unaffected ----
http crash /fn/ec/crash
[ "$HTTP_CODE" = 502 ] && pass c-crash-502 || fail c-crash-502 "status $HTTP_CODE"
mote_cli logs-crash logs ec
out_has 'mote-vmm: .*crash' && out_has 'died during request' && pass crash-reason-in-log ||
	fail crash-reason-in-log "$(tail -n 6 "$OUT")"
http after-crash /fn/ec/x
[ "$HTTP_CODE" = 200 ] && pass after-crash-fresh-vm || fail after-crash-fresh-vm "status $HTTP_CODE"
mote_cli deploy-spin-lua deploy spin-lua "$E2E_TMP/lua1" --timeout 1
mote_cli deploy-spin-c deploy spin-c "$E2E_TMP/c1" --timeout 1
for f in spin-lua spin-c; do
	t0=$(date +%s%N)
	http "$f" "/fn/$f/spin"
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$HTTP_CODE" = 504 ] && [ "$ms" -lt 4000 ] && pass "$f-timeout-504" || fail "$f-timeout-504" "status $HTTP_CODE after $ms ms"
	http "$f-after" "/fn/$f/x"
	[ "$HTTP_CODE" = 200 ] && pass "$f-after-timeout" || fail "$f-after-timeout" "status $HTTP_CODE"
done
http el-unaffected /fn/el/x
[ "$HTTP_CODE" = 200 ] && pass other-functions-unaffected || fail other-functions-unaffected "status $HTTP_CODE"

# ---- bad bundles: one line, a distinct status, the previous version serving ----
mote_cli bad-notelf deploy ec "$E2E_TMP/notelf" --runtime c
expect_one_error refuse-not-elf-65 65 "" "not a static x86-64 ELF"
mote_cli bad-dynamic deploy ec /bin/true
expect_one_error refuse-dynamic-68 68 "" "dynamically linked"
mote_cli bad-syntax deploy el "$E2E_TMP/syntax"
expect_one_error refuse-lua-syntax-82 82 "" "handler.lua:3:"
mote_cli bad-nohandle deploy el "$E2E_TMP/nohandle"
expect_one_error refuse-no-handle-82 82 "" "no function handle"
mote_cli bad-nohandler deploy el "$E2E_TMP/nohandler"
expect_one_error refuse-no-handler-66 66 "" "neither handler"
for f in el:"version 1" ec:"c version 1"; do
	http prev "/fn/${f%%:*}/file?name=version"
	[ "$HTTP_CODE" = 200 ] && [ "$(cat "$E2E_TMP/prev.body")" = "${f#*:}" ] && pass "${f%%:*}-previous-version-serves" ||
		fail "${f%%:*}-previous-version-serves" "status $HTTP_CODE: $(head -c 80 "$E2E_TMP/prev.body")"
done

# ---- the environment ----
mote_cli deploy-env-lua deploy env-lua "$E2E_TMP/lua1" --env GREETING='hi there' --env OTHER=1
mote_cli deploy-env-c deploy env-c "$E2E_TMP/c1" --env GREETING='hi there'
for f in env-lua env-c; do
	http "$f" "/fn/$f/env?name=GREETING"
	[ "$HTTP_CODE" = 200 ] && [ "$(cat "$E2E_TMP/$f.body")" = "hi there" ] && pass "$f" ||
		fail "$f" "status $HTTP_CODE: $(head -c 80 "$E2E_TMP/$f.body")"
done

# ---- redeploy during load: no request fails ----
load() { # TAG N
	local i out
	for ((i = 0; i < $2; i++)); do
		out=$(curl -s --max-time 20 -w ' %{http_code}' "http://127.0.0.1:$PORT/fn/el/file?name=version")
		echo "${out//$'\n'/}"
	done >"$E2E_TMP/load.$1"
}
BG=""
for w in 1 2 3 4; do
	load "$w" 50 &
	BG="$BG $!"
done
sleep 0.3
mote_cli redeploy-2 deploy el "$E2E_TMP/lua2"
mote_cli redeploy-3 deploy el "$E2E_TMP/lua3"
expect_status redeploy-3 0 && out_has 'redeployed el version 3' && pass redeploy || fail redeploy "$(cat "$OUT")"
# shellcheck disable=SC2086
wait $BG
BG=""
total=$(cat "$E2E_TMP"/load.* | wc -l)
good=$(cat "$E2E_TMP"/load.* | grep -cE '^version [123] 200$')
[ "$total" = 200 ] && [ "$good" = 200 ] && pass redeploy-under-load-no-failure ||
	fail redeploy-under-load-no-failure "$good of $total good: $(cat "$E2E_TMP"/load.* | grep -vE '^version [123] 200$' | head -3)"
http v3 '/fn/el/file?name=version'
[ "$(cat "$E2E_TMP/v3.body")" = "version 3" ] && pass redeploy-new-version-serves || fail redeploy-new-version-serves "$(cat "$E2E_TMP/v3.body")"

# ---- 64 concurrent clients ----
concurrent_clients concurrent-64-all-correct 64 /fn/el/par /fn/ec/par

# ---- restart after SIGKILL ----
before=$(vms_of "$STATE")
stop_gw "$G1" KILL
for ((i = 0; i < 50; i++)); do
	[ "$(vms_of "$STATE")" = 0 ] && break
	sleep 0.1
done
[ "$before" -gt 0 ] && [ "$(vms_of "$STATE")" = 0 ] && pass vms-die-with-gateway ||
	fail vms-die-with-gateway "$before VMs before, $(vms_of "$STATE") after SIGKILL"
start_gw g1b "$STATE" || e2e_finish
G1=$GW_PID
mote_cli ls-restart ls
expect_status ls-restart 0 && out_has '^el +lua +3 ' && out_has '^ec +c +1 ' && out_has '^env-c ' &&
	pass restart-keeps-functions || fail restart-keeps-functions "$(cat "$OUT")"
for f in el:"version 3" ec:"c version 1"; do
	http restarted "/fn/${f%%:*}/file?name=version"
	[ "$HTTP_CODE" = 200 ] && [ "$(cat "$E2E_TMP/restarted.body")" = "${f#*:}" ] && pass "${f%%:*}-after-restart" ||
		fail "${f%%:*}-after-restart" "status $HTTP_CODE"
done

# ---- rm ----
mote_cli rm rm ec
expect_status rm 0 && pass rm
http after-rm /fn/ec/x
[ "$HTTP_CODE" = 404 ] && pass rm-then-404 || fail rm-then-404 "status $HTTP_CODE"
mote_cli logs-rm logs ec
expect_one_error logs-after-rm-81 81 "" "no function 'ec'"

# ---- too big, on a gateway with a small bundle limit ----
S2=$E2E_TMP/state2
start_gw g2 "$S2" --bundle-max 1M || e2e_finish
G2=$GW_PID
mote_cli too-big deploy big "$E2E_TMP/big"
expect_one_error refuse-too-big-70 70 "" "larger than the server accepts"

# ---- clean stop ----
for g in "$G1:$STATE:g1b" "$G2:$S2:g2"; do
	IFS=: read -r p s tag <<<"$g"
	stop_gw "$p" TERM
	if [ "$GW_STATUS" = 0 ] && [ "$(vms_of "$s")" = 0 ] && ! grep -qE 'Sanitizer|runtime error' "$E2E_TMP/$tag.gw.err"; then
		pass "clean-stop-$tag"
	else
		fail "clean-stop-$tag" "status $GW_STATUS, $(vms_of "$s") VMs; $(grep -m3 -E 'ERROR|runtime error' "$E2E_TMP/$tag.gw.err")"
	fi
done
e2e_finish

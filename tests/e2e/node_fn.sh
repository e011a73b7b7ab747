#!/usr/bin/env bash
# End-to-end: Node.js functions (docs/node.md) on `mote serve` with real VMs, Debian's node in the base and
# real curl: the Workers (ES module), Lambda (CommonJS), Express-style and package.json "type": "module"
# shapes; request fields intact (method, path, query, headers, binary body) and status, headers and cookies
# back; --env; console.log in the log; a thrown error is a 500 with its stack in the log; a slow handler a
# 504; INIT_ERROR at deploy (syntax error, no handler export); bundles refused with one line (no entry point,
# package.json's main missing, a native addon of another Node ABI); a bundle with npm dependencies installed
# from the registry; 16 concurrent clients; a base upgrade (another bootstrap) under load with no failure.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/gateway.sh"
need_kvm node-functions
NODE_RT=$E2E_BUILD/runtimes/node
need_built "$MOTE" "$MOTE_VMM" "$MOTE_KERNEL" "$NODE_RT/mote/bootstrap.js"
FN=$E2E_ROOT/tests/fn/node
W=$E2E_TMP

# Bundles.
mkdir -p "$W/err" "$W/slow" "$W/syntax" "$W/noexport" "$W/noentry" "$W/nomain" "$W/addon/node_modules/x"
printf 'exports.handler = async () => { throw new Error("boom from the handler"); };\n' >"$W/err/handler.js"
printf 'exports.handler = async () => { await new Promise((r) => setTimeout(r, 20000)); return "late"; };\n' \
	>"$W/slow/handler.js"
printf 'exports.handler = async () => {\n  return { statusCode: 200 ;\n};\n' >"$W/syntax/handler.js"
printf 'exports.notAHandler = 1;\n' >"$W/noexport/handler.js"
printf '{"name": "x"}\n' >"$W/noentry/package.json" && echo 'x' >"$W/noentry/app.js"
printf '{"main": "lib/server.js"}\n' >"$W/nomain/package.json" && cp "$FN/lambda.js" "$W/nomain/handler.js"
cp "$FN/lambda.js" "$W/addon/handler.js"
printf 'int node_register_module_v93(void) { return 0; }\n' >"$W/addon.c"
cc -shared -fPIC -o "$W/addon/node_modules/x/x.node" "$W/addon.c"

# ---- the runtime contract without a gateway: no snapshot file, no attach (docs/functions.md) ----
NODE_ARGS=(/usr/bin/node --single-threaded --disable-wasm-trap-handler --wasm-max-mem-pages=1024 /mote/bootstrap.js)
mote_run no-snapshot --timeout 60 --mem 1G --rootfs "$NODE_RT" "${NODE_ARGS[@]}"
expect_status no-snapshot 2 && [ "$(stderr_lines)" = 1 ] && err_has '^mote-node: no snapshot file' && pass no-snapshot-file ||
	fail no-snapshot-file "$(head -c 300 "$ERR")"
mote_run no-attach --timeout 60 --mem 1G --rootfs "$NODE_RT" --snapshot "$W/orig.snap" "${NODE_ARGS[@]}"
expect_status no-attach 2 && [ "$(stderr_lines)" = 1 ] && err_has '^mote-node: /dev/mote/invoke: no function attached' &&
	pass no-function-attached || fail no-function-attached "$(head -c 300 "$ERR")"
rm -f "$W"/orig.snap*

STATE=$W/state
start_gw g1 "$STATE" --queue-wait 60 --verbose || e2e_finish
mote_cli ls-empty ls
expect_status ls-empty 0 && [ "$(wc -l <"$OUT")" = 1 ] && pass ls-no-functions || fail ls-no-functions "$(cat "$OUT" "$ERR")"
# A runtime tree whose bootstrap fails: the build fails with one line, the gateway goes on.
rm -rf "$W/broken" && cp -a "$NODE_RT" "$W/broken" && echo 'process.exit(1);' >"$W/broken/mote/bootstrap.js"
mote_cli base-broken base build --runtime node --runtime-program "$W/broken"
expect_one_error base-build-fails-86 86 "" "cannot build the node base .*exited with status 1"
mote_cli base-not-a-tree base build --runtime node --runtime-program "$W/addon.c"
expect_one_error base-program-not-a-tree-66 66 "" "not a directory or a cpio image"
mote_cli ls-after ls
expect_status ls-after 0 && pass gateway-serves-after-failed-build

# ---- the shapes ----
mote_cli deploy-workers deploy workers "$FN/workers.mjs" --env GREETING='hi there'
expect_status deploy-workers 0 && out_has '^deployed workers version 1 \(node' && pass deploy-workers-esm ||
	fail deploy-workers-esm "$(cat "$OUT" "$ERR" | head -c 400)"
mote_cli deploy-lambda deploy lambda "$FN/lambda.js"
expect_status deploy-lambda 0 && out_has '^deployed lambda version 1 \(node' && pass deploy-lambda-cjs ||
	fail deploy-lambda-cjs "$(cat "$OUT" "$ERR" | head -c 400)"
mote_cli deploy-express deploy express "$FN/express.cjs"
mote_cli deploy-esm-pkg deploy esm "$FN/esm-pkg"
expect_status deploy-esm-pkg 0 && pass deploy-esm-package-type-module
mote_cli ls ls
expect_status ls 0 && out_has '^workers +node +1 ' && out_has '^lambda +node +1 ' && pass ls-node ||
	fail ls-node "$(cat "$OUT")"

http wk -X POST -H 'X-Custom: abc def' -H 'Content-Type: text/plain' --data-binary 'hello body' \
	'/fn/workers/some/path?x=1&y=%20z&status=201'
if [ "$HTTP_CODE" = 201 ] && /usr/bin/python3 - "$W/wk.body" "$PORT" <<'EOF'; then
import base64, json, sys
j = json.load(open(sys.argv[1]))
assert j["method"] == "POST", j
assert j["path"] == "/some/path", j
assert j["query"] == "x=1&y=%20z&status=201", j
assert j["headers"]["x-custom"] == "abc def", j
assert j["headers"]["host"] == "127.0.0.1:" + sys.argv[2], j
assert base64.b64decode(j["body"]) == b"hello body", j
assert j["greeting"] == "hi there", j
EOF
	pass workers-request-fields-and-env
else
	fail workers-request-fields-and-env "status $HTTP_CODE: $(head -c 400 "$W/wk.body")"
fi
head_has wk '^x-shape: workers' && [ "$(grep -ci '^set-cookie: [ab]=' "$W/wk.head")" = 2 ] &&
	head_has wk '^content-type: application/json' && pass workers-status-headers-cookies ||
	fail workers-status-headers-cookies "$(tr '\r\n' '  ' <"$W/wk.head")"

http lm -X PUT -H 'X-Custom: v' -H 'Cookie: k1=v1; k2=v2' --data-binary '{"a":1}' '/fn/lambda/p/q?status=202&n=1&n=2'
if [ "$HTTP_CODE" = 202 ] && /usr/bin/python3 - "$W/lm.body" <<'EOF'; then
import json, sys
j = json.load(open(sys.argv[1]))
assert j["version"] == "2.0", j
assert j["method"] == "PUT", j
assert j["rawPath"] == "/p/q", j
assert j["rawQueryString"] == "status=202&n=1&n=2", j
assert j["qs"] == {"status": "202", "n": "1,2"}, j
assert j["headers"]["x-custom"] == "v", j
assert j["cookies"] == ["k1=v1", "k2=v2"], j
assert j["body"] == '{"a":1}' and j["isBase64Encoded"] is False, j
EOF
	pass lambda-event-v2-fields
else
	fail lambda-event-v2-fields "status $HTTP_CODE: $(head -c 400 "$W/lm.body")"
fi
head_has lm '^x-shape: lambda' && head_has lm '^set-cookie: c=3' && pass lambda-status-headers-cookies ||
	fail lambda-status-headers-cookies "$(tr '\r\n' '  ' <"$W/lm.head")"

# Binary bodies (every byte value, NULs included) through both shapes and back.
/usr/bin/python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 64 + b"\0\r\n\xff")' >"$W/bin"
for f in workers lambda; do
	http "bin-$f" -X POST --data-binary "@$W/bin" "/fn/$f/bin?echo=1"
	[ "$HTTP_CODE" = 200 ] && cmp -s "$W/bin" "$W/bin-$f.body" && pass "$f-binary-body-intact" ||
		fail "$f-binary-body-intact" "status $HTTP_CODE, $(wc -c <"$W/bin-$f.body") bytes back"
done
http lm-bin -X POST --data-binary "@$W/bin" '/fn/lambda/x'
grep -q '"isBase64Encoded":true' "$W/lm-bin.body" && pass lambda-binary-is-base64 ||
	fail lambda-binary-is-base64 "$(head -c 200 "$W/lm-bin.body")"

http ex -H 'X-A: b' --data-binary 'streamed' '/fn/express/e?k=v'
[ "$HTTP_CODE" = 200 ] && [ "$(cat "$W/ex.body")" = 'POST /e?k=v b streamed' ] && head_has ex '^x-shape: express' &&
	pass express-req-res || fail express-req-res "status $HTTP_CODE: $(head -c 200 "$W/ex.body")"
http esm '/fn/esm/?name=you'
[ "$HTTP_CODE" = 200 ] && grep -q '^hello you from an ES module [0-9a-f]\{12\}$' "$W/esm.body" && pass esm-imports ||
	fail esm-imports "status $HTTP_CODE: $(head -c 200 "$W/esm.body")"

mote_cli logs-workers logs workers
out_has 'workers: POST /some/path' && pass console-log-in-log || fail console-log-in-log "$(tail -5 "$OUT")"

# ---- errors: a throw is a 500 with the stack in the log, a slow handler a 504; the VM goes on ----
mote_cli deploy-err deploy err "$W/err"
http err1 /fn/err/
mote_cli logs-err logs err
[ "$HTTP_CODE" = 500 ] && out_has 'Error: boom from the handler' && out_has '^ +at .*handler\.js' && pass throw-is-500-with-stack ||
	fail throw-is-500-with-stack "status $HTTP_CODE, log: $(tail -5 "$OUT")"
http err2 /fn/err/
[ "$HTTP_CODE" = 500 ] && pass throw-again-500 || fail throw-again-500 "status $HTTP_CODE"
mote_cli deploy-slow deploy slow "$W/slow" --timeout 1
http slow /fn/slow/
[ "$HTTP_CODE" = 504 ] && pass slow-handler-504 || fail slow-handler-504 "status $HTTP_CODE"

# ---- refused deploys: one line each, a distinct status, the previous version serving ----
mote_cli bad-syntax deploy lambda "$W/syntax"
expect_one_error refuse-syntax-error-82 82 "" "handler\.js:[0-9]+: SyntaxError"
mote_cli bad-noexport deploy lambda "$W/noexport"
expect_one_error refuse-no-handler-export-82 82 "" "exports no handler"
mote_cli bad-noentry deploy lambda "$W/noentry"
expect_one_error refuse-no-entry-point-66 66 "" "no entry point"
mote_cli bad-nomain deploy lambda "$W/nomain"
expect_one_error refuse-main-missing-66 66 "" "main 'lib/server.js' is not in the bundle"
mote_cli bad-addon deploy lambda "$W/addon"
expect_one_error refuse-addon-other-abi-67 67 "" "x\.node is built for Node ABI 93, the node runtime's is [0-9]+"
http prev '/fn/lambda/prev'
[ "$HTTP_CODE" = 200 ] && grep -q '"rawPath":"/prev"' "$W/prev.body" && pass previous-version-serves ||
	fail previous-version-serves "status $HTTP_CODE"

# ---- npm dependencies, from the registry ----
cp -r "$FN/deps" "$W/deps"
if (cd "$W/deps" && HOME=$W npm_config_cache=$W/npm-cache timeout 180 npm install --no-audit --no-fund --silent) \
	>"$W/npm.log" 2>&1; then
	mote_cli deploy-deps deploy deps "$W/deps"
	expect_status deploy-deps 0 && pass deploy-npm-dependencies || fail deploy-npm-dependencies "$(cat "$ERR")"
	http d1 /fn/deps/day/2024-02-28
	http d2 -X POST -H 'content-type: application/json' --data '{"item":"tea","qty":2}' /fn/deps/order
	c2=$HTTP_CODE
	http d3 -X POST -H 'content-type: application/json' --data '{"item":"","qty":-1}' /fn/deps/order
	[ "$(cat "$W/d1.body")" = 2024-02-29 ] && [ "$c2" = 200 ] && grep -q '"item":"tea","qty":2' "$W/d2.body" &&
		[ "$HTTP_CODE" = 400 ] && grep -q '^invalid: item,qty$' "$W/d3.body" && pass npm-router-validation-dates ||
		fail npm-router-validation-dates "$(cat "$W/d1.body") / $c2 $(cat "$W/d2.body") / $HTTP_CODE $(cat "$W/d3.body")"
else
	fail npm-install "npm install failed: $(tail -3 "$W/npm.log")"
fi

# ---- 16 concurrent clients, every answer its own ----
concurrent_clients concurrent-16-all-correct 16 '/fn/workers/par?echo=1' '/fn/lambda/par?echo=1'
# Working sets (docs/snapshots.md): with --idle-timeout 0 every request gets a new VM; the first records
# the function's set at its first response, the next ones fault it in; every answer is right.
mote_cli deploy-ws deploy wsfn "$FN/lambda.js" --idle-timeout 0
ok=0
for i in 1 2 3; do
	http "ws$i" --data-binary "ws-$i" '/fn/wsfn/w?echo=1'
	[ "$HTTP_CODE" = 200 ] && [ "$(cat "$W/ws$i.body")" = "ws-$i" ] && ok=$((ok + 1))
done
[ "$ok" = 3 ] && [ "$(grep -cE 'wsfn version 1: working set of [1-9][0-9]* pages in [1-9][0-9]* runs recorded \(base [0-9a-f]{12}\)' "$GW_ERR")" = 1 ] &&
	pass node-working-set-recorded-once || fail node-working-set-recorded-once "$ok of 3 right; $(grep -i 'working set' "$GW_ERR" | head -3)"

# ---- a base upgrade under load: another bootstrap, activated while requests run; none fails ----
rm -rf "$W/node2" && cp -a "$NODE_RT" "$W/node2"
sed -i 's/^const VERSION = 1;/const VERSION = 2;/' "$W/node2/mote/bootstrap.js"
load() { # TAG N
	local i out
	for ((i = 0; i < $2; i++)); do
		out=$(curl -s --max-time 30 -w ' %{http_code}' --data-binary "load-$1-$i" "http://127.0.0.1:$PORT/fn/lambda/l?echo=1")
		echo "${out//$'\n'/}"
	done >"$W/load.$1"
}
for w in 1 2 3; do
	load "$w" 40 &
	BG="$BG $!"
done
sleep 0.3
mote_cli base-build base build --runtime node --runtime-program "$W/node2" --activate
expect_status base-build 0 && pass base-build-node-activated || fail base-build-node-activated "$(cat "$ERR")"
# shellcheck disable=SC2086
wait $BG
BG=""
total=$(cat "$W"/load.* | wc -l)
good=0
for w in 1 2 3; do good=$((good + $(grep -cE "^load-$w-[0-9]+ 200$" "$W/load.$w"))); done
[ "$total" = 120 ] && [ "$good" = 120 ] && pass base-upgrade-under-load-no-failure ||
	fail base-upgrade-under-load-no-failure "$good of $total good: $(cat "$W"/load.* | grep -v ' 200$' | head -3)"
http after /fn/lambda/after
mote_cli logs-after logs lambda
[ "$HTTP_CODE" = 200 ] && out_has 'ready in .*mote-node 2 \(Node\.js v' && pass upgraded-base-serves ||
	fail upgraded-base-serves "status $HTTP_CODE; log: $(grep ready "$OUT" | tail -2)"
e2e_finish

#!/usr/bin/env bash
# End-to-end: the function runtimes (mote-lua, mote-c-init + the C SDK) in real VMs, against the runtime
# contract of docs/functions.md: without a snapshot file or an attach they exit 2 with one line; as bases
# they snapshot, and each clone attached by tests/tools/fnhost (a minimal gateway speaking
# include/mote/control.h) loads the bundle, answers READY or INIT_ERROR, serves requests, turns user errors
# into 500s with the error in the log, and keeps serving.
. "$(dirname "$0")/lib.sh"
need_kvm runtimes
RT=$E2E_BUILD/runtimes
EX=$E2E_ROOT/examples
FNHOST=${FNHOST:-$E2E_BUILD/tests/tools/fnhost}
RELEASE_VMM=${RELEASE_VMM:-$E2E_BUILD/mote-vmm}
need_built "$MOTE" "$MOTE_VMM" "$RELEASE_VMM" "$MOTE_KERNEL" "$FNHOST" "$RT/mote-lua" "$RT/mote-c-init" \
	"$E2E_BUILD/examples/hello-c/handler" "$E2E_BUILD/examples/echo-c/handler" "$E2E_BUILD/tests/fn/sdk_paths/handler"
T="--timeout 30"

# one_line NAME STATUS REGEX: the last run exited STATUS with exactly one stderr line matching REGEX.
one_line() {
	expect_status "$1" "$2" || return 0
	if [ "$(stderr_lines)" = 1 ] && err_has "$3"; then pass "$1"; else fail "$1" "stderr: $(head -c 300 "$ERR")"; fi
}

# ---- the contract without an attach (any guest kernel) ----
for rt in mote-lua mote-c-init; do
	mote_run "no-snapshot-$rt" $T "$RT/$rt"
	one_line "no-snapshot-file-$rt" 2 "^$rt: no snapshot file"
	# With --snapshot but no --exit-after-snapshot the original VM goes on after the snapshot, unattached.
	mote_run "no-attach-$rt" $T --snapshot "$E2E_TMP/orig-$rt.snap" "$RT/$rt"
	one_line "no-attach-$rt" 2 "^$rt: /dev/mote/invoke: "
done

# ---- from here on the guest kernel must attach functions and mote-vmm must speak --control ----
mote_run probe-invoke $T /bin/busybox ls /dev/mote
if ! grep -qx invoke "$OUT"; then
	skip runtimes-attached "needs /dev/mote/invoke (guest attach): this guest kernel has no such device yet"
	e2e_finish
fi
if ! "$MOTE_VMM" --help 2>&1 | grep -q -- '--control'; then
	skip runtimes-attached "needs mote-vmm --control (attaching functions to restored VMs)"
	e2e_finish
fi

# The two bases, made as the gateway makes them: boot the runtime, exit once it has snapshotted itself.
for b in lua:mote-lua c:mote-c-init; do
	mote_run "base-${b%%:*}" $T --snapshot "$E2E_TMP/${b%%:*}.snap" --exit-after-snapshot "$RT/${b#*:}"
	expect_status "base-${b%%:*}" 0 "booting ${b#*:} to its base snapshot" && pass "base-${b%%:*}"
done

# A clone restored without an attach has no channel: one line, exit 2.
run restore-unattached "$MOTE" snapshot restore $T "$E2E_TMP/lua.snap"
one_line restore-unattached-lua 2 '^mote-lua: /dev/mote/invoke: no function attached'

# fn TAG BASE BUNDLE SCRIPT [FNHOST-OPTIONS...]: attach BUNDLE to a clone of BASE (lua|c) and run SCRIPT
# (fnhost's format, one request a line); results in $D (= $E2E_TMP/TAG): first, K.status, K.headers, K.body,
# log (the function's stdout and stderr).
fn() {
	local tag=$1 base=$2 bundle=$3 script=$4
	shift 4
	D=$E2E_TMP/$tag
	mkdir -p "$D"
	printf '%s\n' "$script" >"$D/script"
	run "$tag" "$FNHOST" --vmm "${VMM:-$MOTE_VMM}" --snapshot "$E2E_TMP/$base.snap" --bundle "$bundle" --out "$D" \
		--log "$D/log" "$@" "$D/script"
}
# fn_ok NAME: fnhost ran its script to the end and the VM ended as a hang-up ends it (status 72); the
# function's log has no sanitizer report.
fn_ok() {
	expect_status "$1" 0 "fnhost" || return 1
	if ! out_has '^vm-exit 72$'; then
		fail "$1" "the VM did not end with status 72 at the hang-up: $(grep '^vm-' "$OUT")"
		return 1
	fi
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$D/log"; then
		fail "$1" "sanitizer report in the VM's log: $(grep -m1 -E 'Sanitizer|runtime error' "$D/log")"
		return 1
	fi
	return 0
}
# is FILE TEXT: FILE holds exactly TEXT (printf-style escapes allowed).
is() { [ -f "$1" ] && cmp -s "$1" <(printf "$2"); }

# ---- hello, both runtimes ----
fn lua-hello lua "$EX/hello-lua" 'GET /some/path x=1 -'
if fn_ok lua-hello; then
	if ! grep -qE '^READY mote-lua 1 \(Lua 5\.4' "$D/first"; then
		fail lua-hello "first message: $(cat "$D/first")"
	elif ! is "$D/1.status" '200\n' || ! is "$D/1.body" 'hello from a mote Lua function (GET /some/path)\n' ||
		! grep -qx 'content-type: text/plain; charset=utf-8' "$D/1.headers"; then
		fail lua-hello "response: $(cat "$D/1.status") $(head -c 200 "$D/1.body")"
	else
		pass lua-hello
	fi
fi

mkdir -p "$E2E_TMP/b-hello-c" && cp "$E2E_BUILD/examples/hello-c/handler" "$E2E_TMP/b-hello-c/"
fn c-hello c "$E2E_TMP/b-hello-c" 'GET /some/path x=1 -'
if fn_ok c-hello; then
	if ! grep -qx 'READY mote-c 1' "$D/first"; then
		fail c-hello "first message: $(cat "$D/first")"
	elif ! is "$D/1.status" '200\n' || ! is "$D/1.body" 'hello from a mote C function (GET /some/path)\n'; then
		fail c-hello "response: $(cat "$D/1.status") $(head -c 200 "$D/1.body")"
	else
		pass c-hello
	fi
fi

# ---- the echo pair: every request field arrives intact, the same in both runtimes; env; warm state ----
: >"$E2E_TMP/allbytes"
for i in $(seq 0 255); do printf "\\$(printf %03o "$i")" >>"$E2E_TMP/allbytes"; done
mkdir -p "$E2E_TMP/b-echo-c/.mote" && cp "$E2E_BUILD/examples/echo-c/handler" "$E2E_TMP/b-echo-c/"
cp -r "$EX/echo-lua" "$E2E_TMP/b-echo-lua" && mkdir -p "$E2E_TMP/b-echo-lua/.mote"
for b in b-echo-c b-echo-lua; do printf 'ECHO_GREETING=hi there\0OTHER=x=y\0' >"$E2E_TMP/$b/.mote/environ"; done
ECHO_SCRIPT="POST /a/b%20c name=J%C3%B6rg+x&x=1 @$E2E_TMP/allbytes content-type:application/octet-stream x-echo:hello X-Echo:again
GET / status=418 -
GET /again - -"
for r in c lua; do
	fn "echo-$r" "$r" "$E2E_TMP/b-echo-$r" "$ECHO_SCRIPT"
	if fn_ok "echo-$r"; then
		if ! is "$D/1.status" '200\n' || ! grep -qx 'x-echo: hello, again' "$D/1.headers"; then
			fail "echo-$r" "response 1: status $(cat "$D/1.status"), headers $(tr '\n' ' ' <"$D/1.headers")"
		elif ! grep -qF '"method":"POST","path":"/a/b%20c","query":"name=J%C3%B6rg+x&x=1","name":"Jörg x","x_echo":"hello, again","content_type":"application/octet-stream","greeting":"hi there","served":1,"body_length":256,' "$D/1.body"; then
			fail "echo-$r" "response 1 body: $(head -c 300 "$D/1.body")"
		elif ! is "$D/2.status" '418\n' || ! grep -qF '"served":3,' "$D/3.body"; then
			fail "echo-$r" "status ?status=418 -> $(cat "$D/2.status"); third response $(head -c 200 "$D/3.body")"
		else
			pass "echo-$r"
		fi
	fi
done
if [ -f "$E2E_TMP/echo-c/1.body" ] &&
	cmp -s <(sed 's/"runtime":"c"//' "$E2E_TMP/echo-c/1.body") <(sed 's/"runtime":"lua"//' "$E2E_TMP/echo-lua/1.body"); then
	pass echo-c-and-lua-agree
else
	fail echo-c-and-lua-agree "$(diff_summary "$E2E_TMP/echo-c/1.body" "$E2E_TMP/echo-lua/1.body" 2>&1)"
fi

# ---- Lua: what the user's code gets wrong ----
# lua_bundle NAME LUA-SOURCE: a bundle directory with that handler.lua.
lua_bundle() {
	mkdir -p "$E2E_TMP/b-$1"
	printf '%s\n' "$2" >"$E2E_TMP/b-$1/handler.lua"
}
lua_init_error() { # NAME SOURCE EXPECTED-FIRST-LINE
	lua_bundle "$1" "$2"
	fn "$1" lua "$E2E_TMP/b-$1" 'GET / - -'
	if fn_ok "$1"; then
		if ! grep -qxF -- "$3" "$D/first"; then
			fail "$1" "first message: $(cat "$D/first"), expected: $3"
		elif ! is "$D/1.status" '500\n' || ! is "$D/1.body" 'function failed to initialise\n'; then
			fail "$1" "a request after INIT_ERROR: $(cat "$D/1.status") $(head -c 100 "$D/1.body")"
		else
			pass "$1"
		fi
	fi
}
lua_init_error lua-syntax-error 'x = = 1' "INIT_ERROR handler.lua:1: unexpected symbol near '='"
lua_init_error lua-no-handle 'function other() end' 'INIT_ERROR handler.lua defines no function handle(req)'
lua_init_error lua-load-error 'local t = nil
local x = t.field' "INIT_ERROR handler.lua:2: attempt to index a nil value (local 't')"
mkdir -p "$E2E_TMP/b-lua-no-file" && echo 'return 1' >"$E2E_TMP/b-lua-no-file/other.lua"
fn lua-no-handler-file lua "$E2E_TMP/b-lua-no-file" 'GET / - -'
if fn_ok lua-no-handler-file; then
	grep -qxF 'INIT_ERROR cannot read handler.lua: No such file or directory' "$D/first" && pass lua-no-handler-file ||
		fail lua-no-handler-file "first message: $(cat "$D/first")"
fi

lua_bundle lua-errors 'local data = require("lib")
function handle(req)
  if req.path == "/boom" then error("boom") end
  if req.path == "/bad" then return {status = 99} end
  if req.path == "/data" then return io.open("data.txt"):read("a") end
  if req.path == "/big" then return string.rep("x", 100000) end
  return data.answer
end'
printf 'return { answer = "fine" }\n' >"$E2E_TMP/b-lua-errors/lib.lua"
printf 'bundled data\n' >"$E2E_TMP/b-lua-errors/data.txt"
fn lua-errors lua "$E2E_TMP/b-lua-errors" 'GET /boom - -
GET /bad - -
GET /data - -
GET /big - -
GET /fine - -' --resp-cap 65536
if fn_ok lua-errors; then
	st="$(cat "$D"/{1,2,3,4,5}.status | tr '\n' ' ')"
	if [ "$st" != "500 500 200 500 200 " ]; then
		fail lua-errors "statuses $st, expected 500 500 200 500 200"
	elif ! is "$D/3.body" 'bundled data\n' || ! is "$D/5.body" 'fine'; then
		fail lua-errors "bodies: $(head -c 100 "$D/3.body") / $(head -c 100 "$D/5.body")"
	elif ! grep -q '^mote-lua: handle(req) failed: handler.lua:3: boom' "$D/log" || ! grep -q 'stack traceback:' "$D/log"; then
		fail lua-errors "the log lacks the error and its traceback: $(head -c 300 "$D/log")"
	elif ! grep -q 'status must be an integer from 100 to 599, not 99' "$D/log" ||
		! grep -q 'does not fit the response area' "$D/log"; then
		fail lua-errors "the log lacks the bad-result or too-large line: $(head -c 400 "$D/log")"
	else
		pass lua-errors
	fi
fi

# A body near the request area's size arrives and comes back byte for byte.
lua_bundle lua-body 'function handle(req) return {headers = {["x-len"] = #req.body}, body = req.body} end'
head -c $((7 * 1024 * 1024)) /dev/urandom >"$E2E_TMP/big.bin"
fn lua-body lua "$E2E_TMP/b-lua-body" "PUT /b - @$E2E_TMP/big.bin"
if fn_ok lua-body; then
	if is "$D/1.status" '200\n' && cmp -s "$D/1.body" "$E2E_TMP/big.bin" && grep -qx "x-len: $((7 * 1024 * 1024))" "$D/1.headers"; then
		pass lua-body-7mib
	else
		fail lua-body-7mib "status $(cat "$D/1.status"), body $(diff_summary "$D/1.body" "$E2E_TMP/big.bin")"
	fi
fi

# ---- C: bundles that cannot start ----
c_init_error() { # NAME BUNDLE-DIR EXPECTED-FIRST-LINE-REGEX
	fn "$1" c "$2" 'GET / - -'
	if fn_ok "$1"; then
		if ! grep -qE -- "$3" "$D/first"; then
			fail "$1" "first message: $(cat "$D/first")"
		elif ! is "$D/1.status" '500\n'; then
			fail "$1" "a request after INIT_ERROR: $(cat "$D/1.status")"
		else
			pass "$1"
		fi
	fi
}
mkdir -p "$E2E_TMP/b-c-none" && echo data >"$E2E_TMP/b-c-none/data.txt"
c_init_error c-no-handler "$E2E_TMP/b-c-none" '^INIT_ERROR the bundle has no file handler'
mkdir -p "$E2E_TMP/b-c-script" && printf '#!/bin/sh\necho hi\n' >"$E2E_TMP/b-c-script/handler" && chmod +x "$E2E_TMP/b-c-script/handler"
c_init_error c-handler-not-elf "$E2E_TMP/b-c-script" '^INIT_ERROR /fn/handler is not a static x86-64 ELF executable'
mkdir -p "$E2E_TMP/b-c-dynamic" && cp /bin/true "$E2E_TMP/b-c-dynamic/handler"
c_init_error c-handler-dynamic "$E2E_TMP/b-c-dynamic" '^INIT_ERROR /fn/handler is not a static x86-64 ELF executable'

# ---- C: the SDK's other paths in a real VM (tests/fn/sdk_paths.c) ----
mkdir -p "$E2E_TMP/b-c-paths" && cp "$E2E_BUILD/tests/fn/sdk_paths/handler" "$E2E_TMP/b-c-paths/"
fn c-paths c "$E2E_TMP/b-c-paths" "PUT /body - @$E2E_TMP/big.bin
GET /fail - -
GET /log - -
GET /after - -"
if fn_ok c-paths; then
	st="$(cat "$D"/{1,2,3,4}.status | tr '\n' ' ')"
	if [ "$st" != "200 500 200 200 " ]; then
		fail c-paths "statuses $st, expected 200 500 200 200"
	elif ! cmp -s "$D/1.body" "$E2E_TMP/big.bin" || ! grep -qx "x-len: $((7 * 1024 * 1024))" "$D/1.headers"; then
		fail c-paths "the 7 MiB body did not come back: $(diff_summary "$D/1.body" "$E2E_TMP/big.bin")"
	elif ! grep -q '^mote-c: mote_handle returned 7: answered 500$' "$D/log" ||
		! grep -q '^sdk_paths: to stdout$' "$D/log" || ! grep -q '^sdk_paths: to stderr$' "$D/log"; then
		fail c-paths "the log: $(head -c 400 "$D/log")"
	else
		pass c-paths
	fi
fi
mkdir -p "$E2E_TMP/b-c-initfail/.mote" && cp "$E2E_BUILD/tests/fn/sdk_paths/handler" "$E2E_TMP/b-c-initfail/"
printf 'FAIL_INIT=5\0' >"$E2E_TMP/b-c-initfail/.mote/environ"
c_init_error c-mote-init-fails "$E2E_TMP/b-c-initfail" '^INIT_ERROR mote_init returned 5$'
# A crash or an exit ends the VM (the gateway answers 502): the monitor reports it, nothing hangs.
fn c-crash c "$E2E_TMP/b-c-paths" 'GET /crash - -'
if [ "$STATUS" = 2 ] && err_has 'the VM died by signal 11 while waiting for a response' && grep -q 'mote-vmm: guest crashed' "$D/log"; then
	pass c-crash
else
	fail c-crash "fnhost status $STATUS; log: $(head -c 300 "$D/log")"
fi
fn c-exit c "$E2E_TMP/b-c-paths" 'GET /exit - -'
if [ "$STATUS" = 2 ] && err_has 'the VM exited with status 3 while waiting for a response'; then
	pass c-exit
else
	fail c-exit "fnhost status $STATUS; log: $(head -c 300 "$D/log")"
fi

# ---- working sets (include/mote/control.h): recorded at the first response, faulted in at the attach ----
fn ws-record c "$E2E_TMP/b-hello-c" 'GET / - -
GET / - -' --record-workset "$E2E_TMP/c.ws"
if fn_ok ws-record; then
	# The blob is MOTEWS01, the guest's pages (64 MiB: 16384), N runs of 16 bytes: nothing else.
	read -r n pages < <(/usr/bin/python3 -c 'import struct,sys; b=open(sys.argv[1],"rb").read(); print(struct.unpack("<Q",b[16:24])[0], struct.unpack("<Q",b[8:16])[0]) if b[:8]==b"MOTEWS01" else print(-1, 0)' "$E2E_TMP/c.ws")
	if out_has '^workset ok [0-9]+ [1-9][0-9]*$' && [ "$pages" = 16384 ] && [ "$n" -gt 0 ] &&
		[ "$(stat -c %s "$E2E_TMP/c.ws")" = $((24 + 16 * n)) ] && is "$D/2.status" '200\n'; then
		pass workset-recorded-at-first-response
	else
		fail workset-recorded-at-first-response "$(grep '^workset' "$OUT"), $n runs of $pages pages"
	fi
fi
fn ws-prefault c "$E2E_TMP/b-hello-c" 'GET / - -' --prefault "$E2E_TMP/c.ws" --vmm-arg --debug
if fn_ok ws-prefault; then
	grep -qE '^mote-vmm: prefaulted [1-9][0-9]* pages in [1-9][0-9]* runs' "$D/log" && is "$D/1.status" '200\n' &&
		pass workset-prefaulted || fail workset-prefaulted "$(grep -m1 prefault "$D/log")"
fi
# A working set of another guest size, or cut short: ATTACH refused with status 95, nothing of the guest ran.
head -c 40 "$E2E_TMP/c.ws" >"$E2E_TMP/cut.ws"
fn ws-cut c "$E2E_TMP/b-hello-c" 'GET / - -' --prefault "$E2E_TMP/cut.ws"
[ "$STATUS" = 2 ] && err_has 'ATTACH refused \(status 95\): working set: 40 bytes for [0-9]+ runs' && pass workset-cut-refused-95 ||
	fail workset-cut-refused-95 "fnhost status $STATUS: $(head -c 300 "$ERR")"
/usr/bin/python3 -c 'import struct,sys; open(sys.argv[1],"wb").write(b"MOTEWS01"+struct.pack("<QQQQ",32768,1,1,2))' \
	"$E2E_TMP/other.ws"
fn ws-other-guest c "$E2E_TMP/b-hello-c" 'GET / - -' --prefault "$E2E_TMP/other.ws"
[ "$STATUS" = 2 ] && err_has 'ATTACH refused \(status 95\): working set: recorded on a guest of 32768 pages, this one has 16384' &&
	pass workset-other-guest-refused-95 || fail workset-other-guest-refused-95 "fnhost status $STATUS: $(head -c 300 "$ERR")"

# ---- warm round trips through fnhost (release mote-vmm): for information, not a pass/fail threshold ----
for r in lua c; do
	bundle=$EX/hello-lua
	[ $r = c ] && bundle=$E2E_TMP/b-hello-c
	VMM=$RELEASE_VMM fn "warm-$r" "$r" "$bundle" 'GET / - -
repeat 300'
	if fn_ok "warm-$r"; then
		echo "# warm round trip, hello-$r, fnhost + release mote-vmm: $(grep '^latency' "$OUT")"
		pass "warm-$r"
	fi
done
e2e_finish

#!/usr/bin/env bash
# End-to-end: per-function layers (docs/snapshots.md, "Layers") in real VMs. tests/tools/fnhost, a minimal
# supervisor, asks mote-vmm for a layer at the runtime's READY (Lua and C functions whose initialisation
# leaves traces), restores it over its base and serves requests from it (one clone, several at once, with
# the pages mapped or copied); a layer on another base, damaged, truncated or not a layer at all is refused
# with one line and its own status, before any guest code runs; ATTACH refuses another bundle and a layer of
# a layered VM.
. "$(dirname "$0")/lib.sh"
need_kvm layer
RT=$E2E_BUILD/runtimes
FNHOST=${FNHOST:-$E2E_BUILD/tests/tools/fnhost}
need_built "$MOTE" "$MOTE_VMM" "$MOTE_KERNEL" "$FNHOST" "$RT/mote-lua" "$RT/mote-c-init" \
	"$E2E_BUILD/tests/fn/layer_count/handler"
T="--timeout 30"
MEM_BYTES=$((64 << 20)) # the guest RAM of a base booted with mote's default --mem

# The bases, made as the gateway makes them; lua2 is a second, independent base of the same runtime.
for b in lua:mote-lua lua2:mote-lua c:mote-c-init; do
	mote_run "base-${b%%:*}" $T --snapshot "$E2E_TMP/${b%%:*}.snap" --exit-after-snapshot "$RT/${b#*:}"
	expect_status "base-${b%%:*}" 0 "booting ${b#*:} to its base snapshot" && pass "base-${b%%:*}"
done
mkdir -p "$E2E_TMP/b-lua" "$E2E_TMP/b-c" "$E2E_TMP/b-other"
cp "$E2E_ROOT/tests/fn/layer_count.lua" "$E2E_TMP/b-lua/handler.lua"
cp "$E2E_BUILD/tests/fn/layer_count/handler" "$E2E_TMP/b-c/handler"
printf 'function handle(req) return "other\\n" end\n' >"$E2E_TMP/b-other/handler.lua"

# fn TAG BASE BUNDLE SCRIPT [FNHOST-OPTIONS...]: run SCRIPT against a clone of BASE; results in $D.
fn() {
	local tag=$1 base=$2 bundle=$3 script=$4
	shift 4
	D=$E2E_TMP/$tag
	mkdir -p "$D"
	printf '%s\n' "$script" >"$D/script"
	run "$tag" "$FNHOST" --vmm "$MOTE_VMM" --snapshot "$E2E_TMP/$base.snap" --bundle "$bundle" --out "$D" \
		--log "$D/log" "$@" "$D/script"
}
# fn_ok NAME: fnhost ran its script and the VM ended at the hang-up (72) without a sanitizer report.
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
# field FILE NAME: the value of NAME=... in the response body FILE.
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$1"; }

for lang in lua c; do
	bundle=$E2E_TMP/b-$lang
	L=$E2E_TMP/$lang.layer
	# ---- taking the layer: at the runtime's READY, after the function's initialisation ----
	fn "take-$lang" "$lang" "$bundle" 'GET /one - -
GET /two - -' --take-layer "$L"
	if fn_ok "take-$lang"; then
		TD=$D
		read -r ok bytes pages <"$TD/layer"
		token=$(field "$TD/1.body" token)
		if [ "$ok" = ok ] && [ -f "$L" ] && [ "$(stat -c %s "$L")" = "$bytes" ] && [ "$pages" -gt 0 ] &&
			grep -q "^READY" "$TD/first" && [ -n "$token" ] &&
			grep -q "^$lang token=$token inits=1 served=2 last=400000000 path=/two" "$TD/2.body" &&
			[ "$(grep -c 'layer_count: initialised' "$TD/log")" = 1 ]; then
			pass "take-$lang"
		else
			fail "take-$lang" "layer: $(cat "$TD/layer" 2>/dev/null); first: $(cat "$TD/first"); 2: $(cat "$TD/2.body" 2>/dev/null)"
		fi
		# Much smaller than the guest's memory and than the base's own data.
		base_data=$(($(stat -c %b "$E2E_TMP/$lang.snap.mem") * $(stat -c %B "$E2E_TMP/$lang.snap.mem")))
		if [ "$bytes" -lt $((MEM_BYTES / 16)) ] && [ "$bytes" -lt "$base_data" ]; then
			pass "layer-size-$lang"
		else
			fail "layer-size-$lang" "layer $bytes bytes; guest RAM $MEM_BYTES, base data $base_data"
		fi
	else
		token=
	fi

	# ---- restoring it: the function loaded and initialised, its first request answered ----
	for apply in map copy; do
		fn "restore-$lang-$apply" "$lang" "$bundle" 'GET /a - -
GET /b x=1 -' --layer "$L" --vmm-arg "--layer-apply=$apply"
		if fn_ok "restore-$lang-$apply"; then
			if is "$D/first" 'FROM-LAYER\n' && is "$D/1.status" '200\n' &&
				grep -q "^$lang token=$token inits=1 served=1 last=400000000 path=/a$" "$D/1.body" &&
				grep -q "^$lang token=$token inits=1 served=2 last=400000000 path=/b$" "$D/2.body" &&
				! grep -q 'layer_count: initialised' "$D/log"; then
				pass "restore-$lang-$apply"
			else
				fail "restore-$lang-$apply" "first: $(cat "$D/first"); 1: $(cat "$D/1.body" 2>/dev/null); log: $(head -c 300 "$D/log")"
			fi
		fi
	done

	# ---- several clones of the layer at once, each with its own channel ----
	pids=()
	for k in 1 2 3; do
		mkdir -p "$E2E_TMP/clone-$lang-$k"
		printf 'GET /c%s - -\nGET /d - -\n' "$k" >"$E2E_TMP/clone-$lang-$k/script"
		timeout -k 5 60 "$FNHOST" --vmm "$MOTE_VMM" --snapshot "$E2E_TMP/$lang.snap" --bundle "$bundle" \
			--out "$E2E_TMP/clone-$lang-$k" --log "$E2E_TMP/clone-$lang-$k/log" --layer "$L" \
			"$E2E_TMP/clone-$lang-$k/script" >"$E2E_TMP/clone-$lang-$k/out" 2>&1 &
		pids+=($!)
	done
	bad=
	for k in 1 2 3; do
		wait "${pids[$((k - 1))]}" || bad="$bad clone $k exited $?;"
		C=$E2E_TMP/clone-$lang-$k
		grep -q "^$lang token=$token inits=1 served=1 last=400000000 path=/c$k$" "$C/1.body" 2>/dev/null &&
			grep -q "^$lang token=$token inits=1 served=2 .*path=/d$" "$C/2.body" 2>/dev/null ||
			bad="$bad clone $k: $(cat "$C/1.body" "$C/out" 2>/dev/null | head -c 200);"
	done
	if [ -z "$bad" ] && [ -n "$token" ]; then pass "clones-$lang"; else fail "clones-$lang" "$bad"; fi
done

L=$E2E_TMP/lua.layer
LS=$E2E_TMP/lua.snap
# ---- refusals at ATTACH ----
fn attach-other-bundle lua "$E2E_TMP/b-other" 'GET / - -' --layer "$L"
if expect_status attach-other-bundle 2 && err_has 'ATTACH refused \(status 91\).*not the one the layer'; then
	pass attach-other-bundle
else
	fail attach-other-bundle "stderr: $(head -c 300 "$ERR")"
fi
fn attach-layer-of-layer lua "$E2E_TMP/b-lua" 'GET / - -' --layer "$L" --take-layer "$E2E_TMP/again.layer"
if expect_status attach-layer-of-layer 2 && err_has 'ATTACH refused \(status 94\).*restored from a layer'; then
	pass attach-layer-of-layer
else
	fail attach-layer-of-layer "stderr: $(head -c 300 "$ERR")"
fi

# ---- refusals of the layer file itself: one line naming it, a status of its own, no guest code run ----
run other-base "$MOTE_VMM" --restore "$E2E_TMP/lua2.snap" --layer "$L"
expect_one_error other-base 79 "$L" 'lies on base snapshot [0-9a-f]{32}, not on the one restored'
run layer-missing "$MOTE_VMM" --restore "$LS" --layer "$E2E_TMP/nope.layer"
expect_one_error layer-missing 66 "$E2E_TMP/nope.layer" 'cannot open layer'
run layer-dir "$MOTE_VMM" --restore "$LS" --layer "$E2E_TMP"
expect_one_error layer-dir 75 "$E2E_TMP" 'not a regular file'
run layer-not-a-layer "$MOTE_VMM" --restore "$LS" --layer "$LS"
expect_one_error layer-not-a-layer 75 "$LS" 'not a mote layer'
: >"$E2E_TMP/empty.layer"
run layer-empty "$MOTE_VMM" --restore "$LS" --layer "$E2E_TMP/empty.layer"
expect_one_error layer-empty 74 "$E2E_TMP/empty.layer" 'truncated'
size=$(stat -c %s "$L")
head -c $((size - 4096)) "$L" >"$E2E_TMP/short.layer"
run layer-truncated "$MOTE_VMM" --restore "$LS" --layer "$E2E_TMP/short.layer"
expect_one_error layer-truncated 74 "$E2E_TMP/short.layer" "truncated: $((size - 4096)) of $size bytes"
head -c 300 "$L" >"$E2E_TMP/cut.layer"
run layer-cut-metadata "$MOTE_VMM" --restore "$LS" --layer "$E2E_TMP/cut.layer"
expect_one_error layer-cut-metadata 74 "$E2E_TMP/cut.layer" 'truncated'
# flip FILE OFFSET OUT: OUT is FILE with the byte at OFFSET inverted.
flip() {
	cp "$1" "$3"
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((255 - b)))" | dd of="$3" bs=1 seek="$2" conv=notrunc status=none
}
flip "$L" 140 "$E2E_TMP/meta.layer" # in the run table
run layer-corrupt-metadata "$MOTE_VMM" --restore "$LS" --layer "$E2E_TMP/meta.layer"
expect_one_error layer-corrupt-metadata 75 "$E2E_TMP/meta.layer" 'checksum mismatch'
flip "$L" $((size - 100)) "$E2E_TMP/data.layer" # in the last page of data
run layer-corrupt-data "$MOTE_VMM" --restore "$LS" --layer "$E2E_TMP/data.layer"
expect_one_error layer-corrupt-data 75 "$E2E_TMP/data.layer" 'checksum mismatch in its pages'
flip "$L" $((size - 100)) "$E2E_TMP/data-copy.layer"
run layer-corrupt-data-copy "$MOTE_VMM" --restore "$LS" --layer "$E2E_TMP/data-copy.layer" --layer-apply=copy
expect_one_error layer-corrupt-data-copy 75 "$E2E_TMP/data-copy.layer" 'checksum mismatch in its pages'
cp "$L" "$E2E_TMP/foreign.layer"
printf '\x09' | dd of="$E2E_TMP/foreign.layer" bs=1 seek=8 conv=notrunc status=none
run layer-foreign-version "$MOTE_VMM" --restore "$LS" --layer "$E2E_TMP/foreign.layer"
expect_one_error layer-foreign-version 76 "$E2E_TMP/foreign.layer" 'layer format version 9'

# ---- the command line ----
run layer-needs-restore "$MOTE_VMM" --layer "$L" --kernel "$MOTE_KERNEL" -- /x
expect_one_error layer-needs-restore 64 "" '--layer needs --restore'
run layer-apply-bad "$MOTE_VMM" --restore "$LS" --layer "$L" --layer-apply=mmap
expect_one_error layer-apply-bad 64 "" "--layer-apply: 'mmap' is neither map nor copy"
e2e_finish

#!/usr/bin/env bash
# End-to-end: attaching a function to a restored VM over mote-vmm's control channel (include/mote/control.h),
# driven by tests/tools/invoketool: requests of 0 bytes to the caps echoed byte-exact with one exit each, the
# invoke device's semantics, hang-up, --timeout and snapshots while the guest waits, every refused ATTACH with
# its status and one line, ENODEV without an attach, accesses outside what is attached as crash reports, /fn
# read-only with exec from it, --control and --die-with-parent misuse.
. "$(dirname "$0")/lib.sh"
need_kvm invoke
need_built "$MOTE_VMM" "$MOTE_KERNEL" "$INVOKETOOL"
for v in musl glibc; do
	need_built "$TESTBIN/invoke_echo.$v" "$TESTBIN/fn_files.$v" "$TESTBIN/args.$v" "$TESTBIN/spin.$v"
done

MIB=$((1 << 20))
BUNDLE_GPA=$((56 << 30))
INVOKE_GPA=$((60 << 30))

# tool TAG ARGS...: invoketool with mote-vmm (sanitized) restoring $BASE.
tool() {
	local tag=$1
	shift
	run "$tag" "$INVOKETOOL" --vmm "$MOTE_VMM" --restore "$BASE" --wait 30 "$@"
}

# refused NAME STATUS REGEX: the last tool run got RUNNING with STATUS, mote-vmm exited STATUS with exactly one
# stderr line (starting "mote-vmm:", matching REGEX) and the guest printed nothing.
refused() {
	local name=$1 want=$2 regex=$3
	expect_status "$name" 0 || return 0
	if ! out_has "^running: status $want: "; then
		fail "$name" "RUNNING did not carry status $want: $(head -n 1 "$OUT")"
	elif ! out_has "^vmm: exit $want\$"; then
		fail "$name" "mote-vmm did not exit $want: $(grep '^vmm:' "$OUT")"
	elif [ "$(stderr_lines)" != 1 ] || ! grep -qE '^mote-vmm: ' "$ERR"; then
		fail "$name" "$(stderr_lines) stderr lines, expected one 'mote-vmm:' line"
	elif ! grep -qiE -- "$regex" "$ERR"; then
		fail "$name" "the line does not mention /$regex/: $(head -c 300 "$ERR")"
	elif [ "$(wc -l <"$OUT")" != 2 ]; then
		fail "$name" "output beyond RUNNING and the exit (the guest ran?): $(head -c 300 "$OUT")"
	else
		pass "$name"
	fi
}

# vm_ended NAME WHAT: the last tool run printed "vmm: WHAT".
vm_ended() {
	local name=$1 what=$2
	if [ "$STATUS" = 124 ]; then
		fail "$name" "hung (the host-side safety timeout)"
		return 1
	elif [ "$SANITIZER" = 1 ]; then
		fail "$name" "sanitizer report on stderr"
		return 1
	elif ! out_has "^vmm: $what\$"; then
		fail "$name" "expected 'vmm: $what', got '$(grep '^vmm:' "$OUT")' (invoketool status $STATUS)"
		return 1
	fi
	return 0
}

# debug_count NAME: the N in "N NAME" of mote-vmm's --debug summary ("... 201 invoke hypercalls; 203 exits").
debug_count() {
	grep -oE "[0-9]+ $1" "$ERR" | tail -n 1 | cut -d' ' -f1
}

for v in musl glibc; do
	root=$E2E_TMP/root-$v
	mkdir -p "$root"
	cp "$TESTBIN/invoke_echo.$v" "$TESTBIN/fn_files.$v" "$root/"
	"$INVOKETOOL" pack "$root" "$E2E_TMP/root-$v.cpio" || fail "pack-$v" "invoketool pack failed"
	BASE=$E2E_TMP/base-$v.snap
	run base-$v "$MOTE_VMM" --kernel "$MOTE_KERNEL" --rootfs "$E2E_TMP/root-$v.cpio" --snapshot "$BASE" \
		--exit-after-snapshot -- /invoke_echo.$v
	expect_status "base-snapshot-$v" 0 && pass "base-snapshot-$v"

	# ---- many requests, 0 bytes to the caps, byte-exact, one exit per request ----
	n=120
	tool echo-$v --req-cap $((4 * MIB)) --resp-cap $((4 * MIB)) --arg --debug echo $n $((4 * MIB))
	if vm_ended "echo-$v" "exit 0"; then
		invokes=$(debug_count "invoke hypercalls")
		exits=$(debug_count exits)
		if ! out_has "^first: ready generation=1\$"; then
			fail "echo-$v" "the first message was not the runtime's READY: $(grep '^first' "$OUT")"
		elif ! out_has "^echo: $n requests ok"; then
			fail "echo-$v" "the echo failed: $(grep -v '^vmm' "$ERR" | head -n 2)"
		elif [ "$invokes" != $((n + 1)) ]; then
			fail "echo-$v" "$invokes MOTE_HC_INVOKE exits for $n requests, expected $((n + 1))"
		elif [ $((exits - invokes)) -gt 4 ]; then
			fail "echo-$v" "$exits exits in all for $invokes invoke hypercalls: more than one exit per request"
		else
			pass "echo-$v"
		fi
	fi

	# ---- the device's semantics, console order ----
	tool probe-$v --resp-cap $MIB send "probe:$MIB" "log:a line from request 2" "after the log" raw:1 raw:ffffffff
	if vm_ended "probe-$v" "exit 72"; then
		want='^message 1 [0-9]+: probe fionread=0/0 lseek=-1/ESPIPE pread=-1/ESPIPE poll=1/out overfull=-1/EMSGSIZE$'
		if ! out_has "$want"; then
			fail "probe-$v" "FIONREAD, lseek, pread, poll or EMSGSIZE: $(grep '^message 1' "$OUT")"
		elif ! grep -A1 -x 'a line from request 2' "$OUT" | tail -n 1 | grep -q '^message 2 6: logged$'; then
			fail "probe-$v" "the request's console line does not come right before its response"
		elif ! out_has '^message 3 13: bgufs!uif!mph$'; then
			fail "probe-$v" "the request after the log was not echoed"
		elif ! out_has '^message 4 [0-9]+: raw ret=-22$' || ! out_has '^message 5 [0-9]+: raw ret=-22$'; then
			fail "probe-$v" "MOTE_HC_INVOKE with flags != 0 was not refused with EINVAL (and no doorbell)"
		else
			pass "probe-$v"
		fi
	fi

	# ---- the supervisor hangs up: the VM ends, status 72, one line ----
	tool hangup-$v hangup 3
	if vm_ended "hangup-$v" "exit 72"; then
		if [ "$(stderr_lines)" = 1 ] && grep -q '^mote-vmm: the supervisor closed the control channel' "$ERR"; then
			pass "hangup-$v"
		else
			fail "hangup-$v" "expected one line about the closed channel: $(head -c 300 "$ERR")"
		fi
	fi

	# ---- --timeout still ends a VM that waits for a request ----
	tool timeout-$v --arg --timeout --arg 0.5 idle
	if vm_ended "timeout-while-waiting-$v" "signal 14"; then
		if grep -q 'timed out' "$ERR"; then pass "timeout-while-waiting-$v"; else fail "timeout-while-waiting-$v" "no timeout line"; fi
	fi

	# ---- a snapshot taken while the guest waits: the VM goes on, and its clone waits anew ----
	snap=$E2E_TMP/wait-$v.snap
	tool snapwait-$v --arg --snapshot --arg "$snap" snapwait "$snap"
	if vm_ended "snapshot-while-waiting-$v" "exit 0"; then
		if out_has '^echo: 3 requests ok after the snapshot$'; then pass "snapshot-while-waiting-$v"; else fail "snapshot-while-waiting-$v" "no echo after the snapshot"; fi
	fi
	run wait-clone-$v "$INVOKETOOL" --vmm "$MOTE_VMM" --restore "$snap" send abc quit
	if vm_ended "snapshot-while-waiting-clone-$v" "exit 0"; then
		if out_has '^first: $' && out_has '^message 1 3: bcd$'; then
			pass "snapshot-while-waiting-clone-$v"
		else
			fail "snapshot-while-waiting-clone-$v" "expected an empty first message, then the echo: $(tr '\n' ';' <"$OUT")"
		fi
	fi

	# ---- no attach: the runtime's open of /dev/mote/invoke is ENODEV ----
	run noattach-$v "$MOTE_VMM" --restore "$BASE"
	if expect_status "no-attach-enodev-$v" 2 && grep -q 'open /dev/mote/invoke: No such device' "$ERR"; then
		pass "no-attach-enodev-$v"
	elif [ "$STATUS" = 2 ]; then
		fail "no-attach-enodev-$v" "no ENODEV line: $(head -c 200 "$ERR")"
	fi

	# ---- accesses outside what is attached: crash reports, not monitor crashes ----
	"$INVOKETOOL" pack "$root" "$E2E_TMP/bundle-$v.cpio"
	bsize=$(stat -c %s "$E2E_TMP/bundle-$v.cpio")
	isize=$((4096 + 2 * MIB))
	tool peek-ok-$v --bundle "$E2E_TMP/bundle-$v.cpio" send "peek:$(printf %x $BUNDLE_GPA)" \
		"peek:$(printf %x $INVOKE_GPA)" "peek:$(printf %x $((BUNDLE_GPA + 1)))"
	if vm_ended "peek-inside-$v" "exit 72"; then
		# The bundle starts with the cpio magic "07", the region with the low byte of MOTE_INVOKE_MAGIC.
		if out_has '^message 1 9: peeked 30$' && out_has '^message 2 9: peeked 69$' && out_has '^message 3 9: peeked 37$'; then
			pass "peek-inside-$v"
		else
			fail "peek-inside-$v" "the windows do not hold the bundle and the region: $(tr '\n' ';' <"$OUT")"
		fi
	fi
	for c in "invoke-past:peek:$(printf %x $((INVOKE_GPA + isize))):past the end of the attached invoke region" \
		"bundle-past:peek:$(printf %x $((BUNDLE_GPA + (bsize + 4095) / 4096 * 4096 + 4096))):past the end of the attached bundle" \
		"bundle-write:poke:$(printf %x $((BUNDLE_GPA + 64))):read-only bundle" \
		"no-bundle:peek:$(printf %x $((BUNDLE_GPA + 4096))):no bundle attached"; do
		IFS=: read -r name op addr why <<<"$c"
		bundle_arg=(--bundle "$E2E_TMP/bundle-$v.cpio")
		[ "$name" = no-bundle ] && bundle_arg=()
		tool "crash-$name-$v" "${bundle_arg[@]}" send "$op:$addr"
		if vm_ended "crash-$name-$v" "signal 11"; then
			if grep -q 'mote-vmm: guest crashed' "$ERR" && grep -q -- "$why" "$ERR"; then
				pass "crash-$name-$v"
			else
				fail "crash-$name-$v" "no crash report naming '$why': $(head -n 3 "$ERR" | tr '\n' ';')"
			fi
		fi
	done

	# ---- /fn: the bundle read-only, and a program exec'd from it ----
	b=$E2E_TMP/fn-$v
	mkdir -p "$b/sub"
	printf 'hello from the bundle\n' >"$b/hello.txt"
	chmod 644 "$b/hello.txt"
	touch -d @1700000000 "$b/hello.txt"
	python3 -c 'import sys; sys.stdout.buffer.write(bytes(i & 255 for i in range(4096)))' >"$b/sub/data.bin"
	ln -s hello.txt "$b/link"
	cp "$TESTBIN/args.$v" "$b/handler"
	"$INVOKETOOL" pack "$b" "$E2E_TMP/fn-$v.cpio"
	FNBASE=$E2E_TMP/fnbase-$v.snap
	run fnbase-$v "$MOTE_VMM" --kernel "$MOTE_KERNEL" --rootfs "$E2E_TMP/root-$v.cpio" --snapshot "$FNBASE" \
		--exit-after-snapshot -- /fn_files.$v
	run fn-$v "$INVOKETOOL" --vmm "$MOTE_VMM" --restore "$FNBASE" --bundle "$E2E_TMP/fn-$v.cpio" idle
	if vm_ended "fn-read-only-$v" "exit 0"; then
		if ! out_has '^fn_files: all checks passed$'; then
			fail "fn-read-only-$v" "$(grep -m 3 FAILED "$ERR" | tr '\n' ';')"
		elif ! out_has '^argv\[1\]=\[from-fn\]$' || ! out_has '^getenv\(FOO\)=\[bundle\]$'; then
			fail "fn-read-only-$v" "the program exec'd from /fn did not run with its argv and env"
		else
			pass "fn-read-only-$v"
		fi
	fi
	run fn-none-$v "$INVOKETOOL" --vmm "$MOTE_VMM" --restore "$FNBASE" idle
	if vm_ended "fn-without-bundle-$v" "exit 3"; then
		if out_has '^fn_files: no /fn$'; then pass "fn-without-bundle-$v"; else fail "fn-without-bundle-$v" "/fn exists without a bundle"; fi
	fi
done

# ---- refused ATTACHes: a status of their own and one line each; nothing of the guest runs ----
BASE=$E2E_TMP/base-musl.snap
B=$E2E_TMP/bundle-musl.cpio
while read -r kind status regex; do
	tool "bad-$kind" --bundle "$B" bad "$kind"
	refused "attach-refused-$kind" "$status" "$regex"
done <<'EOF'
short 90 message of 280 bytes
long 90 message of more than
magic 90 bad magic
version 90 version 2
type 90 message type 1
nofds 90 carries 0 file descriptors
extra-fd 90 carries 4 file descriptors
bundle-dir 91 not a regular file
bundle-short 91 bundle_size says
bundle-huge 91 exceeds the .*bundle window
invoke-file 92 not a memfd
invoke-small 92 invoke_size says
invoke-unaligned 92 not a multiple of 4096
invoke-huge 92 not a multiple of 4096
invoke-magic 92 bad magic
invoke-version 92 version
invoke-size 92 does not match the mapped size
invoke-overlap 92 overlap
invoke-bounds 92 reaches past the region
invoke-sealed 92 sealed against writes
doorbell-pipe 93 not an eventfd
doorbell-same 93 same eventfd
EOF

# ---- a snapshot whose page tables lack the windows (an older mote-vmm's): 77 before READY ----
old=$E2E_TMP/old.snap
cp "$BASE" "$old" && cp "$BASE.mem" "$old.mem"
# Clear the PDPT entries of GiB 56..60 (PDPT at guest 0x2000, after the memory file's 4 KiB header).
dd if=/dev/zero of="$old.mem" bs=1 seek=$((4096 + 0x2000 + 56 * 8)) count=40 conv=notrunc status=none
tool old-snap --restore "$old" send
if ! out_has '^ready: none'; then
	fail attach-old-snapshot "mote-vmm sent READY: $(head -n 2 "$OUT")"
elif ! out_has '^vmm: exit 77$' || [ "$(stderr_lines)" != 1 ] || ! grep -q 'do not map the attach windows' "$ERR"; then
	fail attach-old-snapshot "expected exit 77 with one line: $(grep vmm: "$OUT"; head -c 300 "$ERR")"
else
	pass attach-old-snapshot
fi

# ---- --control misuse ----
run ctl-no-restore "$MOTE_VMM" --kernel "$MOTE_KERNEL" --control 0 -- /x
expect_one_error control-needs-restore 64 "" "--control needs --restore"
run ctl-not-socket "$MOTE_VMM" --restore "$BASE" --control 0
expect_one_error control-not-a-socket 64 "" "not an AF_UNIX SOCK_SEQPACKET socket"
run ctl-closed "$MOTE_VMM" --restore "$BASE" --control 77
expect_one_error control-closed-fd 64 "" "--control 77"
run ctl-word "$MOTE_VMM" --restore "$BASE" --control three
expect_one_error control-not-a-number 64 "" "not a file descriptor"

# ---- --die-with-parent: the VM dies with the process that started it ----
SPINROOT=$E2E_TMP/spin
mkdir -p "$SPINROOT" && cp "$TESTBIN/spin.musl" "$SPINROOT/"
"$INVOKETOOL" pack "$SPINROOT" "$E2E_TMP/spin.cpio"
bash -c '"$1" --die-with-parent --timeout 20 --kernel "$2" --rootfs "$3" -- /spin.musl >/dev/null 2>&1 & echo $! >"$4"; sleep 60' \
	_ "$MOTE_VMM" "$MOTE_KERNEL" "$E2E_TMP/spin.cpio" "$E2E_TMP/spin.pid" &
parent=$!
for _ in $(seq 100); do [ -s "$E2E_TMP/spin.pid" ] && break; sleep 0.05; done
vmm=$(cat "$E2E_TMP/spin.pid" 2>/dev/null)
sleep 0.3
kill -KILL "$parent" 2>/dev/null
wait "$parent" 2>/dev/null
gone=0
for _ in $(seq 100); do
	if [ -z "$vmm" ] || ! kill -0 "$vmm" 2>/dev/null; then gone=1 && break; fi
	sleep 0.05
done
if [ "$gone" = 1 ] && [ -n "$vmm" ]; then
	pass die-with-parent
else
	fail die-with-parent "mote-vmm (pid ${vmm:-?}) outlived its parent"
	[ -n "$vmm" ] && kill -KILL "$vmm" 2>/dev/null
fi
# Started by a parent that is already gone (reparented to pid 1): mote-vmm exits at once. A pid namespace of
# its own makes sure pid 1 is who adopts orphans (not a subreaper of the machine's).
orphan() {
	(
		(
			sleep 0.3
			me=$BASHPID
			ppid=$(awk '{print $4}' "/proc/$me/stat")
			if [ "$ppid" != 1 ]; then
				echo "reparented to $ppid, not 1" >"$E2E_TMP/orphan.skip"
				exit 0
			fi
			echo "$me" >"$E2E_TMP/orphan.pid"
			exec "$MOTE_VMM" --die-with-parent --timeout 5 --kernel "$MOTE_KERNEL" --rootfs "$E2E_TMP/spin.cpio" \
				-- /spin.musl >"$E2E_TMP/orphan.out" 2>"$E2E_TMP/orphan.err"
		) &
	)
	# mote-vmm is nobody's child here: wait until it is gone (its status is not to be had) or 3 s passed.
	for _ in $(seq 60); do [ -s "$E2E_TMP/orphan.pid" ] || [ -s "$E2E_TMP/orphan.skip" ] && break; sleep 0.05; done
	local pid
	pid=$(cat "$E2E_TMP/orphan.pid" 2>/dev/null)
	for _ in $(seq 60); do
		[ -n "$pid" ] && [ -e "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || break
		sleep 0.05
	done
	[ -n "$pid" ] && [ -e "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] &&
		echo running >"$E2E_TMP/orphan.alive"
	return 0
}
export -f orphan
export E2E_TMP MOTE_VMM MOTE_KERNEL
if ! unshare --pid --fork --mount-proc bash -c orphan 2>/dev/null; then
	orphan
fi
if [ -s "$E2E_TMP/orphan.skip" ]; then
	skip die-with-parent-orphan "$(cat "$E2E_TMP/orphan.skip") (a subreaper)"
elif [ ! -e "$E2E_TMP/orphan.alive" ] && [ ! -s "$E2E_TMP/orphan.out" ] &&
	[ "$(awk 'END { print NR }' "$E2E_TMP/orphan.err" 2>/dev/null)" = 1 ] &&
	grep -q '^mote-vmm: --die-with-parent: the parent process is already gone' "$E2E_TMP/orphan.err"; then
	pass die-with-parent-orphan
else
	fail die-with-parent-orphan "$([ -e "$E2E_TMP/orphan.alive" ] && echo 'still running; ')$(head -c 200 "$E2E_TMP/orphan.err" 2>/dev/null)"
fi
e2e_finish

#!/usr/bin/env bash
# End-to-end: mote-vmm's seccomp allowlist (docs/seccomp.md), for the production build (plain, static musl)
# and the sanitized one (asan, its wider policy): (1) every thread of a running monitor is filtered, and
# --no-seccomp leaves it out; (2) a refused system call, tried from inside with --debug-try, kills it by SIGSYS
# with one clear line, for mote-vmm, `mote run` and `mote snapshot restore`; (3) ioctl requests are filtered
# by number; (4) other ABIs (x32, i386) are killed; (5) bad --debug-try actions; (6) the scenarios the filter
# must let through (console, sleep, timeout, crash report, snapshot by the guest and by `mote snapshot take`,
# restore, attach and invoke) pass under the production policy too (the rest of `make check` runs the
# sanitized build); (7) the policy generator is deterministic.
. "$(dirname "$0")/lib.sh"
need_built "$MOTE" "$MOTE_VMM" "$MOTE_KERNEL" "$E2E_BUILD/mote" "$E2E_BUILD/mote-vmm" "$E2E_BUILD/gen/seccomp_policy" \
	"$TESTBIN/stdio.musl" "$TESTBIN/spin.musl" "$TESTBIN/snap_hello.musl" "$TESTBIN/crash_null.musl" \
	"$TESTBIN/time.musl" "$INVOKETOOL" "$TESTBIN/invoke_echo.musl"

# ---- 7: the generator gives the same BPF program every time, the one built in ----
for k in plain asan; do
	a=$("$E2E_BUILD/gen/seccomp_policy" $k | sha256sum)
	b=$("$E2E_BUILD/gen/seccomp_policy" $k | sha256sum)
	c=$(sha256sum <"$E2E_BUILD/gen/seccomp_policy_$k.c")
	if [ "$a" = "$b" ] && [ "$a" = "$c" ]; then
		pass "generator-deterministic-$k"
	else
		fail "generator-deterministic-$k" "two runs or the built file differ: $a / $b / $c"
	fi
done
run gen-usage "$E2E_BUILD/gen/seccomp_policy" wide
[ "$STATUS" = 2 ] && grep -q usage "$ERR"
check generator-refuses-unknown-policy $? "status $STATUS"

need_kvm seccomp

BG=""
seccomp_cleanup() {
	local p
	for p in $BG; do kill -9 "$p" 2>/dev/null; done
	e2e_cleanup
}
trap seccomp_cleanup EXIT
HOST_TIMEOUT=40
SIGSYS_STATUS=$((128 + 31))
# A root file system with the programs started by mote-vmm directly.
mkdir -p "$E2E_TMP/root"
cp "$TESTBIN/spin.musl" "$TESTBIN/snap_hello.musl" "$E2E_TMP/root/"
IMG=$E2E_TMP/root.cpio
"$INVOKETOOL" pack "$E2E_TMP/root" "$IMG" || fail seccomp-setup "invoketool pack failed"

# refused NAME SYSCALL-REGEX: the last run died by SIGSYS after exactly the seccomp line naming SYSCALL, the
# guest never ran (nothing on stdout) and no sanitizer spoke.
refused() {
	local name=$1 what=$2
	local line="^mote-vmm: seccomp: system call $what is not allowed; the VM is stopped\$"
	if ! expect_status "$name" $SIGSYS_STATUS "killed by SIGSYS"; then
		return
	elif ! grep -qE "$line" "$ERR"; then
		fail "$name" "no line matching '$line' on stderr"
	elif [ "$(grep -c '^mote-vmm: seccomp:' "$ERR")" != 1 ] || grep -q '^mote-vmm: debug-try' "$ERR"; then
		fail "$name" "more than the one seccomp line, or the try returned"
	elif [ -s "$OUT" ]; then
		fail "$name" "the guest ran: $(head -c 100 "$OUT")"
	else
		pass "$name"
	fi
}

# tried NAME ACTION RESULT-REGEX: the last run printed "debug-try ACTION: RESULT" and then ran the guest to exit 0.
tried() {
	local name=$1 action=$2 result=$3
	if ! expect_status "$name" 0; then
		return
	elif ! grep -qE "^mote-vmm: debug-try $action: $result\$" "$ERR"; then
		fail "$name" "expected 'mote-vmm: debug-try $action: $result', got '$(grep debug-try "$ERR")'"
	elif ! grep -q 'stdout without newline' "$OUT"; then
		fail "$name" "the guest did not run after the try"
	else
		pass "$name"
	fi
}

# wait_line FILE REGEX: wait (at most 20 s) until FILE has a line matching REGEX.
wait_line() {
	local i
	for i in $(seq 1 200); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

for variant in plain asan; do
	if [ $variant = plain ]; then M=$E2E_BUILD/mote VMM=$E2E_BUILD/mote-vmm; else M=$MOTE VMM=$MOTE_VMM; fi

	# ---- 1: every thread of a running mote-vmm is filtered (Seccomp: 2); --no-seccomp leaves it out ----
	for mode in on off; do
		extra=()
		want='seccomp filter installed on every thread'
		if [ $mode = off ]; then
			extra=(--no-seccomp)
			want='seccomp filter not installed'
		fi
		name=status-$mode-$variant
		err=$E2E_TMP/status-$variant-$mode.err
		"$VMM" --kernel "$MOTE_KERNEL" --rootfs "$IMG" --timeout 30 --debug "${extra[@]}" -- /spin.musl \
			>/dev/null 2>"$err" &
		pid=$!
		BG="$BG $pid"
		if ! wait_line "$err" "$want"; then
			fail "$name" "no '$want' line: $(head -c 300 "$err")"
		else
			tasks=$(ls /proc/$pid/task | wc -l)
			modes=$(cat /proc/$pid/task/*/status | sed -n 's/^Seccomp:[[:space:]]*//p' | sort -u | tr '\n' ' ')
			nnp=$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' /proc/$pid/status)
			if [ $mode = on ] && [ "$modes" = "2 " ] && [ "$tasks" -ge 2 ] && [ "$nnp" = 1 ]; then
				pass "$name"
			elif [ $mode = off ] && [ "$modes" = "0 " ] && [ "$tasks" -ge 2 ]; then
				pass "$name"
			else
				fail "$name" "$tasks threads, Seccomp: $modes, NoNewPrivs: $nnp"
			fi
		fi
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
	done

	# ---- 2: a refused system call kills with SIGSYS and one line, whoever started mote-vmm ----
	# (The sanitized build's policy allows ptrace, and kill with SIGKILL: LeakSanitizer needs them.)
	tries="mount execve reboot unshare socket kill"
	[ $variant = plain ] && tries="$tries ptrace"
	for try in $tries; do
		run try-$variant-$try "$M" run --debug-try syscall:$try "$TESTBIN/stdio.musl"
		refused "refused-$variant-$try" "$try \([0-9]+\)( with these arguments)?"
	done
	run fork-$variant "$M" run --debug-try fork "$TESTBIN/stdio.musl"
	refused "refused-$variant-fork" "fork \(57\)"
	run connect-$variant "$M" run --debug-try connect:127.0.0.1:1 "$TESTBIN/stdio.musl"
	refused "refused-$variant-connect" "socket \(41\)"
	# Only the production policy refuses read-only opens (the sanitizer runtime reads /proc/self/maps).
	# --no-jail: in the jail /etc/passwd does not exist at all (tests/e2e/jail.sh); here the filter is tested.
	run open-$variant "$M" run --no-jail --debug-try open:/etc/passwd "$TESTBIN/stdio.musl"
	if [ $variant = plain ]; then
		refused "refused-plain-open-existing-file" "open \(2\) with these arguments"
	else
		tried "asan-allows-read-only-open" open:/etc/passwd ok
	fi
	# mote snapshot restore passes --debug-try on as well.
	run snap-$variant "$M" run --timeout 20 --snapshot "$E2E_TMP/s-$variant.snap" --exit-after-snapshot \
		"$TESTBIN/snap_hello.musl"
	run restore-try-$variant "$M" snapshot restore --debug-try syscall:mount "$E2E_TMP/s-$variant.snap"
	refused "refused-$variant-restore" "mount \(165\)"
	# Started as mote-vmm directly, with --log-fd: the line goes to the log fd.
	run logfd-$variant bash -c 'exec 5>"$1"; shift; exec "$@"' _ "$E2E_TMP/log-$variant" "$VMM" --kernel "$MOTE_KERNEL" \
		--rootfs "$IMG" --log-fd 5 --debug-try syscall:mount -- /snap_hello.musl
	if [ "$STATUS" = $SIGSYS_STATUS ] && grep -q '^mote-vmm: seccomp: system call mount (165) is not allowed; the VM is stopped$' \
		"$E2E_TMP/log-$variant" && ! grep -q seccomp "$ERR"; then
		pass "refused-$variant-log-fd"
	else
		fail "refused-$variant-log-fd" "status $STATUS, log: $(cat "$E2E_TMP/log-$variant")"
	fi

	# ---- 3: ioctl is filtered by request number: KVM_RUN passes, KVM_CREATE_VM and TIOCSTI kill ----
	run ioctl-run-$variant "$M" run --debug-try syscall:ioctl-kvm-run "$TESTBIN/stdio.musl"
	tried "allowed-$variant-ioctl-kvm-run" syscall:ioctl-kvm-run "failed: Bad file descriptor"
	run ioctl-create-$variant "$M" run --debug-try syscall:ioctl-kvm-create-vm "$TESTBIN/stdio.musl"
	refused "refused-$variant-ioctl-kvm-create-vm" "ioctl \(16\) request 0xae01"
	run ioctl-sti-$variant "$M" run --debug-try syscall:ioctl-tiocsti "$TESTBIN/stdio.musl"
	refused "refused-$variant-ioctl-tiocsti" "ioctl \(16\) request 0x5412"
	run getpid-$variant "$M" run --debug-try syscall:getpid "$TESTBIN/stdio.musl"
	tried "allowed-$variant-getpid" syscall:getpid ok

	# ---- 4: another ABI is killed outright (no handler runs) ----
	for abi in x32-write i386-getpid; do
		run abi-$variant-$abi "$M" run --debug-try syscall:$abi "$TESTBIN/stdio.musl"
		if [ "$STATUS" = $SIGSYS_STATUS ] && ! grep -q 'debug-try' "$ERR" && [ ! -s "$OUT" ]; then
			pass "killed-$variant-$abi"
		else
			fail "killed-$variant-$abi" "status $STATUS, expected $SIGSYS_STATUS with no debug-try line"
		fi
	done

	# ---- without the filter the same attempts reach the kernel ----
	run nofilter-$variant "$VMM" --kernel "$MOTE_KERNEL" --rootfs "$IMG" --no-seccomp --debug-try syscall:mount -- \
		/snap_hello.musl
	if [ "$STATUS" = 0 ] && grep -q '^mote-vmm: debug-try syscall:mount: failed: Bad address$' "$ERR"; then
		pass "no-seccomp-$variant-mount-reaches-the-kernel"
	else
		fail "no-seccomp-$variant-mount-reaches-the-kernel" "status $STATUS: $(grep debug-try "$ERR")"
	fi
	run nofilter-fork-$variant "$VMM" --kernel "$MOTE_KERNEL" --rootfs "$IMG" --no-seccomp --debug-try fork -- \
		/snap_hello.musl
	if [ "$STATUS" = 0 ] && grep -q '^mote-vmm: debug-try fork: ok$' "$ERR"; then
		pass "no-seccomp-$variant-fork-works"
	else
		fail "no-seccomp-$variant-fork-works" "status $STATUS: $(grep debug-try "$ERR")"
	fi

	# ---- 5: bad actions: one line, status 64, nothing started ----
	for bad in bogus open: connect:1.2.3.4 connect:1.2.3.4:0 connect:host:80 syscall:nope syscall:; do
		run bad-$variant "$M" run --debug-try "$bad" "$TESTBIN/stdio.musl"
		expect_one_error "bad-action-$variant-$bad" 64 "$bad" 'debug-try'
	done
	run bad-vmm-$variant "$VMM" --kernel "$MOTE_KERNEL" --rootfs "$IMG" --debug-try fork:now -- /snap_hello.musl
	expect_one_error "bad-action-$variant-mote-vmm" 64 "fork:now" 'debug-try'

	# ---- 6: what the filter must let through (the production policy; the sanitized one runs all of make check) ----
	[ $variant = asan ] && continue
	run console "$M" run --debug "$TESTBIN/stdio.musl"
	if expect_status console-plain 0 && grep -q 'seccomp filter installed on every thread (plain policy): [0-9]* system calls' "$ERR"; then
		pass console-plain
	fi
	run time "$M" run "$TESTBIN/time.musl"
	expect_status sleep-and-clock-plain 0 && pass sleep-and-clock-plain
	run timeout "$M" run --timeout 0.5 "$TESTBIN/spin.musl"
	if expect_status timeout-plain 142 && grep -q 'guest timed out' "$ERR"; then pass timeout-plain; fi
	run crash "$M" run "$TESTBIN/crash_null.musl"
	if expect_status crash-report-plain 139 && grep -q 'rip 0x' "$ERR" && ! grep -q seccomp "$ERR"; then
		pass crash-report-plain
	fi
	run restore "$M" snapshot restore --debug "$E2E_TMP/s-plain.snap"
	if expect_status restore-plain 0 && ! grep -q 'seccomp:' "$ERR"; then pass restore-plain; fi
	# A clone snapshotted again by the guest (the snapshot writer under the filter), then restored.
	run resnap "$M" snapshot restore --snapshot "$E2E_TMP/r-plain.snap" "$E2E_TMP/s-plain.snap"
	if expect_status snapshot-writer-plain 0 && [ -f "$E2E_TMP/r-plain.snap.mem" ]; then
		pass snapshot-writer-plain
	fi
	# `mote snapshot take` of a running VM: SIGUSR1 in, the snapshot written by a thread, the sigqueue answer.
	"$M" run --timeout 30 --snapshot "$E2E_TMP/t-plain.snap" "$TESTBIN/spin.musl" >"$E2E_TMP/take.out" 2>"$E2E_TMP/take.err" &
	pid=$!
	BG="$BG $pid"
	wait_line "$E2E_TMP/take.out" spinning
	run take "$M" snapshot take --wait 20 $pid
	if expect_status snapshot-take-plain 0 && [ -f "$E2E_TMP/t-plain.snap.mem" ] && kill -0 $pid 2>/dev/null &&
		! grep -q seccomp "$E2E_TMP/take.err"; then
		pass snapshot-take-plain
	fi
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	# Attach and invoke: the control channel and the doorbells under the filter.
	root=$E2E_TMP/fnroot
	mkdir -p "$root"
	cp "$TESTBIN/invoke_echo.musl" "$root/"
	"$INVOKETOOL" pack "$root" "$E2E_TMP/fnroot.cpio"
	run fnbase "$VMM" --kernel "$MOTE_KERNEL" --rootfs "$E2E_TMP/fnroot.cpio" --snapshot "$E2E_TMP/fn.snap" \
		--exit-after-snapshot -- /invoke_echo.musl
	run invoke "$INVOKETOOL" --vmm "$VMM" --restore "$E2E_TMP/fn.snap" --wait 30 echo 20 4096
	if grep -q '^echo: 20 requests ok' "$OUT" && ! grep -q 'seccomp:' "$OUT" "$ERR"; then
		pass attach-invoke-plain
	else
		fail attach-invoke-plain "status $STATUS: $(grep -E 'echo|vmm' "$OUT" "$ERR" | head -n 3)"
	fi
done
e2e_finish

#!/usr/bin/env bash
# End-to-end: the monitor holds up against untrusted snapshots and odd start-up conditions (issue 8). One
# group per fault: (1) FIFOs and other non-regular inputs, (2) no host path taken from a snapshot, the kernel
# identity, (3) hostile vCPU state, (4) closed stdio and inherited descriptors and environment, (5) misaligned
# hypercall structs, (6) the sleep cap, (7) guest output that imitates the monitor, (8) the clock generation.
. "$(dirname "$0")/lib.sh"
need_kvm hardening
need_built "$MOTE" "$MOTE_VMM" "$MOTE_KERNEL" "$SNAPTOOL" "$TESTBIN/snap_hello.musl" "$TESTBIN/snap_kcrash.musl" \
	"$TESTBIN/spin.musl" "$TESTBIN/hostile.musl" "$TESTBIN/impostor.musl" "$TESTBIN/crash_null.musl"

W=$E2E_TMP/w
mkdir -p "$W"
BG=""
hardening_cleanup() {
	local p
	for p in $BG; do kill -9 "$p" 2>/dev/null; done
	e2e_cleanup
}
trap hardening_cleanup EXIT

# Refusals must come at once: a blocked open() shows as the safety timeout (status 124).
HOST_TIMEOUT=20

# A snapshot of snap_hello to mutate, and copies of it.
mote_run good --timeout 20 --snapshot "$W/good.snap" --exit-after-snapshot "$TESTBIN/snap_hello.musl"
if [ "$STATUS" != 0 ] || [ ! -f "$W/good.snap.mem" ]; then
	fail hardening-setup "cannot take the reference snapshot (status $STATUS)"
	e2e_finish
fi
# copy NAME: a copy of the good state file at $W/NAME.snap, its memory file a hard link (not to be modified).
copy() {
	rm -f "$W/$1.snap" "$W/$1.snap.mem"
	cp "$W/good.snap" "$W/$1.snap"
	ln "$W/good.snap.mem" "$W/$1.snap.mem"
	echo "$W/$1.snap"
}
# copy_mem NAME: like copy, with a private sparse copy of the memory file.
copy_mem() {
	rm -f "$W/$1.snap" "$W/$1.snap.mem"
	cp "$W/good.snap" "$W/$1.snap"
	cp --sparse=always "$W/good.snap.mem" "$W/$1.snap.mem"
	echo "$W/$1.snap"
}
restore() {
	local tag=$1 file=$2
	shift 2
	run "$tag" "$MOTE" snapshot restore --timeout 20 "$@" "$file"
}

# ---- 1: inputs that are FIFOs (or other non-regular files) are refused without blocking ----
mkfifo "$W/fifo"
mkfifo "$W/fifo.snap"
restore fifo-state "$W/fifo.snap"
expect_one_error fault1-state-file-is-a-fifo 75 "$W/fifo.snap" 'FIFO'
f=$(copy fifomem)
rm -f "$f.mem"
mkfifo "$f.mem"
restore fifo-mem "$f"
expect_one_error fault1-memory-file-is-a-fifo 77 "$f.mem" 'FIFO'
f=$(copy linkmem)
rm -f "$f.mem"
ln -s "$W/fifo" "$f.mem"
restore link-mem "$f"
expect_one_error fault1-memory-file-is-a-symlink-to-a-fifo 77 "$f.mem" 'FIFO'
f=$(copy chrmem)
rm -f "$f.mem"
ln -s /dev/zero "$f.mem"
restore chr-mem "$f"
expect_one_error fault1-memory-file-is-a-device 77 "$f.mem" 'character device'
run fifo-kernel-restore "$MOTE_VMM" --restore "$W/good.snap" --kernel "$W/fifo"
expect_one_error fault1-restore-kernel-is-a-fifo 71 "$W/fifo" 'FIFO'
run fifo-kernel-boot "$MOTE_VMM" --kernel "$W/fifo" --rootfs "$W/fifo" -- /x
expect_one_error fault1-boot-kernel-is-a-fifo 71 "$W/fifo" 'FIFO'
run fifo-rootfs "$MOTE_VMM" --kernel "$MOTE_KERNEL" --rootfs "$W/fifo" -- /x
expect_one_error fault1-rootfs-image-is-a-fifo 73 "$W/fifo" 'FIFO'
mote_run fifo-program --timeout 20 "$W/fifo"
expect_one_error fault1-program-is-a-fifo 67 "$W/fifo" 'FIFO'

# ---- 2: the kernel is identified by its SHA-256, taken from --kernel, never from a path in the snapshot ----
kid=$("$SNAPTOOL" info "$W/good.snap" | sed -n 's/^kernel-id //p')
if [ -n "$kid" ] && [ "$kid" = "$(sha256sum <"$MOTE_KERNEL" | cut -d' ' -f1)" ]; then
	pass fault2-snapshot-holds-kernel-sha256
else
	fail fault2-snapshot-holds-kernel-sha256 "kernel-id '$kid' is not sha256sum of $MOTE_KERNEL"
fi
entry=$(nm "$MOTE_KERNEL" | awk '$3 == "syscall_entry" { print "0x" $1 }')
mote_run kcrash --timeout 20 --snapshot "$W/kcrash.snap" --exit-after-snapshot "$TESTBIN/snap_kcrash.musl" "$entry"
if [ -z "$entry" ] || [ "$STATUS" != 0 ] || [ ! -f "$W/kcrash.snap" ]; then
	fail fault2-setup "cannot take the crashing snapshot (status $STATUS, syscall_entry '$entry')"
else
	# expect_kernel_crash NAME WANT: a clone crashed (SIGSEGV) in the kernel, and its report says WANT.
	expect_kernel_crash() {
		if ! expect_status "$1" 139; then
			return 0
		elif ! err_has "^mote-vmm:   rip 0x0*${entry#0x} in the guest kernel $2"; then
			fail "$1" "the crash report does not say 'in the guest kernel $2': $(grep -m1 'rip ' "$ERR")"
		else
			pass "$1"
		fi
	}
	restore kcrash-clone "$W/kcrash.snap"
	expect_kernel_crash fault2-clone-crash-symbolized-with-installed-kernel '\(syscall_entry\+0\)'
	run kcrash-default "$MOTE_VMM" --restore "$W/kcrash.snap"
	expect_kernel_crash fault2-default-kernel-beside-mote-vmm '\(syscall_entry\+0\)'
	cp "$MOTE_KERNEL" "$W/other-kernel"
	printf 'x' >>"$W/other-kernel" # still a valid ELF with the same symbols, but another file
	run kcrash-other "$MOTE_VMM" --restore "$W/kcrash.snap" --kernel "$W/other-kernel"
	expect_kernel_crash fault2-other-kernel-not-used-for-symbols '\(no symbols: .*not the one this snapshot booted\)'
	run kcrash-missing "$MOTE_VMM" --restore "$W/kcrash.snap" --kernel "$W/no-such-kernel"
	expect_one_error fault2-restore-kernel-missing 66 "$W/no-such-kernel" 'kernel'
	# A snapshot naming a host path where the identity belongs: a path of another size is malformed; one
	# of exactly 32 bytes is only a wrong hash. Neither is opened (a FIFO there would block).
	f=$W/kcrash-path.snap
	cp "$W/kcrash.snap" "$f"
	ln -f "$W/kcrash.snap.mem" "$f.mem"
	"$SNAPTOOL" set-section "$f" 10 "$W/fifo"
	restore kcrash-path "$f"
	expect_one_error fault2-kernel-path-in-snapshot-refused 75 "$f" 'kernel identity'
	p32=/tmp/mote-kid-$$
	while [ ${#p32} -lt 32 ]; do p32=${p32}x; done
	mkfifo "$p32"
	"$SNAPTOOL" set-section "$f" 10 "$p32"
	restore kcrash-path32 "$f"
	rm -f "$p32"
	expect_kernel_crash fault2-32-byte-path-is-only-a-wrong-hash '\(no symbols: .*not the one this snapshot booted\)'
fi

# ---- 3: vCPU state mote never saves is refused before any guest code runs ----
# mutate NAME STATUS REGEX SNAPTOOL-ARGS...: a copy changed by `snaptool ARGS` must be refused with STATUS.
mutate() {
	local name=$1 status=$2 regex=$3 f
	shift 3
	f=$(copy "$name")
	if ! "$SNAPTOOL" "$1" "$f" "${@:2}"; then
		fail "fault3-$name" "snaptool $* failed"
		return 0
	fi
	restore "m-$name" "$f"
	expect_one_error "fault3-$name" "$status" "$f" "$regex"
}
mutate cs-at-cpl0 75 'CS' set cs.dpl 0
mutate cs-kernel-selector 75 'CS' set cs.selector 0x08
mutate ss-at-cpl0 75 'SS' set ss.dpl 0
mutate ds-kernel-descriptor 75 'data segment' set ds.dpl 0
mutate fs-base-noncanonical 75 'FS or GS' set fs.base 0x0000800000000000
mutate ldt-loaded 75 'LDT' set ldt.unusable 0 ldt.present 1 ldt.selector 0x38
mutate other-gdt 75 'GDT' set gdt.base 0x7000
mutate idt-loaded 75 'IDT' set idt.limit 0xfff
mutate other-tss 75 'TR' set tr.base 0x7000
mutate cr0-cache-disable 75 'CR0' set cr0 0xc0010033
mutate cr3-other-page-table 75 'CR3' set cr3 0x2000
mutate cr4-smep 75 'CR4' set cr4 0x100620
mutate cr8-set 75 'CR8' set cr8 1
mutate efer-svme 75 'EFER' set efer 0x1501
mutate apic-moved-onto-boot-info 75 'APIC' set apic_base 0x9900
mutate interrupt-pending 75 'interrupt' set interrupt_bitmap0 1
mutate rflags-vm86 75 'RFLAGS' set rflags 0x20002
mutate rip-noncanonical 75 'RIP' set rip 0x0000800000000000
mutate msr-kvm-wall-clock-new 75 'MSR 0x4b564d00' set-msr 0x4b564d00 0x9001
mutate msr-kvm-wall-clock 75 'MSR 0x11' set-msr 0x11 0x9001
mutate msr-kvm-system-time 75 'MSR 0x4b564d01' set-msr 0x4b564d01 0x9001
mutate msr-kvm-steal-time 75 'MSR 0x4b564d03' set-msr 0x4b564d03 0x9001
mutate msr-sysenter-eip 75 'MSR 0x176' set-msr 0x176 0x100000
mutate msr-lstar-outside-kernel 75 'MSR 0xc0000082' set-msr 0xc0000082 0x500000
mutate msr-star-other 75 'MSR 0xc0000081' set-msr 0xc0000081 0x0023001000000000
mutate msr-pat 75 'MSR 0x277' set-msr 0x277 0x0606060606060606
mutate exception-pending 75 'exception' set exception.pending 1
mutate exception-injected 75 'exception' set exception.injected 1
mutate nmi-pending 75 'NMI' set nmi.pending 1
mutate smm 75 'system management' set smi.smm 1
mutate smi-pending 75 'system management' set smi.pending 1
mutate breakpoint-enabled 75 'breakpoint' set dr7 0x401
mutate xcr0-pkru 77 'XCR0' set xcr0 0x207
mutate cpuid-leaf-host-lacks 77 'CPUID leaf 0x4fffff00' add-cpuid 0x4fffff00 0
restore good-still "$(copy unchanged)"
if expect_status fault3-unchanged-copy-restores 0 && out_has '^snap_hello: after, generation 1$'; then
	pass fault3-unchanged-copy-restores
elif [ "$STATUS" = 0 ]; then
	fail fault3-unchanged-copy-restores "no clone output"
fi

# ---- 4: closed stdio, inherited descriptors and the host environment ----
# A VM started with stdout closed, fd 7 open on a file, and a secret in the environment.
mkdir -p "$W/cache4"
(
	exec 7>"$W/inherited"
	export XDG_CACHE_HOME=$W/cache4 MOTE_TEST_SECRET=hunter2
	exec "$MOTE" run --timeout 20 "$TESTBIN/spin.musl" >&- 2>"$W/fd.err" </dev/null
) &
sup=$!
BG="$BG $sup"
up=0
for _ in $(seq 1 500); do
	vm=$(monitor_of "$sup")
	[ -n "$vm" ] && ls -l "/proc/$vm/fd" 2>/dev/null | grep -q 'kvm-vcpu' && up=1 && break
	sleep 0.02
done
if [ "$up" = 0 ]; then
	fail fault4-setup "the VM did not start: $(head -c 300 "$W/fd.err")"
else
	fd1=$(readlink "/proc/$vm/fd/1")
	if [ "$fd1" = /dev/null ]; then pass fault4-closed-stdout-is-dev-null; else fail fault4-closed-stdout-is-dev-null "fd 1 of mote-vmm is $fd1"; fi
	if [ ! -e "/proc/$vm/fd/7" ]; then
		pass fault4-inherited-fd-closed
	else
		fail fault4-inherited-fd-closed "fd 7 is still open: $(readlink "/proc/$vm/fd/7")"
	fi
	if ! tr '\0' '\n' <"/proc/$vm/environ" | grep -q MOTE_TEST_SECRET; then
		pass fault4-host-environment-not-passed
	else
		fail fault4-host-environment-not-passed "mote-vmm's environment holds MOTE_TEST_SECRET"
	fi
fi
kill -9 "$sup" 2>/dev/null
wait "$sup" 2>/dev/null
# --keep-fd keeps a descriptor on purpose (mote-vmm started directly, on the image the run above packed).
image=$(find "$W/cache4" -name '*.cpio' | head -n 1)
(
	exec 7>"$W/kept" 8>"$W/not-kept"
	exec "$MOTE_VMM" --kernel "$MOTE_KERNEL" --rootfs "$image" --timeout 20 --keep-fd 7 -- /spin.musl >/dev/null 2>&1
) &
vm=$!
BG="$BG $vm"
up=0
for _ in $(seq 1 500); do
	ls -l "/proc/$vm/fd" 2>/dev/null | grep -q 'kvm-vcpu' && up=1 && break
	sleep 0.02
done
if [ -z "$image" ] || [ "$up" = 0 ]; then
	fail fault4-keep-fd "the VM did not start (image '$image')"
elif [ "$(readlink "/proc/$vm/fd/7")" = "$W/kept" ] && [ ! -e "/proc/$vm/fd/8" ]; then
	pass fault4-keep-fd-keeps-only-that-fd
else
	fail fault4-keep-fd-keeps-only-that-fd "fd 7: $(readlink "/proc/$vm/fd/7"), fd 8: $(readlink "/proc/$vm/fd/8")"
fi
kill -9 "$vm" 2>/dev/null
wait "$vm" 2>/dev/null
run keep-bad "$MOTE_VMM" --keep-fd 99 --kernel "$MOTE_KERNEL" -- /x
expect_one_error fault4-keep-fd-not-open 64 "" '--keep-fd 99'
# A clone started with stdout closed snapshots again and prints: its output must not land in the new
# snapshot's memory file (which would take fd 1 if it were free), and that snapshot must restore.
mote_run again --timeout 20 --snapshot "$W/again.snap" --exit-after-snapshot "$TESTBIN/snap_hello.musl" again
run closed-restore bash -c 'exec "$@" >&-' bash "$MOTE" snapshot restore --timeout 20 --snapshot "$W/again2.snap" \
	"$W/again.snap"
if ! expect_status fault4-closed-stdout-clone-snapshots 0; then
	:
elif [ "$(head -c 7 "$W/again2.snap.mem" 2>/dev/null)" != MOTEMEM ]; then
	fail fault4-closed-stdout-clone-snapshots "no second snapshot, or its memory file header was overwritten"
else
	restore again2 "$W/again2.snap"
	# Its clone resumes right after the second request.
	if expect_status fault4-closed-stdout-clone-snapshots 0 &&
		[ "$(grep -c '^snap_hello: again (1)$' "$OUT")" = 64 ] && [ "$(grep -c . "$OUT")" = 64 ]; then
		pass fault4-closed-stdout-clone-snapshots
	elif [ "$STATUS" = 0 ]; then
		fail fault4-closed-stdout-clone-snapshots "the second snapshot's clone should print 64 'again (1)' lines"
	fi
fi

# ---- 5: hypercall structs at odd addresses ----
mote_run misaligned --timeout 20 "$TESTBIN/hostile.musl" $((64 << 20)) misaligned
if expect_status fault5-misaligned-hypercall-structs 0 "$(grep -m 3 FAILED "$OUT" | tr '\n' ';')"; then
	if out_has '^hostile: survived$' && [ "$(grep -c '^hostile: misaligned console write$' "$OUT")" = 4 ]; then
		pass fault5-misaligned-hypercall-structs
	else
		fail fault5-misaligned-hypercall-structs "expected 'survived' and 4 misaligned console writes"
	fi
fi
mote_run misaligned-exit --timeout 20 "$TESTBIN/hostile.musl" $((64 << 20)) exit
expect_status fault5-misaligned-exit-struct 7 && pass fault5-misaligned-exit-struct

# ---- 6: one sleep call blocks the monitor for at most about a second ----
# (--debug: mote-vmm counts the sleep calls; nanosleep(1.2 s) must have taken at least two.)
mote_run sleepcap --timeout 20 --debug "$TESTBIN/hostile.musl" $((64 << 20)) sleep-cap
if expect_status fault6-sleep-capped 0 "$(grep -m 3 FAILED "$OUT" | tr '\n' ';')"; then
	sleeps=$(sed -n 's/.* \([0-9]*\) sleep,.*/\1/p' "$ERR")
	if ! out_has '^hostile: survived$'; then
		fail fault6-sleep-capped "$(grep -m 2 FAILED "$OUT" | tr '\n' ';')"
	elif [ -z "$sleeps" ] || [ "$sleeps" -lt 3 ]; then
		fail fault6-sleep-capped "expected at least 3 sleep hypercalls (1 direct, 2 for the 1.2 s nanosleep), mote-vmm counted '$sleeps'"
	else
		pass "fault6-sleep-capped ($(grep -m1 'returned after' "$OUT" | sed 's/.*after //'), $sleeps sleep calls)"
	fi
fi

# ---- 6b: a program that forges the preemption area only redirects itself ----
# It points the entry at its own function and claims 1000 contenders: the monitor preempts it there, the
# function says so and exits 9. Nothing else happens: the monitor reads the area as data only.
mote_run hijack --timeout 20 --debug "$TESTBIN/hostile.musl" $((64 << 20)) preempt
if expect_status fault6b-forged-preemption-entry 9 "$(grep -m 3 FAILED "$OUT" | tr '\n' ';')"; then
	if out_has '^hostile: the forged preemption entry ran$' && err_has ' [1-9][0-9]* preemptions;'; then
		pass fault6b-forged-preemption-entry
	else
		fail fault6b-forged-preemption-entry "no line from the forged entry, or no preemption counted: $(tail -c 300 "$ERR")"
	fi
fi

# ---- 7: with --log-fd, the monitor's lines and the guest's stderr are apart ----
# logged TAG LOG CMD...: run CMD with descriptor 3 open on LOG.
logged() {
	local tag=$1 log=$2
	shift 2
	: >"$log"
	run "$tag" bash -c 'log=$1; shift; exec "$@" 3>"$log"' bash "$log" "$@"
	# Sanitizer reports go to the log too.
	if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$log"; then
		SANITIZER=1
	fi
}
logged impostor "$W/impostor.log" "$MOTE" run --timeout 20 --log-fd 3 "$TESTBIN/impostor.musl"
if expect_status fault7-guest-imitation-stays-on-stderr 0; then
	if [ "$(grep -c '^mote-vmm: ' "$ERR")" = 2 ] && [ ! -s "$W/impostor.log" ] && out_has '^impostor: done$'; then
		pass fault7-guest-imitation-stays-on-stderr
	else
		fail fault7-guest-imitation-stays-on-stderr "stderr should hold the guest's 2 lines, the log nothing: log: $(head -c 200 "$W/impostor.log")"
	fi
fi
logged crash "$W/crash.log" "$MOTE" run --timeout 20 --log-fd 3 "$TESTBIN/crash_null.musl"
if expect_status fault7-crash-report-on-log-fd 139; then
	if [ ! -s "$ERR" ] && grep -q '^mote-vmm: guest crashed: ' "$W/crash.log"; then
		pass fault7-crash-report-on-log-fd
	else
		fail fault7-crash-report-on-log-fd "stderr: $(head -c 200 "$ERR"); log: $(head -c 200 "$W/crash.log")"
	fi
fi
logged refused "$W/refused.log" "$MOTE_VMM" --restore "$W/no-such.snap" --log-fd 3
if expect_status fault7-refusal-on-log-fd 66; then
	if [ ! -s "$ERR" ] && [ "$(grep -c . "$W/refused.log")" = 1 ] && grep -q '^mote-vmm: .*no-such.snap' "$W/refused.log"; then
		pass fault7-refusal-on-log-fd
	else
		fail fault7-refusal-on-log-fd "stderr: $(head -c 200 "$ERR"); log: $(head -c 200 "$W/refused.log")"
	fi
fi
if [ -f "$W/kcrash.snap" ]; then
	logged kclog "$W/kclog.log" "$MOTE" snapshot restore --timeout 20 --log-fd 3 "$W/kcrash.snap"
	if expect_status fault7-snapshot-restore-passes-log-fd 139 && [ ! -s "$ERR" ] &&
		grep -q 'in the guest kernel (syscall_entry+0)' "$W/kclog.log"; then
		pass fault7-snapshot-restore-passes-log-fd
	elif [ "$STATUS" = 139 ]; then
		fail fault7-snapshot-restore-passes-log-fd "stderr: $(head -c 200 "$ERR"); log: $(head -c 200 "$W/kclog.log")"
	fi
fi
# The guest kernel's --debug log (a hypercall any guest can make) gets its prefix on every line.
logged forge "$W/forge.log" "$MOTE" run --timeout 20 --debug --log-fd 3 "$TESTBIN/hostile.musl" $((64 << 20)) forge-log
if expect_status fault7-debug-log-cannot-forge-monitor-lines 0; then
	if grep -q '^mote-vmm: guest crashed' "$W/forge.log" || ! grep -q '^mote-vmm: guest: mote-vmm: guest crashed: forged??' "$W/forge.log" ||
		grep -q $'\r' "$W/forge.log"; then
		fail fault7-debug-log-cannot-forge-monitor-lines "log: $(grep -a 'forged' "$W/forge.log" | head -c 300)"
	else
		pass fault7-debug-log-cannot-forge-monitor-lines
	fi
fi
run logfd-closed "$MOTE" run --log-fd 9 "$TESTBIN/impostor.musl"
expect_one_error fault7-log-fd-not-open 64 "" 'log-fd'

# ---- 8: a generation that cannot be bumped ----
f=$(copy_mem genmax)
"$SNAPTOOL" set-generation "$f.mem" 18446744073709551615
restore genmax "$f"
expect_one_error fault8-generation-at-maximum-refused 75 "$f" 'generation'
"$SNAPTOOL" set-generation "$f.mem" 18446744073709551614
restore genmax1 "$f"
if expect_status fault8-generation-below-maximum-restores 0; then
	if out_has '^snap_hello: after, generation 18446744073709551615$'; then
		pass fault8-generation-below-maximum-restores
	else
		fail fault8-generation-below-maximum-restores "the clone did not see generation 2^64-1"
	fi
fi

e2e_finish

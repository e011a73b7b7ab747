#!/usr/bin/env bash
# End-to-end: every bad input with its exit status and one clear stderr line (before the program starts),
# and every way a started guest can end badly (crash, stack overflow, abort, timeout, hostile hypercalls).
. "$(dirname "$0")/lib.sh"
need_kvm errors
need_built "$MOTE" "$MOTE_VMM" "$MOTE_KERNEL" "$TESTBIN/args.musl"

# expect_error NAME STATUS [REGEX]: one stderr line, STATUS, no stdout (expect_one_error in lib.sh).
expect_error() {
	expect_one_error "$1" "$2" "" "${3:-}"
}

W=$E2E_TMP/inputs
mkdir -p "$W"

# ---- the program file ----
mote_run missing "$W/no-such-program"
expect_error missing-program 66 'no-such-program'

printf '#!/bin/sh\necho not an elf\n' >"$W/script.txt"
chmod +x "$W/script.txt"
mote_run not-elf "$W/script.txt"
expect_error not-an-elf 65 'not an ELF'

: >"$W/empty"
mote_run empty "$W/empty"
expect_error empty-file 65 'empty|not an ELF'

mote_run directory "$W"
expect_error directory-as-program 67 'not a regular file|directory'

# 32-bit: a gcc -m32 build when the toolchain has one, else a crafted ELFCLASS32 header (52 bytes).
if echo 'int main(void){return 0;}' | gcc -m32 -static -x c -o "$W/prog32" - 2>/dev/null; then
	:
else
	# e_ident: 7f 'ELF', class 1 (32), data 1 (LE), version 1; e_type 2, e_machine 3 (i386), e_version 1,
	# e_entry 0x8048000, e_phoff 52, e_shoff 0, e_flags 0, e_ehsize 52, e_phentsize 32, e_phnum 1, ...
	{
		printf '\177ELF\001\001\001\000\000\000\000\000\000\000\000\000'
		printf '\002\000\003\000\001\000\000\000\000\200\004\010\064\000\000\000'
		printf '\000\000\000\000\000\000\000\000\064\000\040\000\001\000\000\000\000\000\000\000'
		# one PT_LOAD phdr
		printf '\001\000\000\000\000\000\000\000\000\200\004\010\000\200\004\010\124\000\000\000\124\000\000\000\005\000\000\000\000\020\000\000'
	} >"$W/prog32"
fi
mote_run elf32 "$W/prog32"
expect_error elf-32bit 67 '32-bit'

# Another machine: a real static x86-64 binary with e_machine patched to AArch64 (183 = 0xb7).
cp "$TESTBIN/args.musl" "$W/prog-arm"
printf '\267\000' | dd of="$W/prog-arm" bs=1 seek=18 conv=notrunc status=none
mote_run machine "$W/prog-arm"
expect_error elf-other-machine 67 'machine|x86-64'

# Not an executable: a relocatable object.
echo 'int f(void){return 1;}' | gcc -c -x c -o "$W/obj.o" -
mote_run relocatable "$W/obj.o"
expect_error elf-relocatable-object 67 'not an executable'

# Dynamic: an ordinary gcc build; the message names the interpreter.
echo '#include <stdio.h>
int main(void){puts("dynamic");return 0;}' | gcc -x c -o "$W/dynamic" -
interp=$(readelf -l "$W/dynamic" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
mote_run dynamic "$W/dynamic"
expect_error dynamic 68 "dynamic.*${interp:-ld-linux}|${interp:-ld-linux}.*dynamic"
mote_run dynamic-bin-ls /bin/ls
expect_error dynamic-bin-ls 68 'ld-linux'

# Truncated: the headers of a static program without the rest.
head -c 2000 "$TESTBIN/args.musl" >"$W/truncated"
mote_run truncated "$W/truncated"
expect_error truncated 69 'truncated'
head -c 40 "$TESTBIN/args.musl" >"$W/truncated-header"
mote_run truncated-header "$W/truncated-header"
if [ "$STATUS" = 69 ]; then
	expect_error truncated-inside-elf-header 69 'truncated'
else
	expect_error truncated-inside-elf-header 65 'ELF'
fi

# Too big for --mem: 600 MiB of bss in 64M; the same program runs in 1G.
cat >"$W/bigbss.c" <<'EOF'
static char big[600 << 20];
int main(int argc, char **argv)
{
	volatile char *p = big;
	p[0] = 1;
	p[sizeof(big) - 1] = (char)argc;
	return p[0] + p[sizeof(big) - 1] - 1 - argc;
}
EOF
if musl-gcc -static -O1 -o "$W/bigbss" "$W/bigbss.c" 2>"$W/cc.err"; then
	mote_run bigbss --mem 64M "$W/bigbss"
	expect_error too-big-for-mem 70 'mem|fit'
	mote_run bigbss-fits --timeout 20 --mem 1G "$W/bigbss"
	if expect_status big-bss-runs-in-1G 0; then pass big-bss-runs-in-1G; fi
else
	fail too-big-for-mem "cannot build the big-bss program: $(head -n 1 "$W/cc.err")"
fi

# ---- flags ----
for bad in "--mem abc" "--mem 1K" "--mem 64X" "--mem 100G" "--mem -64M" "--mem ''" "--timeout -1" \
	"--timeout 0" "--timeout abc" "--timeout 1.5.2" "--env NOEQUALS" "--env =value" "--bogus"; do
	name=bad-flag-$(echo "$bad" | tr -c 'a-zA-Z0-9.\n' - | sed 's/^-*//')
	eval "mote_run flag $bad \"\$TESTBIN/args.musl\""
	flag=${bad%% *}
	expect_error "$name" 64 "${flag#--}"
done
# Usage errors without any argument may print the usage text instead of one line.
mote_run noprog
if expect_status no-program 64; then
	if err_has 'usage: mote run'; then pass no-program; else fail no-program "no usage text on stderr"; fi
fi
mote_run help-run --help
if expect_status run-help 0; then
	if out_has 'usage: mote run'; then pass run-help; else fail run-help "no usage on stdout"; fi
fi
run mote-no-command "$MOTE"
if expect_status mote-without-command 64; then
	if err_has 'usage: mote'; then pass mote-without-command; else fail mote-without-command "no usage text on stderr"; fi
fi
run mote-bad-command "$MOTE" frobnicate
expect_error mote-unknown-command 64 'frobnicate'

# ---- --rootfs ----
mote_run rootfs-missing --rootfs "$W/no-such-dir" /bin/busybox true
expect_error rootfs-missing-dir 66 'no-such-dir'
mote_run rootfs-file --rootfs "$W/script.txt" /bin/busybox true
if [ "$STATUS" = 73 ]; then expect_error rootfs-is-a-file 73 'directory'; else expect_error rootfs-is-a-file 66 'directory'; fi
mkdir -p "$W/root/bin"
cp "$TESTBIN/args.musl" "$W/root/bin/args"
mote_run rootfs-noprog --rootfs "$W/root" /bin/nothing
expect_error rootfs-program-missing 66 'nothing'
mote_run rootfs-prog-is-dir --rootfs "$W/root" /bin
expect_error rootfs-program-is-a-directory 67
ln -s /bin/args "$W/root/bin/link"
mote_run rootfs-symlink --timeout 20 --rootfs "$W/root" /bin/link exit 3
if expect_status rootfs-program-via-symlink 3; then pass rootfs-program-via-symlink; fi
ln -s /nowhere "$W/root/bin/dangling"
mote_run rootfs-dangling --timeout 20 --rootfs "$W/root" /bin/dangling
expect_error rootfs-dangling-symlink 66

# ---- mote-vmm with a bad guest kernel ----
# A minimal rootfs image: one cpio newc trailer.
{
	printf '070701'
	printf '%08x' 0 0 0 0 1 0 0 0 0 0 0 11 0
	printf 'TRAILER!!!\000\000\000\000'
} >"$W/empty.cpio"
for k in "text:$W/script.txt" "elf32:$W/prog32" "static-program:$TESTBIN/args.musl" "dynamic:$W/dynamic" \
	"truncated:$W/truncated" "empty:$W/empty"; do
	run "vmm-kernel-${k%%:*}" "$MOTE_VMM" --kernel "${k#*:}" --rootfs "$W/empty.cpio" -- /x
	expect_error "vmm-bad-kernel-${k%%:*}" 71 'kernel'
done
run vmm-kernel-missing "$MOTE_VMM" --kernel "$W/no-such-kernel" --rootfs "$W/empty.cpio" -- /x
expect_error vmm-kernel-missing 66 'no-such-kernel'
run vmm-rootfs-missing "$MOTE_VMM" --kernel "$MOTE_KERNEL" --rootfs "$W/no-such-image" -- /x
expect_error vmm-rootfs-missing 66 'no-such-image'
run vmm-no-kernel "$MOTE_VMM" --rootfs "$W/empty.cpio" -- /x
if expect_status vmm-without-kernel-flag 64; then
	if err_has 'usage: mote-vmm|kernel'; then pass vmm-without-kernel-flag; else fail vmm-without-kernel-flag "no usage or message on stderr"; fi
fi
run vmm-bad-mem "$MOTE_VMM" --kernel "$MOTE_KERNEL" --mem abc -- /x
expect_error vmm-bad-mem 64 'mem'
# The guest kernel reports a program missing from the image (the load-error path inside the VM).
run vmm-prog-missing "$MOTE_VMM" --kernel "$MOTE_KERNEL" --rootfs "$W/empty.cpio" -- /x
expect_error vmm-program-not-in-image 66
# A corrupt rootfs image: the guest kernel must not crash on it.
head -c 64 "$W/empty.cpio" >"$W/corrupt.cpio"
run vmm-corrupt-image "$MOTE_VMM" --kernel "$MOTE_KERNEL" --rootfs "$W/corrupt.cpio" -- /x
if [ "$STATUS" = 66 ] || [ "$STATUS" = 73 ]; then
	expect_error vmm-corrupt-rootfs-image "$STATUS"
else
	fail vmm-corrupt-rootfs-image "status $STATUS, expected 66 or 73 with one line"
fi

# ---- argv and environment size ----
big=$(head -c 100000 /dev/zero | tr '\0' a)
mote_run argv-400k --timeout 20 "$TESTBIN/args.musl" "$big" "$big" "$big" "$big"
if expect_status argv-400KiB-runs 0; then
	if [ "$(awk '/^argv\[[1-4]\]=\[a+\]$/ && length($0) == 100010' "$OUT" | wc -l)" = 4 ]; then pass argv-400KiB-runs; else fail argv-400KiB-runs "the 4 arguments of 100000 bytes did not arrive intact"; fi
fi
mote_run argv-600k --timeout 20 "$TESTBIN/args.musl" "$big" "$big" "$big" "$big" "$big" "$big"
expect_error argv-600KiB-refused 64 'argument|environment'
mote_run argv-5000 --timeout 20 "$TESTBIN/args.musl" $(seq 1 5000)
if expect_status argv-5000-arguments 0; then
	if out_has '^argc=5001$' && out_has '^argv\[5000\]=\[5000\]$'; then pass argv-5000-arguments; else fail argv-5000-arguments "argc or the last argument is wrong"; fi
fi
mote_run mem-16m --timeout 20 --mem 16M "$TESTBIN/args.musl" exit 9
if expect_status mem-16M-smallest-runs 9; then pass mem-16M-smallest-runs; fi
mote_run mem-15m --timeout 20 --mem 15M "$TESTBIN/args.musl"
expect_error mem-15M-refused 64 'mem'
mote_run mem-33g --timeout 20 --mem 33G "$TESTBIN/args.musl"
expect_error mem-33G-refused 64 'mem'

# ---- crashes after the start: reports and signals ----
for v in musl glibc; do
	mote_run crash-null-$v --timeout 20 "$TESTBIN/crash_null.$v"
	if expect_status crash-null-$v 139 "SIGSEGV"; then
		if ! err_has '^mote-vmm: guest crashed:'; then
			fail crash-null-$v "no 'mote-vmm: guest crashed:' line"
		elif ! err_has 'null pointer dereference'; then
			fail crash-null-$v "report does not say null pointer dereference"
		elif ! err_has 'rip 0x[0-9a-f]+ in the program \(main\+0x[0-9a-f]+\)'; then
			fail crash-null-$v "report does not place rip in the program's main"
		elif ! out_has '^crash_null: storing to'; then
			fail crash-null-$v "the program's output before the crash is missing"
		else
			pass crash-null-$v
		fi
	fi

	mote_run crash-stack-$v --timeout 20 "$TESTBIN/crash_stack.$v"
	if expect_status crash-stack-$v 139 "SIGSEGV"; then
		if ! err_has '^mote-vmm: guest crashed:'; then
			fail crash-stack-$v "no 'mote-vmm: guest crashed:' line"
		elif ! err_has 'stack guard page \(stack overflow\)'; then
			fail crash-stack-$v "report does not say stack overflow"
		elif ! err_has 'in the program \(recurse\+0x'; then
			fail crash-stack-$v "report does not place rip in recurse()"
		else
			pass crash-stack-$v
		fi
	fi
	# A bigger stack (--mem >= 128M: 8 MiB) overflows the same way.
	mote_run crash-stack-big-$v --timeout 20 --mem 256M "$TESTBIN/crash_stack.$v"
	if expect_status crash-stack-8mib-$v 139; then
		if err_has 'stack overflow'; then pass crash-stack-8mib-$v; else fail crash-stack-8mib-$v "report does not say stack overflow"; fi
	fi

	mote_run crash-abort-$v --timeout 20 "$TESTBIN/crash_abort.$v"
	if expect_status crash-abort-$v 134 "SIGABRT"; then
		if err_has '^mote-vmm: guest crashed:.*signal 6'; then pass crash-abort-$v; else fail crash-abort-$v "report does not mention signal 6"; fi
	fi

	for t in 1 250ms; do
		mote_run spin-$t-$v --timeout $t "$TESTBIN/spin.$v"
		if expect_status timeout-$t-$v 142 "SIGALRM"; then
			if ! err_has '^mote-vmm: guest timed out'; then
				fail timeout-$t-$v "no 'mote-vmm: guest timed out' line"
			elif [ "$ELAPSED_MS" -gt 10000 ]; then
				fail timeout-$t-$v "took $ELAPSED_MS ms"
			else
				pass timeout-$t-$v
			fi
		fi
	done
	# A sleeping guest is interrupted by the timeout too.
	mote_run sleep-timeout-$v --timeout 1 /bin/busybox sleep 100
	if expect_status timeout-while-sleeping-$v 142; then
		if [ "$ELAPSED_MS" -le 10000 ]; then pass timeout-while-sleeping-$v; else fail timeout-while-sleeping-$v "took $ELAPSED_MS ms"; fi
	fi

	# Fatal signals the program sends itself (docs/run.md: SIGSEGV -> 139, any other fatal signal -> 134).
	if [ "$v" = musl ]; then
		for sig in TERM:15:134 SEGV:11:139 USR1:10:134 KILL:9:134; do
			IFS=: read -r sname snum want <<<"$sig"
			mote_run kill-$sname --timeout 20 /bin/busybox sh -c "echo before; kill -$sname \$\$; echo after"
			if expect_status kill-self-$sname "$want" "signal $snum"; then
				if ! err_has "^mote-vmm: guest crashed:.*signal $snum\b"; then
					fail kill-self-$sname "report does not name signal $snum"
				elif ! out_has '^before$' || out_has '^after$'; then
					fail kill-self-$sname "output before/after the signal is wrong"
				else
					pass kill-self-$sname
				fi
			fi
		done
		mote_run kill-ignored --timeout 20 /bin/busybox sh -c 'trap "" USR1 TERM; kill -USR1 $$; kill -TERM $$; echo survived'
		if expect_status kill-self-ignored 0; then
			if out_has '^survived$'; then pass kill-self-ignored; else fail kill-self-ignored "no 'survived'"; fi
		fi
	fi

	# ---- a hostile program talking to the monitor directly ----
	mote_run hostile-$v --timeout 20 --mem 64M "$TESTBIN/hostile.$v" $((64 << 20))
	if expect_status hostile-$v 0 "$(grep -m 3 FAILED "$OUT" | tr '\n' ';')"; then
		if ! out_has '^hostile: survived$'; then
			fail hostile-$v "no 'hostile: survived'"
		elif ! out_has '^hostile: output after the abuse: 2 \+ 3 = 5$' || ! out_has '^hostile: direct console write$'; then
			fail hostile-$v "output around the abuse is missing or garbled"
		elif grep -q 'mote-vmm' "$ERR"; then
			fail hostile-$v "the monitor complained: $(grep -m 1 mote-vmm "$ERR")"
		else
			pass hostile-$v
		fi
	fi
	# The same abuse with --debug (log stream printed), ending through the exit hypercall, and in 1G: each
	# must reach the end with the same verdicts as the run above (whose FAIL line names any bad check).
	grep '^FAILED' "$OUT" | sed 's/: ret .*//' >"$E2E_TMP/hostile-verdicts-$v"
	hostile_like_first() {
		local name=$1 want=$2
		if expect_status "$name" "$want"; then
			if ! out_has '^hostile: output after the abuse: 2 \+ 3 = 5$'; then
				fail "$name" "did not reach the end"
			elif ! grep '^FAILED' "$OUT" | sed 's/: ret .*//' | cmp -s - "$E2E_TMP/hostile-verdicts-$v"; then
				fail "$name" "verdicts differ from the plain run: $(grep '^FAILED' "$OUT" | tr '\n' ';')"
			else
				pass "$name"
			fi
		fi
	}
	first_ok=$([ -s "$E2E_TMP/hostile-verdicts-$v" ] && echo 1 || echo 0)
	mote_run hostile-debug-$v --timeout 20 --debug --mem 64M "$TESTBIN/hostile.$v" $((64 << 20))
	hostile_like_first hostile-debug-$v "$first_ok"
	mote_run hostile-exit-$v --timeout 20 --mem 64M "$TESTBIN/hostile.$v" $((64 << 20)) exit
	hostile_like_first hostile-exit-bad-message-$v "$([ "$first_ok" = 0 ] && echo 7 || echo 1)"
	mote_run hostile-1g-$v --timeout 20 --mem 1G "$TESTBIN/hostile.$v" $((1 << 30))
	hostile_like_first hostile-mem-1G-$v "$first_ok"

	for mode in outl-505 outl-50f outl-600 outl-80 outb-500 outw-500 inl-500; do
		mote_run hostile-port-$mode-$v --timeout 20 "$TESTBIN/hostile_port.$v" $mode
		if [ "$STATUS" = 0 ] && out_has '^hostile_port: survived' && [ "${mode#outl-5}" != "$mode" ] &&
			[ "$SANITIZER" = 0 ]; then
			pass "hostile-port-$mode-$v" # ignored by the monitor (no I/O bitmap check under hardware VMX)
		elif expect_status "hostile-port-$mode-$v" 139 "a crash report (SIGSEGV)"; then
			if err_has '^mote-vmm: guest crashed:' && err_has 'rip 0x[0-9a-f]+ in the program \(main\+'; then
				pass "hostile-port-$mode-$v"
			else
				fail "hostile-port-$mode-$v" "crash report lacks 'guest crashed' or rip in main"
			fi
		fi
	done
done

e2e_finish

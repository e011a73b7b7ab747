#!/usr/bin/env bash
# End-to-end: execve and execveat in the guest (docs/guest-kernel.md): a chain musl -> glibc -> musl (and the
# other way) carrying fds, signals, umask and cwd as Linux does, through execve, execveat with a directory fd
# and fexecve; the errors returned before the point of no return (tests/guest/exec.c); a static-pie program;
# busybox sh's exec; a dynamically linked program refused with a --debug line.
. "$(dirname "$0")/lib.sh"
need_kvm exec
need_built "$MOTE" "$MOTE_VMM" "$MOTE_KERNEL" "$TESTBIN/args-pie.glibc"
for v in musl glibc; do
	need_built "$TESTBIN/exec.$v" "$TESTBIN/args.$v" "$TESTBIN/bigbss.$v"
done

T="--timeout 20"
ROOT=$E2E_TMP/root
mkdir -p "$ROOT/bin"
cp "$TESTBIN/exec.musl" "$TESTBIN/exec.glibc" "$TESTBIN/args.musl" "$TESTBIN/args.glibc" "$TESTBIN/args-pie.glibc" \
	"$ROOT/"
cp "$TESTBIN/bigbss.musl" "$ROOT/bigbss"
DYNAMIC=
for f in /bin/true /usr/bin/true; do
	if [ -x "$f" ] && readelf -l "$f" 2>/dev/null | grep -q INTERP; then
		DYNAMIC=$f
		cp "$f" "$ROOT/dynamic"
		break
	fi
done
[ -x /bin/busybox ] && cp /bin/busybox "$ROOT/bin/busybox"

for v in musl glibc; do
	other=$([ $v = musl ] && echo glibc || echo musl)
	mote_run chain-$v $T --debug --mem 128M --rootfs "$ROOT" /exec.$v
	if expect_status "exec-chain-$v" 0 "$(grep -m 3 FAILED "$ERR" | tr '\n' ';')"; then
		if ! out_has "^exec: stage 1 \($v\) passed" || ! out_has "^exec: stage 2 \($other\) passed$" ||
			! out_has "^exec: stage 3 \($v\) passed$"; then
			fail "exec-chain-$v" "a stage did not pass: $(grep '^exec:' "$OUT" | tr '\n' ';')"
		elif ! out_has '^argv\[1\]=\[after\]$' || ! out_has '^argv\[3\]=\[execs\]$' || ! out_has '^getenv\(FOO\)=\[fexecve\]$'; then
			fail "exec-chain-$v" "the last program (fexecve'd) did not get its argv and env"
		elif [ -n "$DYNAMIC" ] && ! err_has 'execve: program /dynamic: dynamically linked \(PT_INTERP'; then
			fail "exec-chain-$v" "no --debug line for the dynamic program"
		elif grep -q '^ok: execve of a dynamic' "$OUT" || [ -z "$DYNAMIC" ]; then
			pass "exec-chain-$v"
		else
			fail "exec-chain-$v" "the dynamic program was not tried"
		fi
	fi
done

# busybox sh: exec replaces the shell (also with a static-pie program, placed wherever memory is free).
if [ -x "$ROOT/bin/busybox" ]; then
	mote_run busybox-exec $T --rootfs "$ROOT" /bin/busybox sh -c 'echo before; exec /args.musl via busybox; echo not reached'
	if expect_status busybox-exec 0; then
		if out_has '^before$' && out_has '^argv\[1\]=\[via\]$' && ! out_has 'not reached'; then
			pass busybox-exec
		else
			fail busybox-exec "unexpected output: $(tr '\n' ';' <"$OUT" | head -c 300)"
		fi
	fi
	mote_run busybox-exec-pie $T --rootfs "$ROOT" /bin/busybox sh -c 'exec /args-pie.glibc pie'
	if expect_status busybox-exec-static-pie 0; then
		if out_has '^argv\[1\]=\[pie\]$'; then pass busybox-exec-static-pie; else fail busybox-exec-static-pie "no argv line"; fi
	fi
	mote_run busybox-exec-missing $T --rootfs "$ROOT" /bin/busybox sh -c 'exec /nope'
	if expect_status busybox-exec-missing 127 "busybox sh: exec of a missing program"; then
		pass busybox-exec-missing
	fi
else
	skip busybox-exec "no /bin/busybox on the host (busybox-static)"
fi
e2e_finish

#!/usr/bin/env bash
# End-to-end: the program's stdout and stderr look like the host's (a pipe is a FIFO, a file a regular file,
# a terminal a terminal, /dev/null a character device that is not one), so its libc buffers them as natively;
# compared with native runs of the same binary under the same redirections, musl and glibc, also in a clone
# restored with other stdio than the original. Line-heavy output costs few console exits, output arrives
# while the guest computes without any exit, and a terminal answers TCGETS/TCSETS/TIOCGWINSZ.
. "$(dirname "$0")/lib.sh"
need_kvm console
need_built "$MOTE" "$MOTE_VMM" "$MOTE_KERNEL"

T="--timeout 20"
HAVE_SCRIPT=0
if command -v script >/dev/null && script -qec true /dev/null >/dev/null 2>&1; then
	HAVE_SCRIPT=1
fi
export KIND_FILE=$E2E_TMP/kind-file.out

# The redirections: NAME REPORT_FD WRAPPER (a sh -c script that runs "$@"). The report ends up on the
# wrapper's stdout in each: fd 1 for a pipe or a file, else fd 2 dup'ed from the wrapper's stdout.
CASES=(
	"pipe 1 \"\$@\" 2>&1 | cat"
	"file 1 \"\$@\""
	"stdout-pipe-stderr-file 1 \"\$@\" | cat"
	"stdout-file-stderr-pipe 2 \"\$@\" 2>&1 >\"\$KIND_FILE\" | cat"
	"stdout-null 2 \"\$@\" 2>&1 >/dev/null"
)

# pty_run OUTFILE COMMAND-STRING: run the command on a new terminal (script), its output (CRs removed) in OUTFILE.
pty_run() {
	local out=$1 cmd=$2
	timeout -k 5 60 script -qec "$cmd" /dev/null </dev/null 2>&1 | tr -d '\r' >"$out"
}

for v in musl glibc; do
	prog=$TESTBIN/stdio_kind.$v
	need_built "$prog" "$TESTBIN/lines.$v"

	# ---- fstat type, isatty, termios, and stdout's buffering under each redirection, vs native ----
	for c in "${CASES[@]}"; do
		read -r name fd wrap <<<"$c"
		host_run kind-$name-$v sh -c "$wrap" sh "$prog" "$fd"
		run kind-$name-$v sh -c "$wrap" sh "$MOTE" run $T "$prog" "$fd"
		if expect_status "stdio-kind-$name-$v" 0; then
			if [ "$HSTATUS" = 0 ] && [ -s "$HOUT" ] && cmp -s "$HOUT" "$OUT"; then
				pass "stdio-kind-$name-$v ($(grep -m 1 '^fd1' "$OUT"); $(grep '^stdout' "$OUT"))"
			else
				fail "stdio-kind-$name-$v" "differs from native: native $(tr '\n' ';' <"$HOUT"), mote $(tr '\n' ';' <"$OUT")"
			fi
		fi
	done

	# ---- a terminal (script's pty), with a window size: fds 1 and 2 are terminals, stdin stays /dev/null ----
	if [ "$HAVE_SCRIPT" = 1 ]; then
		pty_run "$E2E_TMP/pty-native-$v.out" "stty rows 30 cols 100; $prog"
		pty_run "$E2E_TMP/pty-mote-$v.out" "stty rows 30 cols 100; $MOTE run $T $prog"
		grep -E '^(stdio_kind|fd1|fd2|stdout)' "$E2E_TMP/pty-native-$v.out" >"$E2E_TMP/pty-native-$v.cmp"
		grep -E '^(stdio_kind|fd1|fd2|stdout)' "$E2E_TMP/pty-mote-$v.out" >"$E2E_TMP/pty-mote-$v.cmp"
		if ! grep -q '^fd1 chr [0-9]*:[0-9]* tty=1 winsize=30x100 termios=ok$' "$E2E_TMP/pty-native-$v.out"; then
			fail "stdio-kind-pty-$v" "the native run on script's terminal is not what this test expects: $(tr '\n' ';' <"$E2E_TMP/pty-native-$v.out")"
		elif cmp -s "$E2E_TMP/pty-native-$v.cmp" "$E2E_TMP/pty-mote-$v.cmp"; then
			pass "stdio-kind-pty-$v ($(grep '^stdout' "$E2E_TMP/pty-mote-$v.out"))"
		else
			fail "stdio-kind-pty-$v" "differs from native: native $(tr '\n' ';' <"$E2E_TMP/pty-native-$v.out"), mote $(tr '\n' ';' <"$E2E_TMP/pty-mote-$v.out")"
		fi
		if grep -qx 'fd0 chr 1:3 tty=0 termios=enotty' "$E2E_TMP/pty-mote-$v.out"; then
			pass "stdio-kind-pty-stdin-is-dev-null-$v"
		else
			fail "stdio-kind-pty-stdin-is-dev-null-$v" "stdin reads end of file, so it must look like /dev/null: $(grep '^fd0' "$E2E_TMP/pty-mote-$v.out")"
		fi
	else
		skip "stdio-kind-pty-$v" "script (util-linux) cannot make a terminal here"
	fi

	# ---- line-heavy output costs few console exits: 20000 lines, 188 KB ----
	lines=20000
	want_bytes=$("$TESTBIN/lines.$v" $lines | wc -c)
	for where in pipe file pty; do
		name=console-exits-$where-$v
		case $where in
		pipe) run lines-$where-$v sh -c '"$@" | cat' sh "$MOTE" run --debug $T "$TESTBIN/lines.$v" $lines ;;
		file) run lines-$where-$v "$MOTE" run --debug $T "$TESTBIN/lines.$v" $lines ;;
		pty)
			if [ "$HAVE_SCRIPT" = 0 ]; then
				skip "$name" "no terminal (script)"
				continue
			fi
			OUT=$E2E_TMP/lines-pty-$v.out ERR=$E2E_TMP/lines-pty-$v.err STATUS=0 SANITIZER=0
			LAST_CMD="script -qec '$MOTE run --debug $T $TESTBIN/lines.$v $lines 2>$ERR'"
			pty_run "$OUT" "$MOTE run --debug $T $TESTBIN/lines.$v $lines 2>$ERR"
			grep -qE 'AddressSanitizer|runtime error:' "$ERR" && SANITIZER=1
			;;
		esac
		expect_status "$name" 0 || continue
		n=$(sed -n 's/.*exit status 0 after \([0-9]*\) console,.*/\1/p' "$ERR")
		got_bytes=$(wc -c <"$OUT")
		if [ "$got_bytes" != "$want_bytes" ] || [ "$(tail -n 1 "$OUT")" != "line $((lines - 1))" ]; then
			fail "$name" "$got_bytes bytes of output, native $want_bytes"
		elif [ -z "$n" ]; then
			fail "$name" "no 'exit status 0 after N console' line from --debug"
		elif [ "$n" -gt $((want_bytes / 65536 + 16)) ]; then
			fail "$name" "$n console hypercalls for $lines lines: the output is sent line by line or write by write"
		else
			pass "$name ($n console hypercalls for $lines lines)"
		fi
	done

	# ---- a clone describes its own stdio: the original writes to a file, clones to a pipe, a file, a terminal ----
	d=$E2E_TMP/snap-$v
	mkdir -p "$d"
	mote_run kind-snap-orig-$v $T --snapshot "$d/snap" "$prog" --snapshot
	if expect_status "stdio-kind-clone-$v" 0 "the original"; then
		orig_fd1=$(grep '^fd1' "$OUT")
		run kind-clone-file-$v "$MOTE" snapshot restore $T "$d/snap"
		clone_file=$OUT
		expect_status "stdio-kind-clone-$v" 0 "clone to a file" && clone_file_ok=1 || clone_file_ok=0
		run kind-clone-pipe-$v sh -c '"$@" | cat' sh "$MOTE" snapshot restore $T "$d/snap"
		if [ "$clone_file_ok" = 0 ] || ! expect_status "stdio-kind-clone-$v" 0 "clone to a pipe"; then
			: # failed above
		elif [ "$orig_fd1" != "fd1 reg tty=0 termios=enotty" ]; then
			fail "stdio-kind-clone-$v" "the original (stdout a file) reports '$orig_fd1'"
		elif ! cmp -s "$E2E_TMP/kind-stdout-pipe-stderr-file-$v.host.out" "$OUT"; then
			fail "stdio-kind-clone-$v" "the clone to a pipe differs from a native run to a pipe: $(tr '\n' ';' <"$OUT")"
		elif ! cmp -s "$E2E_TMP/kind-file-$v.host.out" "$clone_file"; then
			fail "stdio-kind-clone-$v" "the clone to a file differs from a native run to a file: $(tr '\n' ';' <"$clone_file")"
		else
			pass "stdio-kind-clone-$v (original: $orig_fd1; clones: $(grep '^fd1' "$OUT"), $(grep '^fd1' "$clone_file"))"
		fi
		if [ "$HAVE_SCRIPT" = 1 ]; then
			pty_run "$E2E_TMP/pty-clone-$v.out" "stty rows 30 cols 100; $MOTE snapshot restore $T $d/snap"
			grep -E '^(stdio_kind|fd1|fd2|stdout)' "$E2E_TMP/pty-clone-$v.out" >"$E2E_TMP/pty-clone-$v.cmp"
			if cmp -s "$E2E_TMP/pty-native-$v.cmp" "$E2E_TMP/pty-clone-$v.cmp"; then
				pass "stdio-kind-clone-pty-$v"
			else
				fail "stdio-kind-clone-pty-$v" "the clone on a terminal differs from native: $(tr '\n' ';' <"$E2E_TMP/pty-clone-$v.out")"
			fi
		fi
	fi
done

# ---- output arrives while the guest computes and makes no exit at all (the monitor drains the ring) ----
need_built "$TESTBIN/spin.musl"
"$MOTE" run --timeout 20 "$TESTBIN/spin.musl" >"$E2E_TMP/spin.out" 2>"$E2E_TMP/spin.err" </dev/null &
spin_pid=$!
seen=0
for _ in $(seq 250); do
	if grep -q '^spin: spinning$' "$E2E_TMP/spin.out"; then
		seen=1
		break
	fi
	kill -0 "$spin_pid" 2>/dev/null || break
	sleep 0.02
done
alive_then=0
kill -0 "$spin_pid" 2>/dev/null && alive_then=1
kill -KILL "$spin_pid" 2>/dev/null
wait "$spin_pid" 2>/dev/null
if [ "$seen" = 1 ] && [ "$alive_then" = 1 ]; then
	pass console-output-while-the-guest-spins
else
	fail console-output-while-the-guest-spins "'spin: spinning' seen: $seen, guest still running then: $alive_then (stderr: $(head -c 200 "$E2E_TMP/spin.err"))"
fi

e2e_finish

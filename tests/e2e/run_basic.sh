#!/usr/bin/env bash
# End-to-end: every tests/guest program, musl and glibc builds, through `mote run`: files, memory, time,
# args (argv, env, exit codes), stdio (byte-exact against a native run), process.
. "$(dirname "$0")/lib.sh"
need_kvm run_basic
need_built "$MOTE" "$MOTE_VMM" "$MOTE_KERNEL"

T="--timeout 20"

# expect_ok NAME SUMMARY-REGEX: status 0 and the program's summary line on stdout.
expect_ok() {
	local name=$1 summary=$2
	expect_status "$name" 0 "$(grep -m 3 'FAILED' "$ERR" | tr '\n' ';')" || return 1
	if ! out_has "$summary"; then
		fail "$name" "no '$summary' line on stdout"
		return 1
	fi
	pass "$name"
}

for v in musl glibc; do
	bin=$TESTBIN
	need_built "$bin/files.$v" "$bin/memory.$v" "$bin/time.$v" "$bin/args.$v" "$bin/stdio.$v" "$bin/process.$v"

	# ---- files: host file as the whole rootfs, then a --rootfs tree with a data file ----
	mote_run files-$v $T --env MOTE_TEST_VM=1 "$bin/files.$v"
	expect_ok "files-$v" '^files: all checks passed$'

	root=$E2E_TMP/root-files-$v
	mkdir -p "$root/bin" "$root/data/sub"
	cp "$bin/files.$v" "$root/bin/"
	# The content has no final newline, so that $(cat) passes it to the program exactly.
	printf 'hello from the rootfs\nsecond line' >"$root/data/hello.txt"
	printf 'x' >"$root/data/sub/one"
	ln -sf hello.txt "$root/data/link"
	cp "$root/data/hello.txt" "$E2E_TMP/hello.orig"
	mote_run files-rootfs-$v $T --env MOTE_TEST_VM=1 --rootfs "$root" /bin/files.$v /data/hello.txt \
		"$(cat "$root/data/hello.txt")"
	expect_ok "files-rootfs-$v" '^files: all checks passed$'
	if cmp -s "$root/data/hello.txt" "$E2E_TMP/hello.orig" && [ -f "$root/data/sub/one" ]; then
		pass "files-rootfs-host-untouched-$v"
	else
		fail "files-rootfs-host-untouched-$v" "the guest's writes reached the host directory $root"
	fi

	# ---- memory: 100 MiB mallocs need room ----
	mote_run memory-$v $T --mem 256M "$bin/memory.$v"
	expect_ok "memory-$v" '^memory: all checks passed$'

	# ---- time: the host's clock in argv ----
	mote_run time-$v $T "$bin/time.$v" "$(date +%s)"
	expect_ok "time-$v" '^time: all checks passed$'

	# ---- args: argv, environment, exit codes ----
	mote_run args-$v $T --env FOO=bar --env 'SPACED=a b  c' --env EMPTY= --env DUP=1 --env DUP=2 -- \
		"$bin/args.$v" exit 42 'two words' '' 'ünïcødé' '*' '--mem'
	if expect_status "args-status-42-$v" 42; then pass "args-status-42-$v"; fi
	{
		echo "argc=8"
		echo "argv[0]=[/args.$v]"
		echo "argv[1]=[exit]"
		echo "argv[2]=[42]"
		echo "argv[3]=[two words]"
		echo "argv[4]=[]"
		echo "argv[5]=[ünïcødé]"
		echo "argv[6]=[*]"
		echo "argv[7]=[--mem]"
		echo "argv[argc]=null"
	} >"$E2E_TMP/args-argv.want"
	grep -E '^(argc|argv)' "$OUT" >"$E2E_TMP/args-argv.got"
	if cmp -s "$E2E_TMP/args-argv.want" "$E2E_TMP/args-argv.got"; then
		pass "args-argv-$v"
	else
		fail "args-argv-$v" "argv differs: $(diff "$E2E_TMP/args-argv.want" "$E2E_TMP/args-argv.got" | tr '\n' ' ')"
	fi
	{
		echo "getenv(PATH)=[/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin]"
		echo "getenv(HOME)=[/]"
		echo "getenv(FOO)=[bar]"
		echo "getenv(EMPTY)=[]"
		echo "getenv(SPACED)=[a b  c]"
		echo "getenv(DUP)=[2]"
	} >"$E2E_TMP/args-getenv.want"
	grep '^getenv' "$OUT" >"$E2E_TMP/args-getenv.got"
	if cmp -s "$E2E_TMP/args-getenv.want" "$E2E_TMP/args-getenv.got"; then
		pass "args-getenv-$v"
	else
		fail "args-getenv-$v" "getenv differs (later --env must win): $(diff "$E2E_TMP/args-getenv.want" "$E2E_TMP/args-getenv.got" | tr '\n' ' ')"
	fi
	# Nothing from the host's environment leaks in: the environment is exactly these (any order).
	printf '%s\n' "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "HOME=/" "FOO=bar" \
		"SPACED=a b  c" "EMPTY=" "DUP=2" | sort >"$E2E_TMP/args-env.want"
	sed -n 's/^env\[[0-9]*\]=\[\(.*\)\]$/\1/p' "$OUT" | sort >"$E2E_TMP/args-env.got"
	if cmp -s "$E2E_TMP/args-env.want" "$E2E_TMP/args-env.got"; then
		pass "args-env-exact-$v"
	else
		fail "args-env-exact-$v" "environment is not exactly PATH, HOME and the --env values: $(diff "$E2E_TMP/args-env.want" "$E2E_TMP/args-env.got" | tr '\n' ' ')"
	fi

	mote_run args-path-$v $T --env PATH=/custom/bin "$bin/args.$v"
	if expect_status "args-env-overrides-path-$v" 0; then
		if out_has '^getenv\(PATH\)=\[/custom/bin\]$' && out_has '^getenv\(HOME\)=\[/\]$'; then
			pass "args-env-overrides-path-$v"
		else
			fail "args-env-overrides-path-$v" "--env PATH=/custom/bin did not replace the default PATH: $(grep '^getenv(PATH)' "$OUT")"
		fi
	fi

	for code in 0 1 42 255 256; do
		host_run args-exit-$code-$v "$bin/args.$v" exit $code
		mote_run args-exit-$code-$v $T "$bin/args.$v" exit $code
		if expect_status "args-exit-$code-$v" "$HSTATUS" "native run exits $HSTATUS"; then
			if [ -s "$ERR" ]; then
				fail "args-exit-$code-$v" "unexpected stderr output"
			else
				pass "args-exit-$code-$v"
			fi
		fi
	done

	# Flags after PROGRAM belong to the program; a relative PROGRAM path works.
	run args-rel-$v env -C "$bin" "$MOTE" run $T ./args.$v --timeout 1 --mem
	if expect_status "args-relative-path-and-flags-after-program-$v" 0; then
		if out_has "^argv\[0\]=\[/args\.$v\]$" && out_has '^argv\[1\]=\[--timeout\]$' && out_has '^argv\[3\]=\[--mem\]$'; then
			pass "args-relative-path-and-flags-after-program-$v"
		else
			fail "args-relative-path-and-flags-after-program-$v" "argv not as given"
		fi
	fi

	# ---- stdio: byte-exact against a native run, streams separate and merged ----
	host_run stdio-$v "$bin/stdio.$v"
	mote_run stdio-$v $T "$bin/stdio.$v"
	if expect_status "stdio-stdout-$v" "$HSTATUS"; then
		if cmp -s "$HOUT" "$OUT"; then pass "stdio-stdout-$v"; else fail "stdio-stdout-$v" "stdout differs from native: $(diff_summary "$HOUT" "$OUT")"; fi
		if cmp -s "$HERR" "$ERR"; then pass "stdio-stderr-$v"; else fail "stdio-stderr-$v" "stderr differs from native: $(diff_summary "$HERR" "$ERR")"; fi
	fi
	host_run stdio-merged-$v sh -c 'exec "$@" 2>&1' sh "$bin/stdio.$v"
	run stdio-merged-$v sh -c 'exec "$@" 2>&1' sh "$MOTE" run $T "$bin/stdio.$v"
	if expect_status "stdio-merged-order-$v" "$HSTATUS"; then
		if cmp -s "$HOUT" "$OUT"; then
			pass "stdio-merged-order-$v"
		else
			fail "stdio-merged-order-$v" "stdout+stderr interleaving differs from native: $(diff_summary "$HOUT" "$OUT")"
		fi
	fi
	# Output to a pipe whose reader is slow and to /dev/null must not break anything.
	run stdio-pipe-$v sh -c '"$@" | (sleep 0.2; cat) | wc -c' sh "$MOTE" run $T "$bin/stdio.$v"
	if expect_status "stdio-through-a-pipe-$v" 0; then
		want=$(wc -c <"$E2E_TMP/stdio-$v.host.out")
		got=$(tr -d ' \n' <"$OUT")
		if [ "$got" = "$want" ]; then
			pass "stdio-through-a-pipe-$v"
		else
			fail "stdio-through-a-pipe-$v" "$got bytes through a slow pipe, native wrote $want"
		fi
	fi

	# ---- process: one process, no fork/exec ----
	mote_run process-$v $T "$bin/process.$v"
	expect_ok "process-$v" '^process: all checks passed$'
done

e2e_finish

#!/usr/bin/env bash
# End-to-end: Debian's static busybox applets inside the VM against the same applets on the host: same stdout
# and exit status. File applets read a --rootfs tree; the host runs them with that tree as its working
# directory (the guest's is /), with relative paths so that the outputs are comparable.
. "$(dirname "$0")/lib.sh"
need_kvm busybox
need_built "$MOTE" "$MOTE_VMM" "$MOTE_KERNEL"
BUSYBOX=/bin/busybox
if ! [ -x "$BUSYBOX" ] || ! readelf -l "$BUSYBOX" 2>/dev/null | grep -q 'LOAD' || readelf -l "$BUSYBOX" | grep -q INTERP; then
	fail busybox-setup "$BUSYBOX is not a static busybox (install busybox-static)"
	e2e_finish
fi

GUEST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# The rootfs: bin/busybox and some data.
ROOT=$E2E_TMP/rootfs
mkdir -p "$ROOT/bin" "$ROOT/data/dir/sub"
cp "$BUSYBOX" "$ROOT/bin/busybox"
printf 'pear\napple\nfig\nbanana\napple\ncherry foo\nfoo bar foo\n' >"$ROOT/data/lines.txt"
printf '10\n2\n33\n4\n-5\n100\n7\n' >"$ROOT/data/nums.txt"
printf 'a,1,x\nb,22,y\nc,333,z\n' >"$ROOT/data/csv.txt"
printf 'one\none\ntwo\nthree\nthree\nthree\none\n' >"$ROOT/data/runs.txt"
head -c 300 "$BUSYBOX" >"$ROOT/data/bin.dat"
printf '\000\001\002\377hello\tworld\n' >>"$ROOT/data/bin.dat"
for f in alpha beta gamma .hidden; do echo "$f" >"$ROOT/data/dir/$f"; done
echo nested >"$ROOT/data/dir/sub/n"
# Fixed times on the directories (each holds subdirectories), to compare them with native: the guest must
# show the image's times, not the time its kernel recreated the entries at boot.
touch -d @1000000000 "$ROOT/data/dir/sub"
touch -d @1100000000 "$ROOT/data/dir"
touch -d @1200000000 "$ROOT/data"
touch -d @1300000000 "$ROOT"

# bb NAME MODE ARGS...: compare `busybox ARGS` natively and in the VM. MODE: plain (no --rootfs), rootfs,
# or rootfs-unordered (lines compared sorted: directory order differs between file systems).
bb() {
	local name=$1 mode=$2
	shift 2
	if [ "$mode" != plain ]; then
		host_run "bb-$name" env -i -C "$ROOT" PATH=$GUEST_PATH HOME=/ "$BUSYBOX" "$@"
		mote_run "bb-$name" --timeout 20 --rootfs "$ROOT" /bin/busybox "$@"
	else
		host_run "bb-$name" env -i PATH=$GUEST_PATH HOME=/ "$BUSYBOX" "$@"
		mote_run "bb-$name" --timeout 20 "$BUSYBOX" "$@"
	fi
	expect_status "busybox-$name" "$HSTATUS" "native busybox exits $HSTATUS" || return 0
	if [ "$mode" = rootfs-unordered ]; then
		sort "$HOUT" >"$HOUT.sorted" && mv "$HOUT.sorted" "$HOUT"
		sort "$OUT" >"$OUT.sorted" && mv "$OUT.sorted" "$OUT"
	fi
	if cmp -s "$HOUT" "$OUT"; then
		pass "busybox-$name"
	else
		fail "busybox-$name" "stdout differs from native: $(diff "$HOUT" "$OUT" | head -n 6 | tr '\n' ' ')"
	fi
}

bb echo plain echo hello world
bb echo-escapes plain echo -e 'tab\there\nnew line\\'
bb echo-n plain echo -n no newline
bb cat rootfs cat data/lines.txt
bb cat-two-files rootfs cat data/csv.txt data/nums.txt
bb cat-missing-file rootfs cat data/nope.txt
bb wc rootfs wc data/lines.txt data/nums.txt
bb wc-l rootfs wc -l data/lines.txt
bb sha256sum rootfs sha256sum data/bin.dat data/lines.txt bin/busybox
bb md5sum rootfs md5sum data/lines.txt
bb ls-1 rootfs ls -1 data/dir
bb ls-1a rootfs ls -1a data/dir
bb ls-missing rootfs ls data/nope
bb sort rootfs sort data/lines.txt
bb sort-nr rootfs sort -n -r data/nums.txt
bb sort-u rootfs sort -u data/lines.txt
bb sed-subst rootfs sed 's/foo/bar/g' data/lines.txt
bb sed-range rootfs sed -n '2,4p' data/lines.txt
bb sed-y rootfs sed 'y/abcdefghijklmnopqrstuvwxyz/ABCDEFGHIJKLMNOPQRSTUVWXYZ/' data/lines.txt
bb awk-arith plain awk 'BEGIN { s = 0; for (i = 1; i <= 100; i++) s += i * i; print s, 7 / 2, 2 ^ 10, int(-3.7), 10 % 3 }'
bb awk-file rootfs awk -F, '{ s += $2; n++ } END { print n, s, s / n }' data/csv.txt
bb awk-printf plain awk 'BEGIN { printf "%05.1f|%-3s|%x\n", 3.14159, "ab", 255 }'
bb sh-while plain sh -c 'i=0; s=0; while [ $i -lt 100 ]; do i=$((i + 1)); s=$((s + i * i)); done; echo "$i $s $((s % 7)) $((1 << 20))"'
bb sh-builtins plain sh -c 'f() { echo "f:$1:$#"; }; f a b c; case xyz in x*) echo starts-x ;; esac; v=hello; echo ${#v} ${v%lo} ${v#he}; [ -n "$v" ] && echo nonempty; test 3 -gt 2; echo $?'
bb sh-exit-7 plain sh -c 'exit 7'
bb sh-read-file rootfs sh -c 'n=0; while read -r line; do n=$((n + 1)); done < data/lines.txt; echo "$n lines"'
bb sh-env plain sh -c 'echo "$HOME|$PATH"'
bb true plain true
bb false plain false
bb seq plain seq 1 20
bb seq-down plain seq 5 -1 1
bb seq-step plain seq -s , 0 3 30
bb tr-empty-stdin plain tr a-z A-Z
bb head rootfs head -n 3 data/lines.txt
bb head-c rootfs head -c 10 data/lines.txt
bb tail rootfs tail -n 2 data/lines.txt
bb tail-c rootfs tail -c 12 data/nums.txt
bb grep rootfs grep foo data/lines.txt
bb grep-n-c rootfs grep -n -c apple data/lines.txt
bb grep-nomatch rootfs grep nomatch data/lines.txt
bb grep-missing rootfs grep foo data/nope.txt
bb grep-v-i rootfs grep -v -i APPLE data/lines.txt
bb printf plain printf '%5d|%-4s|%x|%.2f|%s\n' 42 ab 255 3.14159 'two words'
bb expr-mul plain expr 6 '*' 7
bb expr-length plain expr length hello
bb expr-false plain expr 1 = 2
bb basename plain basename /a/b/c.txt .txt
bb dirname plain dirname /a/b/c.txt
bb cut rootfs cut -d , -f 2 data/csv.txt
bb cut-c rootfs cut -c 1-3 data/lines.txt
bb uniq rootfs uniq data/runs.txt
bb uniq-c rootfs uniq -c data/runs.txt
bb od rootfs od -A x -t x1 data/bin.dat
bb od-c rootfs od -c data/bin.dat
bb stat-size rootfs stat -c '%s %n' data/lines.txt data/bin.dat
bb find rootfs-unordered find data -name '*.txt'
bb stat-dir-times rootfs stat -c '%Y %n' . data data/dir data/dir/sub data/dir/alpha
bb du rootfs du -s -k data/lines.txt
bb test-f rootfs test -f data/lines.txt
bb test-d-missing rootfs test -d data/nope
bb uname-s plain uname -s
bb wc-busybox-itself rootfs wc -c bin/busybox

bb seq-large plain seq 1 200000
bb yes-head-like plain seq -s ' ' 1 30000

# stdin in the guest is empty whatever the host gives it.
run stdin-empty sh -c 'printf "host input\n" | "$@"' sh "$MOTE" run --timeout 20 "$BUSYBOX" cat
if expect_status busybox-stdin-is-empty 0; then
	if [ -s "$OUT" ]; then fail busybox-stdin-is-empty "cat printed host stdin: $(head -c 50 "$OUT")"; else pass busybox-stdin-is-empty; fi
fi
run stdin-dev sh -c 'printf "host input\n" | "$@"' sh "$MOTE" run --timeout 20 "$BUSYBOX" cat /dev/stdin
if expect_status busybox-dev-stdin-is-empty 0; then
	if [ -s "$OUT" ]; then fail busybox-dev-stdin-is-empty "cat /dev/stdin printed host stdin"; else pass busybox-dev-stdin-is-empty; fi
fi

# A reader that goes away early: the guest's writes fail (EPIPE) and the run ends promptly, without a crash.
run closed-pipe bash -c '"$@" | head -c 20 >/dev/null; exit "${PIPESTATUS[0]}"' bash "$MOTE" run --timeout 20 "$BUSYBOX" seq 1 3000000
if [ "$STATUS" = 124 ] || [ "$STATUS" = 142 ] || [ "$ELAPSED_MS" -gt 15000 ]; then
	fail busybox-closed-pipe "did not end promptly (status $STATUS after $ELAPSED_MS ms)"
elif [ "$SANITIZER" = 1 ] || [ "$STATUS" = 134 ] || [ "$STATUS" = 139 ]; then
	# Any exit status is the program's own (busybox seq exits 255 when its last flush fails, as it
	# does natively with SIGPIPE ignored); 134 and 139 are mote-vmm's crash signals (docs/run.md).
	fail busybox-closed-pipe "status $STATUS: expected an exit or SIGPIPE, not a crash"
else
	pass busybox-closed-pipe
fi

# Writing files in the VM (the writable layer) with shell builtins only: any other applet inside `sh -c`
# needs fork or exec.
mote_run bb-write --timeout 20 --rootfs "$ROOT" /bin/busybox sh -c \
	'echo written > /tmp/f; read -r x < /tmp/f; echo "got $x"; echo more >> /tmp/f; n=0; while read -r l; do n=$((n + 1)); done < /tmp/f; echo "$n lines"; echo new > /newfile; [ -s /newfile ] && echo root-writable; echo changed > data/lines.txt; read -r y < data/lines.txt; echo "rootfs file now $y"'
if expect_status busybox-write-files-builtins 0; then
	want=$(printf 'got written\n2 lines\nroot-writable\nrootfs file now changed')
	got=$(cat "$OUT")
	if [ "$got" = "$want" ]; then
		pass busybox-write-files-builtins
	else
		fail busybox-write-files-builtins "stdout $(printf %q "$got"), expected $(printf %q "$want")"
	fi
fi
if [ "$(head -n 1 "$ROOT/data/lines.txt")" = pear ] && ! [ -e "$ROOT/newfile" ]; then
	pass busybox-writes-stay-in-the-vm
else
	fail busybox-writes-stay-in-the-vm "the guest's writes reached the host tree $ROOT"
fi
# File-writing applets, each in its own VM: they must succeed (status and output as on the host are not
# comparable: the host would write into its own /tmp).
for args in "mkdir -p /tmp/a/b/c" "touch /tmp/new" "cp data/lines.txt /tmp/copy" "rm data/lines.txt" \
	"mv data/csv.txt /tmp/moved" "ln -s /data/lines.txt /tmp/link"; do
	name=busybox-write-$(echo "$args" | tr -c 'a-z0-9\n' - | cut -c 1-30)
	# shellcheck disable=SC2086
	mote_run bb-w --timeout 20 --rootfs "$ROOT" /bin/busybox $args
	if expect_status "$name" 0 "$(head -n 1 "$ERR")"; then pass "$name"; fi
done
if [ -f "$ROOT/data/lines.txt" ] && [ -f "$ROOT/data/csv.txt" ]; then
	pass busybox-write-applets-leave-host-tree
else
	fail busybox-write-applets-leave-host-tree "rm/mv in the VM removed files from the host tree $ROOT"
fi

# A pipeline needs fork: it must fail cleanly, with a message, quickly.
mote_run bb-pipeline --timeout 10 "$BUSYBOX" sh -c 'echo a | cat'
if [ "$STATUS" = 124 ] || [ "$STATUS" = 142 ] || [ "$ELAPSED_MS" -gt 10000 ]; then
	fail busybox-pipeline-fails-cleanly "hung (status $STATUS after $ELAPSED_MS ms)"
elif [ "$SANITIZER" = 1 ]; then
	fail busybox-pipeline-fails-cleanly "sanitizer report"
elif [ "$STATUS" = 0 ] || [ "$STATUS" -ge 128 ]; then
	fail busybox-pipeline-fails-cleanly "status $STATUS: expected a nonzero exit (not a crash)"
elif ! [ -s "$ERR" ]; then
	fail busybox-pipeline-fails-cleanly "no message on stderr"
else
	pass busybox-pipeline-fails-cleanly
fi
# Command substitution and an external command likewise.
mote_run bb-subst --timeout 10 "$BUSYBOX" sh -c 'x=$(echo sub); echo "[$x]"'
if [ "$STATUS" != 124 ] && [ "$STATUS" != 142 ] && [ "$STATUS" -lt 128 ] && [ "$SANITIZER" = 0 ]; then
	pass busybox-command-substitution-no-hang
else
	fail busybox-command-substitution-no-hang "status $STATUS after $ELAPSED_MS ms"
fi

# --cwd: the program starts in that directory (relative paths resolve there); a missing one or a file is one error line.
mote_run bb-cwd --timeout 20 --rootfs "$ROOT" --cwd /data/dir /bin/busybox sh -c 'pwd; cat alpha'
if expect_status busybox-cwd 0; then
	got=$(cat "$OUT")
	if [ "$got" = "$(printf '/data/dir\nalpha')" ]; then pass busybox-cwd; else fail busybox-cwd "stdout $(printf %q "$got")"; fi
fi
mote_run bb-cwd-missing --timeout 20 --rootfs "$ROOT" --cwd /data/nope /bin/busybox pwd
expect_one_error busybox-cwd-missing 66 /data/nope 'no such directory'
mote_run bb-cwd-file --timeout 20 --rootfs "$ROOT" --cwd /data/lines.txt /bin/busybox pwd
expect_one_error busybox-cwd-not-dir 66 /data/lines.txt 'not a directory'
mote_run bb-cwd-relative --timeout 20 --rootfs "$ROOT" --cwd data /bin/busybox pwd
expect_one_error busybox-cwd-relative 64 data 'absolute'

e2e_finish

#!/usr/bin/env bash
# End-to-end: every snapshot that must not be restored is refused before any guest code runs, with its own
# status and one stderr line naming the file and the fault; `mote snapshot` usage errors; snapshots that
# cannot be written fail with 78, leave no temporaries and keep the previous snapshot (docs/snapshots.md).
. "$(dirname "$0")/lib.sh"
need_kvm snapshot_errors
need_built "$MOTE" "$MOTE_VMM" "$MOTE_KERNEL" "$SNAPTOOL" "$TESTBIN/snap_hello.musl" "$TESTBIN/spin.musl"

HELLO=$TESTBIN/snap_hello.musl
W=$E2E_TMP/snaps
mkdir -p "$W"
BG_PIDS=()
snapshot_errors_cleanup() {
	local p
	for p in "${BG_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	chattr -i "$W/keep/app.snap" 2>/dev/null
	chmod -R u+w "$E2E_TMP" 2>/dev/null
	e2e_cleanup
}
trap snapshot_errors_cleanup EXIT


# restore TAG FILE [ARGS...]: `mote snapshot restore ARGS FILE`, with a host-side safety net.
restore() {
	local tag=$1 file=$2
	shift 2
	run "$tag" "$MOTE" snapshot restore --timeout 20 "$@" "$file"
}

# no_temporaries NAME DIR: PASS unless DIR holds a *.tmp-* file.
no_temporaries() {
	local left
	left=$(find "$2" -maxdepth 1 -name '*.tmp-*' 2>/dev/null | head -n 3 | tr '\n' ' ')
	if [ -z "$left" ]; then pass "$1"; else fail "$1" "temporary files left behind: $left"; fi
}

# take_hello TAG FILE: boot snap_hello with --snapshot FILE --exit-after-snapshot; 0 when FILE is a snapshot.
take_hello() {
	mote_run "$1" --timeout 20 --snapshot "$2" --exit-after-snapshot "$HELLO"
	[ "$STATUS" = 0 ] && [ "$SANITIZER" = 0 ] && [ -f "$2" ] && [ -f "$2.mem" ]
}

# ---- a good snapshot, and clones of it ----
if ! take_hello good "$W/good.snap"; then
	fail take-good-snapshot "cannot take the reference snapshot (status $STATUS)"
	e2e_finish
fi
if [ "$(cat "$OUT")" = "snap_hello: before" ] && [ ! -s "$ERR" ]; then
	pass take-good-snapshot
else
	fail take-good-snapshot "expected only 'snap_hello: before' on stdout and nothing on stderr"
fi
no_temporaries snapshot-leaves-no-temporaries "$W"
if [ "$(stat -c %a "$W/good.snap")" = 600 ] && [ "$(stat -c %a "$W/good.snap.mem")" = 600 ]; then
	pass snapshot-files-mode-0600
else
	fail snapshot-files-mode-0600 "modes $(stat -c %a "$W/good.snap") and $(stat -c %a "$W/good.snap.mem")"
fi
restore clone "$W/good.snap"
if expect_status clone-restores 0; then
	if [ "$(cat "$OUT")" = "snap_hello: after, generation 1" ] && [ ! -s "$ERR" ]; then
		pass clone-restores
	else
		fail clone-restores "expected exactly 'snap_hello: after, generation 1' on stdout, nothing on stderr"
	fi
fi
run clone-vmm "$MOTE_VMM" --restore "$W/good.snap"
if expect_status clone-via-mote-vmm 0; then
	if [ "$(cat "$OUT")" = "snap_hello: after, generation 1" ]; then pass clone-via-mote-vmm; else fail clone-via-mote-vmm "unexpected output"; fi
fi
if ! take_hello other "$W/other.snap"; then
	fail take-second-snapshot "status $STATUS"
fi
SIZE=$(stat -c %s "$W/good.snap")
ABI=$("$SNAPTOOL" info "$W/good.snap" | sed -n 's/^format [0-9]* abi \([0-9]*\) .*/\1/p')

# copy NAME: a fresh copy of the good snapshot at $W/NAME.snap; its memory file is a hard link (not to be
# modified; see copy_mem).
copy() {
	rm -rf "$W/$1.snap" "$W/$1.snap.mem"
	cp "$W/good.snap" "$W/$1.snap"
	ln "$W/good.snap.mem" "$W/$1.snap.mem"
	echo "$W/$1.snap"
}
# copy_mem NAME: like copy, with a private (sparse) copy of the memory file that may be damaged.
copy_mem() {
	rm -rf "$W/$1.snap" "$W/$1.snap.mem"
	cp "$W/good.snap" "$W/$1.snap"
	cp --sparse=always "$W/good.snap.mem" "$W/$1.snap.mem"
	echo "$W/$1.snap"
}

# ---- the state file: truncated (74) ----
for cut in 4 30 $((SIZE / 2)) $((SIZE - 8)) $((SIZE - 1)); do
	f=$(copy cut$cut)
	truncate -s "$cut" "$f"
	restore cut$cut "$f"
	expect_one_error "truncated-state-file-at-$cut-of-$SIZE" 74 "$f" 'truncated'
done
# The header's file size grown by 8 (checksum fixed): the file is shorter than its header says.
# le64 N: N as 8 little-endian bytes on stdout.
le64() {
	local i
	for i in 0 1 2 3 4 5 6 7; do
		# shellcheck disable=SC2059
		printf "\\$(printf %03o $((($1 >> (8 * i)) & 255)))"
	done
}
f=$(copy grown)
le64 $((SIZE + 8)) | dd of="$f" bs=1 seek=16 conv=notrunc status=none
"$SNAPTOOL" fix-crc "$f"
restore grown "$f"
expect_one_error header-claims-more-than-file 74 "$f" "truncated: $SIZE of $((SIZE + 8)) bytes"
f=$(copy empty)
: >"$f"
restore empty "$f"
expect_one_error empty-state-file-truncated 74 "$f" 'truncated|0 bytes'

# ---- the state file: corrupt (75) ----
for off in 100 $((SIZE / 2)) $((SIZE - 9)) $((SIZE - 8)); do
	f=$(copy flip$off)
	"$SNAPTOOL" corrupt "$f" "$off"
	restore flip$off "$f"
	expect_one_error "flipped-byte-at-$off" 75 "$f" 'checksum'
done
f=$(copy magic)
"$SNAPTOOL" corrupt "$f" 0
restore magic "$f"
expect_one_error bad-magic 75 "$f" 'not a mote snapshot|magic'
f=$(copy random)
head -c "$SIZE" /dev/urandom >"$f"
printf 'RANDOMXX' | dd of="$f" bs=1 conv=notrunc status=none
restore random "$f"
expect_one_error random-bytes 75 "$f" 'not a mote snapshot|magic'
f=$(copy trailing)
printf 'extra' >>"$f"
restore trailing "$f"
expect_one_error trailing-bytes 75 "$f" 'trailing'
f=$(copy huge)
head -c $((2 * 1024 * 1024)) /dev/zero >>"$f"
restore huge "$f"
expect_one_error state-file-over-1MiB 75 "$f" 'bytes'
mkdir -p "$W/adir.snap"
restore dir "$W/adir.snap"
expect_one_error state-file-is-a-directory 75 "$W/adir.snap" 'regular file|directory'
restore devnull /dev/null
expect_one_error state-file-is-dev-null 75 /dev/null 'regular file'

# ---- the state file: foreign (76) ----
FORMAT=$("$SNAPTOOL" info "$W/good.snap" | sed -n 's/^format \([0-9]*\) .*/\1/p')
for v in $((FORMAT - 1)) $((FORMAT + 1)); do
	f=$(copy format$v)
	"$SNAPTOOL" set-format-version "$f" $v
	restore format$v "$f"
	expect_one_error foreign-format-version-$v 76 "$f" "format version $v"
done
f=$(copy format0)
"$SNAPTOOL" set-format-version "$f" 0
truncate -s 100 "$f" # another format may be laid out differently: its version is read first
restore format0 "$f"
expect_one_error foreign-format-version-0-short 76 "$f" 'format version 0'
if [ -n "$ABI" ]; then
	f=$(copy abi)
	"$SNAPTOOL" set-abi "$f" $((ABI + 1))
	restore abi "$f"
	expect_one_error foreign-abi-version 76 "$f" "ABI version $((ABI + 1))"
	f=$(copy abi0)
	"$SNAPTOOL" set-abi "$f" 0
	restore abi0 "$f"
	expect_one_error foreign-abi-version-0 76 "$f" 'ABI version 0'
else
	fail foreign-abi-version "snaptool info did not print the ABI version"
fi

# ---- CPU features this host lacks (77) ----
# A CPUID leaf 7 feature bit that the snapshot's guest did not see and /proc/cpuinfo does not list.
flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
pick=""
for cand in "7 0 edx 24 amx_tile" "7 0 edx 22 amx_bf16" "7 0 edx 25 amx_int8" "7 0 edx 23 avx512_fp16" \
	"7 0 edx 8 avx512_vp2intersect" "7 0 ebx 11 rtm" "7 0 ebx 4 hle" "7 0 ecx 5 waitpkg" \
	"7 0 ebx 16 avx512f" "7 0 ebx 29 sha_ni" "7 0 ebx 19 adx" "7 1 eax 4 avx_vnni"; do
	set -- $cand
	case $flags in *" $5 "*) continue ;; esac
	reg=$("$SNAPTOOL" cpuid-get "$W/good.snap" "$1" "$2" "$3" 2>/dev/null) || continue
	if [ $((reg >> $4 & 1)) = 0 ]; then
		pick=$cand
		break
	fi
done
if [ -n "$pick" ]; then
	set -- $pick
	f=$(copy cpu)
	"$SNAPTOOL" cpuid-add "$f" "$1" "$2" "$3" "$4"
	restore cpu "$f"
	leaf=$([ "$2" = 0 ] && echo "leaf 0x$1 " || echo "leaf 0x$1.$2")
	expect_one_error "cpu-feature-missing-$5" 77 "$f" "CPU feature.*${leaf}.*$3.*$(printf '%#x' $((1 << $4)))"
else
	skip cpu-feature-missing "every candidate feature bit is present on this host or in the snapshot"
fi
# A bit the host has stays accepted: the CPU check does not refuse what the guest saw.
f=$(copy cpu-same)
"$SNAPTOOL" fix-crc "$f"
restore cpu-same "$f"
if expect_status unchanged-cpuid-restores 0; then pass unchanged-cpuid-restores; fi

# ---- the memory file (77 and 66) ----
f=$(copy_mem memshort)
truncate -s -4096 "$f.mem"
restore memshort "$f"
expect_one_error memory-file-truncated 77 "$f.mem" 'bytes'
f=$(copy_mem memlong)
truncate -s +4096 "$f.mem"
restore memlong "$f"
expect_one_error memory-file-extended 77 "$f.mem" 'bytes'
f=$(copy_mem memempty)
: >"$f.mem"
restore memempty "$f"
expect_one_error memory-file-empty 77 "$f.mem" 'bytes'
f=$(copy_mem memmagic)
printf 'NOTAMEM!' | dd of="$f.mem" bs=1 conv=notrunc status=none
restore memmagic "$f"
expect_one_error memory-file-bad-magic 77 "$f.mem" 'not a mote memory file'
f=$(copy swap)
rm -f "$f.mem"
ln "$W/other.snap.mem" "$f.mem"
restore swap "$f"
expect_one_error memory-file-of-another-snapshot 77 "$f.mem" 'another snapshot'
# A writer that died between its two renames leaves FILE (previous state), FILE.mem (new memory) and
# FILE.mem.old (previous memory): the restore uses FILE.mem.old and the clone runs.
f=$(copy halfrenamed)
rm -f "$f.mem" "$f.mem.old"
ln "$W/other.snap.mem" "$f.mem"
ln "$W/good.snap.mem" "$f.mem.old"
restore halfrenamed "$f"
if [ "$STATUS" = 0 ] && grep -q 'generation 1' "$OUT"; then
	pass crash-between-renames-restores-previous-snapshot
else
	fail crash-between-renames-restores-previous-snapshot "status $STATUS, expected 0 with the clone's output"
fi
rm -f "$f.mem.old"
f=$(copy memdir)
rm -f "$f.mem"
mkdir "$f.mem"
restore memdir "$f"
expect_one_error memory-file-is-a-directory 77 "$f.mem" 'regular file'
f=$(copy nomem)
rm -f "$f.mem"
restore nomem "$f"
expect_one_error memory-file-missing 66 "$f.mem"
restore nostate "$W/no-such.snap"
expect_one_error state-file-missing 66 "$W/no-such.snap"
run nostate-vmm "$MOTE_VMM" --restore "$W/no-such.snap"
expect_one_error state-file-missing-mote-vmm 66 "$W/no-such.snap"
# The good snapshot survived every test above (hard links were only read).
restore clone-again "$W/good.snap"
if expect_status good-snapshot-still-restores 0; then
	if out_has 'after, generation 1'; then pass good-snapshot-still-restores; else fail good-snapshot-still-restores "no clone output"; fi
fi

# ---- usage errors (64) ----
run snap-noargs "$MOTE" snapshot
if expect_status snapshot-without-subcommand 64; then
	if err_has 'usage: mote snapshot' && [ ! -s "$OUT" ]; then pass snapshot-without-subcommand; else fail snapshot-without-subcommand "no usage text on stderr"; fi
fi
run snap-unknown "$MOTE" snapshot frobnicate
expect_one_error snapshot-unknown-subcommand 64 "" 'frobnicate'
run snap-restore-nofile "$MOTE" snapshot restore
if expect_status restore-without-file 64; then
	if err_has 'usage: mote snapshot' && [ ! -s "$OUT" ]; then pass restore-without-file; else fail restore-without-file "no usage text on stderr"; fi
fi
run snap-restore-two "$MOTE" snapshot restore "$W/good.snap" "$W/other.snap"
if expect_status restore-two-files 64; then
	if [ ! -s "$OUT" ]; then pass restore-two-files; else fail restore-two-files "the guest ran"; fi
fi
run snap-exit-after "$MOTE" snapshot restore --exit-after-snapshot "$W/good.snap"
expect_one_error restore-exit-after-snapshot-without-snapshot 64 "" 'exit-after-snapshot.*--snapshot'
for t in abc 0 -1 ''; do
	run snap-timeout "$MOTE" snapshot restore --timeout "$t" "$W/good.snap"
	expect_one_error "restore-bad-timeout-'$t'" 64 "" 'timeout'
done
run snap-restore-bogus "$MOTE" snapshot restore --bogus "$W/good.snap"
expect_one_error restore-unknown-option 64 "" 'bogus'
run snap-run-exit-after "$MOTE" run --exit-after-snapshot "$HELLO"
expect_one_error run-exit-after-snapshot-without-snapshot 64 "" 'exit-after-snapshot'
run snap-take-none "$MOTE" snapshot take
expect_one_error take-without-pid 64 "" 'process id'
for p in abc 12x 0 -5 99999999999; do
	run snap-take-bad "$MOTE" snapshot take "$p"
	expect_one_error "take-bad-pid-'$p'" 64 "" "process id|option '$p'"
done
run snap-take-wait "$MOTE" snapshot take --wait abc $$
expect_one_error take-bad-wait 64 "" 'wait'
sleep 60 >/dev/null 2>&1 &
sleeper=$!
BG_PIDS+=("$sleeper")
run snap-take-notvm "$MOTE" snapshot take "$sleeper"
expect_one_error take-of-a-process-that-is-not-mote-vmm 64 "$sleeper" 'not a mote VM'
kill "$sleeper" 2>/dev/null
wait "$sleeper" 2>/dev/null
gone=4194303
while [ -e "/proc/$gone" ]; do gone=$((gone - 1)); done
run snap-take-gone "$MOTE" snapshot take "$gone"
expect_one_error take-of-a-missing-process 66 "$gone" 'no process'
# Without --snapshot, the program's request fails with EOPNOTSUPP and it goes on.
mote_run nosnap --timeout 20 "$HELLO"
if expect_status request-without-snapshot-file 0; then
	if [ "$(sed -n 2p "$OUT")" = "snap_hello: snapshot write returned -1 (errno 95), generation 0" ] &&
		[ ! -s "$ERR" ]; then
		pass request-without-snapshot-file
	else
		fail request-without-snapshot-file "expected the write to fail with EOPNOTSUPP (95) and no stderr output"
	fi
fi
# A VM started without --snapshot cannot be snapshotted from outside.
"$MOTE" run --timeout 30 "$TESTBIN/spin.musl" </dev/null >"$E2E_TMP/spin.out" 2>&1 &
vm=$!
BG_PIDS+=("$vm")
for _ in $(seq 1 200); do
	grep -q spinning "$E2E_TMP/spin.out" 2>/dev/null && break
	sleep 0.05
done
# $vm is mote-vmm itself (--no-jail, or not root) or, jailed, `mote run` supervising it (docs/jail.md).
if tr '\0' ' ' <"/proc/$vm/cmdline" 2>/dev/null | grep -qE 'mote-vmm|/mote run '; then
	run snap-take-nosnap "$MOTE" snapshot take --wait 2 "$vm"
	expect_one_error take-of-a-vm-without-snapshot 64 "$vm" 'without --snapshot'
else
	fail take-of-a-vm-without-snapshot "mote run did not become mote-vmm or its jail's supervisor"
fi
kill -9 "$vm" 2>/dev/null
wait "$vm" 2>/dev/null
run vmm-restore-rootfs "$MOTE_VMM" --restore "$W/good.snap" --rootfs "$W/good.snap"
expect_one_error mote-vmm-restore-with-rootfs 64 "" '--rootfs'
run vmm-restore-env "$MOTE_VMM" --restore "$W/good.snap" --env A=b
expect_one_error mote-vmm-restore-with-env 64 "" '--env'
run vmm-restore-cwd "$MOTE_VMM" --restore "$W/good.snap" --cwd /tmp
expect_one_error mote-vmm-restore-with-cwd 64 "" '--cwd'
run vmm-restore-args "$MOTE_VMM" --restore "$W/good.snap" /extra/program
if expect_status mote-vmm-restore-with-program 64; then
	if [ ! -s "$OUT" ]; then pass mote-vmm-restore-with-program; else fail mote-vmm-restore-with-program "the guest ran"; fi
fi

# ---- snapshots that cannot be written (78) ----
# expect_write_failure NAME DIR FILE [exit|late]: one "mote-vmm:" line naming FILE and no temporary file in DIR.
# With "exit" (the run had --exit-after-snapshot, so the snapshot was the point): status 78 and the
# program's first line only. Otherwise the VM must go on: the program's write fails with EIO (5), it says
# so and exits 0 - a failed snapshot never kills a running VM.
expect_write_failure() {
	local name=$1 dir=$2 file=$3 mode=${4:-continue}
	if [ "$mode" = exit ]; then
		expect_status "$name" 78 || return 0
	else
		expect_status "$name" 0 || return 0
	fi
	local want="snap_hello: before"
	case $mode in
	continue) want=$(printf '%s\n%s' "$want" "snap_hello: snapshot write returned -1 (errno 5), generation 0") ;;
	# The failure came after the guest's memory was captured, while the files were synced and renamed in
	# the background: the guest's write succeeded and only stderr tells.
	late) want=$(printf '%s\n%s' "$want" "snap_hello: after, generation 0") ;;
	esac
	if [ "$(stderr_lines)" != 1 ] || ! grep -qE '^mote-vmm: ' "$ERR" || ! grep -qF -- "$file" "$ERR"; then
		fail "$name" "expected one 'mote-vmm:' line naming $file: $(head -c 300 "$ERR")"
	elif [ "$(cat "$OUT")" != "$want" ]; then
		fail "$name" "stdout should be: $want"
	else
		pass "$name"
	fi
	[ -d "$dir" ] && no_temporaries "$name-no-temporaries" "$dir"
}
# A snapshot path that is a directory: the write fails at the rename; nothing new may appear beside it.
mkdir -p "$W/isdir/app.snap"
before=$(ls -A "$W/isdir")
mote_run isdir --timeout 20 --snapshot "$W/isdir/app.snap" "$HELLO"
expect_write_failure write-over-a-directory "$W/isdir" "$W/isdir/app.snap"
after=$(ls -A "$W/isdir")
if [ "$after" = "$before" ]; then
	pass failed-write-adds-no-file
else
	fail failed-write-adds-no-file "the directory held [$(echo $before)] and now holds [$(echo $after)]"
fi
mote_run nodir --timeout 20 --snapshot "$W/no-such-dir/x.snap" "$HELLO"
expect_write_failure write-into-missing-directory "$W" "$W/no-such-dir/x.snap"
mote_run nodir-exit --timeout 20 --snapshot "$W/no-such-dir/x.snap" --exit-after-snapshot "$HELLO"
expect_write_failure write-into-missing-directory-exit-after "$W" "$W/no-such-dir/x.snap" exit
: >"$W/plainfile"
mote_run notdir --timeout 20 --snapshot "$W/plainfile/x.snap" "$HELLO"
expect_write_failure write-below-a-regular-file "$W" "$W/plainfile/x.snap"
if [ "$(id -u)" = 0 ]; then
	mote_run procdir --timeout 20 --snapshot /proc/mote-test.snap "$HELLO"
	expect_write_failure write-into-proc "/proc" /proc/mote-test.snap
else
	mkdir -p "$W/ro"
	chmod 555 "$W/ro"
	mote_run rodir --timeout 20 --snapshot "$W/ro/x.snap" "$HELLO"
	expect_write_failure write-into-read-only-directory "$W/ro" "$W/ro/x.snap"
	chmod 755 "$W/ro"
fi

# A full disk while writing over an existing snapshot (RLIMIT_FSIZE makes every large write fail with
# EFBIG; SIGXFSZ is ignored, which exec keeps): 78, the temporaries removed, the old snapshot intact.
mkdir -p "$W/keep"
if take_hello keep "$W/keep/app.snap"; then
	sum_before=$(cat "$W/keep/app.snap" "$W/keep/app.snap.mem" | md5sum)
	ino_before=$(stat -c %i "$W/keep/app.snap")
	run full bash -c 'trap "" XFSZ; ulimit -f 1024; exec "$@"' bash \
		"$MOTE" run --timeout 20 --snapshot "$W/keep/app.snap" "$HELLO"
	expect_write_failure write-fails-file-too-large "$W/keep" "$W/keep/app.snap"
	if [ "$(cat "$W/keep/app.snap" "$W/keep/app.snap.mem" | md5sum)" = "$sum_before" ] &&
		[ "$(stat -c %i "$W/keep/app.snap")" = "$ino_before" ]; then
		pass failed-write-keeps-previous-snapshot
	else
		fail failed-write-keeps-previous-snapshot "the snapshot at $W/keep/app.snap changed"
	fi
	restore keep-clone "$W/keep/app.snap"
	if expect_status previous-snapshot-still-restores 0; then
		if out_has 'after, generation 1'; then pass previous-snapshot-still-restores; else fail previous-snapshot-still-restores "no clone output"; fi
	fi
	# A successful snapshot over it replaces both files (new inodes) and leaves no temporaries.
	if take_hello keep2 "$W/keep/app.snap" && [ "$(stat -c %i "$W/keep/app.snap")" != "$ino_before" ]; then
		pass snapshot-replaces-previous
	else
		fail snapshot-replaces-previous "status $STATUS, inode $(stat -c %i "$W/keep/app.snap" 2>/dev/null)"
	fi
	no_temporaries replace-leaves-no-temporaries "$W/keep"
	restore keep-clone2 "$W/keep/app.snap"
	if expect_status replaced-snapshot-restores 0; then
		if out_has 'after, generation 1'; then pass replaced-snapshot-restores; else fail replaced-snapshot-restores "no clone output"; fi
	fi

	# The state file cannot be replaced (immutable, so its rename fails after the memory file was written
	# and renamed): 78, and the snapshot at FILE must still restore, its memory file included.
	if [ "$(id -u)" = 0 ] && chattr +i "$W/keep/app.snap" 2>/dev/null; then
		sum_before=$(cat "$W/keep/app.snap" "$W/keep/app.snap.mem" | md5sum)
		mote_run immutable --timeout 20 --snapshot "$W/keep/app.snap" "$HELLO"
		chattr -i "$W/keep/app.snap"
		expect_write_failure write-fails-at-rename "$W/keep" "$W/keep/app.snap" late
		if [ "$(cat "$W/keep/app.snap" "$W/keep/app.snap.mem" | md5sum)" = "$sum_before" ]; then
			pass failed-rename-keeps-previous-snapshot
		else
			fail failed-rename-keeps-previous-snapshot "$W/keep/app.snap or its .mem changed (the memory file was replaced before the state file's rename failed)"
		fi
		restore keep-clone3 "$W/keep/app.snap"
		if expect_status snapshot-restores-after-failed-rename 0 "$(head -c 200 "$ERR")"; then
			if out_has 'after, generation 1'; then pass snapshot-restores-after-failed-rename; else fail snapshot-restores-after-failed-rename "no clone output"; fi
		fi
	else
		skip write-fails-at-rename "needs root and a file system with the immutable attribute (chattr +i)"
	fi
else
	fail write-fails-file-too-large "cannot take the snapshot to keep (status $STATUS)"
fi
no_temporaries no-temporaries-anywhere "$W"

e2e_finish

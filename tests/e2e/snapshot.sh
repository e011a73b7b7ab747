#!/usr/bin/env bash
# End-to-end behaviour of snapshots (docs/snapshots.md): a guest-requested and a host-requested snapshot
# resume exactly (every register, x87/AVX state, memory) in the VM that goes on and in 10 clones; clones
# get fresh random bytes, a re-anchored CLOCK_REALTIME and a CLOCK_MONOTONIC that never goes back; clones
# share the snapshot's memory; the memory file is sparse and private; SIGUSR1 + --exit-after-snapshot;
# EOPNOTSUPP without --snapshot; a clone snapshotted again; a snapshot taken during a guest's sleep.
# (Refusals of bad snapshot files are tested elsewhere.)
. "$(dirname "$0")/lib.sh"
need_kvm snapshot
RELEASE_VMM=$E2E_BUILD/mote-vmm
need_built "$MOTE" "$MOTE_VMM" "$MOTE_KERNEL" "$SNAPTOOL" "$RELEASE_VMM"
for v in musl glibc; do
	need_built "$TESTBIN/snap_state.$v" "$TESTBIN/snap_unique.$v" "$TESTBIN/snap_idle.$v" "$TESTBIN/stdio_kind.$v"
done

# Iterations of snap_state's spin loop: about 1 s natively; snapshots are taken 0.3 s into it.
SPIN_ITERS=40000000

# ---- background processes: started here, stopped by pid (also when the script dies) ----
BG_PIDS=""
# bg_start TAG CMD...: run CMD in the background, stdout/stderr in $E2E_TMP/TAG.out/.err; sets BG_PID.
# CMD is exec'd directly by the forked shell, so BG_PID is its pid (for `mote run`: the mote-vmm pid).
bg_start() {
	local tag=$1
	shift
	"$@" >"$E2E_TMP/$tag.out" 2>"$E2E_TMP/$tag.err" </dev/null &
	BG_PID=$!
	BG_PIDS="$BG_PIDS $BG_PID"
}
# bg_wait PID: wait for a background process; sets BG_STATUS (128 + signal for a death by signal).
bg_wait() {
	wait "$1"
	BG_STATUS=$?
	BG_PIDS=$(echo "$BG_PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}
# bg_stop PID...: SIGTERM, then wait (SIGKILL after 5 s).
bg_stop() {
	local p i
	for p in "$@"; do kill "$p" 2>/dev/null; done
	for p in "$@"; do
		for i in $(seq 50); do alive "$p" || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		bg_wait "$p"
	done
}
snapshot_cleanup() {
	# shellcheck disable=SC2086
	[ -n "${BG_PIDS// /}" ] && bg_stop $BG_PIDS
	e2e_cleanup
}
trap snapshot_cleanup EXIT
trap 'exit 130' INT TERM HUP # the EXIT trap then stops the background VMs

# wait_line FILE REGEX SECONDS: wait until FILE has a line matching REGEX; status 1 on timeout.
wait_line() {
	local i n=$(($3 * 50))
	for ((i = 0; i < n; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.02
	done
	return 1
}
# alive PID: PID runs (a background child that exited stays a zombie until bg_wait).
alive() {
	local s
	s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
	[ -n "$s" ] && [ "$s" != Z ]
}
# wait_gone PID SECONDS: wait until PID has exited; status 1 on timeout.
wait_gone() {
	local i n=$(($2 * 50))
	for ((i = 0; i < n; i++)); do
		alive "$1" || return 0
		sleep 0.02
	done
	return 1
}
# val FILE KEY: the value of the first "KEY=VALUE" in FILE (words separated by spaces).
val() {
	grep -oE -- "(^| )$2=[^ ]*" "$1" 2>/dev/null | head -n 1 | sed 's/^ //; s/^[^=]*=//'
}
sanitizer_in() { grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$1"; }

# clones TAG N PARALLEL CMD...: run CMD N times, PARALLEL at a time; outputs $E2E_TMP/TAG-K.out/.err,
# statuses in $E2E_TMP/TAG-K.status (K = 1..N).
clones() {
	local tag=$1 n=$2 par=$3 k j pids
	shift 3
	for ((k = 1; k <= n; k += par)); do
		pids=""
		for ((j = k; j < k + par && j <= n; j++)); do
			bg_start "$tag-$j" "$@"
			pids="$pids $BG_PID:$j"
		done
		for p in $pids; do
			bg_wait "${p%%:*}"
			echo "$BG_STATUS" >"$E2E_TMP/$tag-${p#*:}.status"
		done
	done
}

# check_clones NAME TAG N WANT_STATUS REGEX FORBIDDEN-REGEX: every clone exited WANT_STATUS with an empty
# stderr, printed a line matching REGEX and none matching FORBIDDEN-REGEX. Prints FAIL and returns 1 if not.
check_clones() {
	local name=$1 tag=$2 n=$3 want=$4 regex=$5 forbidden=$6 k s
	for ((k = 1; k <= n; k++)); do
		s=$(cat "$E2E_TMP/$tag-$k.status")
		OUT=$E2E_TMP/$tag-$k.out ERR=$E2E_TMP/$tag-$k.err STATUS=$s LAST_CMD="(clone $k of $n)"
		if [ "$s" != "$want" ]; then
			fail "$name" "clone $k exited $s, expected $want"
			return 1
		elif [ -s "$ERR" ]; then
			fail "$name" "clone $k wrote to stderr$(sanitizer_in "$ERR" && echo ' (a sanitizer report)')"
			return 1
		elif ! grep -qE -- "$regex" "$OUT"; then
			fail "$name" "clone $k printed no line matching /$regex/"
			return 1
		elif grep -qE -- "$forbidden" "$OUT"; then
			fail "$name" "clone $k printed output from before the snapshot (/$forbidden/)"
			return 1
		fi
	done
	LAST_CMD=
	return 0
}

T="--timeout 30"

for v in musl glibc; do
	# ---- 4, first half: the clock test's snapshot is taken now and restored after tests 1-3, so that it
	# has sat on disk for seconds (a clone's CLOCK_MONOTONIC must not count that time) ----
	dclock=$E2E_TMP/clock-$v
	mkdir -p "$dclock"
	mote_run clock-orig-$v $T --snapshot "$dclock/snap" --exit-after-snapshot "$TESTBIN/snap_unique.$v"
	clock_orig=("$STATUS" "$SANITIZER" "$LAST_CMD")
	clock_snap_ns=$(date +%s%N)

	# ==== 1. guest-requested snapshot with live registers across the syscall: original + 10 clones ====
	name=snapshot-request-state-$v
	d=$E2E_TMP/req-$v
	mkdir -p "$d"
	host_run req-native-$v "$TESTBIN/snap_state.$v" request 23
	native=$(val "$HOUT" checksum)
	mote_run req-orig-$v $T --snapshot "$d/snap" "$TESTBIN/snap_state.$v" request 23
	line=$(grep '^snap_state: request ' "$OUT")
	sum=$(val "$OUT" checksum)
	if ! expect_status "$name" 23 "the program exits 23 when every register came back"; then
		:
	elif [ "$(val "$OUT" intact)" != yes ] || [ "$(val "$OUT" write)" != 1 ] || [ "$(val "$OUT" gen)" != 0 ]; then
		fail "$name" "the original after its snapshot: want intact=yes write=1 gen=0: $line"
	elif [ -z "$native" ] || [ "$sum" != "$native" ]; then
		fail "$name" "the original's checksum ${sum:-none} differs from a native run's ${native:-none}"
	elif [ ! -s "$d/snap" ] || [ ! -s "$d/snap.mem" ]; then
		fail "$name" "no snapshot files $d/snap and $d/snap.mem"
	else
		# 10 clones, 5 at a time: every one resumes inside the asm block with the same registers.
		clones req-clone-$v 10 5 "$MOTE" snapshot restore $T "$d/snap"
		if check_clones "$name" req-clone-$v 10 23 \
			"^snap_state: request simd=[a-z0-9]+ write=1 intact=yes checksum=$sum gen=1 " '^snap_state: computing'; then
			pass "$name (original and 10 clones: checksum $sum $(val "$OUT" simd), write=1, exit 23, gen 0 then 1)"
		else
			bad=$(grep -h '^snap_state: request' "$E2E_TMP"/req-clone-$v-*.out | grep -v "checksum=$sum" | head -n 1)
			[ -n "$bad" ] && echo "    a differing clone: $bad"
			echo "    original: $line"
		fi
	fi

	# ==== 2. host-requested snapshot (mote snapshot take) in the middle of a register/AVX/x87 loop ====
	name=snapshot-take-spin-$v
	d=$E2E_TMP/spin-$v
	mkdir -p "$d"
	bg_start spin-native-$v "$TESTBIN/snap_state.$v" spin $SPIN_ITERS
	native_pid=$BG_PID
	bg_start spin-orig-$v "$MOTE" run $T --snapshot "$d/snap" "$TESTBIN/snap_state.$v" spin $SPIN_ITERS
	orig=$BG_PID
	OUT=$E2E_TMP/spin-orig-$v.out ERR=$E2E_TMP/spin-orig-$v.err STATUS=running LAST_CMD="mote run --snapshot ... spin"
	if ! wait_line "$OUT" '^snap_state: started' 20; then
		fail "$name" "no 'started' line from the VM within 20 s"
		bg_stop "$orig" "$native_pid"
	else
		sleep 0.3
		run take-$v "$MOTE" snapshot take --wait 20 "$orig"
		take_status=$STATUS take_out=$(cat "$OUT")
		still=$(alive "$orig" && echo yes || echo no)
		bg_wait "$orig"
		orig_status=$BG_STATUS
		bg_wait "$native_pid"
		native=$(val "$E2E_TMP/spin-native-$v.out" checksum)
		OUT=$E2E_TMP/spin-orig-$v.out ERR=$E2E_TMP/spin-orig-$v.err STATUS=$orig_status
		sum=$(val "$OUT" checksum)
		if [ "$take_status" != 0 ] || [ "$take_out" != "$d/snap" ]; then
			fail "$name" "mote snapshot take exited $take_status printing '$take_out', expected 0 and $d/snap"
		elif [ "$still" != yes ]; then
			fail "$name" "the spin loop ended before the snapshot was written (raise SPIN_ITERS)"
		elif [ "$orig_status" != 0 ] || [ -s "$ERR" ]; then
			fail "$name" "the original exited $orig_status (stderr: $(head -c 200 "$ERR"))"
		elif [ "$(val "$OUT" intact)" != yes ] || [ "$(val "$OUT" gen)" != 0 ]; then
			fail "$name" "the original after the snapshot: $(grep '^snap_state: spin' "$OUT")"
		elif [ -z "$native" ] || [ "$sum" != "$native" ]; then
			fail "$name" "the original's checksum ${sum:-none} differs from a native run's ${native:-none}"
		else
			clones spin-clone-$v 10 5 "$MOTE" snapshot restore $T "$d/snap"
			if check_clones "$name" spin-clone-$v 10 0 \
				"^snap_state: spin simd=[a-z0-9]+ intact=yes checksum=$sum gen=1 " '^snap_state: started'; then
				pass "$name (snapshot 0.3 s into the loop; original and 10 clones: checksum $sum)"
			else
				bad=$(grep -h '^snap_state: spin' "$E2E_TMP"/spin-clone-$v-*.out | grep -v "checksum=$sum" | head -n 1)
				[ -n "$bad" ] && echo "    a differing clone: $bad"
				echo "    original: $(grep '^snap_state: spin' "$OUT")"
			fi
		fi
	fi
	eval "SPIN_NATIVE_$v=\$native"

	# ==== 3. clones get their own random bytes ====
	name=snapshot-clones-random-$v
	d=$E2E_TMP/uniq-$v
	mkdir -p "$d"
	mote_run uniq-orig-$v $T --snapshot "$d/snap" "$TESTBIN/snap_unique.$v"
	if expect_status "$name" 0; then
		clones uniq-clone-$v 2 2 "$MOTE" snapshot restore $T "$d/snap"
		if check_clones "$name" uniq-clone-$v 2 0 '^generation=1$' '^snap_unique: before'; then
			o=$E2E_TMP/uniq-orig-$v.out c1=$E2E_TMP/uniq-clone-$v-1.out c2=$E2E_TMP/uniq-clone-$v-2.out
			g0=$(val "$o" getrandom) g1=$(val "$c1" getrandom) g2=$(val "$c2" getrandom)
			u0=$(val "$o" urandom) u1=$(val "$c1" urandom) u2=$(val "$c2" urandom)
			hex='^[0-9a-f]{32}$'
			if ! [[ $g0 =~ $hex && $g1 =~ $hex && $g2 =~ $hex && $u0 =~ $hex && $u1 =~ $hex && $u2 =~ $hex ]]; then
				fail "$name" "missing random bytes: getrandom '$g0' '$g1' '$g2', urandom '$u0' '$u1' '$u2'"
			elif [ "$(head -n 1 "$o")" != "snap_unique: before the snapshot, after the snapshot" ] ||
				[ "$(head -n 1 "$c1")" != "after the snapshot" ]; then
				fail "$name" "the partial line before the snapshot: original's first line '$(head -n 1 "$o")', clone's '$(head -n 1 "$c1")'"
			elif [ "$(val "$o" generation)" != 0 ]; then
				fail "$name" "the original reads generation $(val "$o" generation), expected 0"
			elif [ "$g1" = "$g2" ] || [ "$g1" = "$g0" ] || [ "$g2" = "$g0" ]; then
				fail "$name" "getrandom repeats: original $g0, clone 1 $g1, clone 2 $g2"
			elif [ "$u1" = "$u2" ] || [ "$u1" = "$u0" ] || [ "$u2" = "$u0" ]; then
				fail "$name" "/dev/urandom repeats: original $u0, clone 1 $u1, clone 2 $u2"
			else
				pass "$name (getrandom $g0 / $g1 / $g2; urandom differ too; generation 0, 1, 1)"
			fi
		fi
	fi

	# ==== 4. clocks after restoring a snapshot that is "3 days old" ====
	name=snapshot-clocks-$v
	d=$dclock
	OUT=$E2E_TMP/clock-orig-$v.out ERR=$E2E_TMP/clock-orig-$v.err
	STATUS=${clock_orig[0]} SANITIZER=${clock_orig[1]} LAST_CMD=${clock_orig[2]}
	if expect_status "$name" 0 "--exit-after-snapshot"; then
		a0=$("$SNAPTOOL" mem-realtime "$d/snap.mem")
		"$SNAPTOOL" shift-clock "$d/snap.mem" 259200
		a1=$("$SNAPTOOL" mem-realtime "$d/snap.mem")
		touch -d '3 days ago' "$d/snap" "$d/snap.mem"
		# At least 4 s on disk (tests 1-3 usually took longer).
		gap_ms=$((($(date +%s%N) - clock_snap_ns) / 1000000))
		[ "$gap_ms" -lt 4000 ] && sleep "$(printf '%d.%03d' $(((4000 - gap_ms) / 1000)) $(((4000 - gap_ms) % 1000)))"
		t0=$(date +%s%N)
		gap_ms=$(((t0 - clock_snap_ns) / 1000000))
		run clock-clone-$v "$MOTE" snapshot restore $T "$d/snap"
		t1=$(date +%s%N)
		ra=$(val "$OUT" realtime_after) rs=$(val "$OUT" realtime_sys)
		mb=$(val "$OUT" monotonic_before) ma=$(val "$OUT" monotonic_after) ms=$(val "$OUT" monotonic_sys)
		if grep -q '^generation=' "$E2E_TMP/clock-orig-$v.out"; then
			fail "$name" "the original went on after its snapshot despite --exit-after-snapshot"
		elif [ -z "$a0" ] || [ -z "$a1" ] || [ $((a0 - a1)) != 259200000000000 ]; then
			fail "$name" "snaptool shift-clock did not move the stored anchor 3 days back ($a0 -> $a1)"
		elif ! expect_status "$name" 0; then
			:
		elif [ -z "$ra" ] || [ -z "$rs" ] || [ -z "$mb" ] || [ -z "$ma" ] || [ -z "$ms" ]; then
			fail "$name" "the clone printed no clock readings"
		elif [ "$ra" -lt $((t0 - 2000000000)) ] || [ "$ra" -gt $((t1 + 2000000000)) ]; then
			fail "$name" "CLOCK_REALTIME in the clone is $(((ra - t0) / 1000000)) ms from the host's clock at the restore (vDSO; allowed +-2 s around the $(((t1 - t0) / 1000000)) ms restore)"
		elif [ "$rs" -lt $((t0 - 2000000000)) ] || [ "$rs" -gt $((t1 + 2000000000)) ]; then
			fail "$name" "CLOCK_REALTIME (syscall) in the clone is $(((rs - t0) / 1000000)) ms from the host's clock at the restore"
		elif [ "$ma" -lt "$mb" ] || [ "$ms" -lt "$ma" ]; then
			fail "$name" "CLOCK_MONOTONIC went backwards: $mb before the snapshot, $ma after (vDSO), $ms (syscall)"
		elif [ $((ma - mb)) -gt 2000000000 ]; then
			fail "$name" "CLOCK_MONOTONIC jumped $(((ma - mb) / 1000000)) ms across a snapshot restored $gap_ms ms after it was taken (it must not count the time on disk)"
		else
			pass "$name (restored $gap_ms ms after the snapshot: realtime $(((ra - t0) / 1000000)) ms from the host's, monotonic +$(((ma - mb) / 1000)) us across the snapshot)"
		fi
	fi

	# ==== 8. without --snapshot the request fails with EOPNOTSUPP and the program goes on ====
	name=snapshot-request-without-file-$v
	mote_run nofile-$v $T "$TESTBIN/snap_unique.$v"
	if expect_status "$name" 0; then
		if ! out_has '^snapshot_write=-1 errno=95 '; then
			fail "$name" "the write to /dev/mote/snapshot: $(grep '^snapshot_write' "$OUT"), expected -1 with errno 95 (EOPNOTSUPP)"
		elif ! out_has '^generation=0$' || ! out_has '^getrandom=[0-9a-f]{32}$'; then
			fail "$name" "the program did not go on normally after the failed request"
		else
			pass "$name"
		fi
	fi
done

# ==== 5. memory sharing: 6 idle clones of a 64 MiB guest holding 32 MiB of data ====
# The clones run the RELEASE mote-vmm: ASan's shadow memory and allocator would swamp what is measured.
name=snapshot-clones-share-memory
d=$E2E_TMP/idle
mkdir -p "$d"
mote_run idle-orig --mem 64M $T --snapshot "$d/snap" --exit-after-snapshot "$TESTBIN/snap_idle.musl" 32
if ! expect_status "$name" 0 "--exit-after-snapshot"; then
	:
elif out_has '^snap_idle: ready'; then
	fail "$name" "the original went on after its snapshot despite --exit-after-snapshot"
else
	N=6
	pids=""
	for k in $(seq $N); do
		bg_start idle-clone-$k "$RELEASE_VMM" --restore "$d/snap" --timeout 60
		pids="$pids $BG_PID"
	done
	ok=1
	k=0
	for p in $pids; do
		k=$((k + 1))
		OUT=$E2E_TMP/idle-clone-$k.out ERR=$E2E_TMP/idle-clone-$k.err STATUS=running LAST_CMD="mote-vmm --restore (clone $k)"
		if ! wait_line "$OUT" '^snap_idle: (ready|BAD)' 20 || ! grep -q '^snap_idle: ready gen=1 mib=32$' "$OUT"; then
			fail "$name" "clone $k did not verify its 32 MiB and print 'ready gen=1'"
			ok=0
			break
		fi
	done
	if [ $ok = 1 ]; then
		sum_pss=0 detail="" min_rss=
		k=0
		for p in $pids; do
			k=$((k + 1))
			f=/proc/$p/smaps_rollup
			rss=$(awk '/^Rss:/ {print $2}' "$f") pss=$(awk '/^Pss:/ {print $2}' "$f")
			pc=$(awk '/^Private_Clean:/ {print $2}' "$f") pd=$(awk '/^Private_Dirty:/ {print $2}' "$f")
			if [ -z "$rss" ] || [ -z "$pss" ] || [ -z "$pc" ] || [ -z "$pd" ]; then
				fail "$name" "cannot read $f"
				ok=0
				break
			fi
			priv=$((pc + pd))
			sum_pss=$((sum_pss + pss))
			[ -z "$min_rss" ] || [ "$rss" -lt "$min_rss" ] && min_rss=$rss
			detail="$detail $((priv))"
			if [ "$priv" -ge 4096 ]; then
				fail "$name" "clone $k has $priv KiB of private memory (Private_Clean $pc + Private_Dirty $pd), limit 4096 KiB"
				ok=0
				break
			elif [ "$rss" -lt 32768 ]; then
				fail "$name" "clone $k has Rss $rss KiB: it does not map the 32 MiB it verified"
				ok=0
				break
			fi
		done
		limit=$((32768 + N * 4096))
		if [ $ok = 1 ] && [ "$sum_pss" -ge "$limit" ]; then
			fail "$name" "the $N clones' Pss add up to $sum_pss KiB, limit $limit KiB (32 MiB shared + 4 MiB each)"
		elif [ $ok = 1 ]; then
			pass "$name ($N clones: Pss total $sum_pss KiB, private KiB each:$detail, Rss >= $min_rss KiB)"
		fi
	fi
	# shellcheck disable=SC2086
	bg_stop $pids
fi

# ==== 5b. a clone's first touch of a page that was zero (a hole in the memory file) reads that page only ====
# stdio_kind --snapshot prints nothing before its snapshot, so the clone's first output goes to a console ring
# page that is a hole. Without MADV_RANDOM the fault read read_ahead_kb (8 MiB here) of holes around it.
name=snapshot-clone-reads-no-holes
d=$E2E_TMP/holes
mkdir -p "$d"
mote_run holes-orig $T --snapshot "$d/snap" --exit-after-snapshot "$TESTBIN/stdio_kind.musl" --snapshot
if ! command -v fincore >/dev/null; then
	skip "$name" "no fincore (util-linux)"
elif expect_status "$name" 0 "the original"; then
	before=$(fincore --bytes --noheadings --output RES "$d/snap.mem" | tr -d ' ')
	run holes-clone "$RELEASE_VMM" --restore "$d/snap" --timeout 20
	after=$(fincore --bytes --noheadings --output RES "$d/snap.mem" | tr -d ' ')
	if ! expect_status "$name" 0 "the clone"; then
		:
	elif ! out_has '^stdio_kind$'; then
		fail "$name" "the clone printed nothing"
	elif [ -z "$before" ] || [ -z "$after" ] || [ $((after - before)) -gt $((256 << 10)) ]; then
		fail "$name" "the clone brought $(((${after:-0} - ${before:-0}) >> 10)) KiB of its memory file into the page cache (${before:-?} -> ${after:-?} bytes): readahead of holes it never touched"
	else
		pass "$name (page cache of the memory file $((before >> 10)) -> $((after >> 10)) KiB)"
	fi
fi

# ==== 6. the files: sparse memory file, small state file, mode 0600, no temporaries left ====
name=snapshot-files
d=$E2E_TMP/files
mkdir -p "$d"
mote_run files-orig --mem 256M $T --snapshot "$d/snap" --exit-after-snapshot "$TESTBIN/snap_unique.musl"
if expect_status "$name" 0; then
	size=$(stat -c %s "$d/snap.mem") alloc=$(($(stat -c %b "$d/snap.mem") * $(stat -c %B "$d/snap.mem")))
	state=$(stat -c %s "$d/snap")
	idle_alloc=$(($(stat -c %b "$E2E_TMP/idle/snap.mem") * $(stat -c %B "$E2E_TMP/idle/snap.mem")))
	modes=$(stat -c %a "$d/snap" "$d/snap.mem" "$E2E_TMP/idle/snap" "$E2E_TMP/idle/snap.mem" | tr '\n' ' ')
	others=$(find "$d" "$E2E_TMP/idle" -mindepth 1 ! -name snap ! -name snap.mem -printf '%f ')
	if [ "$size" -lt $((256 << 20)) ]; then
		fail "$name" "the memory file of a 256 MiB guest is $size bytes"
	elif [ "$alloc" -ge $((16 << 20)) ]; then
		fail "$name" "the memory file of a 256 MiB guest that touched little has $((alloc >> 10)) KiB allocated on disk, expected < 16 MiB (not sparse?)"
	elif [ "$idle_alloc" -lt $((32 << 20)) ] || [ "$idle_alloc" -gt $((40 << 20)) ]; then
		fail "$name" "a guest that wrote 32 MiB has $((idle_alloc >> 10)) KiB of its memory file allocated, expected 32..40 MiB"
	elif [ "$state" -ge 65536 ]; then
		fail "$name" "the state file is $state bytes, expected < 64 KiB"
	elif [ "$modes" != "600 600 600 600 " ]; then
		fail "$name" "file modes are $modes, expected 600 (they hold all guest memory)"
	elif [ -n "$others" ]; then
		fail "$name" "files left beside the snapshots: $others"
	else
		pass "$name (256 MiB guest: $((alloc >> 10)) KiB of $((size >> 20)) MiB allocated; 32 MiB written: $((idle_alloc >> 10)) KiB; state $state bytes; mode 0600)"
	fi
fi

# ==== 7. SIGUSR1 to a program that never asks, with --exit-after-snapshot ====
name=snapshot-sigusr1-exit-after
d=$E2E_TMP/usr1
mkdir -p "$d"
bg_start usr1-orig "$MOTE" run $T --snapshot "$d/snap" --exit-after-snapshot "$TESTBIN/snap_state.glibc" spin $SPIN_ITERS
orig=$BG_PID
OUT=$E2E_TMP/usr1-orig.out ERR=$E2E_TMP/usr1-orig.err STATUS=running LAST_CMD="mote run --snapshot --exit-after-snapshot ... spin"
if ! wait_line "$OUT" '^snap_state: started' 20; then
	fail "$name" "no 'started' line from the VM within 20 s"
	bg_stop "$orig"
else
	sleep 0.3
	t0=$(date +%s%N)
	kill -USR1 "$orig"
	wait_gone "$orig" 10 || kill "$orig"
	t1=$(date +%s%N)
	bg_wait "$orig"
	STATUS=$BG_STATUS
	native=${SPIN_NATIVE_glibc:-}
	if [ "$STATUS" != 0 ] || [ -s "$ERR" ]; then
		fail "$name" "mote-vmm exited $STATUS after SIGUSR1, expected 0 with an empty stderr"
	elif grep -q '^snap_state: spin' "$OUT"; then
		fail "$name" "the VM ran to the end instead of exiting after the snapshot"
	elif [ ! -s "$d/snap" ] || [ ! -s "$d/snap.mem" ]; then
		fail "$name" "mote-vmm exited 0 but wrote no snapshot"
	else
		ms=$(((t1 - t0) / 1000000))
		run usr1-clone "$MOTE" snapshot restore $T "$d/snap"
		if expect_status "$name" 0; then
			if ! out_has "^snap_state: spin simd=[a-z0-9]+ intact=yes checksum=${native:-x} gen=1 "; then
				fail "$name" "the clone's result differs from a native run's checksum ${native:-(none)}: $(cat "$OUT")"
			elif out_has '^snap_state: started'; then
				fail "$name" "the clone repeated output from before the snapshot"
			elif [ -s "$ERR" ]; then
				fail "$name" "the clone wrote to stderr"
			else
				pass "$name (mote-vmm exited 0 $ms ms after SIGUSR1; the clone finished the loop: checksum $native)"
			fi
		fi
	fi
fi

# ==== 9. a clone snapshotted in turn: its clone is generation 2 ====
name=snapshot-of-a-clone
d=$E2E_TMP/chain
mkdir -p "$d"
mote_run chain-orig $T --snapshot "$d/a" --exit-after-snapshot "$TESTBIN/snap_unique.musl" again
if expect_status "$name" 0; then
	run chain-clone1 "$MOTE" snapshot restore $T --snapshot "$d/b" "$d/a"
	c1=$OUT
	if ! expect_status "$name" 0 "clone of the first snapshot"; then
		:
	elif ! out_has '^second_snapshot_write=1 errno=0$' || ! out_has '^generation=1$'; then
		fail "$name" "the clone of the first snapshot: want second_snapshot_write=1 and generation=1"
	elif [ ! -s "$d/b" ] || [ ! -s "$d/b.mem" ]; then
		fail "$name" "the clone wrote no second snapshot"
	else
		run chain-clone2 "$MOTE" snapshot restore $T "$d/b"
		if expect_status "$name" 0 "clone of the clone's snapshot"; then
			if ! out_has '^generation=2$' || ! out_has '^second_snapshot_write=1 errno=0$' || ! out_has '^snapshot_write=1 errno=0$'; then
				fail "$name" "the clone of the clone: want generation=2 and both writes returning 1"
			elif out_has '^snap_unique: before'; then
				fail "$name" "the clone of the clone repeated output from before the first snapshot"
			elif [ "$(val "$OUT" getrandom)" = "$(val "$c1" getrandom)" ]; then
				fail "$name" "the clone of the clone reads the same random bytes as its parent"
			else
				pass "$name (generation 0 -> 1 -> 2)"
			fi
		fi
	fi
fi

# ==== 10. a host snapshot during a guest's sleep: the sleep still lasts its time, the clone sleeps the rest ====
# (The program asked for a snapshot to the same FILE before: the second one replaces it, leaving no other file.)
name=snapshot-during-sleep
d=$E2E_TMP/sleep
mkdir -p "$d"
bg_start sleep-orig "$MOTE" run $T --snapshot "$d/snap" "$TESTBIN/snap_idle.musl" 1 1.5
orig=$BG_PID
OUT=$E2E_TMP/sleep-orig.out ERR=$E2E_TMP/sleep-orig.err STATUS=running LAST_CMD="mote run --snapshot ... snap_idle 1 1.5"
if ! wait_line "$OUT" '^snap_idle: ready gen=0' 20; then
	fail "$name" "no 'ready' line from the VM within 20 s"
	bg_stop "$orig"
else
	sleep 0.4
	run sleep-take "$MOTE" snapshot take --wait 20 "$orig"
	take_status=$STATUS
	bg_wait "$orig"
	STATUS=$BG_STATUS OUT=$E2E_TMP/sleep-orig.out ERR=$E2E_TMP/sleep-orig.err
	slept=$(val "$OUT" slept_ms)
	if [ "$take_status" != 0 ]; then
		fail "$name" "mote snapshot take exited $take_status"
	elif [ "$STATUS" != 0 ] || [ -z "$slept" ]; then
		fail "$name" "the original exited $STATUS without its 'done' line"
	elif [ "$slept" -lt 1500 ]; then
		fail "$name" "the original's 1.5 s nanosleep ended after $slept ms: the snapshot cut it short"
	else
		run sleep-clone "$MOTE" snapshot restore $T "$d/snap"
		cslept=$(val "$OUT" slept_ms)
		if ! expect_status "$name" 0; then
			:
		elif [ -z "$cslept" ] || ! out_has '^snap_idle: done slept_ms=[0-9]+ gen=1$' || out_has 'ready'; then
			fail "$name" "the clone should print only 'done ... gen=1': $(tr '\n' '|' <"$OUT")"
		elif [ "$cslept" -lt 1500 ] || [ "$cslept" -gt 4000 ]; then
			fail "$name" "the clone's sleep took $cslept ms of its CLOCK_MONOTONIC, expected 1500..4000"
		elif [ "$ELAPSED_MS" -lt 500 ]; then
			fail "$name" "the clone ended $ELAPSED_MS ms after the restore: it did not sleep the ~1.1 s left"
		elif others=$(find "$d" -mindepth 1 ! -name snap ! -name snap.mem -printf '%f '); [ -n "$others" ]; then
			fail "$name" "files left beside a snapshot that replaced an older one: $others"
		else
			pass "$name (original slept $slept ms, the clone $cslept ms by its clock, $ELAPSED_MS ms after its restore)"
		fi
	fi
fi

# SIGUSR1 to a VM started without --snapshot is ignored with one line; the VM goes on (here until its
# --timeout, SIGALRM = 142). And a host-requested snapshot that cannot be written (its directory vanished)
# is reported in one line while the VM goes on.
name=sigusr1-without-snapshot-file
bg_start usr1 "$MOTE" run --timeout 1.5 "$TESTBIN/spin.musl"
if ! wait_line "$E2E_TMP/usr1.out" '^spin: spinning' 20; then
	fail "$name" "spin did not start"
else
	kill -USR1 "$BG_PID"
	bg_wait "$BG_PID"
	STATUS=$BG_STATUS OUT=$E2E_TMP/usr1.out ERR=$E2E_TMP/usr1.err
	if [ "$STATUS" != 142 ] || ! err_has '^mote-vmm: SIGUSR1 ignored: .*without --snapshot' ||
		! err_has 'timed out'; then
		fail "$name" "status $STATUS (want 142: the VM went on until --timeout), stderr: $(head -c 300 "$ERR")"
	else
		pass "$name"
	fi
fi
name=failed-host-snapshot-keeps-vm
d=$E2E_TMP/vanish
mkdir -p "$d"
bg_start vanish "$MOTE" run --timeout 20 --snapshot "$d/snap" "$TESTBIN/snap_idle.musl" 1 1.2
if ! wait_line "$E2E_TMP/vanish.out" '^snap_idle: ready' 20; then
	fail "$name" "snap_idle did not get ready"
else
	# The program's own snapshot is committed in the background: let it be in place first.
	for _ in $(seq 1 250); do [ -f "$d/snap" ] && break; sleep 0.02; done
	rm -rf "$d"
	vm=$BG_PID
	run vanish-take "$MOTE" snapshot take --wait 10 "$vm"
	take_status=$STATUS take_err=$(cat "$ERR")
	bg_wait "$vm"
	STATUS=$BG_STATUS OUT=$E2E_TMP/vanish.out ERR=$E2E_TMP/vanish.err
	if [ "$take_status" != 78 ] || [ "$ELAPSED_MS" -gt 5000 ] || ! grep -q "could not write snapshot" <<<"$take_err"; then
		fail "$name" "mote snapshot take: status $take_status after $ELAPSED_MS ms (want 78 at once): $take_err"
	elif [ "$STATUS" != 0 ] || ! out_has '^snap_idle: done slept_ms=' ||
		[ "$(grep -c . "$ERR")" != 1 ] || ! err_has "^mote-vmm: .*$d/snap.*the VM goes on"; then
		fail "$name" "status $STATUS (want 0 after the sleep), stderr: $(head -c 300 "$ERR")"
	else
		pass "$name"
	fi
fi

e2e_finish

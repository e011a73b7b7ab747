#!/usr/bin/env bash
# End-to-end: threads on the guest scheduler (docs/threads.md). tests/guest/threads.c (musl and glibc) runs
# natively and in mote with the same stdout and status: mutex torture, condvar queue, join values,
# __thread, vector registers across switches, sleeps in order, sched_yield turns, pipe and poll wake-ups,
# futex results and errors, robust mutexes, clone errors, the main thread exiting first. Then what has no
# native twin: a deadlock ends the VM with one line and SIGXCPU; a snapshot taken with 3 threads resumes
# all of them in every clone; the futex ping-pong runs. Preemption: threads that never make a system call
# take turns (compared with native: spinning hand-offs, a sleeper waking while another spins, registers,
# flags, red zone and vector registers intact), --debug counts preemptions (none for a lone thread), and
# a CPU-bound loop split over 3 threads gives the native checksum.
. "$(dirname "$0")/lib.sh"
need_kvm threads
need_built "$MOTE" "$MOTE_VMM" "$MOTE_KERNEL"

T="--timeout 30"

for v in musl glibc; do
	bin=$TESTBIN/threads.$v
	need_built "$bin"

	# ---- everything comparable with a native run ----
	for part in all exit preempt; do
		host_run threads-$part-$v "$bin" $part
		mote_run threads-$part-$v $T "$bin" $part
		same_as_native --native-must-succeed threads-$part-same-as-native-$v "$(grep -m 3 FAILED "$ERR" | tr '\n' ';')"
	done

	# ---- deadlock: natively a hang; in mote one line and death by SIGXCPU (152) ----
	mote_run threads-deadlock-$v $T "$bin" deadlock
	name=threads-deadlock-ends-the-vm-$v
	if expect_status "$name" 152; then
		if [ "$(stderr_lines)" != 1 ]; then
			fail "$name" "$(stderr_lines) stderr lines, expected one"
		elif ! err_has '^mote-vmm: guest stopped: deadlock: all 2 threads of the program wait forever'; then
			fail "$name" "no deadlock line: $(head -c 300 "$ERR")"
		elif ! out_has '^deadlock: the main thread joins a thread that waits forever$'; then
			fail "$name" "the program's output before the deadlock is missing"
		else
			pass "$name"
		fi
	fi

	# ---- a snapshot with 3 threads (one in a condvar wait, one sleeping): the VM and 2 clones finish ----
	snap=$E2E_TMP/snap-$v
	mote_run threads-snap-orig-$v $T --snapshot "$snap" "$bin" snapshot
	for tag in orig clone1 clone2; do
		[ "$tag" = orig ] || run threads-snap-$tag-$v "$MOTE" snapshot restore $T "$snap"
		name=threads-snapshot-$tag-$v
		if expect_status "$name" 0 "$(head -c 300 "$ERR")"; then
			if out_has '^ok: snapshot: the waiting and the sleeping thread finished \(41, 10\)$' &&
				out_has '^threads: all checks passed$'; then
				pass "$name"
			else
				fail "$name" "the threads did not all finish"
			fi
		fi
	done

	# ---- preemption is counted, and only happens with more than one thread that could run ----
	mote_run threads-preempt-debug-$v $T --debug "$bin" preempt
	name=threads-preempt-counted-$v
	if expect_status "$name" 0 "$(grep -m 3 FAILED "$OUT" | tr '\n' ';')"; then
		n=$(sed -n 's/.*; \([0-9]*\) preemptions;.*/\1/p' "$ERR")
		if [ -n "$n" ] && [ "$n" -ge 10 ]; then
			pass "$name ($n preemptions)"
		else
			fail "$name" "expected at least 10 preemptions of 0.3 s of spinning threads, --debug says '$n'"
		fi
	fi
	mote_run threads-solo-$v $T --debug "$bin" solo
	name=threads-solo-not-preempted-$v
	if expect_status "$name" 0 "$(grep -m 3 FAILED "$OUT" | tr '\n' ';')"; then
		if err_has '; 0 preemptions;' && out_has '^solo: one thread computed alone$'; then
			pass "$name"
		else
			fail "$name" "a lone thread was preempted: $(grep -o '[0-9]* preemptions' "$ERR")"
		fi
	fi

	# ---- a CPU-bound loop over 3 threads, preempted all along: the same checksum as natively ----
	host_run threads-crunch-$v "$bin" crunch 3 150000000
	mote_run threads-crunch-$v $T "$bin" crunch 3 150000000
	name=threads-crunch-checksum-$v
	if expect_status "$name" 0; then
		want=$(grep -o 'checksum [0-9a-f]*' "$HOUT")
		got=$(grep -o 'checksum [0-9a-f]*' "$OUT")
		if [ -n "$want" ] && [ "$want" = "$got" ]; then
			pass "$name"
		else
			fail "$name" "native '$want', mote '$got'"
		fi
	fi

	# ---- futex ping-pong between two threads (timed by bench; here it must just work) ----
	mote_run threads-pingpong-$v $T "$bin" pingpong 2000
	if expect_status "threads-pingpong-$v" 0 && out_has '^pingpong: 2000 round trips'; then
		pass "threads-pingpong-$v"
	elif [ "$STATUS" = 0 ]; then
		fail "threads-pingpong-$v" "no pingpong line"
	fi
done

e2e_finish

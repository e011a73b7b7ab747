#!/usr/bin/env bash
# End-to-end: signals delivered to handlers (docs/signals.md). tests/guest/signals.c (musl and glibc) runs
# natively and in mote with the same stdout and status: siginfo of raise/kill/tgkill, masks and sigpending,
# the order of several pending signals, SA_RESTART vs EINTR on a blocking read, setitimer/alarm/getitimer
# with nanosleep interrupted and sigsuspend/pause, sigaltstack with SA_ONSTACK, sigsuspend/sigtimedwait/
# sigwaitinfo woken by another thread, SIGPIPE, handlers run in a thread that never makes a system call
# (delivered at preemption; registers, vector registers and red zone intact), SIG_IGN, SA_RESETHAND,
# SA_NODEFER and the errors. Then a fatal signal with its default action ends the VM (status 134, one line).
. "$(dirname "$0")/lib.sh"
need_kvm signals
need_built "$MOTE" "$MOTE_VMM" "$MOTE_KERNEL"

T="--timeout 30"

for v in musl glibc; do
	bin=$TESTBIN/signals.$v
	need_built "$bin"
	for part in basic mask order restart timers altstack waits pipe async flags errors; do
		host_run signals-$part-$v "$bin" $part
		mote_run signals-$part-$v $T "$bin" $part
		same_as_native --native-must-succeed signals-$part-same-as-native-$v "$(grep -m 3 FAILED "$ERR" | tr '\n' ';')"
	done

	# ---- SIGTERM with its default action: natively death by SIGTERM; in mote one line, death by SIGABRT ----
	mote_run signals-term-$v $T "$bin" term
	name=signals-default-action-ends-the-vm-$v
	if expect_status "$name" 134; then
		if ! err_has '^mote-vmm: guest crashed: program killed by signal 15 '; then
			fail "$name" "no 'killed by signal 15' line: $(head -c 300 "$ERR")"
		elif ! out_has '^term: SIGTERM with its default action$' || out_has 'still running'; then
			fail "$name" "the program's output is not what it printed before the signal"
		else
			pass "$name"
		fi
	fi
done

e2e_finish

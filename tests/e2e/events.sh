#!/usr/bin/env bash
# End-to-end: epoll, eventfd and timerfd (docs/events.md). tests/guest/events.c (musl and glibc) runs natively
# and in mote with the same stdout and status: an epoll server loop over pipes and a timerfd, eventfd counter
# and semaphore semantics between threads, level/edge-triggered, EPOLLONESHOT, EPOLLHUP, timerfd ticks,
# absolute timers, gettime, EAGAIN and the errors. Then an idle epoll_wait of 300 ms costs few sleep exits.
. "$(dirname "$0")/lib.sh"
need_kvm events
need_built "$MOTE" "$MOTE_VMM" "$MOTE_KERNEL"

T="--timeout 30"

for v in musl glibc; do
	bin=$TESTBIN/events.$v
	need_built "$bin"
	host_run events-all-$v "$bin" all
	mote_run events-all-$v $T "$bin" all
	same_as_native --native-must-succeed events-same-as-native-$v "$(grep -m 3 FAILED "$ERR" | tr '\n' ';')"

	# ---- an idle epoll_wait sleeps in the monitor: one sleep exit, not a busy loop ----
	mote_run events-idle-$v $T --debug "$bin" idle
	name=events-idle-few-exits-$v
	if expect_status "$name" 0 "$(grep -m 3 FAILED "$ERR" | tr '\n' ';')"; then
		n=$(tail -n 1 "$ERR" | sed -n 's/.* \([0-9]*\) sleep.*/\1/p')
		if [ -n "$n" ] && [ "$n" -le 3 ] && out_has '^ok: idle: epoll_wait timed out after 300 ms$'; then
			pass "$name ($n sleep hypercalls)"
		else
			fail "$name" "expected at most 3 sleep hypercalls, --debug says '$n'"
		fi
	fi
done

e2e_finish

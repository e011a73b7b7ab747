# A private containerd for tests and benches (sourced): its root, state and sockets under one directory, the CRI
# plugin off. containerd_start DIR [NAMESPACE]: start it, wait (at most 10 s) until it answers, set CTRD_PID and the command
# array CTR (ctr on its socket, in NAMESPACE, default "motetest"); returns 1 with a line on stderr when it does not come up.
# containerd_stop: stop it by pid.
containerd_start() {
	local dir=$1 ns=${2:-motetest}
	mkdir -p "$dir"
	cat >"$dir/config.toml" <<CONF
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$dir/c.sock"
[ttrpc]
  address = "$dir/c.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
CONF
	containerd --config "$dir/config.toml" >"$dir/log" 2>&1 </dev/null &
	CTRD_PID=$!
	CTR=(ctr -a "$dir/c.sock" -n "$ns")
	local i
	for ((i = 0; i < 100; i++)); do
		timeout 5 "${CTR[@]}" version >/dev/null 2>&1 && return 0
		if ! kill -0 "$CTRD_PID" 2>/dev/null; then
			echo "containerd exited: $(tail -n 3 "$dir/log")" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "containerd did not answer on $dir/c.sock in 10 s: $(tail -n 3 "$dir/log")" >&2
	return 1
}

containerd_stop() {
	[ -n "${CTRD_PID:-}" ] || return 0
	kill "$CTRD_PID" 2>/dev/null
	wait "$CTRD_PID" 2>/dev/null
	CTRD_PID=
}

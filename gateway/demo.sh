#!/usr/bin/env bash
# `make run`: the function platform's demo. Starts `mote serve` in the foreground (state in a local directory),
# deploys the example Lua and C functions, calls each once, prints the commands to try, and on Ctrl-C stops
# the gateway, which ends every VM it started.
#
# Environment: BUILD (default build), MOTE_DEMO_LISTEN (default 127.0.0.1:8080),
# MOTE_DEMO_STATE (default $BUILD/demo-state).
set -u
BUILD=${BUILD:-build}
LISTEN=${MOTE_DEMO_LISTEN:-127.0.0.1:8080}
STATE=${MOTE_DEMO_STATE:-$BUILD/demo-state}
MOTE=$BUILD/mote
export MOTE_SERVER=$STATE/admin.sock

for f in "$MOTE" "$BUILD/mote-gateway" "$BUILD/examples/hello-c/handler" examples/hello-lua/handler.lua \
	examples/hello-node/handler.mjs "$BUILD/runtimes/node/mote/bootstrap.js"; do
	if [ ! -e "$f" ]; then
		echo "demo: $f is missing; run make" >&2
		exit 1
	fi
done

"$MOTE" serve --listen "$LISTEN" --state "$STATE" &
gw=$!
stop() {
	kill -TERM "$gw" 2>/dev/null
	wait "$gw"
	local left
	left=$(pgrep -f -- "--restore $(cd "$STATE" && pwd)/bases/" | wc -l)
	echo "demo: mote serve stopped; $left VM processes left"
	exit 0
}
trap stop INT TERM

# Wait (at most 10 s) until the admin API answers.
for ((i = 0; i < 100; i++)); do
	"$MOTE" ls >/dev/null 2>&1 && break
	if ! kill -0 "$gw" 2>/dev/null; then
		wait "$gw"
		echo "demo: mote serve did not start (another one on $LISTEN? set MOTE_DEMO_LISTEN=127.0.0.1:PORT)" >&2
		exit 1
	fi
	sleep 0.1
done

url=http://$LISTEN
echo
echo "\$ $MOTE deploy hello-lua examples/hello-lua/handler.lua"
"$MOTE" deploy hello-lua examples/hello-lua/handler.lua || stop
echo "\$ $MOTE deploy hello-c $BUILD/examples/hello-c/handler"
"$MOTE" deploy hello-c "$BUILD/examples/hello-c/handler" || stop
echo "\$ $MOTE deploy hello-node examples/hello-node/handler.mjs   # the first builds the node base (a few s)"
"$MOTE" deploy hello-node examples/hello-node/handler.mjs || stop
echo "\$ curl -s '$url/fn/hello-lua/some/path?name=you'"
curl -s --max-time 10 "$url/fn/hello-lua/some/path?name=you"
echo "\$ curl -s '$url/fn/hello-c/?name=you'"
curl -s --max-time 10 "$url/fn/hello-c/?name=you"
echo "\$ curl -s '$url/fn/hello-node/from/node'"
curl -s --max-time 10 "$url/fn/hello-node/from/node"
echo "\$ $MOTE ls"
"$MOTE" ls
cat <<EOF

mote serve is running on $url (state in $STATE). Try, in another terminal:

  curl -s '$url/fn/hello-lua/any/path?name=me'
  curl -s -X POST --data-binary @README.md '$url/fn/hello-c/upload'
  MOTE_SERVER=$MOTE_SERVER $MOTE invoke hello-lua --data '{"a":1}'
  MOTE_SERVER=$MOTE_SERVER $MOTE logs hello-c
  MOTE_SERVER=$MOTE_SERVER $MOTE deploy echo examples/echo-lua && curl -s '$url/fn/echo/x?status=201'

Press Ctrl-C to stop (the VMs end with the gateway).
EOF
wait "$gw"
echo "demo: mote serve exited with status $?"

# End-to-end: mote-oci, the OCI runtime: the lifecycle by hand with a bundle, hooks, pause/resume, refusals,
# delegation of ordinary bundles to runc, then real podman (docs/oci.md).
source "$(dirname "$0")/lib.sh"
need_kvm oci
OCI=${MOTE_OCI:-$E2E_BUILD/asan/mote-oci}
need_built "$OCI" "$E2E_BUILD/asan/mote-vmm" "$E2E_BUILD/asan/mote-kernel"
if [ "$(id -u)" != 0 ]; then
	skip oci "mote-oci needs root (namespaces, cgroups, runc)"
	exit 0
fi
ROOT=$E2E_TMP/root
O=("$OCI" --root "$ROOT")
# Containers left by a failed check are killed and deleted (by id) on exit.
oci_cleanup() {
	local d
	for d in "$ROOT"/*/; do
		[ -d "$d" ] || continue
		"${O[@]}" delete --force "$(basename "$d")" >/dev/null 2>&1
	done
	e2e_cleanup
}
trap oci_cleanup EXIT
cache_images() { ls "$XDG_CACHE_HOME/mote/rootfs" 2>/dev/null | wc -l; }
CACHE_BEFORE=$(cache_images)

# bundle DIR JSON-ARGS [MOTE]: a bundle with busybox in its rootfs; MOTE=1 marks it a mote image by
# /.mote/annotations.json, MOTE=0 leaves it an ordinary one. Extra config.json fields via $EXTRA (a python dict).
bundle() {
	local dir=$1 args=$2 mote=${3:-1}
	mkdir -p "$dir/rootfs/bin" "$dir/rootfs/.mote" "$dir/rootfs/tmp" "$dir/rootfs/proc"
	cp /bin/busybox "$dir/rootfs/bin/busybox"
	ln -sf busybox "$dir/rootfs/bin/sh"
	[ "$mote" = 1 ] && echo '{"org.mote.mem": "64M"}' >"$dir/rootfs/.mote/annotations.json"
	python3 - "$dir/config.json" "$args" "${EXTRA:-{\}}" <<'PY'
import json, sys
cfg = {"ociVersion": "1.0.2",
       "process": {"args": json.loads(sys.argv[2]), "env": ["PATH=/bin", "A=x"], "cwd": "/",
                   "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]},
       "root": {"path": "rootfs"}, "hostname": "motebox",
       "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
       "linux": {"namespaces": [{"type": "mount"}, {"type": "ipc"}, {"type": "uts"}, {"type": "pid"}],
                 "resources": {"memory": {"limit": 268435456}, "pids": {"limit": 64}}}}
cfg.update(eval(sys.argv[3]))
json.dump(cfg, open(sys.argv[1], "w"))
PY
}

# one_error NAME STATUS REGEX: the last run exited STATUS with exactly one stderr line "mote-oci: ..." matching REGEX.
one_error() {
	local name=$1 want=$2 regex=$3
	expect_status "$name" "$want" || return 0
	if [ "$(stderr_lines)" != 1 ]; then
		fail "$name" "$(stderr_lines) stderr lines, expected one"
	elif ! grep -qE "^mote-oci: .*($regex)" "$ERR"; then
		fail "$name" "stderr does not match /$regex/: $(head -c 300 "$ERR")"
	else
		pass "$name"
	fi
}

# status_is ID WANT: `state ID` says "status": WANT.
status_is() {
	run state-$1 "${O[@]}" state "$1"
	grep -q "\"status\": \"$2\"" "$OUT"
}

# ---- run: output and exit status --------------------------------------------------------------------
B=$E2E_TMP/b-run
bundle "$B" '["/bin/busybox", "sh", "-c", "echo hello $A; exit 3"]'
run oci-run "${O[@]}" run --bundle "$B" r1
expect_status oci-run-exit-status 3 && pass oci-run-exit-status
if out_has '^hello x$' && [ ! -e "$ROOT/r1" ]; then pass oci-run-output; else fail oci-run-output "want 'hello x', state removed"; fi
# --root with missing parents is made, as runc makes it (containerd's shim passes /run/containerd/runc/NS).
run run-deep-root "$OCI" --root "$E2E_TMP/deep/runc/ns" run --bundle "$B" r2
if expect_status oci-root-parents-made 3; then
	if out_has '^hello x$' && [ -d "$E2E_TMP/deep/runc/ns" ]; then pass oci-root-parents-made; else fail oci-root-parents-made "no output or no root"; fi
fi

# ---- the lifecycle by hand --------------------------------------------------------------------------
B=$E2E_TMP/b-life
bundle "$B" '["/bin/busybox", "sleep", "60"]'
# The container's process keeps the descriptors it was given: give it files, not our pipes.
(cd "$B" && timeout 60 "${O[@]}" create --pid-file "$E2E_TMP/life.pid" l1 >"$E2E_TMP/l1.out" 2>"$E2E_TMP/l1.err" </dev/null)
rc=$?
if [ "$rc" = 0 ] && status_is l1 created; then pass oci-create-created; else fail oci-create-created "create rc $rc: $(cat "$E2E_TMP/l1.err")"; fi
pid=$(cat "$E2E_TMP/life.pid" 2>/dev/null)
if [ -s "$ROOT/l1/rootfs.cpio" ]; then pass oci-rootfs-image-in-state; else fail oci-rootfs-image-in-state "no $ROOT/l1/rootfs.cpio"; fi
if [ -n "$pid" ] && grep -q "\"pid\": $pid" "$OUT" && grep -q "\"bundle\": \"$B\"" "$OUT"; then pass oci-state-pid-bundle; else fail oci-state-pid-bundle "pid-file $pid"; fi
run start2 "${O[@]}" start l1
if [ "$STATUS" = 0 ] && status_is l1 running && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q mote-vmm; then
	pass oci-start-running-is-mote-vmm
else fail oci-start-running-is-mote-vmm "state or /proc/$pid/cmdline"; fi
run start-again "${O[@]}" start l1
one_error oci-start-twice-refused 107 'running, not created'
run exec "${O[@]}" exec l1 /bin/busybox ls
one_error oci-exec-refused 108 'one program in one VM'
run delete-running "${O[@]}" delete l1
one_error oci-delete-running-refused 107 'use --force'
run pause "${O[@]}" pause l1
if [ "$STATUS" = 0 ] && status_is l1 paused && grep -q '^State:.*stopped' "/proc/$pid/status"; then pass oci-pause; else fail oci-pause "not paused"; fi
run resume "${O[@]}" resume l1
if [ "$STATUS" = 0 ] && status_is l1 running; then pass oci-resume; else fail oci-resume "not running"; fi
run list "${O[@]}" list
if out_has "^l1 +$pid +running"; then pass oci-list; else fail oci-list "no running l1"; fi
run ps "${O[@]}" ps --format json l1
if out_has "^\[$pid\]$"; then pass oci-ps-json; else fail oci-ps-json "want [$pid]"; fi
run kill "${O[@]}" kill l1 TERM
for _ in $(seq 1 100); do status_is l1 stopped && break; sleep 0.1; done
if status_is l1 stopped && ! grep -q '"pid"' "$OUT"; then pass oci-kill-stopped; else fail oci-kill-stopped "not stopped after SIGTERM"; fi
run kill-stopped "${O[@]}" kill l1 KILL
one_error oci-kill-stopped-refused 107 'is stopped'
run delete "${O[@]}" delete l1
if [ "$STATUS" = 0 ] && [ ! -e "$ROOT/l1" ]; then pass oci-delete; else fail oci-delete "rc $STATUS"; fi
run state-gone "${O[@]}" state l1
one_error oci-state-no-container 105 'does not exist'

# delete --force of a running container.
(cd "$B" && timeout 60 "${O[@]}" run --detach f1 >/dev/null 2>&1 </dev/null)
status_is f1 running && fpid=$(sed -n 's/.*"pid": \([0-9]*\).*/\1/p' "$OUT")
run delete-force "${O[@]}" delete --force f1
if [ "$STATUS" = 0 ] && [ ! -e "$ROOT/f1" ] && ! [ -e "/proc/${fpid:-0}/cmdline" -a "$(tr '\0' ' ' <"/proc/${fpid:-0}/cmdline" 2>/dev/null | grep -c mote-vmm)" = 1 ]; then
	pass oci-delete-force
else fail oci-delete-force "rc $STATUS"; fi

# ---- hooks at every point, with the state on stdin -----------------------------------------------------
B=$E2E_TMP/b-hooks
H=$E2E_TMP/hooks
mkdir -p "$H"
EXTRA="{'hooks': {p: [{'path': '/bin/sh', 'args': ['sh', '-c', 'cat > $H/' + p + '.json']}] for p in
	['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']}}" \
	bundle "$B" '["/bin/busybox", "true"]'
run hooks "${O[@]}" run --bundle "$B" h1
ok=1
for p in prestart createRuntime createContainer startContainer poststart poststop; do
	grep -q '"id":"h1"' "$H/$p.json" 2>/dev/null && grep -q "\"bundle\":\"$B\"" "$H/$p.json" || {
		ok=0
		fail oci-hook-$p "no state with id h1 on its stdin: $(cat "$H/$p.json" 2>&1 | head -c 200)"
	}
done
[ "$ok" = 1 ] && [ "$STATUS" = 0 ] && pass oci-hooks-all-points
if grep -q '"status":"created"' "$H/createRuntime.json" && grep -q '"status":"running"' "$H/poststart.json"; then
	pass oci-hooks-states
else fail oci-hooks-states "createRuntime created, poststart running"; fi
B=$E2E_TMP/b-hookfail
EXTRA="{'hooks': {'createRuntime': [{'path': '/bin/false'}]}}" bundle "$B" '["/bin/busybox", "true"]'
run hookfail "${O[@]}" run --bundle "$B" hf
if expect_status oci-hook-failure 109 && err_has 'hook createRuntime /bin/false: exited with status 1' && [ ! -e "$ROOT/hf" ]; then
	pass oci-hook-failure
fi

# ---- bad bundles: one line and a distinct status each --------------------------------------------------
B=$E2E_TMP/b-bad
bundle "$B" '["/bin/busybox", "true"]'
mv "$B/config.json" "$B/good.json"
run bad-none "${O[@]}" create --bundle "$B" x1
one_error oci-bad-missing-config 100 'config.json'
echo '{"ociVersion": "1.0.2", "process": ' >"$B/config.json"
run bad-json "${O[@]}" create --bundle "$B" x2
one_error oci-bad-invalid-json 101 'not valid JSON'
python3 -c "import json,sys; c=json.load(open('$B/good.json')); c['ociVersion']='2.0.0'; json.dump(c,open('$B/config.json','w'))"
run bad-version "${O[@]}" create --bundle "$B" x3
one_error oci-bad-version 102 "ociVersion '2.0.0' is not 1.x"
python3 -c "import json,sys; c=json.load(open('$B/good.json')); c['annotations']={'org.mote.mem':'lots'}; json.dump(c,open('$B/config.json','w'))"
run bad-annotation "${O[@]}" create --bundle "$B" x4
one_error oci-bad-annotation 104 "org.mote.mem: 'lots'"
python3 -c "import json,sys; c=json.load(open('$B/good.json')); c['annotations']={'com.urunc.unikernel.unikernelType':'unikraft','com.urunc.unikernel.binary':'/k'}; json.dump(c,open('$B/config.json','w'))"
run bad-urunc "${O[@]}" create --bundle "$B" x5
one_error oci-bad-urunc-type 104 "unikernelType: 'unikraft'"
python3 -c "import json,sys; c=json.load(open('$B/good.json')); c['process']['args']=['/bin/nothere']; json.dump(c,open('$B/config.json','w'))"
run bad-program "${O[@]}" create --bundle "$B" x6
one_error oci-bad-missing-program 66 '/bin/nothere: no such file'
python3 -c "import json,sys; c=json.load(open('$B/good.json')); c['process']['args']=[1]; json.dump(c,open('$B/config.json','w'))"
run bad-type "${O[@]}" create --bundle "$B" x7
one_error oci-bad-field-type 103 'process.args\[0\] is not a string'
if [ -z "$(ls "$ROOT" | grep '^x')" ]; then pass oci-bad-leave-nothing; else fail oci-bad-leave-nothing "state left: $(ls "$ROOT")"; fi

# urunc's keys map onto mote: binary is the program.
B=$E2E_TMP/b-urunc
EXTRA="{'annotations': {'com.urunc.unikernel.unikernelType': 'mote', 'com.urunc.unikernel.binary': '/bin/busybox'}}" \
	bundle "$B" '["ignored", "echo", "urunc"]' 0
run urunc "${O[@]}" run --bundle "$B" u1
if expect_status oci-urunc-keys 0; then
	if out_has '^urunc$'; then pass oci-urunc-keys; else fail oci-urunc-keys "output or stderr not as expected"; fi
fi

# ---- an ordinary bundle goes to runc ------------------------------------------------------------------
B=$E2E_TMP/b-runc
bundle "$B" '["/bin/busybox", "sh", "-c", "echo runc here; uname -r"]' 0
EXTRA=
run runc-run "${O[@]}" run --bundle "$B" n1
if expect_status oci-runc-delegated 0; then
	if out_has '^runc here$' && out_has "^$(uname -r)$"; then pass oci-runc-delegated; else fail oci-runc-delegated "output or stderr not as expected"; fi
fi
B2=$E2E_TMP/b-runc2
bundle "$B2" '["/bin/busybox", "sleep", "60"]' 0
(cd "$B2" && timeout 60 "${O[@]}" create n2 >/dev/null 2>&1 </dev/null)
run runc-state "${O[@]}" state n2
if [ "$STATUS" = 0 ] && out_has '"status": "created"' && [ -d "$ROOT/runc/n2" ]; then pass oci-runc-state-delegated; else fail oci-runc-state-delegated "runc's state via mote-oci"; fi
run runc-delete "${O[@]}" delete --force n2
check oci-runc-delete-delegated $STATUS "delete --force n2 via runc"

# ---- features, spec, version ---------------------------------------------------------------------------
run features "${O[@]}" features
python3 -c "import json; f=json.load(open('$OUT')); assert 'poststop' in f['hooks']" 2>/dev/null
check oci-features-json $? "features is not JSON with hooks"
mkdir -p "$E2E_TMP/spec"
run spec "${O[@]}" spec --bundle "$E2E_TMP/spec"
python3 -c "import json; c=json.load(open('$E2E_TMP/spec/config.json')); assert c['annotations']['org.mote.program']" 2>/dev/null
check oci-spec-example $? "spec wrote no mote config.json"
run spec-again "${O[@]}" spec --bundle "$E2E_TMP/spec"
one_error oci-spec-exists 106 'File exists'
run version "$OCI" --version
if out_has '^mote-oci version' && out_has '^spec: 1\.'; then pass oci-version; else fail oci-version "no version"; fi
run log-json "$OCI" --root "$ROOT" --log "$E2E_TMP/log.json" --log-format json state nosuch
if [ "$STATUS" = 105 ] && python3 -c "import json; [json.loads(l) for l in open('$E2E_TMP/log.json')]" 2>/dev/null &&
	grep -q '"level":"error"' "$E2E_TMP/log.json"; then pass oci-log-json; else fail oci-log-json "no JSON error line in --log"; fi

# ---- podman ------------------------------------------------------------------------------------------
if ! command -v podman >/dev/null; then
	skip oci-podman "podman is not installed (make deps installs it)"
	e2e_finish
fi
PM=$E2E_TMP/podman
mkdir -p "$PM"
P=(podman --root "$PM/storage" --runroot "$PM/run" --storage-driver vfs --cgroup-manager cgroupfs --events-backend file)
# Run with the plain mote-oci (as podman users would); the sanitized one is tested above.
POCI=$E2E_BUILD/mote-oci
PRUN=("${P[@]}" run --runtime "$POCI" --network none --ulimit nofile=20000:20000 --ulimit nproc=32768:32768)
bundle "$PM/img" '["/bin/busybox", "true"]'
tar -C "$PM/img/rootfs" -cf "$PM/rootfs.tar" .
run pm-import "${P[@]}" import --change 'CMD ["/bin/busybox", "echo", "hi from mote"]' "$PM/rootfs.tar" localhost/mote-hello
check oci-podman-import $STATUS "podman import"
run pm-run "${PRUN[@]}" --rm localhost/mote-hello
if expect_status oci-podman-run 0; then
	if out_has '^hi from mote$'; then pass oci-podman-run; else fail oci-podman-run "output or stderr not as expected"; fi
fi
run pm-uname "${PRUN[@]}" --rm localhost/mote-hello /bin/busybox uname -r
if expect_status oci-podman-is-a-vm 0; then
	if out_has 'mote'; then pass oci-podman-is-a-vm; else fail oci-podman-is-a-vm "output or stderr not as expected"; fi
fi
run pm-status "${PRUN[@]}" --rm -e FOO=bar localhost/mote-hello /bin/busybox sh -c 'echo $FOO; exit 7'
if expect_status oci-podman-env-status 7; then
	if out_has '^bar$'; then pass oci-podman-env-status; else fail oci-podman-env-status "output or stderr not as expected"; fi
fi
run pm-w "${PRUN[@]}" --rm -w /tmp localhost/mote-hello /bin/busybox pwd
if expect_status oci-podman-workdir 0; then
	if [ "$(cat "$OUT")" = /tmp ]; then pass oci-podman-workdir; else fail oci-podman-workdir "pwd printed $(head -c 100 "$OUT")"; fi
fi
run pm-rm "${P[@]}" ps -a --format '{{.Names}}'
if [ ! -s "$OUT" ]; then pass oci-podman-rm; else fail oci-podman-rm "containers left: $(cat "$OUT")"; fi
run pm-d "${PRUN[@]}" -d --name d1 localhost/mote-hello /bin/busybox sh -c 'echo started; sleep 100'
check oci-podman-detach $STATUS "podman run -d"
for _ in $(seq 1 50); do "${P[@]}" logs d1 2>/dev/null | grep -q started && break; sleep 0.1; done
run pm-ps "${P[@]}" ps --format '{{.Names}} {{.Status}}'
if out_has '^d1 Up'; then pass oci-podman-ps; else fail oci-podman-ps "d1 not up"; fi
run pm-logs "${P[@]}" logs d1
if out_has '^started$'; then pass oci-podman-logs; else fail oci-podman-logs "no output in logs"; fi
run pm-pause "${P[@]}" pause d1
run pm-inspect "${P[@]}" inspect --format '{{.State.Status}}' d1
if out_has '^paused$'; then pass oci-podman-pause; else fail oci-podman-pause "not paused"; fi
run pm-unpause "${P[@]}" unpause d1
run pm-inspect2 "${P[@]}" inspect --format '{{.State.Status}}' d1
if out_has '^running$'; then pass oci-podman-unpause; else fail oci-podman-unpause "not running"; fi
run pm-stop "${P[@]}" stop -t 10 d1
run pm-code "${P[@]}" inspect --format '{{.State.ExitCode}}' d1
# SIGTERM ends the VM at once (mote-vmm's default action: the guest program is not asked first).
if out_has '^143$'; then pass oci-podman-stop-sigterm; else fail oci-podman-stop-sigterm "exit code $(cat "$OUT"), want 143"; fi
run pm-d2 "${PRUN[@]}" -d --name d2 localhost/mote-hello /bin/busybox sleep 100
run pm-kill "${P[@]}" kill d2
run pm-wait "${P[@]}" wait d2
if out_has '^137$'; then pass oci-podman-kill; else fail oci-podman-kill "wait said $(cat "$OUT")"; fi
run pm-d3 "${PRUN[@]}" -d --name d3 localhost/mote-hello /bin/busybox sleep 100
run pm-rmf "${P[@]}" rm -f d1 d2 d3
run pm-left "${P[@]}" ps -a --format '{{.Names}}'
if [ ! -s "$OUT" ] && [ -z "$(ls "$PM/ocistate" 2>/dev/null)" ]; then pass oci-podman-rm-f; else fail oci-podman-rm-f "left: $(cat "$OUT")"; fi
# -t: the program's stdout is a terminal (the pty mote-oci sends over --console-socket).
run pm-t script -qec "$(printf '%q ' "${PRUN[@]}" --rm -t localhost/mote-hello /bin/busybox sh -c '[ -t 1 ] && echo on-a-tty')" /dev/null
if expect_status oci-podman-tty 0; then
	if out_has 'on-a-tty'; then pass oci-podman-tty; else fail oci-podman-tty "output or stderr not as expected"; fi
fi
# An ordinary image through the same runtime goes to runc.
rm -f "$PM/img/rootfs/.mote/annotations.json"
tar -C "$PM/img/rootfs" -cf "$PM/plain.tar" .
"${P[@]}" import --change 'CMD ["/bin/busybox", "uname", "-r"]' "$PM/plain.tar" localhost/plain >/dev/null 2>&1
run pm-plain "${PRUN[@]}" --rm localhost/plain
if expect_status oci-podman-plain-to-runc 0; then
	if out_has "^$(uname -r)$"; then pass oci-podman-plain-to-runc; else fail oci-podman-plain-to-runc "output or stderr not as expected"; fi
fi
"${P[@]}" rm -af >/dev/null 2>&1
"${P[@]}" rmi -af >/dev/null 2>&1
# Every container's rootfs image lived in its state directory: none was added to mote's rootfs cache.
if [ "$(cache_images)" = "$CACHE_BEFORE" ]; then pass oci-rootfs-cache-untouched; else fail oci-rootfs-cache-untouched "$CACHE_BEFORE -> $(cache_images) images in $XDG_CACHE_HOME/mote/rootfs"; fi
e2e_finish

#!/usr/bin/env bash
# End-to-end: images made by `mote build` run through real engines with mote-oci as the runtime: podman
# (load, run: args, env, WORKDIR, -w, exit status) and containerd (ctr import, ctr run --runc-binary), and an
# ordinary image through the same containerd runtime goes to runc (docs/oci.md, docs/build.md).
. "$(dirname "$0")/lib.sh"
need_kvm oci_images
OCI=$E2E_BUILD/mote-oci
need_built "$MOTE" "$(dirname "$MOTE")/mote-build" "$OCI" "$E2E_BUILD/mote-vmm" "$TESTBIN/args.musl"
if [ "$(id -u)" != 0 ]; then
	skip oci_images "mote-oci needs root (namespaces, cgroups)"
	e2e_finish
fi
for tool in podman containerd ctr; do
	if ! command -v $tool >/dev/null; then
		skip oci_images "$tool is not installed (make deps installs it)"
		e2e_finish
	fi
done
W=$E2E_TMP/w
mkdir -p "$W/args" "$W/bb"
cp "$TESTBIN/args.musl" "$W/args/hello"
cat >"$W/args/Motefile" <<'MF'
FROM scratch
ENV GREETING="hello world"
COPY hello /bin/hello
ENTRYPOINT ["/bin/hello"]
CMD ["--greet", "x y"]
MF
cp /bin/busybox "$W/bb/busybox"
echo in-app >"$W/bb/note"
# Shell builtins only: the guest has no fork yet.
cat >"$W/bb/Motefile" <<'MF'
FROM scratch
COPY busybox /bin/busybox
WORKDIR /app
COPY note note
ENTRYPOINT ["/bin/busybox"]
CMD ["sh", "-c", "pwd; read -r x < note; echo $x; exit 3"]
MF
"$MOTE" build -t args:1 --output "oci-archive:$W/args.tar" "$W/args" >/dev/null &&
	"$MOTE" build -t bb:1 --output "oci-archive:$W/bb.tar" "$W/bb" >/dev/null
check images-built $? "mote build failed"

# ---- podman ----
PM=$E2E_TMP/pm
P=(podman --root "$PM/root" --runroot "$PM/run" --storage-driver vfs --cgroup-manager cgroupfs --events-backend none)
# No --ulimit: the engine's default nofile (1048576) is above this sandbox's hard limit, and mote-oci keeps it
# at the host's (with a warning) rather than failing the container.
PRUN=("${P[@]}" run --runtime "$OCI" --network none --rm)
HOST_TIMEOUT=120 run pm-load "${P[@]}" load -i "$W/args.tar"
HOST_TIMEOUT=120 run pm-load2 "${P[@]}" load -i "$W/bb.tar"
check podman-load $STATUS "podman load"
run pm-args "${PRUN[@]}" -e X=1 localhost/args:1
if expect_status podman-built-image-runs 0; then
	if out_has '^argv\[0\]=\[/bin/hello\]$' && out_has '^argv\[2\]=\[x y\]$' && out_has '^env\[[0-9]\]=\[GREETING=hello world\]$' &&
		out_has '^env\[[0-9]\]=\[X=1\]$'; then
		pass podman-built-image-runs
	else fail podman-built-image-runs "argv/env not as the image and -e say: $(head -c 300 "$OUT")"; fi
fi
run pm-bb "${PRUN[@]}" localhost/bb:1
if expect_status podman-workdir-and-exit-status 3; then
	if [ "$(cat "$OUT")" = "$(printf '/app\nin-app')" ]; then pass podman-workdir-and-exit-status; else fail podman-workdir-and-exit-status "stdout $(head -c 100 "$OUT")"; fi
fi
run pm-bb-w "${PRUN[@]}" -w / localhost/bb:1 pwd
if expect_status podman-w-overrides-workdir 0; then
	if [ "$(cat "$OUT")" = / ]; then pass podman-w-overrides-workdir; else fail podman-w-overrides-workdir "stdout $(head -c 100 "$OUT")"; fi
fi
"${P[@]}" rmi -af >/dev/null 2>&1
# An ordinary image for containerd, made by podman from a plain rootfs (no mote annotations).
mkdir -p "$W/plain/bin"
cp /bin/busybox "$W/plain/bin/busybox"
tar -C "$W/plain" -cf "$W/plain.tar" .
"${P[@]}" import --change 'CMD ["/bin/busybox", "uname", "-r"]' "$W/plain.tar" localhost/plain:1 >/dev/null 2>&1 &&
	"${P[@]}" save --format oci-archive -o "$W/plain-img.tar" localhost/plain:1 >/dev/null 2>&1
check podman-save-plain $? "podman import/save of the plain image"
"${P[@]}" rmi -af >/dev/null 2>&1

# ---- containerd: a private instance, stopped by pid ----
. "$E2E_ROOT/tests/e2e/helpers/containerd.sh"
stop_containerd() {
	containerd_stop
	e2e_cleanup
}
trap stop_containerd EXIT
if ! containerd_start "$E2E_TMP/ctrd" 2>"$E2E_TMP/ctrd.err"; then
	fail containerd-start "$(cat "$E2E_TMP/ctrd.err")"
	e2e_finish
fi
"${CTR[@]}" image import "$W/args.tar" >/dev/null 2>&1 && "${CTR[@]}" image import "$W/bb.tar" >/dev/null 2>&1 &&
	"${CTR[@]}" image import --base-name localhost/plain "$W/plain-img.tar" >/dev/null 2>&1
check ctr-import $? "ctr image import"
run ctr-args "${CTR[@]}" run --runc-binary "$OCI" --rm localhost/args:1 c1
if expect_status ctr-built-image-runs 0; then
	if out_has '^argv\[2\]=\[x y\]$' && out_has 'GREETING=hello world'; then pass ctr-built-image-runs; else fail ctr-built-image-runs "$(head -c 300 "$OUT")"; fi
fi
run ctr-bb "${CTR[@]}" run --runc-binary "$OCI" --rm localhost/bb:1 c2
if expect_status ctr-workdir-and-exit-status 3; then
	if [ "$(cat "$OUT")" = "$(printf '/app\nin-app')" ]; then pass ctr-workdir-and-exit-status; else fail ctr-workdir-and-exit-status "stdout $(head -c 100 "$OUT")"; fi
fi
plain_ref=$("${CTR[@]}" image ls -q | grep plain | head -n 1)
run ctr-plain "${CTR[@]}" run --runc-binary "$OCI" --rm "$plain_ref" c3
if expect_status ctr-plain-image-to-runc 0 "image $plain_ref"; then
	if out_has "^$(uname -r)$"; then pass ctr-plain-image-to-runc; else fail ctr-plain-image-to-runc "not the host kernel: $(head -c 100 "$OUT")"; fi
fi
run ctr-left "${CTR[@]}" container ls -q
if [ ! -s "$OUT" ]; then pass ctr-rm-leaves-nothing; else fail ctr-rm-leaves-nothing "containers left: $(cat "$OUT")"; fi
e2e_finish

#!/usr/bin/env bash
# bench/oci.sh: mote-oci under container engines (`make bench`, after bench/base_switch.sh). One static hello
# program (bench/hello.musl) in two images built from the same rootfs: a mote image (/.mote/annotations.json,
# so mote-oci boots it in a microVM) and a plain one (runc runs it). Side by side in one run, BENCH_RUNS runs
# each (default 30), interleaved, wall time of the whole command per run:
#   podman   `podman run --rm --network none IMAGE` with --runtime mote-oci, runc (and crun if it runs here),
#            in a private podman store (vfs, cgroupfs, file events) under a temp dir
#   ctr      `ctr run --rm IMAGE ID` through a containerd this script starts (private root, state and socket,
#            stopped by pid at the end), --runc-binary mote-oci vs the default runc (and crun)
#   direct   `RUNTIME run --bundle B ID` without an engine (the runtime's own cost), runc's default spec,
#            and mote-vmm alone booting the same image (the floor of a mote container). mote-oci packs the
#            rootfs at every create (into the container's state directory), as engines give every container
#            a new rootfs directory.
# Prints p50/p90/p99 in ms and the p50 ratio to runc; the target is mote-oci <= 1.1x runc under podman.
# Environment: BUILD (default build), BENCH_RUNS (default 30, 5..1000). Needs root, /dev/kvm, podman, containerd,
# ctr and runc; skips (exit 0) without them. crun is skipped, with its error, when it cannot run here (it
# refuses cgroup v1/v2 hybrid hosts).
set -uo pipefail
BUILD=${BUILD:-build}
N=${BENCH_RUNS:-30}

if ! [[ $N =~ ^[0-9]+$ ]] || [ "$N" -lt 5 ] || [ "$N" -gt 1000 ]; then
	echo "bench/oci: BENCH_RUNS must be 5..1000, not '$N'" >&2
	exit 2
fi
if [ "$(id -u)" != 0 ]; then
	echo "bench/oci: needs root (runc, podman and containerd as root); OCI benchmarks skipped"
	exit 0
fi
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "bench/oci: /dev/kvm is not usable; OCI benchmarks skipped"
	exit 0
fi
for c in podman containerd ctr runc; do
	if ! command -v "$c" >/dev/null; then
		echo "bench/oci: $c is not installed (make deps installs it); OCI benchmarks skipped"
		exit 0
	fi
done
for f in mote-oci mote-vmm mote-kernel bench/hello.musl; do
	if [ ! -f "$BUILD/$f" ]; then
		echo "bench/oci: $BUILD/$f is missing; run 'make bench'" >&2
		exit 1
	fi
done
OCI=$(realpath "$BUILD/mote-oci")
RUNC=$(command -v runc)
NS=mote-bench-$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mote-ocibench.XXXXXX")
# mote-oci's rootfs cache (and the one of the containerd shim's mote-oci) stays in the temp dir.
export XDG_CACHE_HOME=$tmp/cache
CTD_PID=
had_run_containerd=0
[ -e /run/containerd ] && had_run_containerd=1
P=(podman --root "$tmp/podman/storage" --runroot "$tmp/podman/run" --storage-driver vfs --cgroup-manager cgroupfs
	--events-backend file)
C=(ctr --address "$tmp/ctd/c.sock" -n "$NS")

# Processes whose command line names the temp dir (containerd's shims, anything a failed run left): by pid.
our_pids() {
	local d
	for d in /proc/[0-9]*; do
		[ "${d#/proc/}" = $$ ] && continue
		tr '\0' ' ' 2>/dev/null <"$d/cmdline" | grep -qF -- "$tmp/" && echo "${d#/proc/}"
	done
}
cleanup() {
	local p
	[ -d "$tmp/podman" ] && "${P[@]}" rm -af >/dev/null 2>&1
	if [ -n "$CTD_PID" ]; then
		"${C[@]}" task ls -q 2>/dev/null | while read -r p; do "${C[@]}" task kill -s KILL "$p" >/dev/null 2>&1; done
		kill "$CTD_PID" 2>/dev/null
		{ wait "$CTD_PID"; } 2>/dev/null
	fi
	for p in $(our_pids); do kill -KILL "$p" 2>/dev/null; done
	# The shim's runc root for our namespace (/run/containerd/runc/NS), and the shared directories only if
	# this run made them and they are empty.
	rm -rf "/run/containerd/runc/$NS"
	if [ "$had_run_containerd" = 0 ]; then
		rmdir /run/containerd/runc /run/containerd/fifo /run/containerd/s /run/containerd 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The two rootfs trees: the same hello, with and without /.mote/annotations.json.
mkdir -p "$tmp/rootfs-mote/.mote" "$tmp/rootfs-plain"
cp "$BUILD/bench/hello.musl" "$tmp/rootfs-mote/hello"
cp "$BUILD/bench/hello.musl" "$tmp/rootfs-plain/hello"
echo '{"org.mote.mem": "64M"}' >"$tmp/rootfs-mote/.mote/annotations.json"
WANT=$("$BUILD/bench/hello.musl")

# check NAME CMD...: the command prints exactly what hello prints natively and exits 0; else the bench fails.
check() {
	local name=$1 out
	shift
	out=$(timeout 60 "$@" 2>&1 </dev/null)
	local rc=$?
	if [ "$rc" != 0 ] || [ "$out" != "$WANT" ]; then
		echo "bench/oci: $name: '$*' exited $rc, printed: $(head -c 400 <<<"$out")" >&2
		exit 1
	fi
}

# probe NAME CMD...: 0 if the command runs hello; else prints why NAME is skipped (its first error line).
probe() {
	local name=$1 out
	shift
	out=$(timeout 60 "$@" 2>&1 </dev/null)
	if [ $? = 0 ] && [ "$out" = "$WANT" ]; then
		return 0
	fi
	echo "bench/oci: $name skipped: $(grep -m1 -v '^$' <<<"$out" | head -c 300)"
	return 1
}

# ---- the bundles for the direct runs: runc's default spec, the program /hello, no terminal -------------------
mkdir -p "$tmp/b-mote" "$tmp/b-plain"
(cd "$tmp/b-plain" && "$RUNC" spec) || exit 1
for v in mote plain; do
	python3 - "$tmp/b-plain/config.json" "$tmp/b-$v/config.json.new" "$tmp/rootfs-$v" <<'EOF' || exit 1
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["/hello"]
c["root"]["path"] = sys.argv[3]
json.dump(c, open(sys.argv[2], "w"), indent=1)
EOF
done
for v in mote plain; do mv "$tmp/b-$v/config.json.new" "$tmp/b-$v/config.json"; done
# The image mote-vmm boots in the floor row: the same tree packed by `mote run` into its cache (mote-oci packs
# into each container's state directory and removes it with the container).
check direct-mote "$OCI" --root "$tmp/oci" run --bundle "$tmp/b-mote" warm
check pack "$BUILD/mote" run --no-jail --rootfs "$tmp/rootfs-mote" /hello
IMAGE=$(ls "$XDG_CACHE_HOME"/mote/rootfs/*.cpio)
if [ "$(wc -l <<<"$IMAGE")" != 1 ]; then
	echo "bench/oci: expected one cpio in the rootfs cache, found: $IMAGE" >&2
	exit 1
fi
check direct-runc "$RUNC" --root "$tmp/runc" run --bundle "$tmp/b-plain" warm
check mote-vmm "$BUILD/mote-vmm" --kernel "$BUILD/mote-kernel" --rootfs "$IMAGE" --mem 64M -- /hello

# ---- podman: the images, imported from tars of the two trees -----------------------------------------------
tar -C "$tmp/rootfs-mote" -cf "$tmp/mote.tar" . && tar -C "$tmp/rootfs-plain" -cf "$tmp/plain.tar" . || exit 1
for v in mote plain; do
	if ! "${P[@]}" import --change 'CMD ["/hello"]' "$tmp/$v.tar" "localhost/bench-$v" >"$tmp/import.out" 2>&1; then
		echo "bench/oci: podman import failed: $(tail -3 "$tmp/import.out")" >&2
		exit 1
	fi
done
# The ulimits as in tests/e2e/oci.sh: podman's default (nofile 1048576) is above the hard limit of some hosts.
PRUN=("${P[@]}" run --rm --network none --ulimit nofile=20000:20000 --ulimit nproc=32768:32768)

# ---- containerd: private root, state, sockets; the images from podman save -------------------------------------
. "$(dirname "$0")/../tests/e2e/helpers/containerd.sh"
containerd_start "$tmp/ctd" "$NS" 2>"$tmp/ctd.err"
rc=$?
CTD_PID=$CTRD_PID
if [ "$rc" != 0 ]; then
	echo "bench/oci: $(cat "$tmp/ctd.err")" >&2
	exit 1
fi
for v in mote plain; do
	if ! "${P[@]}" save -o "$tmp/$v.oci.tar" "localhost/bench-$v" >"$tmp/save.out" 2>&1 ||
		! "${C[@]}" image import "$tmp/$v.oci.tar" >"$tmp/cimport.out" 2>&1; then
		echo "bench/oci: podman save | ctr image import of bench-$v failed: $(tail -3 "$tmp/save.out" "$tmp/cimport.out")" >&2
		exit 1
	fi
done

# ---- the variants: NAME, and the command of run I -------------------------------------------------------------
SEQ=0
cmd_of() { # VARIANT: sets CMD (a fresh container id per run)
	SEQ=$((SEQ + 1))
	local id=b$SEQ
	case $1 in
	pm-mote) CMD=("${PRUN[@]}" --runtime "$OCI" localhost/bench-mote) ;;
	pm-runc) CMD=("${PRUN[@]}" --runtime "$RUNC" localhost/bench-plain) ;;
	pm-crun) CMD=("${PRUN[@]}" --runtime "$(command -v crun)" localhost/bench-plain) ;;
	ctr-mote) CMD=("${C[@]}" run --rm --runc-binary "$OCI" localhost/bench-mote:latest "$id") ;;
	ctr-runc) CMD=("${C[@]}" run --rm localhost/bench-plain:latest "$id") ;;
	ctr-crun) CMD=("${C[@]}" run --rm --runc-binary "$(command -v crun)" localhost/bench-plain:latest "$id") ;;
	d-mote) CMD=("$OCI" --root "$tmp/oci" run --bundle "$tmp/b-mote" "$id") ;;
	d-runc) CMD=("$RUNC" --root "$tmp/runc" run --bundle "$tmp/b-plain" "$id") ;;
	d-crun) CMD=("$(command -v crun)" --root "$tmp/crun" run --bundle "$tmp/b-plain" "$id") ;;
	d-vmm) CMD=("$BUILD/mote-vmm" --kernel "$BUILD/mote-kernel" --rootfs "$IMAGE" --mem 64M -- /hello) ;;
	esac
}
variants="pm-mote pm-runc ctr-mote ctr-runc d-mote d-runc d-vmm"
# Each variant once, checked (also the warm-up: podman's and containerd's first runs are not counted).
for v in $variants; do
	cmd_of "$v"
	check "$v" "${CMD[@]}"
done
if command -v crun >/dev/null; then
	cmd_of d-crun
	if probe "crun (direct)" "${CMD[@]}"; then
		variants="$variants d-crun"
		cmd_of pm-crun
		probe "crun (podman)" "${CMD[@]}" && variants="$variants pm-crun"
		cmd_of ctr-crun
		probe "crun (ctr)" "${CMD[@]}" && variants="$variants ctr-crun"
	fi
else
	echo "bench/oci: crun is not installed (Debian package crun); crun rows skipped"
fi
rm -rf "$tmp/miss"

# ---- the timed runs: N rounds, each variant once per round, interleaved ------------------------------------------------------
# Each round runs the variants in a new random order, so that none always follows the same one (an engine's
# work after its command returns, e.g. containerd's shim exiting, falls on the next run).
for ((r = 0; r < N; r++)); do
	for v in $(tr ' ' '\n' <<<"$variants" | shuf); do
		cmd_of "$v"
		t0=$EPOCHREALTIME
		out=$(timeout 60 "${CMD[@]}" 2>&1 </dev/null)
		rc=$?
		t1=$EPOCHREALTIME
		if [ "$rc" != 0 ] || [ "$out" != "$WANT" ]; then
			echo "bench/oci: run $r of $v: '${CMD[*]}' exited $rc, printed: $(head -c 400 <<<"$out")" >&2
			exit 1
		fi
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }' >>"$tmp/t.$v"
	done
	rm -rf "$tmp/miss"
done

# pct FILE P: the P-th percentile (nearest rank) of a file of numbers.
pct() { sort -g "$1" | awk -v p="$2" '{ a[NR] = $1 } END { r = int((NR * p + 99) / 100); if (r < 1) r = 1; print a[r] }'; }
label() {
	case $1 in
	pm-mote) echo "podman run, mote-oci" ;;
	pm-runc) echo "podman run, runc" ;;
	pm-crun) echo "podman run, crun" ;;
	ctr-mote) echo "ctr run, mote-oci" ;;
	ctr-runc) echo "ctr run, runc" ;;
	ctr-crun) echo "ctr run, crun" ;;
	d-mote) echo "mote-oci run --bundle" ;;
	d-runc) echo "runc run --bundle" ;;
	d-crun) echo "crun run --bundle" ;;
	d-vmm) echo "mote-vmm alone" ;;
	esac
}
declare -A P50
echo
echo "OCI runtimes: hello (static musl), $N runs each, interleaved; wall time of the command, ms"
printf '%-28s %9s %9s %9s %11s\n' variant p50 p90 p99 "p50/runc"
for group in pm ctr d; do
	for v in $variants; do
		[ "${v%%-*}" = "$group" ] || continue
		P50[$v]=$(pct "$tmp/t.$v" 50)
	done
	for v in $variants; do
		[ "${v%%-*}" = "$group" ] || continue
		ratio=$(awk -v a="${P50[$group-runc]}" -v b="${P50[$v]}" 'BEGIN { printf "%.2fx", b / a }')
		printf '%-28s %9.1f %9.1f %9.1f %11s\n' "$(label "$v")" "${P50[$v]}" "$(pct "$tmp/t.$v" 90)" \
			"$(pct "$tmp/t.$v" 99)" "$ratio"
	done
done
echo
for group in pm ctr; do
	what=podman
	[ "$group" = ctr ] && what=ctr
	r=$(awk -v a="${P50[$group-runc]}" -v b="${P50[$group-mote]}" 'BEGIN { printf "%.2f", b / a }')
	if awk -v r="$r" 'BEGIN { exit !(r <= 1.1) }'; then
		echo "target met:     $what run, mote-oci <= 1.1x runc (p50 ${r}x)"
	else
		echo "target NOT met: $what run, mote-oci <= 1.1x runc (p50 ${r}x)"
	fi
done
awk -v e="${P50[pm-mote]}" -v d="${P50[d-mote]}" -v re="${P50[pm-runc]}" -v rd="${P50[d-runc]}" \
	-v ce="${P50[ctr-mote]}" -v cr="${P50[ctr-runc]}" -v v="${P50[d-vmm]}" 'BEGIN {
	printf "engine share of p50 (engine run - direct run): podman %.0f ms (mote-oci) / %.0f ms (runc), ctr %.0f / %.0f ms\n", e - d, re - rd, ce - d, cr - rd
	printf "mote-oci run --bundle over mote-vmm alone (p50): %.1f ms\n", d - v }'
uptime | sed 's/^.*load/machine load/'

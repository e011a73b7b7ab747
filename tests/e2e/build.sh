#!/usr/bin/env bash
# End-to-end: `mote build` (docs/build.md): a Motefile with every instruction, the image checked digest by
# digest and file by file, the three outputs, determinism, FROM a built image, bad Motefiles (one line,
# file:line, status), then real loaders: podman load (a private store) and ctr import (a private containerd).
. "$(dirname "$0")/lib.sh"
need_built "$MOTE" "$(dirname "$MOTE")/mote-build" "$MOTE_KERNEL" "$TESTBIN/args.musl"
CHECK="python3 $E2E_ROOT/tests/e2e/helpers/oci_check.py"

W=$E2E_TMP/w
C=$W/ctx
mkdir -p "$C/sub/deep" "$W/tarsrc/t"
cp "$TESTBIN/args.musl" "$C/hello"
echo data >"$C/sub/a.txt"
echo deep >"$C/sub/deep/b.txt"
ln -s a.txt "$C/sub/link"
echo intar >"$W/tarsrc/t/x"
tar -C "$W/tarsrc" -czf "$C/files.tgz" t
echo one >"$C/g1.conf"
echo two >"$C/g2.conf"
cat >"$C/Motefile" <<'MF'
# every instruction, comments and a continuation
ARG VERSION=1.0
FROM scratch
ARG WHO
ENV GREETING="hello world" \
    VERSION=${VERSION}
ENV LEGACY old form
LABEL org.example.version=$VERSION description='a "test" image'
ANNOTATION org.mote.mem=128M org.example.who=${WHO:-nobody}
WORKDIR /app
COPY hello /bin/hello
COPY sub data/
COPY --chmod=0600 --chown=7:8 *.conf /etc/
ADD files.tgz /opt/
ADD ["sub/a.txt", "/opt/plain.txt"]
ENTRYPOINT ["/bin/hello"]
CMD ["--greet", "x y"]
MF

# ---- build and inspect ----
run all "$MOTE" build -t hello:1 --build-arg WHO=me --output "oci-archive:$W/hello.tar" "$C"
if expect_status build-every-instruction 0 && out_has '^localhost/hello:1 sha256:[0-9a-f]{64} oci-archive:'; then
	pass build-every-instruction
else
	fail build-every-instruction "no summary line"
fi
mkdir -p "$W/x"
tar -C "$W/x" -xf "$W/hello.tar"
$CHECK oci "$W/x" >"$W/facts" 2>&1
check build-digests-verify $? "$(grep BAD "$W/facts")"
facts() { grep -qxF -- "$1" "$W/facts"; }
ok=1
for f in "annotation org.mote.kernel=/.mote/mote-kernel" "annotation org.mote.program=/bin/hello" \
	"annotation org.mote.mem=128M" "annotation org.example.who=me" \
	"label org.mote.kernel=/.mote/mote-kernel" "label org.mote.program=/bin/hello" "label org.mote.mem=128M" \
	"label org.example.version=1.0" 'label description=a "test" image'; do
	facts "$f" || { ok=0; fail build-annotations-and-labels "missing: $f"; }
done
[ $ok = 1 ] && pass build-annotations-and-labels
ok=1
for f in "env GREETING=hello world" "env VERSION=1.0" "env LEGACY=old form" 'entrypoint ["/bin/hello"]' \
	'cmd ["--greet", "x y"]' "workdir /app" "arch amd64/linux" "ref localhost/hello:1"; do
	facts "$f" || { ok=0; fail build-config "missing: $f"; }
done
[ $ok = 1 ] && pass build-config
# the file tree, exactly (sorted, mode, owner, fixed mtime)
grep '^file ' "$W/facts" | sed 's/^file 0 //' >"$W/tree"
cat >"$W/tree.want" <<EOF
/.mote d 755 0:0 0 mtime=0
/.mote/annotations.json f 644 0:0 $(tar -xOzf "$W/x/blobs/sha256/$(sed -n 's/^layer 0 sha256:\([0-9a-f]*\) .*/\1/p' "$W/facts")" .mote/annotations.json | wc -c) mtime=0
/.mote/mote-kernel f 644 0:0 $(stat -c %s "$MOTE_KERNEL") mtime=0
/app d 755 0:0 0 mtime=0
/app/data d $(stat -c %a "$C/sub") 0:0 0 mtime=0
/app/data/a.txt f 644 0:0 5 mtime=0
/app/data/deep d $(stat -c %a "$C/sub/deep") 0:0 0 mtime=0
/app/data/deep/b.txt f 644 0:0 5 mtime=0
/app/data/link l 777 0:0 0 mtime=0 -> a.txt
/bin d 755 0:0 0 mtime=0
/bin/hello f $(stat -c %a "$C/hello") 0:0 $(stat -c %s "$C/hello") mtime=0
/etc d 755 0:0 0 mtime=0
/etc/g1.conf f 600 7:8 4 mtime=0
/etc/g2.conf f 600 7:8 4 mtime=0
/opt d 755 0:0 0 mtime=0
/opt/plain.txt f 644 0:0 5 mtime=0
/opt/t d $(stat -c %a "$W/tarsrc/t") 0:0 0 mtime=0
/opt/t/x f 644 0:0 6 mtime=0
EOF
if diff "$W/tree.want" "$W/tree" >"$W/tree.diff"; then
	pass build-file-tree
else
	fail build-file-tree "$(head -c 600 "$W/tree.diff")"
fi
layer=$(sed -n 's/^layer 0 sha256:\([0-9a-f]*\) .*/\1/p' "$W/facts")
tar -xOzf "$W/x/blobs/sha256/$layer" .mote/annotations.json >"$W/ann.json"
python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); sys.exit(0 if a["org.mote.program"]=="/bin/hello" and a["org.mote.kernel"]=="/.mote/mote-kernel" and a["org.mote.mem"]=="128M" else 1)' "$W/ann.json"
check build-annotations-json-in-rootfs $? "$(cat "$W/ann.json")"
tar -xOzf "$W/x/blobs/sha256/$layer" .mote/mote-kernel | cmp -s - "$MOTE_KERNEL"
check build-kernel-in-rootfs $? "/.mote/mote-kernel differs from $MOTE_KERNEL"
# the program of the image runs under mote (the files as the runtime will see them)
mkdir -p "$W/rootfs" && tar -C "$W/rootfs" -xzf "$W/x/blobs/sha256/$layer"
if [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null; then
	mote_run image-program --no-jail --rootfs "$W/rootfs" /bin/hello --greet "x y"
	if expect_status build-image-program-runs 0; then
		if out_has 'x y'; then pass build-image-program-runs; else fail build-image-program-runs "output: $(head -c 200 "$OUT")"; fi
	fi
else
	skip build-image-program-runs "no /dev/kvm"
fi

# ---- the other outputs, the same image ----
manifest=$(sed -n 's/^manifest //p' "$W/facts")
run dir "$MOTE" build -t hello:1 --build-arg WHO=me --output "oci:$W/layout" "$C"
if expect_status build-oci-dir 0; then
	if $CHECK oci "$W/layout" >"$W/facts.dir" 2>&1 && grep -qxF "manifest $manifest" "$W/facts.dir"; then
		pass build-oci-dir
	else
		fail build-oci-dir "not the archive's manifest: $(grep -E 'BAD|manifest' "$W/facts.dir")"
	fi
fi
run dir2 "$MOTE" build -t hello:1 --build-arg WHO=you --output "oci:$W/layout" "$C"
if expect_status build-oci-dir-replaced 0; then
	if $CHECK oci "$W/layout" >"$W/facts.dir2" 2>&1 && grep -qxF "annotation org.example.who=you" "$W/facts.dir2" &&
		[ -z "$(ls -d "$W"/layout.tmp-* 2>/dev/null)" ]; then
		pass build-oci-dir-replaced
	else
		fail build-oci-dir-replaced "not replaced cleanly: $(ls "$W")"
	fi
fi
mkdir -p "$W/notlayout" && echo keep >"$W/notlayout/file"
run notlayout "$MOTE" build -t hello:1 --output "oci:$W/notlayout" "$C"
expect_one_error build-oci-dir-refuses-other-dir 89 "$W/notlayout" 'not an OCI image layout'
[ "$(ls "$W/notlayout")" = file ] && [ -z "$(ls -d "$W"/notlayout.tmp-* 2>/dev/null)" ]
check build-oci-dir-other-dir-untouched $? "$(ls -a "$W/notlayout" "$W")"
run docker "$MOTE" build -t hello:1 --build-arg WHO=me --output "docker-archive:$W/docker.tar" "$C"
mkdir -p "$W/dx"
if expect_status build-docker-archive 0; then
	if tar -C "$W/dx" -xf "$W/docker.tar" && $CHECK docker "$W/dx" >"$W/facts.docker" 2>&1 &&
		grep -qxF "ref localhost/hello:1" "$W/facts.docker" && grep -qxF "label org.mote.program=/bin/hello" "$W/facts.docker"; then
		pass build-docker-archive
	else
		fail build-docker-archive "$(head -n 3 "$W/facts.docker")"
	fi
fi
# the default output: NAME_TAG.tar in the current directory
(cd "$W" && "$MOTE" build -t example.org/team/hello ctx >/dev/null 2>"$W/default.err") && [ -s "$W/hello_latest.tar" ]
check build-default-output $? "no hello_latest.tar: $(cat "$W/default.err")"

# ---- determinism: another build of the same inputs, files touched, in another process and directory ----
touch -d '2001-02-03 04:05:06' "$C/hello" "$C/sub/a.txt" "$C/sub"
run again "$MOTE" build -t hello:1 --build-arg WHO=me --output "oci-archive:$W/hello2.tar" "$C"
if expect_status build-deterministic 0; then
	if cmp -s "$W/hello.tar" "$W/hello2.tar"; then pass build-deterministic; else fail build-deterministic "$(diff_summary "$W/hello.tar" "$W/hello2.tar")"; fi
fi
cp -r "$C" "$W/ctx-copy"
run again2 "$MOTE" build -t hello:1 --build-arg WHO=me --output "oci-archive:$W/hello3.tar" "$W/ctx-copy"
if expect_status build-deterministic-other-dir 0; then
	if cmp -s "$W/hello.tar" "$W/hello3.tar"; then pass build-deterministic-other-dir; else fail build-deterministic-other-dir "$(diff_summary "$W/hello.tar" "$W/hello3.tar")"; fi
fi
run other "$MOTE" build -t hello:1 --build-arg WHO=else --output "oci-archive:$W/hello4.tar" "$C"
if expect_status build-input-changes-digest 0; then
	if ! cmp -s "$W/hello.tar" "$W/hello4.tar"; then pass build-input-changes-digest; else fail build-input-changes-digest "a different ARG gave the same image"; fi
fi

# ---- FROM a built image (oci-archive and docker-archive) ----
mkdir -p "$W/ctx2"
cp "$W/hello.tar" "$W/ctx2/base.tar"
cp "$W/docker.tar" "$W/ctx2/base-docker.tar"
echo extra >"$W/ctx2/extra.txt"
printf 'FROM oci-archive:base.tar\nCOPY extra.txt /extra.txt\nLABEL stage=two\n' >"$W/ctx2/Motefile"
run from "$MOTE" build -t hello:2 --output "oci:$W/from" "$W/ctx2"
base_layer=$(sed -n 's/^layer 0 \(sha256:[0-9a-f]*\) .*/\1/p' "$W/facts")
if expect_status build-from-oci-archive 0; then
	if $CHECK oci "$W/from" >"$W/facts.from" 2>&1 && grep -q "^layer 0 $base_layer " "$W/facts.from" &&
		grep -q '^layer 1 ' "$W/facts.from" && grep -qxF "file 1 /extra.txt f 644 0:0 6 mtime=0" "$W/facts.from" &&
		grep -qxF 'entrypoint ["/bin/hello"]' "$W/facts.from" && grep -qxF 'cmd ["--greet", "x y"]' "$W/facts.from" &&
		grep -qxF "label stage=two" "$W/facts.from" &&
		grep -qxF "label org.example.version=1.0" "$W/facts.from" && grep -qxF "env GREETING=hello world" "$W/facts.from" &&
		grep -qxF "annotation org.mote.program=/bin/hello" "$W/facts.from"; then
		pass build-from-oci-archive
	else
		fail build-from-oci-archive "$(grep -E 'BAD|^layer|^label|^entry' "$W/facts.from" | head -n 8)"
	fi
fi
# a new ENTRYPOINT drops the CMD inherited from the base, as in Dockerfiles
printf 'FROM base-docker.tar\nCOPY extra.txt /extra.txt\nENTRYPOINT ["/bin/hello", "new"]\n' >"$W/ctx2/Motefile.docker"
run fromd "$MOTE" build -f "$W/ctx2/Motefile.docker" -t hello:3 --output "oci:$W/fromd" "$W/ctx2"
if expect_status build-from-docker-archive 0; then
	if $CHECK oci "$W/fromd" >"$W/facts.fromd" 2>&1 && grep -q '^layer 1 ' "$W/facts.fromd" &&
		grep -qxF "annotation org.mote.program=/bin/hello" "$W/facts.fromd" && grep -qxF "cmd null" "$W/facts.fromd" &&
		grep -qxF 'entrypoint ["/bin/hello", "new"]' "$W/facts.fromd"; then
		pass build-from-docker-archive
	else
		fail build-from-docker-archive "$(grep -E 'BAD|^layer' "$W/facts.fromd")"
	fi
fi

# ---- bad Motefiles and inputs: one line naming file:line, a distinct status, no output left behind ----
M="$C/Motefile.bad"
bad() { # bad NAME STATUS REGEX MOTEFILE-TEXT
	local name=$1 status=$2 regex=$3
	printf '%b' "$4" >"$M"
	run "$name" "$MOTE" build -f "$M" -t bad:1 --output "oci-archive:$W/bad.tar" "$C"
	expect_one_error "build-error-$name" "$status" "" "$regex"
	if [ -e "$W/bad.tar" ] || [ -n "$(ls "$W"/bad.tar.tmp-* 2>/dev/null)" ]; then
		fail "build-error-$name-nothing-written" "output left behind: $(ls "$W"/bad.tar*)"
		rm -f "$W"/bad.tar*
	fi
}
bad unknown-instruction 87 "$M:3: unknown instruction 'FROBNICATE'" 'FROM scratch\n# comment\nFROBNICATE x\n'
bad run-refused 87 "$M:2: RUN: .*no shell" 'FROM scratch\nRUN make\n'
bad missing-copy-source 88 "$M:2: COPY: no-such-file: no such file" 'FROM scratch\nCOPY no-such-file /x\nENTRYPOINT ["/x"]\n'
bad unterminated-quote 87 "$M:2: unterminated double quote" 'FROM scratch\nENV A="b\nENTRYPOINT ["/x"]\n'
bad continued-line-number 87 "$M:2: unterminated single quote" "FROM scratch\nLABEL a=b \\\\\n  c='d\n"
bad bad-exec-form 87 "$M:3: exec form" 'FROM scratch\nCOPY hello /hello\nENTRYPOINT ["/hello", oops]\n'
bad shell-form-cmd 87 "$M:2: CMD in shell form" 'FROM scratch\nCMD /hello --flag\n'
bad no-from 87 "$M:1: COPY: comes before FROM" 'COPY hello /hello\n'
bad second-from 87 "$M:2: FROM: .*multi-stage" 'FROM scratch\nFROM scratch\n'
bad outside-context 88 "$M:2: COPY: .*outside the build context" 'FROM scratch\nCOPY ../ctx2/extra.txt /x\n'
bad no-program 87 "$M: no program" 'FROM scratch\nCOPY hello /hello\n'
bad program-missing 88 "program /nope is not a regular file" 'FROM scratch\nENTRYPOINT ["/nope"]\n'
bad bad-mem 87 "org.mote.mem=lots" 'FROM scratch\nCOPY hello /hello\nANNOTATION org.mote.mem=lots\nENTRYPOINT ["/hello"]\n'
bad missing-base 88 "$M:1: FROM: nope.tar: no such image archive" 'FROM nope.tar\n'
echo '#include <stdio.h>
int main(void){puts("dynamic");return 0;}' | gcc -x c -o "$C/dynamic" -
bad dynamic-program 68 "program /dynamic: dynamically linked \\(PT_INTERP /lib.*ld-linux" 'FROM scratch\nCOPY dynamic /dynamic\nENTRYPOINT ["/dynamic"]\n'
echo 'not an elf' >"$C/script"
bad not-elf-program 65 "program /script: not an ELF" 'FROM scratch\nCOPY script /script\nENTRYPOINT ["/script"]\n'
run bad-tag "$MOTE" build -t 'Bad Name' "$C"
expect_one_error build-error-bad-tag 64 "" "not NAME\\[:TAG\\]"
run bad-output "$MOTE" build -t a --output "zip:$W/x.zip" "$C"
expect_one_error build-error-bad-output 64 "" "not oci-archive:FILE"
run no-motefile "$MOTE" build -t a -f "$W/none" "$C"
expect_one_error build-error-no-motefile 66 "$W/none" "No such file"
run unwritable "$MOTE" build -t a --output "oci-archive:$W/no-dir/x.tar" "$C"
expect_one_error build-error-unwritable-output 89 "$W/no-dir/x.tar" ""
export TMPDIR=$E2E_TMP/scratch
mkdir -p "$TMPDIR"
run scratch "$MOTE" build -t a -f "$M" "$C"
run scratch-ok "$MOTE" build -t a --output "oci:$W/scratch-ok" "$C"
[ -z "$(ls -A "$TMPDIR")" ]
check build-no-scratch-left $? "scratch directories left in TMPDIR: $(ls -A "$TMPDIR")"
unset TMPDIR

# ---- real loaders ----
if command -v podman >/dev/null; then
	P="$E2E_TMP/podman"
	mkdir -p "$P/root" "$P/run"
	PODMAN=(podman --root "$P/root" --runroot "$P/run" --storage-driver vfs --cgroup-manager cgroupfs --events-backend none)
	HOST_TIMEOUT=120 run podman-load "${PODMAN[@]}" load -i "$W/hello.tar"
	if expect_status podman-load-oci-archive 0; then
		if out_has 'Loaded image.*localhost/hello:1'; then pass podman-load-oci-archive; else fail podman-load-oci-archive "no 'Loaded image' line"; fi
	fi
	run podman-inspect "${PODMAN[@]}" image inspect localhost/hello:1 --format '{{index .Labels "org.mote.program"}} {{.Config.Entrypoint}} {{.Config.WorkingDir}}'
	if expect_status podman-image-inspect 0; then
		if out_has '^/bin/hello \[/bin/hello\] /app$'; then pass podman-image-inspect; else fail podman-image-inspect "$(head -c 200 "$OUT")"; fi
	fi
	HOST_TIMEOUT=120 run podman-load-docker "${PODMAN[@]}" load -i "$W/docker.tar"
	if expect_status podman-load-docker-archive 0; then
		if out_has 'Loaded image.*hello:1'; then pass podman-load-docker-archive; else fail podman-load-docker-archive "no 'Loaded image' line"; fi
	fi
	"${PODMAN[@]}" rmi -a -f >/dev/null 2>&1
	rm -rf "$P" 2>/dev/null
else
	skip podman-load "podman is not installed (make deps installs it)"
fi
if command -v skopeo >/dev/null; then
	run skopeo skopeo inspect --raw "oci-archive:$W/hello.tar"
	if expect_status skopeo-inspect 0; then
		if out_has '"org.mote.program":"/bin/hello"'; then pass skopeo-inspect; else fail skopeo-inspect "$(head -c 200 "$OUT")"; fi
	fi
fi
if command -v containerd >/dev/null && command -v ctr >/dev/null; then
	. "$E2E_ROOT/tests/e2e/helpers/containerd.sh"
	if containerd_start "$E2E_TMP/ctrd" 2>"$E2E_TMP/ctrd.err"; then
		run ctr-import "${CTR[@]}" image import "$W/hello.tar"
		if expect_status ctr-import-oci-archive 0; then
			if out_has "unpacking localhost/hello:1 \\($manifest\\)"; then pass ctr-import-oci-archive; else fail ctr-import-oci-archive "$(head -c 200 "$OUT")"; fi
		fi
		run ctr-import-docker "${CTR[@]}" image import "$W/docker.tar"
		if expect_status ctr-import-docker-archive 0; then
			if out_has "unpacking localhost/hello:1"; then pass ctr-import-docker-archive; else fail ctr-import-docker-archive "$(head -c 200 "$OUT")"; fi
		fi
		run ctr-ls "${CTR[@]}" image ls
		if expect_status ctr-image-ls 0; then
			if out_has '^localhost/hello:1 .*linux/amd64'; then pass ctr-image-ls; else fail ctr-image-ls "$(head -c 300 "$OUT")"; fi
		fi
	else
		fail ctr-import "$(cat "$E2E_TMP/ctrd.err")"
	fi
	containerd_stop
	rm -rf "$E2E_TMP/ctrd" 2>/dev/null
else
	skip ctr-import "containerd is not installed (make deps installs it)"
fi
e2e_finish

#!/usr/bin/env bash
# End-to-end: the rootfs image cache under $XDG_CACHE_HOME/mote/rootfs. An unchanged tree is not repacked
# (the image keeps its inode and mtime); any change to the tree is seen by the next run; concurrent first
# runs agree; an unusable cache directory is a clean error.
. "$(dirname "$0")/lib.sh"
need_kvm cache
need_built "$MOTE" "$MOTE_VMM" "$MOTE_KERNEL" "$TESTBIN/args.musl"

# This script's own cache, so that counts of images are exact.
export XDG_CACHE_HOME=$E2E_TMP/cache
mkdir -p "$XDG_CACHE_HOME"
CACHE=$XDG_CACHE_HOME/mote/rootfs

ROOT=$E2E_TMP/root
mkdir -p "$ROOT/bin" "$ROOT/data"
cp /bin/busybox "$ROOT/bin/busybox"
printf 'one\n' >"$ROOT/data/f.txt"

images() { find "$CACHE" -maxdepth 1 -type f -name '*.cpio' 2>/dev/null | sort; }
image_count() { images | wc -l | tr -d ' '; }
stray_files() { find "$CACHE" -maxdepth 1 -type f ! -name '*.cpio' 2>/dev/null | wc -l | tr -d ' '; }

# cat_in_vm TAG FILE: cat FILE (relative to the tree) in the VM.
cat_in_vm() {
	mote_run "$1" --timeout 20 --rootfs "$ROOT" /bin/busybox cat "$2"
}

# expect_cat NAME WANT: the last run printed exactly WANT (plus the newline) with status 0.
expect_cat() {
	local name=$1 want=$2
	expect_status "$name" 0 || return 0
	if [ "$(cat "$OUT")" = "$want" ]; then pass "$name"; else fail "$name" "read '$(head -c 100 "$OUT")', expected '$want'"; fi
}

cat_in_vm first data/f.txt
expect_cat cache-first-run one
if [ "$(image_count)" = 1 ]; then pass cache-one-image-after-first-run; else fail cache-one-image-after-first-run "$(image_count) images in $CACHE"; fi
img=$(images | head -n 1)
before=$(stat -c '%i %y' "$img" 2>/dev/null)

cat_in_vm second data/f.txt
expect_cat cache-second-run one
after=$(stat -c '%i %y' "$img" 2>/dev/null)
if [ "$(image_count)" = 1 ] && [ -n "$before" ] && [ "$before" = "$after" ]; then
	pass cache-second-run-does-not-repack
else
	fail cache-second-run-does-not-repack "images $(image_count), inode+mtime before '$before' after '$after'"
fi

# A content change with a new size.
printf 'two two\n' >"$ROOT/data/f.txt"
cat_in_vm changed data/f.txt
expect_cat cache-sees-changed-file "two two"

# Same size, written right away (the same second).
printf 'six six\n' >"$ROOT/data/f.txt"
cat_in_vm same-size data/f.txt
expect_cat cache-sees-same-size-change "six six"

# A new file, then its removal.
printf 'new\n' >"$ROOT/data/new.txt"
cat_in_vm added data/new.txt
expect_cat cache-sees-added-file new
rm "$ROOT/data/new.txt"
cat_in_vm removed data/new.txt
if [ "$STATUS" = 1 ] && [ ! -s "$OUT" ]; then
	pass cache-sees-removed-file
else
	fail cache-sees-removed-file "cat of a removed file: status $STATUS, stdout '$(head -c 50 "$OUT")'"
fi

# A renamed file and a new directory.
mv "$ROOT/data/f.txt" "$ROOT/data/g.txt"
mkdir "$ROOT/data/sub"
printf 'deep\n' >"$ROOT/data/sub/h.txt"
cat_in_vm renamed data/g.txt
expect_cat cache-sees-renamed-file "six six"
cat_in_vm subdir data/sub/h.txt
expect_cat cache-sees-new-directory deep

# chmod only: the mode is part of the image.
chmod 600 "$ROOT/data/g.txt"
mote_run chmod --timeout 20 --rootfs "$ROOT" /bin/busybox stat -c %a data/g.txt
expect_cat cache-sees-chmod 600

# A same-size change whose mtime is then restored (as cp -p, tar or rsync -t may do).
touch -r "$ROOT/data/g.txt" "$E2E_TMP/mtime-ref"
printf 'SIX SIX\n' >"$ROOT/data/g.txt"
touch -r "$E2E_TMP/mtime-ref" "$ROOT/data/g.txt"
cat_in_vm restored-mtime data/g.txt
expect_cat cache-sees-change-with-restored-mtime "SIX SIX"

# Back to an unchanged tree: again no repacking.
n=$(image_count)
snapshot=$(images | xargs stat -c '%n %i %y')
cat_in_vm again data/g.txt
if [ "$(image_count)" = "$n" ] && [ "$(images | xargs stat -c '%n %i %y')" = "$snapshot" ]; then
	pass cache-unchanged-tree-reused
else
	fail cache-unchanged-tree-reused "a run of an unchanged tree wrote a new image"
fi

# Without --rootfs: the single-file image is cached too, and a rebuilt program is seen.
cp "$TESTBIN/args.musl" "$E2E_TMP/prog"
mote_run single1 --timeout 20 "$E2E_TMP/prog" exit 3
n=$(image_count)
mote_run single2 --timeout 20 "$E2E_TMP/prog" exit 4
if expect_status cache-single-file-reused 4; then
	if [ "$(image_count)" = "$n" ]; then pass cache-single-file-reused; else fail cache-single-file-reused "second run added an image"; fi
fi
cp "$TESTBIN/stdio.musl" "$E2E_TMP/prog"
mote_run single3 --timeout 20 "$E2E_TMP/prog"
if expect_status cache-single-file-replaced 0; then
	if out_has '^stdout line 0$'; then pass cache-single-file-replaced; else fail cache-single-file-replaced "ran the old program"; fi
fi

if [ "$(stray_files)" = 0 ]; then pass cache-no-temporary-files-left; else fail cache-no-temporary-files-left "$(find "$CACHE" -maxdepth 1 -type f ! -name '*.cpio')"; fi

# Concurrent first runs of a new tree: all succeed, one image, no temporary files.
export XDG_CACHE_HOME=$E2E_TMP/cache2
printf 'parallel\n' >"$ROOT/data/p.txt"
pids=()
for i in 1 2 3 4 5 6; do
	(
		timeout -k 5 60 "$MOTE" run --timeout 20 --rootfs "$ROOT" /bin/busybox cat data/p.txt \
			>"$E2E_TMP/par$i.out" 2>"$E2E_TMP/par$i.err" </dev/null
		echo $? >"$E2E_TMP/par$i.status"
	) &
	pids+=($!)
done
wait "${pids[@]}"
bad=""
for i in 1 2 3 4 5 6; do
	if [ "$(cat "$E2E_TMP/par$i.status")" != 0 ] || [ "$(cat "$E2E_TMP/par$i.out")" != parallel ]; then
		bad="$bad run$i(status $(cat "$E2E_TMP/par$i.status"): $(head -c 200 "$E2E_TMP/par$i.err"))"
	fi
done
CACHE=$XDG_CACHE_HOME/mote/rootfs
if [ -z "$bad" ] && [ "$(image_count)" = 1 ] && [ "$(stray_files)" = 0 ]; then
	pass cache-concurrent-first-runs
else
	fail cache-concurrent-first-runs "${bad:-} images $(image_count), stray files $(stray_files)"
fi

# An unusable cache location is a rootfs error with one line, not a crash.
printf 'not a directory\n' >"$E2E_TMP/cachefile"
export XDG_CACHE_HOME=$E2E_TMP/cachefile
mote_run unusable --timeout 20 --rootfs "$ROOT" /bin/busybox true
if expect_status cache-unusable-dir 73; then
	if [ "$(stderr_lines)" = 1 ] && err_has '^mote: '; then pass cache-unusable-dir; else fail cache-unusable-dir "expected one 'mote:' line on stderr"; fi
fi

e2e_finish

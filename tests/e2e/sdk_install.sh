#!/usr/bin/env bash
# End-to-end: `make install` into a staging directory puts the runtimes, the C SDK's header, library and
# pkg-config file in place; a function builds against them exactly as docs/functions.md says (static, with
# pkg-config) and the runtime programs keep the contract outside a function VM (one line, exit 2).
. "$(dirname "$0")/lib.sh"
RT=$E2E_BUILD/runtimes
need_built "$RT/mote-lua" "$RT/mote-c-init" "$RT/libmote-fn.a" "$E2E_BUILD/examples/hello-c/handler"

STAGE=$E2E_TMP/stage
PREFIX=/usr/local
run install make -s -C "$E2E_ROOT" install BUILD="$E2E_BUILD" DESTDIR="$STAGE" PREFIX="$PREFIX"
if expect_status install 0 "make install"; then
	missing=""
	for f in bin/mote bin/mote-vmm lib/mote/mote-kernel lib/mote/runtimes/mote-lua lib/mote/runtimes/mote-c-init \
		include/mote/fn.h lib/libmote-fn.a lib/pkgconfig/mote-fn.pc; do
		[ -f "$STAGE$PREFIX/$f" ] || missing="$missing $f"
	done
	for f in lib/mote/runtimes/mote-lua lib/mote/runtimes/mote-c-init; do
		[ -x "$STAGE$PREFIX/$f" ] || missing="$missing $f(not executable)"
	done
	if [ -z "$missing" ]; then pass install-files; else fail install-files "missing:$missing"; fi
fi

# pkg-config on the staged tree: the sysroot prefix maps the installed paths into the stage.
export PKG_CONFIG_PATH=$STAGE$PREFIX/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$STAGE
flags=$(pkg-config --cflags --libs mote-fn 2>&1)
want="-I$STAGE$PREFIX/include -L$STAGE$PREFIX/lib -lmote-fn"
if [ "$(echo $flags)" = "$want" ]; then pass pkg-config-flags; else fail pkg-config-flags "got '$flags', expected '$want'"; fi
version=$(pkg-config --modversion mote-fn 2>&1)
want_version=$(sed -n 's/^#define MOTE_FN_VERSION "\(.*\)"/\1/p' "$E2E_ROOT/include/mote/fn.h")
if [ "$version" = "$want_version" ]; then pass pkg-config-version; else fail pkg-config-version "got '$version'"; fi

# The build tree's own pkg-config file points at the source and build trees (no install needed).
# shellcheck disable=SC2046
run build-tree cc -static -O2 -o "$E2E_TMP/hello-tree" "$E2E_ROOT/examples/hello-c/handler.c" \
	$(PKG_CONFIG_SYSROOT_DIR= PKG_CONFIG_PATH=$E2E_BUILD/runtimes/pkgconfig pkg-config --cflags --libs mote-fn)
expect_status build-tree 0 "cc with build/runtimes/pkgconfig" && [ -x "$E2E_TMP/hello-tree" ] && pass build-tree-pkg-config

# Build the examples the documented ways: the one-line command, and the example's own Makefile.
for ex in hello-c echo-c; do
	# shellcheck disable=SC2046,SC2086
	run "build-$ex" cc -static -O2 -o "$E2E_TMP/$ex" "$E2E_ROOT/examples/$ex/handler.c" $(pkg-config --cflags --libs mote-fn)
	if expect_status "build-$ex" 0 "cc -static with pkg-config"; then
		if readelf -h "$E2E_TMP/$ex" | grep -q 'Type:.*EXEC' && ! readelf -l "$E2E_TMP/$ex" | grep -q INTERP; then
			pass "build-$ex-static"
		else
			fail "build-$ex-static" "not a static executable: $(file -b "$E2E_TMP/$ex")"
		fi
	fi
done
mkdir -p "$E2E_TMP/mk"
cp "$E2E_ROOT/examples/hello-c/handler.c" "$E2E_ROOT/examples/hello-c/Makefile" "$E2E_TMP/mk/"
run make-example make -s -C "$E2E_TMP/mk"
expect_status make-example 0 "examples/hello-c/Makefile" && [ -x "$E2E_TMP/mk/handler" ] && pass make-example

# Outside a function VM every runtime program says why in one line and exits 2 (the runtime contract).
contract_line() { # NAME PROGRAM REGEX
	run "$1" "$2"
	if expect_status "$1" 2; then
		if [ "$(stderr_lines)" = 1 ] && err_has "$3"; then pass "$1"; else fail "$1" "stderr: $(head -c 300 "$ERR")"; fi
	fi
}
contract_line native-sdk-main "$E2E_TMP/hello-c" '^mote-c: /dev/mote/invoke: '
contract_line native-mote-lua "$STAGE$PREFIX/lib/mote/runtimes/mote-lua" '^mote-lua: /dev/mote/snapshot: '
contract_line native-mote-c-init "$STAGE$PREFIX/lib/mote/runtimes/mote-c-init" '^mote-c-init: /dev/mote/snapshot: '
e2e_finish

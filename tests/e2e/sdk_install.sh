#!/usr/bin/env bash
# End-to-end: `make install` into a temporary prefix puts the runtimes, the C SDK's header, both libraries
# (musl, the default, and glibc), gcc's musl specs and both pkg-config files in place; a function builds
# against each exactly as docs/functions.md says (`cc ... $(pkg-config --cflags --libs mote-fn)`), the
# musl build really is static musl (no glibc in it) and the glibc build really is glibc; both deploy and
# answer through the installed `mote serve` (with /dev/kvm); the runtime programs keep the contract
# outside a function VM (one line, exit 2).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/gateway.sh"
RT=$E2E_BUILD/runtimes
need_built "$RT/mote-lua" "$RT/mote-c-init" "$RT/libmote-fn.a" "$RT/libmote-fn-glibc.a" \
	"$E2E_BUILD/examples/hello-c/handler"

PREFIX=$E2E_TMP/prefix
HOST_TIMEOUT=300 run install make -s -C "$E2E_ROOT" install BUILD="$E2E_BUILD" PREFIX="$PREFIX"
if expect_status install 0 "make install"; then
	missing=""
	for f in bin/mote bin/mote-vmm lib/mote/mote-kernel lib/mote/runtimes/mote-lua lib/mote/runtimes/mote-c-init \
		include/mote/fn.h lib/libmote-fn.a lib/libmote-fn-glibc.a lib/mote/musl.specs lib/pkgconfig/mote-fn.pc \
		lib/pkgconfig/mote-fn-glibc.pc; do
		[ -f "$PREFIX/$f" ] || missing="$missing $f"
	done
	for f in lib/mote/runtimes/mote-lua lib/mote/runtimes/mote-c-init; do
		[ -x "$PREFIX/$f" ] || missing="$missing $f(not executable)"
	done
	if [ -z "$missing" ]; then pass install-files; else fail install-files "missing:$missing"; fi
fi

export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig
pc_flags() { # TAG PACKAGE WANT
	local flags
	flags=$(pkg-config --cflags --libs "$2" 2>&1)
	# shellcheck disable=SC2086
	if [ "$(echo $flags)" = "$3" ]; then pass "$1"; else fail "$1" "got '$flags', expected '$3'"; fi
}
SPECS=$PREFIX/lib/mote/musl.specs
pc_flags pkg-config-flags mote-fn "-specs=$SPECS -I$PREFIX/include -specs=$SPECS -static -L$PREFIX/lib -lmote-fn"
pc_flags pkg-config-flags-glibc mote-fn-glibc "-I$PREFIX/include -static -L$PREFIX/lib -lmote-fn-glibc"
want_version=$(sed -n 's/^#define MOTE_FN_VERSION "\(.*\)"/\1/p' "$E2E_ROOT/include/mote/fn.h")
for pc in mote-fn mote-fn-glibc; do
	version=$(pkg-config --modversion "$pc" 2>&1)
	if [ "$version" = "$want_version" ]; then pass "$pc-version"; else fail "$pc-version" "got '$version'"; fi
done

# static_exec TAG FILE: a static (ET_EXEC, no interpreter) executable, as mote deploy requires.
static_exec() {
	if readelf -h "$2" | grep -q 'Type:.*EXEC' && ! readelf -l "$2" | grep -q INTERP; then
		pass "$1-static"
	else
		fail "$1-static" "not a static executable: $(file -b "$2")"
	fi
}
# libc_of FILE: musl or glibc, by markers each leaves in a static program (glibc: its ABI note and versioned
# GLIBC_ strings; musl: neither, and its start-up routine __init_libc), else "unknown".
libc_of() {
	local note glibc musl
	note=$(readelf -S "$1" | grep -c '\.note\.ABI-tag')
	glibc=$(strings -a "$1" | grep -c 'GLIBC_')
	musl=$(nm "$1" | grep -c ' __init_libc$')
	if [ "$note" = 0 ] && [ "$glibc" = 0 ] && [ "$musl" = 1 ]; then
		echo musl
	elif [ "$note" = 1 ] && [ "$glibc" != 0 ] && [ "$musl" = 0 ]; then
		echo glibc
	else
		echo "unknown (ABI note $note, GLIBC_ strings $glibc, __init_libc $musl)"
	fi
}
# build TAG LIBC CMD...: run a build; PASS if it succeeds and makes a static program of LIBC in $E2E_TMP/TAG.
build() {
	local tag=$1 libc=$2 got
	shift 2
	run "$tag" "$@"
	expect_status "$tag" 0 "build" || return 1
	static_exec "$tag" "$E2E_TMP/$tag"
	got=$(libc_of "$E2E_TMP/$tag")
	if [ "$got" = "$libc" ]; then pass "$tag-$libc"; else fail "$tag-$libc" "built with $got: $(file -b "$E2E_TMP/$tag")"; fi
}

# The examples the documented way with each variant (the .pc gives -static; no other flag is needed).
for ex in hello-c echo-c; do
	# shellcheck disable=SC2046
	build "$ex" musl cc -O2 -o "$E2E_TMP/$ex" "$E2E_ROOT/examples/$ex/handler.c" $(pkg-config --cflags --libs mote-fn)
	# shellcheck disable=SC2046
	build "$ex-glibc" glibc cc -O2 -o "$E2E_TMP/$ex-glibc" "$E2E_ROOT/examples/$ex/handler.c" \
		$(pkg-config --cflags --libs mote-fn-glibc)
done
# Separate compile and link steps (--cflags, then --libs), the older `cc -static ...` line, and musl-gcc as
# the compiler (its own specs file plus the SDK's): all musl.
# shellcheck disable=SC2046
run compile cc -O2 -c -o "$E2E_TMP/hello.o" "$E2E_ROOT/examples/hello-c/handler.c" $(pkg-config --cflags mote-fn)
# shellcheck disable=SC2046
expect_status compile 0 "cc -c with --cflags" &&
	build split musl cc -o "$E2E_TMP/split" "$E2E_TMP/hello.o" $(pkg-config --libs mote-fn)
# shellcheck disable=SC2046
build with-static musl cc -static -O2 -o "$E2E_TMP/with-static" "$E2E_ROOT/examples/hello-c/handler.c" \
	$(pkg-config --cflags --libs mote-fn)
# shellcheck disable=SC2046
build musl-gcc musl musl-gcc -O2 -o "$E2E_TMP/musl-gcc" "$E2E_ROOT/examples/hello-c/handler.c" \
	$(pkg-config --cflags --libs mote-fn)

# The build tree's own pkg-config files point at the source and build trees (no install needed), and the
# examples make builds are musl.
for pc in mote-fn mote-fn-glibc; do
	libc=musl && [ "$pc" = mote-fn-glibc ] && libc=glibc
	# shellcheck disable=SC2046
	build "tree-$pc" "$libc" cc -O2 -o "$E2E_TMP/tree-$pc" "$E2E_ROOT/examples/hello-c/handler.c" \
		$(PKG_CONFIG_PATH=$E2E_BUILD/runtimes/pkgconfig pkg-config --cflags --libs "$pc")
done
got=$(libc_of "$E2E_BUILD/examples/hello-c/handler")
[ "$got" = musl ] && pass built-example-musl || fail built-example-musl "build/examples/hello-c/handler: $got"
got=$(libc_of "$RT/mote-c-init")
[ "$got" = musl ] && pass mote-c-init-musl || fail mote-c-init-musl "mote-c-init: $got"

# The example's own Makefile.
mkdir -p "$E2E_TMP/mk"
cp "$E2E_ROOT/examples/hello-c/handler.c" "$E2E_ROOT/examples/hello-c/Makefile" "$E2E_TMP/mk/"
run make-example make -s -C "$E2E_TMP/mk"
if expect_status make-example 0 "examples/hello-c/Makefile"; then
	got=$(libc_of "$E2E_TMP/mk/handler")
	[ "$got" = musl ] && pass make-example-musl || fail make-example-musl "$got"
fi
run make-example-glibc make -s -C "$E2E_TMP/mk" clean handler MOTE_FN=mote-fn-glibc
if expect_status make-example-glibc 0 "examples/hello-c/Makefile MOTE_FN=mote-fn-glibc"; then
	got=$(libc_of "$E2E_TMP/mk/handler")
	[ "$got" = glibc ] && pass make-example-glibc-libc || fail make-example-glibc-libc "$got"
fi

# Outside a function VM every runtime program says why in one line and exits 2 (the runtime contract).
contract_line() { # NAME PROGRAM REGEX
	run "$1" "$2"
	if expect_status "$1" 2; then
		if [ "$(stderr_lines)" = 1 ] && err_has "$3"; then pass "$1"; else fail "$1" "stderr: $(head -c 300 "$ERR")"; fi
	fi
}
contract_line native-sdk-main "$E2E_TMP/hello-c" '^mote-c: /dev/mote/invoke: '
contract_line native-sdk-main-glibc "$E2E_TMP/hello-c-glibc" '^mote-c: /dev/mote/invoke: '
contract_line native-mote-lua "$PREFIX/lib/mote/runtimes/mote-lua" '^mote-lua: /dev/mote/snapshot: '
contract_line native-mote-c-init "$PREFIX/lib/mote/runtimes/mote-c-init" '^mote-c-init: /dev/mote/snapshot: '

# Both builds deployed to the installed `mote serve` and answering (echo-c answers the query it got).
if [ ! -c /dev/kvm ] || ! (exec 3<>/dev/kvm) 2>/dev/null; then
	skip sdk-deploy "no /dev/kvm (or it is not usable by $(id -un))"
	e2e_finish
fi
command -v curl >/dev/null || {
	skip sdk-deploy "curl is not installed"
	e2e_finish
}
MOTE=$PREFIX/bin/mote
if start_gw gw "$E2E_TMP/state"; then
	for v in hello-c hello-c-glibc echo-c echo-c-glibc; do
		[ -x "$E2E_TMP/$v" ] || continue
		mote_cli "deploy-$v" deploy "$v" "$E2E_TMP/$v"
		expect_status "deploy-$v" 0 "mote deploy" || continue
		http "$v" "/fn/$v/p?name=sdk"
		case $v in
		hello-c*) want='^hello from a mote C function \(GET /p\)$' ;;
		echo-c*) want='"path":"/p","query":"name=sdk"' ;;
		esac
		if [ "$HTTP_CODE" = 200 ] && grep -qE -- "$want" "$E2E_TMP/$v.body"; then
			pass "run-$v"
		else
			fail "run-$v" "status $HTTP_CODE: $(head -c 200 "$E2E_TMP/$v.body")"
		fi
	done
	stop_gw "$GW_PID"
fi
e2e_finish

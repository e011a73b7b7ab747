#!/usr/bin/env bash
# End-to-end: dynamically linked programs (docs/dynamic.md). `mote rootfs add-program` copies a program with
# its interpreter and libraries into a rootfs directory; `mote run --rootfs` starts it with ld.so as Linux
# does. Compared with native runs (stdout and status): a gcc program (libc, libm, argv, env), a g++ program
# with std::thread/mutex/condvar (libstdc++), a Rust program with std::thread, mpsc channels and a spinning
# thread, Debian's python3 with threading, json, hashlib, re and sqlite3
# (its standard library copied in, extension modules added with add-program), Debian's node (-e, and a
# script with fs, crypto, timers/promises order, JSON, Buffer, zlib, a worker thread). Then the errors: no
# interpreter in the rootfs (68), add-program of a missing file (66), of a non-ELF file (65), into a missing
# directory (73), of a program whose library is nowhere (66), and a usage error (64).
. "$(dirname "$0")/lib.sh"
need_kvm dynamic
need_built "$MOTE" "$MOTE_VMM" "$MOTE_KERNEL"

T="--timeout 60"
SRC=$E2E_ROOT/tests/dynamic
W=$E2E_TMP/dyn
mkdir -p "$W"

# ---- a gcc program ----
R=$W/root-c
mkdir -p "$R/bin"
gcc -O2 -o "$W/hello" "$SRC/hello.c" -lm
run add-hello "$MOTE" rootfs add-program "$R" "$W/hello"
if expect_status add-program-c 0 "$(head -c 300 "$ERR")" && [ -f "$R$W/hello" ] && [ -f "$R/lib64/ld-linux-x86-64.so.2" ] &&
	[ -f "$R/lib/x86_64-linux-gnu/libc.so.6" ] && [ -f "$R/lib/x86_64-linux-gnu/libm.so.6" ]; then
	pass add-program-c
else
	fail add-program-c "the program, ld.so, libc or libm is missing from $R: $(find "$R" -type f | head -n 8 | tr '\n' ' ')"
fi
host_run dyn-c env MOTE_DYN=yes "$W/hello" one two
mote_run dyn-c $T --env MOTE_DYN=yes --rootfs "$R" "$W/hello" one two
# argv[0] is the path as given in both
same_as_native dynamic-c-same-as-native

# ---- a g++ program with std::thread ----
if command -v g++ >/dev/null; then
	R=$W/root-cxx
	mkdir -p "$R"
	g++ -O2 -pthread -o "$W/cxx" "$SRC/threads.cpp"
	run add-cxx "$MOTE" rootfs add-program "$R" "$W/cxx"
	if expect_status add-program-cxx-libstdcxx 0 "$(head -c 300 "$ERR")"; then
		if [ -n "$(find "$R" -name 'libstdc++.so.6' -type f)" ]; then
			pass add-program-cxx-libstdcxx
		else
			fail add-program-cxx-libstdcxx "libstdc++ not copied: $(find "$R" -type f | tr '\n' ' ')"
		fi
	fi
	host_run dyn-cxx "$W/cxx"
	mote_run dyn-cxx $T --rootfs "$R" "$W/cxx"
	same_as_native dynamic-cxx-threads-same-as-native
else
	skip dynamic-cxx-threads-same-as-native "no g++"
fi

# ---- a Rust program with std::thread, channels and a thread that spins until another sets a flag ----
if command -v rustc >/dev/null; then
	R=$W/root-rust
	mkdir -p "$R"
	if rustc -O -o "$W/rthreads" "$SRC/threads.rs" 2>"$W/rustc.err"; then
		run add-rust "$MOTE" rootfs add-program "$R" "$W/rthreads"
		expect_status add-program-rust 0 "$(head -c 300 "$ERR")" && pass add-program-rust
		host_run dyn-rust "$W/rthreads"
		mote_run dyn-rust $T --rootfs "$R" "$W/rthreads"
		same_as_native rust-std-thread-channels-same-as-native
	else
		fail rust-std-thread-channels-same-as-native "rustc failed: $(head -c 300 "$W/rustc.err")"
	fi
else
	skip rust-std-thread-channels-same-as-native "no rustc"
fi

# ---- Debian's python3 ----
PY=/usr/bin/python3.11
if [ -x "$PY" ] && [ -d /usr/lib/python3.11 ]; then
	R=$W/root-py
	mkdir -p "$R/usr/lib/python3.11"
	(cd /usr/lib/python3.11 && tar cf - --exclude=test --exclude=__pycache__ --exclude=idlelib \
		--exclude=tkinter --exclude=ensurepip --exclude=lib2to3 --exclude=lib-dynload \
		--exclude=site-packages --exclude=dist-packages .) | (cd "$R/usr/lib/python3.11" && tar xf -)
	run add-py "$MOTE" rootfs add-program "$R" "$PY" /usr/lib/python3.11/lib-dynload/_sqlite3.*.so \
		/usr/lib/python3.11/lib-dynload/_hashlib.*.so
	if expect_status add-program-python 0 "$(head -c 300 "$ERR")" && ls "$R"/lib/x86_64-linux-gnu/libsqlite3.so.0 >/dev/null 2>&1; then
		pass add-program-python
	else
		fail add-program-python "libsqlite3 not copied"
	fi
	host_run dyn-py "$PY" -c "$(cat "$SRC/python.py")"
	mote_run dyn-py $T --mem 512M --rootfs "$R" "$PY" -c "$(cat "$SRC/python.py")"
	same_as_native python3-threading-json-hashlib-re-sqlite3-same-as-native
	host_run dyn-py0 "$PY" -c 0
	mote_run dyn-py0 $T --mem 512M --rootfs "$R" "$PY" -c 0
	same_as_native python3-c-0-same-as-native
else
	skip python3-threading-json-hashlib-re-sqlite3-same-as-native "no Debian python3.11"
fi

# ---- Debian's node: -e printing computed values, and a script with fs, crypto, timers, zlib, a worker ----
NODE=/usr/bin/node
if [ -x "$NODE" ] && [ -n "$(readelf -l "$NODE" 2>/dev/null | grep -o 'interpreter')" ]; then
	R=$W/root-node
	mkdir -p "$R/tmp"
	run add-node "$MOTE" rootfs add-program "$R" "$NODE"
	expect_status add-program-node 0 "$(head -c 300 "$ERR")" && pass add-program-node
	host_run dyn-node-e "$NODE" -e 'console.log([1, 2, 3].map((x) => x * 7).join(" "), 2 ** 40, typeof BigInt(1))'
	mote_run dyn-node-e $T --mem 3G --rootfs "$R" "$NODE" -e 'console.log([1, 2, 3].map((x) => x * 7).join(" "), 2 ** 40, typeof BigInt(1))'
	same_as_native node-e-same-as-native
	host_run dyn-node-script "$NODE" -e "$(cat "$SRC/node.js")"
	mote_run dyn-node-script $T --mem 3G --rootfs "$R" "$NODE" -e "$(cat "$SRC/node.js")"
	same_as_native node-fs-crypto-timers-zlib-worker-same-as-native
else
	skip node-e-same-as-native "no dynamic /usr/bin/node"
fi

# ---- errors ----
R=$W/root-noldso
mkdir -p "$R"
cp "$W/hello" "$R/hello"
mote_run noldso $T --rootfs "$R" /hello
expect_one_error dynamic-without-interpreter-68 68 "" "ld-linux.*not in the root file system"

run add-missing "$MOTE" rootfs add-program "$W/root-c" "$W/no-such-file"
expect_one_error add-program-missing-file-66 66 "no-such-file"
printf 'not an elf\n' >"$W/text"
run add-text "$MOTE" rootfs add-program "$W/root-c" "$W/text"
expect_one_error add-program-not-elf-65 65 "$W/text" "not an ELF"
run add-nodir "$MOTE" rootfs add-program "$W/no-such-dir" "$W/hello"
expect_one_error add-program-missing-dir-73 73 "no-such-dir"
echo 'int motefake(void){return 1;}' | gcc -shared -fPIC -x c -o "$W/libmotefake.so" -
echo 'int motefake(void); int main(void){return motefake();}' | gcc -x c -o "$W/needsfake" - -L"$W" -lmotefake
rm -f "$W/libmotefake.so"
run add-nolib "$MOTE" rootfs add-program "$W/root-c" "$W/needsfake"
expect_one_error add-program-library-nowhere-66 66 "" "needs libmotefake.so"
run add-usage "$MOTE" rootfs add-program "$W/root-c"
expect_status add-program-usage-64 64 && pass add-program-usage-64

e2e_finish

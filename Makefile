# mote: top-level build. `make` builds everything into build/, `make check` runs every test,
# `make bench` the benchmarks, `make run` the demo (the function platform). Missing Debian packages are installed first.

BUILD ?= build
PREFIX ?= /usr/local
CC ?= cc
CLANG ?= clang
MUSL_CC ?= musl-gcc

# Debian packages the build and the tests need (installed by `make deps`).
DEB_PACKAGES := gcc make musl-tools busybox-static libssl-dev clang libclang-rt-14-dev \
	binutils coreutils curl bsdutils libh2o-evloop-dev libsqlite3-dev libjansson-dev wrk runc liblua5.4-dev pkg-config \
	libseccomp-dev python3-prometheus-client libarchive-dev zlib1g-dev podman containerd nodejs python3

WARN := -Wall -Wextra -Werror -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
	-Wshadow -Wpointer-arith -Wundef -Wvla -Wwrite-strings -Wimplicit-fallthrough \
	-Wno-unused-parameter
HOST_CFLAGS := -std=gnu11 -O2 -g -D_GNU_SOURCE -Iinclude -Ilib $(WARN) $(EXTRA_CFLAGS)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# libcrypto linked statically: its dynamic relocation costs ~1 ms at every `mote` start.
HOST_LIBS := -Wl,-Bstatic -lcrypto -Wl,-Bdynamic

# The guest kernel: freestanding, no SSE (it must not clobber the program's vector registers),
# no stack protector (%fs belongs to the program), linked at a fixed address.
GUEST_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -fno-stack-protector -fno-pic \
	-fno-pie -mgeneral-regs-only -mno-red-zone -fno-asynchronous-unwind-tables \
	-fcf-protection=none -fno-jump-tables -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-Iinclude -Ilib -Iguest $(WARN)

# The image builder's modules link libarchive, zlib and jansson: only mote-build (which `mote build` execs)
# links them, so that mote itself stays a small static program.
IMAGE_LIB_SRC := lib/oci_layer.c lib/oci_image.c
LIB_SRC := $(filter-out $(IMAGE_LIB_SRC),$(wildcard lib/*.c))
VMM_SRC := $(wildcard vmm/*.c)
CLI_SRC := $(filter-out cli/cmd_build.c,$(wildcard cli/*.c))
OCI_SRC := $(wildcard oci/*.c)
GW_SRC := $(wildcard gateway/*.c)
GUEST_SRC := $(wildcard guest/*.c) lib/elf.c lib/cpio.c lib/invoke_region.c
GUEST_ASM := $(wildcard guest/*.S)
HDRS := $(wildcard include/mote/*.h lib/*.h vmm/*.h cli/*.h gateway/*.h oci/*.h)
GUEST_HDRS := $(wildcard include/mote/*.h guest/*.h) lib/elf.h lib/cpio.h lib/invoke_region.h

# Host libraries: the plain build (used by `make run`, `make bench`, install) and an
# ASan/UBSan build (used by `make check`).
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB_OBJ_SAN := $(LIB_SRC:%.c=$(BUILD)/asan/obj/%.o)
GUEST_OBJ := $(GUEST_SRC:%.c=$(BUILD)/guest/%.o) $(GUEST_ASM:%.S=$(BUILD)/guest/%.o) \
	$(BUILD)/guest/vdso-image.o

# Test programs that run inside the VM, each built with musl and with glibc.
TEST_GUEST_SRC := $(wildcard tests/guest/*.c)
TEST_GUEST_BIN := $(TEST_GUEST_SRC:tests/guest/%.c=$(BUILD)/tests/guest/%.musl) \
	$(TEST_GUEST_SRC:tests/guest/%.c=$(BUILD)/tests/guest/%.glibc) $(BUILD)/tests/guest/args-pie.glibc
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/tests/fuzz/%)
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
# Function runtimes (runtimes/) and the example functions built against the C SDK (examples/*/handler.c).
RUNTIME_BIN := $(BUILD)/runtimes/libmote-fn.a $(BUILD)/runtimes/libmote-fn-glibc.a $(BUILD)/runtimes/mote-c-init \
	$(BUILD)/runtimes/mote-lua $(BUILD)/runtimes/pkgconfig/mote-fn.pc $(BUILD)/runtimes/pkgconfig/mote-fn-glibc.pc \
	$(BUILD)/runtimes/node/mote/bootstrap.js
EXAMPLE_BIN := $(patsubst examples/%/handler.c,$(BUILD)/examples/%/handler,$(wildcard examples/*/handler.c))
# Test functions built against the C SDK like the examples (tests/fn/NAME.c -> build/tests/fn/NAME/handler).
TEST_FN_BIN := $(patsubst tests/fn/%.c,$(BUILD)/tests/fn/%/handler,$(wildcard tests/fn/*.c))

.PHONY: all deps check bench run install clean format tests fuzz
.DELETE_ON_ERROR:

all: $(BUILD)/.deps $(BUILD)/mote $(BUILD)/mote-build $(BUILD)/mote-oci $(BUILD)/mote-vmm $(BUILD)/mote-kernel $(BUILD)/mote-gateway $(RUNTIME_BIN) \
	$(EXAMPLE_BIN)

# Install missing Debian packages once (stamp file records success).
deps: $(BUILD)/.deps
$(BUILD)/.deps: Makefile
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi
	@mkdir -p $(BUILD) && touch $@

$(BUILD)/obj/%.o: %.c $(HDRS) | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/asan/obj/%.o: %.c $(HDRS) | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) -c $< -o $@

# mote-vmm links no shared library but libc: it starts once per VM, so start-up time counts.
VMM_LIB_OBJ := $(BUILD)/obj/lib/elf.o $(BUILD)/obj/lib/err.o $(BUILD)/obj/lib/file.o $(BUILD)/obj/lib/sha256.o \
	$(BUILD)/obj/lib/size.o $(BUILD)/obj/lib/snapfile.o $(BUILD)/obj/lib/layerfile.o $(BUILD)/obj/lib/invoke_region.o \
	$(BUILD)/obj/lib/workset.o
# The plain mote-vmm is linked statically with musl and mote statically with glibc: on these
# machines glibc's start-up (CPUID probing traps under PVM) plus dynamic loading cost ~1 ms per
# process, and `mote run` starts two. The ASan builds below stay dynamic glibc.
MUSL_HOST_CFLAGS := -std=gnu11 -O2 -g -D_GNU_SOURCE -Iinclude -Ilib $(WARN) \
	-idirafter /usr/include -idirafter /usr/include/x86_64-linux-gnu
$(BUILD)/musl/obj/%.o: %.c $(HDRS) | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(MUSL_CC) $(MUSL_HOST_CFLAGS) -c $< -o $@
# mote-vmm's seccomp allowlist (docs/seccomp.md) is compiled at build time by a host program linked with
# libseccomp (a glibc library), which prints the BPF program as C: mote-vmm installs it with seccomp(2) and
# links no libseccomp. The ASan build gets the slightly wider policy its sanitizer runtime needs.
SECCOMP_GEN := $(BUILD)/gen/seccomp_policy
$(SECCOMP_GEN): vmm/gen/seccomp_policy.c vmm/seccomp_filter.h | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -Ivmm -o $@ $< -lseccomp
$(BUILD)/gen/seccomp_policy_%.c: $(SECCOMP_GEN)
	$(SECCOMP_GEN) $* >$@
$(BUILD)/musl/obj/gen/seccomp_policy_plain.o: $(BUILD)/gen/seccomp_policy_plain.c vmm/seccomp_filter.h
	@mkdir -p $(dir $@)
	$(MUSL_CC) $(MUSL_HOST_CFLAGS) -Ivmm -c $< -o $@
$(BUILD)/asan/obj/gen/seccomp_policy_asan.o: $(BUILD)/gen/seccomp_policy_asan.c vmm/seccomp_filter.h
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) -Ivmm -c $< -o $@
$(BUILD)/mote-vmm: $(VMM_SRC:%.c=$(BUILD)/musl/obj/%.o) $(VMM_LIB_OBJ:$(BUILD)/obj/%=$(BUILD)/musl/obj/%) \
		$(BUILD)/musl/obj/gen/seccomp_policy_plain.o
	$(MUSL_CC) -static -o $@ $^
$(BUILD)/mote: $(CLI_SRC:%.c=$(BUILD)/obj/%.o) $(LIB_OBJ)
	$(CC) $(HOST_CFLAGS) -static -o $@ $^ -lcrypto -ljansson
$(BUILD)/asan/mote-vmm: $(VMM_SRC:%.c=$(BUILD)/asan/obj/%.o) $(VMM_LIB_OBJ:$(BUILD)/obj/%=$(BUILD)/asan/obj/%) \
		$(BUILD)/asan/obj/gen/seccomp_policy_asan.o
	$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) -o $@ $^
$(BUILD)/asan/mote: $(CLI_SRC:%.c=$(BUILD)/asan/obj/%.o) $(LIB_OBJ_SAN)
	$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(HOST_LIBS) -Wl,-Bstatic -ljansson -Wl,-Bdynamic

# mote-oci (docs/oci.md): the OCI runtime, static like mote (podman and containerd start it for every container).
# Paths are composed with snprintf into PATH_MAX buffers and checked where a cut would matter.
$(BUILD)/obj/oci/%.o $(BUILD)/asan/obj/oci/%.o: HOST_CFLAGS += -Ioci -Wno-format-truncation
$(BUILD)/mote-oci: $(OCI_SRC:%.c=$(BUILD)/obj/%.o) $(LIB_OBJ)
	$(CC) $(HOST_CFLAGS) -static -o $@ $^ -lcrypto -ljansson
$(BUILD)/asan/mote-oci: $(OCI_SRC:%.c=$(BUILD)/asan/obj/%.o) $(LIB_OBJ_SAN)
	$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(HOST_LIBS) -Wl,-Bstatic -ljansson -Wl,-Bdynamic

# mote-build (`mote build` execs it): dynamically linked, libarchive's static library would pull in libxml2
# and ICU (35 MB); an image build starts once, its start-up time does not matter.
IMAGE_LIBS := -larchive -lz -ljansson -Wl,-Bstatic -lcrypto -Wl,-Bdynamic
$(BUILD)/mote-build: $(BUILD)/obj/cli/cmd_build.o $(LIB_OBJ) $(IMAGE_LIB_SRC:%.c=$(BUILD)/obj/%.o)
	$(CC) $(HOST_CFLAGS) -o $@ $^ $(IMAGE_LIBS)
$(BUILD)/asan/mote-build: $(BUILD)/asan/obj/cli/cmd_build.o $(LIB_OBJ_SAN) $(IMAGE_LIB_SRC:%.c=$(BUILD)/asan/obj/%.o)
	$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(IMAGE_LIBS)

# mote-gateway (`mote serve` execs it): libh2o-evloop (h2o's own event loop, no libuv), SQLite, jansson.
# Dynamically linked: h2o has no static library, and a daemon's start-up time does not matter.
GW_LIBS := -lh2o-evloop -lssl -lcrypto -lsqlite3 -ljansson -lpthread -lm
# Paths inside the state dir are composed with snprintf into PATH_MAX-sized buffers; main.c refuses a state
# dir path long enough for any of them to be cut, so GCC's guesses about truncation are silenced here.
$(BUILD)/obj/gateway/%.o $(BUILD)/asan/obj/gateway/%.o: HOST_CFLAGS += -DH2O_USE_LIBUV=0 -Igateway -Wno-format-truncation
$(BUILD)/mote-gateway: $(GW_SRC:%.c=$(BUILD)/obj/%.o) $(LIB_OBJ)
	$(CC) $(HOST_CFLAGS) -o $@ $^ $(GW_LIBS)
$(BUILD)/asan/mote-gateway: $(GW_SRC:%.c=$(BUILD)/asan/obj/%.o) $(LIB_OBJ_SAN)
	$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(GW_LIBS)
$(BUILD)/asan/mote-kernel: $(BUILD)/mote-kernel
	@mkdir -p $(dir $@)
	cp $< $@

$(BUILD)/guest/%.o: %.c $(GUEST_HDRS) | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@
$(BUILD)/guest/%.o: %.S $(GUEST_HDRS) | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@
# The vDSO: a tiny position-independent shared object embedded in the kernel image.
$(BUILD)/guest/vdso.so: guest/vdso/vdso.c guest/vdso/vvar.h guest/vdso/vdso.ld include/mote/abi.h | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -fPIC -shared -nostdlib -mgeneral-regs-only -fno-stack-protector \
		-fno-asynchronous-unwind-tables -fcf-protection=none -Iguest/vdso -Iinclude $(WARN) \
		-Wl,-T,guest/vdso/vdso.ld -Wl,--hash-style=both -Wl,-soname,linux-vdso.so.1 \
		-Wl,-z,max-page-size=4096 -Wl,--no-undefined -Wl,--build-id=none -o $@ $<
$(BUILD)/guest/vdso-image.o: guest/vdso/image.S $(BUILD)/guest/vdso.so
	$(CC) -c -DVDSO_IMAGE='"$(BUILD)/guest/vdso.so"' -o $@ $<
$(BUILD)/mote-kernel: $(GUEST_OBJ) guest/kernel.ld
	ld -static -nostdlib -z noexecstack -z max-page-size=4096 -T guest/kernel.ld -o $@ $(GUEST_OBJ)

# The node runtime's root file system: Debian's node with its libraries, our bootstrap, and the Node ABI that
# `mote deploy` checks native addons against (docs/node.md). Rebuilt as a whole into a temporary tree.
NODE ?= /usr/bin/node
$(BUILD)/runtimes/node/mote/bootstrap.js: runtimes/node/bootstrap.js $(wildcard runtimes/node/warm/*) $(BUILD)/mote $(NODE)
	rm -rf $(BUILD)/runtimes/node $(BUILD)/runtimes/node.tmp
	mkdir -p $(BUILD)/runtimes/node.tmp/mote
	$(BUILD)/mote rootfs add-program $(BUILD)/runtimes/node.tmp $(NODE) >/dev/null
	$(NODE) -p process.versions.modules >$(BUILD)/runtimes/node.tmp/mote/abi
	cp -r runtimes/node/bootstrap.js runtimes/node/warm $(BUILD)/runtimes/node.tmp/mote/
	mv $(BUILD)/runtimes/node.tmp $(BUILD)/runtimes/node

# ---- runtimes: static Linux programs that run inside function VMs (runtimes/, docs/functions.md) ----
# The C SDK is built twice: libmote-fn.a with musl (the default, mote-fn.pc) and libmote-fn-glibc.a with
# glibc (mote-fn-glibc.pc). A static glibc program's start-up costs 4.0-4.5 ms inside a VM here (its CPUID
# probing, tunables and IRELATIVE relocations trap) against 1.1-1.3 ms for musl, and a C function starts
# on every cold request. mote-c-init is musl too; mote-lua stays glibc (Debian's liblua5.4.a is built
# against it, and it starts before the base snapshot, not per request). The objects stay
# position-independent (the compiler's default).
RT_CFLAGS := -std=gnu11 -O2 -g -D_GNU_SOURCE -Iinclude -Ilib -Iruntimes/common -Iruntimes/c $(WARN)
RT_HDRS := $(wildcard include/mote/*.h lib/invoke_msg.h runtimes/*/*.h)
LUA_CFLAGS := -I/usr/include/lua5.4
LUA_LIB := /usr/lib/x86_64-linux-gnu/liblua5.4.a
RT_COMMON_SRC := lib/invoke_msg.c runtimes/common/channel.c
RT_COMMON := $(RT_COMMON_SRC:%.c=$(BUILD)/rt/obj/%.o)
RT_SDK_SRC := runtimes/c/sdk.c runtimes/c/main.c
LUA_SRC := $(wildcard runtimes/lua/*.c)
$(BUILD)/rt/obj/%.o: %.c $(RT_HDRS) | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(RT_CFLAGS) $(if $(filter runtimes/lua/%,$<),$(LUA_CFLAGS)) -c $< -o $@
$(BUILD)/rt-musl/obj/%.o: %.c $(RT_HDRS) | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(MUSL_CC) $(RT_CFLAGS) -c $< -o $@
$(BUILD)/runtimes/libmote-fn.a: $(RT_SDK_SRC:%.c=$(BUILD)/rt-musl/obj/%.o) $(RT_COMMON_SRC:%.c=$(BUILD)/rt-musl/obj/%.o)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/runtimes/libmote-fn-glibc.a: $(RT_SDK_SRC:%.c=$(BUILD)/rt/obj/%.o) $(RT_COMMON)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/runtimes/mote-c-init: $(patsubst %.c,$(BUILD)/rt-musl/obj/%.o,runtimes/c/init.c runtimes/common/boot.c $(RT_COMMON_SRC))
	@mkdir -p $(dir $@)
	$(MUSL_CC) -static -o $@ $^
# ld warns that liblua's dlopen needs glibc's shared libraries at run time (as it warns for libcrypto in
# mote): mote-lua never loads C modules (package.cpath is empty).
$(BUILD)/runtimes/mote-lua: $(LUA_SRC:%.c=$(BUILD)/rt/obj/%.o) $(BUILD)/rt/obj/runtimes/common/boot.o $(RT_COMMON)
	@mkdir -p $(dir $@)
	$(CC) -static -o $@ $^ $(LUA_LIB) -lm
# The pkg-config files: installed with the PREFIX of `make install`; these build-tree copies point into the
# source and build trees (PKG_CONFIG_PATH=build/runtimes/pkgconfig). mote-fn.pc's flags carry
# runtimes/c/musl.specs, which makes gcc compile and link against musl (installed as lib/mote/musl.specs).
# $(call mote_fn_pc,VARIANT,INCLUDEDIR,LIBDIR,SPECS)
define mote_fn_pc
	sed -e 's|@INCLUDEDIR@|$(2)|' -e 's|@LIBDIR@|$(3)|' -e 's|@SPECS@|$(4)|' -e 's|@VERSION@|$(shell sed -n 's/^#define MOTE_FN_VERSION "\(.*\)"/\1/p' include/mote/fn.h)|' runtimes/c/$(1).pc.in
endef
$(BUILD)/runtimes/pkgconfig/%.pc: runtimes/c/%.pc.in include/mote/fn.h
	@mkdir -p $(dir $@)
	$(call mote_fn_pc,$*,$(CURDIR)/include,$(abspath $(BUILD))/runtimes,$(CURDIR)/runtimes/c/musl.specs) >$@

# C functions (examples/*/handler.c, tests/fn/*.c), built against the SDK exactly as a user builds them:
# with the build tree's mote-fn.pc (musl, static).
MOTE_FN_FLAGS = $(shell PKG_CONFIG_PATH=$(BUILD)/runtimes/pkgconfig pkg-config --cflags --libs mote-fn)
define sdk_link
	@mkdir -p $(dir $@)
	$(CC) -O2 $(WARN) -o $@ $< $(MOTE_FN_FLAGS)
endef
SDK_DEPS := include/mote/fn.h $(BUILD)/runtimes/libmote-fn.a $(BUILD)/runtimes/pkgconfig/mote-fn.pc runtimes/c/musl.specs
$(BUILD)/examples/%/handler: examples/%/handler.c $(SDK_DEPS)
	$(sdk_link)
$(BUILD)/tests/fn/%/handler: tests/fn/%.c $(SDK_DEPS)
	$(sdk_link)

# ---- tests ------------------------------------------------------------------
# Other builds of mote-lua for the base upgrade test and benchmark (tests/e2e/base.sh, bench/base_switch.sh):
# the same sources with another embedded version string ("1-b", "1-c", in its READY text), so that each
# is a genuinely different runtime program and so a different base.
TEST_RT_BIN := $(BUILD)/tests/runtimes/mote-lua-b $(BUILD)/tests/runtimes/mote-lua-c
$(BUILD)/tests/runtimes/mote-lua-%: runtimes/lua/main.c $(filter-out $(BUILD)/rt/obj/runtimes/lua/main.o,$(LUA_SRC:%.c=$(BUILD)/rt/obj/%.o)) \
		$(BUILD)/rt/obj/runtimes/common/boot.o $(RT_COMMON) $(RT_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(RT_CFLAGS) $(LUA_CFLAGS) -DGLUE_VERSION='"1-$*"' -static -o $@ $< $(filter %.o,$^) $(LUA_LIB) -lm
$(BUILD)/tests/guest/%.musl: tests/guest/%.c tests/guest/check.h | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(MUSL_CC) -static -O2 -g -Wall -Wno-unused-result -Iinclude -o $@ $<
$(BUILD)/tests/guest/%.glibc: tests/guest/%.c tests/guest/check.h | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -g -Wall -Wno-unused-result -Iinclude -o $@ $<
# A static-pie program for the execve tests (glibc: musl-gcc's -static-pie output keeps an interpreter).
$(BUILD)/tests/guest/args-pie.glibc: tests/guest/args.c | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) -static-pie -fPIE -O2 -g -Wall -Iinclude -o $@ $<

# Unit tests link the sanitized host library; tests/unit/test_guest_*.c also compile the
# named guest modules for the host (see tests/unit/guest_shim.h).
UNIT_GUEST_SRC := $(filter-out guest/main.c,$(wildcard guest/*.c))
$(BUILD)/tests/unit/test_guest_%: tests/unit/test_guest_%.c $(UNIT_GUEST_SRC) $(GUEST_HDRS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O1 -g -D_GNU_SOURCE -DMOTE_GUEST_ON_HOST -Iinclude -Ilib -Iguest -Itests/unit \
		$(SAN_FLAGS) -Wall -Wextra -Werror -Wno-unused-parameter -o $@ $< $(filter guest/%.c,$(shell sed -n 's|^// guest-modules: ||p' $<))
# Runtime code tested natively: the SDK and the Lua glue with their channel on a fake device.
RT_TEST_SRC := runtimes/common/channel.c runtimes/common/boot.c
$(BUILD)/tests/unit/test_fn_sdk: tests/unit/test_fn_sdk.c runtimes/c/sdk.c $(RT_TEST_SRC) $(LIB_OBJ_SAN) $(RT_HDRS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) -Iruntimes/common -Iruntimes/c -Itests/unit -o $@ $< runtimes/c/sdk.c \
		$(RT_TEST_SRC) $(LIB_OBJ_SAN) $(HOST_LIBS)
$(BUILD)/tests/unit/test_lua_glue: tests/unit/test_lua_glue.c $(filter-out runtimes/lua/main.c,$(LUA_SRC)) $(RT_TEST_SRC) $(LIB_OBJ_SAN) $(RT_HDRS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) $(LUA_CFLAGS) -Iruntimes/common -Iruntimes/lua -Itests/unit -o $@ $< \
		$(filter-out runtimes/lua/main.c,$(LUA_SRC)) $(RT_TEST_SRC) $(LIB_OBJ_SAN) $(LUA_LIB) -lm $(HOST_LIBS)
# Unit tests of gateway modules (tests/unit/test_gw_*.c) compile the modules their "// gateway-modules:" line names.
$(BUILD)/tests/unit/test_gw_%: tests/unit/test_gw_%.c $(GW_SRC) $(LIB_OBJ_SAN) $(HDRS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) -DH2O_USE_LIBUV=0 -Igateway -Itests/unit -Wno-format-truncation -o $@ $< \
		$(filter gateway/%.c,$(shell sed -n 's|^// gateway-modules: ||p' $<)) $(LIB_OBJ_SAN) $(GW_LIBS)
$(BUILD)/tests/unit/test_%: tests/unit/test_%.c $(LIB_OBJ_SAN) $(HDRS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) -Itests/unit -o $@ $< $(LIB_OBJ_SAN) $(HOST_LIBS)

# Test tools (tests/tools/*.c): host programs the end-to-end scripts use, sanitized like the rest.
$(BUILD)/tests/tools/%: tests/tools/%.c $(LIB_OBJ_SAN) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) -Ivmm -o $@ $< $(LIB_OBJ_SAN) $(HOST_LIBS)

# Fuzzers (libFuzzer); `make check` replays their corpora under ASan/UBSan and fuzzes each briefly,
# `make fuzz` fuzzes each for FUZZ_SECONDS (FUZZERS="snapcheck hypercall" picks some). A fuzzer built
# over monitor modules names them in a "// vmm-modules: vmm/x.c ..." line (pure ones: no KVM needed).
$(BUILD)/tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRC) $(VMM_SRC) $(OCI_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	$(CLANG) -std=gnu11 -O1 -g -D_GNU_SOURCE -Iinclude -Ilib -Ivmm -Ioci -fsanitize=fuzzer,address,undefined \
		-o $@ $< $(LIB_SRC) $(filter vmm/%.c,$(shell sed -n 's|^// vmm-modules: ||p' $<)) \
		$(filter oci/%.c,$(shell sed -n 's|^// oci-modules: ||p' $<)) $(HOST_LIBS) -ljansson
FUZZ_SECONDS ?= 120
fuzz: $(FUZZ_BIN)
	@BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZERS="$(FUZZERS)" bash tests/fuzz/run-long

tests: all $(BUILD)/asan/mote $(BUILD)/asan/mote-build $(BUILD)/asan/mote-oci $(BUILD)/asan/mote-gateway $(BUILD)/asan/mote-vmm $(BUILD)/asan/mote-kernel $(TEST_GUEST_BIN) \
	$(UNIT_BIN) $(FUZZ_BIN) $(TOOL_BIN) $(TEST_FN_BIN) $(TEST_RT_BIN)

check: tests
	@BUILD=$(BUILD) bash tests/run

# ---- benchmarks -------------------------------------------------------------
$(BUILD)/bench/%: bench/%.c $(LIB_OBJ) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -Ibench -o $@ $< $(LIB_OBJ) $(HOST_LIBS) -lm
$(BUILD)/bench/hello.musl: bench/hello.c | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(MUSL_CC) -static -O2 -o $@ $<

# The KVM floor is linked exactly like mote-vmm (static musl): its start-up is part of what it measures.
$(BUILD)/bench/kvm_floor: bench/kvm_floor.c | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(MUSL_CC) $(MUSL_HOST_CFLAGS) -static -o $@ $<
# /first: a program whose first instruction is the exit hypercall (mote-vmm boot time).
$(BUILD)/bench/first: bench/first.S include/mote/abi.h | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) -nostdlib -static -Iinclude -o $@ $<

# Snapshot benchmarks: programs that run inside the VM (static musl), and /snapfirst, whose
# first instruction after the snapshot point is the exit hypercall (restore time).
BENCH_GUEST_BIN := $(BUILD)/bench/snaphello $(BUILD)/bench/snapmem $(BUILD)/bench/snapidle
$(BENCH_GUEST_BIN): $(BUILD)/bench/%: bench/%.c | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(MUSL_CC) -static -O2 -Wall -Wextra -Werror -o $@ $<
$(BUILD)/bench/snapfirst: bench/snapfirst.S include/mote/abi.h | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) -nostdlib -static -Iinclude -o $@ $<

# The invoke round trip: tests/tools/invoketool.c built without sanitizers, and the echo runtime it attaches.
$(BUILD)/bench/invoketool: tests/tools/invoketool.c $(LIB_OBJ) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -o $@ $< $(LIB_OBJ) $(HOST_LIBS)

# The layer benchmark's supervisor: tests/tools/fnhost.c built without sanitizers.
$(BUILD)/bench/fnhost: tests/tools/fnhost.c $(LIB_OBJ) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -o $@ $< $(LIB_OBJ) $(HOST_LIBS)

# The function benchmarks' container baseline: the example C function linked as a plain program
# (bench/fn_native.c implements <mote/fn.h> for one request taken from the environment), static musl like
# the SDK's default.
$(BUILD)/bench/hello_fn_native: bench/fn_native.c examples/hello-c/handler.c include/mote/fn.h | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(MUSL_CC) -static -O2 $(WARN) -Iinclude -o $@ bench/fn_native.c examples/hello-c/handler.c

# The same hello-c built with the glibc SDK, for bench/functions.sh's (c'') (the cost of glibc's start-up).
$(BUILD)/bench/hello-c-glibc: examples/hello-c/handler.c include/mote/fn.h $(BUILD)/runtimes/libmote-fn-glibc.a \
		$(BUILD)/runtimes/pkgconfig/mote-fn-glibc.pc
	@mkdir -p $(dir $@)
	$(CC) -O2 $(WARN) -o $@ $< $(shell PKG_CONFIG_PATH=$(BUILD)/runtimes/pkgconfig pkg-config --cflags --libs mote-fn-glibc)

# bench/hello.c is built only with musl (hello.musl), bench/fn_native.c only into hello_fn_native.
# The line printer of (k)-(n) is the test program tests/guest/lines.c.
bench: all $(filter-out $(BUILD)/bench/hello $(BUILD)/bench/fn_native,$(BENCH_BIN)) $(BUILD)/bench/hello.musl \
	$(BUILD)/bench/first $(BUILD)/bench/snapfirst $(BUILD)/bench/hello_fn_native $(BUILD)/bench/hello-c-glibc \
	$(BUILD)/bench/invoketool $(BUILD)/bench/fnhost $(TEST_FN_BIN) $(BUILD)/tests/guest/invoke_echo.musl \
	$(BUILD)/tests/guest/lines.glibc $(BUILD)/tests/guest/lines.musl $(BUILD)/tests/guest/threads.musl \
	$(TEST_RT_BIN)
	@BUILD=$(BUILD) bash bench/run
	@BUILD=$(BUILD) bash bench/functions.sh
	@BUILD=$(BUILD) bash bench/pool.sh
	@BUILD=$(BUILD) bash bench/layers.sh
	@BUILD=$(BUILD) bash bench/base_switch.sh
	@BUILD=$(BUILD) bash bench/oci.sh
	@BUILD=$(BUILD) bash bench/threads.sh
	@BUILD=$(BUILD) bash bench/dynamic.sh
	@BUILD=$(BUILD) bash bench/node_fn.sh

# ---- demo, install, housekeeping ---------------------------------------------
# The demo: `mote serve` in the foreground with the example functions deployed (gateway/demo.sh); Ctrl-C stops it.
run: all
	@BUILD=$(BUILD) bash gateway/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/mote/runtimes $(DESTDIR)$(PREFIX)/include/mote \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(BUILD)/mote $(BUILD)/mote-oci $(BUILD)/mote-vmm $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(BUILD)/mote-kernel $(DESTDIR)$(PREFIX)/lib/mote/
	install -m 755 $(BUILD)/runtimes/mote-c-init $(BUILD)/runtimes/mote-lua $(DESTDIR)$(PREFIX)/lib/mote/runtimes/
	rm -rf $(DESTDIR)$(PREFIX)/lib/mote/runtimes/node && cp -a $(BUILD)/runtimes/node $(DESTDIR)$(PREFIX)/lib/mote/runtimes/node
	install -m 644 include/mote/fn.h $(DESTDIR)$(PREFIX)/include/mote/
	install -m 644 $(BUILD)/runtimes/libmote-fn.a $(BUILD)/runtimes/libmote-fn-glibc.a $(DESTDIR)$(PREFIX)/lib/
	install -m 644 runtimes/c/musl.specs $(DESTDIR)$(PREFIX)/lib/mote/
	$(call mote_fn_pc,mote-fn,$(PREFIX)/include,$(PREFIX)/lib,$(PREFIX)/lib/mote/musl.specs) \
		>$(DESTDIR)$(PREFIX)/lib/pkgconfig/mote-fn.pc
	$(call mote_fn_pc,mote-fn-glibc,$(PREFIX)/include,$(PREFIX)/lib,) >$(DESTDIR)$(PREFIX)/lib/pkgconfig/mote-fn-glibc.pc
	install -m 755 $(BUILD)/mote-gateway $(BUILD)/mote-build $(DESTDIR)$(PREFIX)/lib/mote/

format:
	clang-format -i $(wildcard include/mote/*.h lib/*.[ch] vmm/*.[ch] vmm/gen/*.c cli/*.[ch] oci/*.[ch] gateway/*.[ch] guest/*.[ch] tests/*/*.[ch] bench/*.[ch] \
		runtimes/*/*.[ch] examples/*/*.c)

clean:
	rm -rf $(BUILD)

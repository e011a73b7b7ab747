/* Unit test of gateway/bundle.c: checking uploaded bundles, adding the environment, storing by content hash.
 */
// gateway-modules: gateway/bundle.c gateway/apierr.c
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "cpio.h"
#include "rootfs.h"

#include "check.h"
#include "slurp.h"

static char tmp[] = "/tmp/mote-test-bundle.XXXXXX";

static void write_file(const char *name, const char *text, mode_t mode)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", tmp, name);
	FILE *f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
	chmod(p, mode);
}

/* Pack host files into an image in memory: pairs of (host path, guest path), NULL-terminated. */
static uint8_t *pack(size_t *len, ...)
{
	struct mote_rootfs_file files[8];
	size_t n = 0;
	va_list ap;
	va_start(ap, len);
	const char *h;
	while ((h = va_arg(ap, const char *)) && n < 8) {
		files[n].host_path = h;
		files[n].guest_path = va_arg(ap, const char *);
		n++;
	}
	va_end(ap);
	char out[256];
	snprintf(out, sizeof(out), "%s/image.cpio", tmp);
	struct mote_err err = {0};
	if (mote_rootfs_pack_files(files, n, out, &err) < 0) {
		printf("FAIL pack: %s\n", err.msg);
		exit(1);
	}
	return slurp(out, len);
}

static char path_of[8][256];
static const char *tmp_path(int i, const char *name)
{
	snprintf(path_of[i], sizeof(path_of[i]), "%s/%s", tmp, name);
	return path_of[i];
}

static void expect_refusal(const char *name, const uint8_t *img, size_t len, const char *runtime, int http,
			   const char *code, const char *text)
{
	char rt[8];
	snprintf(rt, sizeof(rt), "%s", runtime);
	struct api_error e = {0};
	int r = bundle_check(img, len, rt, "115", &e);
	check(name, r < 0 && e.http == http && e.code && !strcmp(e.code, code) && strstr(e.msg, text),
	      "returned %d, %d %s '%s'", r, e.http, e.code ? e.code : "-", e.msg);
}

static void test_check(void)
{
	write_file("h.lua", "function handle(r) return 'x' end\n", 0644);
	write_file("data.txt", "data\n", 0644);
	write_file("notelf", "#!/bin/sh\n", 0755);
	size_t len;
	char rt[8] = "";
	struct api_error e = {0};
	uint8_t *lua =
	    pack(&len, tmp_path(0, "h.lua"), "handler.lua", tmp_path(1, "data.txt"), "sub/data.txt", NULL);
	check("lua-inferred", bundle_check(lua, len, rt, "115", &e) == 0 && !strcmp(rt, "lua"), "%s / %s", rt,
	      e.msg);
	strcpy(rt, "c");
	expect_refusal("lua-bundle-as-c", lua, len, "c", 422, "no_handler", "no handler");
	free(lua);

	uint8_t *c = pack(&len, "/bin/busybox", "handler", NULL);
	rt[0] = 0;
	check("c-inferred", bundle_check(c, len, rt, "115", &e) == 0 && !strcmp(rt, "c"), "%s / %s", rt,
	      e.msg);
	expect_refusal("c-bundle-as-lua", c, len, "lua", 422, "no_handler", "no handler.lua");
	expect_refusal("unknown-runtime", c, len, "js", 400, "bad_request", "unknown runtime");
	expect_refusal("truncated-archive", c, len / 2, "", 422, "bad_bundle", "not a cpio newc archive");
	expect_refusal("not-an-archive",
		       (const uint8_t *)"hello world, not cpio at all, nope nope nope nope nope", 54, "", 422,
		       "bad_bundle", "not a cpio");
	free(c);

	uint8_t *dyn = pack(&len, "/bin/true", "handler", NULL);
	expect_refusal("dynamic-elf", dyn, len, "", 422, "dynamic_elf", "dynamically linked");
	free(dyn);
	uint8_t *script = pack(&len, tmp_path(0, "notelf"), "handler", NULL);
	expect_refusal("not-elf", script, len, "", 422, "not_elf", "not a static x86-64 ELF");
	free(script);
	char noexec[300];
	snprintf(noexec, sizeof(noexec), "cp /bin/busybox %s/bb && chmod 644 %s/bb", tmp, tmp);
	if (system(noexec) != 0)
		exit(1);
	uint8_t *nx = pack(&len, tmp_path(0, "bb"), "handler", NULL);
	expect_refusal("not-executable", nx, len, "c", 422, "unsupported_elf", "not executable");
	free(nx);
	uint8_t *both = pack(&len, "/bin/busybox", "handler", tmp_path(0, "h.lua"), "handler.lua", NULL);
	expect_refusal("both-handlers", both, len, "", 422, "no_handler", "more than one runtime");
	strcpy(rt, "lua");
	check("both-handlers-runtime-named", bundle_check(both, len, rt, "115", &e) == 0, "%s", e.msg);
	free(both);
	uint8_t *none = pack(&len, tmp_path(0, "data.txt"), "data.txt", NULL);
	expect_refusal("no-handler", none, len, "", 422, "no_handler", "neither");
	free(none);
	uint8_t *reserved =
	    pack(&len, tmp_path(0, "h.lua"), "handler.lua", tmp_path(1, "data.txt"), ".mote/environ", NULL);
	expect_refusal("reserved-names", reserved, len, "", 422, "bad_bundle", "reserved");
	free(reserved);
}

/* An x86-64 ELF file (a copy of /bin/true) with `tag` appended, as a native addon's stand-in. */
static const char *addon(int i, const char *name, const char *tag)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "cp /bin/true %s/%s && printf '%%s' '%s' >> %s/%s", tmp, name, tag, tmp,
		 name);
	if (system(cmd) != 0)
		exit(1);
	return tmp_path(i, name);
}

static void test_node(void)
{
	write_file("h.js", "exports.handler = async () => ({statusCode: 200})\n", 0644);
	write_file("pkg-main.json", "{\"name\": \"x\", \"main\": \"./src/app.js\"}", 0644);
	write_file("pkg-lib.json", "{\"main\": \"lib\"}", 0644);
	write_file("pkg-none.json", "{\"name\": \"x\"}", 0644);
	write_file("pkg-out.json", "{\"main\": \"../etc/passwd\"}", 0644);
	write_file("pkg-num.json", "{\"main\": 7}", 0644);
	write_file("pkg-bad.json", "{\"main\": ", 0644);
	size_t len;
	char rt[8] = "";
	struct api_error e = {0};
	uint8_t *js = pack(&len, tmp_path(0, "h.js"), "handler.js", NULL);
	check("node-inferred-handler-js", bundle_check(js, len, rt, "115", &e) == 0 && !strcmp(rt, "node"),
	      "%s / %s", rt, e.msg);
	expect_refusal("node-bundle-as-c", js, len, "c", 422, "no_handler", "no handler");
	free(js);
	uint8_t *mjs = pack(&len, tmp_path(0, "h.js"), "index.mjs", NULL);
	rt[0] = 0;
	check("node-inferred-index-mjs", bundle_check(mjs, len, rt, "115", &e) == 0 && !strcmp(rt, "node"),
	      "%s / %s", rt, e.msg);
	free(mjs);
	uint8_t *main =
	    pack(&len, tmp_path(0, "pkg-main.json"), "package.json", tmp_path(1, "h.js"), "src/app.js", NULL);
	rt[0] = 0;
	check("node-package-main", bundle_check(main, len, rt, "115", &e) == 0 && !strcmp(rt, "node"),
	      "%s / %s", rt, e.msg);
	free(main);
	uint8_t *lib = pack(&len, tmp_path(0, "pkg-lib.json"), "package.json", tmp_path(1, "h.js"),
			    "lib/index.js", NULL);
	strcpy(rt, "node");
	check("node-package-main-directory", bundle_check(lib, len, rt, "115", &e) == 0, "%s", e.msg);
	free(lib);
	uint8_t *gone =
	    pack(&len, tmp_path(0, "pkg-main.json"), "package.json", tmp_path(1, "h.js"), "handler.js", NULL);
	expect_refusal("node-main-missing", gone, len, "", 422, "no_handler",
		       "main 'src/app.js' is not in the bundle");
	free(gone);
	uint8_t *none =
	    pack(&len, tmp_path(0, "pkg-none.json"), "package.json", tmp_path(1, "h.js"), "app.js", NULL);
	expect_refusal("node-no-entry", none, len, "", 422, "no_handler", "no entry point");
	free(none);
	uint8_t *out = pack(&len, tmp_path(0, "pkg-out.json"), "package.json", NULL);
	expect_refusal("node-main-outside", out, len, "", 422, "no_handler", "outside the bundle");
	free(out);
	uint8_t *num = pack(&len, tmp_path(0, "pkg-num.json"), "package.json", NULL);
	expect_refusal("node-main-not-string", num, len, "", 422, "no_handler", "not a string");
	free(num);
	uint8_t *bad = pack(&len, tmp_path(0, "pkg-bad.json"), "package.json", NULL);
	expect_refusal("node-package-json-broken", bad, len, "", 422, "bad_bundle", "package.json: line 1");
	free(bad);
	uint8_t *old =
	    pack(&len, tmp_path(0, "h.js"), "handler.js", addon(1, "old.node", "node_register_module_v93"),
		 "node_modules/x/build/x.node", NULL);
	expect_refusal("node-addon-other-abi", old, len, "", 422, "native_addon",
		       "node_modules/x/build/x.node is built for Node ABI 93, the node runtime's is 115");
	free(old);
	uint8_t *txt = pack(&len, tmp_path(0, "h.js"), "handler.js", tmp_path(1, "h.js"), "fake.node", NULL);
	expect_refusal("node-addon-not-elf", txt, len, "", 422, "native_addon", "not an x86-64 ELF");
	free(txt);
	uint8_t *same =
	    pack(&len, tmp_path(0, "h.js"), "handler.js", addon(1, "same.node", "node_register_module_v115"),
		 "a.node", addon(2, "napi.node", "napi_register_module_v1"), "b.node", NULL);
	rt[0] = 0;
	check("node-addons-same-abi-and-napi", bundle_check(same, len, rt, "115", &e) == 0, "%s", e.msg);
	free(same);
	uint8_t *mixed =
	    pack(&len, tmp_path(0, "h.js"), "handler.js", tmp_path(1, "h.lua"), "handler.lua", NULL);
	expect_refusal("node-and-lua", mixed, len, "", 422, "no_handler", "more than one runtime");
	free(mixed);
}

static void test_finalize(void)
{
	size_t len, out_len;
	uint8_t *img = pack(&len, tmp_path(0, "h.lua"), "handler.lua", NULL);
	void *out;
	check("finalize-no-env-is-same",
	      bundle_finalize(img, len, NULL, 0, &out, &out_len) == 0 && out == img && out_len == len,
	      "a copy was made");
	const char *env[] = {"A=1", "B=two words", "C=x=y"};
	int r = bundle_finalize(img, len, env, 3, &out, &out_len);
	size_t off = 0;
	struct mote_cpio_entry en;
	int saw_handler = 0, saw_dir = 0, saw_env = 0, n, end = 0;
	while ((n = mote_cpio_next(out, out_len, &off, &en)) == MOTE_CPIO_ENTRY) {
		if (en.name_len == 11 && !memcmp(en.name, "handler.lua", 11))
			saw_handler = 1;
		if (en.name_len == 5 && !memcmp(en.name, ".mote", 5) && S_ISDIR(en.mode))
			saw_dir = 1;
		if (en.name_len == strlen(BUNDLE_ENV_PATH) &&
		    !memcmp(en.name, BUNDLE_ENV_PATH, en.name_len) && en.size == 22 &&
		    !memcmp(en.data, "A=1\0B=two words\0C=x=y\0", 22))
			saw_env = 1;
	}
	end = n == MOTE_CPIO_END && off == out_len;
	check("finalize-env", r == 0 && saw_handler && saw_dir && saw_env && end,
	      "r %d handler %d dir %d env %d trailer-at-end %d", r, saw_handler, saw_dir, saw_env, end);
	free(out);
	free(img);
}

static int never(const char *hash, void *arg)
{
	return arg && !strcmp(hash, arg);
}

static void test_store(void)
{
	char dir[300], hash[65], hash2[65], path[400];
	snprintf(dir, sizeof(dir), "%s/bundles", tmp);
	mkdir(dir, 0700);
	struct mote_err err = {0};
	int fd = bundle_store(dir, "bundle bytes", 12, hash, &err);
	int fd2 = bundle_store(dir, "bundle bytes", 12, hash2, &err);
	char want[65];
	bundle_sha256_hex("bundle bytes", 12, want);
	snprintf(path, sizeof(path), "%s/%s", dir, hash);
	struct stat st;
	check("store",
	      fd >= 0 && fd2 >= 0 && !strcmp(hash, hash2) && !strcmp(hash, want) && stat(path, &st) == 0 &&
		  st.st_size == 12 && (st.st_mode & 0777) == 0400,
	      "fd %d/%d hash %s size %lld mode %o %s", fd, fd2, hash, (long long)st.st_size,
	      st.st_mode & 0777, err.msg);
	uint64_t size = 0;
	int fd3 = bundle_open(dir, hash, &size);
	check("open-stored", fd3 >= 0 && size == 12, "fd %d size %llu", fd3, (unsigned long long)size);
	close(fd);
	close(fd2);
	close(fd3);
	char leftover[400], other[400];
	snprintf(leftover, sizeof(leftover), "%s/.tmp-abc", dir);
	snprintf(other, sizeof(other), "%s/%064d", dir, 0);
	write_file("bundles/.tmp-abc", "half", 0600);
	write_file("bundles/0000000000000000000000000000000000000000000000000000000000000000", "old", 0400);
	bundle_gc(dir, never, hash);
	check("gc", access(leftover, F_OK) != 0 && access(other, F_OK) != 0 && access(path, F_OK) == 0,
	      "gc kept a temporary or unreferenced file, or removed a referenced one");
	check("open-missing", bundle_open(dir, "nope", &size) < 0, "opened a missing bundle");
}

int main(void)
{
	if (!mkdtemp(tmp))
		return 2;
	test_check();
	test_node();
	test_finalize();
	test_store();
	char cmd[100];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd) == 0 && !failures ? 0 : 1;
}

/* Function bundles: checking an uploaded image, adding the deploy's settings, storing it by content hash. */
#include "bundle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cpio.h"
#include "elf.h"
#include "status.h"

static int name_is(const struct mote_cpio_entry *en, const char *want)
{
	return en->name_len == strlen(want) && !memcmp(en->name, want, en->name_len);
}

/* A leading "./" is allowed by cpio writers (find . | cpio); compare names without it. */
static void strip_dot(struct mote_cpio_entry *en)
{
	while (en->name_len >= 2 && en->name[0] == '.' && en->name[1] == '/') {
		en->name += 2;
		en->name_len -= 2;
	}
}

static int check_elf(const struct mote_cpio_entry *h, struct api_error *e)
{
	if (!S_ISREG(h->mode))
		return api_errorf(e, 422, "no_handler", "bundle: handler is not a regular file");
	struct mote_elf_info info;
	int r = mote_elf_parse(h->data, (size_t)h->size, &info);
	switch (r) {
	case MOTE_ELF_OK: break;
	case MOTE_ELF_DYNAMIC:
		return api_errorf(
		    e, 422, "dynamic_elf",
		    "bundle: handler is dynamically linked (PT_INTERP %s); link it with -static",
		    info.interp);
	case MOTE_ELF_NOT_ELF:
	case MOTE_ELF_CORRUPT:
	case MOTE_ELF_TRUNCATED:
		return api_errorf(e, 422, "not_elf",
				  "bundle: handler is not a static x86-64 ELF executable: %s",
				  mote_elf_strerror(r));
	default: return api_errorf(e, 422, "unsupported_elf", "bundle: handler: %s", mote_elf_strerror(r));
	}
	if (!(h->mode & 0111))
		return api_errorf(e, 422, "unsupported_elf", "bundle: handler is not executable (mode %04o)",
				  h->mode & 07777);
	return 0;
}

/* The bundle's entry named exactly name[len] (after any "./"), or 0 when there is none. */
static int find_entry(const void *img, size_t len, const char *name, size_t name_len,
		      struct mote_cpio_entry *out)
{
	size_t off = 0;
	struct mote_cpio_entry en;
	while (mote_cpio_next(img, len, &off, &en) == MOTE_CPIO_ENTRY) {
		strip_dot(&en);
		if (en.name_len == name_len && !memcmp(en.name, name, name_len)) {
			*out = en;
			return 1;
		}
	}
	return 0;
}

static int find_regular(const void *img, size_t len, const char *name, size_t name_len)
{
	struct mote_cpio_entry en;
	return find_entry(img, len, name, name_len, &en) && S_ISREG(en.mode);
}

/* The entry points the node runtime tries, in order, when package.json names no "main" (docs/node.md). */
static const char *const node_entries[] = {"handler.js", "handler.mjs", "handler.cjs",
					   "index.js",	 "index.mjs",	"index.cjs"};

/* package.json's "main" as a bundle path: "./" and "/"s trimmed; -1 when it leaves the bundle. */
static int node_main_path(const char *main, char *out, size_t size)
{
	while (main[0] == '.' && main[1] == '/')
		main += 2;
	if (main[0] == '/' || !main[0] || strlen(main) >= size)
		return -1;
	snprintf(out, size, "%s", main);
	size_t n = strlen(out);
	while (n > 0 && out[n - 1] == '/')
		out[--n] = 0;
	if (!n)
		return -1;
	for (const char *c = out; *c;) {
		const char *slash = strchr(c, '/');
		size_t clen = slash ? (size_t)(slash - c) : strlen(c);
		if (clen == 2 && !memcmp(c, "..", 2))
			return -1;
		c += clen + (slash != NULL);
	}
	return 0;
}

/* A node bundle: its entry point exists and every native addon is an x86-64 ELF for the base's Node ABI. */
static int check_node(const void *img, size_t len, const char *node_abi, int have_pkg, struct api_error *e)
{
	struct mote_cpio_entry en;
	if (have_pkg && find_entry(img, len, "package.json", 12, &en)) {
		if (!S_ISREG(en.mode))
			return api_errorf(e, 422, "no_handler", "bundle: package.json is not a regular file");
		json_error_t jerr;
		json_t *pkg = json_loadb((const char *)en.data, (size_t)en.size, 0, &jerr);
		if (!pkg)
			return api_errorf(e, 422, "bad_bundle", "bundle: package.json: line %d: %s",
					  jerr.line, jerr.text);
		json_t *main = json_is_object(pkg) ? json_object_get(pkg, "main") : NULL;
		if (main && !json_is_string(main)) {
			json_decref(pkg);
			return api_errorf(e, 422, "no_handler",
					  "bundle: package.json: \"main\" is not a string");
		}
		if (main) {
			char path[512], try[600];
			if (node_main_path(json_string_value(main), path, sizeof(path)) < 0) {
				api_errorf(e, 422, "no_handler",
					   "bundle: package.json: main '%.200s' is outside the bundle",
					   json_string_value(main));
				json_decref(pkg);
				return -1;
			}
			const char *suffix[] = {"", ".js", "/index.js"};
			int found = 0;
			for (int i = 0; i < 3 && !found; i++) {
				int n = snprintf(try, sizeof(try), "%s%s", path, suffix[i]);
				found = find_regular(img, len, try, (size_t)n);
			}
			if (!found) {
				api_errorf(e, 422, "no_handler",
					   "bundle: package.json: main '%.200s' is not in the bundle (nor "
					   "%.200s.js, "
					   "%.200s/index.js)",
					   path, path, path);
				json_decref(pkg);
				return -1;
			}
		}
		json_decref(pkg);
		if (main)
			goto addons;
	}
	int found = 0;
	for (size_t i = 0; i < sizeof(node_entries) / sizeof(node_entries[0]) && !found; i++)
		found = find_regular(img, len, node_entries[i], strlen(node_entries[i]));
	if (!found)
		return api_errorf(
		    e, 422, "no_handler",
		    "bundle: no entry point (package.json's \"main\", or handler.js, handler.mjs, "
		    "handler.cjs, index.js, index.mjs, index.cjs)");
addons:;
	size_t off = 0;
	static const char reg[] = "node_register_module_v";
	while (mote_cpio_next(img, len, &off, &en) == MOTE_CPIO_ENTRY) {
		strip_dot(&en);
		if (!S_ISREG(en.mode) || en.name_len < 5 || memcmp(en.name + en.name_len - 5, ".node", 5))
			continue;
		const uint8_t *d = en.data;
		if (en.size < 64 || memcmp(d, "\177ELF", 4) || d[4] != 2 || d[18] != 62 || d[19] != 0)
			return api_errorf(
			    e, 422, "native_addon",
			    "bundle: %s: a native addon that is not an x86-64 ELF shared object", en.name);
		if (!node_abi)
			continue;
		const uint8_t *hit = memmem(d, (size_t)en.size, reg, sizeof(reg) - 1);
		if (!hit)
			continue; /* Node-API only (napi_register_module_v1): any Node runs it */
		const uint8_t *v = hit + sizeof(reg) - 1, *end = d + en.size;
		size_t n = 0;
		while (v + n < end && n < 8 && v[n] >= '0' && v[n] <= '9')
			n++;
		if (n && (n != strlen(node_abi) || memcmp(v, node_abi, n)))
			return api_errorf(
			    e, 422, "native_addon",
			    "bundle: %s is built for Node ABI %.*s, the node runtime's is %s: rebuild "
			    "it for that Node (npm rebuild)",
			    en.name, (int)n, (const char *)v, node_abi);
	}
	return 0;
}

int bundle_check(const void *img, size_t len, char *runtime, const char *node_abi, struct api_error *e)
{
	struct mote_cpio_entry en, handler = {0}, handler_lua = {0};
	int have_handler = 0, have_lua = 0, have_js = 0, have_pkg = 0;
	size_t off = 0;
	for (;;) {
		int r = mote_cpio_next(img, len, &off, &en);
		if (r == MOTE_CPIO_END)
			break;
		if (r != MOTE_CPIO_ENTRY)
			return api_errorf(e, 422, "bad_bundle",
					  "bundle: not a cpio newc archive, or corrupt at byte %zu", off);
		strip_dot(&en);
		if (name_is(&en, ".mote") || (en.name_len > 6 && !memcmp(en.name, ".mote/", 6)))
			return api_errorf(e, 422, "bad_bundle", "bundle: %s: names under .mote/ are reserved",
					  en.name);
		if (name_is(&en, "handler")) {
			handler = en;
			have_handler = 1;
		} else if (name_is(&en, "handler.lua")) {
			handler_lua = en;
			have_lua = 1;
		} else if (name_is(&en, "package.json")) {
			have_pkg = 1;
		} else {
			for (size_t i = 0; i < sizeof(node_entries) / sizeof(node_entries[0]); i++)
				have_js |= name_is(&en, node_entries[i]);
		}
	}
	if (!runtime[0]) {
		int node = have_pkg || have_js;
		if (have_lua + have_handler + node == 1)
			strcpy(runtime, have_lua ? "lua" : have_handler ? "c" : "node");
		else
			return api_errorf(
			    e, 422, "no_handler", "bundle: %s; name the runtime (runtime=c, lua or node)",
			    have_lua + have_handler + node
				? "holds the handlers of more than one runtime (handler, handler.lua, "
				  "package.json or a .js entry point)"
				: "holds neither handler (c), handler.lua (lua) nor package.json or a "
				  ".js entry point (node)");
	}
	if (!strcmp(runtime, "lua")) {
		if (!have_lua)
			return api_errorf(e, 422, "no_handler",
					  "bundle: no handler.lua (the lua runtime runs it)");
		if (!S_ISREG(handler_lua.mode))
			return api_errorf(e, 422, "no_handler", "bundle: handler.lua is not a regular file");
		return 0;
	}
	if (!strcmp(runtime, "c")) {
		if (!have_handler)
			return api_errorf(
			    e, 422, "no_handler",
			    "bundle: no handler (the c runtime runs a static ELF named handler)");
		return check_elf(&handler, e);
	}
	if (!strcmp(runtime, "node"))
		return check_node(img, len, node_abi, have_pkg, e);
	return api_errorf(e, 400, "bad_request", "unknown runtime '%s' (c, lua or node)", runtime);
}

static size_t pad4(size_t x)
{
	return (x + 3) & ~(size_t)3;
}

/* Append one cpio entry (header, name, data, padding) at out + *at. */
static void put_entry(char *out, size_t *at, const char *name, uint32_t mode, const void *data, size_t size)
{
	size_t namesize = strlen(name) + 1;
	char hdr[MOTE_CPIO_HEADER_SIZE + 1];
	snprintf(hdr, sizeof(hdr), "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x", 0u, mode, 0u,
		 0u, 1u, 0u, (unsigned)size, 0u, 0u, 0u, 0u, (unsigned)namesize, 0u);
	size_t start = *at;
	memcpy(out + *at, hdr, MOTE_CPIO_HEADER_SIZE);
	*at += MOTE_CPIO_HEADER_SIZE;
	memcpy(out + *at, name, namesize);
	*at += namesize;
	size_t padded = start + pad4(MOTE_CPIO_HEADER_SIZE + namesize);
	memset(out + *at, 0, padded - *at);
	*at = padded;
	if (size)
		memcpy(out + *at, data, size);
	*at += size;
	size_t dpad = pad4(size) - size;
	memset(out + *at, 0, dpad);
	*at += dpad;
}

static size_t entry_bytes(const char *name, size_t size)
{
	return pad4(MOTE_CPIO_HEADER_SIZE + strlen(name) + 1) + pad4(size);
}

int bundle_finalize(const void *img, size_t len, const char *const *env, size_t nenv, void **out,
		    size_t *out_len)
{
	if (nenv == 0) {
		*out = (void *)img;
		*out_len = len;
		return 0;
	}
	/* Where the trailer starts. */
	struct mote_cpio_entry en;
	size_t off = 0, trailer = 0;
	for (;;) {
		trailer = off;
		int r = mote_cpio_next(img, len, &off, &en);
		if (r != MOTE_CPIO_ENTRY)
			break;
	}
	size_t env_len = 0;
	for (size_t i = 0; i < nenv; i++)
		env_len += strlen(env[i]) + 1;
	char *envtext = malloc(env_len + 1), *p = envtext;
	if (!envtext)
		return -1;
	for (size_t i = 0; i < nenv; i++)
		p += sprintf(p, "%s", env[i]) + 1; /* the NUL sprintf wrote ends the entry */
	size_t total = trailer + entry_bytes(".mote", 0) + entry_bytes(BUNDLE_ENV_PATH, env_len) +
		       entry_bytes(MOTE_CPIO_TRAILER, 0);
	char *o = malloc(total);
	if (!o) {
		free(envtext);
		return -1;
	}
	memcpy(o, img, trailer);
	size_t at = trailer;
	put_entry(o, &at, ".mote", S_IFDIR | 0755, NULL, 0);
	put_entry(o, &at, BUNDLE_ENV_PATH, S_IFREG | 0444, envtext, env_len);
	put_entry(o, &at, MOTE_CPIO_TRAILER, 0, NULL, 0);
	free(envtext);
	*out = o;
	*out_len = at;
	return 0;
}

void bundle_sha256_hex(const void *data, size_t len, char *hex)
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	hex[64] = 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}

int bundle_store(const char *dir, const void *img, size_t len, char *hash, struct mote_err *err)
{
	bundle_sha256_hex(img, len, hash);
	char path[4200], tmp[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, hash);
	uint64_t size;
	int fd = bundle_open(dir, hash, &size);
	if (fd >= 0 && size == len)
		return fd;
	if (fd >= 0)
		close(fd);
	snprintf(tmp, sizeof(tmp), "%s/.tmp-XXXXXX", dir);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "cannot create a bundle file in %s", dir);
	const char *p = img;
	size_t left = len;
	while (left) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : ENOSPC;
			close(fd);
			unlink(tmp);
			return mote_errnof(err, MOTE_STATUS_HOST, e, "cannot write bundle %s", path);
		}
		p += n;
		left -= (size_t)n;
	}
	if (fchmod(fd, 0400) < 0 || fsync(fd) < 0 || rename(tmp, path) < 0 || fsync_dir(dir) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return mote_errnof(err, MOTE_STATUS_HOST, e, "cannot store bundle %s", path);
	}
	close(fd);
	fd = bundle_open(dir, hash, &size);
	if (fd < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "cannot open bundle %s", path);
	return fd;
}

int bundle_open(const char *dir, const char *hash, uint64_t *size)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, hash);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

void bundle_gc(const char *dir, int (*in_use)(const char *hash, void *arg), void *arg)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		int temp = !strncmp(de->d_name, ".tmp-", 5);
		if (temp || !in_use(de->d_name, arg)) {
			char path[4200];
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
	}
	closedir(d);
}

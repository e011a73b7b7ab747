/* mote-build: `mote build`, the image builder (a Motefile and a directory in, an OCI image out). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <glob.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "elf.h"
#include "err.h"
#include "file.h"
#include "motefile.h"
#include "oci_image.h"
#include "oci_layer.h"
#include "size.h"
#include "status.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define KERNEL_PATH "/.mote/mote-kernel"
#define ANNOTATIONS_PATH "/.mote/annotations.json"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: mote build -t NAME[:TAG] [-f MOTEFILE] [--output KIND:PATH] [--build-arg K=V]...\n"
		"                  [--kernel FILE] DIR\n"
		"  -t NAME[:TAG]   the image's name (tag latest when none is given)\n"
		"  -f MOTEFILE     the build instructions (default DIR/Motefile)\n"
		"  --output O      oci-archive:FILE (default: NAME_TAG.tar), oci:DIR or docker-archive:FILE\n"
		"  --build-arg K=V a value for ARG K (repeatable)\n"
		"  --kernel FILE   the guest kernel put in the image (default: mote-kernel beside mote)\n"
		"DIR is the build context: COPY and ADD sources and FROM archives are paths inside it.\n"
		"See docs/build.md for the Motefile reference.\n");
}

/* A list of NAME=VALUE strings; a later NAME replaces an earlier one. */
struct kvlist {
	char **v;
	size_t n;
};

static int kv_set(struct kvlist *l, const char *name, size_t nlen, const char *value)
{
	char *s;
	if (asprintf(&s, "%.*s=%s", (int)nlen, name, value) < 0)
		return -1;
	for (size_t i = 0; i < l->n; i++)
		if (!strncmp(l->v[i], name, nlen) && l->v[i][nlen] == '=') {
			free(l->v[i]);
			l->v[i] = s;
			return 0;
		}
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v) {
		free(s);
		return -1;
	}
	l->v = v;
	l->v[l->n++] = s;
	return 0;
}

static const char *kv_get(const struct kvlist *l, const char *name, size_t nlen)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strncmp(l->v[i], name, nlen) && l->v[i][nlen] == '=')
			return l->v[i] + nlen + 1;
	return NULL;
}

static void kv_free(struct kvlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	*l = (struct kvlist){0};
}

struct build {
	const char *motefile;	/* as given, for messages */
	char context[PATH_MAX]; /* realpath of DIR */
	struct kvlist build_args, used_args;
	struct kvlist args; /* declared ARGs with their values */
	struct kvlist env;  /* ENV (inherited from the base first) */
	struct kvlist labels, annotations;
	json_t *entrypoint, *cmd; /* arrays or NULL */
	int cmd_here;		  /* CMD was given in this Motefile (not inherited) */
	char workdir[PATH_MAX];
	unsigned line;	  /* of the instruction being run */
	const char *inst; /* its keyword */
	struct oci_tree *tree;
	struct oci_image img;
	int have_from;
	char tmpdir[PATH_MAX];
	struct mote_err err;
};

/* Record an error about the current instruction: "FILE:LINE: KEYWORD: reason". */
__attribute__((format(printf, 3, 4))) static int berr(struct build *b, int status, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return mote_errf(&b->err, status, "%s:%u: %s: %s", b->motefile, b->line, b->inst, msg);
}

/* Prefix the error already in b->err with the file, line and instruction. */
static int berr_wrap(struct build *b)
{
	char msg[sizeof(b->err.msg)];
	memcpy(msg, b->err.msg, sizeof(msg));
	return mote_errf(&b->err, b->err.status, "%s:%u: %s: %.400s", b->motefile, b->line, b->inst, msg);
}

static const char *lookup_var(void *ctx, const char *name, size_t len)
{
	struct build *b = ctx;
	const char *v = kv_get(&b->env, name, len);
	return v ? v : kv_get(&b->args, name, len);
}

static int words(struct build *b, const struct motefile_inst *in, char ***w, size_t *n)
{
	char why[200];
	if (motefile_words(in->text, lookup_var, b, w, n, why, sizeof(why)) < 0)
		return berr(b, MOTE_STATUS_MOTEFILE, "%s", why);
	return 0;
}

/* An image path from `p`: absolute, or relative to WORKDIR. */
static void image_path(const struct build *b, const char *p, char *out, size_t size)
{
	int n = p[0] == '/' ? snprintf(out, size, "%s", p) : snprintf(out, size, "%s/%s", b->workdir, p);
	if (n < 0 || (size_t)n >= size)
		snprintf(out, size, "%s", "/.mote-build-path-too-long/..");
}

/* ---- FROM ------------------------------------------------------------------------------------------- */

static json_t *config_obj(struct build *b)
{
	return json_object_get(b->img.config, "config");
}

static int do_from(struct build *b, const struct motefile_inst *in)
{
	char **w;
	size_t n;
	if (b->have_from)
		return berr(b, MOTE_STATUS_MOTEFILE, "a second FROM: multi-stage builds are not supported");
	if (words(b, in, &w, &n) < 0)
		return -1;
	if (n != 1) {
		motefile_words_free(w);
		return berr(b, MOTE_STATUS_MOTEFILE,
			    "FROM takes one image: scratch or an image archive in DIR");
	}
	b->have_from = 1;
	int rc = 0;
	if (!strcmp(w[0], "scratch")) {
		motefile_words_free(w);
		return 0;
	}
	const char *src = w[0];
	if (!strncmp(src, "oci-archive:", 12))
		src += 12;
	else if (!strncmp(src, "docker-archive:", 15))
		src += 15;
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s", b->context, src);
	struct stat st;
	if (strstr(src, "..") || stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = berr(b, MOTE_STATUS_BUILD_INPUT,
			  "%s: no such image archive in %s (FROM takes scratch or an "
			  "oci-archive/docker-archive file "
			  "in DIR; registries are not reached)",
			  w[0], b->context);
	} else {
		oci_image_free(&b->img);
		if (oci_image_load(path, b->tmpdir, &b->img, &b->err) < 0) {
			rc = berr_wrap(b);
			oci_image_init(&b->img, &b->err);
		} else {
			json_t *c = config_obj(b), *v;
			size_t i;
			json_array_foreach(json_object_get(c, "Env"), i, v)
			{
				const char *kv = json_string_value(v), *eq = kv ? strchr(kv, '=') : NULL;
				if (eq)
					kv_set(&b->env, kv, (size_t)(eq - kv), eq + 1);
			}
			const char *wd = json_string_value(json_object_get(c, "WorkingDir"));
			if (wd && *wd)
				snprintf(b->workdir, sizeof(b->workdir), "%s", wd);
			if (json_is_array(json_object_get(c, "Entrypoint")))
				b->entrypoint = json_incref(json_object_get(c, "Entrypoint"));
			if (json_is_array(json_object_get(c, "Cmd")))
				b->cmd = json_incref(json_object_get(c, "Cmd"));
			const char *key;
			json_object_foreach(json_object_get(c, "Labels"), key, v)
			{
				if (json_is_string(v))
					kv_set(&b->labels, key, strlen(key), json_string_value(v));
			}
			json_object_foreach(b->img.annotations, key, v)
			{
				if (json_is_string(v))
					kv_set(&b->annotations, key, strlen(key), json_string_value(v));
			}
		}
	}
	motefile_words_free(w);
	return rc;
}

/* ---- COPY and ADD ----------------------------------------------------------------------------------- */

struct copy_opts {
	int chown;
	uid_t uid;
	gid_t gid;
	int chmod;
	mode_t mode;
};

/* Add host `src` (already inside the context) at image path `dst`; directories recursively. */
static int add_host(struct build *b, const char *src, const char *dst, const struct copy_opts *o, int top)
{
	struct stat st;
	if ((top ? stat(src, &st) : lstat(src, &st)) < 0)
		return berr(b, MOTE_STATUS_BUILD_INPUT, "%s: %s", src, strerror(errno));
	uid_t uid = o->chown ? o->uid : 0;
	gid_t gid = o->chown ? o->gid : 0;
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(src, target, sizeof(target) - 1);
		if (n < 0)
			return berr(b, MOTE_STATUS_BUILD_INPUT, "%s: %s", src, strerror(errno));
		target[n] = 0;
		if (oci_tree_add_symlink(b->tree, dst, target, uid, gid, &b->err) < 0)
			return berr_wrap(b);
		return 0;
	}
	if (S_ISREG(st.st_mode)) {
		if (oci_tree_add_host_file(b->tree, dst, src, o->chmod ? o->mode : st.st_mode & 07777, uid,
					   gid, &b->err) < 0)
			return berr_wrap(b);
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return berr(b, MOTE_STATUS_BUILD_INPUT,
			    "%s is %s: only files, directories and symlinks are copied", src,
			    mote_file_kind(st.st_mode));
	if (oci_tree_add_dir(b->tree, dst, o->chmod ? o->mode : st.st_mode & 07777, uid, gid, &b->err) < 0)
		return berr_wrap(b);
	DIR *d = opendir(src);
	if (!d)
		return berr(b, MOTE_STATUS_BUILD_INPUT, "%s: %s", src, strerror(errno));
	struct dirent *de;
	int rc = 0;
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *s, *t;
		if (asprintf(&s, "%s/%s", src, de->d_name) < 0 ||
		    asprintf(&t, "%s/%s", dst, de->d_name) < 0) {
			closedir(d);
			return berr(b, MOTE_STATUS_HOST, "out of memory");
		}
		rc = add_host(b, s, t, o, 0);
		free(s);
		free(t);
	}
	closedir(d);
	return rc;
}

/* Resolve source `rel` inside the context: its real path must stay inside. */
static int context_path(struct build *b, const char *rel, char *out)
{
	char joined[PATH_MAX * 2];
	snprintf(joined, sizeof(joined), "%s/%s", b->context, rel);
	if (!realpath(joined, out))
		return berr(b, MOTE_STATUS_BUILD_INPUT, "%s: %s in the build context %s", rel,
			    errno == ENOENT ? "no such file" : strerror(errno), b->context);
	size_t cl = strlen(b->context);
	if (strncmp(out, b->context, cl) || (out[cl] && out[cl] != '/' && strcmp(b->context, "/")))
		return berr(b, MOTE_STATUS_BUILD_INPUT, "%s is outside the build context %s", rel,
			    b->context);
	return 0;
}

static int parse_copy_flag(struct build *b, const char *f, struct copy_opts *o)
{
	char *end;
	if (!strncmp(f, "--chown=", 8)) {
		unsigned long u = strtoul(f + 8, &end, 10);
		unsigned long g = u;
		if (end == f + 8 || (*end && *end != ':'))
			return berr(b, MOTE_STATUS_MOTEFILE, "%s: numeric UID[:GID] only", f);
		if (*end == ':') {
			const char *gs = end + 1;
			g = strtoul(gs, &end, 10);
			if (end == gs || *end)
				return berr(b, MOTE_STATUS_MOTEFILE, "%s: numeric UID[:GID] only", f);
		}
		o->chown = 1;
		o->uid = (uid_t)u;
		o->gid = (gid_t)g;
		return 0;
	}
	if (!strncmp(f, "--chmod=", 8)) {
		unsigned long m = strtoul(f + 8, &end, 8);
		if (end == f + 8 || *end || m > 07777)
			return berr(b, MOTE_STATUS_MOTEFILE, "%s: an octal mode such as 0755", f);
		o->chmod = 1;
		o->mode = (mode_t)m;
		return 0;
	}
	if (!strncmp(f, "--from", 6))
		return berr(b, MOTE_STATUS_MOTEFILE, "--from: multi-stage builds are not supported");
	return berr(b, MOTE_STATUS_MOTEFILE, "unknown flag %s (--chown=UID[:GID] and --chmod=MODE are known)",
		    f);
}

static int do_copy(struct build *b, const struct motefile_inst *in, int is_add)
{
	char **w = NULL;
	size_t n = 0;
	char **args;
	if (in->exec_form) {
		args = in->argv;
		n = in->argc;
	} else {
		if (words(b, in, &w, &n) < 0)
			return -1;
		args = w;
	}
	struct copy_opts o = {0};
	size_t first = 0;
	int rc = 0;
	while (first < n && !strncmp(args[first], "--", 2)) {
		if ((rc = parse_copy_flag(b, args[first], &o)) < 0)
			goto out;
		first++;
	}
	if (n - first < 2) {
		rc = berr(b, MOTE_STATUS_MOTEFILE, "needs a source and a destination");
		goto out;
	}
	const char *dest_arg = args[n - 1];
	char dest[PATH_MAX];
	image_path(b, dest_arg, dest, sizeof(dest));
	size_t dl = strlen(dest_arg);
	int dest_is_dir =
	    (dl && dest_arg[dl - 1] == '/') || n - first > 2 || oci_tree_kind(b->tree, dest) == 'd';
	for (size_t i = first; i < n - 1 && !rc; i++) {
		const char *s = args[i];
		if (strstr(s, "://")) {
			rc = berr(b, MOTE_STATUS_MOTEFILE,
				  "%s: URLs are not supported (mote build does not download)", s);
			break;
		}
		glob_t g = {0};
		char pattern[PATH_MAX * 2];
		int globbed = strpbrk(s, "*?[") != NULL;
		if (globbed) {
			snprintf(pattern, sizeof(pattern), "%s/%s", b->context, s);
			if (glob(pattern, 0, NULL, &g) != 0 || !g.gl_pathc) {
				globfree(&g);
				rc = berr(b, MOTE_STATUS_BUILD_INPUT,
					  "%s: no file matches in the build context %s", s, b->context);
				break;
			}
			if (g.gl_pathc > 1)
				dest_is_dir = 1;
		}
		size_t count = globbed ? g.gl_pathc : 1;
		for (size_t k = 0; k < count && !rc; k++) {
			char real[PATH_MAX];
			const char *rel = globbed ? g.gl_pathv[k] + strlen(b->context) + 1 : s;
			if ((rc = context_path(b, rel, real)) < 0)
				break;
			struct stat st;
			if (stat(real, &st) < 0) {
				rc = berr(b, MOTE_STATUS_BUILD_INPUT, "%s: %s", rel, strerror(errno));
				break;
			}
			char target[PATH_MAX * 2];
			if (S_ISDIR(st.st_mode)) {
				/* a directory's contents go into dest */
				snprintf(target, sizeof(target), "%s", dest);
			} else if (dest_is_dir) {
				const char *base = strrchr(real, '/');
				snprintf(target, sizeof(target), "%s/%s", dest, base ? base + 1 : real);
			} else {
				snprintf(target, sizeof(target), "%s", dest);
			}
			if (is_add && S_ISREG(st.st_mode)) {
				int r = oci_tree_add_tar(b->tree, dest, real, &b->err);
				if (r < 0) {
					rc = berr_wrap(b);
					break;
				}
				if (r == 1)
					continue;
			}
			rc = add_host(b, real, target, &o, 1);
		}
		globfree(&g);
	}
out:
	motefile_words_free(w);
	return rc;
}

/* ---- ENV, LABEL, ANNOTATION, ARG, WORKDIR, CMD, ENTRYPOINT ----------------------------------------- */

/* K=V words into list (ENV also takes the old form "ENV K V..."). */
static int do_pairs(struct build *b, const struct motefile_inst *in, struct kvlist *list, int legacy)
{
	char **w;
	size_t n;
	if (words(b, in, &w, &n) < 0)
		return -1;
	int rc = 0;
	if (legacy && n && !strchr(w[0], '=')) {
		/* ENV NAME value with spaces */
		size_t total = 1;
		for (size_t i = 1; i < n; i++)
			total += strlen(w[i]) + 1;
		char *val = calloc(1, total);
		for (size_t i = 1; val && i < n; i++) {
			if (i > 1)
				strcat(val, " ");
			strcat(val, w[i]);
		}
		if (!val || n < 2)
			rc = berr(b, MOTE_STATUS_MOTEFILE,
				  "ENV %s needs a value (ENV NAME=VALUE or ENV NAME VALUE)", w[0]);
		else if (kv_set(list, w[0], strlen(w[0]), val) < 0)
			rc = berr(b, MOTE_STATUS_HOST, "out of memory");
		free(val);
		motefile_words_free(w);
		return rc;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		const char *eq = strchr(w[i], '=');
		if (!eq || eq == w[i])
			rc = berr(b, MOTE_STATUS_MOTEFILE, "'%s' is not KEY=VALUE", w[i]);
		else if (kv_set(list, w[i], (size_t)(eq - w[i]), eq + 1) < 0)
			rc = berr(b, MOTE_STATUS_HOST, "out of memory");
	}
	motefile_words_free(w);
	return rc;
}

static int do_arg(struct build *b, const struct motefile_inst *in)
{
	char **w;
	size_t n;
	if (words(b, in, &w, &n) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		const char *eq = strchr(w[i], '=');
		size_t nlen = eq ? (size_t)(eq - w[i]) : strlen(w[i]);
		int ok = nlen > 0;
		for (size_t k = 0; k < nlen; k++)
			ok &= w[i][k] == '_' || (w[i][k] >= 'A' && w[i][k] <= 'Z') ||
			      (w[i][k] >= 'a' && w[i][k] <= 'z') || (k && w[i][k] >= '0' && w[i][k] <= '9');
		if (!ok) {
			rc = berr(b, MOTE_STATUS_MOTEFILE, "'%s' is not NAME or NAME=DEFAULT", w[i]);
			break;
		}
		const char *given = kv_get(&b->build_args, w[i], nlen);
		if (given)
			kv_set(&b->used_args, w[i], nlen, "");
		if (given || eq)
			rc = kv_set(&b->args, w[i], nlen, given ? given : eq + 1) < 0
				 ? berr(b, MOTE_STATUS_HOST, "out of memory")
				 : 0;
	}
	motefile_words_free(w);
	return rc;
}

static int do_workdir(struct build *b, const struct motefile_inst *in)
{
	char **w;
	size_t n;
	if (words(b, in, &w, &n) < 0)
		return -1;
	int rc = 0;
	if (n != 1) {
		rc = berr(b, MOTE_STATUS_MOTEFILE, "WORKDIR takes one path");
	} else {
		char p[PATH_MAX * 2];
		image_path(b, w[0], p, sizeof(p));
		/* keep it clean: the tree's normalization, refusing ".." */
		if (strstr(p, "/../") || (strlen(p) >= 3 && !strcmp(p + strlen(p) - 3, "/..")))
			rc = berr(b, MOTE_STATUS_MOTEFILE, "%s: '..' is not supported in WORKDIR", w[0]);
		else if (oci_tree_add_dir(b->tree, p, 0755, 0, 0, &b->err) < 0)
			rc = berr_wrap(b);
		else {
			size_t l = strlen(p);
			while (l > 1 && p[l - 1] == '/')
				p[--l] = 0;
			if (l >= sizeof(b->workdir))
				rc = berr(b, MOTE_STATUS_MOTEFILE, "path too long");
			else
				memcpy(b->workdir, p, l + 1);
		}
	}
	motefile_words_free(w);
	return rc;
}

static json_t *argv_json(const struct motefile_inst *in)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < in->argc; i++)
		json_array_append_new(a, json_string(in->argv[i]));
	return a;
}

static int run_instruction(struct build *b, const struct motefile_inst *in)
{
	b->line = in->line;
	b->inst = motefile_kind_name(in->kind);
	if (!b->have_from && in->kind != MOTEFILE_FROM && in->kind != MOTEFILE_ARG)
		return berr(b, MOTE_STATUS_MOTEFILE, "comes before FROM (only ARG may)");
	switch (in->kind) {
	case MOTEFILE_FROM: return do_from(b, in);
	case MOTEFILE_COPY: return do_copy(b, in, 0);
	case MOTEFILE_ADD: return do_copy(b, in, 1);
	case MOTEFILE_ENV: return do_pairs(b, in, &b->env, 1);
	case MOTEFILE_LABEL: return do_pairs(b, in, &b->labels, 0);
	case MOTEFILE_ANNOTATION: return do_pairs(b, in, &b->annotations, 0);
	case MOTEFILE_ARG: return do_arg(b, in);
	case MOTEFILE_WORKDIR: return do_workdir(b, in);
	case MOTEFILE_CMD:
		json_decref(b->cmd);
		b->cmd = argv_json(in);
		b->cmd_here = 1;
		return 0;
	case MOTEFILE_ENTRYPOINT:
		json_decref(b->entrypoint);
		b->entrypoint = argv_json(in);
		/* as in Dockerfiles, ENTRYPOINT resets a CMD inherited from the base */
		if (!b->cmd_here) {
			json_decref(b->cmd);
			b->cmd = NULL;
		}
		return 0;
	}
	return berr(b, MOTE_STATUS_MOTEFILE, "unknown instruction");
}

/* ---- the program, the annotations, the image -------------------------------------------------------- */

static int elf_status(int r)
{
	switch (r) {
	case MOTE_ELF_NOT_ELF:
	case MOTE_ELF_CORRUPT: return MOTE_STATUS_NOT_ELF;
	case MOTE_ELF_TRUNCATED: return MOTE_STATUS_TRUNCATED;
	case MOTE_ELF_DYNAMIC: return MOTE_STATUS_DYNAMIC;
	default: return MOTE_STATUS_UNSUPPORTED;
	}
}

/* Read image file `path` from this build's files or the base image: 1 found, 0 not, -1 error. */
static int read_image_file(struct build *b, const char *path, void **data, size_t *len)
{
	int kind = oci_tree_kind(b->tree, path);
	if (kind == 'f')
		return oci_tree_read(b->tree, path, data, len, &b->err) < 0 ? -1 : 1;
	if (kind)
		return 0;
	return oci_image_read_file(&b->img, path, data, len, &b->err);
}

/* Find the program (org.mote.program, or ENTRYPOINT/CMD's first word) and check it is a static ELF. */
static int check_program(struct build *b, char *program, size_t size)
{
	const char *given = kv_get(&b->annotations, "org.mote.program", 16);
	json_t *argv = b->entrypoint && json_array_size(b->entrypoint) ? b->entrypoint : b->cmd;
	const char *first = json_string_value(json_array_get(argv, 0));
	b->line = 0;
	b->inst = "program";
	if (!given && !first)
		return mote_errf(
		    &b->err, MOTE_STATUS_MOTEFILE,
		    "%s: no program: give ENTRYPOINT [\"/program\", ...], CMD [...] or ANNOTATION "
		    "org.mote.program=/path",
		    b->motefile);
	const char *name = given ? given : first;
	void *data = NULL;
	size_t len = 0;
	int found = 0;
	if (name[0] == '/' || strchr(name, '/')) {
		image_path(b, name, program, size);
		found = read_image_file(b, program, &data, &len);
	} else {
		const char *path = kv_get(&b->env, "PATH", 4);
		char *dirs = strdup(path ? path : DEFAULT_PATH), *save = NULL;
		for (char *d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
			snprintf(program, size, "%s/%s", d, name);
			found = read_image_file(b, program, &data, &len);
			if (found < 0)
				break;
		}
		free(dirs);
		if (!found)
			snprintf(program, size, "%s", name);
	}
	if (found < 0)
		return mote_errf(&b->err, b->err.status, "%s: program %s: %.400s", b->motefile, name,
				 b->err.msg);
	if (!found)
		return mote_errf(
		    &b->err, MOTE_STATUS_BUILD_INPUT,
		    "%s: program %s is not a regular file in the image (COPY it; symlinks are not followed)",
		    b->motefile, program);
	struct mote_elf_info info;
	int r = len ? mote_elf_parse(data, len, &info) : MOTE_ELF_NOT_ELF;
	free(data);
	if (r == MOTE_ELF_DYNAMIC)
		return mote_errf(
		    &b->err, MOTE_STATUS_DYNAMIC,
		    "%s: program %s: dynamically linked (PT_INTERP %s); mote runs static programs only",
		    b->motefile, program, info.interp);
	if (r != MOTE_ELF_OK)
		return mote_errf(&b->err, elf_status(r), "%s: program %s: %s", b->motefile, program,
				 mote_elf_strerror(r));
	return 0;
}

static json_t *kv_object(const struct kvlist *l)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < l->n; i++) {
		char *eq = strchr(l->v[i], '=');
		*eq = 0;
		json_object_set_new(o, l->v[i], json_string(eq + 1));
		*eq = '=';
	}
	return o;
}

static json_t *kv_array(const struct kvlist *l)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

static int remove_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	remove(p);
	return 0;
}

/* NAME[:TAG] -> a full reference ("localhost/NAME:TAG") and a file name ("NAME_TAG.tar"). */
static int parse_ref(const char *t, char *ref, size_t rsize, char *file, size_t fsize)
{
	const char *slash = strrchr(t, '/'), *colon = strrchr(t, ':');
	if (colon && slash && colon < slash)
		colon = NULL;
	size_t nlen = colon ? (size_t)(colon - t) : strlen(t);
	const char *tag = colon ? colon + 1 : "latest";
	if (!nlen || nlen > 200 || !*tag || strlen(tag) > 128)
		return -1;
	for (size_t i = 0; i < nlen; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9') || strchr("._-/", t[i])))
			return -1;
	for (const char *p = tag; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("._-", *p)))
			return -1;
	const char *first_slash = memchr(t, '/', nlen);
	int has_host =
	    first_slash && (memchr(t, '.', (size_t)(first_slash - t)) || !strncmp(t, "localhost/", 10));
	snprintf(ref, rsize, "%s%.*s:%s", has_host ? "" : "localhost/", (int)nlen, t, tag);
	const char *base = memrchr(t, '/', nlen);
	base = base ? base + 1 : t;
	snprintf(file, fsize, "%.*s_%s.tar", (int)(nlen - (size_t)(base - t)), base, tag);
	return 0;
}

static int build_image(struct build *b, const char *kernel, const char *ref, enum oci_output kind,
		       const char *dest, char digest[72])
{
	char program[PATH_MAX];
	if (check_program(b, program, sizeof(program)) < 0)
		return -1;
	char membuf[128], kbuf[PATH_MAX];
	const char *mem = kv_get(&b->annotations, "org.mote.mem", 12);
	if (mem) {
		snprintf(membuf, sizeof(membuf), "%s", mem);
		mem = membuf;
	}
	uint64_t bytes;
	if (mem && mote_parse_size(mem, &bytes) < 0)
		return mote_errf(&b->err, MOTE_STATUS_MOTEFILE,
				 "%s: org.mote.mem=%s is not a size such as 64M", b->motefile, mem);
	const char *kpath = kv_get(&b->annotations, "org.mote.kernel", 15);
	int add_kernel = !kpath;
	snprintf(kbuf, sizeof(kbuf), "%s", kpath ? kpath : KERNEL_PATH);
	kpath = kbuf;
	kv_set(&b->annotations, "org.mote.kernel", 15, kpath);
	kv_set(&b->annotations, "org.mote.program", 16, program);
	kv_set(&b->annotations, "org.mote.mem", 12, mem ? mem : "64M");
	if (add_kernel && oci_tree_add_host_file(b->tree, KERNEL_PATH, kernel, 0644, 0, 0, &b->err) < 0)
		return -1;
	/* /.mote/annotations.json: the mote keys (and every ANNOTATION), for runtimes that see no image
	 * annotations */
	json_t *ann = kv_object(&b->annotations);
	char *text = ann ? json_dumps(ann, JSON_SORT_KEYS | JSON_INDENT(2)) : NULL;
	json_decref(ann);
	if (!text)
		return mote_errf(&b->err, MOTE_STATUS_HOST, "out of memory");
	size_t tl = strlen(text);
	char *nl = realloc(text, tl + 2);
	if (nl) {
		text = nl;
		strcpy(text + tl, "\n");
	}
	int r = oci_tree_add_data(b->tree, ANNOTATIONS_PATH, text, strlen(text), 0644, 0, 0, &b->err);
	free(text);
	if (r < 0)
		return -1;

	/* the image config */
	json_t *c = config_obj(b);
	struct kvlist labels = {0};
	for (size_t i = 0; i < b->labels.n; i++) {
		char *eq = strchr(b->labels.v[i], '=');
		kv_set(&labels, b->labels.v[i], (size_t)(eq - b->labels.v[i]), eq + 1);
	}
	kv_set(&labels, "org.mote.kernel", 15, kpath);
	kv_set(&labels, "org.mote.program", 16, program);
	kv_set(&labels, "org.mote.mem", 12, mem ? mem : "64M");
	if (!kv_get(&b->env, "PATH", 4))
		kv_set(&b->env, "PATH", 4, DEFAULT_PATH);
	json_object_set_new(c, "Env", kv_array(&b->env));
	json_object_set_new(c, "Labels", kv_object(&labels));
	kv_free(&labels);
	if (b->entrypoint)
		json_object_set(c, "Entrypoint", b->entrypoint);
	else
		json_object_del(c, "Entrypoint");
	if (b->cmd)
		json_object_set(c, "Cmd", b->cmd);
	else
		json_object_del(c, "Cmd");
	if (strcmp(b->workdir, "/"))
		json_object_set_new(c, "WorkingDir", json_string(b->workdir));
	json_decref(b->img.annotations);
	b->img.annotations = kv_object(&b->annotations);

	int64_t mtime = 0;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (sde && *sde) {
		char *end;
		long long v = strtoll(sde, &end, 10);
		if (*end || v < 0)
			return mote_errf(&b->err, MOTE_STATUS_USAGE,
					 "SOURCE_DATE_EPOCH=%s is not a number of seconds", sde);
		mtime = v;
	}
	char created[64];
	time_t tt = (time_t)mtime;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set_new(b->img.config, "created", json_string(created));

	struct oci_image_layer l = {0};
	char tar[PATH_MAX], gz[PATH_MAX];
	snprintf(tar, sizeof(tar), "%.4000s/layer.tar", b->tmpdir);
	snprintf(gz, sizeof(gz), "%.4000s/layer.tar.gz", b->tmpdir);
	struct oci_blob tb;
	if (oci_layer_write(b->tree, mtime, tar, gz, &tb, &l.blob, &b->err) < 0)
		return -1;
	memcpy(l.diff_id, tb.digest, sizeof(l.diff_id));
	snprintf(l.tar_path, sizeof(l.tar_path), "%s", tar);
	snprintf(l.media_type, sizeof(l.media_type), "%s", OCI_MT_LAYER_GZIP);
	if (oci_image_add_layer(&b->img, &l, &b->err) < 0)
		return -1;
	return oci_image_write(&b->img, ref, kind, dest, b->tmpdir, mtime, digest, &b->err);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"file", required_argument, NULL, 'f'},
	    {"tag", required_argument, NULL, 't'},
	    {"output", required_argument, NULL, 'o'},
	    {"build-arg", required_argument, NULL, 'a'},
	    {"kernel", required_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	struct build b = {.workdir = "/"};
	const char *motefile = NULL, *tag = NULL, *output = NULL, *kernel = NULL;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+f:t:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': motefile = optarg; break;
		case 't': tag = optarg; break;
		case 'o': output = optarg; break;
		case 'k': kernel = optarg; break;
		case 'a': {
			const char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg) {
				fprintf(stderr, "mote: build: --build-arg '%s' is not K=V\n", optarg);
				return MOTE_STATUS_USAGE;
			}
			kv_set(&b.build_args, optarg, (size_t)(eq - optarg), eq + 1);
			break;
		}
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr,
				"mote: build: unknown or incomplete option '%s' (see mote build --help)\n",
				argv[optind - 1]);
			return MOTE_STATUS_USAGE;
		}
	}
	if (optind + 1 != argc || !tag) {
		fprintf(stderr, "mote: build: %s (see mote build --help)\n",
			!tag ? "-t NAME[:TAG] is required" : "give exactly one build context DIR");
		return MOTE_STATUS_USAGE;
	}
	char ref[512], deffile[512];
	if (parse_ref(tag, ref, sizeof(ref), deffile, sizeof(deffile)) < 0) {
		fprintf(
		    stderr,
		    "mote: build: -t %s: not NAME[:TAG] (name: a-z 0-9 . _ - /; tag: A-Z a-z 0-9 . _ -)\n",
		    tag);
		return MOTE_STATUS_USAGE;
	}
	enum oci_output kind = OCI_OUT_ARCHIVE;
	const char *dest = deffile;
	if (output) {
		if (!strncmp(output, "oci-archive:", 12))
			kind = OCI_OUT_ARCHIVE, dest = output + 12;
		else if (!strncmp(output, "oci:", 4))
			kind = OCI_OUT_DIR, dest = output + 4;
		else if (!strncmp(output, "docker-archive:", 15))
			kind = OCI_OUT_DOCKER_ARCHIVE, dest = output + 15;
		else
			dest = NULL;
		if (!dest || !*dest) {
			fprintf(stderr,
				"mote: build: --output %s: not oci-archive:FILE, oci:DIR or "
				"docker-archive:FILE\n",
				output);
			return MOTE_STATUS_USAGE;
		}
	}
	const char *dir = argv[optind];
	if (!realpath(dir, b.context)) {
		fprintf(stderr, "mote: build: context %s: %s\n", dir, strerror(errno));
		return MOTE_STATUS_NOT_FOUND;
	}
	struct stat st;
	if (stat(b.context, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "mote: build: context %s is not a directory\n", dir);
		return MOTE_STATUS_NOT_FOUND;
	}
	char mfpath[PATH_MAX * 2], kbuf[PATH_MAX];
	if (!motefile) {
		snprintf(mfpath, sizeof(mfpath), "%s/Motefile", dir);
		motefile = mfpath;
	}
	if (!kernel) {
		if (mote_find_beside_self("mote-kernel", kbuf, sizeof(kbuf)) < 0) {
			fprintf(stderr,
				"mote: build: cannot find mote-kernel beside mote (give --kernel FILE)\n");
			return MOTE_STATUS_NOT_FOUND;
		}
		kernel = kbuf;
	}
	int kfd = mote_open_regular(kernel, &st);
	if (kfd < 0) {
		fprintf(stderr, "mote: build: --kernel %s: %s\n", kernel,
			kfd == -2 ? "not a regular file" : strerror(errno));
		return MOTE_STATUS_NOT_FOUND;
	}
	close(kfd);
	b.motefile = motefile;

	/* read and parse the Motefile */
	int fd = mote_open_regular(motefile, &st);
	if (fd < 0) {
		fprintf(stderr, "mote: %s: %s\n", motefile,
			fd == -2 ? "not a regular file" : strerror(errno));
		return MOTE_STATUS_NOT_FOUND;
	}
	char *text = malloc((size_t)st.st_size + 1);
	ssize_t got = text ? read(fd, text, (size_t)st.st_size) : -1;
	close(fd);
	if (got != st.st_size) {
		fprintf(stderr, "mote: %s: cannot read it\n", motefile);
		return MOTE_STATUS_HOST;
	}
	struct motefile mf;
	unsigned eline;
	char why[300];
	if (motefile_parse(text, (size_t)got, &mf, &eline, why, sizeof(why)) < 0) {
		fprintf(stderr, "mote: %s:%u: %s\n", motefile, eline, why);
		free(text);
		return MOTE_STATUS_MOTEFILE;
	}
	free(text);

	const char *tmp = getenv("TMPDIR");
	snprintf(b.tmpdir, sizeof(b.tmpdir), "%s/mote-build.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(b.tmpdir)) {
		fprintf(stderr, "mote: build: cannot create a scratch directory %s: %s\n", b.tmpdir,
			strerror(errno));
		motefile_free(&mf);
		return MOTE_STATUS_HOST;
	}
	b.tree = oci_tree_new();
	int rc = b.tree && oci_image_init(&b.img, &b.err) == 0
		     ? 0
		     : mote_errf(&b.err, MOTE_STATUS_HOST, "out of memory");
	for (size_t i = 0; !rc && i < mf.n; i++)
		rc = run_instruction(&b, &mf.inst[i]);
	if (!rc && !b.have_from)
		rc = mote_errf(&b.err, MOTE_STATUS_MOTEFILE,
			       "%s: no FROM instruction (FROM scratch starts an empty image)", motefile);
	char digest[72];
	if (!rc)
		rc = build_image(&b, kernel, ref, kind, dest, digest);
	nftw(b.tmpdir, remove_cb, 16, FTW_DEPTH | FTW_PHYS);
	motefile_free(&mf);
	oci_tree_free(b.tree);
	oci_image_free(&b.img);
	json_decref(b.cmd);
	json_decref(b.entrypoint);
	if (rc) {
		kv_free(&b.build_args);
		kv_free(&b.used_args);
		kv_free(&b.args);
		kv_free(&b.env);
		kv_free(&b.labels);
		kv_free(&b.annotations);
		mote_err_exit("mote", &b.err);
	}
	for (size_t i = 0; i < b.build_args.n; i++) {
		const char *eq = strchr(b.build_args.v[i], '=');
		if (!kv_get(&b.used_args, b.build_args.v[i], (size_t)(eq - b.build_args.v[i])))
			fprintf(stderr, "mote: build: warning: --build-arg %.*s: no ARG of that name in %s\n",
				(int)(eq - b.build_args.v[i]), b.build_args.v[i], motefile);
	}
	printf("%s %s %s:%s\n", ref, digest,
	       kind == OCI_OUT_DIR	 ? "oci"
	       : kind == OCI_OUT_ARCHIVE ? "oci-archive"
					 : "docker-archive",
	       dest);
	kv_free(&b.build_args);
	kv_free(&b.used_args);
	kv_free(&b.args);
	kv_free(&b.env);
	kv_free(&b.labels);
	kv_free(&b.annotations);
	return 0;
}

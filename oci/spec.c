/* config.json (OCI runtime spec) -> struct oci_spec, and the annotations that make a bundle a mote image. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "size.h"
#include "spec.h"

static const char *const hook_names[OCI_HOOK_NPOINTS] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

const char *oci_hook_name(enum oci_hook_point p)
{
	return p < OCI_HOOK_NPOINTS ? hook_names[p] : "?";
}

static void warn(struct oci_spec *s, const char *fmt, const char *what) __attribute__((format(printf, 2, 0)));
static void warn(struct oci_spec *s, const char *fmt, const char *what)
{
	if (s->nwarnings >= OCI_MAX_WARNINGS)
		return;
	char *line = NULL;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	if (asprintf(&line, fmt, what) >= 0)
		s->warnings[s->nwarnings++] = line;
#pragma GCC diagnostic pop
}

/* A NULL-terminated array of the strings of JSON array `a` (NULL when a is NULL); -1 if one is no string. */
static int string_array(const json_t *a, const char ***out, int *n, const char *field, struct mote_err *err)
{
	*out = NULL;
	if (n)
		*n = 0;
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return mote_errf(err, OCI_STATUS_BAD_CONFIG, "config.json: %s is not an array", field);
	size_t len = json_array_size(a);
	const char **v = calloc(len + 1, sizeof(char *));
	if (!v)
		return mote_errf(err, OCI_STATUS_BAD_CONFIG, "config.json: out of memory");
	for (size_t i = 0; i < len; i++) {
		const char *str = json_string_value(json_array_get(a, i));
		if (!str) {
			free(v);
			return mote_errf(err, OCI_STATUS_BAD_CONFIG, "config.json: %s[%zu] is not a string",
					 field, i);
		}
		v[i] = str;
	}
	*out = v;
	if (n)
		*n = (int)len;
	return 0;
}

/* The member `key` of object `o` if it has JSON type `type` (or is absent: NULL); -1 on another type. */
static int member(const json_t *o, const char *key, json_type type, json_t **out, const char *field,
		  struct mote_err *err)
{
	*out = o ? json_object_get(o, key) : NULL;
	if (!*out || json_is_null(*out)) {
		*out = NULL;
		return 0;
	}
	int ok = json_typeof(*out) == type || (type == JSON_TRUE && json_is_boolean(*out)) ||
		 (type == JSON_REAL && json_is_number(*out));
	if (!ok)
		return mote_errf(err, OCI_STATUS_BAD_CONFIG, "config.json: %s has the wrong type", field);
	return 0;
}

static int get_string(const json_t *o, const char *key, const char **out, const char *field,
		      struct mote_err *err)
{
	json_t *v;
	if (member(o, key, JSON_STRING, &v, field, err) < 0)
		return -1;
	*out = v ? json_string_value(v) : NULL;
	return 0;
}

static int get_int(const json_t *o, const char *key, int64_t *out, const char *field, struct mote_err *err)
{
	json_t *v;
	if (member(o, key, JSON_INTEGER, &v, field, err) < 0)
		return -1;
	*out = v ? (int64_t)json_integer_value(v) : 0;
	return 0;
}

static const struct {
	const char *name;
	int flag;
} ns_types[] = {
    {"pid", CLONE_NEWPID}, {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},	   {"ipc", CLONE_NEWIPC},
    {"uts", CLONE_NEWUTS}, {"user", CLONE_NEWUSER},   {"cgroup", CLONE_NEWCGROUP}, {"time", 0x80},
};

static const struct {
	const char *name;
	int resource;
} rlimit_types[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_process(const json_t *p, struct oci_spec *s, struct mote_err *err)
{
	json_t *v;
	if (!p)
		return mote_errf(err, OCI_STATUS_BAD_CONFIG, "config.json: no process");
	if (!json_is_object(p))
		return mote_errf(err, OCI_STATUS_BAD_CONFIG, "config.json: process is not an object");
	if (string_array(json_object_get(p, "args"), &s->args, &s->nargs, "process.args", err) < 0 ||
	    string_array(json_object_get(p, "env"), &s->env, &s->nenv, "process.env", err) < 0)
		return -1;
	if (s->nargs == 0)
		return mote_errf(err, OCI_STATUS_BAD_CONFIG, "config.json: process.args is missing or empty");
	if (get_string(p, "cwd", &s->cwd, "process.cwd", err) < 0)
		return -1;
	if (!s->cwd)
		s->cwd = "/";
	if (s->cwd[0] != '/')
		return mote_errf(err, OCI_STATUS_BAD_CONFIG,
				 "config.json: process.cwd '%.200s' is not absolute", s->cwd);
	for (int i = 0; i < s->nenv; i++)
		if (!strchr(s->env[i], '=') || s->env[i][0] == '=')
			return mote_errf(err, OCI_STATUS_BAD_CONFIG,
					 "config.json: process.env[%d] '%.200s' is not K=V", i, s->env[i]);
	if (member(p, "terminal", JSON_TRUE, &v, "process.terminal", err) < 0)
		return -1;
	s->terminal = v && json_is_true(v);
	json_t *user;
	if (member(p, "user", JSON_OBJECT, &user, "process.user", err) < 0)
		return -1;
	int64_t id;
	if (get_int(user, "uid", &id, "process.user.uid", err) < 0)
		return -1;
	s->uid = (uint32_t)id;
	if (get_int(user, "gid", &id, "process.user.gid", err) < 0)
		return -1;
	s->gid = (uint32_t)id;
	if (s->uid || s->gid)
		warn(s,
		     "process.user %s: the guest has one user; the program runs as it, the monitor keeps the "
		     "runtime's uid (it needs /dev/kvm)",
		     "uid/gid");
	json_t *rl;
	if (member(p, "rlimits", JSON_ARRAY, &rl, "process.rlimits", err) < 0)
		return -1;
	for (size_t i = 0; rl && i < json_array_size(rl); i++) {
		json_t *r = json_array_get(rl, i);
		const char *type = NULL;
		int64_t soft, hard;
		if (!json_is_object(r) || get_string(r, "type", &type, "process.rlimits[].type", err) < 0 ||
		    get_int(r, "soft", &soft, "process.rlimits[].soft", err) < 0 ||
		    get_int(r, "hard", &hard, "process.rlimits[].hard", err) < 0)
			return err->status
				   ? -1
				   : mote_errf(err, OCI_STATUS_BAD_CONFIG,
					       "config.json: process.rlimits[%zu] is not an object", i);
		int res = -1;
		for (size_t k = 0; type && k < sizeof(rlimit_types) / sizeof(rlimit_types[0]); k++)
			if (!strcmp(type, rlimit_types[k].name))
				res = rlimit_types[k].resource;
		if (res < 0)
			return mote_errf(err, OCI_STATUS_BAD_CONFIG,
					 "config.json: process.rlimits[%zu]: unknown type '%.100s'", i,
					 type ? type : "(none)");
		if (s->nrlimits < OCI_MAX_RLIMITS)
			s->rlimits[s->nrlimits++] = (struct oci_rlimit){res, (uint64_t)soft, (uint64_t)hard};
	}
	/* process.capabilities, apparmorProfile, selinuxLabel, noNewPrivileges: every engine sets them; the
	 * guest has no capabilities or LSM, so they are ignored without a warning (docs/oci.md). */
	return 0;
}

static int parse_hooks(const json_t *h, struct oci_spec *s, struct mote_err *err)
{
	if (!h)
		return 0;
	if (!json_is_object(h))
		return mote_errf(err, OCI_STATUS_BAD_CONFIG, "config.json: hooks is not an object");
	for (int p = 0; p < OCI_HOOK_NPOINTS; p++) {
		json_t *a;
		char field[64];
		snprintf(field, sizeof(field), "hooks.%s", hook_names[p]);
		if (member(h, hook_names[p], JSON_ARRAY, &a, field, err) < 0)
			return -1;
		if (!a)
			continue;
		size_t n = json_array_size(a);
		s->hooks[p] = calloc(n + 1, sizeof(struct oci_hook));
		if (!s->hooks[p])
			return mote_errf(err, OCI_STATUS_BAD_CONFIG, "config.json: out of memory");
		for (size_t i = 0; i < n; i++) {
			json_t *o = json_array_get(a, i);
			struct oci_hook *k = &s->hooks[p][i];
			int64_t t = 0;
			s->nhooks[p] = (int)i + 1;
			if (!json_is_object(o))
				return mote_errf(err, OCI_STATUS_BAD_CONFIG,
						 "config.json: %s[%zu] is not an object", field, i);
			if (get_string(o, "path", &k->path, field, err) < 0 ||
			    string_array(json_object_get(o, "args"), &k->args, NULL, field, err) < 0 ||
			    string_array(json_object_get(o, "env"), &k->env, NULL, field, err) < 0 ||
			    get_int(o, "timeout", &t, field, err) < 0)
				return -1;
			if (!k->path || k->path[0] != '/')
				return mote_errf(err, OCI_STATUS_BAD_CONFIG,
						 "config.json: %s[%zu].path is missing or not absolute",
						 field, i);
			if (t < 0 || t > 3600)
				return mote_errf(err, OCI_STATUS_BAD_CONFIG,
						 "config.json: %s[%zu].timeout %lld is not 1..3600", field, i,
						 (long long)t);
			k->timeout_s = (int)t;
		}
	}
	return 0;
}

static int parse_linux(const json_t *l, struct oci_spec *s, struct mote_err *err)
{
	json_t *nss, *res;
	if (!l)
		return 0;
	if (!json_is_object(l))
		return mote_errf(err, OCI_STATUS_BAD_CONFIG, "config.json: linux is not an object");
	if (member(l, "namespaces", JSON_ARRAY, &nss, "linux.namespaces", err) < 0 ||
	    member(l, "resources", JSON_OBJECT, &res, "linux.resources", err) < 0)
		return -1;
	for (size_t i = 0; nss && i < json_array_size(nss); i++) {
		json_t *n = json_array_get(nss, i);
		const char *type = NULL, *path = NULL;
		if (!json_is_object(n))
			return mote_errf(err, OCI_STATUS_BAD_CONFIG,
					 "config.json: linux.namespaces[%zu] is not an object", i);
		if (get_string(n, "type", &type, "linux.namespaces[].type", err) < 0 ||
		    get_string(n, "path", &path, "linux.namespaces[].path", err) < 0)
			return -1;
		int flag = -1;
		for (size_t k = 0; type && k < sizeof(ns_types) / sizeof(ns_types[0]); k++)
			if (!strcmp(type, ns_types[k].name))
				flag = ns_types[k].flag;
		if (flag < 0)
			return mote_errf(err, OCI_STATUS_BAD_CONFIG,
					 "config.json: linux.namespaces[%zu]: unknown type '%.100s'", i,
					 type ? type : "(none)");
		if (path && path[0] != '/')
			return mote_errf(err, OCI_STATUS_BAD_CONFIG,
					 "config.json: linux.namespaces[%zu].path is not absolute", i);
		for (int k = 0; k < s->nns; k++)
			if (s->ns[k].clone_flag == flag)
				return mote_errf(err, OCI_STATUS_BAD_CONFIG,
						 "config.json: linux.namespaces: '%s' appears twice", type);
		if (s->nns < OCI_MAX_NS)
			s->ns[s->nns++] = (struct oci_namespace){flag, type, path};
	}
	if (res) {
		json_t *cpu, *mem, *pids;
		if (member(res, "cpu", JSON_OBJECT, &cpu, "linux.resources.cpu", err) < 0 ||
		    member(res, "memory", JSON_OBJECT, &mem, "linux.resources.memory", err) < 0 ||
		    member(res, "pids", JSON_OBJECT, &pids, "linux.resources.pids", err) < 0)
			return -1;
		int64_t shares = 0;
		if (get_int(cpu, "quota", &s->cpu_quota, "linux.resources.cpu.quota", err) < 0 ||
		    get_int(cpu, "period", &s->cpu_period, "linux.resources.cpu.period", err) < 0 ||
		    get_int(cpu, "shares", &shares, "linux.resources.cpu.shares", err) < 0 ||
		    get_int(mem, "limit", &s->mem_limit, "linux.resources.memory.limit", err) < 0 ||
		    get_int(pids, "limit", &s->pids_limit, "linux.resources.pids.limit", err) < 0)
			return -1;
		if (s->cpu_period < 0 || shares < 0)
			return mote_errf(err, OCI_STATUS_BAD_CONFIG,
					 "config.json: linux.resources.cpu: negative value");
		s->cpu_shares = (uint64_t)shares;
		if (json_object_get(res, "blockIO") || json_object_get(res, "hugepageLimits") ||
		    json_object_get(res, "network") || json_object_get(res, "rdma"))
			warn(s, "linux.resources.%s: not applied to the VM",
			     "blockIO/hugepageLimits/network/rdma");
	}
	/* linux.seccomp, maskedPaths, readonlyPaths: the guest's system calls never reach the host and
	 * mote-vmm has its own filter, so they are ignored without a warning (docs/oci.md). */
	if (json_object_get(l, "uidMappings") || json_object_get(l, "gidMappings"))
		warn(s, "linux.%s: not applied (the monitor runs in the runtime's user namespace)",
		     "uidMappings/gidMappings");
	return 0;
}

/* Warn about mounts: the guest's file tree is the rootfs; /proc, /dev, /sys ... are the guest kernel's own.
 */
static int parse_mounts(const json_t *m, struct oci_spec *s, struct mote_err *err)
{
	if (!m)
		return 0;
	if (!json_is_array(m))
		return mote_errf(err, OCI_STATUS_BAD_CONFIG, "config.json: mounts is not an array");
	for (size_t i = 0; i < json_array_size(m); i++) {
		json_t *o = json_array_get(m, i);
		const char *dst = NULL, *type = NULL, *src = NULL;
		if (!json_is_object(o))
			return mote_errf(err, OCI_STATUS_BAD_CONFIG,
					 "config.json: mounts[%zu] is not an object", i);
		if (get_string(o, "destination", &dst, "mounts[].destination", err) < 0 ||
		    get_string(o, "type", &type, "mounts[].type", err) < 0 ||
		    get_string(o, "source", &src, "mounts[].source", err) < 0)
			return -1;
		if (!dst)
			return mote_errf(err, OCI_STATUS_BAD_CONFIG,
					 "config.json: mounts[%zu] has no destination", i);
		int bind = (type && !strcmp(type, "bind")) || (!type && src && src[0] == '/');
		/* The files every engine binds in (podman, containerd) are the guest kernel's business. */
		static const char *const routine[] = {"/etc/hosts",	  "/etc/hostname",
						      "/etc/resolv.conf", "/run/.containerenv",
						      "/dev/shm",	  "/dev/termination-log"};
		for (size_t k = 0; bind && k < sizeof(routine) / sizeof(routine[0]); k++)
			if (!strcmp(dst, routine[k]))
				bind = 0;
		if (bind)
			warn(s,
			     "mounts: the host directory bound at %.200s is not visible in the guest (its "
			     "file tree "
			     "is the rootfs only)",
			     dst);
	}
	return 0;
}

int oci_spec_parse(const char *text, size_t len, struct oci_spec *spec, struct mote_err *err)
{
	memset(spec, 0, sizeof(*spec));
	json_error_t jerr;
	spec->doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!spec->doc)
		return mote_errf(err, OCI_STATUS_BAD_JSON, "config.json: not valid JSON: line %d: %.200s",
				 jerr.line, jerr.text);
	struct oci_spec *s = spec;
	json_t *root, *v;
	if (!json_is_object(s->doc)) {
		mote_errf(err, OCI_STATUS_BAD_JSON, "config.json: not a JSON object");
		goto fail;
	}
	if (get_string(s->doc, "ociVersion", &s->oci_version, "ociVersion", err) < 0) {
		err->status = OCI_STATUS_BAD_VERSION;
		goto fail;
	}
	if (!s->oci_version || strncmp(s->oci_version, "1.", 2) != 0) {
		mote_errf(err, OCI_STATUS_BAD_VERSION, "config.json: ociVersion '%.100s' is not 1.x",
			  s->oci_version ? s->oci_version : "(missing)");
		goto fail;
	}
	if (parse_process(json_object_get(s->doc, "process"), s, err) < 0)
		goto fail;
	if (member(s->doc, "root", JSON_OBJECT, &root, "root", err) < 0 ||
	    get_string(root, "path", &s->root_path, "root.path", err) < 0)
		goto fail;
	if (!s->root_path || !s->root_path[0]) {
		mote_errf(err, OCI_STATUS_BAD_CONFIG, "config.json: root.path is missing");
		goto fail;
	}
	if (member(root, "readonly", JSON_TRUE, &v, "root.readonly", err) < 0)
		goto fail;
	s->root_readonly = v && json_is_true(v);
	if (get_string(s->doc, "hostname", &s->hostname, "hostname", err) < 0 ||
	    parse_mounts(json_object_get(s->doc, "mounts"), s, err) < 0 ||
	    parse_hooks(json_object_get(s->doc, "hooks"), s, err) < 0 ||
	    parse_linux(json_object_get(s->doc, "linux"), s, err) < 0)
		goto fail;
	if (member(s->doc, "annotations", JSON_OBJECT, &s->annotations, "annotations", err) < 0)
		goto fail;
	if (s->annotations)
		json_incref(s->annotations);
	else
		s->annotations = json_object();
	if (!s->annotations) {
		mote_errf(err, OCI_STATUS_BAD_CONFIG, "config.json: out of memory");
		goto fail;
	}
	return 0;
fail:
	oci_spec_free(spec);
	return -1;
}

void oci_spec_free(struct oci_spec *s)
{
	free(s->args);
	free(s->env);
	for (int p = 0; p < OCI_HOOK_NPOINTS; p++) {
		for (int i = 0; s->hooks[p] && i < s->nhooks[p]; i++) {
			free(s->hooks[p][i].args);
			free(s->hooks[p][i].env);
		}
		free(s->hooks[p]);
	}
	for (int i = 0; i < s->nwarnings; i++)
		free((char *)s->warnings[i]);
	json_decref(s->annotations);
	json_decref(s->doc);
	memset(s, 0, sizeof(*s));
}

/* The string of key `k` in cfg (first) or rootfs; 1 found, 0 absent, -1 not a string. */
static int annotation(const json_t *cfg, const json_t *rootfs, const char *k, const char **out,
		      struct mote_err *err)
{
	const json_t *v = cfg ? json_object_get(cfg, k) : NULL;
	if (!v && rootfs)
		v = json_object_get(rootfs, k);
	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return mote_errf(err, OCI_STATUS_BAD_ANNOTATION, "annotation %s: not a string", k);
	*out = json_string_value(v);
	return 1;
}

int oci_image_from(const json_t *cfg, const json_t *rootfs, struct oci_image *img, struct mote_err *err)
{
	memset(img, 0, sizeof(*img));
	img->mem = 64ull << 20;
	if (cfg && !json_is_object(cfg))
		cfg = NULL;
	if (rootfs && !json_is_object(rootfs))
		return mote_errf(err, OCI_STATUS_BAD_ANNOTATION,
				 "/.mote/annotations.json: not a JSON object");
	const char *mem = NULL, *bin = NULL, *type = NULL, *hv = NULL, *initrd = NULL;
	int found = 0, r;
	static const char *const paths[] = {"org.mote.kernel", "org.mote.program",
					    "com.urunc.unikernel.binary"};
	const char **dst[] = {&img->kernel, &img->program, &bin};
	for (int i = 0; i < 3; i++) {
		if ((r = annotation(cfg, rootfs, paths[i], dst[i], err)) < 0)
			return -1;
		if (r && (*dst[i])[0] != '/')
			return mote_errf(err, OCI_STATUS_BAD_ANNOTATION,
					 "annotation %s: '%.200s' is not an absolute path", paths[i],
					 *dst[i]);
		found |= r;
	}
	if ((r = annotation(cfg, rootfs, "org.mote.mem", &mem, err)) < 0)
		return -1;
	found |= r;
	if (mem) {
		uint64_t v;
		if (mote_parse_size(mem, &v) < 0 || v < (16ull << 20) || v > (32ull << 30))
			return mote_errf(
			    err, OCI_STATUS_BAD_ANNOTATION,
			    "annotation org.mote.mem: '%.100s' is not a size between 16M and 32G", mem);
		img->mem = (v + (2ull << 20) - 1) & ~((2ull << 20) - 1);
	}
	int urunc = 0;
	const char *const urunc_keys[] = {"com.urunc.unikernel.cmdline", "com.urunc.unikernel.unikernelType",
					  "com.urunc.unikernel.hypervisor", "com.urunc.unikernel.initrd"};
	const char **udst[] = {&img->cmdline, &type, &hv, &initrd};
	for (int i = 0; i < 4; i++) {
		if ((r = annotation(cfg, rootfs, urunc_keys[i], udst[i], err)) < 0)
			return -1;
		urunc |= r;
	}
	urunc |= bin != NULL;
	if (urunc) {
		if (type && strcmp(type, "mote") != 0)
			return mote_errf(
			    err, OCI_STATUS_BAD_ANNOTATION,
			    "annotation com.urunc.unikernel.unikernelType: '%.100s' is not 'mote' (mote runs "
			    "static Linux programs, not other unikernels)",
			    type);
		if (hv && strcmp(hv, "mote") != 0)
			return mote_errf(err, OCI_STATUS_BAD_ANNOTATION,
					 "annotation com.urunc.unikernel.hypervisor: '%.100s' is not 'mote'",
					 hv);
		if (initrd)
			return mote_errf(
			    err, OCI_STATUS_BAD_ANNOTATION,
			    "annotation com.urunc.unikernel.initrd: mote has no initrd (the guest's files "
			    "are the rootfs)");
		/* urunc's keys alone make a mote image only when they say so (type or hypervisor "mote"). */
		if (type || hv || found)
			found = 1;
		else if (bin || img->cmdline)
			return mote_errf(
			    err, OCI_STATUS_BAD_ANNOTATION,
			    "annotations com.urunc.unikernel.*: no unikernelType or hypervisor 'mote'");
	}
	if (!img->program && bin)
		img->program = bin;
	img->is_mote = found;
	return 0;
}

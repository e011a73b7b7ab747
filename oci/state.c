/* mote-oci's state per container: ROOT/ID/state.json, written atomically (rename), locked (flock). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spec.h"
#include "state.h"
#include "status.h"

int oci_id_valid(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 255 || !strcmp(id, ".") || !strcmp(id, ".."))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '+' || c == '-'))
			return 0;
	}
	return 1;
}

static int lock_dir(struct oci_state *st, struct mote_err *err)
{
	char path[PATH_MAX + 8];
	snprintf(path, sizeof(path), "%s/lock", st->dir);
	st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lock_fd < 0 || flock(st->lock_fd, LOCK_EX) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "lock %s", path);
	return 0;
}

/* mkdir -p ROOT (each missing directory 0700), as runc does: containerd's shim names /run/containerd/runc/NS.
 */
static int make_root(const char *root)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s", root) >= (int)sizeof(path))
		return errno = ENAMETOOLONG, -1;
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != 0)
			continue;
		char c = *p;
		*p = 0;
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = c;
		if (c == 0)
			return 0;
	}
}

int oci_state_new(const char *root, const char *id, struct oci_state *st, struct mote_err *err)
{
	memset(st, 0, sizeof(*st));
	st->lock_fd = -1;
	if (make_root(root) < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "--root %s", root);
	snprintf(st->id, sizeof(st->id), "%s", id);
	if (snprintf(st->dir, sizeof(st->dir), "%s/%s", root, id) >= (int)sizeof(st->dir))
		return mote_errf(err, MOTE_STATUS_USAGE, "--root %s: path too long", root);
	if (mkdir(st->dir, 0700) < 0)
		return errno == EEXIST ? mote_errf(err, OCI_STATUS_EXISTS, "container %s exists already", id)
				       : mote_errnof(err, MOTE_STATUS_HOST, errno, "mkdir %s", st->dir);
	snprintf(st->status, sizeof(st->status), "creating");
	return lock_dir(st, err);
}

int oci_state_load(const char *root, const char *id, struct oci_state *st, struct mote_err *err)
{
	memset(st, 0, sizeof(*st));
	st->lock_fd = -1;
	if (!oci_id_valid(id))
		return 1;
	snprintf(st->id, sizeof(st->id), "%s", id);
	snprintf(st->dir, sizeof(st->dir), "%s/%s", root, id);
	struct stat sb;
	if (stat(st->dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return 1;
	if (lock_dir(st, err) < 0)
		return -1;
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/state.json", st->dir);
	json_error_t jerr;
	json_t *o = json_load_file(path, 0, &jerr);
	if (!o) {
		/* Made but never written (a create that died at once): a container that is stopped. */
		snprintf(st->status, sizeof(st->status), "stopped");
		st->annotations = json_object();
		return 0;
	}
	const char *s;
	if ((s = json_string_value(json_object_get(o, "status"))))
		snprintf(st->status, sizeof(st->status), "%s", s);
	if ((s = json_string_value(json_object_get(o, "bundle"))))
		snprintf(st->bundle, sizeof(st->bundle), "%s", s);
	if ((s = json_string_value(json_object_get(o, "created"))))
		snprintf(st->created, sizeof(st->created), "%s", s);
	if ((s = json_string_value(json_object_get(o, "mote_cgroup"))))
		snprintf(st->cgroup, sizeof(st->cgroup), "%s", s);
	st->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
	st->start_time = (unsigned long long)json_integer_value(json_object_get(o, "mote_start_time"));
	json_t *a = json_object_get(o, "annotations");
	st->annotations = json_is_object(a) ? json_incref(a) : json_object();
	json_decref(o);
	return 0;
}

static json_t *state_object(const struct oci_state *st, int internal)
{
	const char *status = internal ? st->status : oci_state_status(st);
	json_t *o =
	    json_pack("{s:s, s:s, s:s, s:s, s:O}", "ociVersion", "1.0.2", "id", st->id, "status", status,
		      "bundle", st->bundle, "annotations", st->annotations ? st->annotations : json_object());
	if (!o)
		return NULL;
	if (st->pid > 0 && (internal || strcmp(status, "stopped") != 0))
		json_object_set_new(o, "pid", json_integer(st->pid));
	if (internal) {
		json_object_set_new(o, "created", json_string(st->created));
		json_object_set_new(o, "mote_start_time", json_integer((json_int_t)st->start_time));
		json_object_set_new(o, "mote_cgroup", json_string(st->cgroup));
	}
	return o;
}

int oci_state_save(const struct oci_state *st, struct mote_err *err)
{
	char path[PATH_MAX + 16], tmp[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/state.json", st->dir);
	snprintf(tmp, sizeof(tmp), "%s/state.json.tmp", st->dir);
	json_t *o = state_object(st, 1);
	if (!o || json_dump_file(o, tmp, JSON_COMPACT) < 0 || rename(tmp, path) < 0) {
		json_decref(o);
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "write %s", path);
	}
	json_decref(o);
	return 0;
}

unsigned long long oci_proc_start_time(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return 0;
	char state = p[2];
	if (state == 'Z' || state == 'X')
		return 0;
	/* Fields after the command: 3 state ... 22 starttime. */
	unsigned long long v = 0;
	p += 2;
	for (int field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &v) != 1)
		return 0;
	return v;
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] ? p[2] : 0;
}

const char *oci_state_status(const struct oci_state *st)
{
	if (!strcmp(st->status, "stopped") || st->pid <= 0)
		return !strcmp(st->status, "creating") ? "creating" : "stopped";
	if (oci_proc_start_time(st->pid) != st->start_time)
		return "stopped";
	if (!strcmp(st->status, "running") && proc_state(st->pid) == 'T')
		return "paused";
	return st->status;
}

char *oci_state_json(const struct oci_state *st, int pretty)
{
	json_t *o = state_object(st, 0);
	char *s = o ? json_dumps(o, pretty ? JSON_INDENT(2) : JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

void oci_state_remove(struct oci_state *st)
{
	DIR *d = opendir(st->dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char path[PATH_MAX + 260];
		snprintf(path, sizeof(path), "%s/%s", st->dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(st->dir);
	oci_state_close(st);
}

void oci_state_close(struct oci_state *st)
{
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	st->lock_fd = -1;
	json_decref(st->annotations);
	st->annotations = NULL;
}

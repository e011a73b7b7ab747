/* mote-oci: an OCI runtime with runc's command line that runs mote unikernel bundles as microVMs, others with
 * runc. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oci.h"
#include "status.h"

struct oci_globals oci_g = {.root = "/run/mote-oci", .log_format = "text"};

void oci_log(const char *level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int is_error = !strcmp(level, "error"), is_debug = !strcmp(level, "debug");
	if (is_debug && !oci_g.debug)
		return;
	if (is_error || !oci_g.log)
		fprintf(stderr, is_error ? "mote-oci: %s%s\n" : "mote-oci: %s: %s\n", is_error ? "" : level,
			msg);
	if (!oci_g.log)
		return;
	FILE *f = fopen(oci_g.log, "ae");
	if (!f)
		return;
	char when[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!strcmp(oci_g.log_format, "json")) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "level", level, "msg", msg, "time", when);
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
		if (s)
			fprintf(f, "%s\n", s);
		free(s);
		json_decref(o);
	} else {
		fprintf(f, "time=\"%s\" level=%s msg=\"%s\"\n", when, level, msg);
	}
	fclose(f);
}

void oci_die(const struct mote_err *err)
{
	oci_log("error", "%s", err->msg);
	exit(err->status ? err->status : MOTE_STATUS_HOST);
}

static const char *runc_path(void)
{
	const char *p = getenv("MOTE_OCI_RUNC");
	return p && *p ? p : "/usr/sbin/runc";
}

void oci_exec_runc(void)
{
	char root[PATH_MAX];
	snprintf(root, sizeof(root), "%s/runc", oci_g.root);
	int n = 0, rest = 0;
	for (char **a = oci_g.argv + oci_g.cmd_index; *a; a++)
		rest++;
	const char **argv = calloc((size_t)rest + 12, sizeof(char *));
	if (!argv)
		exit(MOTE_STATUS_HOST);
	argv[n++] = "runc";
	argv[n++] = "--root";
	argv[n++] = root;
	if (oci_g.log) {
		argv[n++] = "--log";
		argv[n++] = oci_g.log;
		argv[n++] = "--log-format";
		argv[n++] = oci_g.log_format;
	}
	if (oci_g.debug)
		argv[n++] = "--debug";
	if (oci_g.systemd_cgroup)
		argv[n++] = "--systemd-cgroup";
	for (int i = 0; i < rest; i++)
		argv[n++] = oci_g.argv[oci_g.cmd_index + i];
	argv[n] = NULL;
	oci_log("debug", "delegating '%s' to %s --root %s", oci_g.argv[oci_g.cmd_index], runc_path(), root);
	execv(runc_path(), (char *const *)argv);
	struct mote_err err;
	mote_errnof(&err, MOTE_STATUS_HOST, errno, "cannot run %s (the runtime of ordinary bundles)",
		    runc_path());
	oci_die(&err);
}

int oci_runc_has(const char *id)
{
	char path[PATH_MAX];
	struct stat st;
	if (!oci_id_valid(id))
		return 0;
	snprintf(path, sizeof(path), "%s/runc/%s", oci_g.root, id);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Run one hook with `state` on its stdin; 0, or -1 with *err. */
static int run_hook(const struct oci_hook *h, const char *point, const char *state, struct mote_err *err)
{
	int in[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return mote_errnof(err, OCI_STATUS_HOOK, errno, "hook %s %s: pipe", point, h->path);
	pid_t pid = fork();
	if (pid < 0)
		return mote_errnof(err, OCI_STATUS_HOOK, errno, "hook %s %s: fork", point, h->path);
	if (pid == 0) {
		dup2(in[0], 0);
		const char *dflt[] = {h->path, NULL};
		static const char *noenv[] = {NULL};
		execve(h->path, (char *const *)(h->args && h->args[0] ? h->args : dflt),
		       (char *const *)(h->env ? h->env : noenv));
		fprintf(stderr, "mote-oci: hook %s %s: %s\n", point, h->path, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	signal(SIGPIPE, SIG_IGN);
	size_t len = strlen(state);
	if (write(in[1], state, len) != (ssize_t)len) {
		/* A hook that does not read its stdin is fine. */
	}
	close(in[1]);
	/* Wait at most its timeout (default 120 s), in 10 ms steps. */
	long limit_ms = (h->timeout_s ? h->timeout_s : 120) * 1000L;
	int status = 0;
	for (long waited = 0;; waited += 10) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0)
			return mote_errnof(err, OCI_STATUS_HOOK, errno, "hook %s %s: wait", point, h->path);
		if (waited >= limit_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return mote_errf(err, OCI_STATUS_HOOK, "hook %s %s: timed out after %d s", point,
					 h->path, (int)(limit_ms / 1000));
		}
		poll(NULL, 0, 10);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return mote_errf(err, OCI_STATUS_HOOK, "hook %s %s: exited with status %d", point, h->path,
				 WEXITSTATUS(status));
	return mote_errf(err, OCI_STATUS_HOOK, "hook %s %s: killed by signal %d", point, h->path,
			 WTERMSIG(status));
}

int oci_run_hooks(const struct oci_spec *spec, enum oci_hook_point p, const char *state_json,
		  struct mote_err *err)
{
	for (int i = 0; i < spec->nhooks[p]; i++) {
		oci_log("debug", "hook %s: %s", oci_hook_name(p), spec->hooks[p][i].path);
		if (run_hook(&spec->hooks[p][i], oci_hook_name(p), state_json, err) < 0)
			return -1;
	}
	return 0;
}

/* The container id: the first argument after the command's options (runc's order). */
static const char *id_arg(int argc, char **argv, const char *cmd)
{
	for (int i = 1; i < argc; i++)
		if (argv[i][0] != '-')
			return argv[i];
	struct mote_err err;
	mote_errf(&err, MOTE_STATUS_USAGE, "%s: no container id given (usage: mote-oci %s [OPTIONS] ID)", cmd,
		  cmd);
	oci_die(&err);
}

/* Load `id`'s state, or hand the command to runc when runc has that container; exits when neither has it. */
static void load_or_delegate(const char *id, struct oci_state *st)
{
	struct mote_err err = {0};
	int r = oci_state_load(oci_g.root, id, st, &err);
	if (r < 0)
		oci_die(&err);
	if (r == 0)
		return;
	if (oci_runc_has(id))
		oci_exec_runc();
	mote_errf(&err, OCI_STATUS_NO_CONTAINER, "container %s does not exist", id);
	oci_die(&err);
}

static int cmd_state(int argc, char **argv)
{
	struct oci_state st;
	load_or_delegate(id_arg(argc, argv, "state"), &st);
	char *s = oci_state_json(&st, 1);
	printf("%s\n", s ? s : "{}");
	free(s);
	oci_state_close(&st);
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	int quiet = 0, json = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			quiet = 1;
		else if (!strcmp(argv[i], "--format=json") ||
			 ((!strcmp(argv[i], "-f") || !strcmp(argv[i], "--format")) && i + 1 < argc &&
			  !strcmp(argv[++i], "json")))
			json = 1;
	}
	DIR *d = opendir(oci_g.root);
	json_t *all = json_array();
	if (!quiet && !json)
		printf("%-20s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "runc"))
			continue;
		struct oci_state st;
		struct mote_err err = {0};
		if (oci_state_load(oci_g.root, e->d_name, &st, &err) != 0)
			continue;
		const char *status = oci_state_status(&st);
		int pid = strcmp(status, "stopped") ? st.pid : 0;
		if (quiet)
			printf("%s\n", st.id);
		else if (json)
			json_array_append_new(
			    all, json_pack("{s:s, s:i, s:s, s:s, s:s, s:O, s:s}", "ociVersion", "1.0.2",
					   "pid", pid, "id", st.id, "status", status, "bundle", st.bundle,
					   "annotations", st.annotations, "created", st.created));
		else
			printf("%-20s %-8d %-10s %-40s %s\n", st.id, pid, status, st.bundle, st.created);
		oci_state_close(&st);
	}
	if (d)
		closedir(d);
	if (json) {
		char *s = json_dumps(all, JSON_COMPACT);
		printf("%s\n", s ? s : "[]");
		free(s);
	}
	json_decref(all);
	return 0;
}

static int cmd_ps(int argc, char **argv)
{
	int json = 0;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--format=json") ||
		    ((!strcmp(argv[i], "-f") || !strcmp(argv[i], "--format")) && i + 1 < argc &&
		     !strcmp(argv[i + 1], "json")))
			json = 1;
	const char *id = NULL;
	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-f") || !strcmp(argv[i], "--format")) && i + 1 < argc) {
			i++;
			continue;
		}
		if (argv[i][0] != '-') {
			id = argv[i];
			break;
		}
	}
	if (!id)
		id = id_arg(argc, argv, "ps");
	struct oci_state st;
	load_or_delegate(id, &st);
	int alive = strcmp(oci_state_status(&st), "stopped") != 0;
	if (json)
		printf(alive ? "[%d]\n" : "[]\n", (int)st.pid);
	else {
		printf("PID   CMD\n");
		if (alive)
			printf("%-5d mote-vmm\n", (int)st.pid);
	}
	oci_state_close(&st);
	return 0;
}

static int cmd_features(int argc, char **argv)
{
	printf("{\n"
	       "  \"ociVersionMin\": \"1.0.0\",\n"
	       "  \"ociVersionMax\": \"1.1.0\",\n"
	       "  \"hooks\": [\"prestart\", \"createRuntime\", \"createContainer\", \"startContainer\", "
	       "\"poststart\", \"poststop\"],\n"
	       "  \"mountOptions\": [],\n"
	       "  \"linux\": {\n"
	       "    \"namespaces\": [\"cgroup\", \"ipc\", \"mount\", \"network\", \"pid\", \"uts\"],\n"
	       "    \"capabilities\": [],\n"
	       "    \"cgroup\": {\"v1\": true, \"v2\": true, \"systemd\": false, \"systemdUser\": false},\n"
	       "    \"seccomp\": {\"enabled\": false},\n"
	       "    \"apparmor\": {\"enabled\": false},\n"
	       "    \"selinux\": {\"enabled\": false}\n"
	       "  },\n"
	       "  \"annotations\": {\n"
	       "    \"org.mote.oci.version\": \"%s\",\n"
	       "    \"org.mote.oci.image-annotations\": \"org.mote.kernel org.mote.program org.mote.mem "
	       "com.urunc.unikernel.binary com.urunc.unikernel.cmdline com.urunc.unikernel.unikernelType "
	       "com.urunc.unikernel.hypervisor\",\n"
	       "    \"org.mote.oci.delegate\": \"runc\"\n"
	       "  }\n"
	       "}\n",
	       MOTE_OCI_VERSION);
	return 0;
}

static const char example_spec[] =
    "{\n"
    "  \"ociVersion\": \"1.0.2\",\n"
    "  \"process\": {\n"
    "    \"terminal\": false,\n"
    "    \"user\": {\"uid\": 0, \"gid\": 0},\n"
    "    \"args\": [\"/hello\"],\n"
    "    \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"HOME=/\"],\n"
    "    \"cwd\": \"/\",\n"
    "    \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}]\n"
    "  },\n"
    "  \"root\": {\"path\": \"rootfs\", \"readonly\": true},\n"
    "  \"hostname\": \"mote\",\n"
    "  \"annotations\": {\"org.mote.program\": \"/hello\", \"org.mote.mem\": \"64M\"},\n"
    "  \"linux\": {\n"
    "    \"resources\": {\"memory\": {\"limit\": 134217728}, \"cpu\": {\"quota\": 100000, \"period\": "
    "100000},\n"
    "                  \"pids\": {\"limit\": 64}},\n"
    "    \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"}, {\"type\": "
    "\"uts\"},\n"
    "                   {\"type\": \"mount\"}]\n"
    "  }\n"
    "}\n";

static int cmd_spec(int argc, char **argv)
{
	const char *bundle = ".";
	for (int i = 1; i < argc; i++)
		if ((!strcmp(argv[i], "--bundle") || !strcmp(argv[i], "-b")) && i + 1 < argc)
			bundle = argv[++i];
		else if (!strncmp(argv[i], "--bundle=", 9))
			bundle = argv[i] + 9;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	struct mote_err err = {0};
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		mote_errnof(&err, errno == EEXIST ? OCI_STATUS_EXISTS : MOTE_STATUS_HOST, errno, "spec: %s",
			    path);
		oci_die(&err);
	}
	size_t len = strlen(example_spec);
	if (write(fd, example_spec, len) != (ssize_t)len || close(fd) < 0) {
		mote_errnof(&err, MOTE_STATUS_HOST, errno, "spec: write %s", path);
		oci_die(&err);
	}
	return 0;
}

static int cmd_exec(int argc, char **argv)
{
	const char *id = NULL;
	for (int i = 1; i < argc && !id; i++)
		if (argv[i][0] != '-')
			id = argv[i];
	struct oci_state st;
	if (id)
		load_or_delegate(id, &st);
	struct mote_err err;
	mote_errf(&err, OCI_STATUS_EXEC_REFUSED,
		  "exec: a mote container is one program in one VM; it cannot run another process");
	oci_die(&err);
}

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: mote-oci [--root DIR] [--log FILE] [--log-format text|json] [--debug] "
	    "[--systemd-cgroup]\n"
	    "                COMMAND [OPTIONS] [ID]\n"
	    "An OCI runtime with runc's command line: bundles whose annotations (or rootfs\n"
	    "/.mote/annotations.json) name a mote image run as a microVM; others go to runc.\n"
	    "commands: create [--bundle B] [--pid-file F] [--console-socket S] [--no-pivot] [--preserve-fds "
	    "N] ID\n"
	    "          start ID | state ID | kill ID [SIGNAL] | delete [--force] ID | pause ID | resume ID\n"
	    "          run [--bundle B] [--detach] ... ID | list [-q] [--format json] | ps [--format json] "
	    "ID\n"
	    "          features | spec [--bundle B] | exec (refused: one program per VM) | --version\n"
	    "See docs/oci.md.\n");
}

int main(int argc, char **argv)
{
	oci_g.argv = argv;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		const char *names[] = {"--root", "--log", "--log-format", "--criu", "--rootless"};
		int matched = -1;
		for (int k = 0; k < 5; k++) {
			size_t n = strlen(names[k]);
			if (!strncmp(a, names[k], n) && (a[n] == 0 || a[n] == '=')) {
				matched = k;
				if (a[n] == '=')
					val = a + n + 1;
				else if (i + 1 < argc)
					val = argv[++i];
				break;
			}
		}
		if (matched >= 0) {
			if (!val) {
				fprintf(stderr, "mote-oci: %s needs a value\n", a);
				return MOTE_STATUS_USAGE;
			}
			if (matched == 0)
				oci_g.root = val;
			else if (matched == 1)
				oci_g.log = val;
			else if (matched == 2) {
				if (strcmp(val, "text") && strcmp(val, "json")) {
					fprintf(stderr, "mote-oci: --log-format '%s' is not text or json\n",
						val);
					return MOTE_STATUS_USAGE;
				}
				oci_g.log_format = val;
			}
			continue;
		}
		if (!strcmp(a, "--debug"))
			oci_g.debug = 1;
		else if (!strcmp(a, "--systemd-cgroup"))
			oci_g.systemd_cgroup = 1;
		else if (!strcmp(a, "--version") || !strcmp(a, "-v")) {
			printf("mote-oci version %s\nspec: 1.0.2\n", MOTE_OCI_VERSION);
			return 0;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "mote-oci: unknown global option '%s' (see mote-oci --help)\n", a);
			return MOTE_STATUS_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return MOTE_STATUS_USAGE;
	}
	if (oci_g.root[0] != '/') {
		static char abs_root[PATH_MAX];
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd)))
			return MOTE_STATUS_HOST;
		snprintf(abs_root, sizeof(abs_root), "%s/%s", cwd, oci_g.root);
		oci_g.root = abs_root;
	}
	oci_g.cmd_index = i;
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
	    {"create", oci_cmd_create}, {"start", oci_cmd_start},
	    {"run", oci_cmd_run},	{"state", cmd_state},
	    {"kill", oci_cmd_kill},	{"delete", oci_cmd_delete},
	    {"pause", oci_cmd_pause},	{"resume", oci_cmd_resume},
	    {"list", cmd_list},		{"ps", cmd_ps},
	    {"features", cmd_features}, {"spec", cmd_spec},
	    {"exec", cmd_exec},
	};
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
		if (!strcmp(argv[i], cmds[k].name))
			return cmds[k].fn(argc - i, argv + i);
	/* Commands mote-oci does not implement (update, events, checkpoint, ...) are runc's, for its
	 * containers. */
	const char *id = argc - i > 1 ? argv[argc - 1] : NULL;
	if (id && oci_runc_has(id))
		oci_exec_runc();
	fprintf(stderr, "mote-oci: unknown command '%s' (see mote-oci --help)\n", argv[i]);
	return MOTE_STATUS_USAGE;
}

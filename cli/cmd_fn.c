/* `mote serve`, `deploy`, `ls`, `logs`, `rm`, `invoke`: the function platform's commands (admin API clients).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin_client.h"
#include "cgroup.h"
#include "commands.h"
#include "err.h"
#include "rootfs.h"
#include "size.h"
#include "status.h"
#include "vmm_exec.h"

#define ENV_MAX 64

static void usage_fail(const char *cmd, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void usage_fail(const char *cmd, const char *fmt, ...)
{
	fprintf(stderr, "mote: %s: ", cmd);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see mote %s --help)\n", cmd);
	exit(MOTE_STATUS_USAGE);
}

/* ---- serve ------------------------------------------------------------------------------------------ */

int cmd_serve(int argc, char **argv)
{
	char gateway[PATH_MAX];
	if (mote_find_beside_self("mote-gateway", gateway, sizeof(gateway)) < 0) {
		fprintf(stderr, "mote: serve: cannot find mote-gateway beside this mote binary\n");
		return MOTE_STATUS_HOST;
	}
	argv[0] = gateway;
	execv(gateway, argv);
	fprintf(stderr, "mote: serve: cannot execute %s: %s\n", gateway, strerror(errno));
	return MOTE_STATUS_HOST;
}

/* ---- deploy ----------------------------------------------------------------------------------------- */

static void deploy_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: mote deploy NAME PATH [--runtime c|lua|node] [--mem SIZE] [--timeout S] [--env K=V]...\n"
	    "                   [--max-vms N] [--concurrency N] [--idle-timeout S] [--cpus N]\n"
	    "                   [--cpu-weight W] [--server SOCKET]\n"
	    "  PATH           a file (handler.lua for lua, a static ELF for c) or a directory holding\n"
	    "                 handler.lua or handler plus any data files\n"
	    "  --runtime R    c, lua or node (default: from PATH: *.lua or handler.lua is lua, an ELF is c,\n"
	    "                 *.js, *.mjs, *.cjs or a directory with package.json or handler.js is node)\n"
	    "  --mem SIZE     the function's VM memory (default 64M)\n"
	    "  --timeout S    per request (default 10 s; beyond it 504 and the VM is killed)\n"
	    "  --env K=V      environment variable for the function (repeatable)\n"
	    "  --max-vms N    most VMs serving it at once (default 4)\n"
	    "  --concurrency N  requests per VM before another VM starts (default 1; a VM serves one\n"
	    "                 request at a time, the others wait for it)\n"
	    "  --idle-timeout S  a warm VM unused this long ends (default: mote serve --idle, 300 s;\n"
	    "                 0: each VM serves one request)\n"
	    "  --cpus N       CPU quota of each of its VMs, a fraction of CPUs (0.25: 25 ms per\n"
	    "                 100 ms; default unlimited)\n"
	    "  --cpu-weight W CPU weight 1..10000 of each of its VMs against others (default 100)\n"
	    "  --server SOCKET  admin socket of mote serve (default $MOTE_SERVER, else the default\n"
	    "                 state dir's admin.sock)\n"
	    "Redeploying a name replaces it atomically. See docs/functions.md.\n");
}

/* Read a whole file into memory. */
static char *slurp_file(const char *path, size_t *len, struct mote_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		mote_errnof(err, MOTE_STATUS_HOST, errno, "cannot read %s", path);
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		mote_errnof(err, MOTE_STATUS_HOST, errno, "cannot read %s", path);
		return NULL;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!buf || got != (size_t)st.st_size) {
		free(buf);
		mote_errf(err, MOTE_STATUS_HOST, "cannot read %s", path);
		return NULL;
	}
	*len = got;
	return buf;
}

/* A single-file PATH's JavaScript extension (".js", ".mjs", ".cjs"), or NULL. */
static const char *js_extension(const char *path)
{
	const char *dot = strrchr(path, '.');
	return dot && (!strcmp(dot, ".js") || !strcmp(dot, ".mjs") || !strcmp(dot, ".cjs")) ? dot : NULL;
}

/* The runtime of a single-file PATH: .lua is lua, .js, .mjs and .cjs are node, an ELF file is c. NULL when
 * none. */
static const char *guess_runtime(const char *path)
{
	size_t n = strlen(path);
	if (n > 4 && !strcmp(path + n - 4, ".lua"))
		return "lua";
	if (js_extension(path))
		return "node";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char magic[4];
	ssize_t r = read(fd, magic, 4);
	close(fd);
	return r == 4 && !memcmp(magic, "\177ELF", 4) ? "c" : NULL;
}

int cmd_deploy(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"runtime", required_argument, NULL, 'r'},
	    {"mem", required_argument, NULL, 'm'},
	    {"timeout", required_argument, NULL, 't'},
	    {"env", required_argument, NULL, 'e'},
	    {"max-vms", required_argument, NULL, 'n'},
	    {"server", required_argument, NULL, 's'},
	    {"concurrency", required_argument, NULL, 'c'},
	    {"idle-timeout", required_argument, NULL, 'i'},
	    {"cpus", required_argument, NULL, 'C'},
	    {"cpu-weight", required_argument, NULL, 'W'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *runtime = NULL, *mem = NULL, *timeout = NULL, *max_vms = NULL, *server = NULL,
		   *concurrency = NULL, *idle = NULL, *cpus = NULL, *cpu_weight = NULL;
	const char *env[ENV_MAX];
	int nenv = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		uint64_t v;
		switch (c) {
		case 'r':
			if (!admin_runtime_known(optarg))
				usage_fail("deploy", "--runtime: '%s' is not c, lua or node", optarg);
			runtime = optarg;
			break;
		case 'm':
			if (mote_parse_size(optarg, &v) < 0 || v < (16ull << 20) || v > (32ull << 30))
				usage_fail("deploy", "--mem: '%s' is not a size between 16M and 32G", optarg);
			mem = optarg;
			break;
		case 't':
			if (mote_parse_duration(optarg, &v) < 0 || v < 1000000ull)
				usage_fail("deploy", "--timeout: '%s' is not a duration of at least 1ms",
					   optarg);
			timeout = optarg;
			break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=')
				usage_fail("deploy", "--env: '%s' is not K=V", optarg);
			if (nenv == ENV_MAX)
				usage_fail("deploy", "--env: more than %d variables", ENV_MAX);
			env[nenv++] = optarg;
			break;
		case 'n': max_vms = optarg; break;
		case 'c': {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);
			if (*end || !optarg[0] || optarg[0] == '-' || n < 1 || n > 1000)
				usage_fail("deploy", "--concurrency: '%s' is not a number from 1 to 1000",
					   optarg);
			concurrency = optarg;
			break;
		}
		case 'i':
			if (strcmp(optarg, "0") && (mote_parse_duration(optarg, &v) < 0 || v < 1000000ull))
				usage_fail("deploy",
					   "--idle-timeout: '%s' is not 0 or a duration of at least 1ms",
					   optarg);
			idle = optarg;
			break;
		case 'C':
			if (mote_parse_cpus(optarg, 100000, &v) < 0)
				usage_fail("deploy", "--cpus: '%s' is not a number of CPUs from 0.01 to 1024",
					   optarg);
			cpus = optarg;
			break;
		case 'W': {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);
			if (*end || !optarg[0] || optarg[0] == '-' || n < 1 || n > 10000)
				usage_fail("deploy", "--cpu-weight: '%s' is not a number from 1 to 10000",
					   optarg);
			cpu_weight = optarg;
			break;
		}
		case 's': server = optarg; break;
		case 'h': deploy_usage(stdout); return 0;
		default: usage_fail("deploy", "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 2) {
		deploy_usage(stderr);
		return MOTE_STATUS_USAGE;
	}
	const char *name = argv[optind], *path = argv[optind + 1];
	struct mote_err err = {0};
	struct stat st;
	if (stat(path, &st) < 0) {
		mote_errnof(&err, errno == ENOENT ? MOTE_STATUS_NOT_FOUND : MOTE_STATUS_HOST, errno,
			    "deploy: %s", path);
		mote_err_exit("mote", &err);
	}
	/* Pack PATH as the bundle image, in a private temporary directory. */
	char tmpdir[] = "/tmp/mote-deploy.XXXXXX";
	if (!mkdtemp(tmpdir)) {
		mote_errnof(&err, MOTE_STATUS_HOST, errno, "deploy: cannot create a temporary directory");
		mote_err_exit("mote", &err);
	}
	char image[sizeof(tmpdir) + 16];
	snprintf(image, sizeof(image), "%s/bundle.cpio", tmpdir);
	int r;
	if (S_ISDIR(st.st_mode)) {
		r = mote_rootfs_pack_dir(path, image, &err);
	} else if (S_ISREG(st.st_mode)) {
		if (!runtime)
			runtime = guess_runtime(path);
		if (!runtime) {
			rmdir(tmpdir);
			mote_errf(&err, MOTE_STATUS_USAGE,
				  "deploy: cannot tell the runtime of %s (not *.lua, *.js, *.mjs, *.cjs, not "
				  "an ELF "
				  "file): use "
				  "--runtime",
				  path);
			mote_err_exit("mote", &err);
		}
		/* A single JavaScript file keeps its extension, which tells Node CommonJS from an ES module.
		 */
		char js_name[16];
		snprintf(js_name, sizeof(js_name), "handler%s",
			 js_extension(path) ? js_extension(path) : ".js");
		struct mote_rootfs_file f = {.host_path = path,
					     .guest_path = !strcmp(runtime, "lua")    ? "handler.lua"
							   : !strcmp(runtime, "node") ? js_name
										      : "handler"};
		r = mote_rootfs_pack_files(&f, 1, image, &err);
	} else {
		rmdir(tmpdir);
		mote_errf(&err, MOTE_STATUS_NOT_FOUND, "deploy: %s is neither a file nor a directory", path);
		mote_err_exit("mote", &err);
	}
	size_t len = 0;
	char *body = r == 0 ? slurp_file(image, &len, &err) : NULL;
	unlink(image);
	rmdir(tmpdir);
	if (!body)
		mote_err_exit("mote", &err);

	/* PUT /functions/NAME?runtime=..&mem=..&timeout=..&max_vms=..&env=K%3DV... */
	size_t cap = 1024 + strlen(name) * 3, tl = 0;
	for (int i = 0; i < nenv; i++)
		cap += strlen(env[i]) * 3 + 8;
	char *target = malloc(cap);
	if (!target)
		return MOTE_STATUS_HOST;
	tl = (size_t)snprintf(target, cap, "/functions/");
	url_escape(name, target, cap, &tl);
	char sep = '?';
	const char *keys[] = {"runtime",     "mem",	     "timeout", "max_vms",
			      "concurrency", "idle_timeout", "cpus",	"cpu_weight"};
	const char *vals[] = {runtime, mem, timeout, max_vms, concurrency, idle, cpus, cpu_weight};
	for (int i = 0; i < 8; i++) {
		if (!vals[i])
			continue;
		tl += (size_t)snprintf(target + tl, cap - tl, "%c%s=", sep, keys[i]);
		url_escape(vals[i], target, cap, &tl);
		sep = '&';
	}
	for (int i = 0; i < nenv; i++) {
		tl += (size_t)snprintf(target + tl, cap - tl, "%cenv=", sep);
		url_escape(env[i], target, cap, &tl);
		sep = '&';
	}
	const char *headers[] = {"Content-Type: application/x-cpio"};
	struct mote_http_response res;
	admin_call(server, "PUT", target, body, len, headers, 1, &res);
	free(body);
	free(target);
	char what[128];
	snprintf(what, sizeof(what), "deploy %s", name);
	if (res.head.status != 200 && res.head.status != 201)
		admin_fail(what, &res);
	json_t *j = admin_json(&res);
	if (!j) {
		fprintf(stderr, "mote: %s: the server's answer is not JSON\n", what);
		return MOTE_STATUS_SERVER_ERROR;
	}
	printf("%s %s version %lld (%s, bundle %.12s, %lld bytes)\n",
	       res.head.status == 201 ? "deployed" : "redeployed", name,
	       (long long)json_integer_value(json_object_get(j, "version")),
	       json_string_value(json_object_get(j, "runtime")),
	       json_string_value(json_object_get(j, "bundle")),
	       (long long)json_integer_value(json_object_get(j, "bundle_size")));
	json_decref(j);
	mote_http_response_free(&res);
	return 0;
}

/* ---- ls, logs, rm ----------------------------------------------------------------------------------- */

/* Parse the common "--server SOCKET" and "--help" of the small commands; returns the first operand's index.
 */
static int simple_opts(const char *cmd, const char *usage, int argc, char **argv, const char **server,
		       const char **tail)
{
	static const struct option opts[] = {
	    {"server", required_argument, NULL, 's'},
	    {"tail", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': *server = optarg; break;
		case 't':
			if (!tail)
				usage_fail(cmd, "unknown option --tail");
			*tail = optarg;
			break;
		case 'h': printf("usage: %s\n", usage); exit(0);
		default: usage_fail(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	return optind;
}

int cmd_ls(int argc, char **argv)
{
	const char *server = NULL;
	int i =
	    simple_opts("ls", "mote ls [--server SOCKET]: the deployed functions", argc, argv, &server, NULL);
	if (i != argc)
		usage_fail("ls", "unexpected argument '%s'", argv[i]);
	struct mote_http_response res;
	admin_call(server, "GET", "/functions", NULL, 0, NULL, 0, &res);
	if (res.head.status != 200)
		admin_fail("ls", &res);
	json_t *j = admin_json(&res), *list = j ? json_object_get(j, "functions") : NULL;
	if (!json_is_array(list)) {
		fprintf(stderr, "mote: ls: the server's answer is not a function list\n");
		return MOTE_STATUS_SERVER_ERROR;
	}
	printf("%-20s %-7s %7s  %-20s  %s\n", "NAME", "RUNTIME", "VERSION", "DEPLOYED", "STATE");
	size_t k;
	json_t *f;
	json_array_foreach(list, k, f)
	{
		json_t *vms = json_object_get(f, "vms");
		printf("%-20s %-7s %7lld  %-20s  %s (%lld idle, %lld busy, %lld starting, %lld queued)\n",
		       json_string_value(json_object_get(f, "name")),
		       json_string_value(json_object_get(f, "runtime")),
		       (long long)json_integer_value(json_object_get(f, "version")),
		       json_string_value(json_object_get(f, "deployed_at")),
		       json_string_value(json_object_get(f, "state")),
		       (long long)json_integer_value(json_object_get(vms, "idle")),
		       (long long)json_integer_value(json_object_get(vms, "busy")),
		       (long long)json_integer_value(json_object_get(vms, "starting")),
		       (long long)json_integer_value(json_object_get(f, "queued")));
	}
	json_decref(j);
	mote_http_response_free(&res);
	return 0;
}

/* "/functions/NAME" + suffix, NAME escaped. */
static char *function_target(const char *name, const char *suffix)
{
	size_t cap = strlen(name) * 3 + strlen(suffix) + 32, len = 0;
	char *t = malloc(cap);
	if (!t)
		exit(MOTE_STATUS_HOST);
	len = (size_t)snprintf(t, cap, "/functions/");
	url_escape(name, t, cap, &len);
	snprintf(t + len, cap - len, "%s", suffix);
	return t;
}

int cmd_logs(int argc, char **argv)
{
	const char *server = NULL, *tail = NULL;
	int i = simple_opts("logs", "mote logs NAME [--tail BYTES] [--server SOCKET]: the function's output",
			    argc, argv, &server, &tail);
	if (argc - i != 1)
		usage_fail("logs", "expects one function NAME");
	uint64_t n;
	if (tail && mote_parse_size(tail, &n) < 0)
		usage_fail("logs", "--tail: '%s' is not a number of bytes", tail);
	char suffix[64];
	snprintf(suffix, sizeof(suffix), "/logs%s%llu", tail ? "?tail=" : "",
		 tail ? (unsigned long long)n : 0ull);
	if (!tail)
		snprintf(suffix, sizeof(suffix), "/logs");
	char *target = function_target(argv[i], suffix);
	struct mote_http_response res;
	admin_call(server, "GET", target, NULL, 0, NULL, 0, &res);
	free(target);
	char what[128];
	snprintf(what, sizeof(what), "logs %s", argv[i]);
	if (res.head.status != 200)
		admin_fail(what, &res);
	fwrite(res.body, 1, res.body_len, stdout);
	mote_http_response_free(&res);
	return 0;
}

int cmd_rm(int argc, char **argv)
{
	const char *server = NULL;
	int i =
	    simple_opts("rm", "mote rm NAME [--server SOCKET]: remove a function", argc, argv, &server, NULL);
	if (argc - i != 1)
		usage_fail("rm", "expects one function NAME");
	char *target = function_target(argv[i], "");
	struct mote_http_response res;
	admin_call(server, "DELETE", target, NULL, 0, NULL, 0, &res);
	free(target);
	char what[128];
	snprintf(what, sizeof(what), "rm %s", argv[i]);
	if (res.head.status != 200)
		admin_fail(what, &res);
	printf("removed %s\n", argv[i]);
	mote_http_response_free(&res);
	return 0;
}

/* ---- invoke ----------------------------------------------------------------------------------------- */

static void invoke_usage(FILE *out)
{
	fprintf(out, "usage: mote invoke NAME [--data D|@FILE] [--method M] [--path P] [--header K:V]...\n"
		     "                   [--server SOCKET]\n"
		     "  --data D       request body (@FILE: the file's bytes); the method is then POST\n"
		     "  --method M     HTTP method (default GET, or POST with --data)\n"
		     "  --path P       path (and ?query) after /fn/NAME, e.g. /users/1?x=2 (default /)\n"
		     "  --header K:V   request header (repeatable)\n"
		     "Prints the response body; exits 0 for a 2xx status, 83 otherwise.\n");
}

static int token_ok(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("!#$%&'*+-.^_`|~", c)))
			return 0;
	}
	return 1;
}

int cmd_invoke(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"data", required_argument, NULL, 'd'},
	    {"method", required_argument, NULL, 'm'},
	    {"path", required_argument, NULL, 'p'},
	    {"header", required_argument, NULL, 'H'},
	    {"server", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *data = NULL, *method = NULL, *path = "/", *server = NULL;
	const char **headers = calloc((size_t)argc + 1, sizeof(char *));
	size_t nheaders = 0;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'm':
			if (!token_ok(optarg, strlen(optarg)))
				usage_fail("invoke", "--method: '%s' is not an HTTP method", optarg);
			method = optarg;
			break;
		case 'p':
			if (optarg[0] != '/' || strpbrk(optarg, " \r\n"))
				usage_fail("invoke", "--path: '%s' must start with / and hold no spaces",
					   optarg);
			path = optarg;
			break;
		case 'H': {
			const char *colon = strchr(optarg, ':');
			if (!colon || !token_ok(optarg, (size_t)(colon - optarg)) || strpbrk(optarg, "\r\n"))
				usage_fail("invoke", "--header: '%s' is not NAME:VALUE", optarg);
			headers[nheaders++] = optarg;
			break;
		}
		case 's': server = optarg; break;
		case 'h':
			invoke_usage(stdout);
			free(headers);
			return 0;
		default: usage_fail("invoke", "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 1) {
		invoke_usage(stderr);
		free(headers);
		return MOTE_STATUS_USAGE;
	}
	const char *name = argv[optind];
	struct mote_err err = {0};
	char *body = NULL;
	size_t body_len = 0;
	if (data && data[0] == '@') {
		body = slurp_file(data + 1, &body_len, &err);
		if (!body)
			mote_err_exit("mote", &err);
	} else if (data) {
		body = strdup(data);
		body_len = strlen(data);
	}
	if (!method)
		method = data ? "POST" : "GET";
	size_t cap = strlen(name) * 3 + strlen(path) + 16, tl = 0;
	char *target = malloc(cap);
	tl = (size_t)snprintf(target, cap, "/invoke/");
	url_escape(name, target, cap, &tl);
	snprintf(target + tl, cap - tl, "%s", path);
	struct mote_http_response res;
	admin_call(server, method, target, body, body_len, headers, nheaders, &res);
	free(target);
	free(body);
	free(headers);
	int status = res.head.status;
	const struct mote_http_header *h = mote_http_find_header(&res.head, "x-mote-error");
	if (!h) { /* the function's own answer; a gateway error's text is not the function's output */
		fwrite(res.body, 1, res.body_len, stdout);
		fflush(stdout);
	}
	int rc = 0;
	if (h && h->value_len == 11 && !memcmp(h->value, "no_function", 11)) {
		fprintf(stderr, "mote: invoke: no function '%s'\n", name);
		rc = MOTE_STATUS_NO_FUNCTION;
	} else if (h) {
		fprintf(stderr, "mote: invoke %s: HTTP %d (%.*s; see mote logs %s)\n", name, status,
			(int)h->value_len, h->value, name);
		rc = MOTE_STATUS_FN_ERROR;
	} else if (status < 200 || status > 299) {
		fprintf(stderr, "mote: invoke %s: the function answered HTTP %d\n", name, status);
		rc = MOTE_STATUS_FN_ERROR;
	}
	mote_http_response_free(&res);
	return rc;
}

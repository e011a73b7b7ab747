/* `mote base build`, `activate`, `ls`: the bases under every function (admin API clients). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_client.h"
#include "commands.h"
#include "err.h"
#include "status.h"

static void base_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: mote base build [--runtime c|lua|node] [--kernel FILE] [--runtime-program PATH] "
	    "[--activate]\n"
	    "       mote base activate ID\n"
	    "       mote base ls\n"
	    "  (each takes --server SOCKET: the admin socket of mote serve, default $MOTE_SERVER, else the\n"
	    "  default state dir's admin.sock)\n"
	    "  build      boot the runtime on the kernel and snapshot it, beside the bases in use; prints "
	    "the\n"
	    "             new base's id. --kernel and --runtime-program default to the installed files,\n"
	    "             --runtime to what the program's name says (mote-lua, mote-c-init). For node\n"
	    "             the runtime program is a root file system: a directory or a cpio image with\n"
	    "             /usr/bin/node and /mote/bootstrap.js (docs/node.md). --activate\n"
	    "             switches to it once built (the first base of a runtime is activated anyway)\n"
	    "  activate   new VMs of the base's runtime come from base ID (a prefix of 8 or more digits);\n"
	    "             VMs of the previous base end after their request. Activating the previous base\n"
	    "             is the rollback\n"
	    "  ls         the bases, their state and what uses them\n"
	    "See docs/functions.md, \"Bases and upgrades\".\n");
}

static void usage_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void usage_fail(const char *fmt, ...)
{
	fprintf(stderr, "mote: base: ");
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see mote base --help)\n");
	exit(MOTE_STATUS_USAGE);
}

/* The runtime a program's file name names, or NULL. */
static const char *runtime_of_program(const char *path)
{
	const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
	if (!strncmp(name, "mote-lua", 8))
		return "lua";
	if (!strncmp(name, "mote-c-init", 11))
		return "c";
	return NULL;
}

/* FILE as an absolute path (the gateway reads it), or exit 66 with one line. */
static void absolute(const char *flag, const char *path, char *out)
{
	if (!realpath(path, out)) {
		struct mote_err err = {0};
		mote_errnof(&err, errno == ENOENT ? MOTE_STATUS_NOT_FOUND : MOTE_STATUS_HOST, errno,
			    "base build: %s %s", flag, path);
		mote_err_exit("mote", &err);
	}
}

static int base_build_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"runtime", required_argument, NULL, 'r'},
	    {"kernel", required_argument, NULL, 'k'},
	    {"runtime-program", required_argument, NULL, 'p'},
	    {"activate", no_argument, NULL, 'a'},
	    {"server", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *runtime = NULL, *kernel = NULL, *program = NULL, *server = NULL;
	int activate = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (!admin_runtime_known(optarg))
				usage_fail("--runtime: '%s' is not c, lua or node", optarg);
			runtime = optarg;
			break;
		case 'k': kernel = optarg; break;
		case 'p': program = optarg; break;
		case 'a': activate = 1; break;
		case 's': server = optarg; break;
		case 'h': base_usage(stdout); return 0;
		default: usage_fail("build: unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		usage_fail("build: unexpected argument '%s'", argv[optind]);
	if (!runtime && program)
		runtime = runtime_of_program(program);
	if (!runtime)
		usage_fail("build: --runtime is needed (c, lua or node): %s",
			   program ? "the program's name does not tell" : "no --runtime-program to tell");
	char kabs[PATH_MAX], pabs[PATH_MAX], target[3 * 2 * PATH_MAX + 128];
	size_t tl = (size_t)snprintf(target, sizeof(target), "/bases?runtime=%s", runtime);
	if (kernel) {
		absolute("--kernel", kernel, kabs);
		tl += (size_t)snprintf(target + tl, sizeof(target) - tl, "&kernel=");
		url_escape(kabs, target, sizeof(target), &tl);
	}
	if (program) {
		absolute("--runtime-program", program, pabs);
		tl += (size_t)snprintf(target + tl, sizeof(target) - tl, "&program=");
		url_escape(pabs, target, sizeof(target), &tl);
	}
	if (activate)
		snprintf(target + tl, sizeof(target) - tl, "&activate=1");
	struct mote_http_response res;
	admin_call(server, "POST", target, NULL, 0, NULL, 0, &res);
	if (res.head.status != 200 && res.head.status != 201)
		admin_fail("base build", &res);
	json_t *j = admin_json(&res);
	const char *id = j ? json_string_value(json_object_get(j, "id")) : NULL;
	if (!id) {
		fprintf(stderr, "mote: base build: the server's answer is not a base\n");
		return MOTE_STATUS_SERVER_ERROR;
	}
	printf("%s\n", id);
	json_decref(j);
	mote_http_response_free(&res);
	return 0;
}

static int simple_opts(const char *cmd, int argc, char **argv, const char **server)
{
	static const struct option opts[] = {
	    {"server", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': *server = optarg; break;
		case 'h': base_usage(stdout); exit(0);
		default: usage_fail("%s: unknown or incomplete option '%s'", cmd, argv[optind - 1]);
		}
	}
	return optind;
}

static int base_activate_cmd(int argc, char **argv)
{
	const char *server = NULL;
	int i = simple_opts("activate", argc, argv, &server);
	if (argc - i != 1)
		usage_fail("activate: expects one base ID");
	const char *id = argv[i];
	size_t n = strlen(id);
	if (n < 8 || n > 64 || strspn(id, "0123456789abcdef") != n)
		usage_fail("activate: '%s' is not a base id (8 to 64 lower-case hex digits)", id);
	char target[128];
	snprintf(target, sizeof(target), "/bases/%s/activate", id);
	struct mote_http_response res;
	admin_call(server, "POST", target, NULL, 0, NULL, 0, &res);
	if (res.head.status != 200)
		admin_fail("base activate", &res);
	json_t *j = admin_json(&res), *b = j ? json_object_get(j, "base") : NULL;
	const char *full = b ? json_string_value(json_object_get(b, "id")) : NULL;
	const char *prev = j ? json_string_value(json_object_get(j, "previous")) : NULL;
	if (!full) {
		fprintf(stderr, "mote: base activate: the server's answer is not a base\n");
		return MOTE_STATUS_SERVER_ERROR;
	}
	printf("activated base %s (%s)", full, json_string_value(json_object_get(b, "runtime")));
	if (prev)
		printf(", was %.12s", prev);
	else
		printf(", already active");
	printf("\n");
	json_decref(j);
	mote_http_response_free(&res);
	return 0;
}

static int base_ls_cmd(int argc, char **argv)
{
	const char *server = NULL;
	int i = simple_opts("ls", argc, argv, &server);
	if (i != argc)
		usage_fail("ls: unexpected argument '%s'", argv[i]);
	struct mote_http_response res;
	admin_call(server, "GET", "/bases", NULL, 0, NULL, 0, &res);
	if (res.head.status != 200)
		admin_fail("base ls", &res);
	json_t *j = admin_json(&res), *list = j ? json_object_get(j, "bases") : NULL;
	if (!json_is_array(list)) {
		fprintf(stderr, "mote: base ls: the server's answer is not a base list\n");
		return MOTE_STATUS_SERVER_ERROR;
	}
	printf("%-12s  %-7s  %-8s  %-20s  %-10s  %4s  %s\n", "ID", "RUNTIME", "STATE", "CREATED", "MEM",
	       "VMS", "FUNCTIONS");
	size_t k;
	json_t *b;
	json_array_foreach(list, k, b)
	{
		char mems[128] = "", fns[512] = "";
		size_t ml = 0, fl = 0, x;
		json_t *v;
		json_array_foreach(json_object_get(b, "mems"), x, v)
		{
			ml += (size_t)snprintf(mems + ml, sizeof(mems) - ml, "%s%lldM", ml ? "," : "",
					       (long long)(json_integer_value(v) >> 20));
			if (ml >= sizeof(mems))
				ml = sizeof(mems) - 1;
		}
		json_array_foreach(json_object_get(b, "functions"), x, v)
		{
			fl += (size_t)snprintf(fns + fl, sizeof(fns) - fl, "%s%s(%lld)", fl ? "," : "",
					       json_string_value(json_object_get(v, "name")),
					       (long long)json_integer_value(json_object_get(v, "vms")));
			if (fl >= sizeof(fns))
				fl = sizeof(fns) - 1;
		}
		long long serves = (long long)json_integer_value(json_object_get(b, "serves"));
		if (!fns[0] && serves)
			snprintf(fns, sizeof(fns), "(new VMs of %lld functions)", serves);
		printf("%-12.12s  %-7s  %-8s  %-20s  %-10s  %4lld  %s\n",
		       json_string_value(json_object_get(b, "id")),
		       json_string_value(json_object_get(b, "runtime")),
		       json_string_value(json_object_get(b, "state")),
		       json_string_value(json_object_get(b, "created_at")), mems[0] ? mems : "-",
		       (long long)json_integer_value(json_object_get(b, "vms")), fns[0] ? fns : "-");
	}
	json_decref(j);
	mote_http_response_free(&res);
	return 0;
}

int cmd_base(int argc, char **argv)
{
	if (argc < 2) {
		base_usage(stderr);
		return MOTE_STATUS_USAGE;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		base_usage(stdout);
		return 0;
	}
	if (!strcmp(sub, "build"))
		return base_build_cmd(argc - 1, argv + 1);
	if (!strcmp(sub, "activate"))
		return base_activate_cmd(argc - 1, argv + 1);
	if (!strcmp(sub, "ls"))
		return base_ls_cmd(argc - 1, argv + 1);
	usage_fail("unknown subcommand '%s' (build, activate or ls)", sub);
}

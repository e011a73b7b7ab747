/* mote-gateway (`mote serve`): the function platform's daemon: flags, state dir, start-up recovery, event
 * loop, shutdown. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "base.h"
#include "bundle.h"
#include "deploy.h"
#include "fn.h"
#include "layers.h"
#include "gateway.h"
#include "http.h"
#include "pool.h"
#include "registry.h"
#include "size.h"
#include "statedir.h"
#include "status.h"
#include "vlog.h"
#include "vm.h"

struct gateway gw;

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: mote serve [--listen ADDR:PORT] [--state DIR] [--admin SOCKET]\n"
	    "                  [--body-max SIZE] [--bundle-max SIZE] [--queue N] [--queue-wait S]\n"
	    "                  [--idle S] [--start-timeout S] [--pool SPEC] [--pool-rate N] [--max-vms N]\n"
	    "                  [--memory-budget SIZE] [--metrics-listen ADDR:PORT] [--drain-timeout S]\n"
	    "                  [--verbose] [--no-layers] [--layer-min-load MS] [--vmm PATH] [--kernel PATH]\n"
	    "                  [--runtimes DIR]\n"
	    "  --listen ADDR:PORT  public endpoint, ANY /fn/NAME[/REST] (default %s; port 0: any free port)\n"
	    "  --state DIR         registry, bundles, bases and logs (default /var/lib/mote for root,\n"
	    "                      else $XDG_STATE_HOME/mote or ~/.local/state/mote)\n"
	    "  --admin SOCKET      admin API unix socket (default DIR/admin.sock, mode 0600)\n"
	    "  --body-max SIZE     largest public request body (default 6M; beyond: 413)\n"
	    "  --bundle-max SIZE   largest bundle a deploy may upload (default 64M)\n"
	    "  --queue N           requests that may wait per function (default %u; beyond: 503)\n"
	    "  --queue-wait S      how long a request may wait for a VM (default %u s; then 503)\n"
	    "  --idle S            a warm VM unused this long is ended (default %u s; 0: a VM serves one\n"
	    "                      request and ends, so that every request is a cold start); the default\n"
	    "                      of mote deploy --idle-timeout\n"
	    "  --start-timeout S   a VM must load its function within this (default %u s)\n"
	    "  --pool SPEC         paused VMs kept restored per base: RUNTIME=N, RUNTIME:MEM=N (kept full\n"
	    "                      from the start) and N (any other base a function uses; default %u),\n"
	    "                      comma-separated, e.g. lua=8,c=4; 0: no pools\n"
	    "  --pool-rate N       pool restores per second at most (default %u)\n"
	    "  --max-vms N         VM processes at most, pooled ones included (default %u)\n"
	    "  --memory-budget SIZE  memory charged at most: 1M per pooled VM, the guest RAM per attached\n"
	    "                      one (default half the host's memory)\n"
	    "  --metrics-listen ADDR:PORT  also serve GET /metrics on this TCP address\n"
	    "  --drain-timeout S   on SIGTERM, how long in-flight requests may take (default %u s)\n"
	    "  --verbose           one line on stderr per VM lifecycle event\n"
	    "  --no-layers         take and use no per-function layers (docs/functions.md, \"Layers\")\n"
	    "  --layer-min-load MS a function whose load took this long starts from its layer even when a\n"
	    "                      pooled VM waits (default %u; 0: always from its layer)\n"
	    "  --vmm, --kernel, --runtimes  mote-vmm, the guest kernel and the runtimes directory\n"
	    "                      (default: found beside this program)\n",
	    GW_DEFAULT_LISTEN, GW_DEFAULT_QUEUE, GW_DEFAULT_QUEUE_WAIT_MS / 1000, GW_DEFAULT_IDLE_MS / 1000,
	    GW_DEFAULT_START_MS / 1000, SIZING_DEFAULT_POOL, GW_DEFAULT_POOL_RATE, GW_DEFAULT_TOTAL_VMS,
	    GW_DEFAULT_DRAIN_MS / 1000, GW_DEFAULT_LAYER_MIN_LOAD_MS);
}

static void __attribute__((noreturn)) die(const struct mote_err *err)
{
	mote_err_exit("mote", err);
}

static void usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void usage_error(const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mote: serve: %s\n", msg);
	exit(MOTE_STATUS_USAGE);
}

static uint64_t parse_size_flag(const char *flag, const char *v)
{
	uint64_t n;
	if (mote_parse_size(v, &n) < 0 || n == 0)
		usage_error("%s: '%s' is not a size like 6M", flag, v);
	return n;
}

static uint64_t parse_ms_flag(const char *flag, const char *v)
{
	uint64_t ns;
	if (mote_parse_duration(v, &ns) < 0 || ns < 1000000ull || ns / 1000000ull > 24ull * 3600 * 1000)
		usage_error("%s: '%s' is not a duration like 10 or 0.5", flag, v);
	return ns / 1000000ull;
}

/* Whole milliseconds, 0 to one minute. */
static uint64_t parse_count_ms(const char *flag, const char *v)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || n > 60000)
		usage_error("%s: '%s' is not a whole number of milliseconds from 0 to 60000", flag, v);
	return n;
}

/* mkdir -p, mode 0700 for what is created. */
static int make_dirs(const char *path, struct mote_err *err)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *s = buf + 1;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = 0;
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return mote_errnof(err, MOTE_STATUS_HOST, errno, "cannot create %s", buf);
		*s = c;
		if (!c)
			break;
	}
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return mote_errf(err, MOTE_STATUS_HOST, "%s is not a directory", path);
	return 0;
}

/* The first of the candidate paths that exists, else the first one. */
static void find_file(char *out, size_t size, const char *dir, const char *const *candidates)
{
	for (int i = 0; candidates[i]; i++) {
		snprintf(out, size, "%s/%s", dir, candidates[i]);
		if (access(out, F_OK) == 0)
			return;
	}
	snprintf(out, size, "%s/%s", dir, candidates[0]);
}

static void find_tools(const char *vmm, const char *kernel, const char *runtimes)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = 0;
	const char *dir = dirname(self);
	static const char *const vmms[] = {"mote-vmm", "../../bin/mote-vmm", "../bin/mote-vmm", NULL};
	static const char *const kernels[] = {"mote-kernel", "../lib/mote/mote-kernel", NULL};
	static const char *const rts[] = {"runtimes", "../runtimes", "../lib/mote/runtimes", NULL};
	if (vmm)
		snprintf(gw.vmm, sizeof(gw.vmm), "%s", vmm);
	else
		find_file(gw.vmm, sizeof(gw.vmm), dir, vmms);
	if (kernel)
		snprintf(gw.kernel, sizeof(gw.kernel), "%s", kernel);
	else
		find_file(gw.kernel, sizeof(gw.kernel), dir, kernels);
	if (runtimes)
		snprintf(gw.runtimes_dir, sizeof(gw.runtimes_dir), "%s", runtimes);
	else
		find_file(gw.runtimes_dir, sizeof(gw.runtimes_dir), dir, rts);
	/* mote-vmm gets these paths; make them absolute so its working directory does not matter. */
	char *paths[] = {gw.vmm, gw.kernel, gw.runtimes_dir};
	for (int i = 0; i < 3; i++) {
		char real[PATH_MAX];
		if (realpath(paths[i], real))
			snprintf(paths[i], PATH_MAX, "%s", real);
	}
}

/* Take the state dir's lock (two gateways never share a state dir). */
static int lock_state(struct mote_err *err)
{
	char path[PATH_MAX + 8];
	snprintf(path, sizeof(path), "%s/lock", gw.state_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "cannot open %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		char pid[32] = "?";
		ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 1] = 0;
		pid[strcspn(pid, "\n")] = 0;
		close(fd);
		return mote_errf(err, MOTE_STATUS_HOST,
				 "state dir %s is in use by another mote serve (pid %s)", gw.state_dir, pid);
	}
	char text[32];
	int len = snprintf(text, sizeof(text), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t)len, 0) != len)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "cannot write %s", path);
	return fd; /* kept open (and locked) until exit */
}

static int bundle_referenced(const char *hash, void *arg)
{
	return registry_bundle_in_use(gw.reg, hash);
}

/* Remove what a gateway killed mid-way may have left: temporary files and unreferenced bundles. */
static void recover(void)
{
	bundle_gc(gw.bundles_dir, bundle_referenced, NULL);
	char cmd_dir[PATH_MAX + 32];
	snprintf(cmd_dir, sizeof(cmd_dir), "%s", gw.bases_dir);
	DIR *d = opendir(cmd_dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, ".tmp-", 5) != 0)
			continue;
		char tmp[PATH_MAX + 300];
		snprintf(tmp, sizeof(tmp), "%s/%s", gw.bases_dir, de->d_name);
		DIR *t = opendir(tmp);
		if (t) {
			struct dirent *e;
			while ((e = readdir(t))) {
				char f[PATH_MAX + 600];
				if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
					continue;
				snprintf(f, sizeof(f), "%s/%s", tmp, e->d_name);
				unlink(f);
			}
			closedir(t);
		}
		rmdir(tmp);
	}
	closedir(d);
}

static int stopping, signals;

static void on_signal(h2o_socket_t *sock, const char *err)
{
	struct signalfd_siginfo si;
	while (read(h2o_socket_get_fd(sock), &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP) {
			stopping = (int)si.ssi_signo;
			signals++;
		}
}

static unsigned parse_count_flag(const char *flag, const char *v, unsigned lo, unsigned hi)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(v, &end, 10);
	if (*end || !v[0] || v[0] == '-' || errno || n < lo || n > hi)
		usage_error("%s: '%s' is not a number from %u to %u", flag, v, lo, hi);
	return (unsigned)n;
}

/* MemTotal of this host, bytes (0 if unknown). */
static uint64_t host_memory(void)
{
	char buf[4096];
	int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return sizing_parse_meminfo(buf);
}

/* Each VM holds a few fds in the gateway (control socket, output pipe, pidfd, doorbells, invoke memfd). */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"state", required_argument, NULL, 's'},
	    {"admin", required_argument, NULL, 'a'},
	    {"body-max", required_argument, NULL, 'b'},
	    {"bundle-max", required_argument, NULL, 'B'},
	    {"queue", required_argument, NULL, 'q'},
	    {"queue-wait", required_argument, NULL, 'w'},
	    {"idle", required_argument, NULL, 'i'},
	    {"start-timeout", required_argument, NULL, 't'},
	    {"pool", required_argument, NULL, 'P'},
	    {"pool-rate", required_argument, NULL, 'r'},
	    {"max-vms", required_argument, NULL, 'm'},
	    {"memory-budget", required_argument, NULL, 'M'},
	    {"metrics-listen", required_argument, NULL, 'L'},
	    {"drain-timeout", required_argument, NULL, 'd'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"no-layers", no_argument, NULL, 'N'},
	    {"layer-min-load", required_argument, NULL, 'Y'},
	    {"vmm", required_argument, NULL, 'V'},
	    {"kernel", required_argument, NULL, 'K'},
	    {"runtimes", required_argument, NULL, 'R'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *listen_addr = GW_DEFAULT_LISTEN, *state = NULL, *admin = NULL, *vmm = NULL,
		   *kernel = NULL, *runtimes = NULL, *metrics_addr = NULL;
	char why[300];
	gw.body_max = GW_DEFAULT_BODY_MAX;
	gw.bundle_max = GW_DEFAULT_BUNDLE_MAX;
	gw.queue_max = GW_DEFAULT_QUEUE;
	gw.queue_wait_ms = GW_DEFAULT_QUEUE_WAIT_MS;
	gw.idle_ms = GW_DEFAULT_IDLE_MS;
	gw.start_ms = GW_DEFAULT_START_MS;
	gw.drain_ms = GW_DEFAULT_DRAIN_MS;
	gw.layer_min_load_ms = GW_DEFAULT_LAYER_MIN_LOAD_MS;
	gw.pool_rate = GW_DEFAULT_POOL_RATE;
	gw.cap.max_vms = GW_DEFAULT_TOTAL_VMS;
	gw.cap.budget = 0;
	gw.pools.default_size = SIZING_DEFAULT_POOL;
	opterr = 0;
	int c, no_layers = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen_addr = optarg; break;
		case 's': state = optarg; break;
		case 'a': admin = optarg; break;
		case 'b': gw.body_max = parse_size_flag("--body-max", optarg); break;
		case 'B': gw.bundle_max = parse_size_flag("--bundle-max", optarg); break;
		case 'q': {
			char *end;
			unsigned long q = strtoul(optarg, &end, 10);
			if (*end || !optarg[0] || q > 100000)
				usage_error("--queue: '%s' is not a number from 0 to 100000", optarg);
			gw.queue_max = (uint32_t)q;
			break;
		}
		case 'w': gw.queue_wait_ms = parse_ms_flag("--queue-wait", optarg); break;
		case 'i': gw.idle_ms = strcmp(optarg, "0") ? parse_ms_flag("--idle", optarg) : 0; break;
		case 't': gw.start_ms = parse_ms_flag("--start-timeout", optarg); break;
		case 'P':
			if (sizing_parse_pool(optarg, &gw.pools, why, sizeof(why)) < 0)
				usage_error("%s", why);
			break;
		case 'r': gw.pool_rate = parse_count_flag("--pool-rate", optarg, 1, 100000); break;
		case 'm':
			gw.cap.max_vms = parse_count_flag("--max-vms", optarg, 1, GW_TOTAL_VMS_LIMIT);
			break;
		case 'M':
			gw.cap.budget = parse_size_flag("--memory-budget", optarg);
			if (gw.cap.budget < (16ull << 20))
				usage_error("--memory-budget: '%s' is less than 16M", optarg);
			break;
		case 'L': metrics_addr = optarg; break;
		case 'd': gw.drain_ms = parse_ms_flag("--drain-timeout", optarg); break;
		case 'v': vlog_enabled = 1; break;
		case 'N': no_layers = 1; break;
		case 'Y': gw.layer_min_load_ms = parse_count_ms("--layer-min-load", optarg); break;
		case 'V': vmm = optarg; break;
		case 'K': kernel = optarg; break;
		case 'R': runtimes = optarg; break;
		case 'h': usage(stdout); return 0;
		default:
			usage_error("unknown or incomplete option '%s' (see mote serve --help)",
				    argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s' (see mote serve --help)", argv[optind]);
	if (gw.body_max > VM_REQ_CAP - (1u << 20))
		usage_error("--body-max: at most 7M (a request must fit a VM's request area)");
	if (!gw.cap.budget)
		gw.cap.budget = sizing_default_budget(host_memory());

	struct mote_err err = {0};
	if (state)
		snprintf(gw.state_dir, sizeof(gw.state_dir), "%s", state);
	else if (mote_default_state_dir(gw.state_dir, sizeof(gw.state_dir), &err) < 0)
		die(&err);
	if (strlen(gw.state_dir) > PATH_MAX - 512) {
		mote_errf(&err, MOTE_STATUS_USAGE, "serve: --state: the path is too long");
		die(&err);
	}
	if (make_dirs(gw.state_dir, &err) < 0)
		die(&err);
	char real[PATH_MAX];
	if (realpath(gw.state_dir, real))
		snprintf(gw.state_dir, sizeof(gw.state_dir), "%s", real);
	snprintf(gw.bundles_dir, sizeof(gw.bundles_dir), "%s/bundles", gw.state_dir);
	snprintf(gw.bases_dir, sizeof(gw.bases_dir), "%s/bases", gw.state_dir);
	snprintf(gw.logs_dir, sizeof(gw.logs_dir), "%s/logs", gw.state_dir);
	if (admin)
		snprintf(gw.admin_socket, sizeof(gw.admin_socket), "%s", admin);
	else
		snprintf(gw.admin_socket, sizeof(gw.admin_socket), "%s/admin.sock", gw.state_dir);
	if (make_dirs(gw.bundles_dir, &err) < 0 || make_dirs(gw.bases_dir, &err) < 0 ||
	    make_dirs(gw.logs_dir, &err) < 0)
		die(&err);
	char layers_dir[PATH_MAX + 16];
	snprintf(layers_dir, sizeof(layers_dir), "%s/layers", gw.state_dir);
	if (layers_init(layers_dir, !no_layers) < 0) {
		mote_errnof(&err, MOTE_STATUS_HOST, errno, "%s", layers_dir);
		die(&err);
	}
	find_tools(vmm, kernel, runtimes);
	if (lock_state(&err) < 0)
		die(&err);

	/* The standard fds exist (so no socket becomes a child's stdout), SIGPIPE is an EPIPE, signals are
	 * events. */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) < 0)
			return MOTE_STATUS_HOST;
	signal(SIGPIPE, SIG_IGN);
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);

	char db[PATH_MAX + 16];
	snprintf(db, sizeof(db), "%s/registry.db", gw.state_dir);
	gw.reg = registry_open(db, &err);
	if (!gw.reg)
		die(&err);
	recover();

	raise_fd_limit();
	gw.loop = h2o_evloop_create();
	if (base_load_all(&err) < 0)
		die(&err);
	/* The pools first: the old base's pooled VMs end (their charges free), then the functions' VMs of it.
	 */
	base_on_switch(pool_base_switched);
	base_on_switch(fn_base_switched);
	fn_init();
	if (fn_load_all(&err) < 0)
		die(&err);
	char bound[128];
	if (http_start(listen_addr, bound, sizeof(bound), &err) < 0)
		die(&err);
	char metrics_bound[128] = "";
	if (metrics_addr &&
	    http_start_metrics(metrics_addr, metrics_bound, sizeof(metrics_bound), &err) < 0) {
		http_stop();
		die(&err);
	}
	pool_init();
	h2o_socket_t *sig_sock = h2o_evloop_socket_create(gw.loop, sfd, H2O_SOCKET_FLAG_DONT_READ);
	h2o_socket_read_start(sig_sock, on_signal);
	if (metrics_bound[0])
		fprintf(stderr, "mote: metrics on http://%s/metrics\n", metrics_bound);
	fprintf(stderr, "mote: serving functions on http://%s/fn/NAME (admin socket %s, state %s)\n", bound,
		gw.admin_socket, gw.state_dir);

	int failed = 0;
	while (!stopping)
		if (h2o_evloop_run(gw.loop, INT32_MAX) != 0 && errno != EINTR) {
			fprintf(stderr, "mote: event loop failed: %s\n", strerror(errno));
			failed = 1;
			break;
		}

	/* Stop accepting; let the requests in flight finish (a second signal or --drain-timeout cuts it
	 * short). */
	http_stop();
	if (!failed && fn_inflight() > 0) {
		fprintf(stderr, "mote: stopping: draining %llu requests in flight\n",
			(unsigned long long)fn_inflight());
		uint64_t deadline = h2o_now(gw.loop) + gw.drain_ms;
		int seen = signals;
		while (fn_inflight() > 0 && signals == seen && h2o_now(gw.loop) < deadline)
			if (h2o_evloop_run(gw.loop, 100) != 0 && errno != EINTR)
				break;
		if (fn_inflight() > 0)
			fprintf(stderr, "mote: stopping with %llu requests unfinished\n",
				(unsigned long long)fn_inflight());
		/* The last responses are on their way out: give h2o a moment to write them. */
		for (int i = 0; i < 5; i++)
			h2o_evloop_run(gw.loop, 10);
	}
	h2o_socket_close(sig_sock);
	h2o_evloop_run(gw.loop, 0); /* let h2o free what was closed */
	vm_kill_all();
	base_kill_builds();
	registry_close(gw.reg);
	fprintf(stderr, "mote: stopped (%s)\n", stopping ? strsignal(stopping) : "event loop failure");
	return stopping && !failed ? 0 : MOTE_STATUS_HOST;
}

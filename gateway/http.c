/* The gateway's HTTP side (libh2o-evloop): the public endpoint on TCP and the admin API on a unix socket. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "admin.h"
#include "fn.h"
#include "gateway.h"
#include "registry.h"
#include "status.h"

static h2o_globalconf_t public_conf, admin_conf, metrics_conf;
static h2o_context_t public_ctx, admin_ctx, metrics_ctx;
static h2o_accept_ctx_t public_accept, admin_accept, metrics_accept;
static h2o_socket_t *public_listener, *admin_listener, *metrics_listener;

/* ANY /fn/NAME[/REST][?QUERY] */
static int on_public(h2o_handler_t *self, h2o_req_t *req)
{
	const char *path = req->input.path.base;
	size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->input.path.len;
	h2o_iovec_t query =
	    req->query_at != SIZE_MAX
		? h2o_iovec_init(path + req->query_at + 1, req->input.path.len - req->query_at - 1)
		: h2o_iovec_init("", 0);
	if (plen < 4 || memcmp(path, "/fn/", 4) != 0) {
		fn_send_error(req, 404, "not_found", "mote: not found (functions are at /fn/NAME)");
		return 0;
	}
	const char *name = path + 4, *slash = memchr(name, '/', plen - 4);
	size_t nlen = slash ? (size_t)(slash - name) : plen - 4;
	struct fn *fn = NULL;
	if (registry_name_valid(name, nlen)) {
		char buf[REG_NAME_MAX + 1];
		memcpy(buf, name, nlen);
		buf[nlen] = 0;
		fn = fn_find(buf);
	}
	if (!fn) {
		fn_send_error(req, 404, "no_function", "mote: no function '%.*s'",
			      (int)(nlen < 64 ? nlen : 64), name);
		return 0;
	}
	h2o_iovec_t rest =
	    slash ? h2o_iovec_init(slash, (size_t)(path + plen - slash)) : h2o_iovec_init("/", 1);
	fn_invoke(fn, req, rest, query);
	return 0;
}

static int on_admin(h2o_handler_t *self, h2o_req_t *req)
{
	admin_handle(req);
	return 0;
}

/* --metrics-listen: GET /metrics only. */
static int on_metrics(h2o_handler_t *self, h2o_req_t *req)
{
	size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->input.path.len;
	if (plen == 8 && !memcmp(req->input.path.base, "/metrics", 8) &&
	    h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")))
		admin_send_metrics(req);
	else
		fn_send_error(req, 404, "not_found", "mote: only GET /metrics here");
	return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
	if (err)
		return;
	h2o_accept_ctx_t *actx = listener->data;
	for (int i = 0; i < 16; i++) {
		h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
		if (!sock)
			return;
		h2o_accept(actx, sock);
	}
}

static void setup_conf(h2o_globalconf_t *conf, h2o_context_t *ctx, h2o_accept_ctx_t *actx, uint64_t body_max,
		       int (*on_req)(h2o_handler_t *, h2o_req_t *))
{
	h2o_config_init(conf);
	conf->server_name = h2o_iovec_init(H2O_STRLIT("mote"));
	conf->max_request_entity_size = body_max;
	conf->http1.upgrade_to_http2 = 0;
	h2o_hostconf_t *host = h2o_config_register_host(conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
	h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
	h2o_handler_t *h = h2o_create_handler(path, sizeof(*h));
	h->on_req = on_req;
	h2o_context_init(ctx, gw.loop, conf);
	actx->ctx = ctx;
	actx->hosts = conf->hosts;
}

static int listen_tcp(const char *flag, const char *addr, char *bound, size_t bound_size,
		      struct mote_err *err)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	if (!colon || colon == addr || !colon[1] || (size_t)(colon - addr) >= sizeof(host))
		return mote_errf(err, MOTE_STATUS_USAGE, "%s: '%s' is not ADDR:PORT", flag, addr);
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = 0;
	char *h = host;
	if (h[0] == '[' && h[strlen(h) - 1] == ']') {
		h[strlen(h) - 1] = 0;
		h++;
	}
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (*end || port > 65535 || colon[1] < '0' || colon[1] > '9')
		return mote_errf(err, MOTE_STATUS_USAGE, "%s: '%s': the port is not a number from 0 to 65535",
				 flag, addr);
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
			*res;
	int gai = getaddrinfo(h, colon + 1, &hints, &res);
	if (gai)
		return mote_errf(err, MOTE_STATUS_USAGE, "%s: '%s': %s", flag, addr, gai_strerror(gai));
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
	if (fd < 0) {
		freeaddrinfo(res);
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "socket");
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 1024) < 0) {
		int e = errno;
		close(fd);
		freeaddrinfo(res);
		return mote_errnof(err, MOTE_STATUS_HOST, e, "cannot listen on %s", addr);
	}
	freeaddrinfo(res);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	char ip[INET6_ADDRSTRLEN] = "?";
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(bound, bound_size, "%s:%d", ip, ntohs(a->sin_port));
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(bound, bound_size, "[%s]:%d", ip, ntohs(a->sin6_port));
	}
	return fd;
}

static int listen_unix(const char *path, struct mote_err *err)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		return mote_errf(err, MOTE_STATUS_USAGE, "--admin: socket path %s is too long", path);
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "socket");
	/* The state dir's lock is held: a socket file there is a stale one of a gateway that died. */
	unlink(path);
	mode_t old = umask(0177);
	int r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (r < 0 || chmod(path, 0600) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		close(fd);
		return mote_errnof(err, MOTE_STATUS_HOST, e, "cannot listen on the admin socket %s", path);
	}
	return fd;
}

int http_start(const char *listen_addr, char *bound, size_t bound_size, struct mote_err *err)
{
	int tcp = listen_tcp("--listen", listen_addr, bound, bound_size, err);
	if (tcp < 0)
		return -1;
	int ux = listen_unix(gw.admin_socket, err);
	if (ux < 0) {
		close(tcp);
		return -1;
	}
	setup_conf(&public_conf, &public_ctx, &public_accept, gw.body_max, on_public);
	setup_conf(&admin_conf, &admin_ctx, &admin_accept, gw.bundle_max, on_admin);
	public_listener = h2o_evloop_socket_create(gw.loop, tcp, H2O_SOCKET_FLAG_DONT_READ);
	public_listener->data = &public_accept;
	h2o_socket_read_start(public_listener, on_accept);
	admin_listener = h2o_evloop_socket_create(gw.loop, ux, H2O_SOCKET_FLAG_DONT_READ);
	admin_listener->data = &admin_accept;
	h2o_socket_read_start(admin_listener, on_accept);
	return 0;
}

int http_start_metrics(const char *addr, char *bound, size_t bound_size, struct mote_err *err)
{
	int tcp = listen_tcp("--metrics-listen", addr, bound, bound_size, err);
	if (tcp < 0)
		return -1;
	setup_conf(&metrics_conf, &metrics_ctx, &metrics_accept, 4096, on_metrics);
	metrics_listener = h2o_evloop_socket_create(gw.loop, tcp, H2O_SOCKET_FLAG_DONT_READ);
	metrics_listener->data = &metrics_accept;
	h2o_socket_read_start(metrics_listener, on_accept);
	return 0;
}

void http_stop(void)
{
	if (public_listener)
		h2o_socket_close(public_listener);
	if (admin_listener)
		h2o_socket_close(admin_listener);
	if (metrics_listener)
		h2o_socket_close(metrics_listener);
	public_listener = admin_listener = metrics_listener = NULL;
	unlink(gw.admin_socket);
}

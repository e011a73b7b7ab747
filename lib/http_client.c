/* A small blocking HTTP/1.1 client over a unix socket: how the CLI talks to `mote serve`'s admin API. */
#include "http_client.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "status.h"

static int connect_unix(const char *path, struct mote_err *err)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		return mote_errf(err, MOTE_STATUS_USAGE, "server socket path %s is too long", path);
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return mote_errnof(err, MOTE_STATUS_HOST, errno, "socket");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		return mote_errnof(err, MOTE_STATUS_NO_SERVER, e,
				   "cannot reach the server at %s (is `mote serve` running?)", path);
	}
	return fd;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Build the request head into a malloc'd string. */
static char *format_head(const struct mote_http_request *req, size_t *len)
{
	size_t cap = strlen(req->method) + strlen(req->target) + 128;
	for (size_t i = 0; i < req->nheaders; i++)
		cap += strlen(req->headers[i]) + 2;
	char *head = malloc(cap);
	if (!head)
		return NULL;
	int n = snprintf(head, cap,
			 "%s %s HTTP/1.1\r\nHost: mote\r\nConnection: close\r\nContent-Length: %zu\r\n",
			 req->method, req->target, req->body_len);
	for (size_t i = 0; i < req->nheaders; i++)
		n += snprintf(head + n, cap - (size_t)n, "%s\r\n", req->headers[i]);
	n += snprintf(head + n, cap - (size_t)n, "\r\n");
	*len = (size_t)n;
	return head;
}

/* Is the response in raw[len] complete? 1 yes (res filled), 0 need more, -1 malformed. */
static int try_parse(char *raw, size_t len, int at_eof, struct mote_http_response *res)
{
	int64_t h = mote_http_parse_head(raw, len, &res->head);
	if (h == MOTE_HTTP_PARTIAL)
		return at_eof ? -1 : 0;
	if (h < 0)
		return -1;
	char *body = raw + h;
	size_t avail = len - (size_t)h;
	if (res->head.chunked) {
		size_t n;
		int64_t r = mote_http_dechunk(body, avail, &n);
		if (r == MOTE_HTTP_PARTIAL)
			return at_eof ? -1 : 0;
		if (r < 0)
			return -1;
		res->body = body;
		res->body_len = n;
		return 1;
	}
	if (res->head.content_length >= 0) {
		if (avail < (uint64_t)res->head.content_length)
			return at_eof ? -1 : 0;
		res->body = body;
		res->body_len = (size_t)res->head.content_length;
		return 1;
	}
	if (res->head.status == 204 || res->head.status == 304 || res->head.status < 200) {
		res->body = body;
		res->body_len = 0;
		return 1;
	}
	if (!at_eof)
		return 0;
	res->body = body;
	res->body_len = avail;
	return 1;
}

int mote_http_call(const char *socket_path, const struct mote_http_request *req,
		   struct mote_http_response *res, struct mote_err *err)
{
	memset(res, 0, sizeof(*res));
	int fd = connect_unix(socket_path, err);
	if (fd < 0)
		return -1;
	size_t head_len;
	char *head = format_head(req, &head_len);
	if (!head) {
		close(fd);
		return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
	}
	int w = write_all(fd, head, head_len);
	free(head);
	if (w == 0 && req->body_len)
		w = write_all(fd, req->body, req->body_len);
	/* A server that refuses early (413) may close before reading everything: still read its answer. */
	size_t cap = 65536, len = 0;
	char *raw = malloc(cap + 1);
	if (!raw) {
		close(fd);
		return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
	}
	int done = 0;
	for (;;) {
		if (len == cap) {
			if (cap > (SIZE_MAX >> 2)) {
				done = -1;
				break;
			}
			char *bigger = realloc(raw, cap * 2 + 1);
			if (!bigger) {
				done = -1;
				break;
			}
			raw = bigger;
			cap *= 2;
		}
		ssize_t n = recv(fd, raw + len, cap - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && len == 0 && w < 0)
			break;
		if (n < 0) {
			done = -1;
			break;
		}
		len += (size_t)n;
		done = try_parse(raw, len, n == 0, res);
		if (done)
			break;
	}
	close(fd);
	if (done != 1) {
		free(raw);
		memset(res, 0, sizeof(*res));
		return mote_errf(err, MOTE_STATUS_HOST, "the server at %s %s", socket_path,
				 done == 0 ? "closed the connection without an answer"
					   : "sent a malformed response");
	}
	raw[len] = 0;
	res->raw = raw;
	return 0;
}

void mote_http_response_free(struct mote_http_response *res)
{
	free(res->raw);
	memset(res, 0, sizeof(*res));
}

/* hello_server: the native baseline of the function benchmarks: a single-threaded epoll HTTP/1.1 server that
 * answers every request with a fixed hello. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * usage: hello_server PORT
 * Listens on 127.0.0.1:PORT (0: any free port; the port is printed on stdout as "port N"), keep-alive,
 * pipelining; a request is read up to its empty line (no bodies). Runs until killed.
 */

#define BODY "hello from a native C server (GET /)\n"

struct conn {
	int fd;
	size_t len;
	char buf[8192];
};

static const char response[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 37\r\n\r\n" BODY;

static void serve(int ep, struct conn *c)
{
	for (;;) {
		ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0)
			goto close;
		c->len += (size_t)n;
		char *end;
		while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4))) {
			size_t used = (size_t)(end + 4 - c->buf);
			if (write(c->fd, response, sizeof(response) - 1) != (ssize_t)sizeof(response) - 1)
				goto close;
			memmove(c->buf, c->buf + used, c->len - used);
			c->len -= used;
		}
		if (c->len == sizeof(c->buf))
			goto close;
	}
	return;
close:
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: hello_server PORT\n");
		return 64;
	}
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)atoi(argv[1])),
				.sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t al = sizeof(a);
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 1024) < 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &al) < 0) {
		perror("hello_server: listen");
		return 72;
	}
	printf("port %d\n", ntohs(a.sin_port));
	fflush(stdout);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	for (;;) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, -1);
		for (int i = 0; i < n; i++) {
			if (!evs[i].data.ptr) {
				int fd;
				while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					struct conn *c = calloc(1, sizeof(*c));
					c->fd = fd;
					struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
				}
				continue;
			}
			serve(ep, evs[i].data.ptr);
		}
	}
}

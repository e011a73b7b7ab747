/* spawn_server: an epoll HTTP/1.1 server that starts a command per request and answers with its output: the
 * container cold-start baseline (runc run per request). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * usage: spawn_server PORT COMMAND [ARGS...]
 * For every request (read up to its empty line; no bodies), runs COMMAND with stdin /dev/null and stdout
 * a pipe; an argument "{}" is replaced by a number unique to the request (e.g. a container id). When the
 * command has exited, the answer is 200 with its output as the body (502 if it failed). Connections are
 * keep-alive; one request per connection at a time. Prints "port N" once listening; runs until killed.
 */

extern char **environ;

enum kind { LISTENER, CONN, PIPE, PROC };

struct conn;

struct item {
	enum kind kind;
	struct conn *c;
};

struct conn {
	struct item self, pipe_item, proc_item;
	int fd, out, pidfd;
	pid_t pid;
	size_t len, olen;
	int busy, eof, exited, status;
	char buf[8192];
	char obuf[65536];
};

static char **cmd;
static int ncmd, ep;
static unsigned long ids;

static void watch(int fd, struct item *it)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = it};
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void unwatch(int fd)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
}

static void start(struct conn *c)
{
	char id[32], *argv[64];
	snprintf(id, sizeof(id), "b%d-%lu", (int)getpid(), ++ids);
	for (int i = 0; i < ncmd && i < 63; i++)
		argv[i] = strcmp(cmd[i], "{}") ? cmd[i] : id;
	argv[ncmd < 63 ? ncmd : 63] = NULL;
	int p[2];
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		exit(72);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	if (posix_spawn(&c->pid, argv[0], &fa, NULL, argv, environ) != 0) {
		perror("spawn_server: posix_spawn");
		exit(72);
	}
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	c->out = p[0];
	c->pidfd = pidfd_open(c->pid, 0);
	c->busy = 1;
	c->eof = c->exited = 0;
	c->olen = 0;
	watch(c->out, &c->pipe_item);
	watch(c->pidfd, &c->proc_item);
}

static void finish(struct conn *c)
{
	char head[256];
	int ok = WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0;
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n",
			 ok ? "200 OK" : "502 Bad Gateway", c->olen);
	if (write(c->fd, head, (size_t)n) < 0 || write(c->fd, c->obuf, c->olen) < 0)
		return;
	c->busy = 0;
}

static void on_conn(struct conn *c)
{
	for (;;) {
		ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0 || c->len + (size_t)n == sizeof(c->buf)) {
			unwatch(c->fd);
			c->fd = -1;
			if (!c->busy)
				free(c);
			return;
		}
		c->len += (size_t)n;
	}
	char *end;
	if (!c->busy && (end = memmem(c->buf, c->len, "\r\n\r\n", 4))) {
		size_t used = (size_t)(end + 4 - c->buf);
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
		start(c);
	}
}

static void on_child(struct conn *c, enum kind k)
{
	if (k == PIPE) {
		ssize_t n = read(c->out, c->obuf + c->olen, sizeof(c->obuf) - c->olen);
		if (n > 0) {
			c->olen += (size_t)n;
			return;
		}
		if (n < 0 && errno == EAGAIN)
			return;
		unwatch(c->out);
		c->eof = 1;
	} else {
		waitpid(c->pid, &c->status, 0);
		unwatch(c->pidfd);
		c->exited = 1;
	}
	if (!c->eof || !c->exited)
		return;
	if (c->fd < 0) {
		free(c);
		return;
	}
	finish(c);
	on_conn(c); /* a pipelined next request */
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: spawn_server PORT COMMAND [ARGS...]\n");
		return 64;
	}
	cmd = argv + 2;
	ncmd = argc - 2;
	signal(SIGPIPE, SIG_IGN);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)atoi(argv[1])),
				.sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t al = sizeof(a);
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 1024) < 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &al) < 0) {
		perror("spawn_server: listen");
		return 72;
	}
	printf("port %d\n", ntohs(a.sin_port));
	fflush(stdout);
	ep = epoll_create1(0);
	static struct item listener = {.kind = LISTENER};
	watch(ls, &listener);
	for (;;) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, -1);
		for (int i = 0; i < n; i++) {
			struct item *it = evs[i].data.ptr;
			if (it->kind == LISTENER) {
				int fd;
				while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					struct conn *c = calloc(1, sizeof(*c));
					c->fd = fd;
					c->self = (struct item){CONN, c};
					c->pipe_item = (struct item){PIPE, c};
					c->proc_item = (struct item){PROC, c};
					watch(fd, &c->self);
				}
			} else if (it->kind == CONN) {
				on_conn(it->c);
			} else {
				on_child(it->c, it->kind);
			}
		}
	}
}

/* httpload: a bounded HTTP/1.1 keep-alive load client that records every request (start, end, status, the
 * body's first bytes), for the base switch benchmark (bench/base_switch.sh). */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * usage: httpload --port P --path /fn/NAME/ [--conns N] [--seconds S] [--max N] --out FILE
 *
 * N connections (default 2), one thread each, send GET PATH back to back on
 * 127.0.0.1:P for S seconds (default 5) or until N requests in all (default
 * 1000000). Each request is one line of FILE: "START_NS END_NS STATUS BODY"
 * (CLOCK_REALTIME, like `date +%s%N`; BODY: the first 64 bytes of the body,
 * up to a space or newline; STATUS 0: the connection failed, it is opened
 * again). Exits 0, or 1 on bad usage or an unwritable FILE.
 */

struct rec {
	uint64_t t0, t1;
	int status;
	char body[65];
};

struct worker {
	pthread_t th;
	struct rec *recs;
	size_t n, cap;
};

static int port;
static const char *path;
static uint64_t deadline_ns;
static size_t max_total;
static size_t total; /* requests started, all threads */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int dial(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct timeval tv = {.tv_sec = 20};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One request on fd: its status and body prefix, or -1 when the connection failed. */
static int one_request(int fd, const char *req, size_t req_len, char *body_out)
{
	if (write(fd, req, req_len) != (ssize_t)req_len)
		return -1;
	char buf[65536];
	size_t have = 0;
	char *end = NULL;
	while (!end) {
		if (have == sizeof(buf) - 1)
			return -1;
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = 0;
		end = strstr(buf, "\r\n\r\n");
	}
	int status = 0;
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	size_t clen = 0;
	for (char *p = buf; p < end; p++)
		if ((p == buf || p[-1] == '\n') && !strncasecmp(p, "content-length:", 15))
			clen = strtoul(p + 15, NULL, 10);
	size_t head = (size_t)(end + 4 - buf), got = have - head;
	size_t keep = got < 64 ? got : 64;
	memcpy(body_out, end + 4, keep);
	while (got < clen) {
		char tmp[65536];
		size_t want = clen - got < sizeof(tmp) ? clen - got : sizeof(tmp);
		ssize_t n = read(fd, tmp, want);
		if (n <= 0)
			return -1;
		if (keep < 64) {
			size_t k = (size_t)n < 64 - keep ? (size_t)n : 64 - keep;
			memcpy(body_out + keep, tmp, k);
			keep += k;
		}
		got += (size_t)n;
	}
	body_out[keep] = 0;
	body_out[strcspn(body_out, " \r\n")] = 0;
	return status;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	char req[1200];
	int req_len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", path, port);
	int fd = -1;
	for (;;) {
		pthread_mutex_lock(&lock);
		int go = total < max_total;
		total += go;
		pthread_mutex_unlock(&lock);
		uint64_t t0 = now_ns();
		if (!go || t0 >= deadline_ns)
			break;
		if (w->n == w->cap) {
			size_t cap = w->cap ? w->cap * 2 : 4096;
			struct rec *p = realloc(w->recs, cap * sizeof(*p));
			if (!p)
				break;
			w->recs = p;
			w->cap = cap;
		}
		struct rec *r = &w->recs[w->n++];
		r->t0 = t0;
		r->body[0] = 0;
		if (fd < 0)
			fd = dial();
		r->status = fd < 0 ? -1 : one_request(fd, req, (size_t)req_len, r->body);
		if (r->status < 0) {
			r->status = 0;
			if (fd >= 0)
				close(fd);
			fd = -1;
		}
		r->t1 = now_ns();
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"port", required_argument, NULL, 'p'},
	    {"path", required_argument, NULL, 'P'},
	    {"conns", required_argument, NULL, 'c'},
	    {"seconds", required_argument, NULL, 's'},
	    {"max", required_argument, NULL, 'm'},
	    {"out", required_argument, NULL, 'o'},
	    {NULL, 0, NULL, 0},
	};
	int conns = 2, c;
	double seconds = 5;
	const char *out = NULL;
	max_total = 1000000;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': port = atoi(optarg); break;
		case 'P': path = optarg; break;
		case 'c': conns = atoi(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'm': max_total = strtoul(optarg, NULL, 10); break;
		case 'o': out = optarg; break;
		default: return 1;
		}
	}
	if (port <= 0 || !path || !out || conns < 1 || conns > 256 || seconds <= 0 || seconds > 600 ||
	    strlen(path) > 1000) {
		fprintf(stderr,
			"usage: httpload --port P --path /fn/NAME/ [--conns N] [--seconds S] [--max N] "
			"--out FILE\n");
		return 1;
	}
	FILE *f = fopen(out, "w");
	if (!f) {
		fprintf(stderr, "httpload: %s: %s\n", out, strerror(errno));
		return 1;
	}
	deadline_ns = now_ns() + (uint64_t)(seconds * 1e9);
	struct worker *ws = calloc((size_t)conns, sizeof(*ws));
	for (int i = 0; i < conns; i++)
		pthread_create(&ws[i].th, NULL, work, &ws[i]);
	for (int i = 0; i < conns; i++)
		pthread_join(ws[i].th, NULL);
	for (int i = 0; i < conns; i++) {
		for (size_t k = 0; k < ws[i].n; k++)
			fprintf(f, "%llu %llu %d %s\n", (unsigned long long)ws[i].recs[k].t0,
				(unsigned long long)ws[i].recs[k].t1, ws[i].recs[k].status,
				ws[i].recs[k].body[0] ? ws[i].recs[k].body : "-");
		free(ws[i].recs);
	}
	free(ws);
	return fclose(f) == 0 ? 0 : 1;
}

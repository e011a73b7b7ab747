/* fn_native: <mote/fn.h> implemented for a plain Linux process, so that a C function runs as a program: the
 * container baseline of the function benchmarks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mote/fn.h>

/*
 * The program handles one request given in the environment, CGI style (REQUEST_METHOD, PATH_INFO,
 * QUERY_STRING; no headers, no body), and prints the response body on stdout. Linked with a function's
 * handler.c (its mote_handle) it does what the function does in a VM, minus the invoke channel.
 */

struct mote_fn_request {
	const char *method, *path, *query;
};

struct mote_fn_response {
	int status;
};

int mote_init(void) __attribute__((weak));

const char *mote_fn_method(const struct mote_fn_request *req)
{
	return req->method;
}

const char *mote_fn_path(const struct mote_fn_request *req)
{
	return req->path;
}

const char *mote_fn_query(const struct mote_fn_request *req)
{
	return req->query;
}

const char *mote_fn_query_param(const struct mote_fn_request *req, const char *name)
{
	static char value[1024];
	size_t n = strlen(name);
	for (const char *p = req->query; *p;) {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > n && !strncmp(p, name, n) && p[n] == '=') {
			snprintf(value, sizeof(value), "%.*s", (int)(len - n - 1), p + n + 1);
			return value;
		}
		p += len + (end != NULL);
	}
	return NULL;
}

const char *mote_fn_header(const struct mote_fn_request *req, const char *name)
{
	return NULL;
}

size_t mote_fn_header_count(const struct mote_fn_request *req)
{
	return 0;
}

int mote_fn_header_at(const struct mote_fn_request *req, size_t i, const char **name, const char **value)
{
	return -1;
}

const void *mote_fn_body(const struct mote_fn_request *req, size_t *len)
{
	if (len)
		*len = 0;
	return "";
}

int mote_fn_set_status(struct mote_fn_response *res, int status)
{
	if (status < 100 || status > 599)
		return -1;
	res->status = status;
	return 0;
}

int mote_fn_add_header(struct mote_fn_response *res, const char *name, const char *value)
{
	return 0;
}

int mote_fn_write(struct mote_fn_response *res, const void *data, size_t len)
{
	return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

int mote_fn_puts(struct mote_fn_response *res, const char *s)
{
	return mote_fn_write(res, s, strlen(s));
}

int mote_fn_printf(struct mote_fn_response *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n < 0 ? -1 : 0;
}

int mote_fn_run(void)
{
	const char *m = getenv("REQUEST_METHOD"), *p = getenv("PATH_INFO"), *q = getenv("QUERY_STRING");
	struct mote_fn_request req = {m ? m : "GET", p ? p : "/", q ? q : ""};
	struct mote_fn_response res = {200};
	if (mote_init && mote_init() != 0)
		return 1;
	return mote_handle(&req, &res) != 0;
}

int main(void)
{
	return mote_fn_run();
}

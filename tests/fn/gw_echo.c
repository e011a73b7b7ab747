/*
 * A test function for tests/e2e/functions.sh: echoes the request as it arrived (raw body, every header as
 * x-echo-NAME) and has paths that misbehave on purpose. The Lua twin is gw_echo.lua.
 *   /crash          dereferences a null pointer (the VM crashes: 502)
 *   /spin           loops forever (the function timeout ends it)
 *   /log?text=T     prints T (the function's log)
 *   /file?name=F    answers the bundle file F
 *   /env?name=V     answers getenv(V)
 *   /status?code=N  answers status N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mote/fn.h>

static int path_is(const struct mote_fn_request *req, const char *p)
{
	return !strcmp(mote_fn_path(req), p);
}

int mote_handle(const struct mote_fn_request *req, struct mote_fn_response *res)
{
	if (path_is(req, "/crash")) {
		volatile int *null = NULL;
		return *null;
	}
	if (path_is(req, "/spin"))
		for (volatile unsigned long i = 0;; i++)
			;
	if (path_is(req, "/log")) {
		const char *t = mote_fn_query_param(req, "text");
		printf("%s\n", t ? t : "");
		mote_fn_puts(res, "logged\n");
		return 0;
	}
	if (path_is(req, "/file")) {
		const char *name = mote_fn_query_param(req, "name");
		FILE *f = name ? fopen(name, "rb") : NULL;
		if (!f) {
			mote_fn_set_status(res, 404);
			mote_fn_puts(res, "no such file\n");
			return 0;
		}
		char buf[4096];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			mote_fn_write(res, buf, n);
		fclose(f);
		return 0;
	}
	if (path_is(req, "/env")) {
		const char *v =
		    getenv(mote_fn_query_param(req, "name") ? mote_fn_query_param(req, "name") : "");
		mote_fn_puts(res, v ? v : "unset");
		return 0;
	}
	if (path_is(req, "/status")) {
		const char *c = mote_fn_query_param(req, "code");
		mote_fn_set_status(res, c ? atoi(c) : 200);
		mote_fn_puts(res, "status\n");
		return 0;
	}
	mote_fn_add_header(res, "content-type", "application/octet-stream");
	mote_fn_add_header(res, "x-method", mote_fn_method(req));
	mote_fn_add_header(res, "x-path", mote_fn_path(req));
	mote_fn_add_header(res, "x-query", mote_fn_query(req));
	char name[300], count[32];
	size_t n = mote_fn_header_count(req);
	for (size_t i = 0; i < n; i++) {
		const char *hn, *hv;
		if (mote_fn_header_at(req, i, &hn, &hv) == 0) {
			snprintf(name, sizeof(name), "x-echo-%s", hn);
			mote_fn_add_header(res, name, hv);
		}
	}
	snprintf(count, sizeof(count), "%zu", n);
	mote_fn_add_header(res, "x-nheaders", count);
	size_t len;
	const void *body = mote_fn_body(req, &len);
	mote_fn_write(res, body, len);
	return 0;
}

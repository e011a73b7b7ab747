/*
 * An echo function in C: answers with what arrived as JSON, the same bytes as examples/echo-lua, so that
 * tests can compare the runtimes. ?status=NNN sets the status; an x-echo request header comes back as x-echo;
 * the environment variable ECHO_GREETING (mote deploy --env) is read once by mote_init.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mote/fn.h>

static const char *greeting;
static unsigned long served;

int mote_init(void)
{
	greeting = getenv("ECHO_GREETING");
	return 0;
}

/* Append s[n] as a JSON string: '"' and '\' escaped, bytes below 0x20 and 0x7f as \u00xx, others as they are.
 */
static void json_string(struct mote_fn_response *res, const char *s, size_t n)
{
	if (!s) {
		mote_fn_puts(res, "null");
		return;
	}
	mote_fn_puts(res, "\"");
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c != '"' && c != '\\' && c >= 0x20 && c != 0x7f)
			continue;
		mote_fn_write(res, s + run, i - run);
		if (c == '"' || c == '\\')
			mote_fn_printf(res, "\\%c", c);
		else
			mote_fn_printf(res, "\\u%04x", c);
		run = i + 1;
	}
	mote_fn_write(res, s + run, n - run);
	mote_fn_puts(res, "\"");
}

static void json_field(struct mote_fn_response *res, const char *name, const char *value, int last)
{
	mote_fn_printf(res, "\"%s\":", name);
	json_string(res, value, value ? strlen(value) : 0);
	mote_fn_puts(res, last ? "" : ",");
}

int mote_handle(const struct mote_fn_request *req, struct mote_fn_response *res)
{
	size_t body_len;
	const char *body = mote_fn_body(req, &body_len);
	const char *status = mote_fn_query_param(req, "status");
	if (status) {
		char *end;
		long code = strtol(status, &end, 10);
		if (*status == 0 || *end != 0 || code < 100 || code > 599 ||
		    mote_fn_set_status(res, (int)code) < 0)
			mote_fn_set_status(res, 400);
	}
	const char *echo = mote_fn_header(req, "x-echo");
	if (echo)
		mote_fn_add_header(res, "x-echo", echo);
	mote_fn_add_header(res, "content-type", "application/json");
	served++;
	mote_fn_puts(res, "{\"runtime\":\"c\",");
	json_field(res, "method", mote_fn_method(req), 0);
	json_field(res, "path", mote_fn_path(req), 0);
	json_field(res, "query", mote_fn_query(req), 0);
	json_field(res, "name", mote_fn_query_param(req, "name"), 0);
	json_field(res, "x_echo", echo, 0);
	json_field(res, "content_type", mote_fn_header(req, "content-type"), 0);
	json_field(res, "greeting", greeting, 0);
	mote_fn_printf(res, "\"served\":%lu,\"body_length\":%zu,\"body\":", served, body_len);
	json_string(res, body, body_len);
	mote_fn_puts(res, "}\n");
	return 0;
}

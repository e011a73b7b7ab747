/* Unit test of the C SDK (runtimes/c/sdk.c) and the runtime channel, on a fake /dev/mote/invoke. */
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <mote/fn.h>

#include "boot.h"
#include "channel.h"
#include "invoke_msg.h"
#include "sdk.h"

#include "check.h"
#include "fake_invoke.h"

/* ---- the handler under test: what it does depends on the path ---- */

static char last_body_nul; /* the byte after the body, as the handler saw it */

int mote_handle(const struct mote_fn_request *req, struct mote_fn_response *res)
{
	const char *path = mote_fn_path(req);
	size_t blen;
	const char *body = mote_fn_body(req, &blen);
	last_body_nul = body[blen];
	if (strcmp(path, "/echo") == 0) {
		const char *ua = mote_fn_header(req, "User-Agent");
		const char *multi = mote_fn_header(req, "x-multi");
		mote_fn_add_header(res, "content-type", "application/json");
		mote_fn_printf(res,
			       "{\"method\":\"%s\",\"path\":\"%s\",\"query\":\"%s\",\"ua\":\"%s\",\"multi\":"
			       "\"%s\",\"body\":%zu}",
			       mote_fn_method(req), path, mote_fn_query(req), ua ? ua : "(none)",
			       multi ? multi : "(none)", blen);
		return 0;
	}
	if (strcmp(path, "/status") == 0) {
		int bad = mote_fn_set_status(res, 99) == 0 || mote_fn_set_status(res, 600) == 0;
		mote_fn_set_status(res, 201);
		mote_fn_puts(res, "created");
		/* Headers may come after body bytes; bad ones are refused and not added. */
		bad |= mote_fn_add_header(res, "Set-Cookie", "a=1") != 0;
		bad |= mote_fn_add_header(res, "Set-Cookie", "b=2") != 0;
		bad |= mote_fn_add_header(res, "bad name", "x") == 0;
		bad |= mote_fn_add_header(res, "", "x") == 0;
		bad |= mote_fn_add_header(res, "x-split", "a\r\nInjected: yes") == 0;
		if (bad)
			mote_fn_puts(res, " (refusals wrong)");
		return 0;
	}
	if (strcmp(path, "/fail") == 0) {
		mote_fn_puts(res, "partial output that must not be sent");
		return 3;
	}
	if (strcmp(path, "/big") == 0) {
		static char chunk[4096];
		memset(chunk, 'b', sizeof(chunk));
		for (int i = 0; i < 64; i++)
			mote_fn_write(res, chunk, sizeof(chunk));
		return 0;
	}
	if (strcmp(path, "/headers") == 0) {
		const char *name, *value;
		for (size_t i = 0; mote_fn_header_at(req, i, &name, &value) == 0; i++)
			mote_fn_printf(res, "%s=%s;", name, value);
		mote_fn_printf(res, "count=%zu", mote_fn_header_count(req));
		if (mote_fn_header_at(req, mote_fn_header_count(req), &name, &value) != -1)
			mote_fn_puts(res, " out-of-range accepted");
		return 0;
	}
	if (strcmp(path, "/query") == 0) {
		const char *names[] = {"a",	"b",	"c",	   "sp",  "pct", "bad",
				       "empty", "flag", "missing", "a b", NULL};
		for (int i = 0; names[i]; i++) {
			const char *v = mote_fn_query_param(req, names[i]);
			mote_fn_printf(res, "%s=%s|", names[i], v ? v : "NULL");
		}
		return 0;
	}
	if (strcmp(path, "/printf") == 0) {
		char big[1000];
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		mote_fn_printf(res, "%s:%d", big, 42);
		return 0;
	}
	if (strcmp(path, "/body") == 0) {
		mote_fn_write(res, body, blen);
		return 0;
	}
	mote_fn_set_status(res, 404);
	return 0;
}

/* ---- helpers ---- */

struct reply {
	int ok;
	uint32_t status;
	char body[1 << 18];
	size_t body_len;
	char headers[1024]; /* "name: value\n"... */
};

static struct reply reply;

/* Decode sent message i of the fake into `reply`. */
static struct reply *decode_sent(struct fake_invoke *f, int i)
{
	memset(&reply, 0, sizeof(reply));
	if (i >= f->nsent)
		return &reply;
	struct mote_msg_response s;
	if (mote_msg_decode_response(f->sent[i], f->sent_len[i], &s) != MOTE_MSG_OK)
		return &reply;
	reply.ok = 1;
	reply.status = s.status;
	reply.body_len = s.body_len < sizeof(reply.body) - 1 ? s.body_len : sizeof(reply.body) - 1;
	memcpy(reply.body, s.body, reply.body_len);
	uint64_t cursor = 0;
	struct mote_msg_header h;
	size_t off = 0;
	while (mote_msg_next_header(s.headers, s.headers_len, &cursor, &h))
		off += (size_t)snprintf(reply.headers + off, sizeof(reply.headers) - off, "%.*s: %.*s\n",
					(int)h.name_len, h.name, (int)h.value_len, h.value);
	return &reply;
}

/* Serve the queued requests of f with the SDK; returns sdk_serve's result. */
static int serve(struct fake_invoke *f)
{
	struct channel ch;
	channel_init_io(&ch, "test", &fake_io, f);
	int r = sdk_serve(&ch);
	channel_close(&ch);
	return r;
}

static void push(struct fake_invoke *f, const char *method, const char *path, const char *query,
		 const char *const *headers, const void *body, size_t blen)
{
	size_t len;
	uint8_t *m = fake_request(method, path, query, headers, body, blen, &len);
	fake_push(f, m, len);
	free(m);
}

/* ---- tests ---- */

static void test_requests(size_t chunk)
{
	struct fake_invoke f;
	fake_init(&f, 1 << 20);
	f.chunk = chunk;
	const char *hdrs[] = {"User-Agent", "curl/8", "X-Multi", "1", "host", "h",
			      "x-multi",    "2",      "X-MULTI", "3", NULL};
	push(&f, "POST", "/echo", "x=1&y=2", hdrs, "{\"a\":1}", 7);
	push(&f, "GET", "/status", "", NULL, NULL, 0);
	push(&f, "GET", "/fail", "", NULL, NULL, 0);
	push(&f, "GET", "/headers", "", hdrs, NULL, 0);
	push(&f, "GET", "/query", "a=1&b=x+y&c&sp=%20z%2&pct=%41%42%4&bad=%zz&empty=&flag&a=second&a+b=ab",
	     NULL, NULL, 0);
	push(&f, "GET", "/printf", "", NULL, NULL, 0);
	push(&f, "GET", "/nowhere", "", NULL, NULL, 0);
	int r = serve(&f);
	char tag[64];
	snprintf(tag, sizeof(tag), "sdk-serve-ends-chunk-%zu", chunk);
	check(tag, r == 0 && f.nsent == 8 && f.sent_len[0] == 0, "result %d, %d messages handed over", r,
	      f.nsent);

	struct reply *p = decode_sent(&f, 1);
	snprintf(tag, sizeof(tag), "sdk-echo-chunk-%zu", chunk);
	const char *want = "{\"method\":\"POST\",\"path\":\"/echo\",\"query\":\"x=1&y=2\",\"ua\":\"curl/"
			   "8\",\"multi\":\"1, 2, 3\",\"body\":7}";
	check(tag,
	      p->ok && p->status == 200 && strcmp(p->body, want) == 0 &&
		  strstr(p->headers, "content-type: application/json\n"),
	      "status %u body '%s' headers '%s'", p->status, p->body, p->headers);
	check("sdk-body-nul-terminated", last_body_nul == 0, "byte after the body is %d", last_body_nul);

	p = decode_sent(&f, 2);
	check("sdk-status-and-headers",
	      p->ok && p->status == 201 && strcmp(p->body, "created") == 0 &&
		  strcmp(p->headers, "Set-Cookie: a=1\nSet-Cookie: b=2\n") == 0,
	      "status %u body '%s' headers '%s'", p->status, p->body, p->headers);

	p = decode_sent(&f, 3);
	check("sdk-handler-failure-500",
	      p->ok && p->status == 500 && strcmp(p->body, "function error\n") == 0, "status %u body '%s'",
	      p->status, p->body);

	p = decode_sent(&f, 4);
	check("sdk-header-iteration",
	      p->ok && strcmp(p->body, "host=h;user-agent=curl/8;x-multi=1, 2, 3;count=3") == 0, "body '%s'",
	      p->body);

	p = decode_sent(&f, 5);
	want = "a=1|b=x y|c=|sp= z%2|pct=AB%4|bad=%zz|empty=|flag=|missing=NULL|a b=ab|";
	check("sdk-query-params", p->ok && strcmp(p->body, want) == 0, "body '%s'", p->body);

	p = decode_sent(&f, 6);
	check("sdk-printf-long", p->ok && p->body_len == 999 + 3 && strcmp(p->body + 999, ":42") == 0,
	      "body of %zu bytes", p->body_len);

	p = decode_sent(&f, 7);
	check("sdk-default-status-404-set", p->ok && p->status == 404 && p->body_len == 0, "status %u",
	      p->status);
	fake_free(&f);
}

/* A response larger than the response area becomes a 500; the next request is served. */
static void test_response_too_large(void)
{
	struct fake_invoke f;
	fake_init(&f, 64 * 1024);
	push(&f, "GET", "/big", "", NULL, NULL, 0);
	push(&f, "GET", "/status", "", NULL, NULL, 0);
	int r = serve(&f);
	struct reply *p = decode_sent(&f, 1);
	check("sdk-response-too-large-500", r == 0 && p->ok && p->status == 500, "result %d status %u", r,
	      p->status);
	p = decode_sent(&f, 2);
	check("sdk-after-too-large", p->ok && p->status == 201, "status %u", p->status);
	fake_free(&f);
}

/* Requests larger than the channel's first buffer, and binary bodies, arrive intact. */
static void test_large_body(void)
{
	struct fake_invoke f;
	fake_init(&f, 1 << 20);
	size_t n = 200 * 1024;
	uint8_t *body = malloc(n);
	for (size_t i = 0; i < n; i++)
		body[i] = (uint8_t)(i * 131 + 7);
	push(&f, "PUT", "/body", "", NULL, body, n);
	int r = serve(&f);
	struct reply *p = decode_sent(&f, 1);
	int same = p->ok && p->body_len == n && memcmp(p->body, body, n) == 0;
	check("sdk-large-binary-body", r == 0 && same, "result %d, %zu bytes back", r, p->body_len);
	free(body);
	fake_free(&f);
}

/* Unusable requests get a 500 and are drained, so the next request is read from its start. */
static void test_bad_requests(size_t chunk)
{
	struct fake_invoke f;
	fake_init(&f, 1 << 20);
	f.chunk = chunk;
	size_t len;
	uint8_t *good = fake_request("GET", "/status", "", NULL, NULL, 0, &len);
	uint8_t junk[300];
	memset(junk, 'j', sizeof(junk));
	fake_push(&f, junk, sizeof(junk)); /* 1: not a message */
	fake_push(&f, good, len);	   /* 2 */
	fake_push(&f, good, 10);	   /* 3: shorter than a prefix */
	fake_push(&f, good, len - 1);	   /* 4: shorter than its prefix says */
	uint8_t *longer = malloc(len + 5);
	memcpy(longer, good, len);
	memset(longer + len, 0, 5);
	fake_push(&f, longer, len + 5); /* 5: longer than its prefix says */
	uint8_t *bad = malloc(len);
	memcpy(bad, good, len);
	bad[MOTE_MSG_REQUEST_FIXED] = ' '; /* 6: method "GET" becomes " ET" */
	fake_push(&f, bad, len);
	struct mote_msg_builder b;
	uint8_t resp[64];
	mote_msg_response_begin(&b, resp, sizeof(resp), 200);
	int64_t rn = mote_msg_response_end(&b);
	fake_push(&f, resp, (size_t)rn); /* 7: a response, not a request */
	fake_push(&f, good, 0);		 /* 8: empty */
	fake_push(&f, good, FAKE_EIO);	 /* 9: dropped by the guest kernel */
	fake_push(&f, good, len);	 /* 10 */
	int r = serve(&f);
	int statuses[11] = {0};
	for (int i = 1; i <= 10; i++)
		statuses[i] = (int)decode_sent(&f, i)->status;
	char tag[64];
	snprintf(tag, sizeof(tag), "sdk-bad-requests-500-then-served-chunk-%zu", chunk);
	check(tag,
	      r == 0 && f.nsent == 11 && statuses[1] == 500 && statuses[2] == 201 && statuses[3] == 500 &&
		  statuses[4] == 500 && statuses[5] == 500 && statuses[6] == 500 && statuses[7] == 500 &&
		  statuses[8] == 500 && statuses[9] == 500 && statuses[10] == 201,
	      "result %d, %d sent, statuses %d %d %d %d %d %d %d %d %d %d", r, f.nsent, statuses[1],
	      statuses[2], statuses[3], statuses[4], statuses[5], statuses[6], statuses[7], statuses[8],
	      statuses[9], statuses[10]);
	free(good);
	free(longer);
	free(bad);
	fake_free(&f);
}

/* One read per request in steady state (the read is the VM exit); READY and INIT_ERROR texts. */
static void test_reads_and_texts(void)
{
	struct fake_invoke f;
	fake_init(&f, 1 << 20);
	for (int i = 0; i < 10; i++)
		push(&f, "GET", "/status", "", NULL, NULL, 0);
	serve(&f);
	check("sdk-one-read-per-request", f.reads == 11, "%d reads for 10 requests", f.reads);
	fake_free(&f);

	fake_init(&f, 1 << 20);
	push(&f, "GET", "/status", "", NULL, NULL, 0);
	struct channel ch;
	channel_init_io(&ch, "test", &fake_io, &f);
	char long_text[3000];
	memset(long_text, 'e', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = 0;
	long_text[5] = '\n';
	long_text[6] = '\r';
	FILE *saved = stderr;
	stderr = fopen("/dev/null", "w");
	int r = channel_fail_init(&ch, long_text);
	fclose(stderr);
	stderr = saved;
	int type = 0;
	const char *text = NULL;
	uint32_t tl = 0;
	int d = f.nsent >= 1 ? mote_msg_decode_text(f.sent[0], f.sent_len[0], &type, &text, &tl) : -99;
	check("channel-init-error-one-line-cut",
	      r == 0 && d == MOTE_MSG_OK && type == MOTE_MSG_INIT_ERROR && tl == CHANNEL_TEXT_MAX &&
		  text[5] == ' ' && text[6] == ' ',
	      "result %d decode %d type %d len %u", r, d, type, tl);
	struct reply *p = decode_sent(&f, 1);
	check("channel-after-init-error-500", p->ok && p->status == 500, "status %u", p->status);
	channel_close(&ch);
	fake_free(&f);
}

/* boot_read_file at the sizes around its buffer's growth and its limit; boot_enter_function's environ. */
static void test_boot(void)
{
	char dir[] = "/tmp/mote-test-boot.XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
	char path[256];
	snprintf(path, sizeof(path), "%s/f", dir);
	size_t sizes[] = {0, 1, 4095, 4096, 4097, 10000};
	int bad = 0;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		FILE *f = fopen(path, "wb");
		for (size_t k = 0; k < sizes[i]; k++)
			fputc((int)(k % 251), f);
		fclose(f);
		size_t len = 99;
		char *b = boot_read_file(path, sizes[i], &len);
		int ok = b && len == sizes[i] && b[len] == 0;
		for (size_t k = 0; ok && k < len; k++)
			ok = (unsigned char)b[k] == k % 251;
		free(b);
		errno = 0;
		b = sizes[i] ? boot_read_file(path, sizes[i] - 1, &len) : NULL;
		if (!ok || (sizes[i] && (b || errno != EFBIG)))
			bad = (int)sizes[i] + 1;
		free(b);
	}
	check("boot-read-file-sizes-and-limit", !bad, "size %d: wrong result", bad - 1);
	size_t len;
	errno = 0;
	char *b = boot_read_file("/nonexistent/file", 10, &len);
	check("boot-read-file-missing", !b && errno == ENOENT, "errno %d", errno);

	/* The environment file: applied with setenv; a malformed entry is one line naming it. */
	char env[256], why[256];
	snprintf(env, sizeof(env), "%s/environ", dir);
	FILE *f = fopen(env, "wb");
	static const char good[] = "MOTE_T1=a b\0MOTE_T2=x=y\0MOTE_T3=\0";
	fwrite(good, 1, sizeof(good) - 1, f);
	fclose(f);
	char cwd[256];
	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = 0;
	int r = boot_enter_function(dir, env, why, sizeof(why));
	char now[256];
	int in_dir = getcwd(now, sizeof(now)) && strcmp(now, dir) == 0;
	check("boot-environ-applied",
	      r == 0 && in_dir && getenv("MOTE_T1") && strcmp(getenv("MOTE_T1"), "a b") == 0 &&
		  strcmp(getenv("MOTE_T2"), "x=y") == 0 && strcmp(getenv("MOTE_T3"), "") == 0,
	      "result %d (%s), in dir %d", r, r ? why : "", in_dir);
	if (cwd[0] && chdir(cwd) < 0)
		perror("chdir");
	static const struct {
		const char *bytes;
		size_t len;
		const char *why;
	} bad_envs[] = {{"NOEQUALS\0", 9, "entry 1 is not NAME=VALUE"},
			{"A=1\0=x\0", 7, "entry 2 is not NAME=VALUE"}};
	for (int i = 0; i < 2; i++) {
		f = fopen(env, "wb");
		fwrite(bad_envs[i].bytes, 1, bad_envs[i].len, f);
		fclose(f);
		r = boot_enter_function(dir, env, why, sizeof(why));
		check(i ? "boot-environ-empty-name" : "boot-environ-no-equals",
		      r < 0 && strstr(why, bad_envs[i].why), "result %d: %s", r, why);
	}
	unlink(env);
	r = boot_enter_function(dir, env, why, sizeof(why));
	check("boot-environ-absent-ok", r == 0, "result %d: %s", r, why);
	if (cwd[0] && chdir(cwd) < 0)
		perror("chdir");
	r = boot_enter_function("/nonexistent/fn", env, why, sizeof(why));
	check("boot-no-bundle-dir", r < 0 && strstr(why, "/nonexistent/fn: No such file or directory"),
	      "result %d: %s", r, why);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_boot();
	test_requests(0);
	test_requests(7); /* the device may return any number of bytes per read */
	test_response_too_large();
	test_large_body();
	test_bad_requests(0);
	test_bad_requests(7);
	test_reads_and_texts();
	return failures ? 1 : 0;
}

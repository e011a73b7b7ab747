/*
 * Test function for tests/e2e/runtimes.sh, built against the C SDK: the paths the examples do not take.
 * mote_init fails when FAIL_INIT is set; /body echoes the body byte for byte; /fail returns non-zero;
 * /log writes to stdout and stderr; /crash dereferences NULL; /exit exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mote/fn.h>

int mote_init(void)
{
	const char *fail = getenv("FAIL_INIT");
	if (fail) {
		fprintf(stderr, "sdk_paths: FAIL_INIT=%s\n", fail);
		return atoi(fail);
	}
	return 0;
}

int mote_handle(const struct mote_fn_request *req, struct mote_fn_response *res)
{
	const char *path = mote_fn_path(req);
	if (strcmp(path, "/body") == 0) {
		size_t len;
		const void *body = mote_fn_body(req, &len);
		char n[32];
		snprintf(n, sizeof(n), "%zu", len);
		mote_fn_add_header(res, "x-len", n);
		return mote_fn_write(res, body, len);
	}
	if (strcmp(path, "/fail") == 0)
		return 7;
	if (strcmp(path, "/log") == 0) {
		printf("sdk_paths: to stdout\n");
		fprintf(stderr, "sdk_paths: to stderr\n");
		return mote_fn_puts(res, "logged");
	}
	if (strcmp(path, "/crash") == 0) {
		volatile int *p = NULL;
		return *p;
	}
	if (strcmp(path, "/exit") == 0)
		exit(3);
	return mote_fn_puts(res, "ok");
}

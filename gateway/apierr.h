/* Errors of the admin API: an HTTP status, a machine-readable code and one line, sent as JSON. */
#ifndef MOTE_GATEWAY_APIERR_H
#define MOTE_GATEWAY_APIERR_H

/* One refusal; `code` is one of the strings listed in docs/functions.md (the CLI maps it to its exit status).
 */
struct api_error {
	int http;	  /* HTTP status, e.g. 422 */
	const char *code; /* e.g. "not_elf" (a string constant) */
	char msg[512];	  /* one line */
};

/* Fill *e (may be NULL) with `http`, `code` and a printf-style message. Returns -1. */
int api_errorf(struct api_error *e, int http, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif /* MOTE_GATEWAY_APIERR_H */

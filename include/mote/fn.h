/* The mote C function SDK: write one handler, link -lmote-fn statically, deploy the program. */
#ifndef MOTE_FN_H
#define MOTE_FN_H

/*
 * A C function is a static x86-64 program that defines mote_handle() and
 * links the SDK:
 *
 *   #include <mote/fn.h>
 *
 *   int mote_handle(const struct mote_fn_request *req, struct mote_fn_response *res)
 *   {
 *           mote_fn_add_header(res, "content-type", "text/plain");
 *           mote_fn_printf(res, "hello from %s\n", mote_fn_path(req));
 *           return 0;
 *   }
 *
 *   cc -static -O2 -o handler hello.c $(pkg-config --cflags --libs mote-fn)
 *   mote deploy hello ./handler
 *
 * The SDK provides main(): it reports the function ready to the gateway
 * and then calls mote_handle() once per HTTP request, one request at a
 * time, for as long as the VM lives (so global state persists between the
 * requests a warm VM serves, and a crash ends only this VM: the request
 * gets a 502). The program starts in /fn (the deployed bundle, read-only),
 * with the environment given by `mote deploy --env`; stdout and stderr go
 * to the function's log (`mote logs NAME`).
 *
 * Strings from the accessors below are NUL-terminated and stay valid until
 * mote_handle() returns; copy what must outlive the request. Nothing here
 * is thread-safe (the guest runs one thread).
 */

#include <stddef.h>

#define MOTE_FN_VERSION "1"

struct mote_fn_request;	 /* one HTTP request (read-only) */
struct mote_fn_response; /* the response being built */

/*
 * Written by the user: handle one request. `res` starts as status 200, no
 * headers, empty body. Return 0 to send what was built in `res`; any other
 * value discards it and sends a 500 (the value is logged). A response
 * larger than the gateway's response area is replaced by a 500 and a log
 * line.
 */
int mote_handle(const struct mote_fn_request *req, struct mote_fn_response *res);

/*
 * Optional, written by the user: one-time initialisation after the function
 * is attached and before the first request (open data files from /fn,
 * parse configuration from the environment). Return 0 when ready; any other
 * value fails the deploy (`mote deploy` shows "mote_init returned N"; print
 * details to stderr for the log). Programs without it skip this step.
 */
int mote_init(void);

/* ---- the request -------------------------------------------------------- */

/* The HTTP method, e.g. "GET". */
const char *mote_fn_method(const struct mote_fn_request *req);

/*
 * The URL path after /fn/NAME: "/" at least, percent-encoding kept as sent
 * (a request to /fn/hello/a%20b has path "/a%20b").
 */
const char *mote_fn_path(const struct mote_fn_request *req);

/* The query string after '?', without it, encoding kept; "" when the URL has none. */
const char *mote_fn_query(const struct mote_fn_request *req);

/*
 * The decoded value of the first query parameter called `name`
 * (application/x-www-form-urlencoded rules: '+' is a space, %XX a byte; a
 * parameter without '=' has the value ""), or NULL when there is none (or
 * memory ran out). A %00 in the value ends the returned string early.
 */
const char *mote_fn_query_param(const struct mote_fn_request *req, const char *name);

/*
 * The value of header `name`, matched case-insensitively, or NULL when the
 * request has none. A header sent several times has its values joined
 * with ", " in the order they came.
 */
const char *mote_fn_header(const struct mote_fn_request *req, const char *name);

/* The number of distinct header names in the request. */
size_t mote_fn_header_count(const struct mote_fn_request *req);

/*
 * Header number i (0 <= i < mote_fn_header_count) in name order: its name
 * in lower case in *name and its (joined) value in *value. Returns 0, or -1
 * when i is out of range.
 */
int mote_fn_header_at(const struct mote_fn_request *req, size_t i, const char **name, const char **value);

/*
 * The request body (any bytes) and its length in *len (len may be NULL).
 * A NUL byte follows the body (not counted in *len), so a text body can be
 * used as a C string.
 */
const void *mote_fn_body(const struct mote_fn_request *req, size_t *len);

/* ---- the response ------------------------------------------------------- */

/* Set the HTTP status (100..599). Returns 0, or -1 (status unchanged) when it is out of range. */
int mote_fn_set_status(struct mote_fn_response *res, int status);

/*
 * Add a response header (repeatable, e.g. set-cookie). The name must be an
 * HTTP token (letters, digits, !#$%&'*+-.^_`|~) and the value free of NUL,
 * CR and LF. Returns 0, or -1 when either is invalid or memory ran out (the
 * header is not added). Headers may be added before or after body bytes.
 */
int mote_fn_add_header(struct mote_fn_response *res, const char *name, const char *value);

/* Append len bytes to the body. Returns 0, or -1 when memory ran out (the response becomes a 500). */
int mote_fn_write(struct mote_fn_response *res, const void *data, size_t len);

/* Append a C string to the body. Returns 0 or -1 like mote_fn_write. */
int mote_fn_puts(struct mote_fn_response *res, const char *s);

/* Append printf-style formatted text to the body. Returns 0 or -1 like mote_fn_write. */
int mote_fn_printf(struct mote_fn_response *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the loop ----------------------------------------------------------- */

/*
 * What the SDK's main() does: attach to the invoke channel, run mote_init()
 * if defined, report READY and serve requests. Call it from your own main()
 * if you need one; it returns only on failure, with the exit status to use
 * (2 when the program runs outside a function VM, 1 when the channel
 * fails), after one line on stderr.
 */
int mote_fn_run(void);

#endif /* MOTE_FN_H */

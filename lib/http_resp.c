/* Parsing HTTP/1.1 responses (status line, headers, Content-Length or chunked body): the CLI's side of the
 * admin API. */
#include "http_resp.h"

#include <string.h>

static int is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int name_is(const char *name, size_t len, const char *want)
{
	size_t n = strlen(want);
	if (len != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)name[i]) != lower((unsigned char)want[i]))
			return 0;
	return 1;
}

/* The end of the line starting at `p` (the CR of CRLF, or the LF) and where the next begins; 0 if incomplete.
 */
static int find_line(const char *p, const char *end, const char **eol, const char **next)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));
	if (!lf)
		return 0;
	*next = lf + 1;
	*eol = (lf > p && lf[-1] == '\r') ? lf - 1 : lf;
	return 1;
}

/* A line's bytes may not contain control characters other than tab. */
static int line_ok(const char *p, const char *eol)
{
	for (; p < eol; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

/* Parse a decimal Content-Length (digits only, no overflow past INT64_MAX). */
static int parse_length(const char *p, size_t len, int64_t *out)
{
	if (len == 0 || len > 18)
		return -1;
	int64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

int64_t mote_http_parse_head(const char *buf, size_t len, struct mote_http_head *out)
{
	const char *p = buf, *end = buf + len, *eol, *next;
	memset(out, 0, sizeof(*out));
	out->content_length = -1;

	/* Status line: "HTTP/1.x NNN reason". Check what has arrived so far before waiting for more. */
	static const char proto[] = "HTTP/1.";
	size_t have = len < 7 ? len : 7;
	if (memcmp(buf, proto, have) != 0)
		return MOTE_HTTP_BAD;
	if (!find_line(p, end, &eol, &next))
		return MOTE_HTTP_PARTIAL;
	if (eol - p < 12 || !line_ok(p, eol) || (p[7] != '0' && p[7] != '1') || p[8] != ' ')
		return MOTE_HTTP_BAD;
	out->minor_version = p[7] - '0';
	for (int i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return MOTE_HTTP_BAD;
	out->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (out->status < 100)
		return MOTE_HTTP_BAD;
	if (eol - p > 12 && p[12] != ' ')
		return MOTE_HTTP_BAD;
	out->reason = eol - p > 12 ? p + 13 : eol;
	out->reason_len = (size_t)(eol - out->reason);
	p = next;

	for (;;) {
		if (!find_line(p, end, &eol, &next))
			return MOTE_HTTP_PARTIAL;
		if (eol == p)
			return next - buf;
		if (!line_ok(p, eol))
			return MOTE_HTTP_BAD;
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || colon == p)
			return MOTE_HTTP_BAD;
		for (const char *q = p; q < colon; q++)
			if (!is_tchar((unsigned char)*q))
				return MOTE_HTTP_BAD;
		if (out->nheaders == MOTE_HTTP_MAX_HEADERS)
			return MOTE_HTTP_BAD;
		const char *v = colon + 1, *ve = eol;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		struct mote_http_header *h = &out->headers[out->nheaders++];
		h->name = p;
		h->name_len = (size_t)(colon - p);
		h->value = v;
		h->value_len = (size_t)(ve - v);
		if (name_is(h->name, h->name_len, "content-length")) {
			int64_t n;
			if (out->content_length >= 0 || parse_length(h->value, h->value_len, &n) < 0)
				return MOTE_HTTP_BAD;
			out->content_length = n;
		} else if (name_is(h->name, h->name_len, "transfer-encoding")) {
			if (!name_is(h->value, h->value_len, "chunked") || out->chunked)
				return MOTE_HTTP_BAD;
			out->chunked = 1;
		}
		p = next;
	}
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)lower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Walk the chunks of buf[len]. With `move`, copy each chunk's data to buf + *body_len (always at or before
 * where it is). Returns bytes consumed, MOTE_HTTP_PARTIAL or MOTE_HTTP_BAD.
 */
static int64_t walk_chunks(char *buf, size_t len, size_t *body_len, int move)
{
	const char *end = buf + len, *eol, *next;
	char *p = buf;
	*body_len = 0;
	for (;;) {
		if (!find_line(p, end, &eol, &next))
			return (end - p) > 1024 ? MOTE_HTTP_BAD : MOTE_HTTP_PARTIAL;
		uint64_t size = 0;
		const char *q = p;
		int digits = 0;
		for (; q < eol && hex_digit(*q) >= 0; q++, digits++) {
			if (size >> 56)
				return MOTE_HTTP_BAD;
			size = size * 16 + (uint64_t)hex_digit(*q);
		}
		if (!digits || (q < eol && *q != ';' && *q != ' ' && *q != '\t') || !line_ok(q, eol))
			return MOTE_HTTP_BAD;
		p = (char *)next;
		if (size == 0) {
			/* Trailer lines, then the empty line. */
			for (;;) {
				if (!find_line(p, end, &eol, &next))
					return MOTE_HTTP_PARTIAL;
				if (eol == p)
					return next - buf;
				if (!line_ok(p, eol))
					return MOTE_HTTP_BAD;
				p = (char *)next;
			}
		}
		if (size > (uint64_t)(end - p))
			return MOTE_HTTP_PARTIAL;
		const char *after = p + size;
		if (end - after < 1 || (end - after < 2 && after[0] == '\r'))
			return MOTE_HTTP_PARTIAL;
		size_t crlf;
		if (after[0] == '\n')
			crlf = 1;
		else if (after[0] == '\r' && after[1] == '\n')
			crlf = 2;
		else
			return MOTE_HTTP_BAD;
		if (move)
			memmove(buf + *body_len, p, size);
		*body_len += size;
		p += size + crlf;
	}
}

int64_t mote_http_dechunk(char *buf, size_t len, size_t *body_len)
{
	size_t n;
	int64_t r = walk_chunks(buf, len, &n, 0);
	if (r < 0)
		return r;
	return walk_chunks(buf, len, body_len, 1);
}

const struct mote_http_header *mote_http_find_header(const struct mote_http_head *h, const char *name)
{
	for (size_t i = 0; i < h->nheaders; i++)
		if (name_is(h->headers[i].name, h->headers[i].name_len, name))
			return &h->headers[i];
	return NULL;
}

/* Errors of the admin API: an HTTP status, a machine-readable code and one line, sent as JSON. */
#include "apierr.h"

#include <stdarg.h>
#include <stdio.h>

int api_errorf(struct api_error *e, int http, const char *code, const char *fmt, ...)
{
	if (!e)
		return -1;
	e->http = http;
	e->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	for (char *p = e->msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return -1;
}

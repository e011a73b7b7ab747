/* --verbose: one line on stderr per VM lifecycle event (spawned, pooled, attached, idle, retired, exited). */
#include "vlog.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

int vlog_enabled;

void vlogf(const char *fmt, ...)
{
	if (!vlog_enabled)
		return;
	char line[1024];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	int n = (int)strftime(line, sizeof(line), "%H:%M:%S", &tm);
	n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03ld mote: ", ts.tv_nsec / 1000000);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}

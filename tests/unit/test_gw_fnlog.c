/* Unit test of gateway/fnlog.c: appending, the gateway's notes, rotation at the bound, reading the tail. */
// gateway-modules: gateway/fnlog.c
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fnlog.h"

#include "check.h"

static char tmp[] = "/tmp/mote-test-fnlog.XXXXXX";

static off_t size_of(const char *name)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/%s", tmp, name);
	struct stat st;
	return stat(p, &st) == 0 ? st.st_size : -1;
}

int main(void)
{
	if (!mkdtemp(tmp))
		return 2;
	struct fnlog *log = fnlog_open(tmp, "f");
	check("open", log != NULL, "cannot open");
	fnlog_write(log, "hello\n", 6);
	fnlog_notef(log, "request %d timed out", 17);
	char *text;
	size_t len;
	fnlog_read_tail(log, 1000, &text, &len);
	check("write-and-note",
	      len > 6 && !memcmp(text, "hello\n", 6) && strstr(text, "Z mote: request 17 timed out\n"),
	      "log is '%s'", text);
	free(text);
	fnlog_read_tail(log, 3, &text, &len);
	check("tail-bytes", len == 3 && !memcmp(text, "ut\n", 3), "tail is '%s'", text);
	free(text);

	/* Past the bound: NAME.log.1 holds the first FNLOG_ROTATE_BYTES, NAME.log the rest; nothing is lost.
	 */
	char *chunk = malloc(FNLOG_ROTATE_BYTES);
	memset(chunk, 'a', FNLOG_ROTATE_BYTES);
	fnlog_write(log, chunk, FNLOG_ROTATE_BYTES - 100);
	fnlog_write(log, "MARK", 4);
	fnlog_write(log, chunk, 1000);
	off_t old = size_of("f.log.1"), cur = size_of("f.log");
	check("rotated", old == FNLOG_ROTATE_BYTES && cur > 0 && cur < 2000, "f.log.1 %lld, f.log %lld bytes",
	      (long long)old, (long long)cur);
	fnlog_read_tail(log, 2000, &text, &len);
	check("tail-spans-rotation", len == 2000 && memmem(text, len, "MARK", 4), "%zu bytes, no MARK", len);
	free(text);
	fnlog_read_tail(log, 100ull << 20, &text, &len);
	check("tail-bounded", len == (size_t)(old + cur), "%zu bytes", len);
	free(text);
	/* Writes keep rotating: never more than twice the bound on disk. */
	for (int i = 0; i < 3; i++)
		fnlog_write(log, chunk, FNLOG_ROTATE_BYTES);
	check("bounded-on-disk",
	      size_of("f.log.1") <= FNLOG_ROTATE_BYTES && size_of("f.log") <= FNLOG_ROTATE_BYTES,
	      "%lld + %lld bytes", (long long)size_of("f.log.1"), (long long)size_of("f.log"));
	free(chunk);
	fnlog_unlink(log);
	check("unlink", size_of("f.log") < 0 && size_of("f.log.1") < 0, "files left");
	fnlog_write(log, "late\n", 5); /* to the unlinked file: no error, nothing recreated */
	check("write-after-unlink", size_of("f.log") < 0, "f.log recreated");
	fnlog_close(log);
	check("open-fails", fnlog_open("/nonexistent/dir", "f") == NULL, "opened in a missing directory");
	char cmd[100];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd) == 0 && !failures ? 0 : 1;
}

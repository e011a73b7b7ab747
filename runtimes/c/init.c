/* mote-c-init: the C base's program. Snapshot, then (in each clone) exec the attached /fn/handler. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "boot.h"
#include "channel.h"

#define WHO "mote-c-init"
#define HANDLER BOOT_FN_DIR "/handler"

extern char **environ;

/* Why execve(HANDLER) failed, in the words a deploy refusal shows. */
static void exec_failure(int e, char *why, size_t len)
{
	switch (e) {
	case ENOENT:
		snprintf(why, len, "the bundle has no file handler (%s: %s)", HANDLER, strerror(e));
		break;
	case ENOEXEC:
		snprintf(why, len, "%s is not a static x86-64 ELF executable (%s)", HANDLER, strerror(e));
		break;
	case EACCES: snprintf(why, len, "%s is not executable (%s)", HANDLER, strerror(e)); break;
	default: snprintf(why, len, "cannot start %s: %s", HANDLER, strerror(e)); break;
	}
}

int main(void)
{
	/* The base snapshot: a kernel booted and waiting, nothing else (the function comes with each clone).
	 */
	if (boot_snapshot(WHO) < 0)
		return 2;
	struct channel ch;
	if (channel_open(&ch, WHO) < 0)
		return 2;
	char why[512];
	if (boot_enter_function(BOOT_FN_DIR, BOOT_ENVIRON_FILE, why, sizeof(why)) == 0) {
		/* The channel's fd is close-on-exec: the handler's SDK opens the device again. */
		static char handler[] = HANDLER;
		char *argv[] = {handler, NULL};
		execve(HANDLER, argv, environ);
		exec_failure(errno, why, sizeof(why));
	}
	int r = channel_fail_init(&ch, why);
	channel_close(&ch);
	return r < 0 ? 1 : 0;
}

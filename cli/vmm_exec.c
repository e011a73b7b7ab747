/* Starting mote-vmm from the CLI: the flags commands pass on to mote-vmm, and its environment. */
#include "vmm_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "size.h"
#include "status.h"

void vmm_flags_check(const struct vmm_flags *f)
{
	struct mote_err err = {0};
	uint64_t ns;
	if (f->timeout && (mote_parse_duration(f->timeout, &ns) < 0 || ns == 0)) {
		mote_errf(&err, MOTE_STATUS_USAGE, "--timeout: '%s' is not a positive number of seconds",
			  f->timeout);
		mote_err_exit("mote", &err);
	}
	if (f->log_fd) {
		char *end;
		long fd = strtol(f->log_fd, &end, 10);
		if (!*f->log_fd || *end || fd < 0 || fd > 1 << 20 || fcntl((int)fd, F_GETFD) < 0) {
			mote_errf(&err, MOTE_STATUS_USAGE, "--log-fd: '%s' is not an open file descriptor",
				  f->log_fd);
			mote_err_exit("mote", &err);
		}
	}
	if (f->exit_after_snapshot && !f->snapshot) {
		mote_errf(&err, MOTE_STATUS_USAGE, "--exit-after-snapshot needs --snapshot FILE");
		mote_err_exit("mote", &err);
	}
}

void vmm_flags_append(const struct vmm_flags *f, const char **argv, int *n)
{
	if (f->timeout) {
		argv[(*n)++] = "--timeout";
		argv[(*n)++] = f->timeout;
	}
	if (f->debug)
		argv[(*n)++] = "--debug";
	if (f->snapshot) {
		argv[(*n)++] = "--snapshot";
		argv[(*n)++] = f->snapshot;
	}
	if (f->exit_after_snapshot)
		argv[(*n)++] = "--exit-after-snapshot";
	if (f->log_fd) {
		argv[(*n)++] = "--log-fd";
		argv[(*n)++] = f->log_fd;
	}
}

/* Variables passed on to mote-vmm: only the sanitizers' options (for the ASan/UBSan test build). */
static const char *const passed_env[] = {"ASAN_OPTIONS=", "UBSAN_OPTIONS=", "LSAN_OPTIONS="};
#define PASSED_ENV_MAX (sizeof(passed_env) / sizeof(passed_env[0]))

void vmm_exec(const char *vmm, const char **argv)
{
	struct mote_err err = {0};
	char *envp[PASSED_ENV_MAX + 1];
	size_t n = 0;
	for (char **e = environ; *e && n < PASSED_ENV_MAX; e++)
		for (size_t i = 0; i < PASSED_ENV_MAX; i++)
			if (!strncmp(*e, passed_env[i], strlen(passed_env[i]))) {
				envp[n++] = *e;
				break;
			}
	envp[n] = NULL;
	execve(vmm, (char *const *)argv, envp);
	mote_errnof(&err, MOTE_STATUS_HOST, errno, "cannot execute %s", vmm);
	mote_err_exit("mote", &err);
}

/* Starting mote-vmm from the CLI: finding mote's binaries, and the flags commands pass on to mote-vmm. */
#include "vmm_exec.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "err.h"
#include "size.h"
#include "status.h"

int mote_find_beside_self(const char *name, char *out, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = 0;
	char *dir = dirname(self);
	snprintf(out, size, "%s/%s", dir, name);
	if (access(out, F_OK) == 0)
		return 0;
	snprintf(out, size, "%s/../lib/mote/%s", dir, name);
	return access(out, F_OK) == 0 ? 0 : -1;
}

void vmm_flags_check(const struct vmm_flags *f)
{
	struct mote_err err = {0};
	uint64_t ns;
	if (f->timeout && (mote_parse_duration(f->timeout, &ns) < 0 || ns == 0)) {
		mote_errf(&err, MOTE_STATUS_USAGE, "--timeout: '%s' is not a positive number of seconds",
			  f->timeout);
		mote_err_exit("mote", &err);
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
}

void vmm_exec(const char *vmm, const char **argv)
{
	struct mote_err err = {0};
	execv(vmm, (char *const *)argv);
	mote_errnof(&err, MOTE_STATUS_HOST, errno, "cannot execute %s", vmm);
	mote_err_exit("mote", &err);
}

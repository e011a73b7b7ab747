/* Where `mote serve` keeps its state by default, and where the CLI finds its admin socket. */
#include "statedir.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "status.h"

int mote_default_state_dir(char *out, size_t size, struct mote_err *err)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int n;
	if (geteuid() == 0)
		n = snprintf(out, size, "/var/lib/mote");
	else if (xdg && xdg[0] == '/')
		n = snprintf(out, size, "%s/mote", xdg);
	else if (home && home[0] == '/')
		n = snprintf(out, size, "%s/.local/state/mote", home);
	else
		return mote_errf(
		    err, MOTE_STATUS_USAGE,
		    "no state directory: set HOME or XDG_STATE_HOME to an absolute path, or pass --state");
	if (n < 0 || (size_t)n >= size)
		return mote_errf(err, MOTE_STATUS_USAGE, "state directory path too long");
	return 0;
}

int mote_admin_socket(const char *flag, char *out, size_t size, struct mote_err *err)
{
	const char *env = getenv("MOTE_SERVER");
	int n;
	if (flag)
		n = snprintf(out, size, "%s", flag);
	else if (env && env[0])
		n = snprintf(out, size, "%s", env);
	else {
		char dir[4096];
		if (mote_default_state_dir(dir, sizeof(dir), err) < 0)
			return -1;
		n = snprintf(out, size, "%s/admin.sock", dir);
	}
	if (n < 0 || (size_t)n >= size)
		return mote_errf(err, MOTE_STATUS_USAGE, "admin socket path too long");
	return 0;
}

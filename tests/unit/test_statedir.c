/* Unit test of lib/statedir.c: the default state directory and where the CLI finds the admin socket. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "statedir.h"
#include "status.h"

#include "check.h"

int main(void)
{
	char out[4096];
	struct mote_err err = {0};
	unsetenv("MOTE_SERVER");
	setenv("XDG_STATE_HOME", "/xdg/state", 1);
	setenv("HOME", "/home/u", 1);
	int r = mote_default_state_dir(out, sizeof(out), &err);
	if (geteuid() == 0)
		check("root-state-dir", r == 0 && !strcmp(out, "/var/lib/mote"), "'%s'", out);
	else
		check("xdg-state-dir", r == 0 && !strcmp(out, "/xdg/state/mote"), "'%s'", out);
	if (geteuid() != 0) {
		setenv("XDG_STATE_HOME", "relative/ignored", 1);
		r = mote_default_state_dir(out, sizeof(out), &err);
		check("home-state-dir", r == 0 && !strcmp(out, "/home/u/.local/state/mote"), "'%s'", out);
		unsetenv("XDG_STATE_HOME");
		unsetenv("HOME");
		r = mote_default_state_dir(out, sizeof(out), &err);
		check("no-home", r < 0 && err.status == MOTE_STATUS_USAGE, "returned %d '%s'", r, out);
	}
	setenv("HOME", "/home/u", 1);
	r = mote_admin_socket("/flag.sock", out, sizeof(out), &err);
	check("socket-flag-first", r == 0 && !strcmp(out, "/flag.sock"), "'%s'", out);
	setenv("MOTE_SERVER", "/env.sock", 1);
	r = mote_admin_socket(NULL, out, sizeof(out), &err);
	check("socket-env-next", r == 0 && !strcmp(out, "/env.sock"), "'%s'", out);
	setenv("MOTE_SERVER", "", 1);
	r = mote_admin_socket(NULL, out, sizeof(out), &err);
	char want[4200];
	char dir[4096];
	mote_default_state_dir(dir, sizeof(dir), &err);
	snprintf(want, sizeof(want), "%s/admin.sock", dir);
	check("socket-default", r == 0 && !strcmp(out, want), "'%s' not '%s'", out, want);
	char small[8];
	check("too-long", mote_admin_socket("/a/very/long/path", small, sizeof(small), &err) < 0,
	      "fit in 8 bytes");
	return failures ? 1 : 0;
}

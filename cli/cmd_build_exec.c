/* `mote build`: execs mote-build (found beside mote), the image builder linked with libarchive. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "file.h"
#include "status.h"

int cmd_build(int argc, char **argv)
{
	char builder[PATH_MAX];
	(void)argc;
	if (mote_find_beside_self("mote-build", builder, sizeof(builder)) < 0) {
		fprintf(stderr, "mote: build: cannot find mote-build beside this mote binary\n");
		return MOTE_STATUS_HOST;
	}
	argv[0] = builder;
	execv(builder, argv);
	fprintf(stderr, "mote: build: cannot execute %s: %s\n", builder, strerror(errno));
	return MOTE_STATUS_HOST;
}

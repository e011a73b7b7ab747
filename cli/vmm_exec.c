/* Finding mote's other binaries: mote-vmm and mote-kernel live beside mote or in PREFIX/lib/mote. */
#include "locate.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

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

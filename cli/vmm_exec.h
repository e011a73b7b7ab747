/* Finding mote's other binaries: mote-vmm and mote-kernel live beside mote or in PREFIX/lib/mote. */
#ifndef MOTE_CLI_LOCATE_H
#define MOTE_CLI_LOCATE_H

#include <stddef.h>

/*
 * Write to `out` the path of `name` installed beside this executable (a
 * build/ directory) or in ../lib/mote/ from it (an installed PREFIX/bin).
 * Returns 0, or -1 when neither exists.
 */
int mote_find_beside_self(const char *name, char *out, size_t size);

#endif /* MOTE_CLI_LOCATE_H */

/* Where `mote serve` keeps its state by default, and where the CLI finds its admin socket. */
#ifndef MOTE_STATEDIR_H
#define MOTE_STATEDIR_H

#include <stddef.h>

#include "err.h"

/*
 * Store in `out` (`size` bytes) the default state directory of `mote
 * serve`: /var/lib/mote for root, else $XDG_STATE_HOME/mote when
 * XDG_STATE_HOME is an absolute path, else $HOME/.local/state/mote. Does not
 * create it. Returns 0, or -1 with *err (MOTE_STATUS_USAGE) when no home is
 * known or the path does not fit.
 */
int mote_default_state_dir(char *out, size_t size, struct mote_err *err);

/*
 * Store in `out` the admin socket the CLI talks to: `flag` (--server) if not
 * NULL, else $MOTE_SERVER if set and non-empty, else admin.sock in the
 * default state directory. Returns 0 or -1 with *err.
 */
int mote_admin_socket(const char *flag, char *out, size_t size, struct mote_err *err);

#endif /* MOTE_STATEDIR_H */

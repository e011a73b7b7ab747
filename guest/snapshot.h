/* Snapshots from inside the guest: the /dev/mote/snapshot and /dev/mote/generation device files. */
#ifndef GUEST_SNAPSHOT_H
#define GUEST_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Ask the monitor to snapshot the VM now (one exit). Console output is sent
 * first, so that no clone repeats it. Returns 0 (in the VM that asked and in
 * every clone restored from the snapshot) or -EOPNOTSUPP when the VM was
 * started without a snapshot file.
 */
long snapshot_request(void);

/*
 * Read /dev/mote/generation: how many restores lie behind this VM (0 for a
 * VM that booted; clock_generation()) as decimal text and a newline,
 * from offset *pos (advanced). Returns the bytes copied.
 */
size_t snapshot_read_generation(void *buf, size_t len, uint64_t *pos);

#endif /* GUEST_SNAPSHOT_H */

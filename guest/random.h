/* Guest randomness: ChaCha20 keyed from the monitor's seed, re-keyed after every use and every restore. */
#ifndef GUEST_RANDOM_H
#define GUEST_RANDOM_H

#include <stddef.h>
#include <stdint.h>

#include <mote/abi.h>

/*
 * Key the generator from the boot-info seed. The boot info stays the source:
 * when a snapshot restore bumps its clock generation, the next random_bytes
 * first mixes in the fresh seed the monitor wrote, so clones of one snapshot
 * never share output.
 */
void random_init(struct mote_boot_info *bi);
void random_bytes(void *buf, size_t len);

#endif /* GUEST_RANDOM_H */

/* SHA-256 (FIPS 180-4), for identities of files: mote-vmm is linked without libcrypto. */
#ifndef MOTE_SHA256_H
#define MOTE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define MOTE_SHA256_SIZE 32

/* Write the SHA-256 digest of `len` bytes at `data` to `out` (the same bytes `sha256sum` prints). */
void mote_sha256(const void *data, size_t len, uint8_t out[MOTE_SHA256_SIZE]);

#endif /* MOTE_SHA256_H */

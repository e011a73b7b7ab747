/* Guest randomness: ChaCha20 keyed from the boot seed, mixed with rdrand when present. */
#ifndef GUEST_RANDOM_H
#define GUEST_RANDOM_H

#include <stddef.h>
#include <stdint.h>

void random_init(const uint8_t seed[32]);
void random_bytes(void *buf, size_t len);
/* Re-key from fresh host entropy (one exit). */
void random_reseed_from_host(void);

#endif /* GUEST_RANDOM_H */

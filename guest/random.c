/* Guest randomness: a ChaCha20 keystream keyed from host entropy, re-keyed after every use. */
#include "random.h"

#include "klib.h"

static uint32_t key[8];
static uint64_t counter;

static inline uint32_t rotl(uint32_t x, int n)
{
	return x << n | x >> (32 - n);
}

#define QR(a, b, c, d)                                                                                       \
	do {                                                                                                 \
		a += b, d ^= a, d = rotl(d, 16);                                                             \
		c += d, b ^= c, b = rotl(b, 12);                                                             \
		a += b, d ^= a, d = rotl(d, 8);                                                              \
		c += d, b ^= c, b = rotl(b, 7);                                                              \
	} while (0)

static void chacha_block(uint32_t out[16])
{
	uint32_t s[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};
	for (int i = 0; i < 8; i++)
		s[4 + i] = key[i];
	s[12] = (uint32_t)counter;
	s[13] = (uint32_t)(counter >> 32);
	s[14] = s[15] = 0;
	counter++;
	uint32_t x[16];
	memcpy(x, s, sizeof(x));
	for (int i = 0; i < 10; i++) {
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	for (int i = 0; i < 16; i++)
		out[i] = x[i] + s[i];
}

static volatile struct mote_boot_info *boot_info;
static uint64_t seen_generation;

/* XOR the monitor's current seed into the key and wipe the seed from the boot info. */
static void mix_seed(void)
{
	volatile uint8_t *seed = (volatile uint8_t *)boot_info->seed;
	for (int i = 0; i < 32; i++) {
		((uint8_t *)key)[i] ^= seed[i];
		seed[i] = 0;
	}
	counter = 0;
}

void random_init(struct mote_boot_info *bi)
{
	boot_info = bi;
	memset(key, 0, sizeof(key));
	mix_seed();
	seen_generation = bi->clock.generation;
}

void random_bytes(void *buf, size_t len)
{
	uint32_t block[16];
	for (;;) {
		uint64_t generation = boot_info->clock.generation;
		if (generation != seen_generation) {
			/* Restored from a snapshot: every clone has its own fresh seed. */
			mix_seed();
			seen_generation = generation;
		}
		uint8_t *p = buf;
		for (size_t left = len; left;) {
			chacha_block(block);
			size_t n = MIN(left, sizeof(block));
			memcpy(p, block, n);
			p += n;
			left -= n;
		}
		/* Fast key erasure: the next key comes from a fresh block, so past output cannot be
		 * recomputed. */
		chacha_block(block);
		memcpy(key, block, sizeof(key));
		memset(block, 0, sizeof(block));
		/*
		 * A snapshot taken while this ran (a host request lands between any
		 * two instructions) left every clone with the same output: redo it.
		 */
		if (boot_info->clock.generation == generation)
			return;
	}
}

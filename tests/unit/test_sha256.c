/* Unit test of lib/sha256.c: FIPS 180-4 test vectors, and agreement with OpenSSL's libcrypto at every length
 * around the block and padding boundaries. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "sha256.h"

#include "check.h"

static void hex(const uint8_t *d, char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void vector(const char *name, const char *msg, size_t len, const char *want)
{
	uint8_t d[MOTE_SHA256_SIZE];
	char got[65];
	mote_sha256(msg, len, d);
	hex(d, got);
	check(name, strcmp(got, want) == 0, "got %s, want %s", got, want);
}

int main(void)
{
	vector("sha256-empty", "", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	vector("sha256-abc", "abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	vector("sha256-448-bits", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	vector("sha256-896-bits",
	       "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnop"
	       "qrsmnopqrst"
	       "nopqrstu",
	       112, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");

	/* Every length from 0 to 1100 bytes (all tail sizes, one and two padding blocks) and a large buffer.
	 */
	size_t big = 3u << 20;
	uint8_t *buf = malloc(big);
	if (!buf)
		return 1;
	uint32_t x = 12345;
	for (size_t i = 0; i < big; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	int bad = -1;
	for (size_t len = 0; len <= 1100 && bad < 0; len++) {
		uint8_t a[32], b[32];
		mote_sha256(buf, len, a);
		SHA256(buf, len, b);
		if (memcmp(a, b, 32) != 0)
			bad = (int)len;
	}
	check("sha256-matches-libcrypto-lengths-0-1100", bad < 0, "differs at length %d", bad);
	uint8_t a[32], b[32];
	mote_sha256(buf, big, a);
	SHA256(buf, big, b);
	check("sha256-matches-libcrypto-3MiB", memcmp(a, b, 32) == 0, "digests differ");
	free(buf);
	return failures ? 1 : 0;
}

/* libFuzzer target: mote_parse_size and mote_parse_duration on arbitrary NUL-terminated text. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "size.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;

	uint64_t v = 0, ns = 0;
	int rs = mote_parse_size(text, &v);
	int rd = mote_parse_duration(text, &ns);
	if ((rs != 0 && rs != -1) || (rd != 0 && rd != -1))
		__builtin_trap();

	/* Plain decimal digits: both parsers agree with strtoull (bytes; seconds). */
	size_t len = strlen(text);
	int digits = len > 0 && len < 40;
	for (size_t i = 0; i < len && digits; i++)
		digits = isdigit((unsigned char)text[i]);
	if (digits) {
		errno = 0;
		unsigned long long want = strtoull(text, NULL, 10);
		int overflow = errno == ERANGE;
		if (overflow != (rs == -1) || (!overflow && v != want))
			__builtin_trap();
		int ns_overflow = overflow || want > UINT64_MAX / 1000000000ull;
		if (ns_overflow != (rd == -1) || (!ns_overflow && ns != want * 1000000000ull))
			__builtin_trap();
	}
	/* A size with a K suffix is 1024 times the same digits. */
	if (digits && rs == 0 && len < 30) {
		char k[48];
		memcpy(k, text, len);
		memcpy(k + len, "K", 2);
		uint64_t kv;
		int rk = mote_parse_size(k, &kv);
		if ((v > UINT64_MAX >> 10) != (rk == -1) || (rk == 0 && kv != v << 10))
			__builtin_trap();
	}
	/* An accepted duration lies within one unit above its whole part: no wrap-around. */
	if (rd == 0) {
		errno = 0;
		char *end;
		unsigned long long whole = strtoull(text, &end, 10);
		uint64_t unit = strstr(end, "ms") ? 1000000ull : 1000000000ull;
		if (errno == 0 && whole <= UINT64_MAX / unit) {
			uint64_t lo = whole * unit;
			if (ns < lo || ns - lo >= unit)
				__builtin_trap();
		}
	}
	free(text);
	return 0;
}

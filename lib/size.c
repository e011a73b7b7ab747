/* Parsing of human-readable sizes and durations from command-line flags. */
#include "size.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static int parse_digits(const char **pp, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		uint64_t d = (uint64_t)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*pp = p;
	*out = v;
	return 0;
}

int mote_parse_size(const char *text, uint64_t *out)
{
	const char *p = text;
	uint64_t v;
	if (!text || parse_digits(&p, &v) < 0)
		return -1;
	unsigned shift = 0;
	switch (toupper((unsigned char)*p)) {
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	case 'B':
	case '\0': break;
	default: return -1;
	}
	if (shift) {
		p++;
		if (*p == 'i' || *p == 'I')
			p++;
	}
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p)
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

int mote_parse_duration(const char *text, uint64_t *out)
{
	const char *p = text;
	uint64_t whole, frac_ns = 0;
	if (!text || parse_digits(&p, &whole) < 0)
		return -1;
	if (*p == '.') {
		p++;
		uint64_t scale = 100000000;
		if (!isdigit((unsigned char)*p))
			return -1;
		for (; isdigit((unsigned char)*p); p++) {
			frac_ns += (uint64_t)(*p - '0') * scale;
			scale /= 10;
		}
	}
	uint64_t unit = 1000000000; /* seconds */
	if (strcmp(p, "ms") == 0)
		unit = 1000000;
	else if (*p && strcmp(p, "s") != 0)
		return -1;
	if (whole > UINT64_MAX / unit)
		return -1;
	uint64_t frac = frac_ns / (1000000000 / unit);
	if (whole * unit > UINT64_MAX - frac)
		return -1;
	uint64_t ns = whole * unit + frac;
	*out = ns;
	return 0;
}

/* Parsing of human-readable sizes and durations from command-line flags. */
#ifndef MOTE_SIZE_H
#define MOTE_SIZE_H

#include <stdint.h>

/*
 * Parse a byte size: decimal digits with an optional suffix K, M, G or T
 * (powers of 1024, optionally followed by "i" and/or "B", any case), e.g.
 * "64M", "1G", "512KiB", "4096". Returns 0 and stores the size in *out, or -1
 * if the text is empty, has junk, or overflows 64 bits.
 */
int mote_parse_size(const char *text, uint64_t *out);

/*
 * Parse a duration in seconds: a non-negative decimal number with an optional
 * fraction and optional suffix "s" or "ms", e.g. "10", "0.5", "250ms".
 * Stores nanoseconds in *out. Returns 0 or -1 on malformed input or overflow.
 */
int mote_parse_duration(const char *text, uint64_t *out);

#endif /* MOTE_SIZE_H */

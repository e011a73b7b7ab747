/* Freestanding basics for the guest kernel: memory/string helpers, formatting, panics. */
#ifndef GUEST_KLIB_H
#define GUEST_KLIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);

/*
 * snprintf subset: %d %i %u %x %lx %ld %lu %llu %zu %zd %p %s %c %%, with
 * optional '0' flag, width and 'l'/'ll'/'z' length. Always NUL-terminates
 * when size > 0; returns the length the full output would have had.
 */
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* Write a diagnostic line to the monitor's log stream when booted with --debug. */
void kdebug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* True when booted with --debug. */
int kdebug_enabled(void);

/* Guest kernel invariant broken: report to the monitor and end the guest. */
void kpanic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((uint64_t)(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a)-1))
#define PAGE_SIZE 4096ull
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#endif /* GUEST_KLIB_H */

/* Freestanding basics for the guest kernel: memory/string helpers, formatting, panics. */
#include "klib.h"

#include "hypercall.h"

static int debug_enabled;

void klib_set_debug(int on);
void klib_set_debug(int on)
{
	debug_enabled = on;
}

int kdebug_enabled(void)
{
	return debug_enabled;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	void *ret = dst;
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
	return ret;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *ret = dst;
	__asm__ volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(c) : "memory");
	return ret;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

char *strrchr(const char *s, int c)
{
	const char *last = NULL;
	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (!*s)
			return (char *)last;
	}
}

struct fmt_out {
	char *buf;
	size_t size, len;
};

static void out_char(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_number(struct fmt_out *o, uint64_t v, int negative, unsigned base, int width, char pad)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (negative)
		tmp[n++] = '-';
	for (int i = n; i < width; i++)
		out_char(o, pad);
	while (n)
		out_char(o, tmp[--n]);
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = {buf, size, 0};
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			out_char(&o, *fmt);
			continue;
		}
		fmt++;
		char pad = ' ';
		int width = 0, longs = 0, alt = 0;
		if (*fmt == '#')
			alt = 1, fmt++;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z')
			longs++, fmt++;
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
			out_number(&o, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0, 10, width, pad);
			break;
		}
		case 'u':
		case 'x': {
			uint64_t v = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			if (alt && *fmt == 'x')
				out_char(&o, '0'), out_char(&o, 'x');
			out_number(&o, v, 0, *fmt == 'x' ? 16 : 10, width, pad);
			break;
		}
		case 'p':
			out_char(&o, '0');
			out_char(&o, 'x');
			out_number(&o, (uint64_t)(uintptr_t)va_arg(ap, void *), 0, 16, width, pad);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			int n = (int)strlen(s);
			for (int i = n; i < width; i++)
				out_char(&o, ' ');
			while (*s)
				out_char(&o, *s++);
			break;
		}
		case 'c': out_char(&o, (char)va_arg(ap, int)); break;
		case '%': out_char(&o, '%'); break;
		case 0: fmt--; break;
		default:
			out_char(&o, '%');
			out_char(&o, *fmt);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void kdebug(const char *fmt, ...)
{
	if (!debug_enabled)
		return;
	static char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	static struct mote_hc_console c;
	c.stream = MOTE_CONSOLE_LOG;
	c.data = (uint64_t)(uintptr_t)line;
	c.len = (uint64_t)MIN((size_t)n, sizeof(line) - 1);
	hypercall(MOTE_HC_CONSOLE, &c);
}

void hypercall_exit(uint32_t reason, int32_t status, const char *msg, uint64_t rip, uint64_t rsp)
{
	static struct mote_hc_exit x;
	x.reason = reason;
	x.status = status;
	x.msg = (uint64_t)(uintptr_t)msg;
	x.msg_len = msg ? strlen(msg) : 0;
	x.rip = rip;
	x.rsp = rsp;
	for (;;)
		hypercall(MOTE_HC_EXIT, &x);
}

void kpanic(const char *fmt, ...)
{
	static char msg[256];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hypercall_exit(MOTE_EXIT_PANIC, 0, msg, 0, 0);
}

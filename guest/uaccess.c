/* Checked access to program memory from syscalls: every user pointer passes through here. */
#include "uaccess.h"

#include "klib.h"
#include "linux.h"
#include "mm.h"

static uint64_t readonly_lo, readonly_hi;

void user_set_readonly(const void *lo, uint64_t size)
{
	readonly_lo = (uint64_t)(uintptr_t)lo;
	readonly_hi = readonly_lo + size;
}

int user_readable(uint64_t addr, uint64_t len)
{
	if (len == 0)
		return 1;
	return addr + len > addr && mm_user_range_ok(addr, len);
}

int user_writable(uint64_t addr, uint64_t len)
{
	if (len == 0)
		return 1;
	if (!user_readable(addr, len))
		return 0;
	return readonly_hi == readonly_lo || addr + len <= readonly_lo || addr >= readonly_hi;
}

long user_copy_from(void *dst, uint64_t src, size_t len)
{
	if (!user_readable(src, len))
		return -EFAULT;
	if (len)
		memcpy(dst, (const void *)(uintptr_t)src, len);
	return 0;
}

long user_copy_to(uint64_t dst, const void *src, size_t len)
{
	if (!user_writable(dst, len))
		return -EFAULT;
	if (len)
		memcpy((void *)(uintptr_t)dst, src, len);
	return 0;
}

long user_strncpy(char *dst, uint64_t src, size_t size)
{
	size_t n = 0;
	while (n < size) {
		/* Check up to the end of the page, then copy until the NUL or that end. */
		uint64_t at = src + n;
		uint64_t chunk = PAGE_SIZE - (at & (PAGE_SIZE - 1));
		if (chunk > size - n)
			chunk = size - n;
		if (at < src || !user_readable(at, chunk))
			return -EFAULT;
		const char *p = (const char *)(uintptr_t)at;
		for (uint64_t i = 0; i < chunk; i++) {
			dst[n] = p[i];
			if (p[i] == 0)
				return (long)n;
			n++;
		}
	}
	if (size)
		dst[size - 1] = 0;
	return -ENAMETOOLONG;
}

long user_strnlen(uint64_t src, size_t max)
{
	size_t n = 0;
	while (n < max) {
		uint64_t at = src + n;
		uint64_t chunk = PAGE_SIZE - (at & (PAGE_SIZE - 1));
		if (chunk > max - n)
			chunk = max - n;
		if (at < src || !user_readable(at, chunk))
			return -EFAULT;
		const char *p = (const char *)(uintptr_t)at;
		for (uint64_t i = 0; i < chunk; i++, n++)
			if (p[i] == 0)
				return (long)n;
	}
	return -ENAMETOOLONG;
}

long user_get_timespec(struct linux_timespec *ts, uint64_t src)
{
	if (user_copy_from(ts, src, sizeof(*ts)) < 0)
		return -EFAULT;
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
		return -EINVAL;
	return 0;
}

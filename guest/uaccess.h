/* Checked access to program memory from syscalls: every user pointer passes through here. */
#ifndef GUEST_UACCESS_H
#define GUEST_UACCESS_H

#include <stddef.h>
#include <stdint.h>

struct linux_timespec;

/*
 * Mark [lo, lo + size) read-only for the program's syscalls (the rootfs image):
 * user_writable() refuses ranges that overlap it. Call once at boot.
 */
void user_set_readonly(const void *lo, uint64_t size);

/* True if the program may pass [addr, addr + len) as input. len 0 is always fine. */
int user_readable(uint64_t addr, uint64_t len);

/* True if the kernel may store into [addr, addr + len) for the program. len 0 is always fine. */
int user_writable(uint64_t addr, uint64_t len);

/* Copy `len` bytes from program address `src`; 0 or -EFAULT (nothing copied). */
long user_copy_from(void *dst, uint64_t src, size_t len);

/* Copy `len` bytes to program address `dst`; 0 or -EFAULT (nothing copied). */
long user_copy_to(uint64_t dst, const void *src, size_t len);

/*
 * Copy the NUL-terminated string at program address `src` into dst[size].
 * Returns its length (without the NUL), -EFAULT if it runs into memory the
 * program may not pass, or -ENAMETOOLONG if no NUL occurs in `size` bytes.
 */
long user_strncpy(char *dst, uint64_t src, size_t size);

/*
 * Length of the NUL-terminated string at program address `src` (without the
 * NUL), looking at most `max` bytes. Returns it, -EFAULT if it runs into
 * memory the program may not pass, or -ENAMETOOLONG if no NUL occurs in `max` bytes.
 */
long user_strnlen(uint64_t src, size_t max);

/*
 * Copy the struct linux_timespec at program address `src` into *ts and check it.
 * Returns 0, -EFAULT if it cannot be read, or -EINVAL if tv_sec is negative or
 * tv_nsec is outside [0, 1e9). Callers convert and cap it as their syscall does.
 */
long user_get_timespec(struct linux_timespec *ts, uint64_t src);

#endif /* GUEST_UACCESS_H */

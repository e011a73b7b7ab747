/* Guest physical memory: page allocator over guest RAM and the kernel heap. */
#ifndef GUEST_MM_H
#define GUEST_MM_H

#include <stddef.h>
#include <stdint.h>

#include <mote/abi.h>

/* Set up the page allocator from the boot-info memory map. */
void mm_init(const struct mote_boot_info *bi);

/*
 * Allocate `npages` contiguous zeroed 4 KiB pages. Searches from the top of
 * RAM down when `top_down` is set (mmap), from the bottom otherwise.
 * Returns the address (== guest physical) or 0 when memory is exhausted.
 */
void *pages_alloc(size_t npages, int top_down);

/* Claim the exact range [addr, addr + npages pages); 0 on success, -1 if any page is taken or not RAM. */
int pages_claim(uint64_t addr, size_t npages);

/* True if every page of [addr, addr + npages pages) is RAM and free. */
int pages_free_range(uint64_t addr, size_t npages);

/* Return pages to the allocator (they are zeroed lazily, on reuse). */
void pages_release(uint64_t addr, size_t npages);

/* Free and total RAM pages, for sysinfo(). */
void pages_stats(uint64_t *free_pages, uint64_t *total_pages);

/* Kernel heap. kmalloc returns 16-byte aligned zeroed memory or NULL. */
void *kmalloc(size_t size);
void *krealloc(void *ptr, size_t size);
void kfree(void *ptr);
char *kstrdup(const char *s);

/* Program memory syscalls (brk, mmap, munmap, mremap, mprotect, madvise). */
void mm_set_brk_base(uint64_t addr);
long sys_brk(uint64_t addr);
long sys_mmap(uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags, uint64_t fd, uint64_t off);
long sys_munmap(uint64_t addr, uint64_t len);
long sys_mremap(uint64_t old, uint64_t old_len, uint64_t new_len, uint64_t flags, uint64_t new_addr);
long sys_mprotect(uint64_t addr, uint64_t len, uint64_t prot);
long sys_madvise(uint64_t addr, uint64_t len, uint64_t advice);

/* True if [addr, addr+len) is inside guest RAM or the rootfs image (for pointer checks). */
int mm_user_range_ok(uint64_t addr, uint64_t len);

/* For the program loader: make [addr, addr+len) program memory (zeroed); -1 if not possible. */
int mm_claim_user(uint64_t addr, uint64_t len);
/* Allocate zeroed program memory anywhere; NULL when out of memory. */
void *mm_alloc_user(uint64_t len, int top_down);

/*
 * For execve, before anything is released: true if a program of `len` bytes
 * would fit once the current program's memory is released, at `addr` (or,
 * with `anywhere`, at any address, as mm_alloc_user places it).
 */
int mm_exec_fits(uint64_t addr, uint64_t len, int anywhere);

/* For execve: release every page of the program (brk, mmaps, loaded segments) and forget the brk. */
void mm_release_program(void);
#endif /* GUEST_MM_H */

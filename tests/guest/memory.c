/* Guest test: a 100 MiB malloc touched page by page (three times, so freed memory must come back),
 * anonymous mmap/munmap, mremap growth and brk via sbrk. Needs --mem 256M or so. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MIB (1024ul * 1024ul)
#define PAGE 4096ul

#define CHECK_PROGRAM "memory"
#include "check.h"

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void test_big_malloc(int round)
{
	size_t size = 100 * MIB;
	unsigned char *p = malloc(size);
	check(p != NULL, "round %d: malloc 100 MiB", round);
	if (!p)
		return;
	for (size_t i = 0; i < size; i += PAGE)
		p[i] = (unsigned char)(i / PAGE * 7 + round);
	p[size - 1] = 0xab;
	int good = p[size - 1] == 0xab;
	for (size_t i = 0; i < size; i += PAGE)
		good &= p[i] == (unsigned char)(i / PAGE * 7 + round);
	check(good, "round %d: every page of the 100 MiB keeps its value", round);
	free(p);
}

static void test_mmap(void)
{
	size_t size = MIB;
	unsigned char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(p != MAP_FAILED, "mmap anonymous 1 MiB");
	if (p == MAP_FAILED)
		return;
	check(((uintptr_t)p & (PAGE - 1)) == 0, "mmap result is page-aligned");
	check(all_zero(p, size), "fresh mapping is zero-filled");
	memset(p, 0xcd, size);
	check(munmap(p, size) == 0, "munmap 1 MiB");

	/* Reuse: a new mapping must be zero again even if it gets the same pages. */
	unsigned char *q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(q != MAP_FAILED && all_zero(q, size), "second mapping is zero-filled (pages reused cleanly)");
	if (q != MAP_FAILED)
		munmap(q, size);

	/* Partial munmap in the middle, then MAP_FIXED over the hole. */
	p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(p != MAP_FAILED, "mmap 4 pages");
	if (p == MAP_FAILED)
		return;
	memset(p, 1, 4 * PAGE);
	check(munmap(p + PAGE, PAGE) == 0, "munmap the second page");
	unsigned char *f =
	    mmap(p + PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	check(f == p + PAGE && all_zero(f, PAGE) && p[0] == 1 && p[2 * PAGE] == 1,
	      "MAP_FIXED refills the hole with zeros");
	check(mprotect(p, PAGE, PROT_READ) == 0 && mprotect(p, PAGE, PROT_READ | PROT_WRITE) == 0,
	      "mprotect");
	check(munmap(p, 4 * PAGE) == 0, "munmap 4 pages");
	errno = 0;
	check(munmap((void *)0x1001, PAGE) < 0 && errno == EINVAL, "munmap unaligned: EINVAL");
	errno = 0;
	void *huge = mmap(NULL, 1ul << 40, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(huge == MAP_FAILED && errno == ENOMEM, "mmap 1 TiB fails with ENOMEM (got %p)", huge);
	if (huge != MAP_FAILED)
		munmap(huge, 1ul << 40);
}

static void test_mremap(void)
{
	size_t old = MIB, grown = 4 * MIB;
	unsigned char *p = mmap(NULL, old, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(p != MAP_FAILED, "mmap 1 MiB for mremap");
	if (p == MAP_FAILED)
		return;
	for (size_t i = 0; i < old; i++)
		p[i] = (unsigned char)(i * 31);
	unsigned char *q = mremap(p, old, grown, MREMAP_MAYMOVE);
	check(q != MAP_FAILED, "mremap 1 MiB -> 4 MiB");
	if (q == MAP_FAILED)
		return;
	int kept = 1;
	for (size_t i = 0; i < old; i++)
		kept &= q[i] == (unsigned char)(i * 31);
	check(kept, "mremap keeps the old contents");
	check(all_zero(q + old, grown - old), "mremap's new part is zero-filled");
	memset(q + old, 0xee, grown - old);
	unsigned char *r = mremap(q, grown, MIB / 2, 0);
	check(r == q && r[0] == 0, "mremap shrink in place");
	check(munmap(r, MIB / 2) == 0, "munmap the remapped block");
}

/* brk through the raw syscall (musl's sbrk refuses any nonzero increment), and through glibc's sbrk. */
static void test_brk(void)
{
	uintptr_t start = (uintptr_t)syscall(SYS_brk, 0L);
	check(start != 0 && start != (uintptr_t)-1, "brk(0) is %#lx", (unsigned long)start);
	uintptr_t end = (start + PAGE - 1) & ~(PAGE - 1);
	uintptr_t got = (uintptr_t)syscall(SYS_brk, end + MIB);
	check(got == end + MIB, "brk grows by 1 MiB (asked %#lx, got %#lx)", (unsigned long)(end + MIB),
	      (unsigned long)got);
	if (got != end + MIB)
		return;
	unsigned char *p = (unsigned char *)end;
	check(all_zero(p, MIB), "new brk memory is zero");
	memset(p, 0x5a, MIB);
	check(p[MIB - 1] == 0x5a, "brk memory is writable");
	got = (uintptr_t)syscall(SYS_brk, end);
	check(got == end, "brk shrinks back (got %#lx)", (unsigned long)got);
	got = (uintptr_t)syscall(SYS_brk, end + PAGE);
	check(got == end + PAGE && all_zero(p, PAGE), "memory below a regrown break is zero again");
	got = (uintptr_t)syscall(SYS_brk, 1ul << 46);
	check(got == end + PAGE, "an impossible brk leaves the break unchanged (got %#lx)",
	      (unsigned long)got);
	syscall(SYS_brk, end);
#ifdef __GLIBC__
	void *s0 = sbrk(0);
	void *s1 = sbrk((intptr_t)MIB);
	check(s1 == s0 && sbrk(0) == (char *)s0 + MIB, "glibc sbrk(+1 MiB) returns the old break");
	if (s1 == s0) {
		memset(s1, 1, MIB);
		check(sbrk(-(intptr_t)MIB) == (char *)s0 + MIB && sbrk(0) == s0,
		      "glibc sbrk(-1 MiB) shrinks back");
	}
#endif
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int round = 1; round <= 3; round++)
		test_big_malloc(round);
	test_mmap();
	test_mremap();
	test_brk();
	/* Many small allocations */
	void *ptrs[10000];
	int ok = 1;
	for (int i = 0; i < 10000; i++) {
		ptrs[i] = malloc((size_t)(i % 500) + 1);
		ok &= ptrs[i] != NULL;
		if (ptrs[i])
			memset(ptrs[i], i & 0xff, (size_t)(i % 500) + 1);
	}
	for (int i = 0; i < 10000; i++)
		free(ptrs[i]);
	check(ok, "10000 small mallocs");
	if (failures) {
		fprintf(stderr, "memory: %d checks FAILED\n", failures);
		return 1;
	}
	printf("memory: all checks passed\n");
	return 0;
}

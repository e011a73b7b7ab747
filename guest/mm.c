/* Guest physical memory: page allocator over guest RAM, kernel heap, and the program's memory syscalls. */
#include "mm.h"

#include "fd.h"
#include "klib.h"
#include "linux.h"

/*
 * Guest memory is identity-mapped once by the monitor, so "allocating memory"
 * never touches page tables: it is picking free guest-physical pages. Three
 * bitmaps (one bit per 4 KiB page): `used` (allocated or not RAM), `dirty`
 * (may hold old data: zeroed before reuse; never-used pages are zero already)
 * and `user` (owned by the program, so MAP_FIXED and munmap may act on it).
 */
static uint64_t *used, *dirty, *user;
static uint64_t npages, nfree, ntotal;
static uint64_t ram_limit; /* end of RAM */
static uint64_t rootfs_lo, rootfs_hi;
static uint64_t brk_base, brk_cur;

#define BIT(bm, i) ((bm)[(i) >> 6] >> ((i)&63) & 1)
#define SET(bm, i) ((bm)[(i) >> 6] |= 1ull << ((i)&63))
#define CLR(bm, i) ((bm)[(i) >> 6] &= ~(1ull << ((i)&63)))

void mm_init(const struct mote_boot_info *bi)
{
	npages = bi->mem_size / PAGE_SIZE;
	ram_limit = bi->mem_size;
	uint64_t words = (npages + 63) / 64;
	uint64_t bm_bytes = ALIGN_UP(words * 8, PAGE_SIZE);
	/* Place the bitmaps at the start of the first free RAM region. */
	uint64_t bm_at = 0;
	for (uint32_t i = 0; i < bi->nregions; i++) {
		const struct mote_mem_region *r = &bi->regions[i];
		if (r->type == MOTE_MEM_RAM && r->size >= 3 * bm_bytes + PAGE_SIZE) {
			bm_at = r->gpa;
			break;
		}
		if (r->type == MOTE_MEM_ROOTFS) {
			rootfs_lo = r->gpa;
			rootfs_hi = r->gpa + r->size;
		}
	}
	for (uint32_t i = 0; i < bi->nregions; i++)
		if (bi->regions[i].type == MOTE_MEM_ROOTFS) {
			rootfs_lo = bi->regions[i].gpa;
			rootfs_hi = rootfs_lo + bi->regions[i].size;
		}
	if (!bm_at)
		kpanic("no RAM region large enough for the page bitmaps");
	used = (uint64_t *)(uintptr_t)bm_at;
	dirty = (uint64_t *)(uintptr_t)(bm_at + bm_bytes);
	user = (uint64_t *)(uintptr_t)(bm_at + 2 * bm_bytes);
	/* Everything starts used; RAM regions are then freed (fresh memory is zero, not dirty). */
	memset(used, 0xff, words * 8);
	for (uint32_t i = 0; i < bi->nregions; i++) {
		const struct mote_mem_region *r = &bi->regions[i];
		if (r->type != MOTE_MEM_RAM)
			continue;
		uint64_t first = ALIGN_UP(r->gpa, PAGE_SIZE) / PAGE_SIZE;
		uint64_t last = ALIGN_DOWN(r->gpa + r->size, PAGE_SIZE) / PAGE_SIZE;
		for (uint64_t p = first; p < last && p < npages; p++) {
			CLR(used, p);
			nfree++;
		}
	}
	/* Take the bitmaps themselves. */
	for (uint64_t p = bm_at / PAGE_SIZE; p < (bm_at + 3 * bm_bytes) / PAGE_SIZE; p++) {
		SET(used, p);
		nfree--;
	}
	ntotal = nfree;
}

static void take_pages(uint64_t first, uint64_t n)
{
	for (uint64_t p = first; p < first + n; p++) {
		SET(used, p);
		if (BIT(dirty, p)) {
			memset((void *)(uintptr_t)(p * PAGE_SIZE), 0, PAGE_SIZE);
			CLR(dirty, p);
		}
	}
	nfree -= n;
}

/* Find `n` free pages; returns the first page index or 0 (page 0 is never free). */
static uint64_t find_free(uint64_t n, int top_down)
{
	if (n == 0 || n > nfree)
		return 0;
	uint64_t run = 0;
	if (top_down) {
		for (uint64_t p = npages; p-- > 1;) {
			if (!(p & 63) || (used[p >> 6] != ~0ull)) {
				run = BIT(used, p) ? 0 : run + 1;
				if (run == n)
					return p;
			} else {
				run = 0;
				p &= ~63ull; /* skip a full word */
			}
		}
		return 0;
	}
	for (uint64_t p = 1; p < npages; p++) {
		if ((p & 63) == 0 && used[p >> 6] == ~0ull) {
			run = 0;
			p += 63;
			continue;
		}
		run = BIT(used, p) ? 0 : run + 1;
		if (run == n)
			return p - n + 1;
	}
	return 0;
}

void *pages_alloc(size_t n, int top_down)
{
	uint64_t first = find_free(n, top_down);
	if (!first)
		return NULL;
	take_pages(first, n);
	return (void *)(uintptr_t)(first * PAGE_SIZE);
}

int pages_free_range(uint64_t addr, size_t n)
{
	if (addr % PAGE_SIZE || addr / PAGE_SIZE + n > npages || addr / PAGE_SIZE + n < n)
		return 0;
	for (uint64_t p = addr / PAGE_SIZE; p < addr / PAGE_SIZE + n; p++)
		if (BIT(used, p))
			return 0;
	return 1;
}

int pages_claim(uint64_t addr, size_t n)
{
	if (!pages_free_range(addr, n))
		return -1;
	take_pages(addr / PAGE_SIZE, n);
	return 0;
}

void pages_release(uint64_t addr, size_t n)
{
	for (uint64_t p = addr / PAGE_SIZE; p < addr / PAGE_SIZE + n && p < npages; p++) {
		if (!BIT(used, p))
			continue;
		CLR(used, p);
		CLR(user, p);
		SET(dirty, p);
		nfree++;
	}
}

void pages_stats(uint64_t *free_pages, uint64_t *total_pages)
{
	*free_pages = nfree;
	*total_pages = ntotal;
}

int mm_user_range_ok(uint64_t addr, uint64_t len)
{
	if (addr < PAGE_SIZE)
		return 0;
	if (addr < ram_limit && len <= ram_limit - addr)
		return 1;
	return rootfs_hi && addr >= rootfs_lo && addr < rootfs_hi && len <= rootfs_hi - addr;
}

/* ---- kernel heap: power-of-two classes from 32 B to 2 KiB, pages above -------------------------- */

struct heap_hdr {
	uint64_t size; /* usable bytes */
	uint64_t cls;  /* class index, or 255 for page allocations */
};

#define NCLASSES 7 /* 32 .. 2048 including the header */
static void *free_lists[NCLASSES];

static void *class_alloc(unsigned cls)
{
	size_t chunk = 32u << cls;
	if (!free_lists[cls]) {
		uint8_t *page =
		    pages_alloc(1, 1); /* top-down: keep low memory for ET_EXEC programs and brk */
		if (!page)
			return NULL;
		for (size_t off = 0; off + chunk <= PAGE_SIZE; off += chunk) {
			*(void **)(page + off) = free_lists[cls];
			free_lists[cls] = page + off;
		}
	}
	void *p = free_lists[cls];
	free_lists[cls] = *(void **)p;
	memset(p, 0, chunk);
	return p;
}

void *kmalloc(size_t size)
{
	size_t need = size + sizeof(struct heap_hdr);
	if (size > (1ull << 40))
		return NULL;
	struct heap_hdr *h;
	unsigned cls = 0;
	while (cls < NCLASSES && (32u << cls) < need)
		cls++;
	if (cls < NCLASSES) {
		h = class_alloc(cls);
	} else {
		h = pages_alloc(ALIGN_UP(need, PAGE_SIZE) / PAGE_SIZE, 1);
		cls = 255;
	}
	if (!h)
		return NULL;
	h->size = cls == 255 ? ALIGN_UP(need, PAGE_SIZE) - sizeof(*h) : (32u << cls) - sizeof(*h);
	h->cls = cls;
	return h + 1;
}

void kfree(void *ptr)
{
	if (!ptr)
		return;
	struct heap_hdr *h = (struct heap_hdr *)ptr - 1;
	if (h->cls == 255) {
		pages_release((uint64_t)(uintptr_t)h, (h->size + sizeof(*h)) / PAGE_SIZE);
		return;
	}
	if (h->cls >= NCLASSES)
		kpanic("kfree of a corrupt heap block at %p", ptr);
	*(void **)h = free_lists[h->cls];
	free_lists[h->cls] = h;
}

void *krealloc(void *ptr, size_t size)
{
	if (!ptr)
		return kmalloc(size);
	struct heap_hdr *h = (struct heap_hdr *)ptr - 1;
	if (size <= h->size)
		return ptr;
	void *n = kmalloc(size + size / 2);
	if (!n)
		return NULL;
	memcpy(n, ptr, h->size);
	kfree(ptr);
	return n;
}

char *kstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = kmalloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

/* ---- program memory ------------------------------------------------------------------------------ */

#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_FIXED_NOREPLACE 0x100000
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2
#define MADV_DONTNEED 4

static void mark_user(uint64_t addr, uint64_t n)
{
	for (uint64_t p = addr / PAGE_SIZE; p < addr / PAGE_SIZE + n; p++)
		SET(user, p);
}

/* True if every page of the range is free or already the program's. */
static int range_replaceable(uint64_t addr, uint64_t n)
{
	if (addr % PAGE_SIZE || addr < PAGE_SIZE || addr / PAGE_SIZE + n > npages)
		return 0;
	for (uint64_t p = addr / PAGE_SIZE; p < addr / PAGE_SIZE + n; p++)
		if (BIT(used, p) && !BIT(user, p))
			return 0;
	return 1;
}

/* Make [addr, addr + n pages) the program's, zero-filled. The range MUST be replaceable. */
static void take_user_range(uint64_t addr, uint64_t n)
{
	for (uint64_t p = addr / PAGE_SIZE; p < addr / PAGE_SIZE + n; p++) {
		if (BIT(used, p)) {
			memset((void *)(uintptr_t)(p * PAGE_SIZE), 0, PAGE_SIZE);
		} else {
			take_pages(p, 1);
		}
		SET(user, p);
	}
}

int mm_claim_user(uint64_t addr, uint64_t len)
{
	uint64_t start = ALIGN_DOWN(addr, PAGE_SIZE);
	uint64_t n = (ALIGN_UP(addr + len, PAGE_SIZE) - start) / PAGE_SIZE;
	if (!range_replaceable(start, n))
		return -1;
	take_user_range(start, n);
	return 0;
}

void *mm_alloc_user(uint64_t len, int top_down)
{
	uint64_t n = ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE;
	void *p = pages_alloc(n, top_down);
	if (p)
		mark_user((uint64_t)(uintptr_t)p, n);
	return p;
}

int mm_exec_fits(uint64_t addr, uint64_t len, int anywhere)
{
	if (!anywhere) {
		uint64_t start = ALIGN_DOWN(addr, PAGE_SIZE);
		if (addr + len < addr)
			return 0;
		return range_replaceable(start, (ALIGN_UP(addr + len, PAGE_SIZE) - start) / PAGE_SIZE);
	}
	uint64_t n = ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE, run = 0;
	for (uint64_t p = 1; p < npages && n; p++) {
		run = BIT(used, p) && !BIT(user, p) ? 0 : run + 1;
		if (run == n)
			return 1;
	}
	return 0;
}

void mm_release_program(void)
{
	for (uint64_t p = 1; p < npages; p++) {
		if ((p & 63) == 0 && user[p >> 6] == 0) {
			p += 63;
			continue;
		}
		if (BIT(user, p))
			pages_release(p * PAGE_SIZE, 1);
	}
	brk_base = brk_cur = 0;
}

void mm_set_brk_base(uint64_t addr)
{
	brk_base = brk_cur = ALIGN_UP(addr, PAGE_SIZE);
}

long sys_brk(uint64_t addr)
{
	if (addr < brk_base)
		return (long)brk_cur;
	uint64_t old_end = ALIGN_UP(brk_cur, PAGE_SIZE), new_end = ALIGN_UP(addr, PAGE_SIZE);
	if (new_end > old_end) {
		uint64_t n = (new_end - old_end) / PAGE_SIZE;
		if (new_end > ram_limit || !pages_free_range(old_end, n))
			return (long)brk_cur;
		take_pages(old_end / PAGE_SIZE, n);
		mark_user(old_end, n);
	} else if (new_end < old_end) {
		pages_release(new_end, (old_end - new_end) / PAGE_SIZE);
	}
	brk_cur = addr;
	return (long)brk_cur;
}

long sys_mmap(uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags, uint64_t fd, uint64_t off)
{
	if (len == 0 || off % PAGE_SIZE)
		return -EINVAL;
	if (len > ram_limit)
		return -ENOMEM;
	if (!(flags & (MAP_SHARED | MAP_PRIVATE)))
		return -EINVAL;
	uint64_t n = ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE;
	int anon = (flags & MAP_ANONYMOUS) != 0;
	if (!anon && !fd_is_regular((int)fd))
		return (int)fd < 0 || (int)fd >= 1024 ? -EBADF : -ENODEV;
	uint64_t at = 0;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr % PAGE_SIZE)
			return -EINVAL;
		if (flags & MAP_FIXED_NOREPLACE) {
			if (!pages_free_range(addr, n))
				return -EEXIST;
		} else if (!range_replaceable(addr, n)) {
			return -ENOMEM;
		}
		take_user_range(addr, n);
		at = addr;
	} else {
		if (addr && addr % PAGE_SIZE == 0 && pages_free_range(addr, n)) {
			take_user_range(addr, n);
			at = addr;
		} else {
			void *p = mm_alloc_user(len, 1);
			if (!p)
				return -ENOMEM;
			at = (uint64_t)(uintptr_t)p;
		}
	}
	if (!anon) {
		long r = fd_read_at((int)fd, (void *)(uintptr_t)at, len, off);
		if (r < 0) {
			pages_release(at, n);
			return r;
		}
	}
	return (long)at;
}

long sys_munmap(uint64_t addr, uint64_t len)
{
	if (addr % PAGE_SIZE || len == 0)
		return -EINVAL;
	uint64_t n = ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE;
	for (uint64_t p = addr / PAGE_SIZE; p < addr / PAGE_SIZE + n && p < npages; p++)
		if (BIT(user, p))
			pages_release(p * PAGE_SIZE, 1);
	return 0;
}

long sys_mremap(uint64_t old, uint64_t old_len, uint64_t new_len, uint64_t flags, uint64_t new_addr)
{
	if (old % PAGE_SIZE || new_len == 0 || (flags & ~3ull) ||
	    ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)))
		return -EINVAL;
	uint64_t old_n = ALIGN_UP(old_len, PAGE_SIZE) / PAGE_SIZE,
		 new_n = ALIGN_UP(new_len, PAGE_SIZE) / PAGE_SIZE;
	if (!range_replaceable(old, old_n))
		return -EFAULT;
	if (!(flags & MREMAP_FIXED)) {
		if (new_n <= old_n) {
			if (new_n < old_n)
				sys_munmap(old + new_n * PAGE_SIZE, (old_n - new_n) * PAGE_SIZE);
			return (long)old;
		}
		uint64_t tail = old + old_n * PAGE_SIZE;
		if (pages_free_range(tail, new_n - old_n)) {
			take_user_range(tail, new_n - old_n);
			return (long)old;
		}
		if (!(flags & MREMAP_MAYMOVE))
			return -ENOMEM;
		void *p = mm_alloc_user(new_len, 1);
		if (!p)
			return -ENOMEM;
		memcpy(p, (void *)(uintptr_t)old, old_n * PAGE_SIZE);
		sys_munmap(old, old_n * PAGE_SIZE);
		return (long)(uintptr_t)p;
	}
	if (new_addr % PAGE_SIZE ||
	    (new_addr < old + old_n * PAGE_SIZE && old < new_addr + new_n * PAGE_SIZE))
		return -EINVAL;
	if (!range_replaceable(new_addr, new_n))
		return -ENOMEM;
	take_user_range(new_addr, new_n);
	memcpy((void *)(uintptr_t)new_addr, (void *)(uintptr_t)old, MIN(old_n, new_n) * PAGE_SIZE);
	sys_munmap(old, old_n * PAGE_SIZE);
	return (long)new_addr;
}

long sys_mprotect(uint64_t addr, uint64_t len, uint64_t prot)
{
	/* Protection is bookkeeping only: guest memory is mapped once, read-write. */
	if (addr % PAGE_SIZE)
		return -EINVAL;
	if (!mm_user_range_ok(addr, len))
		return -ENOMEM;
	return 0;
}

long sys_madvise(uint64_t addr, uint64_t len, uint64_t advice)
{
	if (addr % PAGE_SIZE)
		return -EINVAL;
	if (advice == MADV_DONTNEED) {
		uint64_t n = ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE;
		if (!range_replaceable(addr, n))
			return -EINVAL;
		for (uint64_t p = addr / PAGE_SIZE; p < addr / PAGE_SIZE + n; p++)
			if (BIT(user, p))
				memset((void *)(uintptr_t)(p * PAGE_SIZE), 0, PAGE_SIZE);
	}
	return 0;
}

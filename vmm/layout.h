/* Guest-physical memory layout that mote-vmm builds for every guest. */
#ifndef MOTE_VMM_LAYOUT_H
#define MOTE_VMM_LAYOUT_H

/*
 * Guest memory is identity-mapped (virtual == physical) once, at boot, with
 * 2 MiB pages, except two 2 MiB regions mapped with 4 KiB pages so that a
 * single page can be left unmapped: page 0 (null dereferences fault) and the
 * guard page below the program stack (stack overflows fault).
 *
 *   0x000000  unmapped null page
 *   0x001000  PML4, PDPT, the two 4 KiB page tables
 *   0x005000  GDT
 *   0x006000  TSS + I/O permission bitmap (0x6000..0x8069)
 *   0x009000  boot-info block
 *   0x00a000  strings: argv, envp, exec path, kernel command line
 *   0x080000  page directories (one per GiB mapped)
 *   0x100000  guest kernel image (MUST end below 0x400000, where programs load)
 *   ...       free RAM
 *   top       guard page, then the program stack up to the end of RAM
 *   RAM end   rootfs image (read-only memory slot), 2 MiB aligned
 *   56 GiB    bundle window: a function's bundle image, read-only, slot added at attach
 *   60 GiB    invoke window: the invoke region, read-write, slot added at attach
 *
 * RAM (<= 32 GiB) and the rootfs (<= 16 GiB) end below 48 GiB + 2 MiB, so
 * they never reach the windows. The page tables built at boot map both
 * windows (2 MiB pages) whether or not anything is attached: attaching adds
 * memory slots only (include/mote/control.h).
 */
#define LAYOUT_PML4 0x1000ull
#define LAYOUT_PDPT 0x2000ull
#define LAYOUT_PT_LOW 0x3000ull
#define LAYOUT_PT_GUARD 0x4000ull
#define LAYOUT_GDT 0x5000ull
#define LAYOUT_TSS 0x6000ull
#define LAYOUT_BOOT_INFO 0x9000ull
#define LAYOUT_STRINGS 0xa000ull
#define LAYOUT_STRINGS_END 0x80000ull
#define LAYOUT_PD 0x80000ull
#define LAYOUT_PD_MAX 64ull /* GiB of address space that can be mapped */
#define LAYOUT_MONITOR_END 0x100000ull
#define LAYOUT_KERNEL_START 0x100000ull
#define LAYOUT_KERNEL_END 0x400000ull

#define LAYOUT_HUGE_PAGE (2ull << 20)
#define LAYOUT_MEM_MIN (16ull << 20)
#define LAYOUT_MEM_MAX (32ull << 30)
#define LAYOUT_ROOTFS_MAX (16ull << 30)
#define LAYOUT_BUNDLE_GPA (56ull << 30)
#define LAYOUT_BUNDLE_WINDOW (4ull << 30) /* == MOTE_CTL_BUNDLE_MAX */
#define LAYOUT_INVOKE_GPA (60ull << 30)
#define LAYOUT_INVOKE_WINDOW (1ull << 30) /* == MOTE_CTL_INVOKE_MAX */

/* GDT selectors. STAR is set so that syscall/sysret use these. */
#define SEL_KERNEL_CS 0x08
#define SEL_KERNEL_DS 0x10
#define SEL_USER32_CS 0x18
#define SEL_USER_DS 0x20
#define SEL_USER_CS 0x28
#define SEL_TSS 0x30
/* STAR: sysret loads CS = SEL_USER32_CS + 16 and SS = SEL_USER32_CS + 8 (RPL 3); syscall SEL_KERNEL_CS. */
#define STAR_VALUE ((0x18ull << 48) | (0x08ull << 32))

#define TSS_IOMAP_OFFSET 104u
#define TSS_SIZE (104u + 8192u + 1u)

#endif /* MOTE_VMM_LAYOUT_H */

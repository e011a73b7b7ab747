/* The snapshot state file's framing: header, typed sections, CRC-32C trailer; and the memory file's header.
 */
#ifndef MOTE_SNAPFILE_H
#define MOTE_SNAPFILE_H

#include <stddef.h>
#include <stdint.h>

/*
 * A snapshot is two files (docs/snapshots.md):
 *
 *   FILE      the state file: struct snap_header, then `nsections` sections
 *             (struct snap_section_hdr + data, each padded to 8 bytes), then
 *             struct snap_trailer whose CRC-32C covers every byte before it.
 *   FILE.mem  the memory file: struct snap_mem_header in its first 4 KiB
 *             page, then guest RAM, then the rootfs image. Zero pages are
 *             holes. Restores map it MAP_PRIVATE, so it is never copied.
 *
 * All integers are little-endian (the only byte order mote runs on). Magic
 * and format version sit at fixed offsets forever, so any later format is
 * told apart from corruption. This module knows the framing only; what the
 * sections hold is the monitor's business (vmm/snapshot.c).
 */

#define SNAP_MAGIC "MOTESNAP"
#define SNAP_MEM_MAGIC "MOTEMEM\0"
#define SNAP_FORMAT_VERSION 2u /* 2: the kernel identity replaced the kernel path (section 10) */
#define SNAP_TRAILER_MAGIC "DONE"
#define SNAP_STATE_MAX (1u << 20) /* largest state file accepted */
#define SNAP_SECTIONS_MAX 64u
#define SNAP_MEM_HEADER_SIZE 4096u

struct snap_header {
	char magic[8];		 /* SNAP_MAGIC */
	uint32_t format_version; /* SNAP_FORMAT_VERSION */
	uint32_t abi_version;	 /* MOTE_ABI_VERSION of the guest kernel inside */
	uint64_t file_size;	 /* bytes of the whole state file, trailer included */
	uint8_t id[16];		 /* random; the memory file carries the same id */
	uint64_t created_realtime_ns;
	uint32_t nsections;
	uint32_t reserved;
};

struct snap_section_hdr {
	uint32_t type; /* enum snap_section */
	uint32_t size; /* bytes of data that follow, before padding */
};

struct snap_trailer {
	uint32_t crc32c; /* over every byte of the file before the trailer */
	char magic[4];	 /* SNAP_TRAILER_MAGIC */
};

struct snap_mem_header {
	char magic[8]; /* SNAP_MEM_MAGIC */
	uint32_t format_version;
	uint32_t reserved;
	uint8_t id[16];		  /* the state file's id */
	uint64_t mem_size;	  /* guest RAM bytes at offset SNAP_MEM_HEADER_SIZE */
	uint64_t rootfs_map_size; /* rootfs bytes (page-rounded) right after RAM; 0 without one */
};

/* Section types. Unknown types are an error: a reader never skips state. */
enum snap_section_type {
	SNAP_SEC_GUEST = 1,	 /* struct snap_guest */
	SNAP_SEC_REGS = 2,	 /* struct kvm_regs */
	SNAP_SEC_SREGS = 3,	 /* struct kvm_sregs */
	SNAP_SEC_XSAVE = 4,	 /* XSAVE area as KVM_GET_XSAVE(2) returns it (>= 4096 bytes) */
	SNAP_SEC_XCRS = 5,	 /* struct kvm_xcrs */
	SNAP_SEC_MSRS = 6,	 /* array of struct snap_msr */
	SNAP_SEC_CPUID = 7,	 /* array of struct kvm_cpuid_entry2: the CPUID the guest saw */
	SNAP_SEC_EVENTS = 8,	 /* struct kvm_vcpu_events */
	SNAP_SEC_DEBUGREGS = 9,	 /* struct kvm_debugregs */
	SNAP_SEC_KERNEL_ID = 10, /* SHA-256 of the guest kernel ELF file (SNAP_KERNEL_ID_SIZE bytes) */
	SNAP_SEC_MAX = 10,
};

#define SNAP_KERNEL_ID_SIZE 32u

/* What the monitor knows about the guest beyond the vCPU and memory. */
struct snap_guest {
	uint64_t mem_size;
	uint64_t stack_guard, stack_top;
	uint64_t rootfs_gpa, rootfs_size, rootfs_map_size; /* all 0 without a rootfs */
	uint64_t tsc_khz;				   /* of the host that took it */
	uint64_t hwcap;
	uint64_t kernel_lo, kernel_hi; /* guest kernel image range */
	uint32_t debug;
	uint32_t reserved;
};

struct snap_msr {
	uint32_t index;
	uint32_t reserved;
	uint64_t data;
};

/* One parsed section: points into the buffer given to snap_parse. */
struct snap_section {
	uint32_t type;
	uint32_t size;
	const void *data;
};

struct snap_parsed {
	struct snap_header header;
	struct snap_section sections[SNAP_SECTIONS_MAX];
	uint32_t nsections;
};

/* Why a state file was refused; each maps to one exit status (lib/status.h). */
enum snap_error {
	SNAP_OK = 0,
	SNAP_ERR_TRUNCATED, /* shorter than its header says */
	SNAP_ERR_CORRUPT,   /* bad magic, checksum mismatch, malformed sections */
	SNAP_ERR_FOREIGN,   /* another format version or hypercall ABI version */
};

/* CRC-32C (Castagnoli) of `len` bytes, continuing from `crc` (start with 0). */
uint32_t snap_crc32c(uint32_t crc, const void *data, size_t len);

/*
 * Check and split the state file `buf` of `len` bytes: magic, format
 * version, size, checksum, ABI version `abi_version`, section framing (known
 * types, no duplicates, every section inside the file). On failure returns
 * the error and writes one line naming the fault to `why` (`why_size` bytes).
 */
enum snap_error snap_parse(const void *buf, size_t len, uint32_t abi_version, struct snap_parsed *out,
			   char *why, size_t why_size);

/* The section of `type`, or NULL. */
const struct snap_section *snap_find(const struct snap_parsed *p, uint32_t type);

/* A growing state file being written. */
struct snap_writer {
	uint8_t *buf;
	size_t len, cap;
	int failed; /* out of memory or too large: snap_finish fails */
};

/* Start a state file with `header` (its magic, version, size and count are filled in). */
void snap_begin(struct snap_writer *w, const struct snap_header *header);

/* Append one section. */
void snap_add(struct snap_writer *w, uint32_t type, const void *data, uint32_t size);

/* Finish: fix the header, append the trailer. Returns 0 (w->buf, w->len hold the file) or -1. */
int snap_finish(struct snap_writer *w);

/* Release the writer's buffer. */
void snap_writer_free(struct snap_writer *w);

#endif /* MOTE_SNAPFILE_H */

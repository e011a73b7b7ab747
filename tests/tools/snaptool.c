/* snaptool: inspect and deliberately damage mote snapshots, for the validation tests. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/kvm.h>
#include <mote/abi.h>

#include "layout.h"
#include "snapfile.h"

/*
 * usage: snaptool info FILE
 *        snaptool set-format-version FILE N   (format version; checksum left as is)
 *        snaptool set-abi FILE N              (ABI version; checksum fixed)
 *        snaptool corrupt FILE OFFSET         (flip one byte; checksum left as is)
 *        snaptool cpuid-add FILE LEAF SUBLEAF eax|ebx|ecx|edx BIT  (checksum fixed)
 *        snaptool cpuid-get FILE LEAF SUBLEAF eax|ebx|ecx|edx      (print the register, 0x%08x)
 *        snaptool fix-crc FILE
 *        snaptool shift-clock FILE.mem SECONDS   (move the guest's realtime anchor back)
 *        snaptool mem-realtime FILE.mem      (print the guest's realtime anchor, ns)
 *        snaptool set-generation FILE.mem N  (the guest clock's generation)
 *        snaptool set FILE FIELD VALUE...    (vCPU fields, e.g. cs.dpl, cr4, rflags; checksum fixed;
 *                                             `snaptool set FILE list` names them)
 *        snaptool set-msr FILE INDEX VALUE   (replace or add an MSR; rewritten, checksum fixed)
 *        snaptool add-cpuid FILE LEAF SUBLEAF  (append a CPUID entry of zeros; rewritten)
 *        snaptool set-section FILE TYPE TEXT (section TYPE holds the bytes of TEXT; rewritten)
 * `info` prints the format, ABI, size, sections and the kernel identity (hex SHA-256).
 * Exits 0 on success, 1 with one line on stderr otherwise.
 */

/* vCPU fields `set` can change: section, offset, width. */
#define FIELD(name, sec, type, member)                                                                       \
	{                                                                                                    \
		name, sec, offsetof(type, member), sizeof(((type *)0)->member)                               \
	}
static const struct {
	const char *name;
	uint32_t section;
	size_t offset, size;
} fields[] = {
    FIELD("cs.selector", SNAP_SEC_SREGS, struct kvm_sregs, cs.selector),
    FIELD("cs.dpl", SNAP_SEC_SREGS, struct kvm_sregs, cs.dpl),
    FIELD("cs.l", SNAP_SEC_SREGS, struct kvm_sregs, cs.l),
    FIELD("ss.selector", SNAP_SEC_SREGS, struct kvm_sregs, ss.selector),
    FIELD("ss.dpl", SNAP_SEC_SREGS, struct kvm_sregs, ss.dpl),
    FIELD("ds.selector", SNAP_SEC_SREGS, struct kvm_sregs, ds.selector),
    FIELD("ds.dpl", SNAP_SEC_SREGS, struct kvm_sregs, ds.dpl),
    FIELD("fs.base", SNAP_SEC_SREGS, struct kvm_sregs, fs.base),
    FIELD("tr.base", SNAP_SEC_SREGS, struct kvm_sregs, tr.base),
    FIELD("ldt.unusable", SNAP_SEC_SREGS, struct kvm_sregs, ldt.unusable),
    FIELD("ldt.present", SNAP_SEC_SREGS, struct kvm_sregs, ldt.present),
    FIELD("ldt.selector", SNAP_SEC_SREGS, struct kvm_sregs, ldt.selector),
    FIELD("gdt.base", SNAP_SEC_SREGS, struct kvm_sregs, gdt.base),
    FIELD("gdt.limit", SNAP_SEC_SREGS, struct kvm_sregs, gdt.limit),
    FIELD("idt.base", SNAP_SEC_SREGS, struct kvm_sregs, idt.base),
    FIELD("idt.limit", SNAP_SEC_SREGS, struct kvm_sregs, idt.limit),
    FIELD("cr0", SNAP_SEC_SREGS, struct kvm_sregs, cr0),
    FIELD("cr3", SNAP_SEC_SREGS, struct kvm_sregs, cr3),
    FIELD("cr4", SNAP_SEC_SREGS, struct kvm_sregs, cr4),
    FIELD("cr8", SNAP_SEC_SREGS, struct kvm_sregs, cr8),
    FIELD("efer", SNAP_SEC_SREGS, struct kvm_sregs, efer),
    FIELD("apic_base", SNAP_SEC_SREGS, struct kvm_sregs, apic_base),
    FIELD("interrupt_bitmap0", SNAP_SEC_SREGS, struct kvm_sregs, interrupt_bitmap[0]),
    FIELD("rip", SNAP_SEC_REGS, struct kvm_regs, rip),
    FIELD("rflags", SNAP_SEC_REGS, struct kvm_regs, rflags),
    FIELD("exception.pending", SNAP_SEC_EVENTS, struct kvm_vcpu_events, exception.pending),
    FIELD("exception.injected", SNAP_SEC_EVENTS, struct kvm_vcpu_events, exception.injected),
    FIELD("nmi.pending", SNAP_SEC_EVENTS, struct kvm_vcpu_events, nmi.pending),
    FIELD("smi.smm", SNAP_SEC_EVENTS, struct kvm_vcpu_events, smi.smm),
    FIELD("smi.pending", SNAP_SEC_EVENTS, struct kvm_vcpu_events, smi.pending),
    FIELD("dr7", SNAP_SEC_DEBUGREGS, struct kvm_debugregs, dr7),
    FIELD("xcr0", SNAP_SEC_XCRS, struct kvm_xcrs, xcrs[0].value),
};

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "snaptool: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static uint8_t *load(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		die("cannot open %s", path);
	uint8_t *b = malloc((size_t)st.st_size + 1);
	if (!b || read(fd, b, (size_t)st.st_size) != st.st_size)
		die("cannot read %s", path);
	close(fd);
	*len = (size_t)st.st_size;
	return b;
}

static void store(const char *path, const uint8_t *b, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0 || write(fd, b, len) != (ssize_t)len || close(fd) < 0)
		die("cannot write %s", path);
}

static void fix_crc(uint8_t *b, size_t len)
{
	if (len < sizeof(struct snap_header) + sizeof(struct snap_trailer))
		die("%s", "file too short to carry a checksum");
	size_t body = len - sizeof(struct snap_trailer);
	uint32_t crc = snap_crc32c(0, b, body);
	memcpy(b + body, &crc, 4);
}

/* The section of `type` inside a (possibly unchecked) state file, or NULL. */
static uint8_t *find_section(uint8_t *b, size_t len, uint32_t type, uint32_t *size)
{
	struct snap_header h;
	memcpy(&h, b, sizeof(h));
	size_t off = sizeof(h);
	for (uint32_t i = 0; i < h.nsections && off + 8 <= len; i++) {
		struct snap_section_hdr sh;
		memcpy(&sh, b + off, sizeof(sh));
		off += sizeof(sh);
		if (sh.type == type) {
			*size = sh.size;
			return b + off;
		}
		off += (sh.size + 7) & ~7u;
	}
	return NULL;
}

/*
 * Write the state file `path` again from its parsed sections, with section
 * `type` holding `data` (`size` bytes) instead (added when missing), under a
 * valid checksum.
 */
static void rewrite(const char *path, const uint8_t *b, size_t len, uint32_t type, const void *data,
		    uint32_t size)
{
	static struct snap_parsed p;
	char why[256];
	if (snap_parse(b, len, MOTE_ABI_VERSION, &p, why, sizeof(why)) != SNAP_OK)
		die("invalid: %s", why);
	struct snap_writer w;
	snap_begin(&w, &p.header);
	int done = 0;
	for (uint32_t i = 0; i < p.nsections; i++) {
		if (p.sections[i].type == type) {
			snap_add(&w, type, data, size);
			done = 1;
		} else {
			snap_add(&w, p.sections[i].type, p.sections[i].data, p.sections[i].size);
		}
	}
	if (!done)
		snap_add(&w, type, data, size);
	if (snap_finish(&w) < 0)
		die("%s", "cannot build the state file");
	store(path, w.buf, w.len);
	snap_writer_free(&w);
}

/* The data of section `type` in a valid state file, copied (malloc'ed, *size bytes). */
static uint8_t *section_copy(const uint8_t *b, size_t len, uint32_t type, uint32_t extra, uint32_t *size)
{
	static struct snap_parsed p;
	char why[256];
	if (snap_parse(b, len, MOTE_ABI_VERSION, &p, why, sizeof(why)) != SNAP_OK)
		die("invalid: %s", why);
	const struct snap_section *s = snap_find(&p, type);
	if (!s)
		die("no section %u", type);
	uint8_t *c = calloc(1, s->size + extra);
	if (!c)
		die("%s", "out of memory");
	memcpy(c, s->data, s->size);
	*size = s->size;
	return c;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		die("%s", "usage: snaptool COMMAND FILE [ARGS] (see the comment in tests/tools/snaptool.c)");
	const char *cmd = argv[1], *path = argv[2];
	size_t len;
	uint8_t *b = load(path, &len);

	if (!strcmp(cmd, "info")) {
		struct snap_parsed p;
		char why[256];
		enum snap_error e = snap_parse(b, len, MOTE_ABI_VERSION, &p, why, sizeof(why));
		if (e != SNAP_OK)
			die("invalid: %s", why);
		printf("format %u abi %u size %llu sections %u\n", p.header.format_version,
		       p.header.abi_version, (unsigned long long)p.header.file_size, p.nsections);
		for (uint32_t i = 0; i < p.nsections; i++)
			printf("section %u size %u\n", p.sections[i].type, p.sections[i].size);
		const struct snap_section *k = snap_find(&p, SNAP_SEC_KERNEL_ID);
		if (k && k->size == SNAP_KERNEL_ID_SIZE) {
			printf("kernel-id ");
			for (uint32_t i = 0; i < k->size; i++)
				printf("%02x", ((const uint8_t *)k->data)[i]);
			printf("\n");
		}
		free(b);
		return 0;
	}
	if (!strcmp(cmd, "set") && argc == 4 && !strcmp(argv[3], "list")) {
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			printf("%s\n", fields[i].name);
		free(b);
		return 0;
	}
	if (!strcmp(cmd, "set") && argc >= 5 && argc % 2 == 1) {
		for (int a = 3; a < argc; a += 2) {
			size_t i = 0;
			while (i < sizeof(fields) / sizeof(fields[0]) && strcmp(fields[i].name, argv[a]))
				i++;
			if (i == sizeof(fields) / sizeof(fields[0]))
				die("unknown field %s (snaptool set FILE list)", argv[a]);
			uint32_t size;
			uint8_t *sec = find_section(b, len, fields[i].section, &size);
			if (!sec || fields[i].offset + fields[i].size > size)
				die("no section %u for %s", fields[i].section, argv[a]);
			uint64_t v = strtoull(argv[a + 1], NULL, 0);
			memcpy(sec + fields[i].offset, &v, fields[i].size); /* little-endian: the low bytes */
		}
		fix_crc(b, len);
		store(path, b, len);
		free(b);
		return 0;
	}
	if (!strcmp(cmd, "set-msr") && argc == 5) {
		uint32_t size;
		uint8_t *sec = section_copy(b, len, SNAP_SEC_MSRS, sizeof(struct snap_msr), &size);
		struct snap_msr m = {.index = (uint32_t)strtoul(argv[3], NULL, 0),
				     .data = strtoull(argv[4], NULL, 0)};
		uint32_t at = size;
		for (uint32_t off = 0; off + sizeof(m) <= size; off += sizeof(m)) {
			struct snap_msr old;
			memcpy(&old, sec + off, sizeof(old));
			if (old.index == m.index)
				at = off;
		}
		memcpy(sec + at, &m, sizeof(m));
		rewrite(path, b, len, SNAP_SEC_MSRS, sec, at == size ? size + (uint32_t)sizeof(m) : size);
		free(sec);
		free(b);
		return 0;
	}
	if (!strcmp(cmd, "add-cpuid") && argc == 5) {
		uint32_t size;
		uint8_t *sec = section_copy(b, len, SNAP_SEC_CPUID, sizeof(struct kvm_cpuid_entry2), &size);
		struct kvm_cpuid_entry2 e = {.function = (uint32_t)strtoul(argv[3], NULL, 0),
					     .index = (uint32_t)strtoul(argv[4], NULL, 0)};
		memcpy(sec + size, &e, sizeof(e));
		rewrite(path, b, len, SNAP_SEC_CPUID, sec, size + (uint32_t)sizeof(e));
		free(sec);
		free(b);
		return 0;
	}
	if (!strcmp(cmd, "set-section") && argc == 5) {
		rewrite(path, b, len, (uint32_t)strtoul(argv[3], NULL, 0), argv[4],
			(uint32_t)strlen(argv[4]));
		free(b);
		return 0;
	}
	if (!strcmp(cmd, "set-format-version") && argc == 4) {
		uint32_t v = (uint32_t)strtoul(argv[3], NULL, 0);
		memcpy(b + offsetof(struct snap_header, format_version), &v, 4);
	} else if (!strcmp(cmd, "set-abi") && argc == 4) {
		uint32_t v = (uint32_t)strtoul(argv[3], NULL, 0);
		memcpy(b + offsetof(struct snap_header, abi_version), &v, 4);
		fix_crc(b, len);
	} else if (!strcmp(cmd, "corrupt") && argc == 4) {
		size_t off = strtoul(argv[3], NULL, 0);
		if (off >= len)
			die("offset %s is past the end", argv[3]);
		b[off] ^= 0xff;
	} else if (!strcmp(cmd, "fix-crc") && argc == 3) {
		fix_crc(b, len);
	} else if ((!strcmp(cmd, "cpuid-add") && argc == 7) || (!strcmp(cmd, "cpuid-get") && argc == 6)) {
		uint32_t size, leaf = (uint32_t)strtoul(argv[3], NULL, 0),
			       sub = (uint32_t)strtoul(argv[4], NULL, 0);
		unsigned bit = argc == 7 ? (unsigned)strtoul(argv[6], NULL, 0) : 0;
		struct kvm_cpuid_entry2 *e =
		    (struct kvm_cpuid_entry2 *)find_section(b, len, SNAP_SEC_CPUID, &size);
		if (!e || bit > 31)
			die("%s", "no CPUID section, or bit > 31");
		struct kvm_cpuid_entry2 *hit = NULL;
		for (uint32_t i = 0; i < size / sizeof(*e); i++)
			if (e[i].function == leaf && e[i].index == sub)
				hit = &e[i];
		if (!hit)
			die("no CPUID leaf %s in the snapshot", argv[3]);
		uint32_t *reg = !strcmp(argv[5], "eax")	  ? &hit->eax
				: !strcmp(argv[5], "ebx") ? &hit->ebx
				: !strcmp(argv[5], "ecx") ? &hit->ecx
							  : &hit->edx;
		if (!strcmp(cmd, "cpuid-get")) {
			printf("0x%08x\n", *reg);
			free(b);
			return 0;
		}
		*reg |= 1u << bit;
		fix_crc(b, len);
	} else if (!strcmp(cmd, "set-generation") && argc == 4) {
		size_t at = SNAP_MEM_HEADER_SIZE + LAYOUT_BOOT_INFO + offsetof(struct mote_boot_info, clock) +
			    offsetof(struct mote_clock, generation);
		if (len < at + 8 || memcmp(b, SNAP_MEM_MAGIC, 8) != 0)
			die("%s is not a snapshot memory file", path);
		uint64_t g = strtoull(argv[3], NULL, 0);
		int fd = open(path, O_WRONLY);
		if (fd < 0 || pwrite(fd, &g, 8, (off_t)at) != 8 || close(fd) < 0)
			die("cannot write %s", path);
		free(b);
		return 0;
	} else if ((!strcmp(cmd, "shift-clock") && argc == 4) ||
		   (!strcmp(cmd, "mem-realtime") && argc == 3)) {
		size_t at = SNAP_MEM_HEADER_SIZE + LAYOUT_BOOT_INFO + offsetof(struct mote_boot_info, clock) +
			    offsetof(struct mote_clock, anchor_realtime_ns);
		if (len < at + 8 || memcmp(b, SNAP_MEM_MAGIC, 8) != 0)
			die("%s is not a snapshot memory file", path);
		int64_t ns;
		memcpy(&ns, b + at, 8);
		if (!strcmp(cmd, "mem-realtime")) {
			printf("%lld\n", (long long)ns);
			free(b);
			return 0;
		}
		ns -= (int64_t)strtoll(argv[3], NULL, 0) * 1000000000ll;
		memcpy(b + at, &ns, 8);
		/* Write just those bytes back: the memory file is large and sparse. */
		int fd = open(path, O_WRONLY);
		if (fd < 0 || pwrite(fd, &ns, 8, (off_t)at) != 8 || close(fd) < 0)
			die("cannot write %s", path);
		free(b);
		return 0;
	} else {
		die("unknown command or wrong arguments: %s", cmd);
	}
	store(path, b, len);
	free(b);
	return 0;
}

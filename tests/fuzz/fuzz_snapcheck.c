/* libFuzzer target: the monitor's own snapshot checks (vmm/snapcheck.c) on a state file and boot-info block.
 */
// vmm-modules: vmm/snapcheck.c
// fuzz-max-len: 16384
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kvm.h>
#include <mote/abi.h>

#include "cpu.h"
#include "layout.h"
#include "snapcheck.h"
#include "snapfile.h"
#include "status.h"

/*
 * Input: one byte choosing the host (below), a struct mote_boot_info as the
 * memory file would hold it, then a state file. The state file's header
 * (magic, versions, size) and CRC are made consistent first, so the fuzzer
 * spends its time inside the sections rather than on the checksum.
 *
 * The "host" whose CPUID the snapshot is compared with is the snapshot's own
 * CPUID table changed as the first byte says: unchanged (so the other checks
 * are reached), one leaf missing, feature bits cleared, or limits lowered.
 *
 * Seeds (tests/fuzz/corpus/snapcheck/) are real snapshots of tests/guest
 * programs taken on a PVM host, with their boot-info block, each prefixed by
 * one host byte; tests/fuzz/make_snapcheck_seed.sh rebuilds them.
 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const struct mote_err *err, int allow_incompatible)
{
	size_t n = strnlen(err->msg, sizeof(err->msg));
	if (n == 0 || n == sizeof(err->msg) || memchr(err->msg, '\n', n))
		__builtin_trap();
	if (err->status != MOTE_STATUS_SNAP_CORRUPT &&
	    !(allow_incompatible && err->status == MOTE_STATUS_SNAP_INCOMPATIBLE))
		__builtin_trap();
}

/* What an accepted vCPU state must be, re-derived here independently of snapcheck.c. */
static void check_accepted(const struct snap_parsed *p, const struct snap_guest *sg)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	memcpy(&s, snap_find(p, SNAP_SEC_SREGS)->data, sizeof(s));
	memcpy(&r, snap_find(p, SNAP_SEC_REGS)->data, sizeof(r));
	if (s.cs.dpl != 3 || (s.cs.selector & 3) != 3 || s.ss.dpl != 3 || s.cr3 != LAYOUT_PML4 ||
	    s.idt.limit != 0 || s.gdt.base != LAYOUT_GDT || s.tr.base != LAYOUT_TSS || !(s.efer & EFER_LMA) ||
	    (r.rflags & (1ull << 17)))
		__builtin_trap();
	const struct snap_section *ms = snap_find(p, SNAP_SEC_MSRS);
	for (uint32_t i = 0; i < ms->size / sizeof(struct snap_msr); i++) {
		struct snap_msr m;
		memcpy(&m, (const uint8_t *)ms->data + i * sizeof(m), sizeof(m));
		int known = 0;
		for (uint32_t k = 0; k < SNAPCHECK_MSRS; k++)
			known |= snapcheck_msrs[k] == m.index;
		if (!known || ((m.index == MSR_LSTAR || m.index == MSR_CSTAR) &&
			       (m.data < sg->kernel_lo || m.data >= sg->kernel_hi)))
			__builtin_trap();
	}
	const struct snap_section *es = snap_find(p, SNAP_SEC_EVENTS);
	if (es) {
		struct kvm_vcpu_events e;
		memcpy(&e, es->data, sizeof(e));
		if (e.exception.pending || e.exception.injected || e.nmi.pending || e.smi.smm ||
		    e.smi.pending)
			__builtin_trap();
	}
}

static void run_checks(uint8_t host_choice, const struct snap_parsed *p)
{
	struct mote_err err = {0};
	struct snap_guest sg;
	uint8_t kernel_id[SNAP_KERNEL_ID_SIZE];
	if (snapcheck_guest(p, &sg, kernel_id, &err) < 0) {
		check_error(&err, 0);
		return;
	}
	if (sg.mem_size < LAYOUT_MEM_MIN || sg.stack_top != sg.mem_size || sg.kernel_lo >= sg.kernel_hi ||
	    sg.kernel_hi > LAYOUT_KERNEL_END)
		__builtin_trap();

	/* The host: the snapshot's own CPUID (when it has a usable one), changed as host_choice says. */
	static struct kvm_cpuid_entry2 host[256];
	uint32_t nhost = 0;
	const struct snap_section *cs = snap_find(p, SNAP_SEC_CPUID);
	if (cs && cs->size % sizeof(host[0]) == 0 && cs->size <= sizeof(host)) {
		nhost = cs->size / (uint32_t)sizeof(host[0]);
		memcpy(host, cs->data, cs->size);
	}
	uint32_t pick = nhost ? (uint32_t)(host_choice >> 2) % nhost : 0;
	switch (host_choice & 3) {
	case 0: break;
	case 1: /* one leaf missing */
		if (nhost)
			host[pick] = host[--nhost];
		break;
	case 2: /* fewer features */
		if (nhost) {
			host[pick].ecx &= 0x0000ffffu;
			host[pick].edx &= 0xffff0000u;
		}
		break;
	case 3: /* smaller limits */
		for (uint32_t i = 0; i < nhost; i++)
			if (host[i].function == 0x80000008 || host[i].function == 0 ||
			    host[i].function == 0xd)
				host[i].eax >>= 1, host[i].ecx >>= 1;
		break;
	}
	uint32_t xsave_size = (host_choice & 0x80) ? 4096 : 8192;
	int r = snapcheck_vcpu(p, &sg, host, nhost, xsave_size, &err);
	if (r < 0) {
		check_error(&err, 1);
		return;
	}
	if (r != 0)
		__builtin_trap();
	check_accepted(p, &sg);
	/* Accepted against a host that lacks one of its leaves: impossible. */
	if ((host_choice & 3) == 1 && cs && cs->size / sizeof(host[0]) > nhost)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const size_t bi_size = sizeof(struct mote_boot_info);
	if (size < 1 + bi_size)
		return 0;
	uint8_t host_choice = data[0];

	/* The boot-info block, as fix_boot_info sees it in the restored memory. */
	struct mote_boot_info bi;
	memcpy(&bi, data + 1, bi_size);
	struct mote_err err = {0};
	if (snapcheck_boot_info(&bi, &err) < 0) {
		check_error(&err, 0);
	} else {
		if (bi.clock.generation == UINT64_MAX || bi.clock.tsc_shift > 63 || bi.clock.tsc_mult == 0)
			__builtin_trap();
		uint64_t tsc;
		memcpy(&tsc, bi.seed, sizeof(tsc));
		volatile uint64_t mono = snapcheck_monotonic_at(&bi.clock, tsc);
		(void)mono;
	}

	/* The state file, as an exact-size heap copy (ASan flags any over-read) made consistent. */
	size_t len = size - 1 - bi_size;
	size_t min = sizeof(struct snap_header) + sizeof(struct snap_trailer);
	if (len < min || len > SNAP_STATE_MAX)
		return 0;
	uint8_t *buf = malloc(len);
	if (!buf)
		return 0;
	memcpy(buf, data + 1 + bi_size, len);
	struct snap_header h;
	memcpy(&h, buf, sizeof(h));
	memcpy(h.magic, SNAP_MAGIC, 8);
	h.format_version = SNAP_FORMAT_VERSION;
	h.abi_version = MOTE_ABI_VERSION;
	h.file_size = len;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + len - 4, SNAP_TRAILER_MAGIC, 4);
	uint32_t crc = snap_crc32c(0, buf, len - sizeof(struct snap_trailer));
	memcpy(buf + len - sizeof(struct snap_trailer), &crc, 4);

	static struct snap_parsed p;
	char why[256];
	if (snap_parse(buf, len, MOTE_ABI_VERSION, &p, why, sizeof(why)) == SNAP_OK)
		run_checks(host_choice, &p);
	free(buf);
	return 0;
}

/*
 * Guest test for snapshots: state in general registers, x87, SSE/AVX registers and memory must survive a
 * snapshot exactly, in the VM that continues and in every clone.
 *
 * usage: snap_state request [EXIT]   compute a while, then ask for a snapshot (write to /dev/mote/snapshot)
 *                                    by a raw `syscall` inside one asm block that holds live values in
 *                                    r8-r15, rbx, rbp, ymm0-15 (xmm0-15 without AVX2), the whole x87 stack,
 *                                    MXCSR and the x87 control word across it; then compute on; exit EXIT
 *        snap_state spin [ITERS]     print "started", then a long deterministic loop (about 1 s natively)
 *                                    that keeps its whole state in all 16 general registers, the vector
 *                                    registers, the x87 stack, MXCSR/FCW and a 4 MiB array; the test
 * snapshots it from outside at whatever instruction it is at
 *
 * Both end with one line "snap_state: MODE ... checksum=H gen=G" where H hashes every register value the
 * asm saw at its end, the control registers and the whole array (pointers are hashed relative to their
 * expected value, so a native run prints the same H). The generation G comes from /dev/mote/generation
 * ("none" natively). Request mode also checks every register against the value it held before the syscall
 * ("intact=yes"). Natively (no /dev/mote/snapshot) request mode writes to /dev/null instead.
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MEM_WORDS (1u << 19) /* 4 MiB */
static uint64_t mem[MEM_WORDS] __attribute__((aligned(4096)));

/* Layout shared with the asm (offsets checked below). */
struct rstate {
	uint64_t gin[10];  /* r8..r15, rbx, rbp loaded before */
	uint64_t gout[16]; /* r8..r15, rbx, rbp, rax, rcx, rdx, rsi, rdi, (pad) stored after */
	uint64_t save_rbp;
	uint32_t save_mxcsr, mxcsr_in, mxcsr_out;
	uint16_t save_fcw, fcw_in, fcw_out, pad0;
	uint8_t pad1[12];
	double x87in[8];
	uint8_t x87out[8][16]; /* fstpt writes 10 bytes each; x87out[0] is the top of the stack */
	uint8_t vin[16][32];
	uint8_t vout[16][32];
	uint8_t wbuf[32];
} __attribute__((aligned(64)));

#define O_GIN 0
#define O_GOUT 80
#define O_SAVE_RBP 208
#define O_SAVE_MXCSR 216
#define O_MXCSR_IN 220
#define O_MXCSR_OUT 224
#define O_SAVE_FCW 228
#define O_FCW_IN 230
#define O_FCW_OUT 232
#define O_X87IN 248
#define O_X87OUT 312
#define O_VIN 440
#define O_VOUT 952
_Static_assert(offsetof(struct rstate, gin) == O_GIN, "gin");
_Static_assert(offsetof(struct rstate, gout) == O_GOUT, "gout");
_Static_assert(offsetof(struct rstate, save_rbp) == O_SAVE_RBP, "save_rbp");
_Static_assert(offsetof(struct rstate, save_mxcsr) == O_SAVE_MXCSR, "save_mxcsr");
_Static_assert(offsetof(struct rstate, mxcsr_in) == O_MXCSR_IN, "mxcsr_in");
_Static_assert(offsetof(struct rstate, mxcsr_out) == O_MXCSR_OUT, "mxcsr_out");
_Static_assert(offsetof(struct rstate, save_fcw) == O_SAVE_FCW, "save_fcw");
_Static_assert(offsetof(struct rstate, fcw_in) == O_FCW_IN, "fcw_in");
_Static_assert(offsetof(struct rstate, fcw_out) == O_FCW_OUT, "fcw_out");
_Static_assert(offsetof(struct rstate, x87in) == O_X87IN, "x87in");
_Static_assert(offsetof(struct rstate, x87out) == O_X87OUT, "x87out");
_Static_assert(offsetof(struct rstate, vin) == O_VIN, "vin");
_Static_assert(offsetof(struct rstate, vout) == O_VOUT, "vout");

static struct rstate st;

#define STR_(x) #x
#define STR(x) STR_(x)
#define AT(base, plus) STR(base) "+" #plus "(%%rsi)"

/* Rounding toward zero in both units, flush-to-zero, DAZ; x87 keeps 64-bit precision (exact integers). */
#define MXCSR_TEST 0xffc0u
#define FCW_TEST 0x0f7fu
#define X87_MOD 2147483647.0 /* 2^31 - 1: spin mode's x87 arithmetic is exact modulo this */

/* ---- shared asm pieces: load and store the whole state; %rsi = &st throughout ---- */

#define SAVE_HOST                                                                                            \
	"mov %%rbp, " AT(O_SAVE_RBP, 0) "\n\t"                                                               \
					"stmxcsr " AT(O_SAVE_MXCSR, 0) "\n\t"                                \
								       "fnstcw " AT(O_SAVE_FCW, 0) "\n\t"
#define LOAD_GPR                                                                                             \
	"mov " AT(O_GIN,                                                                                     \
		  0) ", %%r8\n\t"                                                                            \
		     "mov " AT(                                                                              \
			 O_GIN,                                                                              \
			 8) ", %%r9\n\t"                                                                     \
			    "mov " AT(                                                                       \
				O_GIN,                                                                       \
				16) ", %%r10\n\t"                                                            \
				    "mov " AT(                                                               \
					O_GIN,                                                               \
					24) ", %%r11\n\t"                                                    \
					    "mov " AT(                                                       \
						O_GIN,                                                       \
						32) ", %%r12\n\t"                                            \
						    "mov " AT(                                               \
							O_GIN,                                               \
							40) ", %%r13\n\t"                                    \
							    "mov " AT(                                       \
								O_GIN,                                       \
								48) ", %%r14\n\t"                            \
								    "mov " AT(                               \
									O_GIN,                               \
									56) ", %%r15\n\t"                    \
									    "mov " AT(                       \
										O_GIN,                       \
										64) ", %%rbx\n\t"            \
										    "mov " AT(               \
											O_GIN,               \
											72) ", %%rbp\n\t"
#define LOAD_X87_CTL                                                                                         \
	"fldcw " AT(O_FCW_IN,                                                                                \
		    0) "\n\t"                                                                                \
		       "fldl " AT(O_X87IN,                                                                   \
				  0) "\n\t"                                                                  \
				     "fldl " AT(                                                             \
					 O_X87IN,                                                            \
					 8) "\n\t"                                                           \
					    "fldl " AT(                                                      \
						O_X87IN,                                                     \
						16) "\n\t"                                                   \
						    "fldl " AT(                                              \
							O_X87IN,                                             \
							24) "\n\t"                                           \
							    "fldl " AT(                                      \
								O_X87IN,                                     \
								32) "\n\t"                                   \
								    "fldl " AT(                              \
									O_X87IN,                             \
									40) "\n\t"                           \
									    "fldl " AT(                      \
										O_X87IN,                     \
										48) "\n\t"                   \
										    "fldl " AT(              \
											O_X87IN,             \
											56) "\n\t"           \
											    "ldmxcsr " AT(   \
												O_MXCSR_IN,  \
												0) "\n\t"
/* rax, rcx, rdx and rdi are stored by the caller's own code where they mean something. */
#define STORE_GPR                                                                                                                        \
	"mov %%r8, " AT(                                                                                                                 \
	    O_GOUT,                                                                                                                      \
	    0) "\n\t"                                                                                                                    \
	       "mov %%r9, " AT(                                                                                                          \
		   O_GOUT,                                                                                                               \
		   8) "\n\t"                                                                                                             \
		      "mov %%r10, " AT(                                                                                                  \
			  O_GOUT,                                                                                                        \
			  16) "\n\t"                                                                                                     \
			      "mov %%r11, " AT(                                                                                          \
				  O_GOUT,                                                                                                \
				  24) "\n\t"                                                                                             \
				      "mov %%r12, " AT(                                                                                  \
					  O_GOUT,                                                                                        \
					  32) "\n\t"                                                                                     \
					      "mov %%r13, " AT(                                                                          \
						  O_GOUT,                                                                                \
						  40) "\n\t"                                                                             \
						      "mov %%r14, " AT(                                                                  \
							  O_GOUT,                                                                        \
							  48) "\n\t"                                                                     \
							      "mov %%r15, " AT(                                                          \
								  O_GOUT,                                                                \
								  56) "\n\t"                                                             \
								      "mov %%rbx, " AT(                                                  \
									  O_GOUT,                                                        \
									  64) "\n\t"                                                     \
									      "mov %%rbp, " AT(                                          \
										  O_GOUT,                                                \
										  72) "\n\t"                                             \
										      "mov %%rax, " AT(                                  \
											  O_GOUT,                                        \
											  80) "\n\t"                                     \
											      "mov "                                     \
											      "%%rcx, " AT(                              \
												  O_GOUT,                                \
												  88) "\n\t"                             \
												      "mov "                             \
												      "%%"                               \
												      "rdx,"                             \
												      " " AT(                            \
													  O_GOUT,                        \
													  96) "\n\t"                     \
													      "mov %%rsi, " AT(          \
														  O_GOUT,                \
														  104) "\n\t"            \
														       "mov %%rdi, " AT( \
															   O_GOUT,       \
															   112) "\n\t"
#define STORE_X87_CTL_RESTORE_HOST                                                                                  \
	"fstpt " AT(                                                                                                \
	    O_X87OUT,                                                                                               \
	    0) "\n\t"                                                                                               \
	       "fstpt " AT(                                                                                         \
		   O_X87OUT,                                                                                        \
		   16) "\n\t"                                                                                       \
		       "fstpt " AT(                                                                                 \
			   O_X87OUT,                                                                                \
			   32) "\n\t"                                                                               \
			       "fstpt " AT(                                                                         \
				   O_X87OUT,                                                                        \
				   48) "\n\t"                                                                       \
				       "fstpt " AT(                                                                 \
					   O_X87OUT,                                                                \
					   64) "\n\t"                                                               \
					       "fstpt " AT(                                                         \
						   O_X87OUT,                                                        \
						   80) "\n\t"                                                       \
						       "fstpt " AT(                                                 \
							   O_X87OUT,                                                \
							   96) "\n\t"                                               \
							       "fstpt " AT(                                         \
								   O_X87OUT,                                        \
								   112) "\n\t"                                      \
									"stmxcsr " AT(                              \
									    O_MXCSR_OUT,                            \
									    0) "\n\t"                               \
									       "fnstcw " AT(                        \
										   O_FCW_OUT,                       \
										   0) "\n\t"                        \
										      "ldmxcsr " AT(                \
											  O_SAVE_MXCSR,             \
											  0) "\n\t"                 \
											     "fldcw " AT(           \
												 O_SAVE_FCW,        \
												 0) "\n\t"          \
												    "mov"           \
												    " " AT(         \
													O_SAVE_RBP, \
													0) ", %%rbp\n\t"

#define YLD(i) "vmovdqu " AT(O_VIN, i * 32) ", %%ymm" #i "\n\t"
#define YST(i) "vmovdqu %%ymm" #i ", " AT(O_VOUT, i * 32) "\n\t"
#define XLD(i) "movdqu " AT(O_VIN, i * 32) ", %%xmm" #i "\n\t"
#define XST(i) "movdqu %%xmm" #i ", " AT(O_VOUT, i * 32) "\n\t"
#define ALL16(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15)

#define CLOBBERS                                                                                             \
	"rbx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", \
	    "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",    \
	    "memory", "cc"

/* ---- request mode: one raw write(fd, buf, 1) with everything live ---- */

static long request_avx(int fd)
{
	long rax = SYS_write;
	uint64_t rdi = (uint64_t)fd, rdx = 1, rsi = (uint64_t)(uintptr_t)&st;
	/* buf = &st: write() only reads its first byte. rsi (the buffer) survives the syscall and addresses
	 * st. */
	__asm__ volatile(SAVE_HOST LOAD_GPR ALL16(YLD) LOAD_X87_CTL "syscall\n\t" STORE_GPR ALL16(YST)
			     STORE_X87_CTL_RESTORE_HOST "vzeroupper\n\t"
			 : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx)
			 :
			 : "rcx", CLOBBERS);
	return rax;
}

static long request_sse(int fd)
{
	long rax = SYS_write;
	uint64_t rdi = (uint64_t)fd, rdx = 1, rsi = (uint64_t)(uintptr_t)&st;
	__asm__ volatile(SAVE_HOST LOAD_GPR ALL16(XLD) LOAD_X87_CTL "syscall\n\t" STORE_GPR ALL16(XST)
			     STORE_X87_CTL_RESTORE_HOST
			 : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx)
			 :
			 : "rcx", CLOBBERS);
	return rax;
}

/* ---- spin mode: the loop body; rsi = &st, rdi = mem, rcx = iterations left; rax, rdx scratch ---- */

#define GPR_STEP                                                                                             \
	"add %%r9, %%r8\n\t"                                                                                 \
	"rol $13, %%r9\n\t"                                                                                  \
	"xor %%r8, %%r9\n\t"                                                                                 \
	"add %%r11, %%r10\n\t"                                                                               \
	"rol $17, %%r11\n\t"                                                                                 \
	"xor %%r10, %%r11\n\t"                                                                               \
	"xor %%r13, %%r12\n\t"                                                                               \
	"rol $7, %%r13\n\t"                                                                                  \
	"add %%r12, %%r13\n\t"                                                                               \
	"add %%r15, %%r14\n\t"                                                                               \
	"imul $0x5bd1e995, %%r14, %%r14\n\t"                                                                 \
	"rol $29, %%r15\n\t"                                                                                 \
	"xor %%r14, %%r15\n\t"                                                                               \
	"add %%rbp, %%rbx\n\t"                                                                               \
	"rol $41, %%rbp\n\t"                                                                                 \
	"xor %%rbx, %%rbp\n\t"                                                                               \
	"xor %%r15, %%r8\n\t"                                                                                \
	"add %%rcx, %%r12\n\t"                                                                               \
	"mov %%r8, %%rax\n\t"                                                                                \
	"shr $11, %%rax\n\t"                                                                                 \
	"and $" STR(MEM_WORDS - 1) ", %%rax\n\t"                                                             \
				   "mov (%%rdi,%%rax,8), %%rdx\n\t"                                          \
				   "add %%rdx, %%rbx\n\t"                                                    \
				   "xor %%r10, %%rdx\n\t"                                                    \
				   "mov %%rdx, (%%rdi,%%rax,8)\n\t"                                          \
				   "add %%rdx, %%r13\n\t"

/* x87: st1 holds 2^31-1; st0 = (st0 * st2 + st3) mod st1, then the other six rotate. Exact integers. */
#define X87_STEP                                                                                             \
	"fmul %%st(2), %%st\n\t"                                                                             \
	"fadd %%st(3), %%st\n\t"                                                                             \
	"fprem\n\t"                                                                                          \
	"fxch %%st(2)\n\t"                                                                                   \
	"fxch %%st(5)\n\t"

#define YADD(a, b) "vpaddq %%ymm" #b ", %%ymm" #a ", %%ymm" #a "\n\t"
#define YXOR(a, b) "vpxor %%ymm" #b ", %%ymm" #a ", %%ymm" #a "\n\t"
#define YSHUF(a) "vpshufd $0x93, %%ymm" #a ", %%ymm" #a "\n\t"
#define YPERM(a) "vpermq $0x39, %%ymm" #a ", %%ymm" #a "\n\t"
#define AVX2_STEP                                                                                            \
	YADD(0, 1)                                                                                           \
	YXOR(1, 2)                                                                                           \
	YADD(2, 3) YXOR(3, 4) YADD(4, 5) YXOR(5, 6) YADD(6, 7) YXOR(7, 8) YADD(8, 9) YXOR(9, 10)             \
	    YADD(10, 11) YXOR(11, 12) YADD(12, 13) YXOR(13, 14) YADD(14, 15) YADD(15, 0) YSHUF(1) YSHUF(6)   \
		YSHUF(11) YPERM(4) YPERM(13)

#define XADD(a, b) "paddq %%xmm" #b ", %%xmm" #a "\n\t"
#define XXOR(a, b) "pxor %%xmm" #b ", %%xmm" #a "\n\t"
#define XSHUF(a) "pshufd $0x93, %%xmm" #a ", %%xmm" #a "\n\t"
#define SSE_STEP                                                                                             \
	XADD(0, 1)                                                                                           \
	XXOR(1, 2)                                                                                           \
	XADD(2, 3) XXOR(3, 4) XADD(4, 5) XXOR(5, 6) XADD(6, 7) XXOR(7, 8) XADD(8, 9) XXOR(9, 10)             \
	    XADD(10, 11) XXOR(11, 12) XADD(12, 13) XXOR(13, 14) XADD(14, 15) XADD(15, 0) XSHUF(1) XSHUF(6)   \
		XSHUF(11) XSHUF(4) XSHUF(13)

static void spin_avx2(uint64_t iters)
{
	uint64_t rsi = (uint64_t)(uintptr_t)&st, rdi = (uint64_t)(uintptr_t)mem, rcx = iters;
	__asm__ volatile(SAVE_HOST LOAD_GPR ALL16(YLD) LOAD_X87_CTL
			 "1:\n\t" GPR_STEP AVX2_STEP X87_STEP "dec %%rcx\n\t"
			 "jnz 1b\n\t" STORE_GPR ALL16(YST) STORE_X87_CTL_RESTORE_HOST "vzeroupper\n\t"
			 : "+S"(rsi), "+D"(rdi), "+c"(rcx)
			 :
			 : "rax", "rdx", CLOBBERS);
}

static void spin_sse(uint64_t iters)
{
	uint64_t rsi = (uint64_t)(uintptr_t)&st, rdi = (uint64_t)(uintptr_t)mem, rcx = iters;
	__asm__ volatile(SAVE_HOST LOAD_GPR ALL16(XLD) LOAD_X87_CTL
			 "1:\n\t" GPR_STEP SSE_STEP X87_STEP "dec %%rcx\n\t"
			 "jnz 1b\n\t" STORE_GPR ALL16(XST) STORE_X87_CTL_RESTORE_HOST
			 : "+S"(rsi), "+D"(rdi), "+c"(rcx)
			 :
			 : "rax", "rdx", CLOBBERS);
}

/* ---- C side ---- */

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t hash_words(uint64_t h, const void *p, size_t bytes)
{
	const uint8_t *b = p;
	for (size_t i = 0; i + 8 <= bytes; i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	for (size_t i = bytes & ~(size_t)7; i < bytes; i++)
		h = ((h ^ b[i]) * 0x100000001b3ull) ^ (h >> 31);
	return h;
}

static int have_avx2(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27)) || !(c & (1u << 28)))
		return 0;
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	if ((lo & 6) != 6)
		return 0;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	return (b & (1u << 5)) != 0;
}

static void generation(char *out, size_t size)
{
	int fd = open("/dev/mote/generation", O_RDONLY);
	snprintf(out, size, "none");
	if (fd < 0)
		return;
	char buf[32];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = 0;
		buf[strcspn(buf, "\n")] = 0;
		snprintf(out, size, "%s", buf);
	}
}

/* Fill the array and the asm's input state from the generator, after `rounds` passes over memory. */
static void compute_inputs(int rounds)
{
	for (uint32_t i = 0; i < MEM_WORDS; i++)
		mem[i] = next();
	for (int r = 0; r < rounds; r++)
		for (uint32_t i = 0; i < MEM_WORDS; i++) {
			uint64_t j = mem[i] % MEM_WORDS;
			mem[i] = (mem[i] ^ (mem[j] >> 7)) * 0x9e3779b97f4a7c15ull + next();
		}
	uint64_t k = mem[MEM_WORDS / 3];
	for (int i = 0; i < 10; i++)
		st.gin[i] = mem[(k + (uint64_t)i * 7919) % MEM_WORDS] ^ next();
	for (int i = 0; i < 16; i++)
		for (int w = 0; w < 4; w++) {
			uint64_t v = mem[(k + (uint64_t)(i * 4 + w) * 104729) % MEM_WORDS] ^ next();
			memcpy(st.vin[i] + w * 8, &v, 8);
		}
	/* Integers below 2^31-1 (spin mode's modulus in x87in[6]); exact as doubles and as 80-bit values. */
	for (int i = 0; i < 8; i++)
		st.x87in[i] = (double)(next() % 2147483647u);
	st.x87in[6] = X87_MOD;
	st.mxcsr_in = MXCSR_TEST;
	st.fcw_in = FCW_TEST;
}

struct hashes {
	uint64_t gpr, simd, x87, ctl, mem, all;
};

static struct hashes hash_state(int avx)
{
	struct hashes h;
	h.gpr = hash_words(0xcbf29ce484222325ull, st.gout, sizeof(st.gout));
	h.simd = hash_words(0xcbf29ce484222325ull, st.vout, sizeof(st.vout));
	h.x87 = 0xcbf29ce484222325ull;
	for (int i = 0; i < 8; i++)
		h.x87 = hash_words(h.x87, st.x87out[i], 10);
	uint32_t ctl[2] = {st.mxcsr_out, st.fcw_out};
	h.ctl = hash_words(0xcbf29ce484222325ull, ctl, sizeof(ctl));
	h.mem = hash_words(0xcbf29ce484222325ull, mem, sizeof(mem));
	uint64_t parts[5] = {h.gpr, h.simd, h.x87, h.ctl, h.mem};
	h.all = hash_words((uint64_t)avx, parts, sizeof(parts));
	return h;
}

static int request(int exit_code)
{
	int avx = have_avx2();
	printf("snap_state: computing (request, %s)\n", avx ? "avx2" : "sse");
	fflush(stdout); /* stdio buffers live in guest memory: flush before the snapshot, as before a fork */
	compute_inputs(6);
	int fd = open("/dev/mote/snapshot", O_WRONLY);
	int native = fd < 0;
	if (native) {
		fd = open("/dev/null", O_WRONLY);
		if (fd < 0) {
			perror("snap_state: /dev/null");
			return 2;
		}
	}
	long ret = avx ? request_avx(fd) : request_sse(fd);

	/* Every register as it was before the syscall (rax = the return, rcx/r11 are the kernel's). */
	int bad = 0;
	char what[512] = "";
	size_t wl = 0;
#define BAD(...)                                                                                             \
	do {                                                                                                 \
		bad++;                                                                                       \
		if (wl < sizeof(what) - 64)                                                                  \
			wl += (size_t)snprintf(what + wl, sizeof(what) - wl, __VA_ARGS__);                   \
	} while (0)
	static const char *const names[10] = {"r8",  "r9",  "r10", "r11", "r12",
					      "r13", "r14", "r15", "rbx", "rbp"};
	for (int i = 0; i < 10; i++)
		if (i != 3 && st.gout[i] != st.gin[i]) /* r11: the syscall's saved rflags */
			BAD(" %s", names[i]);
	if (st.gout[12] != 1)
		BAD(" rdx");
	if (st.gout[13] != (uint64_t)(uintptr_t)&st)
		BAD(" rsi");
	if (st.gout[14] != (uint64_t)fd)
		BAD(" rdi");
	for (int i = 0; i < 16; i++)
		if (memcmp(st.vin[i], st.vout[i], avx ? 32 : 16) != 0)
			BAD(" %smm%d", avx ? "y" : "x", i);
	for (int i = 0; i < 8; i++) {
		long double e = (long double)st.x87in[7 - i];
		if (memcmp(&e, st.x87out[i], 10) != 0)
			BAD(" st%d", i);
	}
	if (st.mxcsr_out != MXCSR_TEST)
		BAD(" mxcsr=%#x", st.mxcsr_out);
	if (st.fcw_out != FCW_TEST)
		BAD(" fcw=%#x", st.fcw_out);
	/* Normalise what is not a computed value: r11 and rcx (kernel's), the pointers and the fd. */
	st.gout[3] = 0;
	st.gout[11] = 0;
	st.gout[13] -= (uint64_t)(uintptr_t)&st;
	st.gout[14] -= (uint64_t)fd;

	/* Compute on with what came back. */
	for (int r = 0; r < 2; r++)
		for (uint32_t i = 0; i < MEM_WORDS; i++) {
			uint64_t v;
			memcpy(&v, st.vout[i % 16] + (i / 16 % 4) * 8, 8);
			mem[i] = (mem[i] + st.gout[i % 15] + v) * 0xff51afd7ed558ccdull;
			mem[i] ^= mem[(mem[i] >> 3) % MEM_WORDS] >> 11;
		}
	struct hashes h = hash_state(avx);
	char gen[32];
	generation(gen, sizeof(gen));
	printf("snap_state: request simd=%s write=%ld intact=%s%s checksum=%016llx gen=%s gpr=%016llx "
	       "simd=%016llx x87=%016llx ctl=%016llx mem=%016llx%s\n",
	       avx ? "avx2" : "sse", ret, bad ? "no:" : "yes", what, (unsigned long long)h.all, gen,
	       (unsigned long long)h.gpr, (unsigned long long)h.simd, (unsigned long long)h.x87,
	       (unsigned long long)h.ctl, (unsigned long long)h.mem, native ? " native" : "");
	return bad ? 1 : exit_code;
}

static int spin(uint64_t iters)
{
	int avx = have_avx2();
	compute_inputs(1);
	printf("snap_state: started (spin, %s, %llu iterations)\n", avx ? "avx2" : "sse",
	       (unsigned long long)iters);
	fflush(stdout);
	if (avx)
		spin_avx2(iters);
	else
		spin_sse(iters);
	int bad = st.gout[11] != 0 || st.gout[13] != (uint64_t)(uintptr_t)&st ||
		  st.gout[14] != (uint64_t)(uintptr_t)mem || st.fcw_out != FCW_TEST;
	st.gout[13] -= (uint64_t)(uintptr_t)&st;
	st.gout[14] -= (uint64_t)(uintptr_t)mem;
	struct hashes h = hash_state(avx);
	char gen[32];
	generation(gen, sizeof(gen));
	printf(
	    "snap_state: spin simd=%s intact=%s checksum=%016llx gen=%s gpr=%016llx simd=%016llx x87=%016llx "
	    "ctl=%016llx mem=%016llx\n",
	    avx ? "avx2" : "sse", bad ? "no" : "yes", (unsigned long long)h.all, gen,
	    (unsigned long long)h.gpr, (unsigned long long)h.simd, (unsigned long long)h.x87,
	    (unsigned long long)h.ctl, (unsigned long long)h.mem);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "request"))
		return request(argc >= 3 ? atoi(argv[2]) : 0);
	if (argc >= 2 && !strcmp(argv[1], "spin"))
		return spin(argc >= 3 ? strtoull(argv[2], NULL, 0) : 30000000ull);
	fprintf(stderr, "usage: snap_state request [EXIT] | spin [ITERATIONS]\n");
	return 2;
}

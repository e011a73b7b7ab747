/* Guest test: port I/O outside the hypercall ABI. usage: hostile_port MODE, MODE one of
 *   outl-505 outl-50f outl-600 outl-80 (ports outside the TSS I/O bitmap: #GP under PVM, ignored under VMX)
 *   outb-500 outw-500 inl-500 (hypercall port with the wrong size or direction: the monitor refuses)
 * Either the guest crashes (mote-vmm: guest crashed, SIGSEGV) or the monitor ignores the access and the
 * program prints "hostile_port: survived". The monitor itself must never fail. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint32_t arg = 0x1000;

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "outl-505";
	printf("hostile_port: %s\n", mode);
	fflush(stdout);
	uint32_t v = arg;
	if (!strcmp(mode, "outl-505"))
		__asm__ volatile("outl %0, %w1" : : "a"(v), "Nd"((uint16_t)0x505));
	else if (!strcmp(mode, "outl-50f"))
		__asm__ volatile("outl %0, %w1" : : "a"(v), "Nd"((uint16_t)0x50f));
	else if (!strcmp(mode, "outl-600"))
		__asm__ volatile("outl %0, %w1" : : "a"(v), "Nd"((uint16_t)0x600));
	else if (!strcmp(mode, "outl-80"))
		__asm__ volatile("outl %0, %w1" : : "a"(v), "Nd"((uint16_t)0x80));
	else if (!strcmp(mode, "outb-500"))
		__asm__ volatile("outb %b0, %w1" : : "a"(v), "Nd"((uint16_t)0x500));
	else if (!strcmp(mode, "outw-500"))
		__asm__ volatile("outw %w0, %w1" : : "a"(v), "Nd"((uint16_t)0x500));
	else if (!strcmp(mode, "inl-500"))
		__asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"((uint16_t)0x500));
	else {
		fprintf(stderr, "hostile_port: unknown mode %s\n", mode);
		return 2;
	}
	printf("hostile_port: survived (v=%#x)\n", v);
	return 0;
}

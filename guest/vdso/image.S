/* The built vDSO image, embedded in the guest kernel (VDSO_IMAGE is set by the Makefile). */
	.section .rodata
	.balign 4096
	.globl vdso_image_start, vdso_image_end
vdso_image_start:
	.incbin VDSO_IMAGE
vdso_image_end:

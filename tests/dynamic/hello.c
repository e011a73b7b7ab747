/* Dynamic test program (gcc, glibc's libc.so and libm.so): arguments, environment, a libm call, status. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		printf("argv[%d] = %s\n", i, argv[i]);
	const char *v = getenv("MOTE_DYN");
	printf("MOTE_DYN=%s sqrt(2)=%.6f\n", v ? v : "(unset)", sqrt(argc + 1.0));
	return 7;
}

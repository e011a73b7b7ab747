/* Guest test: print N lines ("line I") with printf, as line-heavy programs do; the libc buffers them as it
 * decides for stdout. usage: lines N */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	for (long i = 0; i < n; i++)
		printf("line %ld\n", i);
	return 0;
}

/* Guest test: an endless busy loop, ended only by --timeout. */
#include <stdio.h>

int main(void)
{
	printf("spin: spinning\n");
	fflush(stdout);
	for (;;)
		__asm__ volatile("" ::: "memory");
}

/* Guest test: a null pointer store in main; mote must report a crash on the null page in main. */
#include <stdio.h>

int main(int argc, char **argv)
{
	volatile int *p = (volatile int *)(long)(argc - 1); /* NULL without the compiler knowing */
	printf("crash_null: storing to %p\n", (void *)p);
	fflush(stdout);
	*p = 42;
	printf("crash_null: still alive?\n");
	return 0;
}

/* hello: the static program timed end to end by `make bench`, in mote (c) and natively (d). */
#include <stdio.h>

int main(void)
{
	puts("hello, world");
	return 0;
}

/* Guest test: unbounded recursion with a 2 KiB frame touched from top to bottom, so the stack runs into its
 * guard page (never skipping over it). */
#include <stdio.h>

#pragma GCC diagnostic ignored "-Winfinite-recursion"

__attribute__((noinline)) static int recurse(int depth)
{
	volatile char frame[2048];
	for (int i = (int)sizeof(frame) - 1; i >= 0; i -= 64)
		frame[i] = (char)depth;
	return recurse(depth + 1) + frame[depth % (int)sizeof(frame)];
}

int main(void)
{
	printf("crash_stack: recursing\n");
	fflush(stdout);
	return recurse(0);
}

/* Guest test: a program whose 256 MiB of bss cannot fit a small guest (execve must fail with ENOMEM first).
 */
#include <stdio.h>

static char big[256 << 20];

int main(int argc, char **argv)
{
	(void)argv;
	big[argc] = 1; /* an index the compiler cannot know keeps the whole array */
	printf("bigbss: ran (%d)\n", big[1]);
	return 0;
}

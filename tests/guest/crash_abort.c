/* Guest test: abort() must end mote by SIGABRT with a report naming signal 6. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	printf("crash_abort: calling abort()\n");
	fflush(stdout);
	abort();
}

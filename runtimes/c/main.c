/* The C SDK's main(): a function program is its mote_handle() plus this (see include/mote/fn.h). */
#include <mote/fn.h>

int main(void)
{
	return mote_fn_run();
}

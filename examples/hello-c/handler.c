/* The smallest C function: answers every request with a greeting. Build: see examples/hello-c/Makefile. */
#include <mote/fn.h>

int mote_handle(const struct mote_fn_request *req, struct mote_fn_response *res)
{
	mote_fn_add_header(res, "content-type", "text/plain; charset=utf-8");
	mote_fn_printf(res, "hello from a mote C function (%s %s)\n", mote_fn_method(req), mote_fn_path(req));
	return 0;
}

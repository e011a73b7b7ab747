/*
 * A test function for tests/e2e/layer.sh, twin of layer_count.lua: mote_init() draws a random token,
 * fills a table and counts its runs, and says so in the log; a layered restore must keep all of it.
 * Each response shows them with the number of requests this VM served.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include <mote/fn.h>

static unsigned token, inits, served;
static unsigned long squares[20000];

int mote_init(void)
{
	if (getrandom(&token, sizeof(token), 0) != sizeof(token))
		return 1;
	for (unsigned long i = 0; i < 20000; i++)
		squares[i] = (i + 1) * (i + 1);
	inits++;
	printf("layer_count: initialised, token %08x\n", token);
	fflush(stdout);
	return 0;
}

int mote_handle(const struct mote_fn_request *req, struct mote_fn_response *res)
{
	served++;
	mote_fn_add_header(res, "content-type", "text/plain");
	mote_fn_printf(res, "c token=%08x inits=%u served=%u last=%lu path=%s\n", token, inits, served,
		       squares[19999], mote_fn_path(req));
	return 0;
}

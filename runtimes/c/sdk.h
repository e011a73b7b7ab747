/* Inside the C SDK: the request loop on a given channel (what main() runs; unit tests drive it directly). */
#ifndef RUNTIMES_C_SDK_H
#define RUNTIMES_C_SDK_H

#include "channel.h"

#define SDK_NAME "mote-c"

/* Serve requests on ch with the program's mote_handle() until the channel closes (0) or fails (-errno). */
int sdk_serve(struct channel *ch);

#endif /* RUNTIMES_C_SDK_H */

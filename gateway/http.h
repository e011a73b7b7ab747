/* The gateway's HTTP side (libh2o-evloop): the public endpoint on TCP and the admin API on a unix socket. */
#ifndef MOTE_GATEWAY_HTTP_H
#define MOTE_GATEWAY_HTTP_H

#include <stddef.h>

#include "err.h"

/*
 * Listen on `listen_addr` ("ADDR:PORT", "[V6ADDR]:PORT"; port 0 picks a
 * free one) for the public route ANY /fn/NAME[/REST][?QUERY] (request body
 * at most gw.body_max, else 413; anything else 404), and on the unix socket
 * gw.admin_socket (mode 0600, replacing a stale one) for the admin API
 * (bodies up to gw.bundle_max). The bound address is written to `bound`
 * (for the start-up line). Returns 0 or -1 with *err (MOTE_STATUS_HOST,
 * e.g. address in use; MOTE_STATUS_USAGE for an address that does not
 * parse).
 */
int http_start(const char *listen_addr, char *bound, size_t bound_size, struct mote_err *err);

/*
 * Listen on `addr` (as --listen) for GET /metrics only (--metrics-listen).
 * Returns 0 or -1 with *err.
 */
int http_start_metrics(const char *addr, char *bound, size_t bound_size, struct mote_err *err);

/* Stop accepting connections (every listener) and remove the admin socket; open connections go on. */
void http_stop(void);

#endif /* MOTE_GATEWAY_HTTP_H */

/* The admin API (HTTP/1.1 + JSON on the unix socket): deploy, list, show, remove, logs, invoke. */
#ifndef MOTE_GATEWAY_ADMIN_H
#define MOTE_GATEWAY_ADMIN_H

#include "gateway.h"
#include "apierr.h"
#include "metrics.h"

struct fn;

/* Handle one admin request (every route of docs/functions.md); answers req, possibly later. */
void admin_handle(h2o_req_t *req);

/* Answer req with the JSON error {"error": e->msg, "code": e->code} and status e->http. */
void admin_send_error(h2o_req_t *req, const struct api_error *e);

/* Answer req with the function's JSON (as GET /functions/NAME) and `status`. */
void admin_send_function(h2o_req_t *req, int status, struct fn *fn);

/* The whole metrics page (Prometheus text format) into b. */
void admin_metrics(struct metrics_buf *b);

/* Answer req with the metrics page (GET /metrics on the admin socket and on --metrics-listen). */
void admin_send_metrics(h2o_req_t *req);

#endif /* MOTE_GATEWAY_ADMIN_H */

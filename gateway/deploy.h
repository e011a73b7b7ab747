/* Deploying a function: check the bundle, store it, attach it to a fresh VM, and commit only once it loaded.
 */
#ifndef MOTE_GATEWAY_DEPLOY_H
#define MOTE_GATEWAY_DEPLOY_H

#include <stddef.h>

#include "gateway.h"
#include "registry.h"

/*
 * Deploy `cfg` (name, runtime (may be "" to infer), mem, timeout_ms,
 * max_vms, env as a JSON array) with the bundle image in req's body, the
 * `nenv` K=V strings `env` going into the bundle's .mote/env. Answers req
 * (asynchronously) with 201 (new) or 200 (replaced) and the function's JSON
 * once the bundle is stored, a fresh VM has loaded it (READY) and the
 * registry row is committed; or with a JSON error (422 and the runtime's
 * INIT_ERROR text, the check's refusal, ...). A refused deploy changes
 * nothing: the previous version keeps serving.
 */
void deploy_start(h2o_req_t *req, const struct reg_function *cfg, const char *const *env, size_t nenv);

/* Is a deploy of bundle `hash` in progress (so the file must stay)? */
int deploy_uses_bundle(const char *hash);

#endif /* MOTE_GATEWAY_DEPLOY_H */

/* --verbose: one line on stderr per VM lifecycle event (spawned, pooled, attached, idle, retired, exited). */
#ifndef MOTE_GATEWAY_VLOG_H
#define MOTE_GATEWAY_VLOG_H

/* Set by `mote serve --verbose`. */
extern int vlog_enabled;

/* When enabled, print "mote: vm PID EVENT..." style text (the caller's) as one line on stderr. */
void vlogf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* MOTE_GATEWAY_VLOG_H */

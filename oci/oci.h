/* mote-oci's commands and what they share: the global flags, logging, runc delegation, hooks. */
#ifndef MOTE_OCI_OCI_H
#define MOTE_OCI_OCI_H

#include "spec.h"
#include "state.h"

#define MOTE_OCI_VERSION "0.1.0"

/* runc's global flags, as given (passed on to runc when a bundle or container is delegated to it). */
struct oci_globals {
	const char *root;	/* --root, default /run/mote-oci */
	const char *log;	/* --log FILE, or NULL */
	const char *log_format; /* text|json */
	int debug, systemd_cgroup;
	char **argv;   /* the whole command line */
	int cmd_index; /* argv[cmd_index] is the command */
};

extern struct oci_globals oci_g;

/* One line at `level` (error, warning, debug) to the --log file if any; errors and warnings also to stderr.
 */
void oci_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print err as one line (stderr and the log) and exit with its status. */
void oci_die(const struct mote_err *err) __attribute__((noreturn));

/* Exec runc with the global flags, --root ROOT/runc and argv[cmd_index...]. */
void oci_exec_runc(void) __attribute__((noreturn));

/* Whether runc has a container `id` under ROOT/runc. */
int oci_runc_has(const char *id);

/*
 * Run the hooks of point `p` of `spec`, each with `state_json` on its stdin.
 * Returns 0, or -1 with *err (OCI_STATUS_HOOK) for the first that fails,
 * times out or cannot be started.
 */
int oci_run_hooks(const struct oci_spec *spec, enum oci_hook_point p, const char *state_json,
		  struct mote_err *err);

/* The commands (oci/lifecycle.c): argc/argv start at the command's name. */
int oci_cmd_create(int argc, char **argv);
int oci_cmd_run(int argc, char **argv);
int oci_cmd_start(int argc, char **argv);
int oci_cmd_kill(int argc, char **argv);
int oci_cmd_delete(int argc, char **argv);
int oci_cmd_pause(int argc, char **argv);
int oci_cmd_resume(int argc, char **argv);

#endif /* MOTE_OCI_OCI_H */

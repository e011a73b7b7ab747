/* The mote CLI's subcommands, each in its own file. */
#ifndef MOTE_CLI_COMMANDS_H
#define MOTE_CLI_COMMANDS_H

/* `mote run`: returns only on error (it execs mote-vmm); the exit status to use. */
int cmd_run(int argc, char **argv);

/* `mote snapshot restore|take`: restore execs mote-vmm; the exit status to use. */
int cmd_snapshot(int argc, char **argv);

/* `mote serve`: execs mote-gateway (found beside mote); returns only on error. */
int cmd_serve(int argc, char **argv);

/* `mote deploy`, `ls`, `logs`, `rm`, `invoke`: clients of mote serve's admin API (cli/cmd_fn.c). */
int cmd_deploy(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_invoke(int argc, char **argv);

/* `mote top`: the live figures of mote serve, from its GET /metrics (cli/cmd_top.c). */
int cmd_top(int argc, char **argv);
/* `mote base build|activate|ls`: the bases of mote serve (cli/cmd_base.c). */
int cmd_base(int argc, char **argv);

/* `mote build`: execs mote-build, the OCI image builder (cli/cmd_build.c, docs/build.md). */
int cmd_build(int argc, char **argv);

/* `mote rootfs add-program`: a program and the shared libraries it needs into a rootfs dir
 * (cli/cmd_rootfs.c). */
int cmd_rootfs(int argc, char **argv);

#endif /* MOTE_CLI_COMMANDS_H */

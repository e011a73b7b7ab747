/* The mote CLI's subcommands, each in its own file. */
#ifndef MOTE_CLI_COMMANDS_H
#define MOTE_CLI_COMMANDS_H

/* `mote run`: returns only on error (it execs mote-vmm); the exit status to use. */
int cmd_run(int argc, char **argv);

/* `mote snapshot restore|take`: restore execs mote-vmm; the exit status to use. */
int cmd_snapshot(int argc, char **argv);

#endif /* MOTE_CLI_COMMANDS_H */

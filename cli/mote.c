/* mote: the command-line front end; dispatches to one file per subcommand. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "commands.h"
#include "status.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
    {"run", cmd_run, "run a Linux program in a fresh microVM"},
    {"rootfs", cmd_rootfs, "add-program: copy a dynamic program and its libraries into a rootfs dir"},
    {"snapshot", cmd_snapshot, "restore clones of a snapshot, or snapshot a running VM"},
    {"serve", cmd_serve, "run the function platform (HTTP gateway, registry, VMs)"},
    {"deploy", cmd_deploy, "deploy a function (a Lua handler or a static C ELF) to mote serve"},
    {"invoke", cmd_invoke, "call a deployed function"},
    {"ls", cmd_ls, "list the deployed functions"},
    {"top", cmd_top, "show the live figures of mote serve: pools, VMs, caps, latency, requests"},
    {"logs", cmd_logs, "show a function's output"},
    {"rm", cmd_rm, "remove a function"},
    {"build", cmd_build,
     "build an OCI image of a static program from a Motefile (for mote-oci, podman, ...)"},
    {"base", cmd_base, "build, activate (upgrade, roll back) and list the bases under the functions"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: mote COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\n`mote COMMAND --help` describes a command.\n");
}

int main(int argc, char **argv)
{
	/* SHA-256 (rootfs cache keys) needs no OpenSSL configuration: skip reading openssl.cnf. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	if (argc < 2) {
		usage(stderr);
		return MOTE_STATUS_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "mote: unknown command '%s' (see mote --help)\n", argv[1]);
	return MOTE_STATUS_USAGE;
}

/* Guest test: prints argc, each argv and the environment; `args exit N [...]` exits with status N. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

int main(int argc, char **argv)
{
	printf("argc=%d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=[%s]\n", i, argv[i]);
	printf("argv[argc]=%s\n", argv[argc] ? "non-null" : "null");
	int n = 0;
	for (char **e = environ; *e; e++)
		printf("env[%d]=[%s]\n", n++, *e);
	const char *names[] = {"PATH", "HOME", "FOO", "EMPTY", "SPACED", "DUP"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = getenv(names[i]);
		printf("getenv(%s)=%s%s%s\n", names[i], v ? "[" : "", v ? v : "unset", v ? "]" : "");
	}
	fflush(stdout);
	if (argc >= 3 && strcmp(argv[1], "exit") == 0)
		return atoi(argv[2]);
	return 0;
}

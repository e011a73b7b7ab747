/* libFuzzer target: motefile_parse on arbitrary bytes, then motefile_words on every instruction's text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "motefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every variable is set, to a value that itself holds quote and '$' characters (they must stay literal). */
static const char *lookup(void *ctx, const char *name, size_t len)
{
	(void)ctx;
	if (len && name[0] == 'U')
		return NULL; /* names starting with U are unset */
	return len % 2 ? "v'a\"l$X" : "";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct motefile mf;
	unsigned line = 12345;
	char err[256];
	err[0] = 0;
	int r = motefile_parse((const char *)data, size, &mf, &line, err, sizeof(err));
	if (r != 0 && r != -1)
		__builtin_trap();
	if (r < 0) {
		/* an error names a line of the input and a reason */
		if (!err[0] || line == 0 || line > size + 1)
			__builtin_trap();
		return 0;
	}
	for (size_t i = 0; i < mf.n; i++) {
		const struct motefile_inst *in = &mf.inst[i];
		if (!in->text || in->line == 0 || in->line > size + 1 ||
		    !strcmp(motefile_kind_name(in->kind), "?"))
			__builtin_trap();
		if (in->exec_form) {
			for (size_t k = 0; k < in->argc; k++)
				if (!in->argv[k])
					__builtin_trap();
			if (in->argv[in->argc])
				__builtin_trap();
			continue;
		}
		char **words;
		size_t n;
		if (motefile_words(in->text, lookup, NULL, &words, &n, err, sizeof(err)) == 0) {
			for (size_t k = 0; k < n; k++)
				if (!words[k])
					__builtin_trap();
			if (words[n])
				__builtin_trap();
			motefile_words_free(words);
		}
	}
	motefile_free(&mf);
	return 0;
}

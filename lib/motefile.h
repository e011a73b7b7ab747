/* Motefile parsing: instructions, exec-form arrays, words with quotes and $VAR expansion; no I/O. */
#ifndef MOTE_MOTEFILE_H
#define MOTE_MOTEFILE_H

#include <stddef.h>

enum motefile_kind {
	MOTEFILE_FROM,
	MOTEFILE_COPY,
	MOTEFILE_ADD,
	MOTEFILE_ENV,
	MOTEFILE_CMD,
	MOTEFILE_ENTRYPOINT,
	MOTEFILE_WORKDIR,
	MOTEFILE_LABEL,
	MOTEFILE_ANNOTATION,
	MOTEFILE_ARG,
};

struct motefile_inst {
	enum motefile_kind kind;
	unsigned line; /* line of the instruction's keyword (1-based) */
	int exec_form; /* the arguments were a JSON array of strings (argv/argc hold them) */
	char **argv;   /* exec form: the strings; otherwise NULL */
	size_t argc;
	char *text; /* the arguments as written (continuations joined), trimmed; never NULL */
};

struct motefile {
	struct motefile_inst *inst;
	size_t n;
};

/*
 * Parse the Motefile `text` of `len` bytes (need not be NUL-terminated) into
 * *mf. Blank lines and lines whose first non-blank character is '#' are
 * skipped (also inside continuations); a backslash ending a line continues
 * the instruction on the next. Keywords are case-insensitive. CMD and
 * ENTRYPOINT must be in exec form (a unikernel has no shell); COPY and ADD
 * may be; the words of the other instructions are checked for balanced
 * quotes. Returns 0, or -1 with *err_line set to the line at fault and a
 * one-line reason in err (mf is then empty). Free with motefile_free.
 */
int motefile_parse(const char *text, size_t len, struct motefile *mf, unsigned *err_line, char *err,
		   size_t err_size);

/* Free what motefile_parse stored in *mf (and zero it). */
void motefile_free(struct motefile *mf);

/* Name of an instruction kind, e.g. "COPY". */
const char *motefile_kind_name(enum motefile_kind kind);

/* Look up variable `name` (`len` bytes, not NUL-terminated); NULL when unset. */
typedef const char *(*motefile_lookup_fn)(void *ctx, const char *name, size_t len);

/*
 * Split `text` into words as a shell would (without running anything):
 * blanks separate words; "..." and '...' quote; a backslash escapes the next
 * character (outside single quotes); $NAME, ${NAME}, ${NAME:-word} and
 * ${NAME:+word} are replaced by way of `lookup` (NULL: every variable is
 * unset) outside single quotes. Stores a malloc'd NULL-terminated array of
 * malloc'd words in *words and their count in *n. Returns 0, or -1 with a
 * one-line reason in err (unbalanced quote, bad ${...}).
 * Free with motefile_words_free.
 */
int motefile_words(const char *text, motefile_lookup_fn lookup, void *ctx, char ***words, size_t *n,
		   char *err, size_t err_size);

/* Free an array stored by motefile_words (NULL is fine). */
void motefile_words_free(char **words);

#endif /* MOTE_MOTEFILE_H */

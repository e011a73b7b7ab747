/* Unit test of lib/motefile.c: instructions, continuations, comments, exec form, words and $VAR expansion. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "motefile.h"

#include "check.h"

static const char *lookup(void *ctx, const char *name, size_t len)
{
	(void)ctx;
	if (len == 3 && !memcmp(name, "WHO", 3))
		return "world";
	if (len == 5 && !memcmp(name, "EMPTY", 5))
		return "";
	return NULL;
}

/* Split `text` and compare the words joined by '|' with `want` (NULL: expect an error matching `err_want`).
 */
static void words_case(const char *name, const char *text, const char *want, const char *err_want)
{
	char **w;
	size_t n;
	char err[200] = "";
	int r = motefile_words(text, lookup, NULL, &w, &n, err, sizeof(err));
	if (!want) {
		check(name, r == -1 && strstr(err, err_want), "want an error '%s', got r=%d err='%s'",
		      err_want, r, err);
		if (r == 0)
			motefile_words_free(w);
		return;
	}
	if (r < 0) {
		check(name, 0, "error: %s", err);
		return;
	}
	char got[512] = "";
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(got, "|");
		strncat(got, w[i], sizeof(got) - strlen(got) - 2);
	}
	check(name, !strcmp(got, want) && w[n] == NULL, "got '%s', want '%s'", got, want);
	motefile_words_free(w);
}

static void parse_error_len(const char *name, const char *text, size_t len, unsigned want_line,
			    const char *want_err)
{
	struct motefile mf;
	unsigned line = 0;
	char err[300] = "";
	int r = motefile_parse(text, len, &mf, &line, err, sizeof(err));
	check(name, r == -1 && line == want_line && strstr(err, want_err) && mf.n == 0,
	      "r=%d line=%u err='%s' (want line %u, '%s')", r, line, err, want_line, want_err);
	if (r == 0)
		motefile_free(&mf);
}

static void parse_error(const char *name, const char *text, unsigned want_line, const char *want_err)
{
	parse_error_len(name, text, strlen(text), want_line, want_err);
}

int main(void)
{
	words_case("words-plain", "a  b\tc", "a|b|c", NULL);
	words_case("words-quotes", "K=\"a b\" 'c d' e\\ f", "K=a b|c d|e f", NULL);
	words_case("words-empty-quoted", "\"\" ''", "|", NULL);
	words_case("words-var", "$WHO ${WHO}! x$UNSET.y", "world|world!|x.y", NULL);
	words_case("words-default", "${UNSET:-def} ${WHO:-def} ${EMPTY:-e} ${WHO:+alt} ${UNSET:+alt}",
		   "def|world|e|alt|", NULL);
	words_case("words-nested-default", "${UNSET:-a${WHO}b}", "aworldb", NULL);
	words_case("words-single-quotes-no-expansion", "'$WHO' \"$WHO\" \\$WHO", "$WHO|world|$WHO", NULL);
	words_case("words-lone-dollar", "a$ $1", "a$|$1", NULL);
	words_case("words-unterminated-double", "\"abc", NULL, "unterminated double quote");
	words_case("words-unterminated-single", "'abc", NULL, "unterminated single quote");
	words_case("words-bad-brace", "${1x}", NULL, "bad variable reference");
	words_case("words-bad-operator", "${WHO?x}", NULL, "bad variable reference");
	words_case("words-unterminated-brace", "${WHO:-x", NULL, "unterminated");

	const char *text = "# comment\n"
			   "\n"
			   "from scratch\n"
			   "ENV A=1 \\\n"
			   "  # a comment inside\n"
			   "    B=2\n"
			   "COPY [\"a b\", \"/c\\u00e9\"]\n"
			   "ENTRYPOINT [ \"/bin/x\" , \"-v\" ]\n"
			   "CMD []\n"
			   "LABEL  k=v   \r\n"
			   "WORKDIR /app";
	struct motefile mf;
	unsigned line;
	char err[300];
	int r = motefile_parse(text, strlen(text), &mf, &line, err, sizeof(err));
	check("parse-ok", r == 0 && mf.n == 7, "r=%d n=%zu err=%s", r, r == 0 ? mf.n : 0, r ? err : "");
	if (r == 0 && mf.n == 7) {
		check("parse-kinds-and-lines",
		      mf.inst[0].kind == MOTEFILE_FROM && mf.inst[0].line == 3 &&
			  mf.inst[1].kind == MOTEFILE_ENV && mf.inst[1].line == 4 && mf.inst[2].line == 7 &&
			  mf.inst[6].kind == MOTEFILE_WORKDIR && mf.inst[6].line == 11,
		      "lines %u %u %u", mf.inst[0].line, mf.inst[1].line, mf.inst[2].line);
		check("parse-continuation", !strcmp(mf.inst[1].text, "A=1  B=2"), "text '%s'",
		      mf.inst[1].text);
		check("parse-exec-form",
		      mf.inst[2].exec_form && mf.inst[2].argc == 2 && !strcmp(mf.inst[2].argv[0], "a b") &&
			  !strcmp(mf.inst[2].argv[1], "/c\xc3\xa9"),
		      "argc %zu", mf.inst[2].argc);
		check("parse-entrypoint",
		      mf.inst[3].exec_form && mf.inst[3].argc == 2 && !strcmp(mf.inst[3].argv[1], "-v"),
		      "argc %zu", mf.inst[3].argc);
		check("parse-empty-cmd",
		      mf.inst[4].exec_form && mf.inst[4].argc == 0 && mf.inst[4].argv[0] == NULL, "argc %zu",
		      mf.inst[4].argc);
		check("parse-trailing-blanks", !strcmp(mf.inst[5].text, "k=v"), "text '%s'", mf.inst[5].text);
		motefile_free(&mf);
	}
	parse_error("error-unknown", "FROM scratch\nFROBNICATE x\n", 2, "unknown instruction 'FROBNICATE'");
	parse_error("error-run", "FROM scratch\n\nRUN make\n", 3, "RUN: mote build runs no commands");
	parse_error("error-shell-form", "FROM scratch\nENTRYPOINT /bin/x\n", 2, "ENTRYPOINT in shell form");
	parse_error("error-exec-form", "FROM scratch\nCMD [\"a\" \"b\"]\n", 2, "expected ',' or ']'");
	parse_error("error-exec-form-escape", "FROM scratch\nCMD [\"\\q\"]\n", 2, "bad escape");
	parse_error("error-exec-form-nul", "FROM scratch\nCMD [\"\\u0000\"]\n", 2, "NUL");
	parse_error("error-exec-form-trailing", "FROM scratch\nCMD [\"a\"] x\n", 2, "after the closing");
	parse_error("error-copy-one-arg", "FROM scratch\nCOPY a\n", 2, "needs a source and a destination");
	parse_error("error-no-args", "FROM\n", 1, "FROM needs arguments");
	parse_error("error-quote-in-continuation", "FROM scratch\nLABEL a=b \\\n c='d\n", 2,
		    "unterminated single");
	parse_error("error-empty", "# nothing\n\n", 2, "no instructions");
	parse_error_len("error-nul-byte", "FROM scratch\nENV A=\0\n", 20, 2, "NUL byte");
	return failures ? 1 : 0;
}
